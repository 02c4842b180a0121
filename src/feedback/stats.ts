// `certsignal rules stats`: per rule, alerts stored, analyst verdicts, precision and the
// suppressions in force, computed from the state store.
import type { FeedbackScope, StateStore } from '../store/types.ts';
import { currentVerdicts, isActiveSuppression } from './verdicts.ts';

export interface RuleStats {
  rule: string;
  /** Alerts of this rule in the store. */
  alerts: number;
  /** Alerts whose current verdict is true-positive / false-positive. */
  true_positives: number;
  false_positives: number;
  /** TP / (TP + FP); null when no alert of the rule has a verdict. */
  precision: number | null;
  /** Active false-positive suppressions given on this rule's alerts (an `entity` one silences every rule for its entity). */
  suppressions_active: number;
  suppressions_by_scope: Record<FeedbackScope, number>;
}

/**
 * Per-rule statistics at wall-clock `nowMs`. Rows come for every id in `ruleIds` (in that order),
 * then for any other rule found in the store's alerts or feedback (sorted).
 */
export async function ruleStats(store: StateStore, ruleIds: readonly string[], nowMs: number): Promise<RuleStats[]> {
  const counts = await store.alertCountsByRule();
  const verdicts = currentVerdicts(await store.listFeedback());
  const rows = new Map<string, RuleStats>();
  const row = (rule: string): RuleStats => {
    let r = rows.get(rule);
    if (!r) {
      r = {
        rule,
        alerts: counts.get(rule) ?? 0,
        true_positives: 0,
        false_positives: 0,
        precision: null,
        suppressions_active: 0,
        suppressions_by_scope: { alert: 0, rule: 0, entity: 0 },
      };
      rows.set(rule, r);
    }
    return r;
  };
  for (const rule of ruleIds) row(rule);
  const extra = new Set<string>(counts.keys());
  for (const record of verdicts.values()) {
    extra.add(record.rule);
    const r = row(record.rule);
    if (record.verdict === 'true-positive') r.true_positives++;
    else r.false_positives++;
    if (isActiveSuppression(record, nowMs)) {
      r.suppressions_active++;
      r.suppressions_by_scope[record.scope]++;
    }
  }
  const known = new Set(ruleIds);
  const ordered = [...ruleIds, ...[...extra].filter((rule) => !known.has(rule)).sort()];
  return ordered.map((rule) => {
    const r = row(rule);
    const judged = r.true_positives + r.false_positives;
    r.precision = judged === 0 ? null : r.true_positives / judged;
    return r;
  });
}
