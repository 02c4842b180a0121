// Policy: a risk score becomes a severity and an action (allow / step-up / deny).
// Detection never decides actions; this is the only place that does.
import type { Action, Severity } from '../schema/alert.ts';

export interface PolicyConfig {
  thresholds: { medium: number; high: number; critical: number };
  actions: Record<Severity, Action>;
}

export const DEFAULT_POLICY: PolicyConfig = {
  thresholds: { medium: 40, high: 80, critical: 120 },
  actions: { low: 'allow', medium: 'step-up', high: 'deny', critical: 'deny' },
};

/** score ≥ medium → medium; > high → high; > critical → critical; else low. */
export function severityFor(score: number, policy: PolicyConfig): Severity {
  const t = policy.thresholds;
  if (score > t.critical) return 'critical';
  if (score > t.high) return 'high';
  if (score >= t.medium) return 'medium';
  return 'low';
}

export function decide(score: number, policy: PolicyConfig): { severity: Severity; action: Action } {
  const severity = severityFor(score, policy);
  return { severity, action: policy.actions[severity] };
}

const ORDER: Record<Severity, number> = { low: 0, medium: 1, high: 2, critical: 3 };

export function severityAtLeast(s: Severity, min: Severity): boolean {
  return ORDER[s] >= ORDER[min];
}
