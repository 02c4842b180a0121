// Parsers for the handshake messages certsignal reads in the clear: ClientHello, ServerHello
// (TLS 1.0–1.3 and DTLS 1.0/1.2/1.3) and Certificate (TLS ≤ 1.2 and the TLS 1.3 layout, which a
// caller only sees when it has decrypted the handshake). Lists keep GREASE values and wire order:
// the fingerprints decide what to drop.
import { ByteReader, isGrease, TlsParseError } from './bytes.ts';

/** One extension as sent: type and raw data. */
export interface TlsExtension {
  type: number;
  data: Uint8Array;
}

/** A parsed ClientHello. Lists are in wire order and include GREASE values. */
export interface ClientHello {
  /** The ClientHello's own version field (0x0303 for TLS 1.2 and 1.3; 0xfefd for DTLS 1.2). */
  legacy_version: number;
  /** Highest version offered: the best non-GREASE supported_versions entry, else legacy_version. */
  version: number;
  cipher_suites: number[];
  extensions: TlsExtension[];
  /** First host_name in server_name, or null. */
  sni: string | null;
  /** ALPN protocol names, each byte as one latin-1 character. */
  alpn: string[];
  supported_groups: number[];
  ec_point_formats: number[];
  signature_algorithms: number[];
  supported_versions: number[];
}

/** A parsed ServerHello (or HelloRetryRequest, which shares its layout). */
export interface ServerHello {
  /** The ServerHello's own version field (0x0303 in TLS 1.3); JA3S uses it. */
  legacy_version: number;
  /** Negotiated version: supported_versions when present (TLS 1.3), else legacy_version. */
  version: number;
  cipher_suite: number;
  extensions: TlsExtension[];
  /** The selected ALPN protocol, or null. */
  alpn: string | null;
  /** True for a TLS 1.3 HelloRetryRequest (the special random of RFC 8446 §4.1.3). */
  hello_retry_request: boolean;
}

/** Extension type numbers used here. */
export const ExtensionType = {
  SERVER_NAME: 0x0000,
  SUPPORTED_GROUPS: 0x000a,
  EC_POINT_FORMATS: 0x000b,
  SIGNATURE_ALGORITHMS: 0x000d,
  ALPN: 0x0010,
  SUPPORTED_VERSIONS: 0x002b,
} as const;

// SHA-256("HelloRetryRequest"), the fixed ServerHello.random of a HelloRetryRequest.
const HRR_RANDOM = Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex');

/** True for DTLS version numbers (0xfeff DTLS 1.0, 0xfefd DTLS 1.2, 0xfefc DTLS 1.3). */
export function isDtlsVersion(version: number): boolean {
  return version >> 8 === 0xfe;
}

/** Orders versions by recency: TLS by value, DTLS by inverted value (DTLS numbers count down). */
function versionRank(version: number): number {
  return isDtlsVersion(version) ? 0x10000 + (0xffff - version) : version;
}

function readExtensions(r: ByteReader, what: string): TlsExtension[] {
  const extensions: TlsExtension[] = [];
  if (r.remaining === 0) return extensions; // extensions are optional before TLS 1.3
  const list = r.vector(2, 'extensions');
  while (list.remaining > 0) {
    const type = list.u16(`${what} extension type`);
    const length = list.u16(`${what} extension length`);
    extensions.push({ type, data: list.take(length, `${what} extension 0x${type.toString(16)}`) });
  }
  return extensions;
}

function u16List(data: Uint8Array, lengthBytes: 1 | 2, what: string): number[] {
  const r = new ByteReader(data, what);
  const list = r.vector(lengthBytes, what);
  const out: number[] = [];
  while (list.remaining >= 2) out.push(list.u16(what));
  return out;
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

function parseSni(data: Uint8Array): string | null {
  const list = new ByteReader(data, 'server_name').vector(2, 'server_name_list');
  while (list.remaining > 0) {
    const nameType = list.u8('name_type');
    const name = list.vector(2, 'host_name');
    if (nameType === 0) return latin1(name.take(name.remaining, 'host_name'));
  }
  return null;
}

/** ALPN protocol names as raw bytes, in order (RFC 7301 §3.1). */
export function alpnNames(data: Uint8Array): Uint8Array[] {
  const list = new ByteReader(data, 'alpn').vector(2, 'protocol_name_list');
  const out: Uint8Array[] = [];
  while (list.remaining > 0) {
    const name = list.vector(1, 'protocol_name');
    out.push(name.take(name.remaining, 'protocol_name'));
  }
  return out;
}

/**
 * Parses a ClientHello body (the handshake message without its 4-byte header). A DTLS
 * ClientHello (version 0xfeXX) carries a cookie, which is skipped.
 * Malformed contents of a known extension leave the derived field empty; the raw extension stays.
 * @throws TlsParseError when the fixed fields or the extension list are truncated or inconsistent.
 */
export function parseClientHello(body: Uint8Array): ClientHello {
  const r = new ByteReader(body, 'ClientHello');
  const legacyVersion = r.u16('legacy_version');
  r.skip(32, 'random');
  const sessionId = r.vector(1, 'legacy_session_id');
  if (sessionId.remaining > 32) throw new TlsParseError('bad-session-id', 'ClientHello: session id longer than 32 bytes');
  if (isDtlsVersion(legacyVersion)) r.vector(1, 'cookie');
  const suites = r.vector(2, 'cipher_suites');
  if (suites.remaining % 2 !== 0) throw new TlsParseError('bad-cipher-suites', 'ClientHello: odd cipher_suites length');
  const cipherSuites: number[] = [];
  while (suites.remaining > 0) cipherSuites.push(suites.u16('cipher_suite'));
  r.vector(1, 'legacy_compression_methods');
  const extensions = readExtensions(r, 'ClientHello');

  const hello: ClientHello = {
    legacy_version: legacyVersion,
    version: legacyVersion,
    cipher_suites: cipherSuites,
    extensions,
    sni: null,
    alpn: [],
    supported_groups: [],
    ec_point_formats: [],
    signature_algorithms: [],
    supported_versions: [],
  };
  for (const ext of extensions) {
    try {
      switch (ext.type) {
        case ExtensionType.SERVER_NAME:
          hello.sni = parseSni(ext.data);
          break;
        case ExtensionType.ALPN:
          hello.alpn = alpnNames(ext.data).map(latin1);
          break;
        case ExtensionType.SUPPORTED_GROUPS:
          hello.supported_groups = u16List(ext.data, 2, 'supported_groups');
          break;
        case ExtensionType.EC_POINT_FORMATS: {
          const list = new ByteReader(ext.data, 'ec_point_formats').vector(1, 'ec_point_format_list');
          hello.ec_point_formats = Array.from(list.take(list.remaining, 'ec_point_formats'));
          break;
        }
        case ExtensionType.SIGNATURE_ALGORITHMS:
          hello.signature_algorithms = u16List(ext.data, 2, 'signature_algorithms');
          break;
        case ExtensionType.SUPPORTED_VERSIONS:
          hello.supported_versions = u16List(ext.data, 1, 'supported_versions');
          break;
      }
    } catch (err) {
      if (!(err instanceof TlsParseError)) throw err;
    }
  }
  let best = -1;
  for (const v of hello.supported_versions) {
    if (!isGrease(v) && (best < 0 || versionRank(v) > versionRank(best))) best = v;
  }
  if (best >= 0) hello.version = best;
  return hello;
}

/**
 * Parses a ServerHello body (also a HelloRetryRequest).
 * @throws TlsParseError when truncated.
 */
export function parseServerHello(body: Uint8Array): ServerHello {
  const r = new ByteReader(body, 'ServerHello');
  const legacyVersion = r.u16('legacy_version');
  const random = r.take(32, 'random');
  r.vector(1, 'legacy_session_id_echo');
  const cipherSuite = r.u16('cipher_suite');
  r.u8('legacy_compression_method');
  const extensions = readExtensions(r, 'ServerHello');
  const hello: ServerHello = {
    legacy_version: legacyVersion,
    version: legacyVersion,
    cipher_suite: cipherSuite,
    extensions,
    alpn: null,
    hello_retry_request: Buffer.compare(random, HRR_RANDOM) === 0,
  };
  for (const ext of extensions) {
    try {
      if (ext.type === ExtensionType.SUPPORTED_VERSIONS && ext.data.length >= 2) {
        hello.version = (ext.data[0] << 8) | ext.data[1];
      } else if (ext.type === ExtensionType.ALPN) {
        const names = alpnNames(ext.data);
        hello.alpn = names.length > 0 ? latin1(names[0]) : null;
      }
    } catch (err) {
      if (!(err instanceof TlsParseError)) throw err;
    }
  }
  return hello;
}

/**
 * DER certificates of a Certificate message, leaf first. `tls13` selects the TLS 1.3 layout
 * (request context, then per-certificate extensions).
 * @throws TlsParseError when truncated or a certificate is empty.
 */
export function parseCertificateMessage(body: Uint8Array, tls13: boolean): Uint8Array[] {
  const r = new ByteReader(body, 'Certificate');
  if (tls13) r.vector(1, 'certificate_request_context');
  const list = r.vector(3, 'certificate_list');
  const certs: Uint8Array[] = [];
  while (list.remaining > 0) {
    const cert = list.vector(3, 'cert_data');
    if (cert.remaining === 0) throw new TlsParseError('empty-certificate', 'Certificate: zero-length certificate');
    certs.push(cert.take(cert.remaining, 'cert_data'));
    if (tls13) list.vector(2, 'certificate extensions');
  }
  return certs;
}
