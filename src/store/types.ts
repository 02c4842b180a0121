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
  /** Run metadata (`last_run`, `schema_version`, …). */
  getMeta(key: string): Promise<string | undefined>;
  setMeta(key: string, value: string): Promise<void>;
  close(): Promise<void>;
}
