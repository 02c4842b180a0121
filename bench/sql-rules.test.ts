// The DuckDB SQL versions of the seed's three rules (the benchmark's "analytics engine" baseline)
// find the cases the bench generator injects into a tiny data set, and nothing else.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { generateBenchData, type InjectedCases } from './generate.ts';
import { runSqlRules, type SqlRulesResult } from './sql-rules.ts';

const root = mkdtempSync(join(tmpdir(), 'certsignal-sql-'));
after(() => rmSync(root, { recursive: true, force: true }));

const sorted = (xs: readonly string[]): string[] => [...xs].sort();
let cases: InjectedCases;
let noPemCases: InjectedCases;
let pem: SqlRulesResult;
let noPem: SqlRulesResult;

before(async () => {
  const a = join(root, 'pem');
  const b = join(root, 'nopem');
  await generateBenchData({ events: 6000, entities: 40, out: a, pem: true, seed: 'sql-1', days: 2 });
  await generateBenchData({ events: 6000, entities: 40, out: b, pem: false, seed: 'sql-1', days: 2 });
  cases = JSON.parse(readFileSync(join(a, 'cases.json'), 'utf8')) as InjectedCases;
  noPemCases = JSON.parse(readFileSync(join(b, 'cases.json'), 'utf8')) as InjectedCases;
  pem = await runSqlRules(a);
  noPem = await runSqlRules(b);
});

test('loads every event into the table', () => {
  assert.equal(pem.rows, 6000);
  assert.equal(noPem.rows, 6000);
});

test('naive churn finds the injected victims and the cold-start new hire; the baseline-aware query drops the new hire', () => {
  assert.deepEqual(pem.entities.churn, sorted([...cases.churnUsers, ...cases.coldStartUsers]));
  assert.deepEqual(pem.entities.churnBaseline, sorted(cases.churnUsers));
});

test('key reuse over logged fields finds the shared certificates but not two certificates sharing one key', () => {
  assert.deepEqual(pem.entities.reuse, sorted(cases.reusedCertificates));
  for (const c of cases.reusedKeyCertificates) assert.ok(!pem.entities.reuse.includes(c), c);
});

test('expired and revoked use find exactly the injected certificates', () => {
  assert.deepEqual(pem.entities.expired, sorted(cases.expiredCertificates));
  assert.deepEqual(pem.entities.revoked, sorted(cases.revokedCertificates));
});

test('the PEM changes nothing for SQL: the same findings without it (keys, hence digests, are new per generation)', () => {
  assert.deepEqual(noPem.entities.churn, pem.entities.churn);
  assert.deepEqual(noPem.entities.churnBaseline, pem.entities.churnBaseline);
  assert.deepEqual(noPem.entities.reuse, sorted(noPemCases.reusedCertificates));
  assert.deepEqual(noPem.entities.expired, sorted(noPemCases.expiredCertificates));
  assert.deepEqual(noPem.entities.revoked, sorted(noPemCases.revokedCertificates));
});
