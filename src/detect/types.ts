// The extension point for detections. A rule observes normalized events and emits Signals:
// what it saw, about which entity, with evidence. Weights, scores and actions are not its business
// (see score/ and policy/).
import type { TSchema } from 'typebox';
import type { EventKind, NormalizedEvent } from '../schema/event.ts';

export type EntityKind = 'user' | 'device' | 'key' | 'certificate' | 'source_ip';

export interface EntityRef {
  kind: EntityKind;
  id: string;
}

export interface Signal {
  /** Rule id (set by the rule). */
  rule: string;
  /**
   * Optional finer kind inside a rule (`self-signed` vs `unknown-issuer`, `new-ja4` vs `downgrade`)
   * that scoring may weigh differently (`weights["untrusted-issuer.self-signed"]`).
   */
  variant?: string;
  /** Human one-liner: "4 new certificates for alice in 38 min (threshold >3 in 60 min)". */
  summary: string;
  /**
   * What makes this alert unique. Alert ids are derived from rule + dedup_key only, so the same
   * input gives the same id in every run and process, and one finding is reported once
   * (e.g. expired-cert dedups per certificate, key-reuse per key + account).
   */
  dedup_key: string;
  /** The event that triggered it (its user/device/cert fill the alert's top-level fields). */
  event: NormalizedEvent;
  /** 0..1 multiplier on the rule's weight (default 1). */
  confidence?: number;
  /** Explanation: certificates, counts, baseline vs observed, thresholds used. JSON-serialisable. */
  evidence: Record<string, unknown>;
}

/** Keyed, persistent state a rule keeps between events and between runs. Values must be JSON-serialisable. */
export interface KeyedState<T> {
  get(key: string): T | undefined;
  /** Store (and mark dirty for the next flush). Call after mutating a value you got. */
  set(key: string, value: T): void;
  delete(key: string): void;
  /** Number of keys held in memory. */
  readonly size: number;
}

export interface RuleContext {
  /** Per-rule namespaced persistent state: `ctx.state<T>('seen')` → namespace `<rule id>/seen`. */
  state<T>(name: string): KeyedState<T>;
  /** Enrichment facts that are not per event (e.g. whether trust anchors were configured). */
  facts: {
    trustAnchorsConfigured: boolean;
    crlsConfigured: boolean;
    /** OCSP lookups are on (`--ocsp`): revocation verdicts may come from responders too. */
    ocspConfigured?: boolean;
    assetsConfigured: boolean;
    identitiesConfigured: boolean;
  };
  /**
   * Reports a run-level condition once as a warning diagnostic on stderr (e.g. a rule that stays
   * quiet because an input it needs was absent). Absent where no diagnostics are collected.
   */
  note?: (reason: string, message: string) => void;
}

export interface RuleMeta {
  id: string;
  title: string;
  description: string;
  /** Default weight added to the entity's risk score (documented; overridable in config `weights`). */
  default_weight: number;
  /** False for opt-in rules (enable with `rules.<id>.enabled: true`); default true. */
  default_enabled?: boolean;
  /** Weights for variants, if they differ from default_weight. */
  variant_weights?: Record<string, number>;
  /**
   * Event kinds this rule observes (see schema/event.ts EventKind); default `['authentication']`,
   * so certificate-use rules never see CA or MDM records.
   */
  event_kinds?: readonly EventKind[];
  /** Which seed pattern (002) or issue it implements. */
  references: string[];
  false_positives: string[];
}

export interface RuleInstance {
  observe(event: NormalizedEvent, emit: (signal: Signal) => void): void;
  /**
   * End of input (end of a batch run). A rule that defers decisions (waits for a grace period,
   * e.g. an enrollment that may follow an issuance) decides what is still pending here. Signals
   * emitted here are scored at their own event's time like any other.
   */
  finish?(emit: (signal: Signal) => void): void;
}

const DEFAULT_KINDS: ReadonlySet<EventKind> = new Set<EventKind>(['authentication']);

/** The event kinds a rule observes (RuleMeta.event_kinds, default authentication only). */
export function ruleEventKinds(rule: Rule<any>): ReadonlySet<EventKind> {
  return rule.meta.event_kinds ? new Set(rule.meta.event_kinds) : DEFAULT_KINDS;
}

export interface Rule<C = Record<string, unknown>> {
  meta: RuleMeta;
  /** typebox schema of this rule's config block (`rules.<id>` in certsignal.yaml), with defaults. */
  configSchema: TSchema;
  defaults: C;
  create(config: C, ctx: RuleContext): RuleInstance;
}
