// Rule expired-cert (seed 002 pattern 5): a client certificate used outside its validity window.
// Reported once per certificate and variant, however many times it is used: real telemetry
// shows the same expired certificate in use for years (FIELD-NOTES), and that is one finding.
import { Type } from 'typebox';
import type { CertInfo, NormalizedEvent } from '../../schema/event.ts';
import {
  certificateEvidence,
  certificateKey,
  claimReport,
  formatElapsed,
  type ReportedUse,
  useEvidence,
} from '../shared/certificate.ts';
import type { Rule, RuleInstance, Signal } from '../types.ts';

const RULE_ID = 'expired-cert';
const DAY_MS = 86_400_000;
/** Confidence for a use the gateway rejected (outcome `failure`): an attempt, not an access. */
const ATTEMPT_CONFIDENCE = 0.5;

export const configSchema = Type.Object(
  {
    clock_skew_seconds: Type.Integer({
      minimum: 0,
      default: 300,
      description: 'Tolerance either side of the validity window before a use counts as expired / not yet valid.',
    }),
  },
  { additionalProperties: false },
);

/** Config block `rules.expired-cert`. */
export interface Config {
  /** Seconds of tolerance either side of the validity window (default 300). */
  clock_skew_seconds: number;
}

/** What is remembered per finding (`<cert key>|<variant>`): when each kind of signal was emitted. */
/** What the rule derives once per certificate object. */
interface CertFacts {
  /** Epoch ms, NaN when unknown. */
  notBefore: number;
  notAfter: number;
  /** Dedup identity (see certificateKey), null when the certificate cannot be identified. */
  key: string | null;
  /** Finding keys `<key>|expired` / `<key>|not-yet-valid`, built once. */
  expiredKey: string;
  notYetValidKey: string;
}

// Per CertInfo object; normalize hands out one CertInfo per distinct certificate, so the date
// parsing and key building happen once per certificate instead of once per use.
const factsCache = new WeakMap<CertInfo, CertFacts>();

function factsOf(cert: CertInfo): CertFacts {
  let f = factsCache.get(cert);
  if (f === undefined) {
    const key = certificateKey(cert);
    f = {
      notBefore: cert.not_before === null ? Number.NaN : Date.parse(cert.not_before),
      notAfter: cert.not_after === null ? Number.NaN : Date.parse(cert.not_after),
      key,
      expiredKey: `${key}|expired`,
      notYetValidKey: `${key}|not-yet-valid`,
    };
    factsCache.set(cert, f);
  }
  return f;
}

export const rule: Rule<Config> = {
  meta: {
    id: RULE_ID,
    title: 'Certificate used outside its validity window',
    description:
      'A client certificate was presented after its notAfter date (expired) or before its notBefore date ' +
      '(not yet valid), beyond a clock-skew tolerance. Old or forged artifacts replayed by an attacker look like ' +
      'this. Reported once per certificate and variant; a use the gateway rejected is reported as an attempt with ' +
      'confidence 0.5.',
    default_weight: 70,
    variant_weights: { expired: 70, 'not-yet-valid': 70 },
    references: [
      'seed 002 pattern 5 (Expired/Revoked cert usage)',
      'RFC 5280 §4.1.2.5 (validity)',
      'FIELD-NOTES: IMC 2024 "Mutual TLS in Practice" (expired certificates in use 1,000+ days)',
    ],
    false_positives: [
      'Devices and vendor services that keep presenting an expired certificate for years (42% of expired uses in the IMC 2024 study were Apple/Microsoft services): allowlist the certificate sha256 or its issuer.',
      'Clients with a wrong clock presenting a freshly issued certificate (not-yet-valid): raise clock_skew_seconds.',
    ],
  },
  configSchema,
  defaults: { clock_skew_seconds: 300 },
  create(config, ctx): RuleInstance {
    const skewMs = config.clock_skew_seconds * 1000;
    const reported = ctx.state<ReportedUse>('reported');
    return {
      observe(event: NormalizedEvent, emit: (signal: Signal) => void): void {
        const cert = event.certificate;
        if (cert === null) return;
        const facts = factsOf(cert);
        const { notBefore, notAfter } = facts;
        let variant: 'expired' | 'not-yet-valid';
        let outsideMs: number;
        // NaN comparisons are false, so an unknown bound never fires.
        if (event.ts > notAfter + skewMs) {
          variant = 'expired';
          outsideMs = event.ts - notAfter;
        } else if (event.ts < notBefore - skewMs) {
          variant = 'not-yet-valid';
          outsideMs = notBefore - event.ts;
        } else {
          return;
        }
        const certKey = facts.key;
        if (certKey === null) return;
        const findingKey = variant === 'expired' ? facts.expiredKey : facts.notYetValidKey;
        const attempt = event.outcome === 'failure';
        const record = claimReport(reported, findingKey, attempt, event.ts);
        if (record === null) return;

        const seconds = Math.floor(outsideMs / 1000);
        const days = Math.floor(outsideMs / DAY_MS);
        const who = event.user ?? event.device ?? event.source_ip ?? 'unknown client';
        const where = event.service ? ` to ${event.service}` : '';
        const name = cert.subject ?? cert.subject_cn ?? certKey;
        const verb = attempt ? 'presented (rejected)' : 'used';
        const summary =
          variant === 'expired'
            ? `Certificate "${name}" ${verb} ${formatElapsed(outsideMs)} after it expired (not_after ${cert.not_after}, skew ${config.clock_skew_seconds} s) by ${who}${where}`
            : `Certificate "${name}" ${verb} ${formatElapsed(outsideMs)} before it became valid (not_before ${cert.not_before}, skew ${config.clock_skew_seconds} s) by ${who}${where}`;
        const evidence: Record<string, unknown> = {
          certificate: certificateEvidence(cert),
          certificate_key: certKey,
          not_before: cert.not_before,
          not_after: cert.not_after,
          clock_skew_seconds: config.clock_skew_seconds,
          first_use: useEvidence(event),
          attempt,
        };
        if (variant === 'expired') {
          evidence.seconds_expired = seconds;
          evidence.days_expired = days;
        } else {
          evidence.seconds_until_valid = seconds;
          evidence.days_until_valid = days;
        }
        if (attempt) {
          evidence.note = 'The gateway rejected this use (outcome failure): reported as an attempt with confidence 0.5.';
        } else if (record.attempt_at !== undefined) {
          evidence.note = 'An earlier rejected attempt with this certificate was reported; this use was not rejected.';
          evidence.earlier_attempt_at = new Date(record.attempt_at).toISOString();
        }
        emit({
          rule: RULE_ID,
          variant,
          summary,
          dedup_key: attempt ? `${findingKey}|attempt` : findingKey,
          event,
          confidence: attempt ? ATTEMPT_CONFIDENCE : 1,
          evidence,
        });
      },
    };
  },
};
