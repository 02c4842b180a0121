// Bounds-checked big-endian reader over TLS wire structures, and the coded error that every
// TLS parser in this folder throws when the bytes do not hold the structure they claim to.

/** Why a TLS structure could not be parsed. `reason` is a short stable code for counting. */
export class TlsParseError extends Error {
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(message);
    this.name = 'TlsParseError';
    this.reason = reason;
  }
}

/** Sequential reader over a byte slice; every read checks the remaining length first. */
export class ByteReader {
  readonly bytes: Uint8Array;
  pos: number;
  readonly end: number;
  private readonly what: string;

  constructor(bytes: Uint8Array, what: string, start = 0, end = bytes.length) {
    this.bytes = bytes;
    this.pos = start;
    this.end = end;
    this.what = what;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number, field: string): void {
    if (this.end - this.pos < n) {
      throw new TlsParseError('truncated', `${this.what}: ${field} needs ${n} bytes, ${this.end - this.pos} left`);
    }
  }

  u8(field: string): number {
    this.need(1, field);
    return this.bytes[this.pos++];
  }

  u16(field: string): number {
    this.need(2, field);
    const v = (this.bytes[this.pos] << 8) | this.bytes[this.pos + 1];
    this.pos += 2;
    return v;
  }

  u24(field: string): number {
    this.need(3, field);
    const b = this.bytes;
    const v = (b[this.pos] << 16) | (b[this.pos + 1] << 8) | b[this.pos + 2];
    this.pos += 3;
    return v;
  }

  skip(n: number, field: string): void {
    this.need(n, field);
    this.pos += n;
  }

  /** A view (no copy) of the next n bytes. */
  take(n: number, field: string): Uint8Array {
    this.need(n, field);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** A sub-reader over a vector whose length prefix is `lengthBytes` (1, 2 or 3) long. */
  vector(lengthBytes: 1 | 2 | 3, field: string): ByteReader {
    const n = lengthBytes === 1 ? this.u8(field) : lengthBytes === 2 ? this.u16(field) : this.u24(field);
    this.need(n, field);
    const sub = new ByteReader(this.bytes, `${this.what} ${field}`, this.pos, this.pos + n);
    this.pos += n;
    return sub;
  }
}

/** RFC 8701 GREASE value: 0x?A?A with both bytes equal (0x0a0a, 0x1a1a, … 0xfafa). */
export function isGrease(value: number): boolean {
  return (value & 0x0f0f) === 0x0a0a && value >> 8 === (value & 0xff);
}

const HEX4: string[] = [];
/** A 16-bit value as 4 lower-case hex digits (cached: the hot path formats the same few values). */
export function hex4(value: number): string {
  if (HEX4.length === 0) for (let i = 0; i < 0x10000; i++) HEX4.push(i.toString(16).padStart(4, '0'));
  return HEX4[value & 0xffff];
}

/** Lower-case hex of a byte slice. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
