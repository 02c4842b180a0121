// pcap and pcapng framing: turns the bytes of a capture file into frames (link type, timestamp,
// captured bytes). Synchronous and allocation-free per frame; the caller owns the byte buffer and
// refills it when a record is incomplete.

/** One frame as found in the file. Reused between calls: copy what you keep. */
export interface Frame {
  /** 1-based frame number, as tshark counts them. */
  number: number;
  linkType: number;
  /** Epoch milliseconds. */
  tsMs: number;
  /** Offsets of the captured bytes in the buffer passed to `next`. */
  start: number;
  end: number;
  /** Length of the packet on the wire (≥ captured length when the snaplen cut it). */
  origLen: number;
  /** File offset of the record that held this frame. */
  fileOffset: number;
}

/** Result of `FrameParser.next`: a frame, or how many bytes are needed, or why reading stops. */
export type NextResult =
  | { kind: 'frame' }
  | { kind: 'need'; bytes: number }
  | { kind: 'skip'; reason: string }
  | { kind: 'stop'; reason: string; message: string };

interface Interface {
  linkType: number;
  snapLen: number;
  /** Timestamp units per millisecond (a divisor: exact for decimal resolutions). */
  unitsPerMs: number;
  offsetSec: number;
}

const FRAME: NextResult = { kind: 'frame' };
const PCAPNG_SHB = 0x0a0d0d0a;
/** Larger records than this are taken as corruption (tshark's own limit is 256 KiB for most link types). */
const MAX_RECORD_BYTES = 16 * 1024 * 1024;
const TWO_32 = 4294967296;

/** Which container a file is, from its first four bytes. */
export function sniffFormat(head: Uint8Array): 'pcap' | 'pcapng' | 'gzip' | null {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length < 4) return null;
  const le = (head[0] | (head[1] << 8) | (head[2] << 16) | (head[3] << 24)) >>> 0;
  if (le === PCAPNG_SHB) return 'pcapng';
  switch (le) {
    case 0xa1b2c3d4:
    case 0xd4c3b2a1:
    case 0xa1b23c4d:
    case 0x4d3cb2a1:
    case 0xa1b2cd34:
    case 0x34cdb2a1:
      return 'pcap';
  }
  return null;
}

/**
 * Incremental pcap / pcapng record parser. Call `next(buf, pos, end)` with the unread bytes; on
 * `frame` the fields of `frame` are set and `consumed` says how many bytes the record took.
 */
export class FrameParser {
  readonly frame: Frame = { number: 0, linkType: 0, tsMs: 0, start: 0, end: 0, origLen: 0, fileOffset: 0 };
  /** Bytes taken by the last record (frame, skipped block or header). */
  consumed = 0;
  private format: 'pcap' | 'pcapng' | null = null;
  private littleEndian = true;
  // pcap
  private headerDone = false;
  private pcapRecordBytes = 16;
  private pcapUnitsPerMs = 1000;
  private pcapLinkType = 0;
  // pcapng
  private interfaces: Interface[] = [];

  /** File offset of `buf[pos]`, maintained by the caller, used in frame.fileOffset. */
  fileOffset = 0;

  /** Parse the next record in `buf[pos, end)`. */
  next(buf: Buffer, pos: number, end: number): NextResult {
    this.consumed = 0;
    if (this.format === null) {
      if (end - pos < 4) return { kind: 'need', bytes: 4 };
      const f = sniffFormat(buf.subarray(pos, pos + 4));
      if (f === null || f === 'gzip') return { kind: 'stop', reason: 'not-a-capture', message: 'not a pcap or pcapng file' };
      this.format = f;
    }
    return this.format === 'pcap' ? this.nextPcap(buf, pos, end) : this.nextPcapng(buf, pos, end);
  }

  private u32(buf: Buffer, at: number): number {
    return this.littleEndian ? buf.readUInt32LE(at) : buf.readUInt32BE(at);
  }

  private u16(buf: Buffer, at: number): number {
    return this.littleEndian ? buf.readUInt16LE(at) : buf.readUInt16BE(at);
  }

  private nextPcap(buf: Buffer, pos: number, end: number): NextResult {
    if (!this.headerDone) {
      if (end - pos < 24) return { kind: 'need', bytes: 24 };
      const magic = buf.readUInt32LE(pos);
      this.littleEndian = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d || magic === 0xa1b2cd34;
      const m = this.u32(buf, pos);
      this.pcapUnitsPerMs = m === 0xa1b23c4d ? 1e6 : 1000;
      this.pcapRecordBytes = m === 0xa1b2cd34 ? 24 : 16;
      this.pcapLinkType = this.u32(buf, pos + 20) & 0x0fffffff;
      this.headerDone = true;
      this.consumed = 24;
      return { kind: 'skip', reason: '' };
    }
    const hdr = this.pcapRecordBytes;
    if (end - pos < hdr) return { kind: 'need', bytes: hdr };
    const capLen = this.u32(buf, pos + 8);
    const origLen = this.u32(buf, pos + 12);
    if (capLen > MAX_RECORD_BYTES) {
      return { kind: 'stop', reason: 'corrupt-capture', message: `record claims ${capLen} captured bytes` };
    }
    if (end - pos < hdr + capLen) return { kind: 'need', bytes: hdr + capLen };
    const f = this.frame;
    f.number++;
    f.linkType = this.pcapLinkType;
    f.tsMs = this.u32(buf, pos) * 1000 + this.u32(buf, pos + 4) / this.pcapUnitsPerMs;
    f.start = pos + hdr;
    f.end = pos + hdr + capLen;
    f.origLen = origLen;
    f.fileOffset = this.fileOffset;
    this.consumed = hdr + capLen;
    return FRAME;
  }

  private nextPcapng(buf: Buffer, pos: number, end: number): NextResult {
    if (end - pos < 12) return { kind: 'need', bytes: 12 };
    const rawType = buf.readUInt32LE(pos);
    if (rawType === PCAPNG_SHB) {
      const bom = buf.readUInt32LE(pos + 8);
      if (bom === 0x1a2b3c4d) this.littleEndian = true;
      else if (bom === 0x4d3c2b1a) this.littleEndian = false;
      else return { kind: 'stop', reason: 'corrupt-capture', message: 'pcapng section header has no byte-order magic' };
    }
    const type = this.u32(buf, pos);
    const total = this.u32(buf, pos + 4);
    if (total < 12 || total % 4 !== 0 || total > MAX_RECORD_BYTES) {
      return {
        kind: 'stop',
        reason: 'corrupt-capture',
        message: `pcapng block of type 0x${type.toString(16)} has invalid length ${total}`,
      };
    }
    if (end - pos < total) return { kind: 'need', bytes: total };
    this.consumed = total;
    const bodyEnd = pos + total - 4;
    switch (type) {
      case PCAPNG_SHB:
        this.interfaces = [];
        return { kind: 'skip', reason: '' };
      case 1: {
        if (total < 20) return { kind: 'skip', reason: 'malformed-block' };
        const iface: Interface = {
          linkType: this.u16(buf, pos + 8),
          snapLen: this.u32(buf, pos + 12),
          unitsPerMs: 1000,
          offsetSec: 0,
        };
        this.readInterfaceOptions(buf, pos + 16, bodyEnd, iface);
        this.interfaces.push(iface);
        return { kind: 'skip', reason: '' };
      }
      case 6:
      case 2: {
        if (total < 32) return { kind: 'skip', reason: 'malformed-block' };
        const ifaceId = type === 6 ? this.u32(buf, pos + 8) : this.u16(buf, pos + 8);
        const capLen = this.u32(buf, pos + 20);
        if (pos + 28 + capLen > bodyEnd) return { kind: 'skip', reason: 'malformed-block' };
        const iface = this.interfaces[ifaceId];
        if (iface === undefined) return { kind: 'skip', reason: 'unknown-interface' };
        this.setFrame(iface, pos + 28, capLen, this.u32(buf, pos + 24), this.u32(buf, pos + 12), this.u32(buf, pos + 16));
        return FRAME;
      }
      case 3: {
        if (total < 16) return { kind: 'skip', reason: 'malformed-block' };
        const iface = this.interfaces[0];
        if (iface === undefined) return { kind: 'skip', reason: 'unknown-interface' };
        const origLen = this.u32(buf, pos + 8);
        let capLen = Math.min(origLen, total - 16);
        if (iface.snapLen > 0) capLen = Math.min(capLen, iface.snapLen);
        // A simple packet block has no timestamp.
        this.setFrame(iface, pos + 12, capLen, origLen, 0, 0);
        this.frame.tsMs = 0;
        return FRAME;
      }
      default:
        return { kind: 'skip', reason: '' };
    }
  }

  private setFrame(iface: Interface, dataPos: number, capLen: number, origLen: number, tsHigh: number, tsLow: number): void {
    const f = this.frame;
    f.number++;
    f.linkType = iface.linkType;
    f.tsMs = (tsHigh * TWO_32 + tsLow) / iface.unitsPerMs + iface.offsetSec * 1000;
    f.start = dataPos;
    f.end = dataPos + capLen;
    f.origLen = origLen;
    f.fileOffset = this.fileOffset;
  }

  private readInterfaceOptions(buf: Buffer, at: number, end: number, iface: Interface): void {
    while (at + 4 <= end) {
      const code = this.u16(buf, at);
      const len = this.u16(buf, at + 2);
      const value = at + 4;
      if (code === 0 || value + len > end) return;
      if (code === 9 && len >= 1) {
        const r = buf[value];
        const unitsPerSec = r & 0x80 ? 2 ** (r & 0x7f) : 10 ** r;
        iface.unitsPerMs = unitsPerSec / 1000;
      } else if (code === 14 && len >= 8) {
        const hi = this.littleEndian ? buf.readInt32LE(value + 4) : buf.readInt32BE(value);
        const lo = this.littleEndian ? buf.readUInt32LE(value) : buf.readUInt32BE(value + 4);
        iface.offsetSec = hi * TWO_32 + lo;
      }
      at = value + ((len + 3) & ~3);
    }
  }
}
