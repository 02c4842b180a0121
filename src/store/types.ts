// The state store: baselines, seen keys/certs and emitted alerts, so a daily run continues where
// yesterday's stopped and never repeats an alert. SQLite is the embedded default; PostgreSQL
// follows for the scale-out mode. Every implementation passes tests/store/conformance.ts.
import type { Alert } from '../schema/alert.ts';

export interface StateStore {
  /** All entries of one namespace (e.g. `key-reuse/spki`), key → JSON value. */
  loadNamespace(namespace: string): Promise<Map<string, unknown>>;
  /** Upsert (value !== undefined) or delete (value === undefined) entries, in one transaction. */
  saveEntries(namespace: string, entries: Iterable<[string, unknown]>): Promise<void>;
  /** Which of these alert ids were already emitted by an earlier run. */
  knownAlertIds(ids: string[]): Promise<Set<string>>;
  /** Record emitted alerts (idempotent by id). */
  saveAlerts(alerts: Alert[]): Promise<void>;
  /** Alerts previously stored, newest first (for `certsignal alerts` / feedback later). */
  listAlerts(options?: { limit?: number; rule?: string }): Promise<Alert[]>;
  /** One stored alert by id (undefined when this store never saw it). */
  getAlert(id: string): Promise<Alert | undefined>;
  /** Number of stored alerts per rule id. */
  alertCountsByRule(): Promise<Map<string, number>>;
  /** Append one analyst verdict (verdicts are a history: a later one for the same alert supersedes it). */
  saveFeedback(feedback: FeedbackRecord): Promise<void>;
  /** Every stored verdict, oldest first (insertion order). */
  listFeedback(): Promise<FeedbackRecord[]>;
  /** Run metadata (`last_run`, `schema_version`, …). */
  getMeta(key: string): Promise<string | undefined>;
  setMeta(key: string, value: string): Promise<void>;
  close(): Promise<void>;
}

/** An analyst's verdict on an alert. */
export type FeedbackVerdict = 'false-positive' | 'true-positive';

/**
 * What a false-positive verdict suppresses in later runs: `alert` that finding only, `rule` that
 * rule for the alert's entity, `entity` every rule for the alert's entity.
 */
export type FeedbackScope = 'alert' | 'rule' | 'entity';

export const FEEDBACK_VERDICTS: readonly FeedbackVerdict[] = ['false-positive', 'true-positive'];
export const FEEDBACK_SCOPES: readonly FeedbackScope[] = ['alert', 'rule', 'entity'];

/**
 * One stored verdict. `rule` and `entity` are copied from the alert so later runs can build their
 * suppressions without reading alerts. Times are ISO 8601 UTC, wall clock.
 */
export interface FeedbackRecord {
  alert_id: string;
  verdict: FeedbackVerdict;
  scope: FeedbackScope;
  rule: string;
  entity: { kind: string; id: string };
  reason: string | null;
  /** When the verdict was given (wall clock). */
  created_at: string;
  /** From this wall-clock instant on the verdict no longer suppresses; null = never expires. */
  expires_at: string | null;
}
