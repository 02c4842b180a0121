// RawCertificate → CertInfo: bytes win over logged fields; logged fields are canonicalised.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRootCA } from '../../tests/helpers/pki.ts';
import { Diagnostics } from '../diagnostics.ts';
import { CertificateCache } from './certificate.ts';
import { canonicalCertDate, certInfoFromRaw } from './raw-cert.ts';
import { canonicalSerial } from './serial.ts';

describe('canonicalSerial', () => {
  it('canonicalises hex in the forms logs use', () => {
    assert.equal(canonicalSerial('00:C7:D4:28:8B:80:E0:1E:25'), 'c7d4288b80e01e25');
    assert.equal(canonicalSerial('0x00FF'), 'ff');
    assert.equal(canonicalSerial('00'), '0');
    assert.equal(canonicalSerial('-04316693ED'), '-4316693ed');
    assert.equal(canonicalSerial('zz'), null);
  });
  it('converts decimal serials (step-ca) to hex', () => {
    assert.equal(canonicalSerial('255', 'decimal'), 'ff');
    assert.equal(canonicalSerial('340282366920938463463374607431768211455', 'decimal'), 'f'.repeat(32));
    assert.equal(canonicalSerial('12ab', 'decimal'), null);
  });
});

describe('canonicalCertDate', () => {
  it('accepts epoch seconds, Zeek floats, ISO, naive ISO as UTC and OpenSSL text', () => {
    assert.equal(canonicalCertDate(1775199968), '2026-04-03T07:06:08.000Z');
    assert.equal(canonicalCertDate('1775199968.000000'), '2026-04-03T07:06:08.000Z');
    assert.equal(canonicalCertDate('2018-04-14T20:55:27'), '2018-04-14T20:55:27.000Z');
    assert.equal(canonicalCertDate('2018-04-14T22:55:27+02:00'), '2018-04-14T20:55:27.000Z');
    assert.equal(canonicalCertDate('Feb 28 15:59:27 2023 GMT'), '2023-02-28T15:59:27.000Z');
    assert.equal(canonicalCertDate('not a date'), null);
  });
});

describe('certInfoFromRaw', () => {
  it('builds a logged CertInfo: canonical DN from wire order, serial, digests told apart by length', () => {
    const d = new Diagnostics();
    const { info, parsed } = certInfoFromRaw(
      {
        subject: 'C=HU, O=Sample, CN=Jane',
        issuer: 'C=HU, O=Sample, CN=Root',
        dn_syntax: 'wire-order',
        serial: '00:C7:D4:28:8B:80:E0:1E:27',
        sha256: '32:56:41:D0:6A:FF:47:CB:21:E4:89:C5:AE:2A:A2:D8:1B:C9:70:0C', // actually a SHA-1
        not_before: '2018-04-14T20:55:27',
        not_after: 1526331327,
        san_dns: ['jane.example'],
      },
      new CertificateCache(),
      d,
    );
    assert.equal(parsed, null);
    assert.equal(info.source, 'logged');
    assert.equal(info.subject, 'CN=Jane,O=Sample,C=HU');
    assert.equal(info.subject_cn, 'Jane');
    assert.equal(info.serial, 'c7d4288b80e01e27');
    assert.equal(info.sha1, '325641d06aff47cb21e489c5ae2aa2d81bc9700c');
    assert.equal(info.sha256, null);
    assert.equal(info.spki_sha256, null);
    assert.equal(info.not_before, '2018-04-14T20:55:27.000Z');
    assert.equal(info.not_after, '2018-05-14T20:55:27.000Z');
    assert.equal(info.self_signed, false);
    assert.deepEqual(info.san.dns, ['jane.example']);
    assert.equal(d.total, 0);
  });

  it('self_signed is null unless both logged names are present', () => {
    const { info } = certInfoFromRaw({ subject: 'CN=a' }, new CertificateCache());
    assert.equal(info.self_signed, null);
    assert.equal(certInfoFromRaw({ subject: 'CN=a', issuer: 'CN=a' }, new CertificateCache()).info.self_signed, true);
  });

  it('reports unreadable logged fields as diagnostics with file:line:field', () => {
    const d = new Diagnostics();
    const { info } = certInfoFromRaw(
      { serial: 'xyz', sha256: 'abc', not_after: 'soon', subject: 'alice' },
      new CertificateCache(),
      d,
      {
        file: 'f.log',
        line: 7,
        field: 'client_certificate',
      },
    );
    assert.equal(info.serial, null);
    assert.equal(info.subject, null);
    assert.deepEqual([...d.counts.keys()].sort(), ['cert-bad-date', 'cert-bad-digest', 'cert-bad-dn', 'cert-bad-serial']);
    assert.equal(d.kept[0].file, 'f.log');
    assert.equal(d.kept[0].line, 7);
  });

  it('lets the bytes win and warns when logged digest or serial disagree', async () => {
    const ca = await createRootCA();
    const leaf = await ca.issue({ subject: 'CN=alice, O=Example' });
    const d = new Diagnostics();
    const cache = new CertificateCache();
    const { info, parsed } = certInfoFromRaw(
      { pem: leaf.pem, sha256: 'aa'.repeat(32), serial: '01', subject: 'CN=mallory' },
      cache,
      d,
    );
    assert.ok(parsed);
    assert.equal(info.source, 'der');
    assert.equal(info.subject_cn, 'alice');
    assert.equal(info.serial, leaf.serial);
    assert.equal(d.counts.get('cert-field-mismatch'), 2);
    // agreeing logged fields produce no warning; the second lookup is a cache hit
    const d2 = new Diagnostics();
    certInfoFromRaw({ pem: leaf.pem, sha256: (info.sha256 as string).toUpperCase(), serial: leaf.serial }, cache, d2);
    assert.equal(d2.total, 0);
    assert.equal(cache.hits, 1);
  });

  it('falls back to logged fields with a diagnostic when the bytes do not parse', () => {
    const d = new Diagnostics();
    const { info, parsed } = certInfoFromRaw({ pem: 'not base64 at all!', subject: 'CN=x' }, new CertificateCache(), d);
    assert.equal(parsed, null);
    assert.equal(info.source, 'logged');
    assert.equal(info.subject, 'CN=x');
    assert.equal(d.total, 1);
    assert.match([...d.counts.keys()][0], /^cert-/);
  });
});
