// Feedback suppressions: the false-positive verdicts active at the start of a run, indexed so the
// detection engine can check each signal with a few Map lookups (no scan over the verdicts).
import type { Signal } from '../detect/types.ts';
import { alertId, riskEntity } from '../score/alert.ts';
import type { FeedbackRecord } from '../store/types.ts';
import { currentVerdicts, isActiveSuppression } from './verdicts.ts';

/** `kind:id`, the same entity key the risk scorer uses. */
function entityKey(kind: string, id: string): string {
  return `${kind}:${id}`;
}

/** Active false-positive suppressions, matched per signal. Build with `FeedbackSuppressions.fromHistory`. */
export class FeedbackSuppressions {
  /** scope `entity`: entity key → verdict. */
  private readonly byEntity = new Map<string, FeedbackRecord>();
  /** scope `rule`: rule → entity key → verdict. */
  private readonly byRuleEntity = new Map<string, Map<string, FeedbackRecord>>();
  /** scope `alert`: alert id → verdict; only signals of these rules need their id computed. */
  private readonly byAlertId = new Map<string, FeedbackRecord>();
  private readonly alertScopedRules = new Set<string>();
  /** Number of active suppressions. */
  readonly size: number;

  private constructor(active: readonly FeedbackRecord[]) {
    for (const record of active) {
      const key = entityKey(record.entity.kind, record.entity.id);
      if (record.scope === 'entity') {
        this.byEntity.set(key, record);
      } else if (record.scope === 'rule') {
        let entities = this.byRuleEntity.get(record.rule);
        if (!entities) {
          entities = new Map();
          this.byRuleEntity.set(record.rule, entities);
        }
        entities.set(key, record);
      } else {
        this.byAlertId.set(record.alert_id, record);
        this.alertScopedRules.add(record.rule);
      }
    }
    this.size = active.length;
  }

  /**
   * The suppressions in force at wall-clock `nowMs`: for each alert its latest verdict, kept when
   * it is a false positive that has not expired. True-positive verdicts never suppress.
   */
  static fromHistory(history: Iterable<FeedbackRecord>, nowMs: number): FeedbackSuppressions {
    const active: FeedbackRecord[] = [];
    for (const record of currentVerdicts(history).values()) if (isActiveSuppression(record, nowMs)) active.push(record);
    return new FeedbackSuppressions(active);
  }

  /** The verdict that suppresses this signal, or null. Entity = the alert's entity (riskEntity). */
  match(signal: Signal): FeedbackRecord | null {
    if (this.size === 0) return null;
    if (this.byEntity.size > 0 || this.byRuleEntity.has(signal.rule)) {
      const entity = riskEntity(signal.event);
      if (entity) {
        const key = entityKey(entity.kind, entity.id);
        const hit = this.byEntity.get(key) ?? this.byRuleEntity.get(signal.rule)?.get(key);
        if (hit) return hit;
      }
    }
    if (this.alertScopedRules.has(signal.rule)) return this.byAlertId.get(alertId(signal.rule, signal.dedup_key)) ?? null;
    return null;
  }
}
