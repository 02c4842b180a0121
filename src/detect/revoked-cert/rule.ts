// Rule revoked-cert (seed 002 pattern 5): a client certificate used at or after the date its
// issuer revoked it, according to a verified CRL or a verified OCSP response (the enrichment stage
// matches CRL entries by issuer + serial, asks the OCSP responder with `--ocsp`, checks every
// signature, and merges both into one verdict; this rule reads it).
import { Type } from 'typebox';
import type { CertInfo, NormalizedEvent, RevocationResult } from '../../schema/event.ts';
import { certificateKey, claimReport, formatElapsed, type ReportedUse, useEvidence } from '../shared/certificate.ts';
import type { Rule, RuleInstance, Signal } from '../types.ts';

const RULE_ID = 'revoked-cert';
const DAY_MS = 86_400_000;
/** Confidence for a use the gateway rejected (outcome `failure`): an attempt, not an access. */
const ATTEMPT_CONFIDENCE = 0.5;

export const configSchema = Type.Object({}, { additionalProperties: false });

/** Config block `rules.revoked-cert` (no keys: the CRLs come from --crl, weights from scoring). */
export type Config = Record<string, never>;

/** What is remembered per certificate: when each kind of signal was emitted. */
/**
 * The instant (epoch ms) from which a use is a revoked use: the CRL entry's revocationDate, else
 * (if the enrichment could not report it) the CRL's thisUpdate, by which the revocation had
 * certainly happened. NaN when neither is known. Only called for `revoked` results (rare), so
 * parsing here costs nothing on the common path.
 */
function revokedFrom(revocation: RevocationResult): number {
  const date = revocation.revoked_at ?? revocation.crl_this_update;
  return date === null ? Number.NaN : Date.parse(date);
}

export const rule: Rule<Config> = {
  meta: {
    id: RULE_ID,
    title: 'Revoked certificate used',
    description:
      'A client certificate whose serial is listed on a verified CRL from its issuer (or that its OCSP responder ' +
      'reports revoked) was used at or after its revocation date: a replay of a certificate the PKI already withdrew, ' +
      'often after key compromise. Requires --crl or --ocsp; reported once per certificate; a use the gateway ' +
      'rejected is reported as an attempt with confidence 0.5.',
    default_weight: 70,
    references: ['seed 002 pattern 5 (Expired/Revoked cert usage)', 'RFC 5280 §5 (CRL profile)', 'RFC 6960 (OCSP)'],
    false_positives: [
      'Certificates revoked for administrative reasons (superseded, cessationOfOperation) still installed on a device during a planned rotation: check reason_code and allowlist the certificate sha256 until the device is re-enrolled.',
      'A use shortly after revocation by a client whose new certificate had not yet been deployed.',
    ],
  },
  configSchema,
  defaults: {},
  create(_config, ctx): RuleInstance {
    if (!ctx.facts.crlsConfigured && !ctx.facts.ocspConfigured) return { observe() {} };
    const reported = ctx.state<ReportedUse>('reported');
    return {
      observe(event: NormalizedEvent, emit: (signal: Signal) => void): void {
        const revocation = event.enrichment.revocation;
        if (revocation === null || revocation.status !== 'revoked') return;
        const cert = event.certificate;
        if (cert === null) return;
        const from = revokedFrom(revocation);
        // A use before the revocation date is not a revoked use; an unknown date cannot be judged.
        if (!(event.ts >= from)) return;
        const certKey = certificateKey(cert);
        if (certKey === null) return;
        const attempt = event.outcome === 'failure';
        const record = claimReport(reported, certKey, attempt, event.ts);
        if (record === null) return;

        const sinceMs = event.ts - from;
        const name = cert.subject ?? cert.subject_cn ?? certKey;
        const who = event.user ?? event.device ?? event.source_ip ?? 'unknown client';
        const where = event.service ? ` to ${event.service}` : '';
        const verb = attempt ? 'presented (rejected)' : 'used';
        const reason = revocation.reason_code ? `, reason ${revocation.reason_code}` : '';
        const ocsp = revocation.source === 'ocsp' ? (revocation.ocsp ?? null) : null;
        const via = ocsp ? ` per OCSP responder ${ocsp.responder_url}` : '';
        const summary = `Revoked certificate "${name}" (serial ${cert.serial ?? '?'}) ${verb} ${formatElapsed(sinceMs)} after revocation (revoked ${revocation.revoked_at ?? `by ${revocation.crl_this_update}`}${reason}${via}) by ${who}${where}`;
        const evidence: Record<string, unknown> = {
          certificate: {
            sha256: cert.sha256,
            sha1: cert.sha1,
            spki_sha256: cert.spki_sha256,
            subject: cert.subject,
            issuer: cert.issuer,
            serial: cert.serial,
            not_after: cert.not_after,
            source: cert.source,
          },
          certificate_key: certKey,
          serial: cert.serial,
          issuer: cert.issuer,
          crl_issuer: revocation.crl_issuer,
          crl_this_update: revocation.crl_this_update,
          revoked_at: revocation.revoked_at,
          reason_code: revocation.reason_code,
          revocation_source: revocation.source ?? 'crl',
          seconds_since_revocation: Math.floor(sinceMs / 1000),
          days_since_revocation: Math.floor(sinceMs / DAY_MS),
          first_use: useEvidence(event),
          attempt,
        };
        if (revocation.ocsp) {
          // The OCSP answer, whether it decided (source 'ocsp') or the CRL did (then it may disagree).
          evidence.ocsp = {
            status: revocation.ocsp.status,
            responder_url: revocation.ocsp.responder_url,
            produced_at: revocation.ocsp.produced_at,
            this_update: revocation.ocsp.this_update,
            revoked_at: revocation.ocsp.revoked_at,
            revocation_reason: revocation.ocsp.revocation_reason,
            unknown_reason: revocation.ocsp.unknown_reason,
          };
        }
        if (revocation.revoked_at === null) {
          evidence.note_revocation_date =
            'The CRL entry carried no usable revocation date; the CRL thisUpdate was used as the boundary.';
        }
        if (attempt) {
          evidence.note = 'The gateway rejected this use (outcome failure): reported as an attempt with confidence 0.5.';
        } else if (record.attempt_at !== undefined) {
          evidence.note = 'An earlier rejected attempt with this certificate was reported; this use was not rejected.';
          evidence.earlier_attempt_at = new Date(record.attempt_at).toISOString();
        }
        emit({
          rule: RULE_ID,
          summary,
          dedup_key: attempt ? `${certKey}|attempt` : certKey,
          event,
          confidence: attempt ? ATTEMPT_CONFIDENCE : 1,
          evidence,
        });
      },
    };
  },
};
