// Pseudonymisation of personal data in alerts before they leave certsignal (a SIEM, a ticket, an
// MSSP): account names, device names and the personal parts of certificate subjects (CN, e-mail,
// UID, UPN) become stable keyed tokens (HMAC-SHA256), so analysts can still correlate
// "anon-3f2a… did X twice" without seeing who it is. Certificate digests, issuers (CA names),
// organisation units and countries are kept: they are not personal and are needed for triage.
import { createHmac } from 'node:crypto';
import type { Alert } from '../schema/alert.ts';
import type { Incident } from '../schema/incident.ts';

/** Keys whose string values (or string array items) are personal identifiers. */
const IDENTIFIER_KEYS = new Set([
  'user',
  'users',
  'owner',
  'new_account',
  'event_user',
  'email',
  'owner_email',
  'san_email',
  'san_upn',
  'certificate_names',
  'device',
  'event_device',
  'hostname',
  'device_key',
]);
/** Keys whose values are subject DNs: only their personal attributes are collected (issuers are CAs; a self-signed issuer equals its subject and is replaced through it). */
const DN_KEYS = new Set(['subject']);
const PERSONAL_DN_ATTRIBUTES = /(?:^|,)\s*(CN|emailAddress|UID|1\.2\.840\.113549\.1\.9\.1)=((?:\\.|[^,+])*)/gi;

export class Pseudonymiser {
  private readonly key: Buffer;
  private readonly cache = new Map<string, string>();

  constructor(key: string | Buffer) {
    this.key = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
    if (this.key.length < 16) throw new Error('pseudonymisation key must be at least 16 bytes');
  }

  /** The stable token for one identifier (case-insensitive: Alice and alice are one person). */
  token(value: string): string {
    const k = value.toLowerCase();
    let t = this.cache.get(k);
    if (t === undefined) {
      t = `anon-${createHmac('sha256', this.key).update(k).digest('hex').slice(0, 12)}`;
      if (this.cache.size < 100_000) this.cache.set(k, t);
    }
    return t;
  }

  /** A copy of the alert with every personal identifier replaced, wherever it appears (summary included). */
  alert(alert: Alert): Alert {
    const found = new Set<string>();
    collect(alert, null, found);
    const values = [...found].filter((v) => v.length >= 2).sort((a, b) => b.length - a.length);
    if (values.length === 0) return alert;
    const replace = (text: string): string => {
      let out = text;
      for (const v of values) if (out.includes(v)) out = out.split(v).join(this.token(v));
      return out;
    };
    return rewrite(alert, replace) as Alert;
  }

  /**
   * A copy of the incident record with its accounts and devices (entities, main entity, summary)
   * replaced by the same tokens the alerts get. Ids, alert ids and keys are kept as they are.
   */
  incident(incident: Incident): Incident {
    const found = new Set<string>();
    collect(incident, null, found);
    for (const v of [...incident.entities.users, ...incident.entities.devices]) found.add(v);
    const values = [...found].filter((v) => v.length >= 2).sort((a, b) => b.length - a.length);
    if (values.length === 0) return incident;
    const replace = (text: string): string => {
      let out = text;
      for (const v of values) if (out.includes(v)) out = out.split(v).join(this.token(v));
      return out;
    };
    const out = rewrite(incident, replace) as Incident;
    // Digests are not personal, and a name that happens to be a substring of one must not break it.
    return {
      ...out,
      id: incident.id,
      alerts: incident.alerts,
      merged: incident.merged,
      entities: { ...out.entities, keys: incident.entities.keys },
    };
  }
}

function collect(value: unknown, key: string | null, found: Set<string>): void {
  if (typeof value === 'string') {
    if (key !== null && IDENTIFIER_KEYS.has(key)) {
      found.add(value);
      // The local part of an e-mail-like account is the person too (alice@corp → alice).
      const at = value.indexOf('@');
      if (at > 1) found.add(value.slice(0, at));
    } else if (key !== null && DN_KEYS.has(key)) {
      for (const m of value.matchAll(PERSONAL_DN_ATTRIBUTES)) found.add(m[2]);
    }
    return;
  }
  if (Array.isArray(value)) {
    for (const item of value) collect(item, key, found);
    return;
  }
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    // An entity reference names a person only when it is a user or device.
    if (typeof obj.kind === 'string' && typeof obj.id === 'string' && (obj.kind === 'user' || obj.kind === 'device'))
      found.add(obj.id);
    for (const [k, v] of Object.entries(obj)) collect(v, k, found);
  }
}

function rewrite(value: unknown, replace: (s: string) => string): unknown {
  if (typeof value === 'string') return replace(value);
  if (Array.isArray(value)) return value.map((v) => rewrite(v, replace));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = rewrite(v, replace);
    return out;
  }
  return value;
}
