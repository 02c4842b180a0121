// The seed's three deterministic rules — churn, key reuse across accounts, expired/revoked use —
// written as SQL over the same ECS NDJSON in DuckDB: the "query in my analytics engine" a user
// would otherwise write. The benchmark times it (load included) beside `analyze` and checks that
// both name the same entities. The CRL is read as a table (revoked.csv: issuer, serial,
// revoked_at), as a user would export it from the CA.
import { join } from 'node:path';

/** Entities each rule names: users (churn), certificate SHA-256 (reuse, expired, revoked), lowercase. */
export interface RuleEntities {
  /** Naive count: > 3 certificates first seen for a user within 60 minutes (an account's first certificate counts). */
  churn: string[];
  /** The same with certsignal's baseline: a user's first certificate ever is not "new". */
  churnBaseline: string[];
  reuse: string[];
  expired: string[];
  revoked: string[];
}

export interface SqlRulesResult {
  entities: RuleEntities;
  rows: number;
  loadSeconds: number;
  querySeconds: number;
  threads: number;
}

const sqlString = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** Loads a projection of the events into table `ev` (only the fields the rules read). */
export function loadSql(eventsFile: string): string {
  return `CREATE TABLE ev AS
SELECT "@timestamp"                                   AS ts,
       event.outcome                                  AS outcome,
       "user".name                                    AS usr,
       lower(tls.client.hash.sha256)                  AS sha256,
       lower(tls.client.x509.serial_number)           AS serial,
       tls.client.x509.issuer.distinguished_name      AS issuer,
       tls.client.x509.not_after                      AS not_after
FROM read_ndjson(${sqlString(eventsFile)}, columns = {
  '@timestamp': 'TIMESTAMP',
  'event': 'STRUCT(outcome VARCHAR)',
  'user': 'STRUCT(name VARCHAR)',
  'tls': 'STRUCT(client STRUCT(hash STRUCT(sha256 VARCHAR), x509 STRUCT(serial_number VARCHAR, not_after TIMESTAMP, issuer STRUCT(distinguished_name VARCHAR))))'
})
WHERE tls.client.hash.sha256 IS NOT NULL`;
}

/** The CRL as a table. */
export function loadCrlSql(revokedCsv: string): string {
  return `CREATE TABLE crl AS SELECT issuer, lower(serial) AS serial, revoked_at::TIMESTAMP AS revoked_at
FROM read_csv(${sqlString(revokedCsv)}, header = true, columns = {'issuer': 'VARCHAR', 'serial': 'VARCHAR', 'revoked_at': 'VARCHAR'})`;
}

/** The rules, one query each; each returns one column `entity`. */
export const RULE_SQL: Record<keyof RuleEntities, string> = {
  // Seed pattern 1: count of certificates issued/seen for a user in T minutes > N (> 3 in 60 min).
  // "New" = the first time the user presented that certificate.
  churn: `WITH firsts AS (
  SELECT usr, sha256, min(ts) AS first_seen FROM ev WHERE outcome = 'success' AND usr IS NOT NULL GROUP BY usr, sha256
), counted AS (
  SELECT usr, count(*) OVER (PARTITION BY usr ORDER BY first_seen
                             RANGE BETWEEN INTERVAL 60 MINUTES PRECEDING AND CURRENT ROW) AS n
  FROM firsts
)
SELECT DISTINCT usr AS entity FROM counted WHERE n > 3 ORDER BY 1`,
  // The same, but an account's very first certificate is its baseline (certsignal's cold start).
  churnBaseline: `WITH firsts AS (
  SELECT usr, sha256, min(ts) AS first_seen FROM ev WHERE outcome = 'success' AND usr IS NOT NULL GROUP BY usr, sha256
), fresh AS (
  SELECT usr, first_seen FROM firsts QUALIFY row_number() OVER (PARTITION BY usr ORDER BY first_seen, sha256) > 1
), counted AS (
  SELECT usr, count(*) OVER (PARTITION BY usr ORDER BY first_seen
                             RANGE BETWEEN INTERVAL 60 MINUTES PRECEDING AND CURRENT ROW) AS n
  FROM fresh
)
SELECT DISTINCT usr AS entity FROM counted WHERE n > 3 ORDER BY 1`,
  // Seed pattern 2 as SIEMs write it: stats dc(user) by fingerprint | where users > 1. Logs carry
  // the certificate digest, not the SPKI, so this is "one certificate, > 1 account".
  reuse: `SELECT sha256 AS entity FROM ev WHERE outcome = 'success' AND usr IS NOT NULL
GROUP BY sha256 HAVING count(DISTINCT usr) > 1 ORDER BY 1`,
  // Seed pattern 5a: not_after < event time.
  expired: `SELECT DISTINCT sha256 AS entity FROM ev WHERE not_after < ts ORDER BY 1`,
  // Seed pattern 5b: serial (and issuer) on the CRL, used at or after the revocation.
  revoked: `SELECT DISTINCT e.sha256 AS entity FROM ev e JOIN crl r ON e.serial = r.serial AND e.issuer = r.issuer
WHERE e.ts >= r.revoked_at ORDER BY 1`,
};

/** Runs load + the rules over one data directory (events.ndjson, revoked.csv) in an in-memory DuckDB. */
export async function runSqlRules(dir: string): Promise<SqlRulesResult> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const started = performance.now();
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    await c.run(loadSql(join(dir, 'events.ndjson')));
    await c.run(loadCrlSql(join(dir, 'revoked.csv')));
    const count = await c.runAndReadAll('SELECT count(*) AS n FROM ev');
    const rows = Number(count.getRowObjects()[0].n);
    const loaded = performance.now();
    const entities = {} as RuleEntities;
    for (const [rule, sql] of Object.entries(RULE_SQL) as [keyof RuleEntities, string][]) {
      const r = await c.runAndReadAll(sql);
      entities[rule] = r.getRowObjects().map((row) => String(row.entity));
    }
    const done = performance.now();
    const threads = await c.runAndReadAll(`SELECT current_setting('threads') AS t`);
    return {
      entities,
      rows,
      loadSeconds: (loaded - started) / 1000,
      querySeconds: (done - loaded) / 1000,
      threads: Number(threads.getRowObjects()[0].t),
    };
  } finally {
    c.closeSync();
    db.closeSync();
  }
}
