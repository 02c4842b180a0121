// Tests for allowlist matching: every matcher, AND semantics, variants, DN and digest
// normalisation, globs, CIDRs, expiry (no match, reported once), and matching real Signals.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { Type } from 'typebox';
import { makeEvent } from '../../tests/helpers/events.ts';
import { createRootCA, type TestCert } from '../../tests/helpers/pki.ts';
import { Diagnostics } from '../diagnostics.ts';
import { Allowlist, globToRegExp, normalizeDigest, parseExpiry } from './allowlist.ts';
import { allowlistFor, allowlistMatches, type Config, parseConfig, type RuleSpec } from './config.ts';
import { normalizeDn } from './dn.ts';

const rule = (id: string, variants: string[] = []): RuleSpec => ({
  meta: { id, default_weight: 10, variant_weights: Object.fromEntries(variants.map((v) => [v, 10])) },
  configSchema: Type.Object({}, { additionalProperties: false }),
  defaults: {},
});
const RULES = [rule('expired-cert', ['expired', 'not-yet-valid']), rule('cert-churn'), rule('untrusted-issuer', ['self-signed'])];

function configWith(yaml: string): Config {
  return parseConfig(yaml, 'certsignal.yaml', { rules: RULES });
}

const CERT = 'a'.repeat(64);
const SPKI = 'b'.repeat(64);
const BEFORE_EXPIRY = Date.parse('2026-06-01T00:00:00Z');

describe('matchers', () => {
  test('an entry matches only when every matcher it gives matches (AND)', () => {
    const config = configWith('allowlists:\n  - { rule: expired-cert, user: alice, reason: vendor laptop }\n');
    const now = BEFORE_EXPIRY;
    assert.equal(allowlistMatches(config, { rule: 'expired-cert', user: 'alice' }, { now }), 'allowlists[0]: vendor laptop');
    assert.equal(allowlistMatches(config, { rule: 'expired-cert', user: 'bob' }, { now }), null);
    assert.equal(allowlistMatches(config, { rule: 'cert-churn', user: 'alice' }, { now }), null);
    assert.equal(allowlistMatches(config, { rule: 'expired-cert', user: null }, { now }), null);
  });

  test('the first matching entry wins, and an entry without reason is named by index', () => {
    const config = configWith('allowlists:\n  - { user: carol }\n  - { user: alice }\n  - { user: alice, reason: second }\n');
    assert.equal(allowlistMatches(config, { rule: 'cert-churn', user: 'alice' }), 'allowlists[1]');
  });

  test('rule: id matches every variant; rule: id.variant only that variant', () => {
    const config = configWith(
      'allowlists:\n  - { rule: untrusted-issuer.self-signed, device: lab-1 }\n  - { rule: expired-cert, device: lab-2 }\n',
    );
    assert.ok(allowlistMatches(config, { rule: 'untrusted-issuer', variant: 'self-signed', device: 'lab-1' }));
    assert.equal(allowlistMatches(config, { rule: 'untrusted-issuer', variant: 'unknown-issuer', device: 'lab-1' }), null);
    assert.equal(allowlistMatches(config, { rule: 'untrusted-issuer', device: 'lab-1' }), null);
    assert.ok(allowlistMatches(config, { rule: 'expired-cert', variant: 'not-yet-valid', device: 'lab-2' }));
    assert.ok(allowlistMatches(config, { rule: 'expired-cert', device: 'lab-2' }));
  });

  test('user and device compare case-insensitively; digests in any case, with colons, or as a base64 pin', () => {
    const pin = Buffer.from(SPKI, 'hex').toString('base64');
    const colonCert = CERT.toUpperCase().match(/../g)?.join(':');
    const config = configWith(
      `allowlists:\n  - { user: Alice@Example.COM }\n  - { device: LAPTOP-7 }\n  - { cert_sha256: "${colonCert}" }\n  - { spki_sha256: "${pin}" }\n`,
    );
    assert.equal(config.allowlists[2].cert_sha256, CERT);
    assert.equal(config.allowlists[3].spki_sha256, SPKI);
    assert.equal(allowlistMatches(config, { rule: 'cert-churn', user: 'alice@example.com' }), 'allowlists[0]');
    assert.equal(allowlistMatches(config, { rule: 'cert-churn', device: 'laptop-7' }), 'allowlists[1]');
    assert.equal(allowlistMatches(config, { rule: 'cert-churn', cert_sha256: CERT }), 'allowlists[2]');
    assert.equal(allowlistMatches(config, { rule: 'cert-churn', cert_sha256: CERT.toUpperCase() }), 'allowlists[2]');
    assert.equal(allowlistMatches(config, { rule: 'cert-churn', spki_sha256: SPKI }), 'allowlists[3]');
    assert.equal(allowlistMatches(config, { rule: 'cert-churn', cert_sha256: SPKI }), null);
    assert.equal(allowlistMatches(config, { rule: 'cert-churn', user: 'alice@example.co' }), null);
  });

  test('issuer DNs match regardless of spacing and case, but not a different DN', () => {
    const config = configWith('allowlists:\n  - { issuer: "CN=Vault Automation CA, O=Example" }\n');
    for (const issuer of [
      'CN=Vault Automation CA,O=Example',
      'cn=vault automation ca,o=example',
      'CN = Vault  Automation CA , O=Example',
    ]) {
      assert.ok(allowlistMatches(config, { rule: 'cert-churn', issuer }), issuer);
    }
    for (const issuer of [
      'CN=Vault Automation CA,O=Example,C=US',
      'O=Example,CN=Vault Automation CA',
      'CN=Vault Automation CA2,O=Example',
    ]) {
      assert.equal(allowlistMatches(config, { rule: 'cert-churn', issuer }), null, issuer);
    }
    assert.equal(allowlistMatches(config, { rule: 'cert-churn', issuer: null }), null);
  });

  test('subject_pattern is a case-insensitive whole-string glob with * and ?', () => {
    const config = configWith('allowlists:\n  - { subject_pattern: "CN=lab-??.example.com,*" }\n');
    const match = (subject: string | null) => allowlistMatches(config, { rule: 'cert-churn', subject });
    assert.ok(match('CN=lab-01.example.com,O=Example'));
    assert.ok(match('cn=LAB-ab.EXAMPLE.com,O=Example,C=US'));
    assert.equal(match('CN=lab-001.example.com,O=Example'), null);
    assert.equal(match('CN=lab-01xexample.com,O=Example'), null, '. is literal, not any character');
    assert.equal(match('CN=lab-01.example.com'), null, 'the trailing ,* needs a comma');
    assert.equal(match('X,CN=lab-01.example.com,O=Example'), null, 'anchored at the start');
    assert.equal(match(null), null);
  });

  test('globToRegExp treats regex metacharacters literally', () => {
    assert.ok(globToRegExp('a+b(c)[d]{2}|$^\\/').test('a+b(c)[d]{2}|$^\\/'));
    assert.equal(globToRegExp('a+b').test('aab'), false);
    assert.ok(globToRegExp('*').test(''));
    assert.ok(globToRegExp('🔐?').test('🔐x'));
  });

  test('source_cidr matches IPv4, IPv6 and IPv4-mapped addresses; unparseable addresses never match', () => {
    const config = configWith(
      'allowlists:\n  - { source_cidr: 10.20.0.0/16, reason: v4 }\n  - { source_cidr: "2001:db8:aa::/48", reason: v6 }\n  - { source_cidr: 192.0.2.9, reason: host }\n',
    );
    const match = (source_ip: string | null) => allowlistMatches(config, { rule: 'cert-churn', source_ip });
    assert.equal(match('10.20.255.1'), 'allowlists[0]: v4');
    assert.equal(match('::ffff:10.20.0.1'), 'allowlists[0]: v4');
    assert.equal(match('10.21.0.1'), null);
    assert.equal(match('2001:db8:aa:ffff::1'), 'allowlists[1]: v6');
    assert.equal(match('2001:db8:ab::1'), null);
    assert.equal(match('192.0.2.9'), 'allowlists[2]: host');
    assert.equal(match('192.0.2.10'), null);
    assert.equal(match('not-an-ip'), null);
    assert.equal(match(null), null);
  });

  test('source_cidr /0 covers its whole family', () => {
    const config = configWith(
      'allowlists:\n  - { rule: cert-churn, source_cidr: 0.0.0.0/0 }\n  - { rule: expired-cert, source_cidr: "::/0" }\n',
    );
    assert.ok(allowlistMatches(config, { rule: 'cert-churn', source_ip: '203.0.113.1' }));
    assert.equal(allowlistMatches(config, { rule: 'cert-churn', source_ip: '2001:db8::1' }), null);
    assert.ok(allowlistMatches(config, { rule: 'expired-cert', source_ip: '2001:db8::1' }));
  });
});

describe('expiry', () => {
  test('parseExpiry: a date means UTC midnight; date-times keep their zone; impossible dates are NaN', () => {
    assert.equal(parseExpiry('2027-01-01'), Date.parse('2027-01-01T00:00:00Z'));
    assert.equal(parseExpiry('2027-01-01T12:00:00+02:00'), Date.parse('2027-01-01T10:00:00Z'));
    assert.equal(parseExpiry('2027-01-01 12:00:00Z'), Date.parse('2027-01-01T12:00:00Z'));
    assert.ok(Number.isNaN(parseExpiry('2027-02-29')));
    assert.ok(Number.isNaN(parseExpiry('2027-13-01')));
    assert.ok(Number.isNaN(parseExpiry('2027-04-31T00:00:00Z')));
    assert.equal(parseExpiry('2028-02-29'), Date.parse('2028-02-29T00:00:00Z'));
  });

  test('an entry matches until its expiry instant and not from then on', () => {
    const config = configWith('allowlists:\n  - { user: alice, expires: 2027-01-01, reason: temp }\n');
    const candidate = { rule: 'cert-churn', user: 'alice' };
    const expiry = Date.parse('2027-01-01T00:00:00Z');
    assert.ok(allowlistMatches(config, candidate, { now: expiry - 1 }));
    assert.equal(allowlistMatches(config, candidate, { now: expiry }), null);
    assert.equal(allowlistMatches(config, candidate, { now: expiry + 86_400_000 }), null);
  });

  test('an expired entry that would have matched is reported once; a live later entry still matches', () => {
    const config = configWith(
      'allowlists:\n  - { user: alice, expires: 2026-01-01, reason: old exception }\n  - { user: bob, expires: 2026-01-01 }\n  - { user: alice, rule: key-reuse }\n',
    );
    const diagnostics = new Diagnostics();
    const now = Date.parse('2026-03-01T00:00:00Z');
    for (let i = 0; i < 5; i++) {
      assert.equal(allowlistMatches(config, { rule: 'cert-churn', user: 'alice' }, { now, diagnostics }), null);
    }
    assert.equal(allowlistMatches(config, { rule: 'key-reuse', user: 'alice' }, { now, diagnostics }), 'allowlists[2]');
    assert.equal(diagnostics.counts.get('allowlist-expired'), 1);
    const [warning] = diagnostics.kept;
    assert.equal(warning.level, 'warning');
    assert.equal(warning.file, 'certsignal.yaml');
    assert.equal(warning.field, 'allowlists[0]');
    assert.match(warning.message, /expired on 2026-01-01.*reason was: old exception/);
    // bob's entry never would have matched, so it is not reported
    assert.deepEqual(
      allowlistFor(config).expiredHits.map((h) => h.index),
      [0],
    );
    allowlistMatches(config, { rule: 'cert-churn', user: 'bob' }, { now, diagnostics });
    assert.equal(diagnostics.counts.get('allowlist-expired'), 2);
  });
});

describe('signals', () => {
  let cert: TestCert;
  let issuerDn: string;
  before(async () => {
    const ca = await createRootCA('CN=Lab Issuing CA, O=Example');
    cert = await ca.issue({ subject: 'CN=printer-07.lab.example.com, O=Example' });
    issuerDn = makeEvent({ cert }).certificate?.issuer ?? '';
    assert.ok(issuerDn.length > 0);
  });

  test('a Signal is matched on its event: certificate digests, subject, issuer, user, device, source ip', () => {
    const event = makeEvent({ cert, user: 'Printer07', device: 'PRN-07', source_ip: '10.9.8.7' });
    const certificate = event.certificate;
    assert.ok(certificate?.sha256 && certificate.spki_sha256);
    const signal = { rule: 'expired-cert', variant: 'expired', event };
    const cases: [string, boolean][] = [
      [`cert_sha256: "${certificate.sha256.toUpperCase()}"`, true],
      [`spki_sha256: "${certificate.spki_sha256}"`, true],
      [`subject_pattern: "*CN=printer-??.lab.example.com"`, true],
      [`issuer: "${normalizeDn(issuerDn).toUpperCase()}"`, true],
      ['user: printer07', true],
      ['device: prn-07', true],
      ['source_cidr: 10.9.0.0/16', true],
      ['rule: expired-cert.expired', true],
      ['rule: expired-cert.not-yet-valid', false],
      [`cert_sha256: "${'0'.repeat(64)}"`, false],
      ['subject_pattern: "*CN=scanner-*"', false],
      ['source_cidr: 10.10.0.0/16', false],
    ];
    for (const [entry, expected] of cases) {
      const config = configWith(`allowlists:\n  - { ${entry} }\n`);
      assert.equal(allowlistMatches(config, signal) !== null, expected, entry);
    }
  });

  test('a Signal whose event has no certificate matches certificate-based entries never', () => {
    const event = makeEvent({ user: 'alice', cert: null });
    const config = configWith(
      `allowlists:\n  - { cert_sha256: "${CERT}" }\n  - { subject_pattern: "*" }\n  - { issuer: "CN=X" }\n`,
    );
    assert.equal(allowlistMatches(config, { rule: 'cert-churn', event }), null);
  });
});

describe('helpers', () => {
  test('normalizeDn keeps RDN order and escaped commas', () => {
    assert.equal(normalizeDn(' cn = Jürgen  Groß ,o=Example\\, Inc.'), 'CN=jürgen groß,O=example\\, inc.');
    assert.notEqual(normalizeDn('CN=a,O=b'), normalizeDn('O=b,CN=a'));
    assert.equal(normalizeDn('CN=a+UID=x,O=b'), normalizeDn('cn=A + uid=X, o=B'));
  });

  test('normalizeDigest', () => {
    assert.equal(normalizeDigest(' AB:CD '), 'abcd');
    assert.equal(normalizeDigest(Buffer.from(SPKI, 'hex').toString('base64')), SPKI);
  });

  test('an Allowlist built by hand with a bad network fails loudly', () => {
    assert.throws(() => new Allowlist([{ source_cidr: '10.0.0.1/8' }]), /allowlists\[0\]\.source_cidr: host bits/);
  });

  test('an empty allowlist matches nothing', () => {
    assert.equal(new Allowlist([]).match({ rule: 'cert-churn', user: 'alice' }), null);
  });
});
