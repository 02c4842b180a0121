// Streaming line reader for input files and stdin: transparent gzip (detected by magic bytes),
// batches of lines for speed, over-long lines skipped without buffering them, truncated or
// corrupt gzip reported with the last good line. Never loads a whole file.

import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Diagnostics } from '../diagnostics.ts';

/** One line of input, without its line terminator. `number` is 1-based. */
export interface Line {
  text: string;
  number: number;
}

export interface LineReaderOptions {
  diagnostics: Diagnostics;
  /** Lines longer than this (in bytes, terminator excluded) are skipped with `line-too-long`. Default 1 MiB. */
  maxLineBytes?: number;
  /** Lines per yielded batch. Default 4096. */
  batchLines?: number;
  /** Injected input stream (tests, or an already open stdin); default: the file, or process.stdin for `-`. */
  stream?: Readable;
  /** Called after each raw chunk is read, with the total raw (possibly compressed) bytes read so far. */
  onBytes?: (bytesRead: number) => void;
}

/** Default `maxLineBytes`: 1 MiB. */
export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;
const DEFAULT_BATCH_LINES = 4096;
/** Cap on lines kept for detection, and on the bytes buffered while sampling. */
const SAMPLE_MAX_LINES = 20;
const SAMPLE_LINE_CUT = 64 * 1024;
const SAMPLE_MAX_BYTES = 1024 * 1024;

/** File name as sources see it for detection: basename with `.gz` stripped (`-` stays `-`). */
export function detectionName(file: string): string {
  if (file === '-') return '-';
  const slash = Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\'));
  const base = file.slice(slash + 1);
  return base.endsWith('.gz') ? base.slice(0, -3) : base;
}

function describeError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOENT') return 'no such file';
  if (e?.code === 'EACCES') return 'permission denied';
  if (e?.code === 'EISDIR') return 'is a directory';
  return e?.message ?? String(err);
}

/**
 * Reads one input as lines. `sample()` may be called first (detection); the lines it looked at
 * are replayed by `batches()`, so stdin loses nothing. Read errors become diagnostics
 * (`file-unreadable`, `truncated-gzip`, `line-too-long`), never exceptions.
 */
export class LineReader {
  readonly file: string;
  /** Raw bytes read from the file or stream so far (compressed bytes for gzip input). */
  bytesRead = 0;
  /** True once the input was found to be gzip. */
  gzip = false;
  /** Set when the input could not be opened or read at all. */
  failed = false;
  /** Lines yielded so far (the number of the last complete line). */
  lineCount = 0;
  /** Lines skipped as longer than `maxLineBytes`. */
  skippedLines = 0;

  private readonly diagnostics: Diagnostics;
  private readonly maxLineBytes: number;
  private readonly batchLines: number;
  private readonly injected?: Readable;
  private readonly onBytes?: (n: number) => void;
  private chunks: AsyncGenerator<Buffer> | null = null;
  /** Decompressed chunks pulled by `sample()` and not yet consumed by `batches()`. */
  private replay: Buffer[] = [];
  private reported = false;
  private started = false;
  private pendingError: unknown = null;

  constructor(file: string, options: LineReaderOptions) {
    this.file = file;
    this.diagnostics = options.diagnostics;
    this.maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.batchLines = options.batchLines ?? DEFAULT_BATCH_LINES;
    this.injected = options.stream;
    this.onBytes = options.onBytes;
  }

  private rawStream(): Readable {
    if (this.injected) return this.injected;
    if (this.file === '-') return process.stdin;
    return createReadStream(this.file, { highWaterMark: 1024 * 1024 });
  }

  /** Raw chunks, counted for progress; gunzipped when the first bytes are the gzip magic. */
  private async *decoded(): AsyncGenerator<Buffer> {
    const raw = this.rawStream();
    const it = raw[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    const nextRaw = async (): Promise<Buffer | null> => {
      const r = await it.next();
      if (r.done) return null;
      const chunk = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
      this.bytesRead += chunk.length;
      this.onBytes?.(this.bytesRead);
      return chunk;
    };
    try {
      let first = await nextRaw();
      if (first === null) return;
      // A pipe may deliver a 1-byte first chunk; the magic needs two.
      while (first.length < 2) {
        const more = await nextRaw();
        if (more === null) break;
        first = Buffer.concat([first, more]);
      }
      if (first.length < 2 || first[0] !== 0x1f || first[1] !== 0x8b) {
        yield first;
        for (;;) {
          const c = await nextRaw();
          if (c === null) return;
          yield c;
        }
      }
      this.gzip = true;
      const gunzip = createGunzip();
      const head = first;
      let pumpError: unknown = null;
      const pump = (async () => {
        try {
          if (!gunzip.write(head)) await once(gunzip, 'drain');
          for (;;) {
            const c = await nextRaw();
            if (c === null) break;
            if (gunzip.destroyed) return;
            if (!gunzip.write(c)) await once(gunzip, 'drain');
          }
          gunzip.end();
        } catch (err) {
          // The raw read failed, or gunzip was destroyed by its own error (reported by the reader).
          pumpError = err;
          if (!gunzip.destroyed) gunzip.destroy(err as Error);
        }
      })();
      try {
        for await (const c of gunzip) yield c as Buffer;
        // gunzip ended, so the pump has called end() and finished.
        await pump;
      } finally {
        if (!gunzip.destroyed) gunzip.destroy();
      }
      if (pumpError) throw pumpError;
    } finally {
      // Also runs when the consumer stops early (close() after sampling): release the file.
      if (raw !== process.stdin) raw.destroy();
    }
  }

  private report(err: unknown): void {
    if (this.reported) return;
    this.reported = true;
    const code = (err as NodeJS.ErrnoException)?.code ?? '';
    if (this.gzip && (code.startsWith('Z_') || code === 'ERR_STREAM_PREMATURE_CLOSE')) {
      const last = this.lineCount;
      this.diagnostics.report({
        level: 'error',
        reason: 'truncated-gzip',
        file: this.file,
        line: last > 0 ? last : undefined,
        message: `gzip data is truncated or corrupt (${(err as Error).message}); kept the ${last} line(s) read before it, last good line ${last}`,
      });
      return;
    }
    this.failed = true;
    this.diagnostics.report({
      level: 'error',
      reason: 'file-unreadable',
      file: this.file,
      message: `cannot read ${this.file === '-' ? 'stdin' : this.file}: ${describeError(err)}`,
    });
  }

  private async nextChunk(): Promise<Buffer | null> {
    if (this.replay.length > 0) return this.replay.shift() ?? null;
    if (this.failed || this.pendingError !== null) return null;
    if (!this.chunks) this.chunks = this.decoded();
    try {
      const r = await this.chunks.next();
      return r.done ? null : r.value;
    } catch (err) {
      // Unreadable input is reported at once (detection must know); a broken gzip stream only
      // once its good lines were delivered, so the diagnostic can name the last good line.
      if (this.gzip) this.pendingError = err;
      else this.report(err);
      return null;
    }
  }

  /**
   * The first ≤20 non-empty lines (each cut at 64 KiB), for format detection. The data read is
   * kept and replayed by `batches()`. Returns [] for an empty or unreadable input.
   */
  async sample(maxLines = SAMPLE_MAX_LINES): Promise<string[]> {
    if (this.started) throw new Error('sample() must be called before batches()');
    const pulled: Buffer[] = [];
    let size = 0;
    const out: string[] = [];
    let partial = '';
    while (out.length < maxLines && size < SAMPLE_MAX_BYTES) {
      const c = await this.nextChunk();
      if (c === null) break;
      pulled.push(c);
      size += c.length;
      // Decoding the sample per chunk may split a multi-byte character; harmless for detection.
      const text = partial + c.toString('utf8', 0, Math.min(c.length, SAMPLE_MAX_BYTES));
      const parts = text.split('\n');
      partial = parts.pop() ?? '';
      for (const p of parts) {
        const t = p.endsWith('\r') ? p.slice(0, -1) : p;
        if (t.trim().length > 0) out.push(t.length > SAMPLE_LINE_CUT ? t.slice(0, SAMPLE_LINE_CUT) : t);
        if (out.length >= maxLines) break;
      }
      if (partial.length > SAMPLE_LINE_CUT) partial = partial.slice(0, SAMPLE_LINE_CUT);
    }
    if (out.length < maxLines && partial.trim().length > 0) out.push(partial);
    this.replay = pulled.concat(this.replay);
    if (out.length > 0 && out[0].charCodeAt(0) === 0xfeff) out[0] = out[0].slice(1);
    return out;
  }

  /** Stop reading and release the file. */
  close(): void {
    this.replay = [];
    void this.chunks?.return(undefined);
  }

  /** All lines, in batches. Over-long lines are reported and skipped; read errors end the input. */
  async *batches(): AsyncGenerator<Line[]> {
    this.started = true;
    const max = this.maxLineBytes;
    let batch: Line[] = [];
    let lineNumber = 0;
    // Bytes of the current, not yet terminated line.
    let carry: Buffer[] = [];
    let carryBytes = 0;
    // True while streaming past a line already known to be too long.
    let skipping = false;
    let first = true;

    const tooLong = (n: number, bytes: number | null) => {
      this.skippedLines++;
      this.diagnostics.skip({
        reason: 'line-too-long',
        file: this.file,
        line: n,
        message: `line is longer than ${max} bytes${bytes !== null ? ` (${bytes})` : ''}; skipped`,
      });
    };
    const push = (text: string) => {
      lineNumber++;
      if (first) {
        first = false;
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      }
      if (text.length > 0 && text.charCodeAt(text.length - 1) === 13) text = text.slice(0, -1);
      if (text.length > max || (text.length * 3 > max && Buffer.byteLength(text) > max)) {
        tooLong(lineNumber, Buffer.byteLength(text));
        return;
      }
      batch.push({ text, number: lineNumber });
    };

    for (;;) {
      const chunk = await this.nextChunk();
      if (chunk === null) break;
      let start = 0;
      const nl = chunk.indexOf(10, 0);
      if (nl === -1) {
        // No terminator in this chunk: the whole chunk belongs to the current line.
        if (!skipping) {
          carry.push(chunk);
          carryBytes += chunk.length;
          if (carryBytes > max) {
            skipping = true;
            carry = [];
          }
        } else carryBytes += chunk.length;
        continue;
      }
      // Finish the carried line with the bytes up to the first newline.
      if (skipping) {
        carryBytes += nl;
        lineNumber++;
        tooLong(lineNumber, carryBytes);
        skipping = false;
        carry = [];
        carryBytes = 0;
        start = nl + 1;
      } else if (carryBytes > 0) {
        carry.push(chunk.subarray(0, nl));
        push(Buffer.concat(carry, carryBytes + nl).toString('utf8'));
        carry = [];
        carryBytes = 0;
        start = nl + 1;
      }
      // Decode everything up to the last newline at once (a newline byte never sits inside a
      // multi-byte UTF-8 sequence), then split the string: far cheaper than per-line decoding.
      const lastNl = chunk.lastIndexOf(10);
      if (lastNl >= start) {
        const text = chunk.toString('utf8', start, lastNl);
        let pos = 0;
        for (;;) {
          const i = text.indexOf('\n', pos);
          if (i === -1) {
            push(text.slice(pos));
            break;
          }
          push(text.slice(pos, i));
          pos = i + 1;
        }
      }
      const rest = chunk.length - (lastNl + 1);
      if (rest > 0) {
        if (rest > max) {
          skipping = true;
          carryBytes = rest;
        } else {
          carry.push(chunk.subarray(lastNl + 1));
          carryBytes = rest;
        }
      }
      this.lineCount = lineNumber;
      if (batch.length >= this.batchLines) {
        yield batch;
        batch = [];
      }
    }
    // A final line without a terminator is a line — unless the gzip stream broke in the middle of it.
    const truncated = this.pendingError !== null;
    if (truncated) this.report(this.pendingError);
    else {
      if (skipping) {
        lineNumber++;
        tooLong(lineNumber, carryBytes);
      } else if (carryBytes > 0) push(Buffer.concat(carry, carryBytes).toString('utf8'));
    }
    this.lineCount = lineNumber;
    if (batch.length > 0) yield batch;
  }
}
