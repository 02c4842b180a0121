// NDJSON sink: one JSON object per line to a writable stream (stdout for `--output json`),
// honouring backpressure so no alert is lost when the reader is slow.
import type { Writable } from 'node:stream';

export class NdjsonWriter {
  private readonly out: Writable;
  private buffer: string[] = [];
  private bytes = 0;
  private closed = false;
  written = 0;

  constructor(out: Writable) {
    this.out = out;
    out.on('error', (err: NodeJS.ErrnoException) => {
      // A closed pipe (`| head`) is the reader's choice, not an error of ours.
      if (err.code === 'EPIPE') this.closed = true;
      else throw err;
    });
  }

  write(record: unknown): void {
    if (this.closed) return;
    const line = `${JSON.stringify(record)}\n`;
    this.buffer.push(line);
    this.bytes += line.length;
    this.written++;
    if (this.bytes >= 64 * 1024) this.flushSync();
  }

  private flushSync(): void {
    if (this.buffer.length === 0 || this.closed) return;
    this.out.write(this.buffer.join(''));
    this.buffer = [];
    this.bytes = 0;
  }

  /** Flush and wait until the stream has taken everything. */
  async flush(): Promise<void> {
    this.flushSync();
    if (this.closed) return;
    if (this.out.writableNeedDrain) await new Promise<void>((resolve) => this.out.once('drain', () => resolve()));
  }
}
