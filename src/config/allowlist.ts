// Allowlists: operator-approved exceptions that suppress signals (a vendor device with an
// expired certificate, a lab subnet). An entry matches when every matcher it gives matches;
// expired entries stop matching and are reported once.

import type { Signal } from '../detect/types.ts';
import type { Diagnostics } from '../diagnostics.ts';
import { type Cidr, cidrContains, parseCidr, parseIp } from './cidr.ts';
import { normalizeDn } from './dn.ts';

/** One `allowlists[]` entry as it appears in Config (digests normalised to lowercase hex). */
export interface AllowlistEntry {
  /** Rule id, or `rule-id.variant` to allowlist only that variant. */
  rule?: string;
  user?: string;
  device?: string;
  cert_sha256?: string;
  spki_sha256?: string;
  /** Issuer DN (RFC 4514), compared with normalizeDn. */
  issuer?: string;
  /** Glob (`*` any run, `?` one character, case-insensitive) over the certificate subject DN. */
  subject_pattern?: string;
  source_cidr?: string;
  reason?: string;
  /** `YYYY-MM-DD` (UTC midnight) or an ISO 8601 date-time; from then on the entry no longer matches. */
  expires?: string;
}

/** What an allowlist is matched against: a Signal, or a flat alert-like record. */
export type AllowlistCandidate =
  | Pick<Signal, 'rule' | 'variant' | 'event'>
  | {
      rule: string;
      variant?: string | null;
      user?: string | null;
      device?: string | null;
      cert_sha256?: string | null;
      spki_sha256?: string | null;
      issuer?: string | null;
      /** Certificate subject DN (Alert records do not carry it; Signals do, via their event). */
      subject?: string | null;
      source_ip?: string | null;
    };

interface CompiledEntry {
  index: number;
  entry: AllowlistEntry;
  rule?: string;
  user?: string;
  device?: string;
  cert?: string;
  spki?: string;
  issuer?: string;
  subject?: RegExp;
  cidr?: Cidr;
  /** Epoch ms from which the entry no longer matches, or null. */
  expiresAt: number | null;
  label: string;
}

/** An allowlist entry that would have matched but had expired (reported once per entry). */
export interface ExpiredAllowlistHit {
  index: number;
  entry: AllowlistEntry;
  /** The `now` of the first would-be match. */
  noticedAt: number;
}

/** A compiled allowlist: globs, networks and DNs parsed once, then matched per signal. */
export class Allowlist {
  private readonly entries: CompiledEntry[];
  private readonly expiredReported = new Set<number>();
  /** Expired entries that would have matched, in the order first noticed. */
  readonly expiredHits: ExpiredAllowlistHit[] = [];
  /** The config file the entries came from, for diagnostics. */
  private readonly source: string | undefined;

  constructor(entries: readonly AllowlistEntry[], source?: string) {
    this.source = source;
    this.entries = entries.map((entry, index) => compileEntry(entry, index));
  }

  /**
   * The first live entry matching `candidate`, as a reason string (`allowlists[2]: vendor device`),
   * or null. `now` (epoch ms, default the wall clock) decides expiry: an exception is meant to be
   * revisited when it expires, whatever the age of the events being analysed. An expired entry that
   * would have matched is reported once to `diagnostics` (reason `allowlist-expired`).
   */
  match(candidate: AllowlistCandidate, options: { now?: number; diagnostics?: Diagnostics } = {}): string | null {
    if (this.entries.length === 0) return null;
    const fields = candidateFields(candidate);
    const now = options.now ?? Date.now();
    for (const compiled of this.entries) {
      if (!entryMatches(compiled, fields)) continue;
      if (compiled.expiresAt !== null && now >= compiled.expiresAt) {
        this.noteExpired(compiled, now, options.diagnostics);
        continue;
      }
      return compiled.label;
    }
    return null;
  }

  private noteExpired(compiled: CompiledEntry, now: number, diagnostics: Diagnostics | undefined): void {
    if (this.expiredReported.has(compiled.index)) return;
    this.expiredReported.add(compiled.index);
    this.expiredHits.push({ index: compiled.index, entry: compiled.entry, noticedAt: now });
    diagnostics?.warn({
      reason: 'allowlist-expired',
      file: this.source,
      field: `allowlists[${compiled.index}]`,
      message: `allowlist entry expired on ${compiled.entry.expires} and no longer suppresses ${compiled.rule ?? 'signals'}${
        compiled.entry.reason ? ` (reason was: ${compiled.entry.reason})` : ''
      }`,
    });
  }
}

interface CandidateFields {
  rule: string;
  ruleVariant: string | null;
  user: string | null;
  device: string | null;
  cert: string | null;
  spki: string | null;
  issuer: string | null;
  /** normalizeDn(issuer), computed on first use. */
  issuerKey?: string | null;
  subject: string | null;
  sourceIp: string | null;
}

function lower(value: string | null | undefined): string | null {
  return value ? value.toLowerCase() : null;
}

function candidateFields(candidate: AllowlistCandidate): CandidateFields {
  const variant = candidate.variant ?? null;
  const base = { rule: candidate.rule, ruleVariant: variant ? `${candidate.rule}.${variant}` : null };
  if ('event' in candidate) {
    const { event } = candidate;
    const cert = event.certificate;
    return {
      ...base,
      user: lower(event.user),
      device: lower(event.device),
      cert: lower(cert?.sha256),
      spki: lower(cert?.spki_sha256),
      issuer: cert?.issuer ?? null,
      subject: cert?.subject ?? null,
      sourceIp: event.source_ip,
    };
  }
  return {
    ...base,
    user: lower(candidate.user),
    device: lower(candidate.device),
    cert: lower(candidate.cert_sha256),
    spki: lower(candidate.spki_sha256),
    issuer: candidate.issuer ?? null,
    subject: candidate.subject ?? null,
    sourceIp: candidate.source_ip ?? null,
  };
}

function entryMatches(entry: CompiledEntry, fields: CandidateFields): boolean {
  if (entry.rule !== undefined && entry.rule !== fields.rule && entry.rule !== fields.ruleVariant) return false;
  if (entry.user !== undefined && entry.user !== fields.user) return false;
  if (entry.device !== undefined && entry.device !== fields.device) return false;
  if (entry.cert !== undefined && entry.cert !== fields.cert) return false;
  if (entry.spki !== undefined && entry.spki !== fields.spki) return false;
  if (entry.issuer !== undefined) {
    if (fields.issuerKey === undefined) fields.issuerKey = fields.issuer === null ? null : normalizeDn(fields.issuer);
    if (fields.issuerKey !== entry.issuer) return false;
  }
  if (entry.subject !== undefined && (fields.subject === null || !entry.subject.test(fields.subject))) return false;
  if (entry.cidr !== undefined) {
    const ip = fields.sourceIp === null ? null : parseIp(fields.sourceIp);
    if (ip === null || !cidrContains(entry.cidr, ip)) return false;
  }
  return true;
}

function compileEntry(entry: AllowlistEntry, index: number): CompiledEntry {
  const compiled: CompiledEntry = {
    index,
    entry,
    expiresAt: entry.expires === undefined ? null : parseExpiry(entry.expires),
    label: entry.reason ? `allowlists[${index}]: ${entry.reason}` : `allowlists[${index}]`,
  };
  if (entry.rule !== undefined) compiled.rule = entry.rule;
  if (entry.user !== undefined) compiled.user = entry.user.toLowerCase();
  if (entry.device !== undefined) compiled.device = entry.device.toLowerCase();
  if (entry.cert_sha256 !== undefined) compiled.cert = normalizeDigest(entry.cert_sha256);
  if (entry.spki_sha256 !== undefined) compiled.spki = normalizeDigest(entry.spki_sha256);
  if (entry.issuer !== undefined) compiled.issuer = normalizeDn(entry.issuer);
  if (entry.subject_pattern !== undefined) compiled.subject = globToRegExp(entry.subject_pattern);
  if (entry.source_cidr !== undefined) {
    const parsed = parseCidr(entry.source_cidr);
    // loadConfig has already refused bad networks; an entry built by hand fails loudly.
    if (!parsed.ok) throw new Error(`allowlists[${index}].source_cidr: ${parsed.error}`);
    compiled.cidr = parsed.cidr;
  }
  return compiled;
}

/** `*` any run of characters, `?` exactly one; everything else literal; case-insensitive, whole string. */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (const ch of glob) {
    if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else source += ch.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 'isu');
}

/** Lowercase hex without colons; a base64 pin-sha256 (44 characters) is converted to hex. */
export function normalizeDigest(digest: string): string {
  const trimmed = digest.trim();
  if (/^[A-Za-z0-9+/]{43}=$/.test(trimmed)) return Buffer.from(trimmed, 'base64').toString('hex');
  return trimmed.replace(/:/g, '').toLowerCase();
}

/**
 * Epoch ms at which an `expires` value takes effect, or NaN when it is not a real date.
 * A bare date means UTC midnight at the start of that day.
 */
export function parseExpiry(expires: string): number {
  const dateOnly = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/.exec(expires);
  if (dateOnly) {
    const [, y, m, d] = dateOnly;
    const ms = Date.UTC(Number(y), Number(m) - 1, Number(d));
    // Date.UTC rolls 2027-02-30 over to March: refuse dates that do not exist.
    return new Date(ms).toISOString().slice(0, 10) === expires ? ms : Number.NaN;
  }
  const normalized = expires.replace(' ', 'T');
  const datePart = normalized.slice(0, 10);
  const ms = Date.parse(normalized);
  if (Number.isNaN(ms) || Number.isNaN(parseExpiry(datePart))) return Number.NaN;
  return ms;
}
