// One benchmark measurement, run in its own child process by analyze.bench.ts so that peak RSS
// belongs to that measurement alone. Prints one JSON line (the result) on stdout.
// Modes: baseline (read + split + JSON.parse), analyze (the pipeline, all rules; also reports the
// entities its churn / key-reuse / expired / revoked alerts name), duckdb (the same rules as SQL).
// Usage: node bench/measure.ts baseline|analyze|duckdb <data dir> [--format ID]
import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { RuleEntities } from './sql-rules.ts';

export type Mode = 'baseline' | 'analyze' | 'duckdb';

export interface Measurement {
  mode: Mode;
  available: boolean;
  reason?: string;
  events: number;
  seconds: number;
  eventsPerSecond: number;
  /** process.resourceUsage().maxRSS, in MB. */
  peakRssMb: number;
  /** Per-batch (BATCH events) processing time divided by the batch size, in microseconds per event. */
  batchLatencyUsPerEvent: { p50: number | null; p99: number | null; batches: number };
  alerts?: number;
  skipped?: number;
  alertsByRule?: Record<string, number>;
  /** analyze / duckdb: the entities each of the seed's three rules named (see sql-rules.ts). */
  entities?: Partial<RuleEntities>;
  /** duckdb: seconds loading the NDJSON into a table, and running the rule queries; threads used. */
  loadSeconds?: number;
  querySeconds?: number;
  threads?: number;
}

// Latency window: 4,096 events, the pipeline's read batch (src/sources/lines.ts). analyze parses a
// whole batch of lines before it processes any of them, so a smaller window would see either a
// parse phase or a processing phase; a 4,096-event window always holds exactly one of each.
export const BATCH = 4096;

/** Records the time every BATCH events; the gaps are the per-batch latencies. */
class BatchClock {
  private count = 0;
  private last = performance.now();
  readonly gapsMs: number[] = [];
  tick(): void {
    this.count++;
    if (this.count % BATCH === 0) {
      const now = performance.now();
      this.gapsMs.push(now - this.last);
      this.last = now;
    }
  }
  get events(): number {
    return this.count;
  }
  percentiles(): Measurement['batchLatencyUsPerEvent'] {
    if (this.gapsMs.length === 0) return { p50: null, p99: null, batches: 0 };
    const sorted = [...this.gapsMs].sort((a, b) => a - b);
    const at = (p: number): number => (sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] * 1000) / BATCH;
    return { p50: at(0.5), p99: at(0.99), batches: sorted.length };
  }
}

const peakRssMb = (): number => process.resourceUsage().maxRSS / 1024;

/** Streamed read + split into lines + JSON.parse of every line: the floor any analyzer pays. */
async function baseline(file: string): Promise<Measurement> {
  const clock = new BatchClock();
  const started = performance.now();
  let rest = '';
  let sink = 0;
  for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const text = rest + (chunk as string);
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      if (nl > start) {
        const doc = JSON.parse(text.slice(start, nl));
        if (doc['@timestamp']) sink++;
        clock.tick();
      }
      start = nl + 1;
    }
    rest = text.slice(start);
  }
  if (rest.length > 0) {
    JSON.parse(rest);
    sink++;
    clock.tick();
  }
  const seconds = (performance.now() - started) / 1000;
  if (sink !== clock.events) throw new Error('baseline lost events');
  return {
    mode: 'baseline',
    available: true,
    events: clock.events,
    seconds,
    eventsPerSecond: clock.events / seconds,
    peakRssMb: peakRssMb(),
    batchLatencyUsPerEvent: clock.percentiles(),
  };
}

/** The full analyze pipeline with every rule, trust anchors, CRL, assets and identities. */
async function analyzeRun(dir: string, format: string | undefined): Promise<Measurement> {
  const unavailable = (reason: string): Measurement => ({
    mode: 'analyze',
    available: false,
    reason,
    events: 0,
    seconds: 0,
    eventsPerSecond: 0,
    peakRssMb: peakRssMb(),
    batchLatencyUsPerEvent: { p50: null, p99: null, batches: 0 },
  });
  let analyze: (options: Record<string, unknown>) => Promise<{
    alerts: unknown[];
    stats: { events: number; skipped: number; alerts: number; alertsByRule?: Record<string, number> };
  }>;
  try {
    const mod = (await import(new URL('../src/pipeline/analyze.ts', import.meta.url).href)) as { analyze?: typeof analyze };
    if (typeof mod.analyze !== 'function') return unavailable('src/pipeline/analyze.ts exports no analyze()');
    analyze = mod.analyze;
  } catch (err) {
    return unavailable(`cannot load src/pipeline/analyze.ts: ${(err as Error).message.split('\n')[0]}`);
  }
  const clock = new BatchClock();
  let alerts = 0;
  const found = { churn: new Set<string>(), reuse: new Set<string>(), expired: new Set<string>(), revoked: new Set<string>() };
  const optional = (name: string): string | undefined => (existsSync(join(dir, name)) ? join(dir, name) : undefined);
  const started = performance.now();
  const result = await analyze({
    inputs: [join(dir, 'events.ndjson')],
    format,
    // The synthetic entity-sweep data has no asset registry or identity file.
    assets: optional('assets.csv'),
    identities: optional('identities.csv'),
    trustAnchors: join(dir, 'trust-anchors.pem'),
    crls: [join(dir, 'crl.pem')],
    configPath: join(dir, 'certsignal.yaml'),
    collectAlerts: false,
    onAlert: (alert: Alert) => {
      alerts++;
      collectEntities(alert, found);
    },
    // Called once per normalized event: the clock turns it into per-batch latencies.
    onEvent: () => clock.tick(),
  });
  const seconds = (performance.now() - started) / 1000;
  const events = result.stats.events;
  return {
    mode: 'analyze',
    available: true,
    events,
    seconds,
    eventsPerSecond: events / seconds,
    peakRssMb: peakRssMb(),
    batchLatencyUsPerEvent: clock.percentiles(),
    alerts: result.stats.alerts ?? alerts,
    skipped: result.stats.skipped,
    alertsByRule: result.stats.alertsByRule,
    entities: {
      churn: [...found.churn].sort(),
      reuse: [...found.reuse].sort(),
      expired: [...found.expired].sort(),
      revoked: [...found.revoked].sort(),
    },
  };
}

/** The alert fields analyze.bench.ts needs (the full type lives in src/schema/alert.ts). */
interface Alert {
  rule: string;
  user: string | null;
  cert_sha256: string | null;
  evidence: Record<string, unknown>;
}

/**
 * The entity an alert of the seed's three rules names, in the SQL's terms: the user for
 * cert-churn (device-only bursts are left out: the SQL counts per user), every certificate of the
 * key for key-reuse, the certificate for expired (variant expired, not not-yet-valid) and revoked.
 */
function collectEntities(alert: Alert, found: Record<'churn' | 'reuse' | 'expired' | 'revoked', Set<string>>): void {
  const ev = alert.evidence;
  if (alert.rule === 'cert-churn' && ev.new_certificates !== undefined) {
    const entity = ev.entity as { kind: string; id: string };
    if (entity.kind === 'user') found.churn.add(entity.id);
    for (const other of (ev.also_entities as { kind: string; id: string }[] | undefined) ?? [])
      if (other.kind === 'user') found.churn.add(other.id);
  } else if (alert.rule === 'key-reuse') {
    for (const c of (ev.certificates as { sha256: string | null }[] | undefined) ?? [])
      if (c.sha256) found.reuse.add(c.sha256.toLowerCase());
  } else if (alert.rule === 'expired-cert' && ev.seconds_expired !== undefined && alert.cert_sha256) {
    found.expired.add(alert.cert_sha256.toLowerCase());
  } else if (alert.rule === 'revoked-cert' && alert.cert_sha256) {
    found.revoked.add(alert.cert_sha256.toLowerCase());
  }
}

/** The seed's three rules as SQL in DuckDB (sql-rules.ts); the time includes loading the NDJSON. */
async function duckdbRun(dir: string): Promise<Measurement> {
  const { runSqlRules } = await import('./sql-rules.ts');
  const r = await runSqlRules(dir);
  const seconds = r.loadSeconds + r.querySeconds;
  return {
    mode: 'duckdb',
    available: true,
    events: r.rows,
    seconds,
    eventsPerSecond: r.rows / seconds,
    peakRssMb: peakRssMb(),
    batchLatencyUsPerEvent: { p50: null, p99: null, batches: 0 },
    entities: r.entities,
    loadSeconds: r.loadSeconds,
    querySeconds: r.querySeconds,
    threads: r.threads,
  };
}

const { positionals, values } = parseArgs({ allowPositionals: true, options: { format: { type: 'string' } } });
const [mode, dir] = positionals;
try {
  if (!dir || (mode !== 'baseline' && mode !== 'analyze' && mode !== 'duckdb'))
    throw new Error('usage: measure.ts baseline|analyze|duckdb <data dir>');
  const m =
    mode === 'baseline'
      ? await baseline(join(dir, 'events.ndjson'))
      : mode === 'analyze'
        ? await analyzeRun(dir, values.format)
        : await duckdbRun(dir);
  process.stdout.write(`${JSON.stringify(m)}\n`);
} catch (err) {
  process.stdout.write(`${JSON.stringify({ mode, available: false, reason: (err as Error).message })}\n`);
  process.exitCode = 1;
}
