// An in-process StateStore: for tests and for runs without `--state`, where nothing outlives the
// process. Values are kept as JSON text, so it behaves exactly like the SQLite store (no aliasing
// between what a caller saved and later mutates, same serialisation).
import type { Alert } from '../schema/alert.ts';
import { checkLimit, checkMetaKey, type FeedbackRow, feedbackToRow, rowToFeedback, toJson } from './common.ts';
import { STATE_SCHEMA_VERSION } from './migrations.ts';
import type { FeedbackRecord, StateStore } from './types.ts';

interface StoredAlert {
  id: string;
  rule: string;
  /** Epoch ms, or null when the alert's time does not parse (sorted last, like SQLite). */
  time: number | null;
  json: string;
}

/** `StateStore` held in memory. */
export class MemoryStateStore implements StateStore {
  private readonly namespaces = new Map<string, Map<string, string>>();
  private readonly alerts = new Map<string, StoredAlert>();
  private readonly feedback: FeedbackRow[] = [];
  private readonly meta = new Map<string, string>([['schema_version', String(STATE_SCHEMA_VERSION)]]);
  private closed = false;

  async loadNamespace(namespace: string): Promise<Map<string, unknown>> {
    this.assertOpen();
    const out = new Map<string, unknown>();
    const entries = this.namespaces.get(namespace);
    if (entries) for (const [key, json] of entries) out.set(key, JSON.parse(json));
    return out;
  }

  async saveEntries(namespace: string, entries: Iterable<[string, unknown]>): Promise<void> {
    this.assertOpen();
    // Serialise everything first so a failure part-way leaves the store untouched (one "transaction").
    const pending: [string, string | undefined][] = [];
    for (const [key, value] of entries) {
      pending.push([key, value === undefined ? undefined : toJson(value, `${namespace}/${key}`)]);
    }
    let target = this.namespaces.get(namespace);
    if (!target) {
      target = new Map();
      this.namespaces.set(namespace, target);
    }
    for (const [key, json] of pending) {
      if (json === undefined) target.delete(key);
      else target.set(key, json);
    }
    if (target.size === 0) this.namespaces.delete(namespace);
  }

  async knownAlertIds(ids: string[]): Promise<Set<string>> {
    this.assertOpen();
    const known = new Set<string>();
    for (const id of ids) if (this.alerts.has(id)) known.add(id);
    return known;
  }

  async saveAlerts(alerts: Alert[]): Promise<void> {
    this.assertOpen();
    const pending: StoredAlert[] = alerts.map((alert) => {
      const time = Date.parse(alert.time);
      return { id: alert.id, rule: alert.rule, time: Number.isNaN(time) ? null : time, json: JSON.stringify(alert) };
    });
    // First write wins: an emitted alert is a record, not a value to overwrite.
    for (const stored of pending) if (!this.alerts.has(stored.id)) this.alerts.set(stored.id, stored);
  }

  async listAlerts(options: { limit?: number; rule?: string } = {}): Promise<Alert[]> {
    this.assertOpen();
    const limit = checkLimit(options.limit);
    const selected: StoredAlert[] = [];
    for (const stored of this.alerts.values()) {
      if (options.rule === undefined || stored.rule === options.rule) selected.push(stored);
    }
    selected.sort(compareNewestFirst);
    const slice = limit < 0 ? selected : selected.slice(0, limit);
    return slice.map((stored) => JSON.parse(stored.json) as Alert);
  }

  async getAlert(id: string): Promise<Alert | undefined> {
    this.assertOpen();
    const stored = this.alerts.get(id);
    return stored ? (JSON.parse(stored.json) as Alert) : undefined;
  }

  async alertCountsByRule(): Promise<Map<string, number>> {
    this.assertOpen();
    const out = new Map<string, number>();
    for (const stored of this.alerts.values()) out.set(stored.rule, (out.get(stored.rule) ?? 0) + 1);
    return out;
  }

  async saveFeedback(feedback: FeedbackRecord): Promise<void> {
    this.assertOpen();
    // Rows are plain values copied out of the record: a caller mutating it later changes nothing.
    this.feedback.push(feedbackToRow(feedback));
  }

  async listFeedback(): Promise<FeedbackRecord[]> {
    this.assertOpen();
    return this.feedback.map(rowToFeedback);
  }

  async getMeta(key: string): Promise<string | undefined> {
    this.assertOpen();
    return this.meta.get(key);
  }

  async setMeta(key: string, value: string): Promise<void> {
    this.assertOpen();
    checkMetaKey(key);
    this.meta.set(key, value);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('state store (memory) is closed');
  }
}

/** Same order as the SQLite store: time descending, unparseable times last, then id ascending. */
function compareNewestFirst(a: StoredAlert, b: StoredAlert): number {
  if (a.time !== b.time) {
    if (a.time === null) return 1;
    if (b.time === null) return -1;
    return b.time - a.time;
  }
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
