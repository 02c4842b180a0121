// Cross-checks against the openssl command line: the SPKI pin equals
// `openssl x509 -pubkey | openssl pkey -pubin -outform der | sha256`, and the RFC 4514 names equal
// `openssl x509 -nameopt RFC2253` output once canonicalised. Skipped when openssl is not installed.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseCertificate } from '../../src/normalize/certificate.ts';
import { canonicalDn } from '../../src/normalize/dn.ts';

const REAL = fileURLToPath(new URL('../../../shared/realdata/', import.meta.url));

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const skip = hasOpenssl() ? false : 'openssl not installed';

function openssl(args: string[], input: Buffer | string): Buffer {
  return execFileSync('openssl', args, { input, stdio: ['pipe', 'pipe', 'ignore'] });
}

/** A spread of real certificates: RSA, ECDSA P-256/P-384, client certs, multi-valued and escaped names. */
function certificates(): { where: string; der: Buffer }[] {
  const out: { where: string; der: Buffer }[] = [];
  for (const dir of [
    'client-certificate',
    'tls-client-auth',
    'missing-intermediate',
    'ecdsa-cert',
    'tls-expired-cert',
    'cert-no-cn',
  ]) {
    for (const f of readdirSync(join(REAL, 'derived-certs-from-pcaps', dir)).filter((n) => n.endsWith('.der'))) {
      out.push({ where: `${dir}/${f}`, der: readFileSync(join(REAL, 'derived-certs-from-pcaps', dir, f)) });
    }
  }
  for (const f of [
    'netflix/ee.der',
    'sanofi/ca.der',
    'amazon/AmazonRootCA3.cer',
    'amazon/e3m01.cer',
    'misc/serial_neg.der',
    'misc/uri_san_ee.der',
  ]) {
    out.push({ where: f, der: readFileSync(join(REAL, 'rustls-webpki/tests', f)) });
  }
  return out;
}

describe('cross-check with the openssl CLI', { skip }, () => {
  it('SPKI pin equals openssl x509 -pubkey | openssl pkey -pubin -outform der | sha256', () => {
    for (const { where, der } of certificates()) {
      const pubPem = openssl(['x509', '-inform', 'der', '-pubkey', '-noout'], der);
      const spki = openssl(['pkey', '-pubin', '-outform', 'der'], pubPem);
      const info = parseCertificate(der).info;
      assert.equal(info.spki_sha256, createHash('sha256').update(spki).digest('hex'), where);
      assert.equal(info.spki_pin_sha256, createHash('sha256').update(spki).digest('base64'), where);
    }
  });

  it('subject and issuer equal openssl -nameopt RFC2253 output after canonicalDn', () => {
    for (const { where, der } of certificates()) {
      const lines = openssl(['x509', '-inform', 'der', '-noout', '-subject', '-issuer', '-nameopt', 'RFC2253'], der)
        .toString('utf8')
        .trim()
        .split('\n');
      const subject = lines[0].replace(/^subject=/, '');
      const issuer = lines[1].replace(/^issuer=/, '');
      const info = parseCertificate(der).info;
      assert.equal(info.subject, canonicalDn(subject), `${where} subject`);
      assert.equal(info.issuer, canonicalDn(issuer), `${where} issuer`);
    }
  });
});
