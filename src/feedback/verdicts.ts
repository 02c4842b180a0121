// Analyst feedback: recording a verdict on a stored alert, and reading the verdict history back as
// "the current verdict per alert" (a later verdict on the same alert supersedes an earlier one).
import { CertsignalError } from '../errors.ts';
import type { FeedbackRecord, FeedbackScope, FeedbackVerdict, StateStore } from '../store/types.ts';

const DURATION_UNIT_MS: Record<string, number> = { h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/**
 * `30d`, `12h`, `2w` → milliseconds. Anything else (no unit, zero, fractions, other units) is a
 * usage error naming the value.
 */
export function parseDuration(text: string): number {
  const unit = text.slice(-1).toLowerCase();
  const digits = text.slice(0, -1);
  const n = /^[0-9]{1,6}$/.test(digits) ? Number(digits) : Number.NaN;
  const unitMs = DURATION_UNIT_MS[unit];
  if (unitMs === undefined || !Number.isInteger(n) || n < 1) {
    throw new CertsignalError('E_USAGE', `--expires expects a duration like 12h, 30d or 2w, got "${text}"`);
  }
  return n * unitMs;
}

export interface FeedbackInput {
  alertId: string;
  verdict: FeedbackVerdict;
  /** Default `alert`. */
  scope?: FeedbackScope;
  /** Milliseconds after `nowMs` at which the verdict stops suppressing; undefined = never. */
  expiresInMs?: number;
  reason?: string;
  /** Wall clock, epoch ms (injected so tests are exact). */
  nowMs: number;
}

/**
 * Stores a verdict on an alert that `store` holds and returns the stored record. An alert id the
 * store never saw is a usage error (CertsignalError E_USAGE, exit 2).
 */
export async function recordFeedback(store: StateStore, input: FeedbackInput): Promise<FeedbackRecord> {
  const alert = await store.getAlert(input.alertId);
  if (!alert) {
    throw new CertsignalError(
      'E_USAGE',
      `alert ${input.alertId} is not in this state store; feedback applies to alerts stored by \`certsignal analyze --state\` with the same state file`,
    );
  }
  const record: FeedbackRecord = {
    alert_id: alert.id,
    verdict: input.verdict,
    scope: input.scope ?? 'alert',
    rule: alert.rule,
    entity: { kind: alert.entity.kind, id: alert.entity.id },
    reason: input.reason ?? null,
    created_at: new Date(input.nowMs).toISOString(),
    expires_at: input.expiresInMs === undefined ? null : new Date(input.nowMs + input.expiresInMs).toISOString(),
  };
  await store.saveFeedback(record);
  return record;
}

/** The current verdict per alert id: the last record for each alert in history order. */
export function currentVerdicts(history: Iterable<FeedbackRecord>): Map<string, FeedbackRecord> {
  const current = new Map<string, FeedbackRecord>();
  for (const record of history) current.set(record.alert_id, record);
  return current;
}

/** True when a false-positive verdict suppresses at wall-clock `nowMs` (not yet expired). */
export function isActiveSuppression(record: FeedbackRecord, nowMs: number): boolean {
  if (record.verdict !== 'false-positive') return false;
  return record.expires_at === null || nowMs < Date.parse(record.expires_at);
}
