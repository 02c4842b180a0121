// Certificate parsing on generated certificates: fields, SPKI digest, self-signed, errors, cache.
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { createRootCA, createSelfSignedLeaf } from '../../tests/helpers/pki.ts';
import {
  CertificateCache,
  CertificateParseError,
  canonicalSerialHex,
  isIssuedBy,
  parseCertificate,
  toDer,
} from './certificate.ts';

describe('parseCertificate', () => {
  it('reads the fields node:crypto reads, and the SPKI digest of the key', async () => {
    const ca = await createRootCA();
    const leaf = await ca.issue({
      subject: 'CN=alice',
      dns: ['alice.example'],
      email: ['alice@example.com'],
      upn: ['alice@corp'],
      serial: '00ab',
    });
    const p = parseCertificate(leaf.pem);
    const x = new X509Certificate(leaf.pem);
    const spki = x.publicKey.export({ type: 'spki', format: 'der' });
    assert.equal(p.info.sha256, x.fingerprint256.replace(/:/g, '').toLowerCase());
    assert.equal(p.info.sha1, x.fingerprint.replace(/:/g, '').toLowerCase());
    assert.equal(p.info.spki_sha256, createHash('sha256').update(spki).digest('hex'));
    assert.equal(p.info.spki_pin_sha256, createHash('sha256').update(spki).digest('base64'));
    assert.equal(p.info.serial, 'ab');
    assert.equal(p.info.not_after, new Date(x.validTo).toISOString());
    assert.deepEqual(p.info.san, { dns: ['alice.example'], email: ['alice@example.com'], uri: [], ip: [], upn: ['alice@corp'] });
    assert.deepEqual(p.info.eku, ['clientAuth']);
    assert.equal(p.info.key_algorithm, 'ec');
    assert.equal(p.info.key_curve, 'prime256v1');
    assert.equal(p.info.key_size, 256);
    assert.equal(p.info.is_ca, false);
    assert.equal(p.info.self_signed, false);
    assert.ok(p.authorityKeyId);
    assert.equal(p.authorityKeyId, parseCertificate(ca.cert.pem).subjectKeyId);
    assert.equal(isIssuedBy(p, parseCertificate(ca.cert.pem)), true);
  });

  it('says self_signed only when the signature verifies with the certificate’s own key', async () => {
    const root = await createRootCA();
    assert.equal(parseCertificate(root.cert.pem).info.self_signed, true);
    assert.equal(parseCertificate(root.cert.pem).info.is_ca, true);
    const selfLeaf = await createSelfSignedLeaf({ subject: 'CN=laptop-42' });
    assert.equal(parseCertificate(selfLeaf.der).info.self_signed, true);
    // same name as the root, signed by another key: name match alone is not enough
    const other = await createRootCA();
    const impostor = await other.issue({ subject: 'CN=Test Root CA, O=certsignal tests' });
    assert.equal(parseCertificate(impostor.pem).info.self_signed, false);
  });

  it('accepts PEM, base64 DER, raw DER, PEM bytes and URL-encoded PEM alike', async () => {
    const root = await createRootCA();
    const sha = parseCertificate(root.cert.pem).info.sha256;
    const b64 = Buffer.from(root.cert.der).toString('base64');
    for (const input of [root.cert.der, b64, Buffer.from(root.cert.pem), encodeURIComponent(root.cert.pem)]) {
      assert.equal(parseCertificate(input).info.sha256, sha);
    }
    assert.equal(toDer(root.cert.pem).length, root.cert.der.length);
  });

  it('throws CertificateParseError with a reason code on garbage, truncation and bad structure', async () => {
    const root = await createRootCA();
    const cases: [string | Uint8Array, string][] = [
      ['', 'cert-empty'],
      [Buffer.from('hello'), 'cert-not-der'],
      [root.cert.der.subarray(0, 100), 'cert-truncated'],
      [Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01]), 'cert-malformed'],
    ];
    for (const [input, reason] of cases) {
      assert.throws(
        () => parseCertificate(input),
        (err: unknown) => err instanceof CertificateParseError && err.reason === reason,
        reason,
      );
    }
  });

  it('canonicalSerialHex strips colons, case and leading zeros but keeps a sign', () => {
    assert.equal(canonicalSerialHex('00:0A:bC'), 'abc');
    assert.equal(canonicalSerialHex('0000'), '0');
    assert.equal(canonicalSerialHex('-00:01'), '-1');
  });
});

describe('CertificateCache', () => {
  it('parses each distinct certificate once, caches failures too, and indexes by SHA-256', async () => {
    const root = await createRootCA();
    const cache = new CertificateCache(2);
    const a = cache.get(root.cert.pem);
    const b = cache.get(root.cert.pem);
    assert.equal(a, b);
    assert.equal(cache.hits, 1);
    const bad = cache.get('garbage');
    assert.ok(bad instanceof CertificateParseError);
    assert.equal(cache.get('garbage'), bad);
    assert.ok(!(a instanceof CertificateParseError));
    assert.equal(cache.bySha256(a.info.sha256 as string), a);
    cache.get(root.cert.der);
    assert.equal(cache.size, 2);
  });
});
