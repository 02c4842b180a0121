// `npm run bench`: in one run, on the same generated files —
//   1. analyze (all rules on) events/s and peak RSS beside the floor any analyzer of NDJSON pays
//      (streamed read + line split + JSON.parse of the same file), at 1M events with the PEM and
//      100k / 1M / 5M events with logged certificate fields only (how cost grows with events);
//   2. the seed's three deterministic rules as SQL in DuckDB over the same files (load included),
//      its time beside analyze's, and whether both name the same entities;
//   3. how cost grows with distinct entities (1k / 100k / 1M accounts, synthetic certificates).
//   4. certsignal pcap beside tshark on captures (bench/pcap.bench.ts).
// Every measurement runs in its own child process (bench/measure.ts), so peak RSS is per
// measurement. Prints tables and writes bench/results.json.
// Usage: node_modules/.bin/node bench/analyze.bench.ts [--quick] [--entities N] [--seed S] [--format ID] [--no-sql]
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { type BenchDataResult, benchDataName, generateBenchDataSets, type InjectedCases } from './generate.ts';
import type { Measurement, Mode } from './measure.ts';
import { printPcapTables, runPcapBench } from './pcap.bench.ts';
import type { RuleEntities } from './sql-rules.ts';
import { generateSynthetic, syntheticDataName } from './synthetic.ts';

/** analyze must reach this share of the baseline's events/s (project target). */
const TARGET_RATIO = 0.5;

interface Profile {
  /** Fleet data sets (real certificates; PEM in every event or logged fields only). */
  fleet: { events: number; pem: boolean }[];
  /** Which fleet sets the DuckDB SQL runs on (indexes into fleet). */
  sqlOn: number[];
  /** Entity sweep: events per point and accounts per point (synthetic certificates, no PEM). */
  sweep: { events: number; entities: number[] };
}

const PROFILES: Record<'full' | 'quick', Profile> = {
  full: {
    fleet: [
      { events: 1_000_000, pem: true },
      { events: 100_000, pem: false },
      { events: 1_000_000, pem: false },
      { events: 5_000_000, pem: false },
    ],
    sqlOn: [0, 3],
    sweep: { events: 1_000_000, entities: [1_000, 100_000, 1_000_000] },
  },
  quick: {
    fleet: [
      { events: 100_000, pem: true },
      { events: 20_000, pem: false },
      { events: 100_000, pem: false },
      { events: 200_000, pem: false },
    ],
    sqlOn: [0, 3],
    sweep: { events: 100_000, entities: [1_000, 10_000, 100_000] },
  },
};

const dataRoot = new URL('./data/', import.meta.url).pathname;

function measure(mode: Mode, dir: string, format?: string): Measurement {
  const script = new URL('./measure.ts', import.meta.url).pathname;
  const args = [script, mode, dir, ...(format ? ['--format', format] : [])];
  const child = spawnSync(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const last = child.stdout.trim().split('\n').pop() ?? '';
  try {
    const m = JSON.parse(last) as Measurement;
    return { ...m, batchLatencyUsPerEvent: m.batchLatencyUsPerEvent ?? { p50: null, p99: null, batches: 0 } };
  } catch {
    return {
      mode,
      available: false,
      reason: `measurement process exited with ${child.status ?? child.signal}`,
      events: 0,
      seconds: 0,
      eventsPerSecond: 0,
      peakRssMb: 0,
      batchLatencyUsPerEvent: { p50: null, p99: null, batches: 0 },
    };
  }
}

const fmt = (n: number | null | undefined, digits = 0): string =>
  n === null || n === undefined || !Number.isFinite(n)
    ? '–'
    : n.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const count = (n: number): string =>
  n >= 1_000_000 && n % 1_000_000 === 0 ? `${n / 1_000_000}M` : n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : String(n);
const ratioOf = (a: Measurement, b: Measurement): number | null =>
  a.available && b.available && b.eventsPerSecond > 0 ? a.eventsPerSecond / b.eventsPerSecond : null;
const plain = process.stdout.isTTY && !process.env.NO_COLOR ? {} : { style: { head: [], border: [] } };

function table(head: string[]): Table.Table {
  return new Table({
    head,
    colAligns: head.map((_, i) => (i === 0 ? 'left' : 'right')) as Table.HorizontalAlignment[],
    ...plain,
  });
}

interface FleetRun {
  events: number;
  pem: boolean;
  dir: string;
  bytes: number;
  certificates: number;
  baseline: Measurement;
  analyze: Measurement;
  ratio: number | null;
  duckdb?: Measurement;
  comparison?: ComparisonRow[];
}

interface ComparisonRow {
  rule: string;
  sql: keyof RuleEntities;
  analyze: number;
  sqlCount: number;
  both: number;
  analyzeOnly: string[];
  sqlOnly: string[];
  /** Injected cases of this rule that each side found, out of how many. */
  injected: { total: number; analyze: number; sql: number };
  explanation: string;
}

const variantLabel = (pem: boolean): string => (pem ? 'PEM in every event' : 'logged x509 fields + hash, no PEM');

/** Compares the entities analyze and the SQL name, and explains every difference it can. */
function compare(a: Partial<RuleEntities>, s: Partial<RuleEntities>, cases: InjectedCases, pem: boolean): ComparisonRow[] {
  const rows: ComparisonRow[] = [];
  const add = (
    rule: string,
    ak: keyof RuleEntities,
    sk: keyof RuleEntities,
    injected: string[],
    explain: (ao: string[], so: string[]) => string,
  ): void => {
    const A = new Set(a[ak] ?? []);
    const S = new Set(s[sk] ?? []);
    const analyzeOnly = [...A].filter((x) => !S.has(x));
    const sqlOnly = [...S].filter((x) => !A.has(x));
    rows.push({
      rule,
      sql: sk,
      analyze: A.size,
      sqlCount: S.size,
      both: [...A].filter((x) => S.has(x)).length,
      analyzeOnly,
      sqlOnly,
      injected: {
        total: injected.length,
        analyze: injected.filter((x) => A.has(x)).length,
        sql: injected.filter((x) => S.has(x)).length,
      },
      explanation: analyzeOnly.length + sqlOnly.length === 0 ? 'same entities' : explain(analyzeOnly, sqlOnly),
    });
  };
  const unexplained = (xs: string[], known: string[]): string[] => xs.filter((x) => !known.includes(x));
  add('churn (users)', 'churn', 'churn', cases.churnUsers, (ao, so) => {
    const parts: string[] = [];
    const cold = so.filter((x) => cases.coldStartUsers.includes(x));
    if (cold.length > 0)
      parts.push(
        `SQL-only ${cold.length}: cold start — the naive count treats an account's first certificate as new; certsignal's first certificate is the baseline (new hire with 4 first certificates in 30 min)`,
      );
    const rest = [...ao, ...unexplained(so, cases.coldStartUsers)];
    if (rest.length > 0) parts.push(`UNEXPLAINED: ${rest.join(', ')}`);
    return parts.join('; ');
  });
  add(
    'churn, baseline-aware SQL',
    'churn',
    'churnBaseline',
    cases.churnUsers,
    (ao, so) => `UNEXPLAINED: ${[...ao, ...so].join(', ')}`,
  );
  add(
    'key reuse (certificates)',
    'reuse',
    'reuse',
    [...cases.reusedCertificates, ...(pem ? cases.reusedKeyCertificates : [])],
    (ao, so) => {
      const parts: string[] = [];
      const spki = ao.filter((x) => cases.reusedKeyCertificates.includes(x));
      if (spki.length > 0)
        parts.push(
          `analyze-only ${spki.length}: two different certificates sharing one key (SPKI), for two accounts — analyze parses the PEM; logged fields carry the certificate digest, no log schema carries the SPKI hash`,
        );
      const rest = [...unexplained(ao, cases.reusedKeyCertificates), ...so];
      if (rest.length > 0) parts.push(`UNEXPLAINED: ${rest.join(', ')}`);
      return parts.join('; ');
    },
  );
  add(
    'expired use (certificates)',
    'expired',
    'expired',
    cases.expiredCertificates,
    (ao, so) => `UNEXPLAINED: ${[...ao, ...so].join(', ')}`,
  );
  add(
    'revoked use (certificates)',
    'revoked',
    'revoked',
    cases.revokedCertificates,
    (ao, so) => `UNEXPLAINED: ${[...ao, ...so].join(', ')}`,
  );
  return rows;
}

async function main(): Promise<void> {
  const wallStart = performance.now();
  const loadStart = loadavg();
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      quick: { type: 'boolean', default: false },
      entities: { type: 'string', default: '2000' },
      seed: { type: 'string', default: 'bench-2026' },
      format: { type: 'string' },
      'no-sql': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const profile = PROFILES[values.quick ? 'quick' : 'full'];
  const entities = Number(values.entities);
  if (!Number.isInteger(entities) || entities < 10) throw new Error(`--entities must be an integer ≥ 10, got ${values.entities}`);
  const seed = values.seed;

  // 1. Data: generate what is missing (fleet sets share one PKI issuance), reuse the rest.
  const fleetDirs = profile.fleet.map((f) => join(dataRoot, benchDataName({ events: f.events, entities, pem: f.pem, seed })));
  const missing = profile.fleet.map((f, i) => ({ ...f, out: fleetDirs[i] })).filter((f) => !existsSync(join(f.out, 'meta.json')));
  if (missing.length > 0) {
    console.error(
      `generating ${missing.map((m) => `${count(m.events)} ${m.pem ? 'pem' : 'nopem'}`).join(', ')} (${entities} accounts) …`,
    );
    const made = await generateBenchDataSets({ entities, seed, log: (l) => console.error(l) }, missing);
    for (const r of made) {
      writeFileSync(join(r.dir, 'meta.json'), `${JSON.stringify(r, null, 2)}\n`);
      console.error(`  ${r.dir}: ${fmt(r.eventsPerSecond)} events/s (PKI ${r.pkiSeconds.toFixed(1)} s, shared)`);
    }
  }
  const sweepDirs = profile.sweep.entities.map((e) =>
    join(dataRoot, syntheticDataName({ events: profile.sweep.events, entities: e, seed })),
  );
  for (const [i, dir] of sweepDirs.entries()) {
    if (existsSync(join(dir, 'meta.json'))) continue;
    console.error(
      `generating synthetic ${count(profile.sweep.events)} events over ${count(profile.sweep.entities[i])} accounts …`,
    );
    const r = await generateSynthetic({ events: profile.sweep.events, entities: profile.sweep.entities[i], out: dir, seed });
    writeFileSync(join(dir, 'meta.json'), `${JSON.stringify(r, null, 2)}\n`);
  }

  // 2. Measurements.
  const fleetRuns: FleetRun[] = [];
  for (const [i, f] of profile.fleet.entries()) {
    const dir = fleetDirs[i];
    const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as BenchDataResult;
    console.error(`${count(f.events)} ${f.pem ? 'with PEM' : 'no PEM'}: baseline …`);
    const baseline = measure('baseline', dir, values.format);
    console.error(`${count(f.events)} ${f.pem ? 'with PEM' : 'no PEM'}: analyze …`);
    const analyze = measure('analyze', dir, values.format);
    const run: FleetRun = {
      events: f.events,
      pem: f.pem,
      dir,
      bytes: statSync(join(dir, 'events.ndjson')).size,
      certificates: meta.certificates,
      baseline,
      analyze,
      ratio: ratioOf(analyze, baseline),
    };
    if (profile.sqlOn.includes(i) && !values['no-sql']) {
      console.error(`${count(f.events)} ${f.pem ? 'with PEM' : 'no PEM'}: DuckDB SQL …`);
      run.duckdb = measure('duckdb', dir);
      if (run.duckdb.available && analyze.available && analyze.entities && run.duckdb.entities) {
        const cases = JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8')) as InjectedCases;
        run.comparison = compare(analyze.entities, run.duckdb.entities, cases, f.pem);
      }
    }
    fleetRuns.push(run);
  }
  const sweepRuns = profile.sweep.entities.map((e, i) => {
    console.error(`${count(e)} accounts: baseline, analyze …`);
    const baseline = measure('baseline', sweepDirs[i]);
    const analyze = measure('analyze', sweepDirs[i]);
    return { entities: e, events: profile.sweep.events, dir: sweepDirs[i], baseline, analyze, ratio: ratioOf(analyze, baseline) };
  });

  // 3. Report.
  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
  const na = (m: Measurement): string => `not available: ${m.reason ?? ''}`;

  console.log(
    `\nanalyze (all rules) vs the read + JSON.parse ceiling of the same file — ${entities.toLocaleString('en')} accounts`,
  );
  const t1 = table([
    'data',
    'events',
    'MB',
    'ceiling ev/s',
    'analyze ev/s',
    'ratio',
    'analyze peak RSS MB',
    'ceiling RSS MB',
    'p50/p99 µs/ev',
    'alerts',
  ]);
  for (const r of fleetRuns) {
    const a = r.analyze;
    t1.push([
      variantLabel(r.pem),
      count(r.events),
      fmt(r.bytes / 1e6),
      r.baseline.available ? fmt(r.baseline.eventsPerSecond) : na(r.baseline),
      a.available ? fmt(a.eventsPerSecond) : na(a),
      r.ratio === null ? '–' : `${r.ratio.toFixed(2)}×`,
      fmt(a.peakRssMb),
      fmt(r.baseline.peakRssMb),
      `${fmt(a.batchLatencyUsPerEvent.p50, 1)}/${fmt(a.batchLatencyUsPerEvent.p99, 1)}`,
      fmt(a.alerts),
    ]);
  }
  console.log(t1.toString());

  const sqlRuns = fleetRuns.filter((r) => r.duckdb);
  if (sqlRuns.length > 0) {
    console.log('\nthe same three seed rules as SQL in DuckDB (@duckdb/node-api, in-memory; time includes loading the NDJSON)');
    const t2 = table([
      'data',
      'events',
      'analyze s',
      'DuckDB load s',
      'DuckDB queries s',
      'DuckDB total s',
      'DuckDB / analyze time',
      'DuckDB peak RSS MB',
      'threads',
    ]);
    for (const r of sqlRuns) {
      const d = r.duckdb as Measurement;
      t2.push(
        d.available
          ? [
              variantLabel(r.pem),
              count(r.events),
              fmt(r.analyze.seconds, 1),
              fmt(d.loadSeconds, 1),
              fmt(d.querySeconds, 2),
              fmt(d.seconds, 1),
              r.analyze.available ? `${(d.seconds / r.analyze.seconds).toFixed(2)}×` : '–',
              fmt(d.peakRssMb),
              fmt(d.threads),
            ]
          : [variantLabel(r.pem), count(r.events), fmt(r.analyze.seconds, 1), na(d), '', '', '', '', ''],
      );
    }
    console.log(t2.toString());
    console.log('\ndo both find the same entities? (injected = deliberate cases found by analyze / by SQL)');
    const t3 = new Table({
      head: ['data', 'rule', 'analyze', 'SQL', 'both', 'analyze-only', 'SQL-only', 'injected a/s', 'explanation'],
      colWidths: [12, 28, 9, 6, 6, 14, 10, 13, 70],
      wordWrap: true,
      ...plain,
    });
    for (const r of sqlRuns) {
      for (const c of r.comparison ?? []) {
        t3.push([
          `${count(r.events)} ${r.pem ? 'PEM' : 'no PEM'}`,
          c.sql === 'churnBaseline' ? c.rule : c.rule,
          c.analyze,
          c.sqlCount,
          c.both,
          c.analyzeOnly.length,
          c.sqlOnly.length,
          `${c.injected.analyze}/${c.injected.sql} of ${c.injected.total}`,
          c.explanation,
        ]);
      }
    }
    console.log(t3.toString());
  }

  console.log(
    `\ncost vs distinct entities — ${count(profile.sweep.events)} events each, synthetic per-account certificate digests/serials, logged fields only`,
  );
  const t4 = table([
    'accounts',
    'events',
    'ceiling ev/s',
    'analyze ev/s',
    'ratio',
    'analyze peak RSS MB',
    'ceiling RSS MB',
    'p99 µs/ev',
    'alerts',
  ]);
  for (const r of sweepRuns) {
    t4.push([
      count(r.entities),
      count(r.events),
      r.baseline.available ? fmt(r.baseline.eventsPerSecond) : na(r.baseline),
      r.analyze.available ? fmt(r.analyze.eventsPerSecond) : na(r.analyze),
      r.ratio === null ? '–' : `${r.ratio.toFixed(2)}×`,
      fmt(r.analyze.peakRssMb),
      fmt(r.baseline.peakRssMb),
      fmt(r.analyze.batchLatencyUsPerEvent.p99, 1),
      fmt(r.analyze.alerts),
    ]);
  }
  console.log(t4.toString());

  // 4. Captures: certsignal pcap beside tshark on the same files (bench/pcap.bench.ts).
  let pcap: Awaited<ReturnType<typeof runPcapBench>> | null = null;
  try {
    pcap = await runPcapBench({ quick: values.quick });
    printPcapTables(pcap);
  } catch (err) {
    console.error(`pcap bench failed: ${(err as Error).message}`);
  }

  const wallSeconds = (performance.now() - wallStart) / 1000;
  const loadEnd = loadavg();
  console.log(
    `\nmachine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGb} GB, Node ${machine.node} (${machine.platform})`,
  );
  console.log(
    `load average (1/5/15 min) at start ${loadStart.map((l) => l.toFixed(2)).join(' ')}, at end ${loadEnd.map((l) => l.toFixed(2)).join(' ')}; bench wall time ${fmt(wallSeconds, 0)} s`,
  );
  const head = fleetRuns.find((r) => r.pem && r.ratio !== null);
  if (head?.ratio != null)
    console.log(
      `target: analyze ≥ ${TARGET_RATIO * 100}% of the ceiling at ${count(head.events)} events with PEM → ${head.ratio >= TARGET_RATIO ? 'met' : 'NOT met'} (${(head.ratio * 100).toFixed(0)}%)`,
    );

  const strip = (m: Measurement | undefined) => m;
  const results = {
    date: new Date().toISOString(),
    profile: values.quick ? 'quick' : 'full',
    machine,
    loadAverage: { start: loadStart, end: loadEnd },
    wallSeconds,
    accounts: entities,
    seed,
    target_ratio: TARGET_RATIO,
    events: fleetRuns.map((r) => ({
      events: r.events,
      pem: r.pem,
      variant: variantLabel(r.pem),
      file: join(r.dir, 'events.ndjson'),
      bytes: r.bytes,
      certificates: r.certificates,
      baseline: strip(r.baseline),
      analyze: strip(r.analyze),
      ratio: r.ratio,
      ...(r.duckdb
        ? {
            duckdb: r.duckdb,
            duckdbTimeVsAnalyze: r.analyze.available ? r.duckdb.seconds / r.analyze.seconds : null,
            comparison: r.comparison,
          }
        : {}),
    })),
    entities: sweepRuns.map((r) => ({
      accounts: r.entities,
      events: r.events,
      file: join(r.dir, 'events.ndjson'),
      note: 'synthetic per-account certificate digests/serials; logged fields only (no PEM); no assets/identities files',
      baseline: r.baseline,
      analyze: r.analyze,
      ratio: r.ratio,
    })),
    pcap,
  };
  const out = new URL('./results.json', import.meta.url).pathname;
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`wrote ${out}`);
}

try {
  await main();
} catch (err) {
  console.error(`bench: ${(err as Error).message}`);
  process.exitCode = 1;
}
