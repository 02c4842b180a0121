// TCP reassembly of one direction of one connection: orders segments by sequence number, drops
// retransmitted and overlapping bytes (first copy wins), holds out-of-order segments in a bounded
// buffer and stops after a byte budget (TLS handshakes are at the start of a stream).

/** Signed distance a − b in 32-bit sequence space. */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/** A fresh copy (Buffer#slice would share memory with the read buffer, which is reused). */
export function copyBytes(view: Uint8Array): Uint8Array {
  const out = new Uint8Array(view.length);
  out.set(view);
  return out;
}

interface Pending {
  seq: number;
  data: Uint8Array;
}

/** Outcome of `TcpDirection.segment` besides the delivered bytes. */
export type SegmentNote = '' | 'tcp-retransmission' | 'tcp-reassembly-overflow' | 'tcp-budget-exhausted';

/** Reassembles one direction of a TCP connection. */
export class TcpDirection {
  /** Next expected sequence number, or -1 before the first SYN / data segment. */
  nextSeq = -1;
  /** Bytes handed out so far. */
  delivered = 0;
  /** Set once `maxBytes` have been delivered; later data is ignored. */
  exhausted = false;
  private pending: Pending[] = [];
  private pendingBytes = 0;
  private readonly maxBytes: number;
  private readonly maxPendingBytes: number;

  constructor(maxBytes: number, maxPendingBytes: number) {
    this.maxBytes = maxBytes;
    this.maxPendingBytes = maxPendingBytes;
  }

  /** Bytes held out of order. */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  /** Sets the next expected sequence number if nothing fixed it yet (from the peer's SYN-ACK). */
  expect(seq: number): void {
    if (this.nextSeq === -1) this.nextSeq = seq >>> 0;
  }

  /**
   * Feed one segment (`payload` is a view into the packet; it is copied when kept). `emit` is called
   * with each newly contiguous run of bytes, in order.
   */
  segment(seq: number, syn: boolean, payload: Uint8Array, emit: (data: Uint8Array) => void): SegmentNote {
    if (syn) {
      seq = (seq + 1) >>> 0;
      if (this.nextSeq === -1) this.nextSeq = seq;
    }
    if (payload.length === 0) return '';
    if (this.exhausted) return 'tcp-budget-exhausted';
    if (this.nextSeq === -1) this.nextSeq = seq; // picked up mid-stream
    const rel = seqDiff(seq, this.nextSeq);
    if (rel + payload.length <= 0) return 'tcp-retransmission';
    if (rel > 0) {
      if (this.pendingBytes + payload.length > this.maxPendingBytes) return 'tcp-reassembly-overflow';
      this.insertPending(seq, copyBytes(payload));
      return '';
    }
    this.deliver(payload.subarray(-rel), true, emit);
    this.drain(emit);
    return rel < 0 ? 'tcp-retransmission' : '';
  }

  private deliver(bytes: Uint8Array, copy: boolean, emit: (data: Uint8Array) => void): void {
    const room = this.maxBytes - this.delivered;
    const take = Math.min(room, bytes.length);
    this.nextSeq = (this.nextSeq + bytes.length) >>> 0;
    if (take > 0) {
      const part = take === bytes.length ? bytes : bytes.subarray(0, take);
      emit(copy ? copyBytes(part) : part);
      this.delivered += take;
    }
    if (this.delivered >= this.maxBytes) {
      this.exhausted = true;
      this.pending = [];
      this.pendingBytes = 0;
    }
  }

  private insertPending(seq: number, data: Uint8Array): void {
    const list = this.pending;
    let i = list.length;
    while (i > 0 && seqDiff(list[i - 1].seq, seq) > 0) i--;
    list.splice(i, 0, { seq, data });
    this.pendingBytes += data.length;
  }

  private drain(emit: (data: Uint8Array) => void): void {
    const list = this.pending;
    while (list.length > 0 && !this.exhausted) {
      const head = list[0];
      const rel = seqDiff(head.seq, this.nextSeq);
      if (rel > 0) return;
      list.shift();
      this.pendingBytes -= head.data.length;
      if (rel + head.data.length > 0) this.deliver(head.data.subarray(-rel), false, emit);
    }
  }
}
