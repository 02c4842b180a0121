// Builds a DetectionEngine from a validated Config: rule configs (with the global automation
// issuers merged into `exempt_issuers`), weights, risk window, policy, allowlists and the
// analyst-feedback suppressions loaded from the state store.
import { allowlistMatches, type Config } from '../config/config.ts';
import { RULES } from '../detect/registry.ts';
import { StateRegistry } from '../detect/state.ts';
import type { Rule, RuleContext } from '../detect/types.ts';
import type { Diagnostics } from '../diagnostics.ts';
import type { FeedbackSuppressions } from '../feedback/suppressions.ts';
import { DetectionEngine } from './engine.ts';

export function createEngine(
  config: Config,
  facts: RuleContext['facts'],
  options: {
    rules?: readonly Rule<any>[];
    diagnostics?: Diagnostics;
    feedback?: FeedbackSuppressions;
    /** False when the run persists nothing (no --state): rule state skips change tracking. */
    persistent?: boolean;
  } = {},
): DetectionEngine {
  const rules = options.rules ?? RULES;
  const feedback = options.feedback;
  const ruleConfig: Record<string, Record<string, unknown>> = {};
  for (const rule of rules) {
    const cfg = {
      ...(rule.defaults as Record<string, unknown>),
      ...((config.rules as Record<string, Record<string, unknown> | undefined>)[rule.meta.id] ?? {}),
    };
    if ('exempt_issuers' in cfg) {
      cfg.exempt_issuers = [...new Set([...((cfg.exempt_issuers as string[]) ?? []), ...config.automation_issuers])];
    }
    ruleConfig[rule.meta.id] = cfg;
  }
  return new DetectionEngine({
    state: new StateRegistry({ trackChanges: options.persistent !== false }),
    rules,
    ruleConfig,
    weights: ruleWeights(rules, config.scoring.weights),
    risk: {
      correlation_window_minutes: config.scoring.correlation_window_minutes,
      decay_half_life_minutes: config.scoring.decay_half_life_minutes,
    },
    policy: { thresholds: config.scoring.thresholds, actions: config.scoring.actions },
    facts,
    allowlisted:
      config.allowlists.length > 0
        ? (signal) => allowlistMatches(config, signal, { diagnostics: options.diagnostics })
        : undefined,
    suppressedByFeedback: feedback && feedback.size > 0 ? (signal) => feedback.match(signal) !== null : undefined,
    diagnostics: options.diagnostics,
  });
}

/** Weights from each rule's metadata (default and per variant), overridden by `scoring.weights`. */
export function ruleWeights(rules: readonly Rule<any>[], overrides: Record<string, number>): Record<string, number> {
  const weights: Record<string, number> = {};
  for (const rule of rules) {
    weights[rule.meta.id] = rule.meta.default_weight;
    for (const [variant, w] of Object.entries(rule.meta.variant_weights ?? {})) weights[`${rule.meta.id}.${variant}`] = w;
  }
  return { ...weights, ...overrides };
}
