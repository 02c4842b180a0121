// Helpers the certificate-validity rules share (expired-cert, revoked-cert, untrusted-issuer):
// one identity for a certificate, one evidence shape, and the "report once, escalate once" rule.
import type { CertInfo, NormalizedEvent } from '../../schema/event.ts';
import type { KeyedState } from '../types.ts';

const DAY_MS = 86_400_000;

/**
 * Stable identity of a certificate for dedup: SHA-256 of the DER, else SHA-1 (nginx/Suricata
 * log only that), else issuer + serial for logged certificates; null when none is known.
 */
export function certificateKey(cert: CertInfo): string | null {
  if (cert.sha256) return cert.sha256;
  if (cert.sha1) return `sha1:${cert.sha1}`;
  if (cert.issuer && cert.serial) return `issuer-serial:${cert.issuer.trim().toLowerCase()}#${cert.serial}`;
  return null;
}

/** The certificate as it appears in evidence. */
export function certificateEvidence(cert: CertInfo): Record<string, unknown> {
  return {
    sha256: cert.sha256,
    sha1: cert.sha1,
    spki_sha256: cert.spki_sha256,
    subject: cert.subject,
    issuer: cert.issuer,
    serial: cert.serial,
    not_before: cert.not_before,
    not_after: cert.not_after,
    source: cert.source,
  };
}

/** "7 days" for a day or more, else seconds. */
export function formatElapsed(ms: number): string {
  return ms >= DAY_MS ? `${Math.floor(ms / DAY_MS).toLocaleString('en-US')} days` : `${Math.round(ms / 1000)} s`;
}

/** When a finding was reported: as a rejected attempt, and/or as an accepted use. */
export interface ReportedUse {
  attempt_at?: number;
  use_at?: number;
}

/**
 * Whether this use of `key` should be reported now: returns the updated record if so (null if
 * not). A rejected use (attempt)
 * is reported only if nothing was reported yet; an accepted use is reported once, even after an
 * attempt — it escalates the finding: the gateway let it in.
 */
export function claimReport(reported: KeyedState<ReportedUse>, key: string, attempt: boolean, ts: number): ReportedUse | null {
  const seen = reported.get(key);
  if (seen !== undefined && (seen.use_at !== undefined || attempt)) return null;
  const record: ReportedUse = seen === undefined ? {} : { ...seen };
  if (attempt) record.attempt_at = ts;
  else record.use_at = ts;
  reported.set(key, record);
  return record;
}

/** The use that triggered a finding, as it appears in evidence (`first_use`). */
export function useEvidence(event: NormalizedEvent): Record<string, unknown> {
  return {
    time: event.time,
    source_ip: event.source_ip,
    service: event.service,
    user: event.user,
    device: event.device,
    outcome: event.outcome,
  };
}
