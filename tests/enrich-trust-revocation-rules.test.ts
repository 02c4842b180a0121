// Integration: real trust anchors and a real signed CRL run through the enrichment stage
// (src/enrich TrustStore + CrlStore + Enricher) into the untrusted-issuer and revoked-cert rules,
// so the rules are tested on exactly the TrustResult / RevocationResult the pipeline produces.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { rule as revokedCert } from '../src/detect/revoked-cert/rule.ts';
import { StateRegistry } from '../src/detect/state.ts';
import { rule as untrustedIssuer } from '../src/detect/untrusted-issuer/rule.ts';
import { CrlStore } from '../src/enrich/crl.ts';
import { Enricher } from '../src/enrich/index.ts';
import { TrustStore } from '../src/enrich/trust.ts';
import { parseCertificate } from '../src/normalize/certificate.ts';
import type { NormalizedEvent } from '../src/schema/event.ts';
import { makeEvent, runRule } from './helpers/events.ts';
import { createRootCA, createSelfSignedLeaf, type TestCA, type TestCert } from './helpers/pki.ts';

const REVOKED_AT = Date.parse('2026-01-10T12:00:00Z');
const THIS_UPDATE = new Date('2026-01-11T00:00:00Z');
const NEXT_UPDATE = new Date('2026-02-11T00:00:00Z');
const VALID_FROM = new Date('2025-06-01T00:00:00Z');
const VALID_TO = new Date('2027-06-01T00:00:00Z');

let internalCA: TestCA;
let rogueCA: TestCA;
let revokedLeaf: TestCert;
let goodLeaf: TestCert;
let rogueLeaf: TestCert;
let selfSigned: TestCert;
let enricher: Enricher;

before(async () => {
  internalCA = await createRootCA('CN=Integration Root, O=certsignal tests');
  rogueCA = await createRootCA('CN=Rogue Root, O=Evil');
  revokedLeaf = await internalCA.issue({ subject: 'CN=alice, O=Example', notBefore: VALID_FROM, notAfter: VALID_TO });
  goodLeaf = await internalCA.issue({ subject: 'CN=bob, O=Example', notBefore: VALID_FROM, notAfter: VALID_TO });
  rogueLeaf = await rogueCA.issue({ subject: 'CN=alice, O=Example', notBefore: VALID_FROM, notAfter: VALID_TO });
  selfSigned = await createSelfSignedLeaf({ subject: 'CN=mallory', notBefore: VALID_FROM, notAfter: VALID_TO });
  // Reason defaults to keyCompromise (tests/helpers/pki.ts).
  const crl = await internalCA.crl([{ serial: revokedLeaf.serial, date: new Date(REVOKED_AT) }], {
    thisUpdate: THIS_UPDATE,
    nextUpdate: NEXT_UPDATE,
  });
  const trust = TrustStore.fromPemBundle(internalCA.cert.pem);
  const crls = new CrlStore(trust, { now: () => THIS_UPDATE.getTime() });
  assert.equal(crls.addCrl(crl.der, 'integration.crl'), 1);
  enricher = new Enricher({ trust, crls });
});

/** A normalized event for `cert`, enriched by the real enricher from the certificate bytes. */
function enriched(cert: TestCert, at: number, init: Parameters<typeof makeEvent>[0] = {}): NormalizedEvent {
  const event = makeEvent({ cert, at, ...init });
  enricher.enrich(event, parseCertificate(cert.pem), []);
  return event;
}

describe('enrichment → untrusted-issuer / revoked-cert', () => {
  it('reports the enricher facts the rules gate on', () => {
    assert.equal(enricher.facts.trustAnchorsConfigured, true);
    assert.equal(enricher.facts.crlsConfigured, true);
  });

  it('a certificate listed on the verified CRL fires revoked-cert at revoked_at, not 1 ms before', () => {
    const beforeRevocation = enriched(revokedLeaf, REVOKED_AT - 1);
    assert.notEqual(beforeRevocation.enrichment.revocation?.status, 'revoked');
    const atRevocation = enriched(revokedLeaf, REVOKED_AT, { user: 'alice', service: 'vpn' });
    assert.equal(atRevocation.enrichment.revocation?.status, 'revoked');

    const signals = runRule(revokedCert, [beforeRevocation, atRevocation], { facts: enricher.facts });
    assert.equal(signals.length, 1);
    const s = signals[0];
    assert.equal(s.event, atRevocation);
    assert.equal(s.evidence.serial, revokedLeaf.serial);
    assert.equal(s.evidence.revoked_at, new Date(REVOKED_AT).toISOString());
    assert.equal(s.evidence.crl_this_update, THIS_UPDATE.toISOString());
    assert.equal(s.evidence.crl_issuer, atRevocation.certificate?.issuer);
    assert.ok(s.evidence.reason_code, 'the CRL reason code is carried into evidence');
    assert.equal(s.evidence.seconds_since_revocation, 0);
  });

  it('a certificate from the same CA that the CRL does not list stays quiet', () => {
    const e = enriched(goodLeaf, REVOKED_AT + 86_400_000);
    assert.equal(e.enrichment.revocation?.status, 'good');
    assert.equal(e.enrichment.trust?.status, 'trusted');
    assert.equal(runRule(revokedCert, [e], { facts: enricher.facts }).length, 0);
    assert.equal(runRule(untrustedIssuer, [e], { facts: enricher.facts }).length, 0);
  });

  it('revoked uses are one finding across many events and two runs', () => {
    const registry = new StateRegistry();
    const uses = Array.from({ length: 50 }, (_, i) => enriched(revokedLeaf, REVOKED_AT + i * 3_600_000));
    assert.equal(runRule(revokedCert, uses, { facts: enricher.facts, registry }).length, 1);
    assert.equal(
      runRule(revokedCert, [enriched(revokedLeaf, REVOKED_AT + 90 * 86_400_000)], { facts: enricher.facts, registry }).length,
      0,
    );
  });

  it('a certificate from a CA outside the anchors fires unknown-issuer; a self-signed one fires self-signed', () => {
    const rogue = enriched(rogueLeaf, REVOKED_AT, { user: 'alice', service: 'api' });
    const self = enriched(selfSigned, REVOKED_AT, { device: 'kiosk-1', service: 'api' });
    assert.equal(rogue.enrichment.trust?.status, 'untrusted');
    assert.equal(self.enrichment.trust?.status, 'untrusted');
    const signals = runRule(untrustedIssuer, [rogue, self], { facts: enricher.facts });
    assert.deepEqual(
      signals.map((s) => [s.variant, s.event]),
      [
        ['unknown-issuer', rogue],
        ['self-signed', self],
      ],
    );
    assert.equal(signals[0].evidence.trust_reason, rogue.enrichment.trust?.reason);
    // Not on the CRL's issuer: revocation cannot be judged, so revoked-cert stays quiet.
    assert.notEqual(rogue.enrichment.revocation?.status, 'revoked');
    assert.equal(runRule(revokedCert, [rogue, self], { facts: enricher.facts }).length, 0);
  });

  it('a trust anchor presented as a client certificate is trusted and stays quiet', () => {
    const e = enriched(internalCA.cert, REVOKED_AT);
    assert.equal(e.enrichment.trust?.status, 'trusted');
    assert.equal(e.certificate?.self_signed, true);
    assert.equal(runRule(untrustedIssuer, [e], { facts: enricher.facts }).length, 0);
  });
});
