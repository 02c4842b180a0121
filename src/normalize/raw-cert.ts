// RawCertificate (what a log line said about a certificate) → CertInfo. Certificate bytes, when a
// source has them, are the truth: they are parsed once (cached) and any logged digest or serial
// that disagrees is reported. Without bytes, the logged fields are canonicalised (serial → hex,
// digests → lowercase hex, DNs → RFC 4514, dates → ISO) and everything the log did not say is null.
import type { Diagnostics } from '../diagnostics.ts';
import type { CertInfo, RawCertificate } from '../schema/event.ts';
import { type CertificateCache, CertificateParseError, type ParsedCertificate } from './certificate.ts';
import { canonicalDn, commonNameOf, type DnSyntax } from './dn.ts';
import { canonicalSerial } from './serial.ts';

/** Where a raw certificate came from, for diagnostics. */
export interface RawCertWhere {
  file?: string;
  line?: number;
  field?: string;
}

const dnMemo = new Map<string, string | null>();
const DN_MEMO_MAX = 250_000;

/** canonicalDn, memoised: real logs repeat the same few DNs on every line. */
function memoDn(text: string, syntax: DnSyntax): string | null {
  const key = `${syntax}\u0000${text}`;
  let value = dnMemo.get(key);
  if (value === undefined) {
    value = canonicalDn(text, syntax);
    if (dnMemo.size >= DN_MEMO_MAX) dnMemo.clear();
    dnMemo.set(key, value);
  }
  return value;
}

/** Digest as logged → lowercase hex without separators; null when it is not hex. */
export function canonicalDigest(text: string | null | undefined): string | null {
  if (!text) return null;
  const h = text.replace(/[:\s-]/g, '').toLowerCase();
  return /^[0-9a-f]+$/.test(h) ? h : null;
}

const NAIVE_ISO = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;
const NUMERIC = /^-?\d+(\.\d+)?$/;

/**
 * A logged certificate date → ISO 8601 UTC, or null. Accepts epoch seconds (number or numeric
 * text, Zeek's float included; values above 1e12 are taken as milliseconds), ISO 8601, naive
 * ISO (taken as UTC, as Suricata writes it) and OpenSSL's `Feb 28 15:59:27 2023 GMT`.
 */
export function canonicalCertDate(value: string | number | null | undefined): string | null {
  if (value === null || value === undefined || value === '') return null;
  let ms: number;
  if (typeof value === 'number' || NUMERIC.test(value)) {
    const n = typeof value === 'number' ? value : Number(value);
    if (!Number.isFinite(n)) return null;
    ms = Math.abs(n) > 1e12 ? n : n * 1000;
  } else {
    const text = value.trim();
    ms = Date.parse(NAIVE_ISO.test(text) ? `${text.replace(' ', 'T')}Z` : text);
  }
  if (!Number.isFinite(ms)) return null;
  const d = new Date(Math.round(ms));
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

const KEY_ALGORITHM_ALIASES: Record<string, string> = {
  rsaencryption: 'rsa',
  rsa: 'rsa',
  'rsassa-pss': 'rsa-pss',
  'rsa-pss': 'rsa-pss',
  'id-ecpublickey': 'ec',
  ecpublickey: 'ec',
  ecdsa: 'ec',
  ec: 'ec',
  ed25519: 'ed25519',
  ed448: 'ed448',
  dsa: 'dsa',
  dsaencryption: 'dsa',
};

function canonicalKeyAlgorithm(text: string | null | undefined): string | null {
  if (!text) return null;
  const t = text.trim().toLowerCase();
  return KEY_ALGORITHM_ALIASES[t] ?? (/^(ml-dsa|slh-dsa|ml-kem)-/.test(t) ? t : t || null);
}

function report(diagnostics: Diagnostics | undefined, where: RawCertWhere | undefined, reason: string, message: string): void {
  diagnostics?.warn({ reason, message, file: where?.file, line: where?.line, field: where?.field });
}

/** A CertInfo from logged fields only (`source: 'logged'`). */
function loggedInfo(raw: RawCertificate, diagnostics?: Diagnostics, where?: RawCertWhere): CertInfo {
  const syntax: DnSyntax = raw.dn_syntax ?? 'rfc4514';
  const dn = (text: string | null | undefined, name: string): string | null => {
    if (text === null || text === undefined || text.trim() === '') return null;
    const c = memoDn(text, syntax);
    if (c === null)
      report(diagnostics, where, 'cert-bad-dn', `${name} "${text}" is not a distinguished name in ${syntax} syntax`);
    return c;
  };
  const subject = dn(raw.subject, 'subject');
  const issuer = dn(raw.issuer, 'issuer');

  let serial: string | null = null;
  if (raw.serial !== null && raw.serial !== undefined && raw.serial !== '') {
    serial = canonicalSerial(raw.serial, raw.serial_format ?? 'hex');
    if (serial === null)
      report(diagnostics, where, 'cert-bad-serial', `serial "${raw.serial}" is not ${raw.serial_format ?? 'hex'}`);
  }

  // Digests are told apart by length: sources disagree on which one they log under which name.
  let sha256: string | null = null;
  let sha1: string | null = null;
  for (const logged of [raw.sha256, raw.sha1]) {
    if (!logged) continue;
    const d = canonicalDigest(logged);
    if (d !== null && d.length === 64) sha256 = d;
    else if (d !== null && d.length === 40) sha1 = d;
    else report(diagnostics, where, 'cert-bad-digest', `certificate digest "${logged}" is neither SHA-1 nor SHA-256 hex`);
  }

  const date = (value: string | number | null | undefined, name: string): string | null => {
    if (value === null || value === undefined || value === '') return null;
    const iso = canonicalCertDate(value);
    if (iso === null) report(diagnostics, where, 'cert-bad-date', `${name} "${value}" is not a date`);
    return iso;
  };

  return {
    source: 'logged',
    sha256,
    sha1,
    spki_sha256: null,
    spki_pin_sha256: null,
    subject,
    issuer,
    subject_cn: commonNameOf(subject),
    serial,
    not_before: date(raw.not_before, 'not_before'),
    not_after: date(raw.not_after, 'not_after'),
    san: {
      dns: raw.san_dns ? [...raw.san_dns] : [],
      email: raw.san_email ? [...raw.san_email] : [],
      uri: raw.san_uri ? [...raw.san_uri] : [],
      ip: raw.san_ip ? [...raw.san_ip] : [],
      upn: [],
    },
    key_algorithm: canonicalKeyAlgorithm(raw.key_algorithm),
    key_size: typeof raw.key_size === 'number' && Number.isFinite(raw.key_size) ? raw.key_size : null,
    key_curve: raw.key_curve ?? null,
    // Logged names can only say "same name"; the signature cannot be checked without bytes.
    self_signed: subject !== null && issuer !== null ? subject === issuer : null,
    is_ca: typeof raw.is_ca === 'boolean' ? raw.is_ca : null,
    eku: [],
  };
}

/** Logged digest spellings already found to match a parsed certificate. */
const matchingDigests = new WeakMap<ParsedCertificate, Set<string>>();

/** Logged digest/serial that contradicts the bytes → `cert-field-mismatch` warning. */
function checkAgainstBytes(
  raw: RawCertificate,
  parsed: ParsedCertificate,
  diagnostics?: Diagnostics,
  where?: RawCertWhere,
): void {
  if (!diagnostics) return;
  const info = parsed.info;
  // Logs repeat one certificate with the same (e.g. upper-case) spelling: check each spelling once.
  const ok = matchingDigests.get(parsed);
  for (const logged of [raw.sha256, raw.sha1]) {
    if (!logged || logged === info.sha256 || logged === info.sha1 || ok?.has(logged)) continue; // the common, cheap cases
    const d = canonicalDigest(logged);
    const expected = d?.length === 40 ? info.sha1 : info.sha256;
    if (d === expected) rememberMatch(parsed, logged);
    else
      report(
        diagnostics,
        where,
        'cert-field-mismatch',
        `logged fingerprint ${logged} does not match the certificate bytes (${expected}); the bytes win`,
      );
  }
  if (raw.serial && raw.serial !== info.serial && !ok?.has(raw.serial)) {
    const s = canonicalSerial(raw.serial, raw.serial_format ?? 'hex');
    if (s === info.serial) rememberMatch(parsed, raw.serial);
    else
      report(
        diagnostics,
        where,
        'cert-field-mismatch',
        `logged serial ${raw.serial} does not match the certificate bytes (${info.serial}); the bytes win`,
      );
  }
}

function rememberMatch(parsed: ParsedCertificate, logged: string): void {
  let ok = matchingDigests.get(parsed);
  if (!ok) {
    ok = new Set();
    matchingDigests.set(parsed, ok);
  }
  if (ok.size < 8) ok.add(logged);
}

/**
 * RawCertificate → CertInfo. With `pem`/`der` the certificate is parsed (through `cache`) and
 * wins over logged fields; a parse failure is reported (reason from CertificateParseError) and
 * the logged fields are used instead. Returns the parsed certificate too, for trust/CRL checks.
 */
export function certInfoFromRaw(
  raw: RawCertificate,
  cache: CertificateCache,
  diagnostics?: Diagnostics,
  where?: RawCertWhere,
): { info: CertInfo; parsed: ParsedCertificate | null } {
  const bytes = raw.der && raw.der.length > 0 ? raw.der : raw.pem && raw.pem.length > 0 ? raw.pem : null;
  if (bytes !== null) {
    const parsed = typeof bytes === 'string' ? cache.get(bytes, raw.sha256 ?? raw.sha1) : cache.get(bytes);
    if (!(parsed instanceof CertificateParseError)) {
      checkAgainstBytes(raw, parsed, diagnostics, where);
      return { info: parsed.info, parsed };
    }
    report(diagnostics, where, parsed.reason, `${parsed.message}; using the logged certificate fields`);
  }
  return { info: memoLoggedInfo(raw, diagnostics, where), parsed: null };
}

interface LoggedMemo {
  info: CertInfo;
  /** Diagnostics the first build produced, replayed (with the current file:line) on every hit. */
  problems: { reason: string; message: string }[];
}

const loggedMemo = new Map<string, LoggedMemo>();
const LOGGED_MEMO_MAX = 250_000;
const SEP = '\u0001';

/**
 * loggedInfo, memoised on the logged fields: a log repeats the same certificate on every line,
 * and canonicalising DNs, serials, digests and dates per event would dominate normalize.
 * The CertInfo is shared between events: treat it as read-only.
 */
function memoLoggedInfo(raw: RawCertificate, diagnostics?: Diagnostics, where?: RawCertWhere): CertInfo {
  const key =
    `${raw.subject ?? ''}${SEP}${raw.issuer ?? ''}${SEP}${raw.dn_syntax ?? ''}${SEP}${raw.serial ?? ''}${SEP}${raw.serial_format ?? ''}` +
    `${SEP}${raw.sha256 ?? ''}${SEP}${raw.sha1 ?? ''}${SEP}${raw.not_before ?? ''}${SEP}${raw.not_after ?? ''}${SEP}${raw.key_algorithm ?? ''}` +
    `${SEP}${raw.key_size ?? ''}${SEP}${raw.key_curve ?? ''}${SEP}${raw.is_ca ?? ''}${SEP}${raw.san_dns?.join(SEP) ?? ''}${SEP}${raw.san_email?.join(SEP) ?? ''}` +
    `${SEP}${raw.san_uri?.join(SEP) ?? ''}${SEP}${raw.san_ip?.join(SEP) ?? ''}`;
  let memo = loggedMemo.get(key);
  if (memo === undefined) {
    const problems: { reason: string; message: string }[] = [];
    const collector = {
      warn: (d: { reason: string; message: string }) => problems.push({ reason: d.reason, message: d.message }),
    } as unknown as Diagnostics;
    memo = { info: loggedInfo(raw, collector), problems };
    if (loggedMemo.size >= LOGGED_MEMO_MAX) loggedMemo.clear();
    loggedMemo.set(key, memo);
  }
  for (const p of memo.problems) report(diagnostics, where, p.reason, p.message);
  return memo.info;
}
