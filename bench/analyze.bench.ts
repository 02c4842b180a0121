// `npm run bench`: throughput of `analyze` (all rules on) beside the floor any analyzer pays —
// streamed read + line split + JSON.parse — measured in the same run, on the same file, each in its
// own child process (so peak RSS is per measurement). Prints a table and writes bench/results.json.
// Usage: node_modules/.bin/node bench/analyze.bench.ts [--events N | --quick] [--entities N] [--no-pem] [--format ID]

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import Table from 'cli-table3';
import { type BenchDataResult, benchFlags, generateBenchData } from './generate.ts';
import type { Measurement } from './measure.ts';

/** analyze must reach this share of the baseline's events/s (project target). */
const TARGET_RATIO = 0.5;

function measure(mode: 'baseline' | 'analyze', dir: string, format: string | undefined): Measurement {
  const script = new URL('./measure.ts', import.meta.url).pathname;
  const args = [script, mode, dir, ...(format ? ['--format', format] : [])];
  const child = spawnSync(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 16 << 20,
  });
  const last = child.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last) as Measurement;
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
  n === null || n === undefined ? '–' : n.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main(): Promise<void> {
  const flags = benchFlags(process.argv.slice(2));
  const eventsFile = join(flags.out, 'events.ndjson');
  const metaFile = join(flags.out, 'meta.json');
  let generated: BenchDataResult | null = null;
  if (!existsSync(eventsFile) || !existsSync(metaFile)) {
    console.error(`generating ${flags.events.toLocaleString('en')} events in ${flags.out} …`);
    generated = await generateBenchData({ ...flags, log: (l) => console.error(l) });
    writeFileSync(metaFile, `${JSON.stringify(generated, null, 2)}\n`);
    console.error(`generated at ${fmt(generated.eventsPerSecond)} events/s (PKI ${generated.pkiSeconds.toFixed(1)} s)`);
  }
  const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as BenchDataResult;
  const bytes = statSync(eventsFile).size;

  console.error('measuring baseline (read + split + JSON.parse) …');
  const base = measure('baseline', flags.out, flags.format);
  console.error('measuring analyze (all rules) …');
  const full = measure('analyze', flags.out, flags.format);
  const ratio = base.available && full.available && base.eventsPerSecond > 0 ? full.eventsPerSecond / base.eventsPerSecond : null;

  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
  const table = new Table({
    head: ['measurement', 'events', 'seconds', 'events/s', 'vs baseline', 'peak RSS MB', 'p50 µs/event', 'p99 µs/event'],
    colAligns: ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
    // Colour only on a terminal (and never with NO_COLOR): results are often piped into files.
    ...(process.stdout.isTTY && !process.env.NO_COLOR ? {} : { style: { head: [], border: [] } }),
  });
  const row = (label: string, m: Measurement, r: string): (string | number)[] =>
    m.available
      ? [
          label,
          fmt(m.events),
          fmt(m.seconds, 2),
          fmt(m.eventsPerSecond),
          r,
          fmt(m.peakRssMb),
          fmt(m.batchLatencyUsPerEvent.p50, 2),
          fmt(m.batchLatencyUsPerEvent.p99, 2),
        ]
      : [label, 'not available', '', '', '', '', '', m.reason ?? ''];
  table.push(row('baseline: read + JSON.parse', base, '1.00×'));
  table.push(row('analyze (all rules)', full, ratio === null ? '–' : `${ratio.toFixed(2)}×`));
  console.log(table.toString());
  console.log(
    `data: ${fmt(meta.events)} ECS events, ${fmt(bytes / 1e6)} MB (${flags.pem ? 'with' : 'without'} PEM), ${meta.certificates} certificates, ${flags.entities} accounts — ${eventsFile}`,
  );
  console.log(
    `machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGb} GB, Node ${machine.node} (${machine.platform})`,
  );
  if (full.available) {
    console.log(`alerts: ${fmt(full.alerts)}, skipped records: ${fmt(full.skipped)}`);
    if (ratio !== null)
      console.log(
        `target: analyze ≥ ${TARGET_RATIO * 100}% of baseline → ${ratio >= TARGET_RATIO ? 'met' : 'NOT met'} (${(ratio * 100).toFixed(0)}%)`,
      );
  }
  const results = {
    date: new Date().toISOString(),
    machine,
    data: {
      file: eventsFile,
      events: meta.events,
      bytes,
      pem: flags.pem,
      accounts: flags.entities,
      certificates: meta.certificates,
      seed: flags.seed,
    },
    generation: generated
      ? { eventsPerSecond: generated.eventsPerSecond, seconds: generated.eventSeconds, pkiSeconds: generated.pkiSeconds }
      : { eventsPerSecond: meta.eventsPerSecond, seconds: meta.eventSeconds, pkiSeconds: meta.pkiSeconds, cached: true },
    baseline: base,
    analyze: full,
    ratio,
    target_ratio: TARGET_RATIO,
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
