// Small checks every StateStore implementation applies the same way, so they behave alike.
import { CertsignalError } from '../errors.ts';
import { FEEDBACK_SCOPES, FEEDBACK_VERDICTS, type FeedbackRecord } from './types.ts';

/** JSON text of a state value; a value JSON cannot represent is a bug in the rule that stored it. */
export function toJson(value: unknown, where: string): string {
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError(`state value for ${where} is not JSON-serialisable (${typeof value})`);
  return text;
}

/** `listAlerts` limit → SQLite LIMIT (-1 = none). */
export function checkLimit(limit: number | undefined): number {
  if (limit === undefined) return -1;
  if (!Number.isInteger(limit) || limit < 0) {
    throw new CertsignalError('E_USAGE', `alert limit must be a non-negative integer, got ${limit}`);
  }
  return limit;
}

/** `schema_version` belongs to the migration code, not to callers. */
export function checkMetaKey(key: string): void {
  if (key === 'schema_version') throw new Error('meta key schema_version is managed by the state store');
}

/** A feedback record as both stores keep it: times as epoch ms, after checking every field. */
export interface FeedbackRow {
  alert_id: string;
  verdict: string;
  scope: string;
  rule: string;
  entity_kind: string;
  entity_id: string;
  reason: string | null;
  created_at: number;
  expires_at: number | null;
}

/** Checks a record (a malformed one is a bug in the caller: TypeError) and flattens it for storage. */
export function feedbackToRow(record: FeedbackRecord): FeedbackRow {
  const text = (value: unknown, field: string): string => {
    if (typeof value !== 'string' || value === '') throw new TypeError(`feedback ${field} must be a non-empty string`);
    return value;
  };
  const time = (value: unknown, field: string): number => {
    const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
    if (Number.isNaN(ms)) throw new TypeError(`feedback ${field} must be an ISO 8601 time, got ${String(value)}`);
    return ms;
  };
  if (!(FEEDBACK_VERDICTS as readonly string[]).includes(record.verdict))
    throw new TypeError(`feedback verdict ${String(record.verdict)} is not one of ${FEEDBACK_VERDICTS.join(', ')}`);
  if (!(FEEDBACK_SCOPES as readonly string[]).includes(record.scope))
    throw new TypeError(`feedback scope ${String(record.scope)} is not one of ${FEEDBACK_SCOPES.join(', ')}`);
  if (record.reason !== null && typeof record.reason !== 'string')
    throw new TypeError('feedback reason must be a string or null');
  return {
    alert_id: text(record.alert_id, 'alert_id'),
    verdict: record.verdict,
    scope: record.scope,
    rule: text(record.rule, 'rule'),
    entity_kind: text(record.entity?.kind, 'entity.kind'),
    entity_id: text(record.entity?.id, 'entity.id'),
    reason: record.reason,
    created_at: time(record.created_at, 'created_at'),
    expires_at: record.expires_at === null ? null : time(record.expires_at, 'expires_at'),
  };
}

/** The stored row back as a FeedbackRecord (times normalised to ISO 8601 UTC with milliseconds). */
export function rowToFeedback(row: FeedbackRow): FeedbackRecord {
  return {
    alert_id: row.alert_id,
    verdict: row.verdict as FeedbackRecord['verdict'],
    scope: row.scope as FeedbackRecord['scope'],
    rule: row.rule,
    entity: { kind: row.entity_kind, id: row.entity_id },
    reason: row.reason,
    created_at: new Date(row.created_at).toISOString(),
    expires_at: row.expires_at === null ? null : new Date(row.expires_at).toISOString(),
  };
}
