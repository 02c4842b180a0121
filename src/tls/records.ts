// Incremental TLS / DTLS record-layer reader for one direction of one connection: takes bytes as
// they arrive (records split across chunks, many records per chunk), reassembles handshake
// messages (several per record, or one spread over several records / DTLS fragments) and notes
// when the direction turns encrypted, so the caller can say "certificates encrypted" instead of
// guessing. Bad or non-TLS bytes stop the reader with a reason; they never throw.

/** One complete handshake message: type (1 = ClientHello, 2 = ServerHello, 11 = Certificate, …) and body. */
export interface HandshakeMessage {
  type: number;
  body: Uint8Array;
}

/** TLS record content types (RFC 8446 §5.1). */
export const ContentType = {
  CHANGE_CIPHER_SPEC: 20,
  ALERT: 21,
  HANDSHAKE: 22,
  APPLICATION_DATA: 23,
  HEARTBEAT: 24,
} as const;

/** Handshake message types this project reads. */
export const HandshakeType = {
  CLIENT_HELLO: 1,
  SERVER_HELLO: 2,
  HELLO_VERIFY_REQUEST: 3,
  CERTIFICATE: 11,
  CERTIFICATE_REQUEST: 13,
  SERVER_HELLO_DONE: 14,
  CERTIFICATE_VERIFY: 15,
  CLIENT_KEY_EXCHANGE: 16,
  FINISHED: 20,
} as const;

/** Options for {@link HandshakeReader}. */
export interface HandshakeReaderOptions {
  /** Largest handshake message accepted (a certificate chain is the big one). Default 1 MiB. */
  maxMessageBytes?: number;
  /** How far into the direction to look for TLS behind a cleartext preamble (SOCKS, CONNECT). Default 4096. */
  maxPreambleBytes?: number;
}

/** Largest record the record layer allows: 2^14 plaintext + 2048 expansion (RFC 5246 §6.2.3). */
const MAX_RECORD_BYTES = 16384 + 2048;
const TLS_HEADER = 5;
const DTLS_HEADER = 13;
const DTLS_HS_HEADER = 12;
const EMPTY = new Uint8Array(0);
const NEED_MORE = -1;
const STOP = -2;

/** A DTLS handshake message being put together from fragments. */
interface DtlsPartial {
  type: number;
  body: Uint8Array;
  /** Sorted, merged [start, end) ranges received so far. */
  ranges: [number, number][];
}

/**
 * Incremental TLS / DTLS record and handshake-message reader for one direction.
 * DTLS is recognised by the record version (0xfeXX) of the first record; push one datagram at a time.
 */
export class HandshakeReader {
  /** True once a ChangeCipherSpec, an application-data record or a DTLS epoch > 0 record is seen. */
  encrypted = false;
  /**
   * Why the reader stopped, or null while it is reading: `not-tls`, `sslv2-hello` (an SSLv2 or
   * SSLv2-compatible hello: no TLS extensions, no fingerprint), `record-too-long`,
   * `handshake-too-large`, `bad-dtls-fragment`.
   */
  failure: string | null = null;
  /** 'tls' or 'dtls' once the first record header is seen. */
  protocol: 'tls' | 'dtls' | null = null;
  /** Record-layer version of the first record (0x0301 …, 0xfeff / 0xfefd for DTLS). */
  recordVersion: number | null = null;
  /** Cleartext bytes skipped before the first TLS record (a SOCKS / CONNECT preamble). */
  preambleBytes = 0;

  private readonly maxMessageBytes: number;
  private readonly maxPreambleBytes: number;
  private readonly complete: HandshakeMessage[] = [];
  /** Unconsumed record-layer bytes (a partial record). */
  private pending: Uint8Array = EMPTY;
  /** Unconsumed handshake-layer bytes (a partial TLS handshake message). */
  private handshakeBytes: Uint8Array = EMPTY;
  /** Set after application data: nothing more of interest can follow in this direction. */
  private finished = false;
  private readonly dtlsPartials = new Map<number, DtlsPartial>();
  private readonly dtlsDelivered = new Set<number>();

  constructor(options: HandshakeReaderOptions = {}) {
    this.maxMessageBytes = options.maxMessageBytes ?? 1 << 20;
    this.maxPreambleBytes = options.maxPreambleBytes ?? 4096;
  }

  /** Complete handshake messages so far, in arrival order (the same array grows as bytes arrive). */
  messages(): HandshakeMessage[] {
    return this.complete;
  }

  /** True when further bytes cannot produce more handshake messages (failure or application data). */
  get done(): boolean {
    return this.failure !== null || this.finished;
  }

  /** Feed the next bytes of this direction (a TCP chunk, or one UDP datagram for DTLS). */
  push(data: Uint8Array): void {
    if (this.done || data.length === 0) return;
    let buf = data;
    if (this.pending.length > 0) {
      buf = new Uint8Array(this.pending.length + data.length);
      buf.set(this.pending, 0);
      buf.set(data, this.pending.length);
    }
    let pos = 0;
    while (!this.done) {
      if (this.protocol === null) {
        const start = this.sniff(buf, pos);
        if (start === STOP) return;
        if (start === NEED_MORE) break;
        this.preambleBytes += start - pos;
        pos = start;
      }
      const header = this.protocol === 'dtls' ? DTLS_HEADER : TLS_HEADER;
      if (buf.length - pos < header) break;
      const type = buf[pos];
      const versionMajor = buf[pos + 1];
      if (type < ContentType.CHANGE_CIPHER_SPEC || type > ContentType.HEARTBEAT || !this.versionOk(versionMajor)) {
        this.fail('not-tls');
        return;
      }
      const length = (buf[pos + header - 2] << 8) | buf[pos + header - 1];
      if (length > MAX_RECORD_BYTES) {
        this.fail('record-too-long');
        return;
      }
      if (buf.length - pos < header + length) break;
      if (this.recordVersion === null) this.recordVersion = (versionMajor << 8) | buf[pos + 2];
      const payload = buf.subarray(pos + header, pos + header + length);
      const epoch = this.protocol === 'dtls' ? (buf[pos + 3] << 8) | buf[pos + 4] : 0;
      pos += header + length;
      this.record(type, payload, epoch);
    }
    // Keep only the unconsumed tail; copy it so a caller reusing its buffer cannot corrupt it.
    this.pending = pos >= buf.length || this.done ? EMPTY : buf.slice(pos);
  }

  /**
   * Finds where TLS starts: at `pos` (TLS, DTLS), or after a short cleartext preamble (a SOCKS or
   * HTTP CONNECT exchange before the tunnelled handshake). Returns the offset, NEED_MORE, or STOP.
   */
  private sniff(buf: Uint8Array, pos: number): number {
    if (buf.length - pos < 3) return NEED_MORE;
    const b0 = buf[pos];
    if ((b0 & 0x80) !== 0 && (buf[pos + 2] === 1 || buf[pos + 2] === 4)) {
      // SSLv2 record header (2-byte length with the high bit set) carrying CLIENT-HELLO (1) or SERVER-HELLO (4).
      this.fail('sslv2-hello');
      return STOP;
    }
    if (b0 >= ContentType.CHANGE_CIPHER_SPEC && b0 <= ContentType.HEARTBEAT) {
      if (buf[pos + 1] === 3) {
        this.protocol = 'tls';
        return pos;
      }
      if (buf[pos + 1] === 0xfe) {
        this.protocol = 'dtls';
        return pos;
      }
    }
    // Not TLS at the first byte: look for a handshake record carrying a hello within the preamble limit.
    const limit = Math.min(buf.length, pos + this.maxPreambleBytes - this.preambleBytes);
    for (let i = pos + 1; i + 10 <= limit; i++) {
      if (
        buf[i] === ContentType.HANDSHAKE &&
        buf[i + 1] === 3 &&
        buf[i + 2] <= 4 &&
        (buf[i + 5] === 1 || buf[i + 5] === 2) &&
        buf[i + 9] === 3
      ) {
        this.protocol = 'tls';
        return i;
      }
    }
    if (this.preambleBytes + (buf.length - pos) >= this.maxPreambleBytes) {
      this.fail('not-tls');
      return STOP;
    }
    return NEED_MORE;
  }

  private versionOk(major: number): boolean {
    return this.protocol === 'dtls' ? major === 0xfe : major === 3;
  }

  private fail(reason: string): void {
    this.failure = reason;
    this.pending = EMPTY;
    this.handshakeBytes = EMPTY;
  }

  private record(type: number, payload: Uint8Array, epoch: number): void {
    if (type === ContentType.CHANGE_CIPHER_SPEC) {
      this.encrypted = true;
      return;
    }
    if (type === ContentType.APPLICATION_DATA) {
      this.encrypted = true;
      this.finished = true;
      return;
    }
    if (type !== ContentType.HANDSHAKE) return; // alerts, heartbeats
    if (this.protocol === 'dtls') {
      if (epoch > 0) {
        this.encrypted = true;
        return;
      }
      this.dtlsHandshake(payload);
      return;
    }
    if (this.encrypted && this.handshakeBytes.length === 0 && !looksLikePlainHello(payload)) {
      // After ChangeCipherSpec, handshake records are encrypted (the TLS 1.2 Finished). The
      // plaintext exceptions are TLS 1.3's second ClientHello and the ServerHello after a
      // HelloRetryRequest, which RFC 8446 §D.4 lets follow a compatibility ChangeCipherSpec.
      return;
    }
    this.tlsHandshake(payload);
  }

  private tlsHandshake(payload: Uint8Array): void {
    let buf = payload;
    if (this.handshakeBytes.length > 0) {
      buf = new Uint8Array(this.handshakeBytes.length + payload.length);
      buf.set(this.handshakeBytes, 0);
      buf.set(payload, this.handshakeBytes.length);
    }
    let pos = 0;
    while (buf.length - pos >= 4) {
      const length = (buf[pos + 1] << 16) | (buf[pos + 2] << 8) | buf[pos + 3];
      if (length > this.maxMessageBytes) {
        this.fail('handshake-too-large');
        return;
      }
      if (buf.length - pos < 4 + length) break;
      // slice (copy) so a message body never aliases a caller-owned chunk.
      this.complete.push({ type: buf[pos], body: buf.slice(pos + 4, pos + 4 + length) });
      pos += 4 + length;
    }
    this.handshakeBytes = pos >= buf.length ? EMPTY : buf.slice(pos);
  }

  private dtlsHandshake(payload: Uint8Array): void {
    let pos = 0;
    while (payload.length - pos >= DTLS_HS_HEADER) {
      const p = payload;
      const type = p[pos];
      const length = (p[pos + 1] << 16) | (p[pos + 2] << 8) | p[pos + 3];
      const messageSeq = (p[pos + 4] << 8) | p[pos + 5];
      const offset = (p[pos + 6] << 16) | (p[pos + 7] << 8) | p[pos + 8];
      const fragmentLength = (p[pos + 9] << 16) | (p[pos + 10] << 8) | p[pos + 11];
      if (length > this.maxMessageBytes) {
        this.fail('handshake-too-large');
        return;
      }
      if (offset + fragmentLength > length || payload.length - pos - DTLS_HS_HEADER < fragmentLength) {
        this.fail('bad-dtls-fragment');
        return;
      }
      const fragment = p.subarray(pos + DTLS_HS_HEADER, pos + DTLS_HS_HEADER + fragmentLength);
      pos += DTLS_HS_HEADER + fragmentLength;
      if (this.dtlsDelivered.has(messageSeq)) continue; // retransmission
      let partial = this.dtlsPartials.get(messageSeq);
      if (!partial) {
        partial = { type, body: new Uint8Array(length), ranges: [] };
        this.dtlsPartials.set(messageSeq, partial);
      } else if (partial.type !== type || partial.body.length !== length) {
        this.fail('bad-dtls-fragment');
        return;
      }
      partial.body.set(fragment, offset);
      addRange(partial.ranges, offset, offset + fragmentLength);
      const r = partial.ranges;
      if (length === 0 || (r.length === 1 && r[0][0] === 0 && r[0][1] === length)) {
        this.complete.push({ type, body: partial.body });
        this.dtlsPartials.delete(messageSeq);
        this.dtlsDelivered.add(messageSeq);
      }
    }
  }
}

/** A whole or starting ClientHello / ServerHello in the clear: type 1 or 2 and a TLS 1.x legacy_version. */
function looksLikePlainHello(payload: Uint8Array): boolean {
  return payload.length >= 6 && (payload[0] === 1 || payload[0] === 2) && payload[4] === 3 && payload[5] <= 4;
}

/** Inserts [start, end) into sorted, merged ranges. */
function addRange(ranges: [number, number][], start: number, end: number): void {
  if (end <= start) return;
  ranges.push([start, end]);
  ranges.sort((a, b) => a[0] - b[0]);
  let w = 0;
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i][0] <= ranges[w][1]) ranges[w][1] = Math.max(ranges[w][1], ranges[i][1]);
    else ranges[++w] = ranges[i];
  }
  ranges.length = w + 1;
}
