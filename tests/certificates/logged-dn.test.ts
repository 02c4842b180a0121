// The same certificate seen as bytes in one log and as logged fields in another must compare
// equal: Suricata-style (wire order) and OpenSSL-style (RFC 2253) DNs, colon serials and SHA-1
// fingerprints canonicalise to exactly what the parser derives from the PEM.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CertificateCache, parseCertificate } from '../../src/normalize/certificate.ts';
import { canonicalDn } from '../../src/normalize/dn.ts';
import { certInfoFromRaw } from '../../src/normalize/raw-cert.ts';

const REAL = fileURLToPath(new URL('../../../shared/realdata/', import.meta.url));
const DERIVED = join(REAL, 'derived-certs-from-pcaps');

const rows = readFileSync(join(DERIVED, 'INDEX.tsv'), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((l) => {
    const [file, subject, issuer, serial, notBefore, notAfter, selfSigned, sha1] = l.split('\t');
    return { file, subject, issuer, serial, notBefore, notAfter, selfSigned, sha1 };
  });

/** Re-write an RFC 2253 DN the way Suricata prints it: most general first, ", " separated, unescaped. */
function suricataStyle(rfc2253: string): string {
  return rfc2253
    .split(/(?<!\\),/)
    .reverse()
    .map((p) => p.replace(/\\(.)/g, '$1'))
    .join(', ');
}

describe('logged DNs canonicalise to the parsed form', () => {
  it('INDEX.tsv (OpenSSL RFC 2253 names, colon SHA-1, hex serial) matches the PEM of every certificate', () => {
    assert.equal(rows.length, 21);
    const cache = new CertificateCache();
    for (const r of rows) {
      const pem = readFileSync(join(DERIVED, r.file.replace(/\.der$/, '.pem')), 'utf8');
      const parsed = parseCertificate(pem).info;
      const logged = certInfoFromRaw(
        { subject: r.subject, issuer: r.issuer, serial: r.serial, sha1: r.sha1, not_before: r.notBefore, not_after: r.notAfter },
        cache,
      ).info;
      assert.equal(logged.subject, parsed.subject, r.file);
      assert.equal(logged.issuer, parsed.issuer, r.file);
      assert.equal(logged.subject_cn, parsed.subject_cn, r.file);
      assert.equal(logged.serial, parsed.serial, r.file);
      assert.equal(logged.sha1, parsed.sha1, r.file);
      assert.equal(logged.not_before, parsed.not_before, r.file);
      assert.equal(logged.not_after, parsed.not_after, r.file);
      assert.equal(logged.self_signed, r.selfSigned === 'yes', r.file);
    }
  });

  it('Suricata wire-order DNs (values with ", " unescaped) match the parsed PEM', () => {
    for (const r of rows) {
      const parsed = parseCertificate(readFileSync(join(DERIVED, r.file))).info;
      assert.equal(canonicalDn(suricataStyle(r.subject), 'wire-order'), parsed.subject, r.file);
      assert.equal(canonicalDn(suricataStyle(r.issuer), 'wire-order'), parsed.issuer, r.file);
    }
  });

  it('suricata-verify tls-client-auth expectations (EVE subject/issuerdn/serial/fingerprint) equal the parsed server certificate', () => {
    const checks = JSON.parse(readFileSync(join(REAL, 'suricata-verify/EXPECTED-tls-checks.json'), 'utf8')) as {
      test: string;
      tls_checks: { match: Record<string, unknown> }[];
    }[];
    const test = checks.find((c) => c.test === 'tests/tls/tls-eve-custom-fields');
    assert.ok(test);
    const m = test.tls_checks[0].match;
    const logged = certInfoFromRaw(
      {
        subject: m['tls.subject'] as string,
        issuer: m['tls.issuerdn'] as string,
        dn_syntax: 'wire-order',
        serial: m['tls.serial'] as string,
        sha1: m['tls.fingerprint'] as string,
        not_before: m['tls.notbefore'] as string,
        not_after: m['tls.notafter'] as string,
      },
      new CertificateCache(),
    ).info;
    const server = parseCertificate(readFileSync(join(DERIVED, 'tls-client-auth/frame7_cert0.pem'))).info;
    for (const k of ['subject', 'issuer', 'serial', 'sha1', 'not_before', 'not_after'] as const)
      assert.equal(logged[k], server[k], k);
    // and the client certificate's logged serial matches the client PEM
    const client = parseCertificate(readFileSync(join(DERIVED, 'tls-client-auth/frame9_cert0.pem'))).info;
    assert.equal(
      certInfoFromRaw({ serial: m['tls.client.serial'] as string }, new CertificateCache()).info.serial,
      client.serial,
    );
  });

  it('the same DN in slash form (legacy nginx) matches too', () => {
    const r = rows.find((x) => x.file.includes('frame15_cert0')) as (typeof rows)[number];
    const parsed = parseCertificate(readFileSync(join(DERIVED, r.file))).info;
    const slash = `/${suricataStyle(r.issuer).split(', ').join('/')}`;
    assert.equal(canonicalDn(slash, 'slash'), parsed.issuer);
  });
});
