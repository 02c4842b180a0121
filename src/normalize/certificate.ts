// Certificate parsing: bytes → CertInfo (digests, SPKI pin, RFC 4514 names, SANs, validity, key).
// A small DER walker reads exactly the fields certsignal needs straight from the bytes, so odd
// certificates (negative or huge serials, explicit-curve or ML-DSA keys, duplicate or unknown
// critical extensions) still parse, and the SPKI digest is taken over the certificate's own
// SubjectPublicKeyInfo bytes. Signatures are checked with node:crypto (`verifySignedData`).
// Parsing is the expensive step, so each distinct certificate is parsed once and cached.
import { constants, createHash, createPublicKey, verify as cryptoVerify, type KeyObject, X509Certificate } from 'node:crypto';
import type { CertInfo, SubjectAltNames } from '../schema/event.ts';
import { type DnAttribute, decodeDirectoryString, formatRdns } from './dn.ts';

// ---------------------------------------------------------------------------------------------
// DER reading

/** A DER element: tag byte, where its content starts/ends, and where the whole TLV starts/ends. */
export interface DerNode {
  tag: number;
  /** Offset of the tag byte. */
  start: number;
  /** Offset of the first content byte. */
  contentStart: number;
  /** Offset just past the content (= end of the TLV). */
  end: number;
}

/** Thrown by the DER reader; callers turn it into their own coded error. */
export class DerError extends Error {
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(message);
    this.reason = reason;
  }
}

/** Read one TLV at `pos` that must end by `limit`. Only single-byte tags (all X.509 needs). */
export function readDer(buf: Uint8Array, pos: number, limit: number = buf.length): DerNode {
  if (pos + 2 > limit) throw new DerError('truncated', `truncated DER at offset ${pos}`);
  const tag = buf[pos];
  if ((tag & 0x1f) === 0x1f) throw new DerError('malformed', `multi-byte tag at offset ${pos}`);
  let len = buf[pos + 1];
  let off = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0) throw new DerError('malformed', `indefinite length at offset ${pos}`);
    if (n > 4) throw new DerError('malformed', `length of ${n} octets at offset ${pos}`);
    if (off + n > limit) throw new DerError('truncated', `truncated length at offset ${pos}`);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[off + i];
    off += n;
  }
  const end = off + len;
  if (end > limit) throw new DerError('truncated', `element at offset ${pos} runs past its container (${end} > ${limit})`);
  return { tag, start: pos, contentStart: off, end };
}

/** Children of a constructed element. */
export function derChildren(buf: Uint8Array, node: DerNode): DerNode[] {
  const out: DerNode[] = [];
  let pos = node.contentStart;
  while (pos < node.end) {
    const child = readDer(buf, pos, node.end);
    out.push(child);
    pos = child.end;
  }
  return out;
}

function expectTag(node: DerNode | undefined, tag: number, what: string): DerNode {
  if (!node) throw new DerError('malformed', `${what} missing`);
  if (node.tag !== tag) {
    throw new DerError(
      'malformed',
      `${what}: expected tag 0x${tag.toString(16)}, got 0x${node.tag.toString(16)} at offset ${node.start}`,
    );
  }
  return node;
}

const oidCache = new Map<string, string>();

/** Dotted OID from an OBJECT IDENTIFIER's content (memoised: certificates repeat a few dozen OIDs). */
export function decodeOid(buf: Uint8Array, node: DerNode): string {
  if (node.tag !== 0x06) throw new DerError('malformed', `expected OID at offset ${node.start}`);
  const key = Buffer.from(buf.buffer, buf.byteOffset + node.contentStart, node.end - node.contentStart).toString('latin1');
  const known = oidCache.get(key);
  if (known !== undefined) return known;
  const parts: string[] = [];
  let value = 0n;
  let first = true;
  for (let i = node.contentStart; i < node.end; i++) {
    const b = buf[i];
    value = (value << 7n) | BigInt(b & 0x7f);
    if ((b & 0x80) === 0) {
      if (first) {
        const a = value < 80n ? value / 40n : 2n;
        parts.push(String(a), String(value - a * 40n));
        first = false;
      } else {
        parts.push(String(value));
      }
      value = 0n;
    }
  }
  if (parts.length === 0) throw new DerError('malformed', `empty OID at offset ${node.start}`);
  const oid = parts.join('.');
  if (oidCache.size < 4096) oidCache.set(key, oid);
  return oid;
}

function hex(buf: Uint8Array, start: number, end: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('hex');
}

/**
 * Canonical serial from a DER INTEGER's content octets: lowercase hex without leading zeros
 * ("0" for zero); negative serials as `-` + magnitude, the way OpenSSL, Zeek and nginx print them.
 */
export function serialFromInteger(content: Uint8Array): string {
  if (content.length === 0) return '0';
  if (content[0] & 0x80) {
    // two's complement negative
    let v = BigInt(`0x${Buffer.from(content).toString('hex')}`);
    v -= 1n << BigInt(content.length * 8);
    return `-${(-v).toString(16)}`;
  }
  const h = Buffer.from(content)
    .toString('hex')
    .replace(/^0+(?=.)/, '');
  return h;
}

function decodeTime(buf: Uint8Array, node: DerNode): string {
  const s = Buffer.from(buf.buffer, buf.byteOffset + node.contentStart, node.end - node.contentStart).toString('latin1');
  let m: RegExpExecArray | null;
  let year: number;
  let rest: string;
  if (node.tag === 0x17) {
    m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(Z|[+-]\d{4})$/.exec(s);
    if (!m) throw new DerError('bad-time', `bad UTCTime "${s}"`);
    const yy = Number(m[1]);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
    rest = '';
  } else if (node.tag === 0x18) {
    m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(?:[.,](\d+))?(Z|[+-]\d{4})?$/.exec(s);
    if (!m) throw new DerError('bad-time', `bad GeneralizedTime "${s}"`);
    year = Number(m[1]);
    rest = m[7] ?? '';
  } else {
    throw new DerError('bad-time', `expected a time at offset ${node.start}`);
  }
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = m[6] ? Number(m[6]) : 0;
  const zone = node.tag === 0x17 ? m[7] : (m[8] ?? 'Z');
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    throw new DerError('bad-time', `time out of range "${s}"`);
  }
  let ms = Date.UTC(year, month - 1, day, hour, minute, Math.min(second, 59), rest ? Math.floor(Number(`0.${rest}`) * 1000) : 0);
  if (year < 100) ms = new Date(ms).setUTCFullYear(year);
  if (zone !== 'Z') {
    const sign = zone[0] === '+' ? 1 : -1;
    ms -= sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5))) * 60_000;
  }
  return new Date(ms).toISOString();
}

/** Read a DER time (UTCTime or GeneralizedTime) as ISO 8601 UTC. Throws DerError('bad-time'). */
export function readDerTime(buf: Uint8Array, node: DerNode): string {
  return decodeTime(buf, node);
}

/** Decode a Name (SEQUENCE OF RDN) to canonical RFC 4514 text. */
export function decodeName(buf: Uint8Array, node: DerNode): string {
  if (node.tag !== 0x30) throw new DerError('malformed', `expected Name at offset ${node.start}`);
  const rdns: DnAttribute[][] = [];
  for (const set of derChildren(buf, node)) {
    if (set.tag !== 0x31) throw new DerError('malformed', `expected RDN SET at offset ${set.start}`);
    const attrs: DnAttribute[] = [];
    for (const atv of derChildren(buf, set)) {
      const [typeNode, valueNode] = derChildren(buf, expectTag(atv, 0x30, 'AttributeTypeAndValue'));
      if (!typeNode || !valueNode) throw new DerError('malformed', `incomplete attribute at offset ${atv.start}`);
      const oid = decodeOid(buf, typeNode);
      const value = decodeDirectoryString(valueNode.tag, buf.subarray(valueNode.contentStart, valueNode.end));
      attrs.push({ oid, value, derHex: hex(buf, valueNode.start, valueNode.end) });
    }
    rdns.push(attrs);
  }
  return formatRdns(rdns);
}

// ---------------------------------------------------------------------------------------------
// Public types

export interface ParsedCertificate {
  info: CertInfo;
  /** DER bytes of the certificate (for chain/CRL checks in enrich). */
  der: Buffer;
  /**
   * node:crypto view of the certificate, created on first access. Throws CertificateParseError
   * (`cert-unsupported-by-openssl`) for the rare certificate OpenSSL refuses; enrich code uses
   * `verifySignedData` instead, which does not need it.
   */
  readonly x509: X509Certificate;
  /** DER of tbsCertificate: the signed bytes. */
  tbs: Buffer;
  signatureAlgorithm: SignatureAlgorithm;
  /** Signature bits (BIT STRING content without the unused-bits octet). */
  signature: Buffer;
  /** DER of SubjectPublicKeyInfo. */
  spki: Buffer;
  /** Canonical names (same as info.subject/issuer, never null here). */
  subjectDn: string;
  issuerDn: string;
  /** Key identifiers, lowercase hex, when the extensions are present. */
  subjectKeyId: string | null;
  authorityKeyId: string | null;
  /** KeyUsage bits (bit 0 = digitalSignature … bit 5 = keyCertSign, bit 6 = cRLSign), null when absent. */
  keyUsage: number | null;
  /** CRL distribution point URIs. */
  crlDistributionPoints: string[];
  /** Odd but survivable things seen while parsing (`duplicate-extension`, `unknown-critical-extension:OID`, …). */
  warnings: string[];
}

export interface SignatureAlgorithm {
  oid: string;
  /** DER of the parameters (absent → null). */
  params: Buffer | null;
}

export class CertificateParseError extends Error {
  /** Stable reason code: `cert-empty`, `cert-not-der`, `cert-malformed`, `cert-truncated`, `cert-bad-time`. */
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(message);
    this.name = 'CertificateParseError';
    this.reason = reason;
  }
}

const EKU_NAMES: Record<string, string> = {
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
  '1.3.6.1.4.1.311.20.2.2': 'smartcardLogon',
  '1.3.6.1.5.2.3.4': 'pkinitClientAuth',
  '2.5.29.37.0': 'anyExtendedKeyUsage',
};

const KEY_ALGORITHMS: Record<string, string> = {
  '1.2.840.113549.1.1.1': 'rsa',
  '1.2.840.113549.1.1.10': 'rsa-pss',
  '1.2.840.10045.2.1': 'ec',
  '1.3.101.112': 'ed25519',
  '1.3.101.113': 'ed448',
  '1.3.101.110': 'x25519',
  '1.3.101.111': 'x448',
  '1.2.840.10040.4.1': 'dsa',
  '1.2.840.113549.1.3.1': 'dh',
  '2.16.840.1.101.3.4.3.17': 'ml-dsa-44',
  '2.16.840.1.101.3.4.3.18': 'ml-dsa-65',
  '2.16.840.1.101.3.4.3.19': 'ml-dsa-87',
  '2.16.840.1.101.3.4.4.1': 'ml-kem-512',
  '2.16.840.1.101.3.4.4.2': 'ml-kem-768',
  '2.16.840.1.101.3.4.4.3': 'ml-kem-1024',
};

/** Named curves: OID → [OpenSSL name (as node:crypto reports it), field size in bits]. */
const CURVES: Record<string, [string, number]> = {
  '1.2.840.10045.3.1.7': ['prime256v1', 256],
  '1.3.132.0.34': ['secp384r1', 384],
  '1.3.132.0.35': ['secp521r1', 521],
  '1.3.132.0.10': ['secp256k1', 256],
  '1.3.132.0.33': ['secp224r1', 224],
  '1.2.840.10045.3.1.1': ['prime192v1', 192],
  '1.3.36.3.3.2.8.1.1.7': ['brainpoolP256r1', 256],
  '1.3.36.3.3.2.8.1.1.11': ['brainpoolP384r1', 384],
  '1.3.36.3.3.2.8.1.1.13': ['brainpoolP512r1', 512],
};

export function emptySans(): SubjectAltNames {
  return { dns: [], email: [], uri: [], ip: [], upn: [] };
}

/**
 * Canonical serial from logged text: lowercase hex, no colons/spaces/`0x`, no leading zeros
 * ("0" for zero); a leading `-` (OpenSSL's negative form) is kept. Decimal input: see serial.ts.
 */
export function canonicalSerialHex(serial: string): string {
  let s = serial.trim().replace(/[:\s]/g, '').toLowerCase();
  let neg = false;
  if (s.startsWith('-')) {
    neg = true;
    s = s.slice(1);
  }
  if (s.startsWith('0x')) s = s.slice(2);
  s = s.replace(/^0+(?=.)/, '');
  return neg && s !== '0' ? `-${s}` : s;
}

// ---------------------------------------------------------------------------------------------
// Input decoding

const PEM_BEGIN = '-----BEGIN CERTIFICATE-----';
const PEM_END = '-----END CERTIFICATE-----';
const NOT_BASE64 = /[^A-Za-z0-9+/=]/g;

/**
 * PEM text (also URL-encoded, as nginx `$ssl_client_escaped_cert` and Envoy XFCC carry it),
 * base64 DER or raw DER → DER bytes. Takes the first certificate of a PEM bundle.
 */
export function toDer(input: string | Uint8Array): Buffer {
  let text: string;
  if (typeof input !== 'string') {
    // Bytes read from a .pem/.crt file are PEM text, not DER: DER starts with a SEQUENCE (0x30).
    if (input.length === 0 || input[0] === 0x30) return Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    text = Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('latin1');
  } else {
    text = input;
  }
  if (text.includes('%') && /-----BEGIN|%2D%2D%2D%2D%2DBEGIN/i.test(text)) {
    try {
      text = decodeURIComponent(text);
    } catch {
      // leave as is: the base64 check below reports it
    }
  }
  const begin = text.indexOf(PEM_BEGIN);
  let body = text;
  if (begin >= 0) {
    const end = text.indexOf(PEM_END, begin);
    body = text.slice(begin + PEM_BEGIN.length, end < 0 ? text.length : end);
  }
  // Buffer's base64 decoder skips line breaks and other whitespace itself.
  return Buffer.from(body, 'base64');
}

/** All certificates of a PEM bundle, each as DER. */
export function pemCertificates(text: string): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const begin = text.indexOf(PEM_BEGIN, pos);
    if (begin < 0) break;
    const end = text.indexOf(PEM_END, begin);
    if (end < 0) break;
    out.push(Buffer.from(text.slice(begin + PEM_BEGIN.length, end).replace(NOT_BASE64, ''), 'base64'));
    pos = end + PEM_END.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Signature verification

const publicKeyCache = new Map<string, KeyObject | null>();

/** Import a SubjectPublicKeyInfo (cached by its bytes); null when node:crypto cannot use it. */
export function importSpki(spki: Buffer): KeyObject | null {
  const key = spki.toString('base64');
  const found = publicKeyCache.get(key);
  if (found !== undefined) return found;
  let value: KeyObject | null;
  try {
    value = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch {
    value = null;
  }
  if (publicKeyCache.size >= 10_000) {
    const oldest = publicKeyCache.keys().next().value;
    if (oldest !== undefined) publicKeyCache.delete(oldest);
  }
  publicKeyCache.set(key, value);
  return value;
}

const HASH_OIDS: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
  '2.16.840.1.101.3.4.2.4': 'sha224',
};

/** Signature algorithm OID → digest for node:crypto.verify (null = the key type implies it). */
const SIG_DIGEST: Record<string, string | null> = {
  '1.2.840.113549.1.1.4': 'md5',
  '1.2.840.113549.1.1.5': 'sha1',
  '1.2.840.113549.1.1.14': 'sha224',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.1': 'sha1',
  '1.2.840.10045.4.3.1': 'sha224',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.2.840.10040.4.3': 'sha1',
  '2.16.840.1.101.3.4.3.1': 'sha224',
  '2.16.840.1.101.3.4.3.2': 'sha256',
  '1.3.101.112': null,
  '1.3.101.113': null,
  '2.16.840.1.101.3.4.3.17': null,
  '2.16.840.1.101.3.4.3.18': null,
  '2.16.840.1.101.3.4.3.19': null,
};

const RSA_PSS = '1.2.840.113549.1.1.10';

function pssOptions(params: Buffer | null): { hash: string; saltLength: number } {
  let hash = 'sha1';
  let saltLength = 20;
  if (!params) return { hash, saltLength };
  const seq = readDer(params, 0);
  for (const field of derChildren(params, seq)) {
    if (field.tag === 0xa0) {
      const alg = readDer(params, field.contentStart, field.end);
      const oid = decodeOid(params, readDer(params, alg.contentStart, alg.end));
      hash = HASH_OIDS[oid] ?? hash;
    } else if (field.tag === 0xa2) {
      const int = readDer(params, field.contentStart, field.end);
      saltLength = Number.parseInt(hex(params, int.contentStart, int.end) || '0', 16);
    }
  }
  return { hash, saltLength };
}

/**
 * Verify a signature over `signed` with the SubjectPublicKeyInfo `issuerSpki`.
 * Returns true/false, or null when it cannot be checked (unknown algorithm or key node:crypto cannot import).
 */
export function verifySignedData(
  signed: Uint8Array,
  algorithm: SignatureAlgorithm,
  signature: Uint8Array,
  issuerSpki: Buffer,
): boolean | null {
  const key = importSpki(issuerSpki);
  if (!key) return null;
  try {
    if (algorithm.oid === RSA_PSS) {
      const { hash, saltLength } = pssOptions(algorithm.params);
      return cryptoVerify(hash, signed, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }, signature);
    }
    if (!(algorithm.oid in SIG_DIGEST)) return null;
    return cryptoVerify(SIG_DIGEST[algorithm.oid] ?? null, signed, key, signature);
  } catch {
    // Key type and algorithm do not fit, or the signature is not even well-formed.
    return false;
  }
}

function readAlgorithm(buf: Buffer, node: DerNode): SignatureAlgorithm {
  const kids = derChildren(buf, expectTag(node, 0x30, 'AlgorithmIdentifier'));
  const oid = decodeOid(buf, kids[0] ?? node);
  const p = kids[1];
  return { oid, params: p && p.tag !== 0x05 ? Buffer.from(buf.subarray(p.start, p.end)) : null };
}

/** BIT STRING content without its unused-bits octet. */
function bitStringBytes(buf: Buffer, node: DerNode): Buffer {
  expectTag(node, 0x03, 'BIT STRING');
  return buf.subarray(node.contentStart + 1, node.end);
}

// ---------------------------------------------------------------------------------------------
// Extensions

function formatIp(bytes: Uint8Array): string | null {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  if (bytes.length !== 16) return null;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i] << 8) | bytes[i + 1]);
  // RFC 5952: compress the longest run (≥ 2) of zero groups
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const h = groups.map((g) => g.toString(16));
  if (bestStart < 0) return h.join(':');
  return `${h.slice(0, bestStart).join(':')}::${h.slice(bestStart + bestLen).join(':')}`;
}

const UPN_OID = '1.3.6.1.4.1.311.20.2.3';

function parseGeneralNames(buf: Buffer, node: DerNode, sans: SubjectAltNames): void {
  for (const gn of derChildren(buf, expectTag(node, 0x30, 'GeneralNames'))) {
    const content = buf.subarray(gn.contentStart, gn.end);
    switch (gn.tag) {
      case 0x81:
        sans.email.push(content.toString('latin1'));
        break;
      case 0x82:
        sans.dns.push(content.toString('latin1'));
        break;
      case 0x86:
        sans.uri.push(content.toString('latin1'));
        break;
      case 0x87: {
        const ip = formatIp(content);
        if (ip) sans.ip.push(ip);
        break;
      }
      case 0xa0: {
        const [typeId, explicit] = derChildren(buf, gn);
        if (!typeId || !explicit || decodeOid(buf, typeId) !== UPN_OID) break;
        const inner = readDer(buf, explicit.contentStart, explicit.end);
        const s = decodeDirectoryString(inner.tag, buf.subarray(inner.contentStart, inner.end));
        if (s !== null) sans.upn.push(s);
        break;
      }
      default:
        break;
    }
  }
}

function parseCrlDistributionPoints(buf: Buffer, node: DerNode, out: string[]): void {
  for (const dp of derChildren(buf, expectTag(node, 0x30, 'CRLDistributionPoints'))) {
    for (const field of derChildren(buf, dp)) {
      if (field.tag !== 0xa0) continue; // distributionPoint
      for (const dpName of derChildren(buf, field)) {
        if (dpName.tag !== 0xa0) continue; // fullName
        const tmp = emptySans();
        parseGeneralNames(buf, { ...dpName, tag: 0x30 }, tmp);
        out.push(...tmp.uri);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Parsing

interface KeyFacts {
  algorithm: string | null;
  size: number | null;
  curve: string | null;
}

function bitLength(buf: Uint8Array, start: number, end: number): number {
  let i = start;
  while (i < end && buf[i] === 0) i++;
  if (i === end) return 0;
  return (end - i - 1) * 8 + (32 - Math.clz32(buf[i]));
}

function keyFacts(spki: Buffer): KeyFacts {
  const seq = readDer(spki, 0);
  const [algNode, keyBits] = derChildren(spki, seq);
  const algKids = derChildren(spki, expectTag(algNode, 0x30, 'SPKI algorithm'));
  const oid = decodeOid(spki, algKids[0] ?? algNode);
  const params = algKids[1];
  const algorithm = KEY_ALGORITHMS[oid] ?? null;
  let size: number | null = null;
  let curve: string | null = null;
  try {
    if ((algorithm === 'rsa' || algorithm === 'rsa-pss') && keyBits) {
      const rsaKey = readDer(spki, keyBits.contentStart + 1, keyBits.end);
      const [modulus] = derChildren(spki, rsaKey);
      if (modulus) size = bitLength(spki, modulus.contentStart, modulus.end);
    } else if (algorithm === 'ec' && params) {
      if (params.tag === 0x06) {
        const named = CURVES[decodeOid(spki, params)];
        curve = named ? named[0] : decodeOid(spki, params);
        size = named ? named[1] : null;
      } else if (params.tag === 0x30) {
        // ECParameters { version, fieldID { fieldType, prime p }, curve, base, order, … }
        curve = 'explicit';
        const [, fieldId] = derChildren(spki, params);
        if (fieldId) {
          const [, prime] = derChildren(spki, fieldId);
          if (prime && prime.tag === 0x02) size = bitLength(spki, prime.contentStart, prime.end);
        }
      }
    } else if (algorithm === 'dsa' && params && params.tag === 0x30) {
      const [p] = derChildren(spki, params);
      if (p) size = bitLength(spki, p.contentStart, p.end);
    } else if (algorithm === 'ed25519' || algorithm === 'x25519') {
      size = 256;
    } else if (algorithm === 'ed448') {
      size = 456;
    } else if (algorithm === 'x448') {
      size = 448;
    }
  } catch {
    // key details are best effort; the algorithm is still known
  }
  return { algorithm, size, curve };
}

class ParsedCertificateImpl implements ParsedCertificate {
  info: CertInfo;
  der: Buffer;
  tbs: Buffer;
  signatureAlgorithm: SignatureAlgorithm;
  signature: Buffer;
  spki: Buffer;
  subjectDn: string;
  issuerDn: string;
  subjectKeyId: string | null;
  authorityKeyId: string | null;
  keyUsage: number | null;
  crlDistributionPoints: string[];
  warnings: string[];
  private x509Cached: X509Certificate | null = null;

  constructor(init: Omit<ParsedCertificate, 'x509'>) {
    this.info = init.info;
    this.der = init.der;
    this.tbs = init.tbs;
    this.signatureAlgorithm = init.signatureAlgorithm;
    this.signature = init.signature;
    this.spki = init.spki;
    this.subjectDn = init.subjectDn;
    this.issuerDn = init.issuerDn;
    this.subjectKeyId = init.subjectKeyId;
    this.authorityKeyId = init.authorityKeyId;
    this.keyUsage = init.keyUsage;
    this.crlDistributionPoints = init.crlDistributionPoints;
    this.warnings = init.warnings;
  }

  get x509(): X509Certificate {
    if (this.x509Cached === null) {
      try {
        this.x509Cached = new X509Certificate(this.der);
      } catch (err) {
        throw new CertificateParseError(
          'cert-unsupported-by-openssl',
          `OpenSSL cannot load this certificate: ${(err as Error).message}`,
        );
      }
    }
    return this.x509Cached;
  }
}

function fail(err: unknown): never {
  if (err instanceof CertificateParseError) throw err;
  if (err instanceof DerError) {
    const reason = err.reason === 'bad-time' ? 'cert-bad-time' : err.reason === 'truncated' ? 'cert-truncated' : 'cert-malformed';
    throw new CertificateParseError(reason, `certificate does not parse: ${err.message}`);
  }
  throw new CertificateParseError('cert-malformed', `certificate does not parse: ${(err as Error).message}`);
}

/** Parse one certificate from PEM, base64 DER or DER. Throws CertificateParseError with a reason code. */
export function parseCertificate(input: string | Uint8Array): ParsedCertificate {
  const raw = toDer(input);
  if (raw.length === 0) throw new CertificateParseError('cert-empty', 'certificate is empty');
  if (raw[0] !== 0x30)
    throw new CertificateParseError('cert-not-der', 'not a certificate: neither PEM nor DER (no leading SEQUENCE)');
  try {
    return parseDer(raw);
  } catch (err) {
    fail(err);
  }
}

function parseDer(raw: Buffer): ParsedCertificate {
  const warnings: string[] = [];
  const certNode = readDer(raw, 0);
  if (certNode.end !== raw.length) warnings.push('trailing-data');
  const der = certNode.end === raw.length ? raw : raw.subarray(0, certNode.end);
  const [tbsNode, outerAlgNode, sigNode] = derChildren(der, certNode);
  expectTag(tbsNode, 0x30, 'tbsCertificate');
  const outerAlg = readAlgorithm(der, expectTag(outerAlgNode, 0x30, 'signatureAlgorithm'));
  const signature = bitStringBytes(der, expectTag(sigNode, 0x03, 'signatureValue'));
  const f = derChildren(der, tbsNode);
  let i = 0;
  if (f[i]?.tag === 0xa0) {
    const v = readDer(der, f[i].contentStart, f[i].end);
    if (v.tag !== 0x02) throw new DerError('malformed', 'bad version');
    i++;
  }
  const serialNode = expectTag(f[i++], 0x02, 'serialNumber');
  const innerAlg = readAlgorithm(der, expectTag(f[i++], 0x30, 'signature'));
  if (innerAlg.oid !== outerAlg.oid) warnings.push('signature-algorithm-mismatch');
  const issuerNode = expectTag(f[i++], 0x30, 'issuer');
  const validity = derChildren(der, expectTag(f[i++], 0x30, 'validity'));
  const subjectNode = expectTag(f[i++], 0x30, 'subject');
  const spkiNode = expectTag(f[i++], 0x30, 'subjectPublicKeyInfo');
  let extensionsNode: DerNode | null = null;
  for (; i < f.length; i++) {
    if (f[i].tag === 0xa3) extensionsNode = f[i];
    else if (f[i].tag !== 0x81 && f[i].tag !== 0x82 && f[i].tag !== 0xa1 && f[i].tag !== 0xa2)
      warnings.push(`unexpected-tbs-field:${f[i].tag}`);
  }
  if (validity.length !== 2) throw new DerError('malformed', 'validity must hold two times');
  const notBefore = decodeTime(der, validity[0]);
  const notAfter = decodeTime(der, validity[1]);
  const issuerDn = decodeName(der, issuerNode);
  const subjectDn = decodeName(der, subjectNode);
  const spki = Buffer.from(der.subarray(spkiNode.start, spkiNode.end));
  const key = keyFacts(spki);

  const sans = emptySans();
  const eku: string[] = [];
  let isCa = false;
  let subjectKeyId: string | null = null;
  let authorityKeyId: string | null = null;
  let keyUsage: number | null = null;
  const crlDistributionPoints: string[] = [];
  if (extensionsNode) {
    const seen = new Set<string>();
    const extSeq = readDer(der, extensionsNode.contentStart, extensionsNode.end);
    for (const ext of derChildren(der, expectTag(extSeq, 0x30, 'Extensions'))) {
      const parts = derChildren(der, expectTag(ext, 0x30, 'Extension'));
      const oid = decodeOid(der, parts[0] ?? ext);
      let critical = false;
      let valueNode = parts[1];
      if (valueNode?.tag === 0x01) {
        critical = der[valueNode.contentStart] !== 0;
        valueNode = parts[2];
      }
      if (!valueNode || valueNode.tag !== 0x04) throw new DerError('malformed', `extension ${oid} has no value`);
      if (seen.has(oid)) {
        // RFC 5280 forbids it; the first occurrence wins (what a relying party would act on is undefined).
        warnings.push(`duplicate-extension:${oid}`);
        continue;
      }
      seen.add(oid);
      if (!PARSED_EXTENSIONS.has(oid)) {
        if (critical && !KNOWN_CRITICAL.has(oid)) warnings.push(`unknown-critical-extension:${oid}`);
        continue;
      }
      try {
        const inner = readDer(der, valueNode.contentStart, valueNode.end);
        switch (oid) {
          case '2.5.29.17':
            parseGeneralNames(der, inner, sans);
            break;
          case '2.5.29.19': {
            const [first] = derChildren(der, expectTag(inner, 0x30, 'BasicConstraints'));
            isCa = first?.tag === 0x01 && der[first.contentStart] !== 0;
            break;
          }
          case '2.5.29.37':
            for (const o of derChildren(der, expectTag(inner, 0x30, 'ExtKeyUsage'))) {
              const ekuOid = decodeOid(der, o);
              eku.push(EKU_NAMES[ekuOid] ?? ekuOid);
            }
            break;
          case '2.5.29.15': {
            expectTag(inner, 0x03, 'KeyUsage');
            // bit n is bit (7 - n % 8) of content octet n / 8 (after the unused-bits octet)
            let ku = 0;
            const first = inner.contentStart + 1;
            for (let bit = 0; bit < 9; bit++) {
              const at = first + (bit >> 3);
              if (at < inner.end && der[at] & (0x80 >> (bit & 7))) ku |= 1 << bit;
            }
            keyUsage = ku;
            break;
          }
          case '2.5.29.14':
            subjectKeyId = hex(der, inner.contentStart, inner.end);
            break;
          case '2.5.29.35':
            for (const field of derChildren(der, expectTag(inner, 0x30, 'AuthorityKeyIdentifier'))) {
              if (field.tag === 0x80) authorityKeyId = hex(der, field.contentStart, field.end);
            }
            break;
          case '2.5.29.31':
            parseCrlDistributionPoints(der, inner, crlDistributionPoints);
            break;
        }
      } catch (err) {
        // A malformed extension does not hide the rest of the certificate.
        warnings.push(`malformed-extension:${oid}`);
        if (!(err instanceof DerError)) throw err;
      }
    }
  }

  const sha256 = createHash('sha256').update(der).digest('hex');
  const sha1 = createHash('sha1').update(der).digest('hex');
  const spkiDigest = createHash('sha256').update(spki).digest();
  const tbs = der.subarray(tbsNode.start, tbsNode.end);
  let selfSigned: boolean | null = false;
  if (subjectDn === issuerDn) selfSigned = verifySignedData(tbs, outerAlg, signature, spki);

  const info: CertInfo = {
    source: 'der',
    sha256,
    sha1,
    spki_sha256: spkiDigest.toString('hex'),
    spki_pin_sha256: spkiDigest.toString('base64'),
    subject: subjectDn,
    issuer: issuerDn,
    subject_cn: commonNameFromDer(der, subjectNode),
    serial: serialFromInteger(der.subarray(serialNode.contentStart, serialNode.end)),
    not_before: notBefore,
    not_after: notAfter,
    san: sans,
    key_algorithm: key.algorithm,
    key_size: key.size,
    key_curve: key.curve,
    self_signed: selfSigned,
    is_ca: isCa,
    eku,
  };
  return new ParsedCertificateImpl({
    info,
    der,
    tbs,
    signatureAlgorithm: outerAlg,
    signature,
    spki,
    subjectDn,
    issuerDn,
    subjectKeyId,
    authorityKeyId,
    keyUsage,
    crlDistributionPoints,
    warnings,
  });
}

/** Extensions whose content the parser reads. */
const PARSED_EXTENSIONS = new Set(['2.5.29.17', '2.5.29.19', '2.5.29.37', '2.5.29.15', '2.5.29.14', '2.5.29.35', '2.5.29.31']);

/** Extensions whose criticality we understand even though we do not use their content. */
const KNOWN_CRITICAL = new Set([
  '2.5.29.30',
  '2.5.29.32',
  '2.5.29.33',
  '2.5.29.36',
  '2.5.29.54',
  '1.3.6.1.5.5.7.1.1',
  '1.3.6.1.5.5.7.1.24',
]);

/** The most specific CN (last in DER order), decoded; null when absent or not a string. */
function commonNameFromDer(der: Buffer, nameNode: DerNode): string | null {
  let cn: string | null = null;
  for (const set of derChildren(der, nameNode)) {
    for (const atv of derChildren(der, set)) {
      const [t, v] = derChildren(der, atv);
      if (t && v && decodeOid(der, t) === '2.5.4.3') {
        const s = decodeDirectoryString(v.tag, der.subarray(v.contentStart, v.end));
        if (s !== null) cn = s;
      }
    }
  }
  return cn;
}

/**
 * Does `issuer` sign `cert`? Names must match (canonical DN), key identifiers must not contradict,
 * and the signature must verify with the issuer's key. Returns null when the signature cannot be
 * checked (algorithm or key unsupported by node:crypto).
 */
export function isIssuedBy(cert: ParsedCertificate, issuer: ParsedCertificate): boolean | null {
  if (cert.issuerDn !== issuer.subjectDn) return false;
  if (cert.authorityKeyId && issuer.subjectKeyId && cert.authorityKeyId !== issuer.subjectKeyId) return false;
  return verifySignedData(cert.tbs, cert.signatureAlgorithm, cert.signature, issuer.spki);
}

// ---------------------------------------------------------------------------------------------
// Cache

/**
 * Bounded cache of parsed certificates keyed by their text (PEM/base64) or bytes — parse each
 * distinct certificate once. Also indexes successful parses by SHA-256 (`bySha256`) so later
 * stages that only hold a CertInfo can reach the bytes.
 */
export class CertificateCache {
  private readonly map = new Map<string, ParsedCertificate | CertificateParseError>();
  private readonly bySha = new Map<string, ParsedCertificate>();
  private readonly byHint = new Map<string, { text: string; value: ParsedCertificate | CertificateParseError }>();

  private remember(hint: string, text: string, value: ParsedCertificate | CertificateParseError): void {
    if (this.byHint.size >= this.max) {
      const oldest = this.byHint.keys().next().value;
      if (oldest !== undefined) this.byHint.delete(oldest);
    }
    this.byHint.set(hint, { text, value });
  }
  private readonly max: number;
  hits = 0;
  misses = 0;
  constructor(max = 100_000) {
    this.max = max;
  }

  /**
   * Parsed certificate for `input`. `hint` (e.g. the fingerprint the log carried next to the PEM)
   * is an optional fast path: hashing a 1–2 KB PEM string for the Map lookup costs more than
   * comparing it with the text remembered under the hint. The hint is never trusted on its own —
   * the texts must be equal.
   */
  get(input: string | Uint8Array, hint?: string | null): ParsedCertificate | CertificateParseError {
    if (hint && typeof input === 'string') {
      const remembered = this.byHint.get(hint);
      if (remembered !== undefined && remembered.text === input) {
        this.hits++;
        return remembered.value;
      }
    }
    const key =
      typeof input === 'string'
        ? input
        : `der:${Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('base64')}`;
    const found = this.map.get(key);
    if (found !== undefined) {
      this.hits++;
      if (hint && typeof input === 'string') this.remember(hint, input, found);
      return found;
    }
    this.misses++;
    let value: ParsedCertificate | CertificateParseError;
    try {
      value = parseCertificate(input);
    } catch (err) {
      value = err instanceof CertificateParseError ? err : new CertificateParseError('cert-malformed', String(err));
    }
    if (this.map.size >= this.max) {
      // Drop the oldest entry (Map keeps insertion order): a cheap FIFO bound.
      const oldest = this.map.keys().next().value;
      if (oldest !== undefined) this.map.delete(oldest);
    }
    this.map.set(key, value);
    if (hint && typeof input === 'string') this.remember(hint, input, value);
    if (!(value instanceof CertificateParseError) && value.info.sha256) {
      if (this.bySha.size >= this.max) {
        const oldest = this.bySha.keys().next().value;
        if (oldest !== undefined) this.bySha.delete(oldest);
      }
      this.bySha.set(value.info.sha256, value);
    }
    return value;
  }

  /** A certificate parsed earlier through this cache, by the SHA-256 of its DER. */
  bySha256(sha256: string): ParsedCertificate | undefined {
    return this.bySha.get(sha256);
  }

  get size(): number {
    return this.map.size;
  }
}
