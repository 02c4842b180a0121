// cert-churn (seed 002 pattern 1): a user or device presents more new client certificates in a
// short window than re-enrolment explains — an attacker re-provisioning certificates after key
// theft or to dodge revocation — or switches to short-lived certificates when it normally uses
// long-lived ones. Counted per user and per device separately; one signal per burst. A certificate
// counts once per entity whether a CA log shows it issued or a gateway shows it presented first.
import { Type } from 'typebox';
import type { CertInfo, NormalizedEvent } from '../../schema/event.ts';
import type { KeyedState, Rule, RuleContext, RuleInstance, Signal } from '../types.ts';

/** Config block `rules.cert-churn`. */
export interface Config {
  /** Fire when MORE than this many new certificates appear for one entity within the window. */
  max_new_certs: number;
  window_minutes: number;
  /** Size of the per-entity memory of known certificates (least recently seen is forgotten first). */
  known_certs_per_entity: number;
  /** A certificate whose lifetime (notAfter − notBefore) is at most this is short-lived. */
  short_lived_max_hours: number;
  /** Short-lived trigger: at least this many new short-lived certificates within the short window… */
  short_lived_min_certs: number;
  short_lived_window_hours: number;
  /** …for an entity that has at least this many long-lived certificates (and fewer short-lived ones before). */
  short_lived_min_long_lived_certs: number;
  /** Issuer DNs (RFC 4514) whose certificates rotate by design; ignored by both triggers. */
  exempt_issuers: string[];
}

export const configSchema = Type.Object(
  {
    max_new_certs: Type.Integer({
      minimum: 1,
      maximum: 1000,
      default: 3,
      description: 'Fire on more than this many new certificates per entity within window_minutes.',
    }),
    window_minutes: Type.Number({
      exclusiveMinimum: 0,
      default: 60,
      description: 'Sliding window for counting new certificates (inclusive at the edge).',
    }),
    known_certs_per_entity: Type.Integer({
      minimum: 1,
      maximum: 1024,
      default: 32,
      description: 'Known certificates remembered per entity (LRU).',
    }),
    short_lived_max_hours: Type.Number({
      exclusiveMinimum: 0,
      default: 24,
      description: 'Lifetime at or under which a certificate counts as short-lived.',
    }),
    short_lived_min_certs: Type.Integer({
      minimum: 1,
      maximum: 1000,
      default: 2,
      description: 'New short-lived certificates within short_lived_window_hours that fire the short-lived variant.',
    }),
    short_lived_window_hours: Type.Number({
      exclusiveMinimum: 0,
      default: 24,
      description: 'Window for the short-lived variant.',
    }),
    short_lived_min_long_lived_certs: Type.Integer({
      minimum: 1,
      default: 1,
      description: 'Long-lived certificates the entity must have shown before short-lived ones are unusual.',
    }),
    exempt_issuers: Type.Array(Type.String(), {
      default: [],
      description: 'Issuer DNs exempt from both triggers (global automation_issuers are merged in).',
    }),
  },
  { additionalProperties: false },
);

export const defaults: Config = {
  max_new_certs: 3,
  window_minutes: 60,
  known_certs_per_entity: 32,
  short_lived_max_hours: 24,
  short_lived_min_certs: 2,
  short_lived_window_hours: 24,
  short_lived_min_long_lived_certs: 1,
  exempt_issuers: [],
};

/** A certificate first seen for an entity, as kept in state for burst evidence. Times are epoch ms. */
interface NewCertRecord {
  sha256: string | null;
  spki_sha256: string | null;
  subject: string | null;
  issuer: string | null;
  serial: string | null;
  not_before: string | null;
  not_after: string | null;
  first_seen: number;
  source_ip: string | null;
  user: string | null;
  device: string | null;
  /** Where the entity's first sighting of it came from: a CA issuance log or a presentation. */
  via?: 'issuance' | 'presentation';
}

interface Burst {
  start: number;
  last: number;
  /** New certificates seen in the burst after it was reported (not in the reported evidence). */
  more: number;
}

/**
 * Per-entity state (namespace `cert-churn/user` or `cert-churn/device`, keyed by the id).
 *
 * Compact form: almost every entity only ever shows one certificate, so `known`, `known_sha1` and
 * `known_alt` hold that certificate's identities as plain strings, and `recent` / `short_recent`
 * are null until a new certificate appears; the lists are created on the entity's second
 * certificate (see expand). State written by earlier versions (always lists, `[]` for empty
 * `recent`) is read as is.
 */
export interface EntityState {
  first_seen: number;
  /** Certificate identities (see certIdentity), least recently seen first; a string while there is one. */
  known: string | string[];
  /** Parallel to `known`: the SHA-1 of the same certificate or '' (joins SHA-1-only log sources). */
  known_sha1: string | string[];
  /**
   * Parallel to `known`: the issuer + serial identity (see issuerSerialIdentity) or ''. CA logs
   * often carry only issuer + serial while gateways carry the SHA-256: both must name one
   * certificate. Absent in state written before issuance events were counted.
   */
  known_alt?: string | string[];
  /** New certificates, oldest first, at most max_new_certs + 1, none older than the window (null: none yet). */
  recent: NewCertRecord[] | null;
  burst: Burst | null;
  /** Distinct certificates seen, by lifetime class (capped counters). */
  long_lived: number;
  short_lived: number;
  /** New short-lived certificates within the short window, oldest first, at most short_lived_min_certs. */
  short_recent: NewCertRecord[] | null;
  short_burst: Burst | null;
}

type EntityKind = 'user' | 'device';

const HOUR_MS = 3_600_000;
const COUNTER_CAP = 1_000_000;

/** Issuer DN compared case-insensitively, ignoring spaces after RDN separators. */
export function normalizeIssuer(dn: string): string {
  return dn
    .trim()
    .toLowerCase()
    .replace(/\s*,\s*/g, ',');
}

// Identity of a certificate: SHA-256 of the DER; for logged certificates without it, SHA-1, then
// SPKI + serial, then issuer + serial. Derived ids are cached per CertInfo object (normalize
// shares one object per distinct certificate), so the hot path allocates nothing.
const derivedIds = new WeakMap<CertInfo, string | null>();

/** Raw issuer → normalizeIssuer(raw): issuers are few, and every alt identity then shares one string. */
const issuerMemo = new Map<string, string>();

function normalizedIssuer(raw: string): string {
  let v = issuerMemo.get(raw);
  if (v === undefined) {
    v = normalizeIssuer(raw);
    if (issuerMemo.size >= 10_000) issuerMemo.clear();
    issuerMemo.set(raw, v);
  }
  return v;
}

// Cached per CertInfo like derivedIds: the user and the device of an event then keep one string
// between them instead of one each (it is the largest string cert-churn stores per entity).
const altIds = new WeakMap<CertInfo, string | null>();

/** `issuer-serial:<issuer>/<serial>` for a certificate with both, else null (the second identity kept per known certificate). */
export function issuerSerialIdentity(c: CertInfo): string | null {
  let id = altIds.get(c);
  if (id === undefined) {
    id = c.serial && c.issuer ? `issuer-serial:${normalizedIssuer(c.issuer)}/${c.serial}` : null;
    altIds.set(c, id);
  }
  return id;
}

/** The state's known-certificate lists, created from the compact one-certificate form when needed. */
interface KnownLists {
  known: string[];
  known_sha1: string[];
  known_alt: string[];
}

/**
 * Turns `s` into its list form (in place) and returns it: the compact one-certificate form gets
 * one-element lists; state from before issuance counting gets `known_alt` filled with ''.
 */
export function expand(s: EntityState): EntityState & KnownLists {
  if (typeof s.known === 'string') {
    s.known = [s.known];
    s.known_sha1 = [typeof s.known_sha1 === 'string' ? s.known_sha1 : ''];
    s.known_alt = [typeof s.known_alt === 'string' ? s.known_alt : ''];
  }
  if (typeof s.known_sha1 === 'string') s.known_sha1 = s.known.map(() => '');
  if (!Array.isArray(s.known_alt) || s.known_alt.length !== s.known.length) s.known_alt = s.known.map(() => '');
  return s as EntityState & KnownLists;
}

/** The id under which cert-churn remembers a certificate, or null when it cannot be identified. */
export function certIdentity(c: CertInfo): string | null {
  if (c.sha256) return c.sha256;
  const cached = derivedIds.get(c);
  if (cached !== undefined) return cached;
  let id: string | null = null;
  if (c.sha1) id = `sha1:${c.sha1}`;
  else if (c.serial && c.spki_sha256) id = `spki-serial:${c.spki_sha256}/${c.serial}`;
  else if (c.serial && c.issuer) id = `issuer-serial:${normalizeIssuer(c.issuer)}/${c.serial}`;
  derivedIds.set(c, id);
  return id;
}

function lifetimeMs(c: CertInfo): number | null {
  if (!c.not_before || !c.not_after) return null;
  const ms = Date.parse(c.not_after) - Date.parse(c.not_before);
  return Number.isFinite(ms) ? ms : null;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function recordOf(c: CertInfo, e: NormalizedEvent): NewCertRecord {
  return {
    sha256: c.sha256,
    spki_sha256: c.spki_sha256,
    subject: c.subject,
    issuer: c.issuer,
    serial: c.serial,
    not_before: c.not_before,
    not_after: c.not_after,
    first_seen: e.ts,
    source_ip: e.source_ip,
    user: e.user,
    device: e.device,
    via: e.kind === 'issuance' ? 'issuance' : 'presentation',
  };
}

function evidenceCert(r: NewCertRecord): Record<string, unknown> {
  return {
    sha256: r.sha256,
    spki_sha256: r.spki_sha256,
    subject: r.subject,
    issuer: r.issuer,
    serial: r.serial,
    not_before: r.not_before,
    not_after: r.not_after,
    first_seen: iso(r.first_seen),
    source_ip: r.source_ip,
    user: r.user,
    device: r.device,
    via: r.via ?? 'presentation',
  };
}

/** "; 2 issued by a CA, 2 first presented" when any certificate came from an issuance log, else "". */
function viaText(records: NewCertRecord[]): string {
  const issued = records.filter((r) => r.via === 'issuance').length;
  return issued === 0 ? '' : `; ${issued} issued by a CA, ${records.length - issued} first presented`;
}

function minutes(ms: number): number {
  return Math.round((ms / 60_000) * 10) / 10;
}

class CertChurn implements RuleInstance {
  private readonly config: Config;
  private readonly users: KeyedState<EntityState>;
  private readonly devices: KeyedState<EntityState>;
  private readonly windowMs: number;
  private readonly shortMaxMs: number;
  private readonly shortWindowMs: number;
  private readonly exempt: Set<string>;
  /** Raw issuer string → exempt?; issuers are few, so this stays small. */
  private readonly exemptCache = new Map<string, boolean>();
  /** Signals of the current event (user and device), reused so events without one allocate nothing. */
  private readonly found: Signal[] = [];
  private readonly collect = (signal: Signal): void => {
    this.found.push(signal);
  };

  constructor(config: Config, ctx: RuleContext) {
    this.config = config;
    this.users = ctx.state<EntityState>('user');
    this.devices = ctx.state<EntityState>('device');
    this.windowMs = config.window_minutes * 60_000;
    this.shortMaxMs = config.short_lived_max_hours * HOUR_MS;
    this.shortWindowMs = config.short_lived_window_hours * HOUR_MS;
    this.exempt = new Set(config.exempt_issuers.map(normalizeIssuer));
  }

  observe(event: NormalizedEvent, emit: (signal: Signal) => void): void {
    // A failed handshake proves nothing was provisioned for the entity; rejected certificates are
    // the business of untrusted-issuer / expired-cert / revoked-cert.
    if (event.outcome === 'failure') return;
    const cert = event.certificate;
    if (cert === null) return;
    const id = certIdentity(cert);
    if (id === null) return;
    if (this.exempt.size > 0 && cert.issuer !== null && this.isExempt(cert.issuer)) return;
    const found = this.found;
    found.length = 0;
    if (event.user !== null) this.observeEntity('user', event.user, this.users, event, cert, id, this.collect);
    if (event.device !== null) this.observeEntity('device', event.device, this.devices, event, cert, id, this.collect);
    if (found.length === 0) return;
    for (const signal of mergeSameBurst(found.splice(0))) emit(signal);
  }

  private isExempt(issuer: string): boolean {
    let v = this.exemptCache.get(issuer);
    if (v === undefined) {
      v = this.exempt.has(normalizeIssuer(issuer));
      if (this.exemptCache.size > 10_000) this.exemptCache.clear();
      this.exemptCache.set(issuer, v);
    }
    return v;
  }

  private observeEntity(
    kind: EntityKind,
    entityId: string,
    store: KeyedState<EntityState>,
    event: NormalizedEvent,
    cert: CertInfo,
    id: string,
    emit: (signal: Signal) => void,
  ): void {
    const s = store.get(entityId);
    if (s === undefined) {
      const lifetime = lifetimeMs(cert);
      // The entity's first certificate is its baseline, never "new": on a fresh state every
      // entity's current certificate would otherwise count towards churn.
      store.set(entityId, {
        first_seen: event.ts,
        known: id,
        known_sha1: cert.sha1 ?? '',
        known_alt: issuerSerialIdentity(cert) ?? '',
        recent: null,
        burst: null,
        long_lived: lifetime !== null && lifetime > this.shortMaxMs ? 1 : 0,
        short_lived: lifetime !== null && lifetime <= this.shortMaxMs ? 1 : 0,
        short_recent: null,
        short_burst: null,
      });
      return;
    }
    // The common case: same certificate as last time (nothing to change, nothing to allocate).
    const k = s.known;
    if (typeof k === 'string' ? k === id : k[k.length - 1] === id) return;
    const lists = expand(s);
    const known = lists.known;
    const alts = lists.known_alt;
    const alt = issuerSerialIdentity(cert);
    let idx = known.indexOf(id);
    if (idx < 0 && cert.sha1 !== null) {
      // Seen before by a source that only logged the SHA-1 (or vice versa).
      idx = lists.known_sha1.indexOf(cert.sha1);
      if (idx >= 0 && cert.sha256 !== null) known[idx] = id;
    }
    if (idx < 0 && alt !== null) {
      // Issued (CA log: issuer + serial) and later presented (gateway: SHA-256), or vice versa.
      idx = alts.indexOf(alt);
      if (idx >= 0 && cert.sha256 !== null) known[idx] = id;
    }
    if (idx >= 0) {
      // Known: move to the most-recent end so long-used certificates are not evicted.
      const sha1 = lists.known_sha1[idx] || (cert.sha1 ?? '');
      const knownAlt = alts[idx] || (alt ?? '');
      known.splice(idx, 1);
      lists.known_sha1.splice(idx, 1);
      alts.splice(idx, 1);
      known.push(id);
      lists.known_sha1.push(sha1);
      alts.push(knownAlt);
      store.set(entityId, s);
      return;
    }

    // A new certificate for this entity.
    known.push(id);
    lists.known_sha1.push(cert.sha1 ?? '');
    alts.push(alt ?? '');
    if (known.length > this.config.known_certs_per_entity) {
      known.shift();
      lists.known_sha1.shift();
      alts.shift();
    }
    const record = recordOf(cert, event);
    this.checkChurn(kind, entityId, s, event, record, emit);
    const lifetime = lifetimeMs(cert);
    if (lifetime !== null) {
      if (lifetime <= this.shortMaxMs) {
        s.short_lived = Math.min(s.short_lived + 1, COUNTER_CAP);
        this.checkShortLived(kind, entityId, s, event, record, lifetime, emit);
      } else {
        s.long_lived = Math.min(s.long_lived + 1, COUNTER_CAP);
      }
    }
    store.set(entityId, s);
  }

  private checkChurn(
    kind: EntityKind,
    entityId: string,
    s: EntityState,
    event: NormalizedEvent,
    record: NewCertRecord,
    emit: (signal: Signal) => void,
  ): void {
    const ts = event.ts;
    if (s.recent === null) s.recent = [];
    const recent = s.recent;
    while (recent.length > 0 && ts - recent[0].first_seen > this.windowMs) recent.shift();
    recent.push(record);
    const limit = this.config.max_new_certs;
    // Only the last limit+1 matter: the condition is "the (limit+1)-th newest is inside the window".
    while (recent.length > limit + 1) recent.shift();
    if (s.burst !== null && ts - s.burst.last <= this.windowMs) {
      // Same burst, already reported once.
      s.burst.last = ts;
      s.burst.more += 1;
      return;
    }
    s.burst = null;
    if (recent.length <= limit) return;
    const start = recent[0].first_seen;
    s.burst = { start, last: ts, more: 0 };
    const span = ts - start;
    const label = `${kind} ${entityId}`;
    emit({
      rule: 'cert-churn',
      summary: `${recent.length} new certificates for ${label} in ${minutes(span)} min (threshold >${limit} in ${this.config.window_minutes} min)${viaText(recent)}`,
      dedup_key: `${kind}:${entityId}:${iso(start)}`,
      event,
      evidence: {
        entity: { kind, id: entityId },
        new_certificates: recent.length,
        from_issuance: recent.filter((r) => r.via === 'issuance').length,
        from_presentation: recent.filter((r) => r.via !== 'issuance').length,
        threshold: { max_new_certs: limit, window_minutes: this.config.window_minutes },
        burst_start: iso(start),
        span_minutes: minutes(span),
        entity_first_seen: iso(s.first_seen),
        known_certificates: typeof s.known === 'string' ? 1 : s.known.length,
        certificates: recent.map(evidenceCert),
      },
    });
  }

  private checkShortLived(
    kind: EntityKind,
    entityId: string,
    s: EntityState,
    event: NormalizedEvent,
    record: NewCertRecord,
    lifetime: number,
    emit: (signal: Signal) => void,
  ): void {
    const ts = event.ts;
    if (s.short_recent === null) s.short_recent = [];
    const recent = s.short_recent;
    while (recent.length > 0 && ts - recent[0].first_seen > this.shortWindowMs) recent.shift();
    recent.push(record);
    const needed = this.config.short_lived_min_certs;
    while (recent.length > needed) recent.shift();
    if (s.short_burst !== null && ts - s.short_burst.last <= this.shortWindowMs) {
      s.short_burst.last = ts;
      s.short_burst.more += 1;
      return;
    }
    s.short_burst = null;
    if (recent.length < needed) return;
    // "Normally long-lived": enough long-lived certificates, and short-lived ones were not
    // already the habit before this window (an entity that rotates short-lived certificates
    // routinely never fires; it learns).
    const shortBefore = s.short_lived - recent.length;
    const longMin = this.config.short_lived_min_long_lived_certs;
    if (s.long_lived < longMin || shortBefore >= s.long_lived) return;
    const start = recent[0].first_seen;
    s.short_burst = { start, last: ts, more: 0 };
    const hours = this.config.short_lived_max_hours;
    emit({
      rule: 'cert-churn',
      variant: 'short-lived',
      summary: `${recent.length} new short-lived certificates (≤${hours} h) for ${kind} ${entityId} within ${this.config.short_lived_window_hours} h; it normally uses long-lived ones (${s.long_lived} seen)`,
      dedup_key: `${kind}:${entityId}:short-lived:${iso(start)}`,
      event,
      evidence: {
        entity: { kind, id: entityId },
        new_short_lived_certificates: recent.length,
        latest_lifetime_hours: Math.round((lifetime / HOUR_MS) * 100) / 100,
        baseline: { long_lived_certificates: s.long_lived, short_lived_certificates_before: shortBefore },
        threshold: {
          short_lived_max_hours: hours,
          short_lived_min_certs: needed,
          short_lived_window_hours: this.config.short_lived_window_hours,
          short_lived_min_long_lived_certs: longMin,
        },
        burst_start: iso(start),
        certificates: recent.map(evidenceCert),
      },
    });
  }
}

/**
 * When the user and the device cross the threshold on the same event, it is one burst seen from
 * two sides: report it once (the user's signal, naming the device too) so the entity's risk is not
 * counted twice for one finding.
 */
function mergeSameBurst(found: Signal[]): Signal[] {
  if (found.length < 2) return found;
  const out: Signal[] = [];
  for (const signal of found) {
    const twin = out.find((o) => o.variant === signal.variant);
    if (!twin) {
      out.push(signal);
      continue;
    }
    const other = signal.evidence.entity as { kind: string; id: string };
    twin.evidence.also_entities = [...((twin.evidence.also_entities as unknown[]) ?? []), other];
    twin.summary = `${twin.summary}; ${other.kind} ${other.id} too`;
  }
  return out;
}

/** The cert-churn rule. */
export const rule: Rule<Config> = {
  meta: {
    id: 'cert-churn',
    title: 'Client certificate churn',
    description:
      'More than max_new_certs certificates never seen before for one user or one device within window_minutes, or a jump to short-lived certificates for an entity that normally uses long-lived ones.',
    default_weight: 40,
    event_kinds: ['authentication', 'issuance'],
    variant_weights: { 'short-lived': 40 },
    references: [
      'seed 002 pattern 1 (device certificate churn)',
      'issue 4: churn counts issuances as well as first presentations',
    ],
    false_positives: [
      'Device re-enrolment or MDM re-provisioning that issues several certificates at once (raise max_new_certs or allowlist the issuer).',
      'Automation that rotates short-lived certificates by design (list its issuer in exempt_issuers / automation_issuers).',
      'Users with many devices on a first run with empty state: five or more devices seen within one window look like churn once.',
    ],
  },
  configSchema,
  defaults,
  create(config: Config, ctx: RuleContext): RuleInstance {
    return new CertChurn(config, ctx);
  },
};
