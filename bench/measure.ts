// One benchmark measurement, run in its own child process by analyze.bench.ts so that peak RSS
// belongs to that measurement alone. Prints one JSON line (the result) on stdout.
// Usage: node bench/measure.ts baseline|analyze <data dir> [--format ID]
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

export interface Measurement {
  mode: 'baseline' | 'analyze';
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
  const started = performance.now();
  const result = await analyze({
    inputs: [join(dir, 'events.ndjson')],
    format,
    assets: join(dir, 'assets.csv'),
    identities: join(dir, 'identities.csv'),
    trustAnchors: join(dir, 'trust-anchors.pem'),
    crls: [join(dir, 'crl.pem')],
    configPath: join(dir, 'certsignal.yaml'),
    collectAlerts: false,
    onAlert: () => {
      alerts++;
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
  };
}

const { positionals, values } = parseArgs({ allowPositionals: true, options: { format: { type: 'string' } } });
const [mode, dir] = positionals;
try {
  if (!dir || (mode !== 'baseline' && mode !== 'analyze')) throw new Error('usage: measure.ts baseline|analyze <data dir>');
  const m = mode === 'baseline' ? await baseline(join(dir, 'events.ndjson')) : await analyzeRun(dir, values.format);
  process.stdout.write(`${JSON.stringify(m)}\n`);
} catch (err) {
  process.stdout.write(`${JSON.stringify({ mode, available: false, reason: (err as Error).message })}\n`);
  process.exitCode = 1;
}
