// The severity each injected attack is promised to reach (labels.json `expected_severity`), in one
// table. Each promise follows from the rules' default weights and the default policy (score < 40
// low, 40–80 medium, > 80 high, > 120 critical; README "Detections" and "Scoring and policy"): it is
// what the design guarantees whatever the seed, not what one run happened to give. Signals of one
// entity add up within the correlation window, so an attack may well exceed its promise.
import type { Severity } from '../schema/alert.ts';
import type { AttackType } from './types.ts';

/** One attack type's promise, and optionally a higher one when the label expects a further rule. */
export interface SeverityPromise {
  severity: Severity;
  /** Why the design guarantees it (one line). */
  reason: string;
  /** A higher promise that holds only when the label's expected_rules include `rule`. */
  raisedBy?: { rule: string; severity: Severity; reason: string };
  /** A different promise for a variant of the attack the scenario picked (DraftLabel.variant). */
  variants?: Record<string, { severity: Severity; reason: string }>;
}

/** Minimum severity per attack type (the only place the simulator's promises are made). */
export const PROMISED_SEVERITY: Readonly<Record<AttackType, SeverityPromise>> = {
  'churn-after-key-theft': {
    severity: 'medium',
    reason: 'cert-churn (40) alone; the gateway sees the new certificates but nothing else is guaranteed',
    raisedBy: {
      rule: 'issuance-without-enrollment',
      severity: 'high',
      reason: 'with CA/MDM logs, issuance-without-enrollment (50) + cert-churn (40) on the victim within the window > 80',
    },
  },
  'stolen-cert-replay': {
    severity: 'low',
    reason: 'tls-fingerprint-change (20) is the only signal every variant can rely on: a weak signal by design',
    raisedBy: {
      rule: 'impossible-travel',
      severity: 'medium',
      reason: 'impossible-travel (50) when the replay is located far from the victim’s last use',
    },
  },
  'key-shared-across-accounts': { severity: 'medium', reason: 'key-reuse (60)' },
  'service-cert-on-laptop': {
    severity: 'low',
    reason: 'subject-mismatch (30): a weak signal by design (workload certificates move between hosts legitimately)',
  },
  'expired-cert-use': { severity: 'medium', reason: 'expired-cert (70)' },
  'revoked-cert-use': { severity: 'medium', reason: 'revoked-cert (70)' },
  'foreign-or-self-signed-cert': { severity: 'medium', reason: 'untrusted-issuer (50)' },
  'tls-stack-change': {
    severity: 'low',
    reason: 'tls-fingerprint-change (20, downgrade 30): a weak signal by design (browser updates change JA4 too)',
  },
  'night-service-sweep': {
    severity: 'low',
    reason: 'new-resource (sweep 40, half confidence on an immature account): a weak signal by design',
  },
  'data-exfiltration': {
    severity: 'low',
    reason:
      'a burst of 40–120 requests may cross the 30-request floor first: volume-spike requests (35), a weak signal by design',
    variants: {
      'large-requests': {
        severity: 'medium',
        reason: '6–14 requests never reach the 30-request floor, so only volume-spike bytes (45) can fire',
      },
    },
  },
  'rogue-issuance': {
    severity: 'high',
    reason: 'issuance-without-enrollment (50) + cert-churn (40) on the victim within the window > 80',
  },
  'esc1-request': {
    severity: 'high',
    reason: 'requester-subject-mismatch requested-san (60, subject 40) + used (60) on the impersonated account > 80',
  },
};

/**
 * The severity a labelled attack must reach: its type's promise, raised when its expected rules
 * include the raising rule, or its variant's promise when the table has one. Null (no promise) when no rule is expected to fire, or for a type the
 * table does not know.
 */
export function promisedSeverity(type: string, expectedRules: readonly string[], variant?: string): Severity | null {
  if (expectedRules.length === 0) return null;
  const promise = (PROMISED_SEVERITY as Record<string, SeverityPromise | undefined>)[type];
  if (!promise) return null;
  const chosen = variant === undefined ? undefined : promise.variants?.[variant];
  if (chosen) return chosen.severity;
  if (promise.raisedBy && expectedRules.includes(promise.raisedBy.rule)) return promise.raisedBy.severity;
  return promise.severity;
}
