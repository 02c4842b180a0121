// The detection core: normalized (and enriched) events in, alerts out. Synchronous and free of
// I/O so the same engine serves batch `analyze`, inline `serve` and, later, stream workers.
// Rules emit signals → allowlists → analyst-feedback suppressions → entity risk with decay → policy → alert.

import { StateRegistry } from '../detect/state.ts';
import { type Rule, type RuleContext, type RuleInstance, ruleEventKinds, type Signal } from '../detect/types.ts';
import type { Diagnostics } from '../diagnostics.ts';
import { decide, type PolicyConfig } from '../policy/policy.ts';
import type { Alert } from '../schema/alert.ts';
import type { EventKind, NormalizedEvent } from '../schema/event.ts';
import { buildAlert, riskEntity } from '../score/alert.ts';
import { type EntityRisk, type RiskConfig, RiskScorer } from '../score/risk.ts';

export interface EngineOptions {
  rules: readonly Rule<any>[];
  /** Per-rule config (already validated and merged over the rule's defaults); a rule with `enabled: false` is skipped. */
  ruleConfig: Record<string, Record<string, unknown> | undefined>;
  weights: Record<string, number>;
  risk: RiskConfig;
  policy: PolicyConfig;
  facts: RuleContext['facts'];
  /** Returns a reason when the signal is allowlisted (suppressed), else null. */
  allowlisted?: (signal: Signal) => string | null;
  /**
   * True when an analyst's false-positive verdict suppresses the signal (see src/feedback/). Like an
   * allowlisted signal, a suppressed one is counted, not scored.
   */
  suppressedByFeedback?: (signal: Signal) => boolean;
  state?: StateRegistry;
  /** Where rules' run-level notes (RuleContext.note) go, as warnings. */
  diagnostics?: Diagnostics;
}

export interface EngineStats {
  events: number;
  signals: number;
  alerts: number;
  duplicates: number;
  /** Signals suppressed by allowlists, per rule. */
  suppressed: Map<string, number>;
  /** Signals suppressed by analyst feedback, per rule. */
  suppressedByFeedback: Map<string, number>;
  alertsByRule: Map<string, number>;
}

export class DetectionEngine {
  readonly state: StateRegistry;
  readonly stats: EngineStats = {
    events: 0,
    signals: 0,
    alerts: 0,
    duplicates: 0,
    suppressed: new Map(),
    suppressedByFeedback: new Map(),
    alertsByRule: new Map(),
  };
  private readonly instances: { id: string; title: string; instance: RuleInstance; kinds: ReadonlySet<EventKind> }[] = [];
  private readonly options: EngineOptions;
  private readonly scorer: RiskScorer;
  private readonly emittedIds = new Set<string>();
  private pending: Signal[] = [];
  private readonly collect = (s: Signal) => {
    this.pending.push(s);
  };

  constructor(options: EngineOptions) {
    this.options = options;
    this.state = options.state ?? new StateRegistry();
    for (const rule of options.rules) {
      const cfg = options.ruleConfig[rule.meta.id] ?? rule.defaults;
      if ((cfg as { enabled?: boolean }).enabled === false) continue;
      const id = rule.meta.id;
      const ctx: RuleContext = {
        state: <T>(name: string) => this.state.state<T>(`${id}/${name}`),
        facts: options.facts,
        note: (reason: string, message: string) => options.diagnostics?.warn({ reason, message: `${id}: ${message}` }),
      };
      this.instances.push({ id, title: rule.meta.title, instance: rule.create(cfg, ctx), kinds: ruleEventKinds(rule) });
    }
    this.scorer = new RiskScorer(options.risk, this.state.state<EntityRisk>('score/entity'));
  }

  /** Rule ids that are enabled in this engine, in registry order. */
  get enabledRules(): string[] {
    return this.instances.map((i) => i.id);
  }

  /** Mark alert ids emitted by earlier runs so they are never emitted again. */
  rememberEmitted(ids: Iterable<string>): void {
    for (const id of ids) this.emittedIds.add(id);
  }

  /** Process one event; returns the new alerts it caused (usually none). */
  process(event: NormalizedEvent): Alert[] {
    this.stats.events++;
    const kind = event.kind;
    for (const r of this.instances) if (r.kinds.has(kind)) r.instance.observe(event, this.collect);
    return this.drain();
  }

  /**
   * End of input: rules that defer decisions (RuleInstance.finish) decide what is still pending.
   * Returns the alerts that causes. Call once, after the last event of a run.
   */
  finish(): Alert[] {
    for (const r of this.instances) r.instance.finish?.(this.collect);
    return this.drain();
  }

  private drain(): Alert[] {
    if (this.pending.length === 0) return NO_ALERTS;
    const signals = this.pending;
    this.pending = [];
    const alerts: Alert[] = [];
    for (const signal of signals) {
      this.stats.signals++;
      const suppressedBy = this.options.allowlisted?.(signal) ?? null;
      if (suppressedBy !== null) {
        this.stats.suppressed.set(signal.rule, (this.stats.suppressed.get(signal.rule) ?? 0) + 1);
        continue;
      }
      if (this.options.suppressedByFeedback?.(signal)) {
        this.stats.suppressedByFeedback.set(signal.rule, (this.stats.suppressedByFeedback.get(signal.rule) ?? 0) + 1);
        continue;
      }
      const alert = this.score(signal);
      if (!alert) continue;
      if (this.emittedIds.has(alert.id)) {
        this.stats.duplicates++;
        continue;
      }
      this.emittedIds.add(alert.id);
      this.stats.alerts++;
      this.stats.alertsByRule.set(alert.rule, (this.stats.alertsByRule.get(alert.rule) ?? 0) + 1);
      alerts.push(alert);
    }
    return alerts;
  }

  private score(signal: Signal): Alert | null {
    const entity = riskEntity(signal.event);
    if (!entity) return null;
    const weights = this.options.weights;
    const base =
      (signal.variant !== undefined ? weights[`${signal.rule}.${signal.variant}`] : undefined) ?? weights[signal.rule] ?? 0;
    const weight = base * (signal.confidence ?? 1);
    const update = this.scorer.add(`${entity.kind}:${entity.id}`, weight, signal.event.ts);
    const { severity, action } = decide(update.score, this.options.policy);
    const title = this.instances.find((i) => i.id === signal.rule)?.title ?? signal.rule;
    return buildAlert(signal, {
      entity,
      weight,
      prior: update.prior,
      score: update.score,
      signalsInWindow: update.signals,
      severity,
      action,
      title,
    });
  }
}

const NO_ALERTS: Alert[] = [];
