// Helpers shared by the CA and MDM sources (step-ca, Vault, AD CS, generic CSV/JSON): event
// times in the forms CA logs write them, typed SAN lists, and the empty CaRecord every CA
// observation starts from.
import type { CaRecord, RawCertificate } from '../../schema/event.ts';
import { looksLikeIp, parseIsoTime } from '../common.ts';

/** Epoch values below this are seconds, at or above it milliseconds (1e11 s is the year 5138). */
const EPOCH_MS_FROM = 1e11;

/**
 * An event time as CA/MDM logs write it → epoch ms, or null: ISO 8601 / RFC 3339 (naive = UTC),
 * or epoch seconds / milliseconds (number or digits, fractions allowed).
 */
export function parseEventTime(value: unknown): number | null {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value <= 0) return null;
    return Math.round(value >= EPOCH_MS_FROM ? value : value * 1000);
  }
  if (typeof value !== 'string') return null;
  const t = value.trim();
  if (t.length === 0) return null;
  if (/^\d+(\.\d+)?$/.test(t)) return parseEventTime(Number(t));
  // RFC 3339 with nanoseconds (Vault, step-ca): Date.parse takes up to milliseconds only.
  const trimmed = t.replace(/(\.\d{3})\d+/, '$1');
  return parseIsoTime(trimmed);
}

/** A CaRecord with every field empty, to be filled by a source. */
export function emptyCaRecord(operation: string | null): CaRecord {
  return { ca: null, requester: null, template: null, request_id: null, operation, requested_san: [], reason: null };
}

/** SAN types the generic formats accept, with the spellings CAs use for them. */
const SAN_TYPES: Record<string, 'dns' | 'email' | 'upn' | 'uri' | 'ip'> = {
  dns: 'dns',
  dnsname: 'dns',
  email: 'email',
  rfc822: 'email',
  rfc822name: 'email',
  mail: 'email',
  upn: 'upn',
  uri: 'uri',
  url: 'uri',
  ip: 'ip',
  ipaddress: 'ip',
};

/** Typed SANs, as `type:value` strings split by type. */
export interface TypedSans {
  dns: string[];
  email: string[];
  upn: string[];
  uri: string[];
  ip: string[];
  /** Every SAN as `type:value` (canonical type names), in input order. */
  all: string[];
}

export function emptySans(): TypedSans {
  return { dns: [], email: [], upn: [], uri: [], ip: [], all: [] };
}

/** Adds one SAN of a (possibly aliased) type; returns false when the type is unknown. */
export function addSan(sans: TypedSans, type: string, value: string): boolean {
  const t = SAN_TYPES[type.trim().toLowerCase()];
  const v = value.trim();
  if (!t || v.length === 0) return false;
  sans[t].push(v);
  sans.all.push(`${t}:${v}`);
  return true;
}

/**
 * Parses a `;`-separated list of `type:value` SANs (the generic CSV `san` column). An entry
 * without a known type is classified by its look (e-mail, IP, URI, else DNS). Returns the SANs and
 * the entries whose type was not understood.
 */
export function parseSanList(text: string): { sans: TypedSans; unknown: string[] } {
  const sans = emptySans();
  const unknown: string[] = [];
  for (const raw of text.split(';')) {
    const entry = raw.trim();
    if (entry.length === 0) continue;
    const colon = entry.indexOf(':');
    const type = colon > 0 ? entry.slice(0, colon) : '';
    // `uri:https://x` has a colon in the value too; only the first one separates the type.
    if (colon > 0 && SAN_TYPES[type.trim().toLowerCase()]) {
      addSan(sans, type, entry.slice(colon + 1));
      continue;
    }
    if (entry.includes('://')) addSan(sans, 'uri', entry);
    else if (entry.includes('@')) addSan(sans, 'email', entry);
    else if (looksLikeIp(entry)) addSan(sans, 'ip', entry);
    else if (colon < 0) addSan(sans, 'dns', entry);
    else unknown.push(entry);
  }
  return { sans, unknown };
}

/** Copies typed SANs onto a RawCertificate (UPNs have no RawCertificate field: the event user carries them). */
export function sansToRaw(raw: RawCertificate, sans: TypedSans): void {
  if (sans.dns.length > 0) raw.san_dns = [...sans.dns];
  if (sans.email.length > 0) raw.san_email = [...sans.email];
  if (sans.uri.length > 0) raw.san_uri = [...sans.uri];
  if (sans.ip.length > 0) raw.san_ip = [...sans.ip];
}

/** A logged name that is a bare CN (`Corp Issuing CA`) or already a DN (`CN=…,O=…`) → a DN. */
export function dnOrCn(value: string | null | undefined): string | null {
  if (!value) return null;
  const v = value.trim();
  if (v.length === 0) return null;
  if (/^[A-Za-z][A-Za-z0-9.-]*\s*=/.test(v)) return v;
  // A bare CN: escape the RFC 4514 specials so the canonicaliser reads it as one value.
  return `CN=${v
    .replace(/([,+"\\<>;=])/g, '\\$1')
    .replace(/^([ #])/, '\\$1')
    .replace(/ $/, '\\ ')}`;
}

/** Trims; empty → null. */
export function nonEmpty(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const t = value.trim();
  return t.length > 0 ? t : null;
}

export { asJsonObject as asObj, parseJsonObjectLine } from '../common.ts';
