// Trust anchors: chain building with real signatures, presented intermediates, self-signed and
// forged certificates, logged-only certificates, caching.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRootCA, createSelfSignedLeaf } from '../../tests/helpers/pki.ts';
import { CertsignalError } from '../errors.ts';
import { parseCertificate } from '../normalize/certificate.ts';
import { TrustStore } from './trust.ts';

describe('TrustStore.evaluate with certificate bytes', async () => {
  const root = await createRootCA('CN=Corp Root, O=Corp');
  const issuing = await root.subordinate('CN=Corp Devices CA, O=Corp');
  const leafDirect = await root.issue({ subject: 'CN=direct' });
  const leafViaInter = await issuing.issue({ subject: 'CN=laptop-1' });
  const rootOnly = TrustStore.fromPemBundle(root.cert.pem);
  const bundle = TrustStore.fromPemBundle(root.cert.pem + issuing.cert.pem);

  it('trusts a leaf signed by an anchor', () => {
    const r = rootOnly.evaluate(parseCertificate(leafDirect.pem));
    assert.equal(r.status, 'trusted');
    // @peculiar/x509 reads 'CN=Corp Root, O=Corp' in DER order, so RFC 4514 shows it reversed
    assert.equal(r.anchor_subject, 'O=Corp,CN=Corp Root');
    assert.equal(r.anchor_sha256, parseCertificate(root.cert.pem).info.sha256);
  });

  it('trusts a leaf through a presented intermediate, and directly when the intermediate is in the bundle', () => {
    const leaf = parseCertificate(leafViaInter.pem);
    assert.equal(rootOnly.evaluate(leaf, [parseCertificate(issuing.cert.pem)]).status, 'trusted');
    assert.match(rootOnly.evaluate(leaf, [parseCertificate(issuing.cert.pem)]).reason, /1 presented intermediate/);
    const viaBundle = bundle.evaluate(leaf);
    assert.equal(viaBundle.status, 'trusted');
    assert.equal(viaBundle.anchor_sha256, parseCertificate(issuing.cert.pem).info.sha256);
  });

  it('does not trust a leaf whose intermediate is missing', () => {
    const r = rootOnly.evaluate(parseCertificate(leafViaInter.pem));
    assert.equal(r.status, 'untrusted');
    assert.match(r.reason, /not among the trust anchors/);
  });

  it('rejects a forged issuer: same issuer name, different key', async () => {
    const forger = await createRootCA('CN=Corp Root, O=Corp');
    const forged = parseCertificate((await forger.issue({ subject: 'CN=direct' })).pem);
    assert.equal(forged.issuerDn, parseCertificate(leafDirect.pem).issuerDn);
    const r = rootOnly.evaluate(forged);
    assert.equal(r.status, 'untrusted');
    assert.match(r.reason, /signature does not verify|not among/);
  });

  it('does not let a non-CA leaf act as an intermediate', async () => {
    const leaf = await root.issue({ subject: 'CN=not-a-ca' });
    // A certificate "issued" by the leaf's key, named after the leaf.
    const { TestCA } = await import('../../tests/helpers/pki.ts');
    const fakeCa = new TestCA(leaf);
    const child = parseCertificate((await fakeCa.issue({ subject: 'CN=child' })).pem);
    assert.equal(rootOnly.evaluate(child, [parseCertificate(leaf.pem)]).status, 'untrusted');
  });

  it('a self-signed leaf is untrusted unless it is itself an anchor', async () => {
    const self = await createSelfSignedLeaf({ subject: 'CN=rogue' });
    const r = rootOnly.evaluate(parseCertificate(self.pem));
    assert.equal(r.status, 'untrusted');
    assert.equal(r.reason, 'self-signed');
    const pinned = TrustStore.fromPemBundle(self.pem);
    assert.equal(pinned.evaluate(parseCertificate(self.pem)).status, 'trusted');
  });

  it('caches per leaf + chain', () => {
    const leaf = parseCertificate(leafDirect.pem);
    assert.equal(rootOnly.evaluate(leaf), rootOnly.evaluate(leaf));
  });

  it('no anchors → unknown', () => {
    assert.equal(new TrustStore([]).evaluate(parseCertificate(leafDirect.pem)).status, 'unknown');
  });

  describe('logged-only certificates (no bytes)', () => {
    const loggedBase = parseCertificate(leafDirect.pem).info;
    it('issuer name matching an anchor → unknown, anchor named, signature not checked', () => {
      const r = rootOnly.evaluate({ ...loggedBase, source: 'logged', spki_sha256: null });
      assert.equal(r.status, 'unknown');
      assert.equal(r.anchor_subject, loggedBase.issuer);
      assert.match(r.reason, /signature not checked/);
    });
    it('issuer name not among the anchors → untrusted', () => {
      const r = rootOnly.evaluate({ ...loggedBase, source: 'logged', issuer: 'CN=Elsewhere CA' });
      assert.equal(r.status, 'untrusted');
    });
    it('no issuer → unknown', () => {
      assert.equal(rootOnly.evaluate({ ...loggedBase, source: 'logged', issuer: null, sha256: null }).status, 'unknown');
    });
  });
});

describe('TrustStore.fromPemBundle errors', () => {
  it('names the problem', () => {
    assert.throws(
      () => TrustStore.fromPemBundle('/nonexistent/anchors.pem'),
      (e: unknown) => e instanceof CertsignalError && e.message.includes('/nonexistent/anchors.pem'),
    );
    assert.throws(
      () => TrustStore.fromPemBundle('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'),
      (e: unknown) => e instanceof CertsignalError && /certificate #1 does not parse/.test(e.message),
    );
  });
});
