// Streaming capture reader: pcap / pcapng (optionally gzip-compressed) → TCP stream chunks, UDP
// datagrams and flow ends, in batches, in bounded memory. Bad packets and truncated files are
// counted in stats and reported as diagnostics; they never throw.

import type { createReadStream } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import type { Diagnostics } from '../diagnostics.ts';
import { CertsignalError, ExitCode } from '../errors.ts';
import { PacketDecoder } from './decode.ts';
import { FlowTracker } from './flows.ts';
import { FrameParser, sniffFormat } from './frames.ts';
import type { CaptureItem, CaptureStats } from './types.ts';

/** Options of `readCapture`. */
export interface ReadCaptureOptions {
  diagnostics?: Diagnostics;
  /** Called after each chunk with bytes of the file consumed so far and the file size. */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  /** Stop buffering a direction after this many bytes (handshakes are at the start). Default 256 KiB. */
  maxStreamBytes?: number;
  /** Out-of-order bytes held per TCP direction. Default 128 KiB. */
  maxPendingBytes?: number;
  /** Bytes read from the file at a time. Default 2 MiB. */
  chunkBytes?: number;
  /** Test hook: called for each new TCP / UDP conversation with its stream id and 1-based frame number. */
  onNewConversation?: (transport: 'tcp' | 'udp', streamId: number, frameNumber: number) => void;
}

/** The iterable returned by `readCapture`. */
export type CaptureReader = AsyncIterable<CaptureItem[]> & { stats(): CaptureStats };

/** Skip reasons that are worth a per-packet diagnostic (the others are ordinary traffic). */
const DIAGNOSED = new Set(['malformed', 'malformed-block', 'unknown-interface']);
const MAX_PACKET_DIAGNOSTICS = 100;

/** Pulls bytes from a plain file or a gzip stream into a reusable buffer. */
class ByteReader {
  buf: Buffer;
  start = 0;
  end = 0;
  /** Offset (in the uncompressed stream) of `buf[0]`. */
  base = 0;
  eof = false;
  private readonly readInto: (target: Buffer, offset: number, length: number) => Promise<number>;

  constructor(chunkBytes: number, readInto: (target: Buffer, offset: number, length: number) => Promise<number>) {
    this.buf = Buffer.allocUnsafe(chunkBytes);
    this.readInto = readInto;
  }

  /** Makes at least `need` unread bytes available unless the input ends first; returns whether it did. */
  async fill(need: number): Promise<boolean> {
    if (this.start > 0) {
      this.buf.copy(this.buf, 0, this.start, this.end);
      this.base += this.start;
      this.end -= this.start;
      this.start = 0;
    }
    if (need > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
      this.buf.copy(bigger, 0, 0, this.end);
      this.buf = bigger;
    }
    while (this.end < need && !this.eof) {
      const n = await this.readInto(this.buf, this.end, this.buf.length - this.end);
      if (n === 0) this.eof = true;
      this.end += n;
    }
    return this.end >= need;
  }
}

/** Adapts an async iterable of chunks (a gunzip stream) to `readInto`. */
function chunkReader(chunks: AsyncIterator<Buffer>): (target: Buffer, offset: number, length: number) => Promise<number> {
  let pending: Buffer | null = null;
  return async (target, offset, length) => {
    if (pending === null || pending.length === 0) {
      const next = await chunks.next();
      if (next.done) return 0;
      pending = next.value;
    }
    const n = Math.min(length, pending.length);
    pending.copy(target, offset, 0, n);
    pending = pending.subarray(n);
    return n;
  };
}

/**
 * Reads a pcap or pcapng file (gzip-compressed too) and yields batches of capture items: reassembled
 * TCP bytes per direction, DTLS/QUIC-looking UDP payloads, and an `end` per conversation that
 * produced items. Throws `CertsignalError` only when the file cannot be opened.
 */
export function readCapture(path: string, options: ReadCaptureOptions = {}): CaptureReader {
  const stats: CaptureStats = { packets: 0, bytes: 0, skipped: {}, link_types: [] };
  const count = (reason: string) => {
    stats.skipped[reason] = (stats.skipped[reason] ?? 0) + 1;
  };
  const iterate = async function* (): AsyncGenerator<CaptureItem[]> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      throw new CertsignalError('E_INPUT', `cannot read capture ${path}: ${(err as Error).message}`, ExitCode.INPUT);
    }
    const gunzip = createGunzip();
    let compressed: ReturnType<typeof createReadStream> | null = null;
    try {
      const totalBytes = (await fh.stat()).size;
      const head = Buffer.alloc(4);
      await fh.read(head, 0, 4, 0);
      let position = 0;
      let readInto = async (target: Buffer, offset: number, length: number) => {
        const { bytesRead } = await fh.read(target, offset, length, position);
        position += bytesRead;
        return bytesRead;
      };
      let consumed = () => position;
      if (sniffFormat(head) === 'gzip') {
        const stream = fh.createReadStream({ start: 0, autoClose: false });
        compressed = stream;
        stream.pipe(gunzip);
        readInto = chunkReader(gunzip[Symbol.asyncIterator]());
        consumed = () => stream.bytesRead;
      }
      const where = compressed === null ? 'byte offset' : 'uncompressed byte offset';
      yield* pump(path, where, new ByteReader(options.chunkBytes ?? 2 * 1024 * 1024, readInto), options, stats, count, () => {
        stats.bytes = consumed();
        options.onProgress?.(stats.bytes, totalBytes);
      });
    } finally {
      compressed?.destroy();
      gunzip.destroy();
      await fh.close();
    }
  };
  return {
    [Symbol.asyncIterator]: iterate,
    stats: () => stats,
  };
}

async function* pump(
  path: string,
  where: string,
  reader: ByteReader,
  options: ReadCaptureOptions,
  stats: CaptureStats,
  count: (reason: string) => void,
  progress: () => void,
): AsyncGenerator<CaptureItem[]> {
  const diagnostics = options.diagnostics;
  const tracker = new FlowTracker({
    maxStreamBytes: options.maxStreamBytes ?? 256 * 1024,
    maxPendingBytes: options.maxPendingBytes ?? 128 * 1024,
    count,
  });
  tracker.onNewConversation = options.onNewConversation;
  const decoder = new PacketDecoder(tracker);
  const parser = new FrameParser();
  const frame = parser.frame;
  const seenLinkTypes = new Set<number>();
  let packetDiagnostics = 0;

  let need = 4;
  for (;;) {
    let ok: boolean;
    try {
      ok = await reader.fill(need);
    } catch (err) {
      // A damaged gzip stream: what was decoded so far stands.
      count('truncated');
      diagnostics?.warn({
        reason: 'truncated-capture',
        file: path,
        message: `capture cut short at ${where} ${reader.base + reader.end}: ${(err as Error).message}`,
      });
      break;
    }
    if (!ok) {
      const left = reader.end - reader.start;
      if (left > 0) {
        count('truncated');
        diagnostics?.warn({
          reason: 'truncated-capture',
          file: path,
          message: `capture cut short at ${where} ${reader.base + reader.start}: the record there needs ${need} bytes, ${left} remain`,
        });
      } else if (stats.packets === 0 && reader.base === 0) {
        count('not-a-capture');
        diagnostics?.skip({ reason: 'not-a-capture', file: path, message: 'empty file, not a pcap or pcapng capture' });
      }
      break;
    }
    const buf = reader.buf;
    let stop = false;
    for (;;) {
      parser.fileOffset = reader.base + reader.start;
      const r = parser.next(buf, reader.start, reader.end);
      if (r.kind === 'need') {
        need = r.bytes;
        break;
      }
      if (r.kind === 'stop') {
        count(r.reason);
        diagnostics?.skip({
          reason: r.reason,
          file: path,
          message: `stopped reading at ${where} ${reader.base + reader.start}: ${r.message}`,
        });
        stop = true;
        break;
      }
      reader.start += parser.consumed;
      if (r.kind === 'skip') {
        if (r.reason !== '') count(r.reason);
        continue;
      }
      stats.packets++;
      if (!seenLinkTypes.has(frame.linkType)) {
        seenLinkTypes.add(frame.linkType);
        stats.link_types.push(frame.linkType);
      }
      tracker.ts = frame.tsMs;
      tracker.frameNumber = frame.number;
      const reason = decoder.decode(frame.linkType, buf, frame.start, frame.end);
      if (reason !== '') {
        count(reason);
        if (DIAGNOSED.has(reason) && diagnostics !== undefined && packetDiagnostics++ < MAX_PACKET_DIAGNOSTICS) {
          diagnostics.warn({
            reason: `packet-${reason}`,
            file: path,
            message: `frame ${frame.number} at ${where} ${frame.fileOffset}: ${reason} packet skipped`,
          });
        }
      }
    }
    progress();
    if (tracker.items.length > 0) {
      const batch = tracker.items;
      tracker.items = [];
      yield batch;
    }
    if (stop) break;
  }
  progress();
  tracker.finish();
  if (tracker.items.length > 0) yield tracker.items;
}
