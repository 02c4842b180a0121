// The capture part of `npm run bench`: `certsignal pcap FILE --output json -q` (the real CLI, in
// its own process) beside `tshark -r FILE -T fields -e tls.handshake.ja3` on the same file in the
// same run — wall time, packets/s, MB/s, peak RSS, and the ratio of certsignal's throughput to
// tshark's — on the largest shared capture with TLS handshakes and on a generated larger one
// (bench/pcap-generate.ts). Also checks that both report the same set of JA3 hashes.
// Run alone it prints its table and merges its figures into bench/results.json under `pcap`;
// analyze.bench.ts runs it at the end of `npm run bench`.
// Usage: node_modules/.bin/node bench/pcap.bench.ts [--quick]
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { readSessions } from '../src/sources/pcap/sessions.ts';
import { type GeneratedPcap, generatedPcapName, generatePcap, REALDATA } from './pcap-generate.ts';

/** Size of the generated capture, in MB. */
const GENERATED_MB = { full: 300, quick: 30 };
/** Where the largest shared capture is looked for (relative to realdata/). */
const SHARED_DIRS = ['foxio-ja4/pcap', 'zeek/Traces', 'suricata-verify/tests'];

const dataRoot = new URL('./data/', import.meta.url).pathname;
const cli = new URL('../bin/certsignal.ts', import.meta.url).pathname;

/** One tool's run over one capture. */
export interface ToolRun {
  available: boolean;
  reason?: string;
  exitCode: number | null;
  seconds: number;
  packetsPerSecond: number | null;
  mbPerSecond: number;
  /** Peak RSS of the tool's process (GNU time %M), MB; null without /usr/bin/time. */
  peakRssMb: number | null;
}

/** Both tools over one capture. */
export interface PcapFileRun {
  label: string;
  file: string;
  bytes: number;
  /** Frames in the file (tshark prints one line per frame). */
  packets: number | null;
  certsignal: ToolRun & { sessions: number; sessionsWithJa3: number };
  tshark: ToolRun & { clientHellos: number };
  /** certsignal MB/s ÷ tshark MB/s (> 1: certsignal is faster). */
  ratio: number | null;
  /** Distinct JA3 hashes each reported, and how many both did. */
  ja3: { certsignal: number; tshark: number; both: number; certsignalOnly: string[]; tsharkOnly: string[]; same: boolean };
  generated?: GeneratedPcap;
}

/** The pcap part of the bench results. */
export interface PcapBenchResult {
  profile: 'full' | 'quick';
  loadAverage: { start: number[]; end: number[] };
  wallSeconds: number;
  tshark: string | null;
  files: PcapFileRun[];
}

function capturesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...capturesUnder(path));
    else if (/\.(pcap|pcapng|cap)(\.gz)?$/.test(name)) out.push(path);
  }
  return out;
}

/** The largest capture under the shared dirs in which certsignal finds at least one ClientHello. */
export async function largestSharedTlsCapture(): Promise<string | null> {
  const files = SHARED_DIRS.flatMap((d) => capturesUnder(join(REALDATA, d)))
    .map((path) => ({ path, size: statSync(path).size }))
    .sort((a, b) => b.size - a.size || a.path.localeCompare(b.path));
  for (const { path } of files) {
    const reader = readSessions(path);
    try {
      for await (const batch of reader) if (batch.some((s) => s.result.client_hellos.length > 0)) return path;
    } catch {
      // unreadable: try the next one
    }
  }
  return null;
}

/** Runs a command with stdout to `outFile`, under GNU time for the peak RSS; measures wall time. */
function timed(
  cmd: string,
  args: string[],
  outFile: string,
): { seconds: number; exitCode: number | null; peakRssMb: number | null; error?: string; stderr: string } {
  const rssFile = `${outFile}.rss`;
  const useTime = existsSync('/usr/bin/time');
  const [c, a] = useTime ? ['/usr/bin/time', ['-f', '%M', '-o', rssFile, cmd, ...args]] : [cmd, args];
  const out = openSync(outFile, 'w');
  const started = performance.now();
  let child: ReturnType<typeof spawnSync>;
  try {
    child = spawnSync(c, a, { stdio: ['ignore', out, 'pipe'], encoding: 'utf8', maxBuffer: 16 << 20 });
  } finally {
    closeSync(out);
  }
  const seconds = (performance.now() - started) / 1000;
  let peakRssMb: number | null = null;
  if (useTime && existsSync(rssFile)) {
    const kb = Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop());
    if (Number.isFinite(kb) && kb > 0) peakRssMb = kb / 1024;
    rmSync(rssFile);
  }
  return { seconds, exitCode: child.status, peakRssMb, error: child.error?.message, stderr: String(child.stderr ?? '') };
}

/** Reads the file once so that both tools find it in the page cache. */
function warm(path: string): void {
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(8 << 20);
  try {
    while (readSync(fd, buf) > 0);
  } finally {
    closeSync(fd);
  }
}

function haveTshark(): string | null {
  const r = spawnSync('tshark', ['-v'], { encoding: 'utf8' });
  return r.status === 0 ? (r.stdout.split('\n')[0] ?? 'tshark') : null;
}

/** Measures both tools on one capture and compares their JA3 sets. */
function measureFile(label: string, file: string, tsharkVersion: string | null, generated?: GeneratedPcap): PcapFileRun {
  const bytes = statSync(file).size;
  const mb = bytes / 1e6;
  warm(file);
  const tmp = join(dataRoot, `.pcap-bench-${process.pid}`);

  // tshark first: its frame count is the file's packet count for both rates.
  let tsharkRun: PcapFileRun['tshark'];
  const tsharkJa3 = new Set<string>();
  let packets: number | null = generated?.packets ?? null;
  if (tsharkVersion) {
    const t = timed('tshark', ['-r', file, '-T', 'fields', '-e', 'tls.handshake.ja3'], `${tmp}.tshark`);
    const lines = readFileSync(`${tmp}.tshark`, 'utf8').split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    let clientHellos = 0;
    for (const line of lines)
      for (const h of line.split(','))
        if (h) {
          tsharkJa3.add(h);
          clientHellos++;
        }
    rmSync(`${tmp}.tshark`);
    if (t.exitCode === 0) packets = lines.length;
    tsharkRun = {
      available: t.exitCode === 0,
      ...(t.exitCode === 0 ? {} : { reason: t.error ?? `exit ${t.exitCode}: ${t.stderr.trim().slice(0, 200)}` }),
      exitCode: t.exitCode,
      seconds: t.seconds,
      packetsPerSecond: null,
      mbPerSecond: mb / t.seconds,
      peakRssMb: t.peakRssMb,
      clientHellos,
    };
  } else {
    tsharkRun = {
      available: false,
      reason: 'tshark not installed',
      exitCode: null,
      seconds: 0,
      packetsPerSecond: null,
      mbPerSecond: 0,
      peakRssMb: null,
      clientHellos: 0,
    };
  }

  const c = timed(process.execPath, [cli, 'pcap', file, '--output', 'json', '-q'], `${tmp}.certsignal`);
  const certsignalJa3 = new Set<string>();
  let sessions = 0;
  let sessionsWithJa3 = 0;
  for (const line of readFileSync(`${tmp}.certsignal`, 'utf8').split('\n')) {
    if (!line) continue;
    sessions++;
    const ja3 = (JSON.parse(line) as { ja3: string | null }).ja3;
    if (ja3) {
      certsignalJa3.add(ja3);
      sessionsWithJa3++;
    }
  }
  rmSync(`${tmp}.certsignal`);
  const certsignalRun: PcapFileRun['certsignal'] = {
    available: c.exitCode === 0,
    ...(c.exitCode === 0 ? {} : { reason: c.error ?? `exit ${c.exitCode}: ${c.stderr.trim().slice(0, 200)}` }),
    exitCode: c.exitCode,
    seconds: c.seconds,
    packetsPerSecond: null,
    mbPerSecond: mb / c.seconds,
    peakRssMb: c.peakRssMb,
    sessions,
    sessionsWithJa3,
  };
  if (packets !== null) {
    certsignalRun.packetsPerSecond = packets / certsignalRun.seconds;
    if (tsharkRun.available) tsharkRun.packetsPerSecond = packets / tsharkRun.seconds;
  }
  const both = [...certsignalJa3].filter((h) => tsharkJa3.has(h)).length;
  const certsignalOnly = [...certsignalJa3].filter((h) => !tsharkJa3.has(h)).sort();
  const tsharkOnly = [...tsharkJa3].filter((h) => !certsignalJa3.has(h)).sort();
  return {
    label,
    file,
    bytes,
    packets,
    certsignal: certsignalRun,
    tshark: tsharkRun,
    ratio: certsignalRun.available && tsharkRun.available ? tsharkRun.seconds / certsignalRun.seconds : null,
    ja3: {
      certsignal: certsignalJa3.size,
      tshark: tsharkJa3.size,
      both,
      certsignalOnly,
      tsharkOnly,
      same: tsharkRun.available && certsignalOnly.length === 0 && tsharkOnly.length === 0,
    },
    ...(generated ? { generated } : {}),
  };
}

/** Finds / generates the captures, measures both tools on each; logs progress via `log`. */
export async function runPcapBench(opts: { quick: boolean; log?: (line: string) => void }): Promise<PcapBenchResult> {
  const log = opts.log ?? ((l: string) => console.error(l));
  const started = performance.now();
  const loadStart = loadavg();
  const tsharkVersion = haveTshark();
  const files: PcapFileRun[] = [];

  const shared = await largestSharedTlsCapture();
  if (shared) {
    log(`pcap: ${relative(REALDATA, shared)} (largest shared capture with TLS) — tshark, certsignal …`);
    files.push(measureFile(`shared: ${relative(REALDATA, shared)}`, shared, tsharkVersion));
  } else log(`pcap: no shared capture under ${REALDATA} — skipped`);

  const mb = GENERATED_MB[opts.quick ? 'quick' : 'full'];
  const path = join(dataRoot, generatedPcapName(mb));
  const metaPath = `${path}.json`;
  let generated: GeneratedPcap | undefined;
  if (existsSync(path) && existsSync(metaPath)) generated = JSON.parse(readFileSync(metaPath, 'utf8')) as GeneratedPcap;
  else {
    try {
      log(`pcap: generating ${mb} MB capture …`);
      generated = generatePcap(path, mb * 1e6);
      writeFileSync(metaPath, `${JSON.stringify(generated, null, 2)}\n`);
      log(
        `  ${path}: ${generated.packets.toLocaleString('en')} packets, ${generated.repetitions} repetitions, ${generated.seconds.toFixed(1)} s`,
      );
    } catch (err) {
      log(`pcap: cannot generate the large capture: ${(err as Error).message}`);
    }
  }
  if (generated) {
    log(`pcap: generated ${mb} MB — tshark, certsignal …`);
    files.push(
      measureFile(
        `generated: ${generated.repetitions}× ${generated.sources.length} shared captures`,
        path,
        tsharkVersion,
        generated,
      ),
    );
  }
  return {
    profile: opts.quick ? 'quick' : 'full',
    loadAverage: { start: loadStart, end: loadavg() },
    wallSeconds: (performance.now() - started) / 1000,
    tshark: tsharkVersion,
    files,
  };
}

const fmt = (n: number | null | undefined, digits = 0): string =>
  n === null || n === undefined || !Number.isFinite(n)
    ? '–'
    : n.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** Prints the capture table and the JA3 comparison. */
export function printPcapTables(r: PcapBenchResult): void {
  const plain = process.stdout.isTTY && !process.env.NO_COLOR ? {} : { style: { head: [], border: [] } };
  console.log(
    `\ncertsignal pcap --output json vs tshark -T fields -e tls.handshake.ja3, same file, same run (${r.tshark ?? 'tshark not installed'})`,
  );
  const head = [
    'capture',
    'MB',
    'packets',
    'tool',
    's',
    'packets/s',
    'MB/s',
    'peak RSS MB',
    'sessions / ClientHellos',
    'certsignal ÷ tshark',
  ];
  const t = new Table({
    head,
    colAligns: head.map((_, i) => (i === 0 || i === 3 ? 'left' : 'right')) as Table.HorizontalAlignment[],
    ...plain,
  });
  for (const f of r.files) {
    for (const [tool, m, n] of [
      ['certsignal', f.certsignal, f.certsignal.sessions],
      ['tshark', f.tshark, f.tshark.clientHellos],
    ] as const) {
      const first = tool === 'certsignal';
      t.push([
        first ? f.label : '',
        first ? fmt(f.bytes / 1e6, 1) : '',
        first ? fmt(f.packets) : '',
        tool,
        m.available ? fmt(m.seconds, 2) : `not available: ${m.reason ?? ''}`,
        m.available ? fmt(m.packetsPerSecond) : '–',
        m.available ? fmt(m.mbPerSecond, 1) : '–',
        fmt(m.peakRssMb),
        m.available ? fmt(n) : '–',
        first ? (f.ratio === null ? '–' : `${f.ratio.toFixed(2)}×`) : '',
      ]);
    }
  }
  console.log(t.toString());
  for (const f of r.files) {
    const j = f.ja3;
    console.log(
      `JA3 hashes, ${f.label}: certsignal ${j.certsignal} distinct (${f.certsignal.sessionsWithJa3} sessions), tshark ${j.tshark} distinct (${f.tshark.clientHellos} ClientHellos), both ${j.both} → ${j.same ? 'same set' : `DIFFERENT (certsignal-only: ${j.certsignalOnly.join(' ') || '-'}; tshark-only: ${j.tsharkOnly.join(' ') || '-'})`}`,
    );
  }
  console.log(
    `pcap part: load average at start ${r.loadAverage.start.map((l) => l.toFixed(2)).join(' ')}, at end ${r.loadAverage.end.map((l) => l.toFixed(2)).join(' ')}; ${fmt(r.wallSeconds, 0)} s`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } }, strict: true });
    const result = await runPcapBench({ quick: values.quick });
    printPcapTables(result);
    const out = new URL('./results.json', import.meta.url).pathname;
    let existing: Record<string, unknown> = {};
    try {
      existing = JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>;
    } catch {
      // no earlier results
    }
    writeFileSync(out, `${JSON.stringify({ ...existing, pcap: result }, null, 2)}\n`);
    console.log(`wrote ${out} (pcap)`);
  } catch (err) {
    console.error(`bench: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
