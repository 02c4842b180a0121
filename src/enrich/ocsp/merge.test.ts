// mergeRevocation: revoked from either source wins, then good from either, else unknown; both
// answers stay visible and the shared CRL result is never mutated.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OcspResult, RevocationResult } from '../../schema/event.ts';
import { mergeRevocation } from './merge.ts';

const crl = (status: RevocationResult['status']): RevocationResult => ({
  status,
  crl_issuer: 'CN=CA',
  crl_this_update: '2026-01-01T00:00:00.000Z',
  revoked_at: status === 'revoked' ? '2025-12-24T00:00:00.000Z' : null,
  reason_code: status === 'revoked' ? 'superseded' : null,
});
const ocsp = (status: OcspResult['status']): OcspResult => ({
  status,
  unknown_reason: status === 'unknown' ? 'timeout' : null,
  detail: null,
  responder_url: 'http://ocsp.test/',
  produced_at: '2026-01-02T00:00:00.000Z',
  this_update: '2026-01-02T00:00:00.000Z',
  next_update: null,
  revoked_at: status === 'revoked' ? '2025-12-31T00:00:00.000Z' : null,
  revocation_reason: status === 'revoked' ? 'keyCompromise' : null,
});

describe('mergeRevocation', () => {
  it('OCSP alone decides when no CRL is loaded', () => {
    const r = mergeRevocation(null, ocsp('revoked'));
    assert.equal(r.status, 'revoked');
    assert.equal(r.source, 'ocsp');
    assert.equal(r.revoked_at, '2025-12-31T00:00:00.000Z');
    assert.equal(r.reason_code, 'keyCompromise');
    assert.equal(r.crl_issuer, null);
    assert.equal(mergeRevocation(null, ocsp('unknown')).status, 'unknown');
    assert.equal(mergeRevocation(null, ocsp('unknown')).source, undefined);
  });

  it('revoked from either source is revoked; both answers are kept', () => {
    const a = mergeRevocation(crl('good'), ocsp('revoked'));
    assert.deepEqual([a.status, a.source, a.reason_code, a.crl_issuer], ['revoked', 'ocsp', 'keyCompromise', 'CN=CA']);
    const b = mergeRevocation(crl('revoked'), ocsp('good'));
    assert.deepEqual([b.status, b.source, b.reason_code, b.ocsp?.status], ['revoked', 'crl', 'superseded', 'good']);
  });

  it('good from either source is good when nothing says revoked', () => {
    assert.deepEqual(
      [mergeRevocation(crl('unknown'), ocsp('good')).status, mergeRevocation(crl('unknown'), ocsp('good')).source],
      ['good', 'ocsp'],
    );
    assert.deepEqual(
      [mergeRevocation(crl('good'), ocsp('unknown')).status, mergeRevocation(crl('good'), ocsp('unknown')).source],
      ['good', 'crl'],
    );
  });

  it('does not mutate the CRL result (shared between events)', () => {
    const shared = crl('good');
    const copy = structuredClone(shared);
    mergeRevocation(shared, ocsp('revoked'));
    assert.deepEqual(shared, copy);
  });
});
