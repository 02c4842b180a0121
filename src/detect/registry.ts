// The one explicit list of detection rules. A new rule is a new folder under src/detect/ plus one
// line here; nothing is discovered from the disk. The order is fixed and documented (docs/rules.md):
// rules run, and their signals are emitted, in this order for each event.
import { rule as behaviourAnomaly } from './behaviour-anomaly/rule.ts';
import { rule as certChurn } from './cert-churn/rule.ts';
import { rule as expiredCert } from './expired-cert/rule.ts';
import { rule as impossibleTravel } from './impossible-travel/rule.ts';
import { rule as issuanceWithoutEnrollment } from './issuance-without-enrollment/rule.ts';
import { rule as keyReuse } from './key-reuse/rule.ts';
import { rule as newDevice } from './new-device/rule.ts';
import { rule as newResource } from './new-resource/rule.ts';
import { rule as oddHour } from './odd-hour/rule.ts';
import { rule as requesterSubjectMismatch } from './requester-subject-mismatch/rule.ts';
import { rule as revokedCert } from './revoked-cert/rule.ts';
import { rule as subjectMismatch } from './subject-mismatch/rule.ts';
import { rule as tlsFingerprintChange } from './tls-fingerprint-change/rule.ts';
import type { Rule } from './types.ts';
import { rule as untrustedIssuer } from './untrusted-issuer/rule.ts';
import { rule as volumeSpike } from './volume-spike/rule.ts';

/**
 * Every rule, in the documented order: cert-churn, key-reuse, subject-mismatch,
 * untrusted-issuer, expired-cert, revoked-cert, tls-fingerprint-change, new-device,
 * impossible-travel, odd-hour, new-resource, issuance-without-enrollment, requester-subject-mismatch, volume-spike, behaviour-anomaly.
 */
// biome-ignore lint/suspicious/noExplicitAny: each rule has its own config type; callers validate config against rule.configSchema.
export const RULES: readonly Rule<any>[] = Object.freeze([
  certChurn,
  keyReuse,
  subjectMismatch,
  untrustedIssuer,
  expiredCert,
  revokedCert,
  tlsFingerprintChange,
  newDevice,
  impossibleTravel,
  oddHour,
  newResource,
  issuanceWithoutEnrollment,
  requesterSubjectMismatch,
  volumeSpike,
  behaviourAnomaly,
]);

// biome-ignore lint/suspicious/noExplicitAny: see RULES.
const BY_ID: ReadonlyMap<string, Rule<any>> = new Map(RULES.map((r) => [r.meta.id, r]));

/** The rule with this id, or undefined when no such rule exists. */
// biome-ignore lint/suspicious/noExplicitAny: see RULES.
export function getRule(id: string): Rule<any> | undefined {
  return BY_ID.get(id);
}
