// Test helper: builds TLS wire structures (hellos, extensions, handshake messages, records) from
// plain values, so parser and fingerprint tests start from bytes exactly as a peer sends them.

export function u16(n: number): number[] {
  return [(n >> 8) & 0xff, n & 0xff];
}
export function u24(n: number): number[] {
  return [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
}
function vec(lengthBytes: 1 | 2 | 3, body: number[]): number[] {
  const len = lengthBytes === 1 ? [body.length] : lengthBytes === 2 ? u16(body.length) : u24(body.length);
  return [...len, ...body];
}

export interface WireExtension {
  type: number;
  data: number[];
}
export const ext = {
  sni: (host: string): WireExtension => ({ type: 0, data: vec(2, [0, ...vec(2, [...Buffer.from(host)])]) }),
  alpn: (...names: (string | number[])[]): WireExtension => ({
    type: 16,
    data: vec(
      2,
      names.flatMap((n) => vec(1, typeof n === 'string' ? [...Buffer.from(n)] : n)),
    ),
  }),
  groups: (...g: number[]): WireExtension => ({ type: 10, data: vec(2, g.flatMap(u16)) }),
  pointFormats: (...f: number[]): WireExtension => ({ type: 11, data: vec(1, f) }),
  sigalgs: (...s: number[]): WireExtension => ({ type: 13, data: vec(2, s.flatMap(u16)) }),
  versions: (...v: number[]): WireExtension => ({ type: 43, data: vec(1, v.flatMap(u16)) }),
  serverVersion: (v: number): WireExtension => ({ type: 43, data: u16(v) }),
  empty: (type: number): WireExtension => ({ type, data: [] }),
};

function extensionBlock(extensions: WireExtension[] | null): number[] {
  if (extensions === null) return [];
  return vec(
    2,
    extensions.flatMap((e) => [...u16(e.type), ...vec(2, e.data)]),
  );
}

/** A ClientHello body (no handshake header). `extensions: null` omits the block (pre-TLS 1.0 style). */
export function clientHelloBody(o: {
  version?: number;
  ciphers: number[];
  extensions: WireExtension[] | null;
  cookie?: number[];
}): Uint8Array {
  const version = o.version ?? 0x0303;
  const dtls = version >> 8 === 0xfe;
  return Uint8Array.from([
    ...u16(version),
    ...new Array(32).fill(7),
    ...vec(1, [1, 2, 3, 4]),
    ...(dtls ? vec(1, o.cookie ?? []) : []),
    ...vec(2, o.ciphers.flatMap(u16)),
    ...vec(1, [0]),
    ...extensionBlock(o.extensions),
  ]);
}

/** A ServerHello body. */
export function serverHelloBody(o: {
  version?: number;
  cipher: number;
  extensions: WireExtension[] | null;
  random?: number[];
}): Uint8Array {
  return Uint8Array.from([
    ...u16(o.version ?? 0x0303),
    ...(o.random ?? new Array(32).fill(9)),
    ...vec(1, [5, 6]),
    ...u16(o.cipher),
    0,
    ...extensionBlock(o.extensions),
  ]);
}

/** A Certificate message body: TLS ≤ 1.2 layout, or TLS 1.3 (context + per-entry extensions). */
export function certificateBody(certs: Uint8Array[], tls13 = false): Uint8Array {
  const entries = certs.flatMap((c) => [...vec(3, [...c]), ...(tls13 ? vec(2, []) : [])]);
  return Uint8Array.from([...(tls13 ? vec(1, []) : []), ...vec(3, entries)]);
}

/** A handshake message: type, 3-byte length, body. */
export function handshake(type: number, body: Uint8Array): Uint8Array {
  return Uint8Array.from([type, ...u24(body.length), ...body]);
}

/** A TLS record. */
export function record(contentType: number, payload: Uint8Array, version = 0x0301): Uint8Array {
  return Uint8Array.from([contentType, ...u16(version), ...u16(payload.length), ...payload]);
}

/** A DTLS record carrying one handshake fragment. */
export function dtlsHandshakeRecord(o: {
  type: number;
  body: Uint8Array;
  messageSeq: number;
  offset: number;
  length: number;
  epoch?: number;
  recordSeq?: number;
}): Uint8Array {
  const fragment = o.body.subarray(o.offset, o.offset + o.length);
  const payload = [o.type, ...u24(o.body.length), ...u16(o.messageSeq), ...u24(o.offset), ...u24(fragment.length), ...fragment];
  return Uint8Array.from([
    22,
    0xfe,
    0xfd,
    ...u16(o.epoch ?? 0),
    0,
    0,
    0,
    0,
    ...u16(o.recordSeq ?? 0),
    ...u16(payload.length),
    ...payload,
  ]);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}
