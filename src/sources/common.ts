// Small helpers shared by the sources: TLS version canonicalisation, timestamp parsing and
// SAN classification. Everything here is on the per-event hot path, so results are cached
// per distinct input string where the input space is small.
import type { CertificateVisibility, Observation } from '../schema/event.ts';

const versionCache = new Map<string, string>();

/**
 * Canonical TLS version, one spelling for every source: `TLS 1.2`, `TLS 1.3`, `SSL 3.0`,
 * `DTLS 1.2`; drafts keep their suffix (`TLS 1.3-draft14`). Unrecognised values pass through.
 * Zeek writes `TLSv12`, Suricata `TLS 1.2`/`TLSv1`, ECS `1.2` with `tls.version_protocol: tls`.
 */
export function canonicalTlsVersion(raw: string, protocol?: string | null): string {
  const key = protocol ? `${protocol}\u0000${raw}` : raw;
  const hit = versionCache.get(key);
  if (hit !== undefined) return hit;
  let out = raw;
  // Zeek packs the digits (`TLSv12`), Suricata and nginx use a dot (`TLS 1.2`, `TLSv1.2`), and a
  // lone digit means `.0` (`SSLv3`, Suricata's `TLSv1`).
  const m = /^(dtls|tls|ssl)\s*v?\s*(\d)(?:\.?(\d))?(.*)$/i.exec(raw.trim());
  if (m) {
    out = `${m[1].toUpperCase()} ${m[2]}.${m[3] ?? '0'}${m[4] ?? ''}`;
  } else if (protocol && /^\d(\.\d)?$/.test(raw.trim())) {
    const proto = protocol.trim().toUpperCase();
    const v = raw.includes('.') ? raw.trim() : `${raw.trim()}.0`;
    out = `${proto === 'SSL' || proto === 'DTLS' ? proto : 'TLS'} ${v}`;
  }
  if (versionCache.size < 1000) versionCache.set(key, out);
  return out;
}

/** True for canonical TLS 1.3 / DTLS 1.3 (including drafts): certificates are encrypted on the wire. */
export function isTls13(canonical: string | null | undefined): boolean {
  return !!canonical && (canonical.startsWith('TLS 1.3') || canonical.startsWith('DTLS 1.3'));
}

/**
 * Client-certificate visibility for a passive sensor: `present` with a certificate; without one,
 * `not_visible` for TLS 1.3 or an unknown version, else `absent` when the source could have shown it.
 */
export function passiveVisibility(hasClientCert: boolean, version: string | null, couldShow: boolean): CertificateVisibility {
  if (hasClientCert) return 'present';
  if (!couldShow || version === null || isTls13(version)) return 'not_visible';
  return 'absent';
}

/** True when an ISO-like string carries a zone (`Z` or ±HH[:]MM after the time). */
function hasZone(s: string): boolean {
  const last = s.charCodeAt(s.length - 1);
  if (last === 90 /* Z */ || last === 122 /* z */) return true;
  const t = s.indexOf('T') >= 0 ? s.indexOf('T') : s.indexOf(' ');
  if (t < 0) return false;
  return s.indexOf('+', t) > 0 || s.indexOf('-', t) > 0;
}

/**
 * ISO 8601 (or RFC 3339 with `+0200`) → epoch ms; naive times are taken as UTC, never as local
 * time. Returns null when unparseable.
 */
export function parseIsoTime(s: string): number | null {
  if (s.length < 10) return null;
  const v = Date.parse(hasZone(s) || s.length === 10 ? s : `${s}Z`);
  return Number.isNaN(v) ? null : v;
}

const isoCache = new Map<string, string | null>();

/** A logged certificate date (ISO string, naive UTC, or epoch seconds) → ISO 8601 UTC, or null. Cached. */
export function certDateToIso(value: string | number): string | null {
  if (typeof value === 'number') {
    return Number.isFinite(value) ? new Date(value * 1000).toISOString() : null;
  }
  const hit = isoCache.get(value);
  if (hit !== undefined) return hit;
  let out: string | null = null;
  if (/^-?\d+(\.\d+)?$/.test(value)) out = certDateToIso(Number(value));
  else {
    const ms = parseIsoTime(value);
    out = ms === null ? null : new Date(ms).toISOString();
  }
  if (isoCache.size > 10_000) isoCache.clear();
  isoCache.set(value, out);
  return out;
}

/** Cheap IPv4/IPv6 literal check (no regex for the common non-IP case). */
export function looksLikeIp(s: string): boolean {
  if (s.indexOf(':') >= 0) return /^[0-9a-fA-F:.]+$/.test(s);
  const c = s.charCodeAt(0);
  if (c < 48 || c > 57) return false;
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(s);
}

/** Sort untyped SAN strings (ECS `alternative_names`, Suricata `subjectaltname`) by their look. */
export function classifySans(names: string[]): { dns: string[]; email: string[]; uri: string[]; ip: string[] } {
  const out = { dns: [] as string[], email: [] as string[], uri: [] as string[], ip: [] as string[] };
  for (const n of names) {
    if (n.indexOf('://') > 0) out.uri.push(n);
    else if (n.indexOf('@') > 0) out.email.push(n);
    else if (looksLikeIp(n)) out.ip.push(n);
    else out.dns.push(n);
  }
  return out;
}

/** Start an Observation with its provenance (kept in one place so every source fills the same shape first). */
export function baseObservation(format: string, file: string, line: number, ts: number | null): Observation {
  return { ts, format, file, line };
}

/**
 * The sample lines that are JSON objects, parsed (for format detection). `mustInclude` skips lines
 * without that text before parsing them.
 */
export function sampleJsonObjects(lines: readonly string[], mustInclude?: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const l of lines) {
    if (l.charCodeAt(0) !== 123 || (mustInclude !== undefined && !l.includes(mustInclude))) continue;
    let o: Record<string, unknown> | null;
    try {
      o = asJsonObject(JSON.parse(l));
    } catch {
      continue;
    }
    if (o) out.push(o);
  }
  return out;
}

/** A JSON object (not an array, not null), or null. */
export function asJsonObject(v: unknown): Record<string, unknown> | null {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

/**
 * One NDJSON line as an object. Anything else is an `invalid-json` skip naming the file and line
 * ("not valid JSON", with `hint` appended when given, or "not a JSON object"), and gives null.
 */
export function parseJsonObjectLine(
  text: string,
  lineNumber: number,
  ctx: { file: string; diagnostics: { skip(d: { reason: string; file?: string; line?: number; message: string }): void } },
  hint?: string,
): Record<string, unknown> | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    ctx.diagnostics.skip({
      reason: 'invalid-json',
      file: ctx.file,
      line: lineNumber,
      message: `line is not valid JSON${hint ? ` (${hint})` : ''}; skipped`,
    });
    return null;
  }
  const o = asJsonObject(parsed);
  if (!o)
    ctx.diagnostics.skip({
      reason: 'invalid-json',
      file: ctx.file,
      line: lineNumber,
      message: 'line is not a JSON object; skipped',
    });
  return o;
}
