// Turns input paths into a stream of Observation batches: detects each file's format, orders
// files by phase (Zeek x509 before ssl), adds a Zeek ssl.log's sibling x509.log, and reports
// per-file statistics. Bad input becomes diagnostics; only a bad `--format` value is an error.
import { open, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { gunzipSync, constants as zlibConstants } from 'node:zlib';
import { Diagnostics } from '../diagnostics.ts';
import { CertsignalError, ExitCode } from '../errors.ts';
import type { Observation } from '../schema/event.ts';
import { detectionName, LineReader } from './lines.ts';
import { BINARY_SOURCES, binarySourceFor, FORMAT_ALIASES, SOURCES, sourceById } from './registry.ts';
import type { BinarySource, FileContext, LineSource, SharedSourceState, SourceOptions } from './types.ts';
import { findZeekSiblings } from './zeek/siblings.ts';

/** What happened to one input file; `format` is null when it was not read. */
export interface FileStats {
  file: string;
  format: string | null;
  /** Lines read (including headers and blank lines); packets for a capture. */
  lines: number;
  /** Data records (headers excluded), skipped ones included. */
  records: number;
  observations: number;
  /** Records dropped with an error diagnostic. */
  skipped: number;
  /** Records deliberately not turned into observations (e.g. non-tls EVE events). */
  ignored: number;
  /** True when the file was not given but added as a Zeek ssl.log's sibling x509.log or conn.log. */
  sibling: boolean;
}

export interface ReadOptions {
  /** Format id or alias (`--format`); overrides detection for every file. */
  format?: string;
  diagnostics: Diagnostics;
  maxLineBytes?: number;
  /** Options some sources honour (certsignal.yaml `input`). */
  sourceOptions?: SourceOptions;
  /** Raw bytes read so far over all inputs, and their total size (null when stdin is among them). */
  onProgress?: (bytesRead: number, totalBytes: number | null) => void;
  /** Called once per input (and per sibling x509 log) after it was read or skipped. */
  onFile?: (stats: FileStats) => void;
  /** Stream to read for `-` instead of process.stdin (tests, embedding). */
  stdin?: Readable;
}

/** A format as listed by `certsignal formats`. */
export interface FormatInfo {
  id: string;
  description: string;
  phase: number;
}

/** Every known format, in registry order. */
export function listFormats(): FormatInfo[] {
  return SOURCES.map((s) => ({ id: s.id, description: s.description, phase: s.phase ?? 1 }));
}

/**
 * The sources a `--format` value stands for (an id or an alias). Throws a usage error naming
 * the known formats when the value is unknown.
 */
export function resolveFormat(name: string): LineSource[] {
  const ids = FORMAT_ALIASES[name] ?? [name];
  const sources = ids.map((id) => sourceById(id)).filter((s): s is LineSource => s !== undefined);
  if (sources.length === 0) {
    const known = [...SOURCES.map((s) => s.id), ...BINARY_SOURCES.map((s) => s.id), ...Object.keys(FORMAT_ALIASES)].join(', ');
    throw new CertsignalError('E_USAGE', `unknown format "${name}" (known: ${known})`, ExitCode.USAGE);
  }
  return sources;
}

/** Every known format including binary ones (captures), in registry order. */
export function listAllFormats(): FormatInfo[] {
  return [...listFormats(), ...BINARY_SOURCES.map((s) => ({ id: s.id, description: s.description, phase: s.phase ?? 1 }))];
}

/**
 * The first bytes of a file (decompressed when it is gzip), for binary-format detection; null
 * when it cannot be read (the line reader then reports why).
 */
export async function readHead(path: string): Promise<Uint8Array | null> {
  let fh: Awaited<ReturnType<typeof open>> | null = null;
  try {
    fh = await open(path, 'r');
    const buf = Buffer.alloc(64 * 1024);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const head = buf.subarray(0, bytesRead);
    if (bytesRead >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
      try {
        return gunzipSync(head, { finishFlush: zlibConstants.Z_SYNC_FLUSH }).subarray(0, 64);
      } catch {
        return head.subarray(0, 64);
      }
    }
    return head.subarray(0, 64);
  } catch {
    return null;
  } finally {
    await fh?.close().catch(() => {});
  }
}

/** The binary source that recognises these first bytes, or null. */
function pickBinary(head: Uint8Array, file: string): BinarySource | null {
  let best: BinarySource | null = null;
  let bestScore = 0;
  for (const s of BINARY_SOURCES) {
    const score = s.detectBytes(head, detectionName(file));
    if (score > bestScore) {
      best = s;
      bestScore = score;
    }
  }
  return best;
}

/** A name that promises a capture (`x.pcap`, `x.pcapng`, `x.cap`, `.gz` stripped). */
function capturelikeName(file: string): boolean {
  return /\.(pcap|pcapng|cap)$/i.test(detectionName(file));
}

function hexHead(head: Uint8Array): string {
  return Buffer.from(head.subarray(0, 4)).toString('hex');
}

function pickSource(candidates: readonly LineSource[], file: string, lines: string[], forced: boolean): LineSource | null {
  let best: LineSource | null = null;
  let bestScore = 0;
  const sample = { name: detectionName(file), firstLines: lines };
  for (const s of candidates) {
    let score = 0;
    try {
      score = s.detect(sample);
    } catch {
      score = 0;
    }
    if (score > bestScore) {
      best = s;
      bestScore = score;
    }
  }
  // A forced format is used even when its detector is unsure (the first of an alias by default).
  return best ?? (forced ? candidates[0] : null);
}

/**
 * Detects the format of one file from its first lines. Returns the format id, or null when no
 * source recognises it (or it cannot be read; `diagnostics` then says why).
 */
export async function detectFormat(
  path: string,
  options: { diagnostics?: Diagnostics; stdin?: Readable } = {},
): Promise<string | null> {
  if (path !== '-') {
    const head = await readHead(path);
    const binary = head ? pickBinary(head, path) : null;
    if (binary) return binary.id;
  }
  const reader = new LineReader(path, {
    diagnostics: options.diagnostics ?? new Diagnostics(),
    stream: path === '-' ? options.stdin : undefined,
  });
  const lines = await reader.sample();
  reader.close();
  if (reader.failed || lines.length === 0) return null;
  return pickSource(SOURCES, path, lines, false)?.id ?? null;
}

interface Plan {
  file: string;
  source: LineSource | BinarySource;
  /** Kept open only for stdin, whose sampled bytes cannot be read again. */
  reader: LineReader | null;
  sibling: boolean;
  order: number;
}

function emptyStats(file: string, format: string | null, sibling = false): FileStats {
  return { file, format, lines: 0, records: 0, observations: 0, skipped: 0, ignored: 0, sibling };
}

/**
 * Reads all inputs (`-` = stdin) and yields Observations in batches. Files whose format cannot
 * be detected get an `unknown-format` diagnostic and are skipped; unreadable files a
 * `file-unreadable` one. Throws only for an unknown `options.format`.
 */
export async function* readObservations(inputs: string[], options: ReadOptions): AsyncGenerator<Observation[]> {
  const { diagnostics } = options;
  const forcedBinary = options.format ? binarySourceFor(options.format) : undefined;
  const forced = options.format && !forcedBinary ? resolveFormat(options.format) : null;
  const candidates = forced ?? SOURCES;
  const done = (s: FileStats) => options.onFile?.(s);

  const plans: Plan[] = [];
  let order = 0;
  for (const file of inputs) {
    // Captures are told by their magic bytes before any line source looks at them.
    if (forcedBinary && file === '-') {
      diagnostics.report({
        level: 'error',
        reason: 'unknown-format',
        file,
        message: `reading a ${forcedBinary.id} capture from stdin is not supported; give the file path`,
      });
      done(emptyStats(file, null));
      continue;
    }
    if (forcedBinary) {
      plans.push({ file, source: forcedBinary, reader: null, sibling: false, order: order++ });
      continue;
    }
    if (forced === null && file !== '-') {
      const head = await readHead(file);
      if (head !== null) {
        const binary = pickBinary(head, file);
        if (binary) {
          plans.push({ file, source: binary, reader: null, sibling: false, order: order++ });
          continue;
        }
        if (capturelikeName(file) && head.length > 0) {
          diagnostics.report({
            level: 'error',
            reason: 'unknown-format',
            file,
            message: `${file} is named like a capture but is not pcap or pcapng (first bytes ${hexHead(head)}; expected a1b2c3d4, d4c3b2a1, a1b23c4d, 4d3cb2a1 or 0a0d0d0a)`,
          });
          done(emptyStats(file, null));
          continue;
        }
      }
    }
    const reader = new LineReader(file, {
      diagnostics,
      maxLineBytes: options.maxLineBytes,
      stream: file === '-' ? options.stdin : undefined,
    });
    const lines = await reader.sample();
    const keep = file === '-';
    if (!keep) reader.close();
    if (reader.failed) {
      done(emptyStats(file, null));
      continue;
    }
    if (lines.length === 0) {
      diagnostics.warn({ reason: 'empty-input', file, message: 'input has no data lines' });
      done(emptyStats(file, null));
      continue;
    }
    const source = pickSource(candidates, file, lines, forced !== null);
    if (!source) {
      diagnostics.report({
        level: 'error',
        reason: 'unknown-format',
        file,
        message: `cannot tell the format of ${file === '-' ? 'stdin' : file}; use --format (known: ${SOURCES.map((s) => s.id).join(', ')})`,
      });
      done(emptyStats(file, null));
      continue;
    }
    plans.push({ file, source, reader: keep ? reader : null, sibling: false, order: order++ });
  }

  // A Zeek ssl.log alone still gets certificate details from the x509.log beside it, and byte
  // counts from the conn.log beside it (each looked for only when none of its kind was given).
  for (const stem of ['x509', 'conn'] as const) {
    const id = `zeek-${stem}`;
    if (plans.some((p) => p.source.id === id)) continue;
    const given = new Set(plans.filter((p) => p.file !== '-').map((p) => resolve(p.file)));
    const source = sourceById(id) as LineSource;
    for (const p of plans.filter((q) => q.source.id === 'zeek-ssl' && q.file !== '-')) {
      for (const sib of await findZeekSiblings(p.file, stem)) {
        const abs = resolve(sib);
        if (given.has(abs)) continue;
        given.add(abs);
        plans.push({ file: sib, source, reader: null, sibling: true, order: order++ });
      }
    }
  }

  plans.sort((a, b) => (a.source.phase ?? 1) - (b.source.phase ?? 1) || a.order - b.order);

  let totalBytes: number | null = 0;
  for (const p of plans) {
    if (p.file === '-') {
      totalBytes = null;
      break;
    }
    try {
      totalBytes += (await stat(p.file)).size;
    } catch {
      // Reported when the file is read.
    }
  }

  // Files of one phase are read side by side and merged in time order, so a CA log, an MDM
  // log and a gateway log given together reach the rules as one timeline (a rule counting
  // issuances and presentations, or waiting for an enrollment, needs that). Each file is
  // assumed roughly time-ordered; the merge never reorders records within a file.
  const shared: SharedSourceState = new Map();
  const consumed = new Array<number>(plans.length).fill(0);
  let consumedDone = 0;
  const progress = options.onProgress
    ? (index: number, n: number) => {
        consumed[index] = n;
        let sum = consumedDone;
        for (const c of consumed) sum += c;
        options.onProgress?.(sum, totalBytes);
      }
    : null;
  const finished = (index: number, bytes: number) => {
    consumed[index] = 0;
    consumedDone += bytes;
    options.onProgress?.(consumedDone + consumed.reduce((a, b) => a + b, 0), totalBytes);
  };
  const readOne = (plan: Plan, index: number, report: (stats: FileStats) => void) =>
    readPlan(plan, {
      diagnostics,
      shared,
      maxLineBytes: options.maxLineBytes,
      sourceOptions: options.sourceOptions,
      onBytes: progress ? (n) => progress(index, n) : undefined,
      onDone: (stats, bytes) => {
        finished(index, bytes);
        report(stats);
      },
    });
  let i = 0;
  while (i < plans.length) {
    const phase = plans[i].source.phase ?? 1;
    let j = i;
    while (j < plans.length && (plans[j].source.phase ?? 1) === phase) j++;
    if (j - i === 1) yield* readOne(plans[i], i, done);
    else {
      // Files read side by side finish in any order; report them in the order they were given.
      const group: (FileStats | undefined)[] = new Array(j - i);
      yield* mergeByTime(plans.slice(i, j).map((p, k) => readOne(p, i + k, (stats) => (group[k] = stats))));
      for (const stats of group) if (stats) done(stats);
    }
    i = j;
  }
}

interface PlanContext {
  diagnostics: Diagnostics;
  shared: SharedSourceState;
  maxLineBytes?: number;
  sourceOptions?: SourceOptions;
  /** Bytes of this file consumed so far. */
  onBytes?: (n: number) => void;
  /** Called once when the file is finished, with its stats and the bytes it consumed. */
  onDone: (stats: FileStats, bytes: number) => void;
}

/** Reads one planned file and yields its observations in batches, in file order. */
async function* readPlan(plan: Plan, ctx: PlanContext): AsyncGenerator<Observation[]> {
  const { diagnostics, shared } = ctx;
  if (plan.source.kind === 'binary') {
    const stats = emptyStats(plan.file, plan.source.id, plan.sibling);
    const skippedBefore = diagnostics.skippedRecords;
    const read = plan.source.read({ file: plan.file, diagnostics, shared, onBytes: ctx.onBytes, options: ctx.sourceOptions });
    try {
      for await (const batch of read) {
        if (batch.length === 0) continue;
        stats.observations += batch.length;
        yield batch;
      }
    } catch (err) {
      if (!(err instanceof CertsignalError)) throw err;
      diagnostics.report({ level: 'error', reason: 'file-unreadable', file: plan.file, message: err.message });
    }
    const counts = read.counts();
    stats.lines = counts.units;
    stats.records = counts.records;
    stats.ignored = counts.ignored;
    stats.skipped = diagnostics.skippedRecords - skippedBefore;
    ctx.onDone(stats, counts.bytes);
    return;
  }
  const source = plan.source;
  const reader =
    plan.reader ??
    new LineReader(plan.file, {
      diagnostics,
      maxLineBytes: ctx.maxLineBytes,
      onBytes: ctx.onBytes,
    });
  const fileCtx: FileContext = { file: plan.file, diagnostics, shared, options: ctx.sourceOptions };
  const parser = source.open(fileCtx);
  const stats = emptyStats(plan.file, plan.source.id, plan.sibling);
  // Skips are counted per file from the diagnostics' skip events for this file (files of one
  // phase are read interleaved, so a global before/after difference would mix them).
  const skippedBefore = diagnostics.skippedIn(plan.file);
  let nonEmpty = 0;
  for await (const batch of reader.batches()) {
    const out: Observation[] = [];
    for (const l of batch) {
      if (l.text.length > 0) nonEmpty++;
      const r = parser.line(l.text, l.number);
      if (r === null || r === undefined) continue;
      if (Array.isArray(r)) {
        for (const o of r) out.push(o);
      } else out.push(r);
    }
    stats.lines = reader.lineCount;
    if (out.length > 0) {
      stats.observations += out.length;
      yield out;
    }
  }
  const tail = parser.end?.();
  if (tail && tail.length > 0) {
    stats.observations += tail.length;
    yield tail;
  }
  stats.lines = reader.lineCount;
  stats.skipped = diagnostics.skippedIn(plan.file) - skippedBefore;
  const counts = parser.counts?.();
  // Lines the reader dropped (too long) never reached the parser but were records all the same.
  stats.records = (counts ? counts.records : nonEmpty) + reader.skippedLines;
  stats.ignored = counts?.ignored ?? 0;
  ctx.onDone(stats, reader.bytesRead);
}

const MERGE_BATCH = 1024;

/**
 * Merges several observation streams into one in time order (equal times: no order promised).
 * Observations without a time go out as soon as they are at the head of their stream (normalize
 * reports and skips them). Holds one batch per stream.
 */
export async function* mergeByTime(streams: AsyncGenerator<Observation[]>[]): AsyncGenerator<Observation[]> {
  interface Head {
    batch: Observation[];
    pos: number;
    stream: AsyncGenerator<Observation[]>;
    order: number;
  }
  const heads: Head[] = [];
  const refill = async (h: Head): Promise<boolean> => {
    for (;;) {
      const next = await h.stream.next();
      if (next.done) return false;
      if (next.value.length > 0) {
        h.batch = next.value;
        h.pos = 0;
        return true;
      }
    }
  };
  for (let k = 0; k < streams.length; k++) {
    const h: Head = { batch: [], pos: 0, stream: streams[k], order: k };
    if (await refill(h)) heads.push(h);
  }
  const key = (h: Head) => h.batch[h.pos].ts ?? Number.NEGATIVE_INFINITY;
  let out: Observation[] = [];
  while (heads.length > 0) {
    let best = 0;
    let bestKey = key(heads[0]);
    for (let k = 1; k < heads.length; k++) {
      const v = key(heads[k]);
      if (v < bestKey || (v === bestKey && heads[k].order < heads[best].order)) {
        best = k;
        bestKey = v;
      }
    }
    const h = heads[best];
    // Take the run of this stream's observations that are not later than any other head.
    let limit = Number.POSITIVE_INFINITY;
    for (let k = 0; k < heads.length; k++) if (k !== best) limit = Math.min(limit, key(heads[k]));
    while (h.pos < h.batch.length) {
      const ts = h.batch[h.pos].ts ?? Number.NEGATIVE_INFINITY;
      if (ts > limit) break;
      out.push(h.batch[h.pos++]);
      if (out.length >= MERGE_BATCH) {
        yield out;
        out = [];
      }
    }
    if (h.pos >= h.batch.length && !(await refill(h))) heads.splice(best, 1);
  }
  if (out.length > 0) yield out;
}
