// Real CRLs: Amazon Trust Services (rustls-webpki/tests/amazon, ~490 KB CRLs with thousands of
// entries) verified against their issuers and used to classify the demo leaves at the upstream
// validation time; rustls-webpki's targeted CRLs parse or fail as its test suite expects.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Diagnostics } from '../../src/diagnostics.ts';
import { CrlError, CrlStore, parseCrl } from '../../src/enrich/crl.ts';
import { TrustStore } from '../../src/enrich/trust.ts';
import { parseCertificate } from '../../src/normalize/certificate.ts';

const REAL = fileURLToPath(new URL('../../../shared/realdata/', import.meta.url));
const AMAZON = join(REAL, 'rustls-webpki/tests/amazon');
const CRLS = join(REAL, 'rustls-webpki/tests/crls');
/** Upstream amazon.rs validation time: 2025-02-23T10:02:16Z. */
const AT = 1740304936 * 1000;

describe('Amazon Trust Services CRLs', () => {
  const files = readdirSync(AMAZON);
  // Anchors bundle: roots, cross-signed roots and the issuing intermediates (the issuers this estate expects).
  const anchors = files
    .filter((f) => f.endsWith('.cer') && !f.includes('.demo.'))
    .map((f) => parseCertificate(readFileSync(join(AMAZON, f))));
  const trust = new TrustStore(anchors);
  const diagnostics = new Diagnostics();
  const store = new CrlStore(trust, { diagnostics, now: () => AT });
  const crlFiles = files.filter((f) => f.endsWith('.crl'));
  for (const f of crlFiles) store.addCrl(join(AMAZON, f));
  const leaf = (f: string) => parseCertificate(readFileSync(join(AMAZON, f)));

  it('every CRL verifies against its issuer and none was expired at the validation time', () => {
    assert.equal(store.count, crlFiles.length);
    assert.equal(store.count, 20);
    assert.equal(diagnostics.total, 0);
  });

  it('the big CRLs are indexed entry by entry', () => {
    const big = parseCrl(readFileSync(join(AMAZON, 'r2m02.crl')));
    assert.ok(big.entries.size > 10_000, `${big.entries.size} entries`);
    assert.equal(big.issuer, 'CN=Amazon RSA 2048 M02,O=Amazon,C=US');
  });

  for (const n of [1, 2, 3, 4]) {
    it(`rootca${n}: revoked.* is revoked, valid.* and expired.* are not`, () => {
      const opts = (c: ReturnType<typeof leaf>) => ({
        at: AT,
        authorityKeyId: c.authorityKeyId,
        distributionPoints: c.crlDistributionPoints,
      });
      const revoked = leaf(`revoked.rootca${n}.demo.amazontrust.com.cer`);
      const r = store.lookup(revoked.info, opts(revoked));
      assert.equal(r.status, 'revoked');
      assert.equal(r.crl_issuer, revoked.info.issuer);
      assert.ok(r.revoked_at && Date.parse(r.revoked_at) <= AT);
      const valid = leaf(`valid.rootca${n}.demo.amazontrust.com.cer`);
      assert.equal(store.lookup(valid.info, opts(valid)).status, 'good');
      assert.equal(trust.evaluate(valid).status, 'trusted');
      // expiry is not revocation: the expired demo leaf is simply not listed
      const expired = leaf(`expired.rootca${n}.demo.amazontrust.com.cer`);
      assert.equal(store.lookup(expired.info, opts(expired)).status, 'good');
      assert.ok((expired.info.not_after as string) < new Date(AT).toISOString());
    });
  }

  it('a CRL is refused when its issuer is not in the anchors', () => {
    const rootsOnly = new TrustStore(anchors.filter((a) => a.info.self_signed));
    const s = new CrlStore(rootsOnly, { now: () => AT });
    assert.throws(
      () => s.addCrl(join(AMAZON, 'r2m02.crl')),
      (e: unknown) => e instanceof CrlError && e.reason === 'crl-unverifiable' && e.message.includes('r2m02.crl'),
    );
  });

  it('loaded today, the same CRLs are reported as expired', () => {
    const d = new Diagnostics();
    const s = new CrlStore(trust, { diagnostics: d, now: () => Date.parse('2026-01-01T00:00:00Z') });
    s.addCrl(join(AMAZON, 'e2m01.crl'));
    assert.equal(d.counts.get('crl-expired'), 1);
  });
});

describe('rustls-webpki targeted CRLs (tests/crls)', () => {
  const ok = [
    'crl.valid',
    'crl.empty',
    'crl.negative.serial',
    'crl.topbit.serial',
    'crl.no.entry.exts',
    'crl.entry.empty.ext.seq',
    'crl.entry.invalidity.date',
  ];
  const rejected: Record<string, string> = {
    'crl.mismatched.sigalg': 'crl-signature-algorithm-mismatch',
    'crl.invalid.this.update.time': 'crl-bad-time',
    'crl.wrong.version': 'crl-unsupported-version',
    'crl.delta': 'crl-delta-unsupported',
    'crl.unknown.crit.ext': 'crl-unknown-critical-extension',
    'crl.entry.unknown.crit.ext': 'crl-unknown-critical-extension',
    'crl.negative.crl.number': 'crl-invalid-number',
    'crl.too.long.crl.number': 'crl-invalid-number',
    'crl.entry.invalid.reason': 'crl-unsupported-reason',
    'crl.entry.issuer.ext': 'crl-indirect-unsupported',
  };

  it('the ones webpki accepts parse; crl.valid lists its serial and crl.empty lists none', () => {
    for (const name of ok) assert.doesNotThrow(() => parseCrl(readFileSync(join(CRLS, `${name}.der`))), name);
    assert.ok(parseCrl(readFileSync(join(CRLS, 'crl.valid.der'))).entries.has('3ae51db51155a3c'));
    assert.equal(parseCrl(readFileSync(join(CRLS, 'crl.empty.der'))).entries.size, 0);
    assert.equal([...parseCrl(readFileSync(join(CRLS, 'crl.negative.serial.der'))).entries.keys()][0][0], '-');
    assert.ok(parseCrl(readFileSync(join(CRLS, 'crl.topbit.serial.der'))).entries.has('80feedf00d'));
  });

  for (const [name, reason] of Object.entries(rejected)) {
    it(`${name} is refused with ${reason}`, () => {
      assert.throws(
        () => parseCrl(readFileSync(join(CRLS, `${name}.der`))),
        (e: unknown) => e instanceof CrlError && e.reason === reason && e.code === 'E_CRL',
      );
    });
  }

  it('no CRL file in the suite crashes the parser', () => {
    const dirs = [CRLS, join(REAL, 'rustls-webpki/tests/client_auth_revocation')];
    let seen = 0;
    for (const dir of dirs) {
      for (const f of readdirSync(dir).filter((n) => /crl.*\.der$/.test(n))) {
        seen++;
        try {
          parseCrl(readFileSync(join(dir, f)));
        } catch (e) {
          assert.ok(e instanceof CrlError, `${f}: ${(e as Error).stack}`);
        }
      }
    }
    assert.ok(seen >= 35);
  });
});
