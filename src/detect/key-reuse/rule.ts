// key-reuse (seed 002 pattern 2): one public key (SPKI) — or, when the key is unknown, one
// certificate — tied to different accounts, or to different subjects. A client certificate binds
// an identity to a private key; the same key under another account means sharing, cloning or
// replay. Keys shared by many accounts (app certificates shipped to every client) are reported
// once as a misconfiguration instead of once per account.
import { Type } from 'typebox';
import type { CertInfo, NormalizedEvent } from '../../schema/event.ts';
import type { KeyedState, Rule, RuleContext, RuleInstance, Signal } from '../types.ts';

/** Config block `rules.key-reuse`. */
export interface Config {
  /** How long a key stays bound to an account after the account last used it. */
  binding_memory_days: number;
  /** More accounts than this on one key: report one `shared-key` signal and stop per-account alerts. */
  shared_key_accounts: number;
  /** Confidence of the `multi-subject` variant (same account, different subject DNs). */
  multi_subject_confidence: number;
}

export const configSchema = Type.Object(
  {
    binding_memory_days: Type.Number({
      exclusiveMinimum: 0,
      default: 30,
      description: 'Days a key stays bound to an account after its last use by that account.',
    }),
    shared_key_accounts: Type.Integer({
      minimum: 2,
      maximum: 1000,
      default: 10,
      description: 'Above this many accounts a key is reported once as shared (misconfiguration).',
    }),
    multi_subject_confidence: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.5,
      description: 'Confidence of the multi-subject variant.',
    }),
  },
  { additionalProperties: false },
);

export const defaults: Config = {
  binding_memory_days: 30,
  shared_key_accounts: 10,
  multi_subject_confidence: 0.5,
};

/** How the key was identified: its SPKI, or (logged certificates) the certificate digest. */
export type KeyBasis = 'spki_sha256' | 'cert_sha256' | 'cert_sha1';

interface AccountEntry {
  user: string;
  first_seen: number;
  last_seen: number;
}

interface SubjectEntry {
  subject: string;
  /**
   * normalizeDn(subject), written by earlier versions; no longer stored (it is recomputed on the
   * rare path that needs it) and ignored when present.
   */
  norm?: string;
  user: string | null;
  first_seen: number;
  last_seen: number;
}

interface DeviceEntry {
  device: string;
  first_seen: number;
  last_seen: number;
}

interface CertEntry {
  sha256: string | null;
  subject: string | null;
  issuer: string | null;
  serial: string | null;
  not_before: string | null;
  not_after: string | null;
  first_seen: number;
}

/**
 * None, one or several entries. Almost every key has exactly one account, subject, device and
 * certificate, so a single entry is stored as itself and a list is created only when a second
 * one appears (an empty list is null). State written by earlier versions (always lists) is read
 * as is.
 */
export type Few<T> = T | T[] | null;

/**
 * Per-key state (namespace `key-reuse/key`, keyed by keyIdentity). Lists are capped (see README)
 * and compact (see Few).
 */
export interface KeyState {
  basis: KeyBasis;
  first_seen: number;
  last_seen: number;
  accounts: Few<AccountEntry>;
  subjects: Few<SubjectEntry>;
  devices: Few<DeviceEntry>;
  certs: Few<CertEntry>;
  /** When the shared-key signal was emitted (then per-account alerts stop), else null. */
  shared_at: number | null;
}

const DAY_MS = 86_400_000;
/** last_seen is refreshed at this resolution so steady traffic does not dirty state on every event. */
const TOUCH_MS = 60_000;
const MAX_SUBJECTS = 16;
const MAX_DEVICES = 16;
const MAX_CERTS = 8;

// Only the id string is cached per CertInfo (normalize shares one object per distinct
// certificate), not an { id, basis } object: the cache lives as long as the certificate does.
const keyIds = new WeakMap<CertInfo, string | null>();

/** How a certificate's key is identified (see keyIdentity). */
export function keyBasis(c: CertInfo): KeyBasis | null {
  return c.spki_sha256 ? 'spki_sha256' : c.sha256 ? 'cert_sha256' : c.sha1 ? 'cert_sha1' : null;
}

/** keyIdentity's id alone, cached: the hot path allocates nothing. */
export function keyId(c: CertInfo): string | null {
  let id = keyIds.get(c);
  if (id !== undefined) return id;
  if (c.spki_sha256) id = c.spki_sha256;
  else if (c.sha256) id = `cert:${c.sha256}`;
  else if (c.sha1) id = `cert-sha1:${c.sha1}`;
  else id = null;
  keyIds.set(c, id);
  return id;
}

/** The key a certificate is tracked under: its SPKI SHA-256, else the certificate SHA-256, else SHA-1. */
export function keyIdentity(c: CertInfo): { id: string; basis: KeyBasis } | null {
  const id = keyId(c);
  const basis = keyBasis(c);
  return id === null || basis === null ? null : { id, basis };
}

/** Subject DN in comparable form: lower case, no spaces around `,` `+` `=`. */
export function normalizeDn(dn: string): string {
  return dn
    .trim()
    .toLowerCase()
    .replace(/\s*([,+=])\s*/g, '$1');
}

/** The entries of a Few as a list (a new array for none or one: for the rare paths and evidence). */
export function entries<T>(f: Few<T> | undefined): T[] {
  return f === null || f === undefined ? [] : Array.isArray(f) ? f : [f];
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function short(id: string): string {
  return id.length > 20 ? `${id.slice(0, 16)}…` : id;
}

class KeyReuse implements RuleInstance {
  private readonly config: Config;
  private readonly keys: KeyedState<KeyState>;
  private readonly memoryMs: number;

  constructor(config: Config, ctx: RuleContext) {
    this.config = config;
    this.keys = ctx.state<KeyState>('key');
    this.memoryMs = config.binding_memory_days * DAY_MS;
  }

  observe(event: NormalizedEvent, emit: (signal: Signal) => void): void {
    // A rejected handshake does not bind a key to anyone.
    if (event.outcome === 'failure') return;
    const cert = event.certificate;
    if (cert === null) return;
    const id = keyId(cert);
    if (id === null) return;
    const ts = event.ts;
    const user = event.user;
    let s = this.keys.get(id);
    if (s === undefined) {
      const basis = keyBasis(cert) as KeyBasis;
      s = {
        basis,
        first_seen: ts,
        last_seen: ts,
        accounts: user === null ? null : { user, first_seen: ts, last_seen: ts },
        subjects:
          basis === 'spki_sha256' && cert.subject !== null
            ? { subject: cert.subject, user, first_seen: ts, last_seen: ts }
            : null,
        devices: event.device === null ? null : { device: event.device, first_seen: ts, last_seen: ts },
        certs: certEntry(cert, ts),
        shared_at: null,
      };
      this.keys.set(id, s);
      return;
    }

    let dirty = false;
    if (ts - s.last_seen >= TOUCH_MS) {
      s.last_seen = ts;
      dirty = true;
    }
    if (event.device !== null && this.touchDevice(s, event.device, ts)) dirty = true;
    if (this.touchCert(s, cert, ts)) dirty = true;

    let accountSignal = false;
    if (user !== null) {
      const r = this.touchAccount(s, id, user, event, emit);
      if (r !== 'known') dirty = true;
      accountSignal = r === 'signalled';
    }
    // Only a key identified by its SPKI can appear under two subjects: one certificate digest has
    // one subject, and differences there would only be formatting.
    if (s.basis === 'spki_sha256' && cert.subject !== null) {
      if (this.touchSubject(s, id, cert.subject, user, event, !accountSignal, emit)) dirty = true;
    }
    if (dirty) this.keys.set(id, s);
  }

  /** Records use of the key by `user`; emits for a newly bound account. */
  private touchAccount(
    s: KeyState,
    keyId: string,
    user: string,
    event: NormalizedEvent,
    emit: (signal: Signal) => void,
  ): 'known' | 'updated' | 'signalled' {
    const ts = event.ts;
    const one = s.accounts;
    if (one === null) {
      if (s.shared_at !== null) return 'known';
      // The first account: more than shared_key_accounts (at least 2) cannot be reached.
      s.accounts = { user, first_seen: ts, last_seen: ts };
      return 'updated';
    }
    if (!Array.isArray(one)) {
      if (one.user === user) {
        if (ts - one.last_seen < TOUCH_MS) return 'known';
        one.last_seen = ts;
        return 'updated';
      }
      if (s.shared_at !== null) return 'known';
    }
    const accounts = Array.isArray(one) ? one : [one];
    s.accounts = accounts;
    for (let i = 0; i < accounts.length; i++) {
      const a = accounts[i];
      if (a.user === user) {
        if (ts - a.last_seen < TOUCH_MS) return 'known';
        a.last_seen = ts;
        return 'updated';
      }
    }
    if (s.shared_at !== null) return 'known'; // reported once as shared; per-account tracking stops
    // Forget bindings the memory window has passed: a key re-assigned after a month is not replay.
    const horizon = ts - this.memoryMs;
    for (let i = accounts.length - 1; i >= 0; i--) if (accounts[i].last_seen < horizon) accounts.splice(i, 1);
    const others = accounts.length;
    accounts.push({ user, first_seen: ts, last_seen: ts });
    if (accounts.length > this.config.shared_key_accounts) {
      s.shared_at = ts;
      emit({
        rule: 'key-reuse',
        variant: 'shared-key',
        summary: `key ${short(keyId)} is used by ${accounts.length} accounts (more than ${this.config.shared_key_accounts}): a shared certificate/key, reported once`,
        dedup_key: `${keyId}:shared-key`,
        event,
        evidence: this.evidence(s, keyId, user, 'shared-key'),
      });
      return 'signalled';
    }
    if (others === 0) return 'updated';
    const bound = accounts
      .slice(0, -1)
      .map((a) => a.user)
      .join(', ');
    emit({
      rule: 'key-reuse',
      summary: `key ${short(keyId)} bound to ${bound} is now presented by ${user} (${accounts.length} accounts within ${this.config.binding_memory_days} d; threshold >1)`,
      dedup_key: `${keyId}:${user}`,
      event,
      evidence: this.evidence(s, keyId, user, 'account'),
    });
    return 'signalled';
  }

  /** Records the subject; emits `multi-subject` for a new subject under the same (or no) account. */
  private touchSubject(
    s: KeyState,
    keyId: string,
    subject: string,
    user: string | null,
    event: NormalizedEvent,
    mayEmit: boolean,
    emit: (signal: Signal) => void,
  ): boolean {
    const ts = event.ts;
    const one = s.subjects;
    if (one !== null && !Array.isArray(one) && one.subject === subject) {
      if (ts - one.last_seen < TOUCH_MS) return false;
      one.last_seen = ts;
      return true;
    }
    const subjects = one === null ? [] : Array.isArray(one) ? one : [one];
    for (let i = 0; i < subjects.length; i++) {
      const e = subjects[i];
      if (e.subject === subject) {
        if (ts - e.last_seen < TOUCH_MS) return false;
        e.last_seen = ts;
        return true;
      }
    }
    const norm = normalizeDn(subject);
    for (let i = 0; i < subjects.length; i++) {
      if (normalizeDn(subjects[i].subject) === norm) {
        subjects[i].last_seen = ts;
        return true;
      }
    }
    const horizon = ts - this.memoryMs;
    for (let i = subjects.length - 1; i >= 0; i--) if (subjects[i].last_seen < horizon) subjects.splice(i, 1);
    // Same account (or no account known) under another subject. Re-keyed renewals keep the subject.
    const previous = subjects.filter((e) => user === null || e.user === null || e.user === user);
    subjects.push({ subject, user, first_seen: ts, last_seen: ts });
    if (subjects.length > MAX_SUBJECTS) subjects.shift();
    s.subjects = subjects.length === 1 ? subjects[0] : subjects;
    if (mayEmit && s.shared_at === null && previous.length > 0) {
      emit({
        rule: 'key-reuse',
        variant: 'multi-subject',
        summary: `key ${short(keyId)} appears under a new subject "${subject}"${user === null ? '' : ` for ${user}`}; before: ${previous.map((e) => `"${e.subject}"`).join(', ')}`,
        dedup_key: `${keyId}:subject:${norm}`,
        event,
        confidence: this.config.multi_subject_confidence,
        evidence: this.evidence(s, keyId, user, 'multi-subject'),
      });
    }
    return true;
  }

  private touchDevice(s: KeyState, device: string, ts: number): boolean {
    const one = s.devices;
    if (one === null) {
      s.devices = { device, first_seen: ts, last_seen: ts };
      return true;
    }
    if (!Array.isArray(one)) {
      if (one.device === device) {
        if (ts - one.last_seen < TOUCH_MS) return false;
        one.last_seen = ts;
        return true;
      }
    }
    const devices = Array.isArray(one) ? one : [one];
    s.devices = devices;
    for (let i = 0; i < devices.length; i++) {
      const d = devices[i];
      if (d.device === device) {
        if (ts - d.last_seen < TOUCH_MS) return false;
        d.last_seen = ts;
        return true;
      }
    }
    devices.push({ device, first_seen: ts, last_seen: ts });
    if (devices.length > MAX_DEVICES) removeOldest(devices);
    return true;
  }

  private touchCert(s: KeyState, cert: CertInfo, ts: number): boolean {
    const one = s.certs;
    if (one === null) {
      s.certs = certEntry(cert, ts);
      return true;
    }
    if (!Array.isArray(one)) {
      if (one.sha256 === cert.sha256 && one.serial === cert.serial) return false;
    }
    const certs = Array.isArray(one) ? one : [one];
    s.certs = certs;
    const last = certs[certs.length - 1];
    if (last !== undefined && last.sha256 === cert.sha256 && last.serial === cert.serial) return false;
    for (let i = 0; i < certs.length; i++) {
      if (certs[i].sha256 === cert.sha256 && certs[i].serial === cert.serial) return false;
    }
    certs.push(certEntry(cert, ts));
    if (certs.length > MAX_CERTS) certs.shift();
    return true;
  }

  private evidence(s: KeyState, keyId: string, newAccount: string | null, trigger: string): Record<string, unknown> {
    return {
      key: keyId,
      key_basis: s.basis,
      key_basis_note:
        s.basis === 'spki_sha256'
          ? 'SHA-256 of the SubjectPublicKeyInfo'
          : 'no SPKI known (logged certificate): the certificate digest stands in for the key, so re-keyed certificates are not linked',
      trigger,
      new_account: newAccount,
      accounts: entries(s.accounts).map((a) => ({ user: a.user, first_seen: iso(a.first_seen), last_seen: iso(a.last_seen) })),
      subjects: entries(s.subjects).map((e) => ({
        subject: e.subject,
        user: e.user,
        first_seen: iso(e.first_seen),
        last_seen: iso(e.last_seen),
      })),
      devices: entries(s.devices).map((d) => ({ device: d.device, first_seen: iso(d.first_seen), last_seen: iso(d.last_seen) })),
      certificates: entries(s.certs).map((c) => ({
        ...c,
        spki_sha256: s.basis === 'spki_sha256' ? keyId : null,
        first_seen: iso(c.first_seen),
      })),
      key_first_seen: iso(s.first_seen),
      thresholds: { binding_memory_days: this.config.binding_memory_days, shared_key_accounts: this.config.shared_key_accounts },
    };
  }
}

function certEntry(c: CertInfo, ts: number): CertEntry {
  return {
    sha256: c.sha256,
    subject: c.subject,
    issuer: c.issuer,
    serial: c.serial,
    not_before: c.not_before,
    not_after: c.not_after,
    first_seen: ts,
  };
}

function removeOldest(list: { last_seen: number }[]): void {
  let oldest = 0;
  for (let i = 1; i < list.length; i++) if (list[i].last_seen < list[oldest].last_seen) oldest = i;
  list.splice(oldest, 1);
}

/** The key-reuse rule. */
export const rule: Rule<Config> = {
  meta: {
    id: 'key-reuse',
    title: 'Public key reused across accounts or subjects',
    description:
      'One SPKI (or, without one, one certificate digest) already bound to an account within binding_memory_days is presented by another account; or appears under a different subject DN for the same account (multi-subject). Keys used by more than shared_key_accounts accounts are reported once as shared-key.',
    default_weight: 60,
    variant_weights: { 'multi-subject': 60, 'shared-key': 20 },
    references: [
      'seed 002 pattern 2 (public key reuse across accounts or subjects)',
      'FIELD-NOTES: shared app certificates at scale',
    ],
    false_positives: [
      'Machine certificates on shared workstations or kiosks used by several people (allowlist the key or raise shared_key_accounts).',
      'Gateways that map one service certificate to several technical accounts.',
      'Renewals that re-use the key and change the subject DN (multi-subject, confidence 0.5).',
    ],
  },
  configSchema,
  defaults,
  create(config: Config, ctx: RuleContext): RuleInstance {
    return new KeyReuse(config, ctx);
  },
};
