// Combining CRL and OCSP verdicts into the one RevocationResult rules read. Policy: revoked by
// either source is revoked (a revocation is permanent, and the two sources can lag each other);
// otherwise good from either is good; otherwise unknown. Both answers stay visible: the CRL
// fields as before, the OCSP answer under `ocsp`, and `source` names the one that decided.
import type { OcspResult, RevocationResult } from '../../schema/event.ts';

/** Merge an OCSP answer into the CRL result already on the event (null when no CRL is loaded). */
export function mergeRevocation(crl: RevocationResult | null, ocsp: OcspResult): RevocationResult {
  const base: RevocationResult = crl ?? {
    status: 'unknown',
    crl_issuer: null,
    crl_this_update: null,
    revoked_at: null,
    reason_code: null,
  };
  // CRL results are shared between events: copy, never mutate.
  const crlStatus = crl?.status ?? 'unknown';
  const out: RevocationResult = { ...base, ocsp };
  if (crlStatus === 'revoked') {
    out.status = 'revoked';
    out.source = 'crl';
  } else if (ocsp.status === 'revoked') {
    out.status = 'revoked';
    out.source = 'ocsp';
    out.revoked_at = ocsp.revoked_at;
    out.reason_code = ocsp.revocation_reason;
  } else if (crlStatus === 'good') {
    out.status = 'good';
    out.source = 'crl';
  } else if (ocsp.status === 'good') {
    out.status = 'good';
    out.source = 'ocsp';
    out.revoked_at = null;
    out.reason_code = null;
  } else {
    out.status = 'unknown';
    delete out.source;
  }
  return out;
}
