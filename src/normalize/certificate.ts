// Certificate parsing: bytes → CertInfo (digests, SPKI pin, RFC 4514 names, SANs, validity, key).
// Parsing is the expensive step, so each distinct certificate is parsed once and cached by its
// PEM/DER text; real telemetry repeats the same few certificates thousands of times.
import { createHash, X509Certificate } from 'node:crypto';
import type { CertInfo, SubjectAltNames } from '../schema/event.ts';

export interface ParsedCertificate {
  info: CertInfo;
  /** DER bytes (for chain/CRL checks in enrich). */
  der: Buffer;
  /** node:crypto view, for checkIssued/verify. */
  x509: X509Certificate;
}

export class CertificateParseError extends Error {
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(message);
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
  '2.5.29.37.0': 'anyExtendedKeyUsage',
};

export function emptySans(): SubjectAltNames {
  return { dns: [], email: [], uri: [], ip: [], upn: [] };
}

/** Canonical serial: lowercase hex, no colons/spaces, no leading zeros. */
export function canonicalSerialHex(serial: string): string {
  const hex = serial.replace(/[:\s]/g, '').toLowerCase().replace(/^0+(?=.)/, '');
  return hex;
}

/** OpenSSL multi-line DN (DER order) → RFC 4514 (reverse order, comma-separated). */
function opensslDnToRfc4514(dn: string): string {
  return dn
    .split('\n')
    .filter((l) => l.length > 0)
    .reverse()
    .join(',');
}

function parseSans(text: string | undefined): SubjectAltNames {
  const sans = emptySans();
  if (!text) return sans;
  for (const part of text.split(/, (?=[A-Za-z ]+:)/)) {
    const idx = part.indexOf(':');
    if (idx < 0) continue;
    const type = part.slice(0, idx);
    let value = part.slice(idx + 1);
    if (value.startsWith('"') && value.endsWith('"')) value = JSON.parse(value) as string;
    if (type === 'DNS') sans.dns.push(value);
    else if (type === 'email') sans.email.push(value);
    else if (type === 'URI') sans.uri.push(value);
    else if (type === 'IP Address') sans.ip.push(value);
    else if (type === 'othername' && value.startsWith('UPN:')) sans.upn.push(value.slice(4));
  }
  return sans;
}

const PEM_RE = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/;

/** PEM text, base64 DER or raw DER → DER bytes. */
export function toDer(input: string | Uint8Array): Buffer {
  if (typeof input !== 'string') return Buffer.from(input);
  const m = PEM_RE.exec(input);
  const b64 = (m ? m[1] : input).replace(/[^A-Za-z0-9+/=]/g, '');
  return Buffer.from(b64, 'base64');
}

/** Parse one certificate. Throws CertificateParseError with a reason on malformed input. */
export function parseCertificate(input: string | Uint8Array): ParsedCertificate {
  const der = toDer(input);
  if (der.length === 0) throw new CertificateParseError('cert-empty', 'certificate is empty');
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(der);
  } catch (err) {
    throw new CertificateParseError('cert-unparseable', `certificate does not parse: ${(err as Error).message}`);
  }
  const sha256 = createHash('sha256').update(der).digest('hex');
  const sha1 = createHash('sha1').update(der).digest('hex');
  let spkiSha256: string | null = null;
  let spkiPin: string | null = null;
  let keyAlgorithm: string | null = null;
  let keySize: number | null = null;
  let keyCurve: string | null = null;
  try {
    const key = x509.publicKey;
    const spki = key.export({ type: 'spki', format: 'der' });
    const digest = createHash('sha256').update(spki).digest();
    spkiSha256 = digest.toString('hex');
    spkiPin = digest.toString('base64');
    keyAlgorithm = key.asymmetricKeyType ?? null;
    const d = key.asymmetricKeyDetails;
    if (d?.modulusLength) keySize = d.modulusLength;
    if (d?.namedCurve) {
      keyCurve = d.namedCurve;
      const m = /(\d{3})/.exec(d.namedCurve);
      keySize = m ? Number(m[1]) : null;
    }
  } catch {
    // Unsupported key type: leave key fields null (see hardened fallback).
  }
  const subject = opensslDnToRfc4514(x509.subject);
  const issuer = opensslDnToRfc4514(x509.issuer);
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(x509.subject);
  let selfSigned = false;
  try {
    selfSigned = x509.checkIssued(x509) && x509.verify(x509.publicKey);
  } catch {
    selfSigned = false;
  }
  const info: CertInfo = {
    source: 'der',
    sha256,
    sha1,
    spki_sha256: spkiSha256,
    spki_pin_sha256: spkiPin,
    subject,
    issuer,
    subject_cn: cn ? cn[1] : null,
    serial: canonicalSerialHex(x509.serialNumber),
    not_before: new Date(x509.validFrom).toISOString(),
    not_after: new Date(x509.validTo).toISOString(),
    san: parseSans(x509.subjectAltName),
    key_algorithm: keyAlgorithm,
    key_size: keySize,
    key_curve: keyCurve,
    self_signed: selfSigned,
    is_ca: x509.ca,
    eku: (x509.keyUsage ?? []).map((oid) => EKU_NAMES[oid] ?? oid),
  };
  return { info, der, x509 };
}

/** Bounded cache of parsed certificates keyed by their text (PEM/base64) — parse each distinct certificate once. */
export class CertificateCache {
  private readonly map = new Map<string, ParsedCertificate | CertificateParseError>();
  private readonly max: number;
  hits = 0;
  misses = 0;
  constructor(max = 50_000) {
    this.max = max;
  }

  get(input: string): ParsedCertificate | CertificateParseError {
    const found = this.map.get(input);
    if (found !== undefined) {
      this.hits++;
      return found;
    }
    this.misses++;
    let value: ParsedCertificate | CertificateParseError;
    try {
      value = parseCertificate(input);
    } catch (err) {
      value = err instanceof CertificateParseError ? err : new CertificateParseError('cert-unparseable', String(err));
    }
    if (this.map.size >= this.max) {
      // Drop the oldest entry (Map keeps insertion order): a cheap FIFO bound.
      const oldest = this.map.keys().next().value;
      if (oldest !== undefined) this.map.delete(oldest);
    }
    this.map.set(input, value);
    return value;
  }
}
