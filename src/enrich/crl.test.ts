// CRLs from a generated PKI: signature verification, wrong signer rejected, expiry, PEM bundles,
// and lookups by issuer + serial (a colliding serial from another issuer must not match).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRootCA } from '../../tests/helpers/pki.ts';
import { Diagnostics } from '../diagnostics.ts';
import { CertsignalError } from '../errors.ts';
import { parseCertificate } from '../normalize/certificate.ts';
import { CrlError, CrlStore } from './crl.ts';
import { TrustStore } from './trust.ts';

const DAY = 86_400_000;

describe('CrlStore', async () => {
  const caA = await createRootCA('CN=Issuer A');
  const caB = await createRootCA('CN=Issuer B');
  const trust = TrustStore.fromPemBundle(caA.cert.pem + caB.cert.pem);
  // The same serial issued by both CAs (dummy serials collide in the wild).
  const revokedA = parseCertificate((await caA.issue({ subject: 'CN=alice', serial: '00c0ffee' })).pem);
  const sameSerialB = parseCertificate((await caB.issue({ subject: 'CN=bob', serial: 'c0ffee' })).pem);
  const goodA = parseCertificate((await caA.issue({ subject: 'CN=carol', serial: '0abc' })).pem);

  it('loads a CRL whose signature verifies and answers by issuer + serial', async () => {
    const crl = await caA.crl([{ serial: 'c0ffee' }]);
    const store = new CrlStore(trust);
    assert.equal(store.addCrl(crl.der, 'a.crl'), 1);
    const r = store.lookup(revokedA.info);
    assert.equal(r.status, 'revoked');
    assert.equal(r.crl_issuer, 'CN=Issuer A');
    assert.equal(r.reason_code, 'keyCompromise');
    assert.ok(r.revoked_at);
    assert.equal(store.lookup(goodA.info).status, 'good');
  });

  it('never matches a serial without its issuer: the same serial from issuer B is not revoked', async () => {
    const store = new CrlStore(trust);
    store.addCrl((await caA.crl([{ serial: 'c0ffee' }])).der);
    assert.equal(revokedA.info.serial, sameSerialB.info.serial);
    assert.equal(store.lookup(sameSerialB.info).status, 'unknown'); // no CRL from B loaded
    store.addCrl((await caB.crl([])).der);
    assert.equal(store.lookup(sameSerialB.info).status, 'good');
    assert.equal(store.lookup(revokedA.info).status, 'revoked');
  });

  it('skips CRLs whose authority key id differs from the certificate’s', async () => {
    const store = new CrlStore(trust);
    store.addCrl((await caA.crl([{ serial: 'c0ffee' }])).der);
    assert.equal(store.lookup(revokedA.info, { authorityKeyId: revokedA.authorityKeyId }).status, 'revoked');
    assert.equal(store.lookup(revokedA.info, { authorityKeyId: 'ffff' }).status, 'unknown');
  });

  it('rejects a CRL signed by the wrong key with E_CRL naming the file', async () => {
    const crl = await caA.crl([{ serial: 'c0ffee' }], { signingKey: caB.cert.keys.privateKey });
    const store = new CrlStore(trust);
    assert.throws(
      () => store.addCrl(crl.der, 'forged.crl'),
      (e: unknown) =>
        e instanceof CertsignalError && e.code === 'E_CRL' && /forged\.crl/.test(e.message) && /does not verify/.test(e.message),
    );
    assert.equal(store.count, 0);
  });

  it('rejects a CRL from an issuer that is not a trust anchor', async () => {
    const stranger = await createRootCA('CN=Stranger');
    const strangerCrl = await stranger.crl([]);
    const store = new CrlStore(trust);
    assert.throws(
      () => store.addCrl(strangerCrl.der, 'stranger.crl'),
      (e: unknown) => e instanceof CrlError && e.reason === 'crl-unverifiable' && /not among the trust anchors/.test(e.message),
    );
  });

  it('loads an expired CRL with a warning; unlisted certificates are unknown after nextUpdate, listed ones still revoked', async () => {
    const now = Date.now();
    const crl = await caA.crl([{ serial: 'c0ffee', date: new Date(now - 20 * DAY) }], {
      thisUpdate: new Date(now - 10 * DAY),
      nextUpdate: new Date(now - 3 * DAY),
    });
    const d = new Diagnostics();
    const store = new CrlStore(trust, { diagnostics: d });
    store.addCrl(crl.der, 'old.crl');
    assert.equal(d.counts.get('crl-expired'), 1);
    assert.equal(d.kept[0].file, 'old.crl');
    assert.equal(store.lookup(revokedA.info).status, 'revoked');
    const stale = store.lookup(goodA.info);
    assert.equal(stale.status, 'unknown');
    assert.equal(stale.reason_code, 'crl-expired');
    // at a time the CRL was current, the answer is good
    assert.equal(store.lookup(goodA.info, { at: now - 5 * DAY }).status, 'good');
  });

  it('reads every CRL of a PEM file', async () => {
    const a = await caA.crl([{ serial: 'c0ffee' }]);
    const b = await caB.crl([]);
    const store = new CrlStore(trust);
    assert.equal(store.addCrl(Buffer.from(`${a.pem}\n${b.pem}\n`), 'both.pem'), 2);
    assert.equal(store.lookup(sameSerialB.info).status, 'good');
    assert.equal(store.lookup(revokedA.info).status, 'revoked');
  });

  it('gives a clear error for bytes that are not a CRL, and for a missing file', () => {
    const store = new CrlStore(trust);
    assert.throws(
      () => store.addCrl(Buffer.from('hello'), 'x.crl'),
      (e: unknown) => e instanceof CrlError && /x\.crl/.test(e.message),
    );
    assert.throws(
      () => store.addCrl(Buffer.from([0x30, 0x03, 0x02, 0x01]), 'cut.crl'),
      (e: unknown) => e instanceof CrlError && e.reason === 'crl-malformed',
    );
    assert.throws(
      () => store.addCrl('/nonexistent.crl'),
      (e: unknown) => e instanceof CrlError && e.reason === 'crl-unreadable',
    );
  });
});
