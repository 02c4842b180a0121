// issuance-without-enrollment (seed 002 case study, issue 4): a CA issued a certificate for a
// device (or, for user certificates, a user) that has no MDM / device-management enrollment near
// the issuance — an attacker getting certificates issued to a device that never enrolled.
// Decisions are deferred by a grace period, because the enrollment record may be logged just
// after the issuance or sit in another file that is merged in later.
import { Type } from 'typebox';
import { normalizeDn } from '../../config/dn.ts';
import type { NormalizedEvent } from '../../schema/event.ts';
import { accountKey } from '../shared/account.ts';
import type { KeyedState, Rule, RuleContext, RuleInstance, Signal } from '../types.ts';

/** Config block `rules.issuance-without-enrollment`. */
export interface Config {
  /** An enrollment counts when it lies at most this many days before the issuance… */
  lookback_days: number;
  /** …or at most this many minutes after it (the MDM record may be logged after the CA's). */
  grace_minutes: number;
  /** Issuer DNs (or CA names) of automation CAs: workload certificates are not MDM-enrolled. */
  exempt_issuers: string[];
  /** CA operations that are not a first issuance to a new holder (renewals prove the old key). */
  exempt_operations: string[];
  /** Enrollment actions that do not enroll (the device left management). */
  non_enrolling_actions: string[];
  /** Enrollment times remembered per device and per user (most recent kept). */
  max_enrollments_per_subject: number;
  /** Issuances waiting for their grace period; beyond this the oldest is decided early. */
  max_pending: number;
  /** After a signal for a subject, further unmatched issuances for it within this many hours add no new signal. */
  repeat_after_hours: number;
  /** Confidence when the input ended before the grace period of the issuance had elapsed. */
  unelapsed_grace_confidence: number;
}

export const configSchema = Type.Object(
  {
    lookback_days: Type.Number({
      minimum: 0,
      default: 30,
      description: 'Days before an issuance in which an enrollment of its device (or user) counts.',
    }),
    grace_minutes: Type.Number({
      minimum: 0,
      default: 15,
      description: 'Minutes after an issuance in which an enrollment still counts (decisions wait this long).',
    }),
    exempt_issuers: Type.Array(Type.String(), {
      default: [],
      description: 'Issuer DNs or CA names never checked (global automation_issuers are merged in).',
    }),
    exempt_operations: Type.Array(Type.String(), {
      default: ['renew', 'rekey'],
      description: 'CA operations (ca.operation, case-insensitive) never checked.',
    }),
    non_enrolling_actions: Type.Array(Type.String(), {
      default: ['unenrolled', 'unenroll', 'wiped', 'wipe', 'retired', 'retire', 'removed', 'deleted'],
      description: 'Enrollment actions (case-insensitive) that do not count as an enrollment.',
    }),
    max_enrollments_per_subject: Type.Integer({
      minimum: 1,
      maximum: 1024,
      default: 8,
      description: 'Enrollment times kept per device and per user (most recent).',
    }),
    max_pending: Type.Integer({
      minimum: 1,
      default: 10000,
      description: 'Issuances held for their grace period; beyond this the oldest is decided at once.',
    }),
    repeat_after_hours: Type.Number({
      minimum: 0,
      default: 24,
      description: 'Hours after a signal for a device or user before another unmatched issuance for it is reported.',
    }),
    unelapsed_grace_confidence: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.5,
      description: 'Confidence when input ended before the grace period elapsed; 0 keeps those quiet.',
    }),
  },
  { additionalProperties: false },
);

export const defaults: Config = {
  lookback_days: 30,
  grace_minutes: 15,
  exempt_issuers: [],
  exempt_operations: ['renew', 'rekey'],
  non_enrolling_actions: ['unenrolled', 'unenroll', 'wiped', 'wipe', 'retired', 'retire', 'removed', 'deleted'],
  max_enrollments_per_subject: 8,
  max_pending: 10000,
  repeat_after_hours: 24,
  unelapsed_grace_confidence: 0.5,
};

/** Enrollment history of one device or user (namespaces `…/device`, `…/user`): epoch ms, ascending. */
export type EnrollmentTimes = number[];

/** Whether any enrollment was ever seen (namespace `…/meta`, key `enrollment-data`). */
export interface EnrollmentData {
  count: number;
  first: number;
  last: number;
}

type SubjectKind = 'device' | 'user';

interface Pending {
  event: NormalizedEvent;
  kind: SubjectKind;
  /** Comparison key of the subject (lower-cased device id, or accountKey). */
  key: string;
  subject: string;
  deadline: number;
}

const DAY_MS = 86_400_000;
const MIN_MS = 60_000;

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function minutes(ms: number): number {
  return Math.round((ms / MIN_MS) * 10) / 10;
}

function deviceKey(id: string): string {
  return id.trim().toLowerCase();
}

/** Inserts `ts` into the ascending list, keeping at most `cap` (the most recent); false when already there. */
function insertTime(list: number[], ts: number, cap: number): boolean {
  let i = list.length;
  while (i > 0 && list[i - 1] > ts) i--;
  if (i > 0 && list[i - 1] === ts) return false;
  list.splice(i, 0, ts);
  while (list.length > cap) list.shift();
  return true;
}

class IssuanceWithoutEnrollment implements RuleInstance {
  private readonly config: Config;
  private readonly devices: KeyedState<EnrollmentTimes>;
  private readonly users: KeyedState<EnrollmentTimes>;
  private readonly meta: KeyedState<EnrollmentData>;
  private readonly reported: KeyedState<number>;
  private readonly note: RuleContext['note'];
  private readonly lookbackMs: number;
  private readonly graceMs: number;
  private readonly repeatMs: number;
  private readonly exemptIssuers: Set<string>;
  private readonly exemptOps: Set<string>;
  private readonly nonEnrolling: Set<string>;
  private pending: Pending[] = [];
  private minDeadline = Number.POSITIVE_INFINITY;
  /** Latest event time seen in this run (input may interleave; deadlines pass by this clock). */
  private clock = Number.NEGATIVE_INFINITY;
  /** Issuances left unjudged because no enrollment data existed at all. */
  private unchecked = 0;
  private uncheckedFirst: NormalizedEvent | null = null;

  constructor(config: Config, ctx: RuleContext) {
    this.config = config;
    this.devices = ctx.state<EnrollmentTimes>('device');
    this.users = ctx.state<EnrollmentTimes>('user');
    this.meta = ctx.state<EnrollmentData>('meta');
    this.reported = ctx.state<number>('reported');
    this.note = ctx.note;
    this.lookbackMs = config.lookback_days * DAY_MS;
    this.graceMs = config.grace_minutes * MIN_MS;
    this.repeatMs = config.repeat_after_hours * 3_600_000;
    this.exemptIssuers = new Set(config.exempt_issuers.map(normalizeDn));
    this.exemptOps = new Set(config.exempt_operations.map((o) => o.trim().toLowerCase()));
    this.nonEnrolling = new Set(config.non_enrolling_actions.map((a) => a.trim().toLowerCase()));
  }

  observe(event: NormalizedEvent, emit: (signal: Signal) => void): void {
    if (event.ts > this.clock) this.clock = event.ts;
    if (event.kind === 'enrollment') this.observeEnrollment(event);
    else if (event.kind === 'issuance') this.observeIssuance(event, emit);
    if (this.minDeadline < this.clock) this.decideDue(emit);
  }

  finish(emit: (signal: Signal) => void): void {
    const all = this.pending;
    this.pending = [];
    this.minDeadline = Number.POSITIVE_INFINITY;
    for (const p of all) this.decide(p, emit, p.deadline >= this.clock ? 'end-of-input' : 'elapsed');
    if (this.unchecked > 0) {
      const first = this.uncheckedFirst;
      this.note?.(
        'no-enrollment-data',
        `${this.unchecked} issuance(s) not checked: no MDM/enrollment event in this run or in saved state before them, so a missing enrollment proves nothing (first: ${first?.source.file}:${first?.source.line}); pass the MDM enrollment log to analyze, covering the CA log's period`,
      );
      this.unchecked = 0;
      this.uncheckedFirst = null;
    }
  }

  private observeEnrollment(event: NormalizedEvent): void {
    if (event.outcome === 'failure') return;
    const action = event.enrollment?.action?.trim().toLowerCase() ?? '';
    if (this.nonEnrolling.has(action)) return;
    const cap = this.config.max_enrollments_per_subject;
    const ts = event.ts;
    const keys: [SubjectKind, string][] = [];
    if (event.device) keys.push(['device', deviceKey(event.device)]);
    const serial = event.enrollment?.serial;
    if (serial) keys.push(['device', deviceKey(serial)]);
    if (event.user) keys.push(['user', accountKey(event.user)]);
    if (keys.length === 0) return;
    for (const [kind, key] of keys) {
      const store = kind === 'device' ? this.devices : this.users;
      const list = store.get(key) ?? [];
      if (insertTime(list, ts, cap)) store.set(key, list);
    }
    const m = this.meta.get('enrollment-data');
    this.meta.set(
      'enrollment-data',
      m === undefined
        ? { count: 1, first: ts, last: ts }
        : { count: m.count + 1, first: Math.min(m.first, ts), last: Math.max(m.last, ts) },
    );
    // A pending issuance this enrollment covers is settled now.
    if (this.pending.length > 0) {
      this.pending = this.pending.filter(
        (p) => !(keys.some(([k, key]) => k === p.kind && key === p.key) && this.inWindow(ts, p.event.ts)),
      );
      this.minDeadline = this.pending.reduce((m2, p) => Math.min(m2, p.deadline), Number.POSITIVE_INFINITY);
    }
  }

  private observeIssuance(event: NormalizedEvent, emit: (signal: Signal) => void): void {
    if (event.outcome === 'failure') return;
    const op = event.ca?.operation?.trim().toLowerCase();
    if (op && this.exemptOps.has(op)) return;
    if (this.isExempt(event)) return;
    // Device first: a user certificate request from an enrolled laptop does not vouch for a
    // device certificate issued to some other, never-enrolled device id.
    let kind: SubjectKind;
    let subject: string;
    let key: string;
    if (event.device) {
      kind = 'device';
      subject = event.device;
      key = deviceKey(event.device);
    } else if (event.user) {
      kind = 'user';
      subject = event.user;
      key = accountKey(event.user);
    } else {
      return; // nothing to match an enrollment against
    }
    if (key.length === 0) return;
    if (this.matchIn(kind, key, event.ts) !== null) return; // enrolled already: the common case
    const p: Pending = { event, kind, key, subject, deadline: event.ts + this.graceMs };
    this.pending.push(p);
    if (p.deadline < this.minDeadline) this.minDeadline = p.deadline;
    if (this.pending.length > this.config.max_pending) {
      // Bounded memory: the oldest waiting issuance is judged now, on what is known.
      const oldest = this.pending.shift();
      if (oldest) this.decide(oldest, emit, 'pending-limit');
    }
  }

  private isExempt(event: NormalizedEvent): boolean {
    if (this.exemptIssuers.size === 0) return false;
    const issuer = event.certificate?.issuer;
    if (issuer && this.exemptIssuers.has(normalizeDn(issuer))) return true;
    const ca = event.ca?.ca;
    return ca !== null && ca !== undefined && this.exemptIssuers.has(normalizeDn(ca));
  }

  private inWindow(enrolledAt: number, issuedAt: number): boolean {
    return enrolledAt >= issuedAt - this.lookbackMs && enrolledAt <= issuedAt + this.graceMs;
  }

  /** The first enrollment time of the subject inside the issuance's window, or null. */
  private matchIn(kind: SubjectKind, key: string, ts: number): number | null {
    const list = (kind === 'device' ? this.devices : this.users).get(key);
    if (list === undefined) return null;
    for (const t of list) if (this.inWindow(t, ts)) return t;
    return null;
  }

  private decideDue(emit: (signal: Signal) => void): void {
    const due: Pending[] = [];
    const keep: Pending[] = [];
    for (const p of this.pending) (p.deadline < this.clock ? due : keep).push(p);
    this.pending = keep;
    this.minDeadline = keep.reduce((m, p) => Math.min(m, p.deadline), Number.POSITIVE_INFINITY);
    for (const p of due) this.decide(p, emit, 'elapsed');
  }

  private decide(p: Pending, emit: (signal: Signal) => void, why: 'elapsed' | 'end-of-input' | 'pending-limit'): void {
    const event = p.event;
    if (this.matchIn(p.kind, p.key, event.ts) !== null) return;
    const data = this.meta.get('enrollment-data');
    if (data === undefined || data.count === 0) {
      // Cold start / missing input: without any enrollment record a missing one proves nothing.
      this.unchecked += 1;
      if (this.uncheckedFirst === null) this.uncheckedFirst = event;
      return;
    }
    const reportKey = `${p.kind}:${p.key}`;
    const last = this.reported.get(reportKey);
    if (last !== undefined && Math.abs(event.ts - last) <= this.repeatMs) return;
    let confidence = 1;
    if (why === 'end-of-input') confidence = this.config.unelapsed_grace_confidence;
    if (confidence <= 0) return;
    this.reported.set(reportKey, event.ts);

    const lo = event.ts - this.lookbackMs;
    const hi = event.ts + this.graceMs;
    const nearest = this.nearest(p.kind, p.key, event.ts);
    // For a device, say what its user's enrollments look like (a user with an enrolled laptop
    // whose certificate went to an unknown device id is the seed 002 story).
    const userEnrollment = p.kind === 'device' && event.user ? this.nearest('user', accountKey(event.user), event.ts) : null;
    const ca = event.ca;
    const cert = event.certificate;
    const nearestText =
      nearest === null
        ? `no enrollment of the ${p.kind} ever seen`
        : `nearest enrollment ${iso(nearest.time)} (${formatGap(nearest.outside_ms)} outside the window)`;
    emit({
      rule: 'issuance-without-enrollment',
      summary: `certificate issued to ${p.kind} ${p.subject}${ca?.requester ? ` (requested by ${ca.requester})` : ''} with no MDM enrollment within ${this.config.lookback_days} days before or ${this.config.grace_minutes} min after; ${nearestText}`,
      dedup_key: `${p.kind}:${p.key}:${iso(event.ts)}`,
      event,
      ...(confidence < 1 ? { confidence } : {}),
      evidence: {
        subject: { kind: p.kind, id: p.subject },
        issuance: {
          time: event.time,
          serial: cert?.serial ?? null,
          sha256: cert?.sha256 ?? null,
          subject: cert?.subject ?? null,
          issuer: cert?.issuer ?? null,
          not_after: cert?.not_after ?? null,
          requester: ca?.requester ?? null,
          template: ca?.template ?? null,
          ca: ca?.ca ?? null,
          request_id: ca?.request_id ?? null,
          operation: ca?.operation ?? null,
          user: event.user,
          device: event.device,
        },
        nearest_enrollment:
          nearest === null
            ? null
            : {
                time: iso(nearest.time),
                outside_window_minutes: minutes(nearest.outside_ms),
                position: nearest.time < lo ? 'before' : 'after',
              },
        ...(userEnrollment !== null
          ? {
              user_nearest_enrollment: {
                user: event.user,
                time: iso(userEnrollment.time),
                in_window: userEnrollment.outside_ms === 0,
              },
            }
          : {}),
        window: {
          from: iso(lo),
          to: iso(hi),
          lookback_days: this.config.lookback_days,
          grace_minutes: this.config.grace_minutes,
        },
        grace_elapsed: why !== 'end-of-input',
        ...(why === 'end-of-input'
          ? {
              grace_note: `input ended ${minutes(Math.max(0, this.clock - event.ts))} min after the issuance, before the ${this.config.grace_minutes} min grace period elapsed: an enrollment logged later would not have been seen (lower confidence)`,
            }
          : {}),
        ...(why === 'pending-limit'
          ? {
              decided_early: `more than ${this.config.max_pending} issuances were waiting; this one was judged before its grace period elapsed`,
            }
          : {}),
        enrollment_data: { records: data.count, first: iso(data.first), last: iso(data.last) },
      },
    });
  }

  /** The subject's enrollment nearest to `ts`, and how far outside the window it lies (0 = inside). */
  private nearest(kind: SubjectKind, key: string, ts: number): { time: number; outside_ms: number } | null {
    const list = (kind === 'device' ? this.devices : this.users).get(key);
    if (list === undefined || list.length === 0) return null;
    const lo = ts - this.lookbackMs;
    const hi = ts + this.graceMs;
    let best: { time: number; outside_ms: number } | null = null;
    for (const t of list) {
      const outside = t < lo ? lo - t : t > hi ? t - hi : 0;
      if (best === null || outside < best.outside_ms) best = { time: t, outside_ms: outside };
    }
    return best;
  }
}

function formatGap(ms: number): string {
  if (ms >= DAY_MS) return `${Math.round((ms / DAY_MS) * 10) / 10} days`;
  return `${minutes(ms)} min`;
}

/** The issuance-without-enrollment rule. */
export const rule: Rule<Config> = {
  meta: {
    id: 'issuance-without-enrollment',
    title: 'Certificate issued to a device or user with no MDM enrollment',
    description:
      'A CA issued a certificate for a device (or, for user certificates, a user) with no MDM/enrollment event within lookback_days before or grace_minutes after the issuance. Quiet when no enrollment data exists at all.',
    default_weight: 50,
    event_kinds: ['issuance', 'enrollment'],
    references: [
      'seed 002 case study (certificates issued to a device that never re-enrolled; churn follows)',
      'issue 4 (CA-side detections)',
    ],
    false_positives: [
      'MDM export shorter than lookback_days or missing some platforms: devices enrolled before it starts look never-enrolled.',
      'Device ids spelt differently in the CA log and the MDM log (hostname vs asset id vs hardware serial).',
      'Workload/service certificates from a CA not listed in automation_issuers / exempt_issuers.',
      'Devices enrolled more than lookback_days ago that receive a first-time (not renewal) certificate.',
    ],
  },
  configSchema,
  defaults,
  create(config: Config, ctx: RuleContext): RuleInstance {
    return new IssuanceWithoutEnrollment(config, ctx);
  },
};
