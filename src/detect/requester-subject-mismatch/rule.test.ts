// requester-subject-mismatch: the ESC1 pattern (a requester-supplied SAN naming another account,
// then a PKINIT authentication as that account) fires both variants, in either read order;
// self-enrollment, machines requesting their own DNS name, allowed enrollment agents and the
// account's own, different certificate stay quiet. Certificates come from the test PKI.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { Value } from 'typebox/value';
import { type EventInit, makeEvent, runRule } from '../../../tests/helpers/events.ts';
import { createRootCA, type TestCert } from '../../../tests/helpers/pki.ts';
import type { CaRecord, CertInfo, NormalizedEvent } from '../../schema/event.ts';
import { StateRegistry } from '../state.ts';
import { certIds, parseRequestedSans, rule } from './rule.ts';

const BASE = Date.parse('2023-06-09T14:48:11Z');
const MIN = 60_000;
const HOUR = 60 * MIN;

let esc1Cert: TestCert;
let victimOwnCert: TestCert;

before(async () => {
  const ca = await createRootCA('CN=Attack Range Cert Authority, DC=attack_range, DC=local');
  esc1Cert = await ca.issue({ subject: 'CN=attack_user', upn: ['victim_admin_user@attack_range.local'] });
  victimOwnCert = await ca.issue({ subject: 'CN=victim_admin_user', upn: ['victim_admin_user@attack_range.local'] });
});

function caRecord(over: Partial<CaRecord> = {}): CaRecord {
  return {
    ca: 'cert_authority.attack_range.local',
    requester: 'attack_range\\attack_user',
    template: 'VulnerableTemplate_ESC1',
    request_id: '6',
    operation: 'issue',
    requested_san: ['upn=victim_admin_user'],
    reason: null,
    ...over,
  };
}

/** A 4887 as the AD CS log gives it: subject CN only, no serial or thumbprint of the issued certificate. */
function issued(at: number, over: Partial<CaRecord> = {}, init: EventInit = {}): NormalizedEvent {
  return makeEvent({ kind: 'issuance', at, user: 'attack_user', user_from: 'certificate', ca: caRecord(over), ...init });
}

function logged(over: Partial<CertInfo>): CertInfo {
  return {
    source: 'logged',
    sha256: null,
    sha1: null,
    spki_sha256: null,
    spki_pin_sha256: null,
    subject: null,
    issuer: null,
    subject_cn: null,
    serial: null,
    not_before: null,
    not_after: null,
    san: { dns: [], email: [], uri: [], ip: [], upn: [] },
    key_algorithm: null,
    key_size: null,
    key_curve: null,
    self_signed: null,
    is_ca: null,
    eku: [],
    ...over,
  };
}

/** A 4768 TGT request with certificate pre-authentication (PKINIT), certificate as logged. */
function pkinit(
  at: number,
  user: string,
  cert: CertInfo = logged({
    issuer: 'Attack Range Cert Authority',
    serial: '7f00049982010d5a76de2c8ad0000000012345',
    sha1: 'f4b9f00e378950153f18c0e8c5f38dbcf1712345',
  }),
): NormalizedEvent {
  const e = makeEvent({ kind: 'authentication', at, user, source_ip: '192.168.1.10', service: 'krbtgt' });
  e.certificate = cert;
  e.certificate_visibility = 'present';
  return e;
}

describe('requester-subject-mismatch', () => {
  test('ESC1: a requester-supplied UPN for another account fires requested-san, scored against the impersonated account', () => {
    const e = issued(BASE);
    const signals = runRule(rule, [e]);
    assert.equal(signals.length, 1);
    const s = signals[0];
    assert.equal(s.rule, 'requester-subject-mismatch');
    assert.equal(s.variant, 'requested-san');
    assert.equal(s.event.user, 'victim_admin_user', 'risk goes to the account that can now be impersonated');
    assert.equal(s.event.ts, e.ts);
    assert.equal(s.dedup_key, 'requested-san:cert_authority.attack_range.local:6:victim_admin_user');
    assert.equal(s.evidence.requester_account, 'attack_user');
    assert.equal(s.evidence.target_account, 'victim_admin_user');
    assert.equal(s.evidence.certificate_identified, false);
    const iss = s.evidence.issuance as Record<string, unknown>;
    assert.equal(iss.requester, 'attack_range\\attack_user');
    assert.equal(iss.template, 'VulnerableTemplate_ESC1');
    assert.deepEqual(iss.targets, [{ from: 'upn', value: 'victim_admin_user', account: 'victim_admin_user' }]);
    assert.match(
      s.summary,
      /^attack_range\\attack_user obtained a certificate for requester-supplied SAN upn=victim_admin_user \(template VulnerableTemplate_ESC1\)/,
    );
  });

  test('ESC1 then PKINIT as the SAN account: used, matched by account and time when the 4887 names no certificate', () => {
    const events = [issued(BASE - 20 * MIN, { request_id: '5' }), issued(BASE), pkinit(BASE + 41_000, 'victim_admin_user')];
    const signals = runRule(rule, events);
    assert.deepEqual(
      signals.map((s) => s.variant),
      ['requested-san', 'requested-san', 'used'],
    );
    const used = signals[2];
    assert.equal(used.event, events[2]);
    assert.equal(used.confidence, 0.75);
    assert.equal(used.evidence.matched_by, 'account');
    assert.equal(used.evidence.seconds_after_issuance, 41);
    assert.equal((used.evidence.issuance as { request_id: string }).request_id, '6', 'the nearest issuance before the use');
    assert.equal(used.dedup_key, 'used:cert_authority.attack_range.local:6:victim_admin_user');
    assert.match(String(used.evidence.match_note), /named no certificate identity/);
    assert.equal(
      (used.evidence.authentication as { certificate: { sha1: string } }).certificate.sha1,
      'f4b9f00e378950153f18c0e8c5f38dbcf1712345',
    );
  });

  test('the use read before its issuance (files exported newest first) still matches, and confirms one issuance only', () => {
    const signals = runRule(rule, [pkinit(BASE + 20_000, 'ATTACK_RANGE\\victim_admin_user'), issued(BASE)]);
    assert.deepEqual(
      signals.map((s) => s.variant),
      ['requested-san', 'used'],
    );
    // Newest first: a later issuance, the use, then two earlier issuances; the use confirms the nearest one.
    const newestFirst = [
      issued(BASE + 6 * MIN, { request_id: '7' }),
      pkinit(BASE + 41_000, 'victim_admin_user'),
      issued(BASE, { request_id: '6' }),
      issued(BASE - 20 * MIN, { request_id: '5' }),
    ];
    const out = runRule(rule, newestFirst);
    assert.deepEqual(
      out.map((s) => s.variant),
      ['requested-san', 'requested-san', 'used', 'requested-san'],
    );
    assert.equal((out[2].evidence.issuance as { request_id: string }).request_id, '6');
  });

  test('a use outside the window, before the issuance (beyond clock skew), or as another account is not a use', () => {
    assert.deepEqual(
      runRule(rule, [issued(BASE), pkinit(BASE + 25 * HOUR, 'victim_admin_user')]).map((s) => s.variant),
      ['requested-san'],
    );
    assert.deepEqual(
      runRule(rule, [issued(BASE), pkinit(BASE - 6 * MIN, 'victim_admin_user')]).map((s) => s.variant),
      ['requested-san'],
    );
    assert.deepEqual(
      runRule(rule, [issued(BASE), pkinit(BASE + MIN, 'someone_else')]).map((s) => s.variant),
      ['requested-san'],
    );
    assert.deepEqual(
      runRule(rule, [issued(BASE), pkinit(BASE + MIN, 'victim_admin_user')], { config: { account_match_confidence: 0 } }).map(
        (s) => s.variant,
      ),
      ['requested-san'],
    );
  });

  test('when the issuance names the certificate, only that certificate is a use (by SHA-256, SHA-1 or issuer + serial) at full confidence', () => {
    const withCert = (at: number) => issued(at, {}, { cert: esc1Cert });
    const presented = makeEvent({ kind: 'authentication', at: BASE + 2 * HOUR, cert: esc1Cert, user: 'victim_admin_user' });
    const [, used] = runRule(rule, [withCert(BASE), presented]);
    assert.equal(used.variant, 'used');
    assert.equal(used.confidence, undefined);
    assert.equal(used.evidence.matched_by, 'certificate');
    assert.match(String(used.evidence.matched_identity), /^sha256:[0-9a-f]{64}$/);
    // PKINIT logs only SHA-1 thumbprint, issuer CN and serial.
    const info = presented.certificate as CertInfo;
    const byThumb = pkinit(BASE + 3 * 24 * HOUR, 'victim_admin_user', logged({ sha1: info.sha1 }));
    assert.equal(
      runRule(rule, [withCert(BASE), byThumb])[1]?.evidence.matched_by,
      'certificate',
      'SHA-1, days later (issued_memory_days)',
    );
    const bySerial = pkinit(
      BASE + HOUR,
      'victim_admin_user',
      logged({ issuer: 'Attack Range Cert Authority', serial: esc1Cert.serial }),
    );
    assert.equal(
      runRule(rule, [withCert(BASE), bySerial])[1]?.evidence.matched_identity,
      `serial:${esc1Cert.serial}|attack range cert authority`,
    );
    // The victim's own smart card is a different certificate: not a use of the flagged one.
    const own = makeEvent({ kind: 'authentication', at: BASE + MIN, cert: victimOwnCert, user: 'victim_admin_user' });
    assert.deepEqual(
      runRule(rule, [withCert(BASE), own]).map((s) => s.variant),
      ['requested-san'],
    );
  });

  test('self-enrollment and a machine requesting its own DNS name stay quiet; another DNS name fires as host$', () => {
    assert.deepEqual(
      runRule(rule, [
        issued(
          BASE,
          { requester: 'CORP\\Alice', requested_san: ['upn=alice@corp.example'] },
          { user: 'alice', user_from: 'event' },
        ),
      ]),
      [],
    );
    assert.deepEqual(
      runRule(rule, [issued(BASE, { requester: 'CORP\\LAP-7$', requested_san: ['dns=lap-7.corp.example'] }, { user: null })]),
      [],
    );
    const [s] = runRule(rule, [issued(BASE, { requested_san: ['SAN:dns=victim_machine.attack_range.local'] })]);
    assert.equal(s.evidence.target_account, 'victim_machine$');
    assert.equal(s.event.user, 'victim_machine$', 'scored against the machine account');
  });

  test('allowed_requesters: an enrollment agent requesting for others is quiet (glob, DOMAIN\\ ignored)', () => {
    const agent = issued(BASE, { requester: 'CORP\\svc-enroll01', requested_san: ['upn=bob@corp.example'] });
    assert.equal(runRule(rule, [agent]).length, 1);
    assert.deepEqual(runRule(rule, [agent], { config: { allowed_requesters: ['svc-enroll*@corp.example'] } }), []);
  });

  test('subject variant (opt-in compare_subject): the issued certificate names another account (logged user or UPN SAN)', () => {
    const e = issued(BASE, { requester: 'CORP\\alice', requested_san: [] }, { user: 'bob', user_from: 'event' });
    const on = { config: { compare_subject: true } };
    const [s] = runRule(rule, [e], on);
    assert.equal(s.variant, 'subject');
    assert.equal(s.event, e);
    assert.deepEqual((s.evidence.issuance as { targets: unknown[] }).targets, [
      { from: 'subject', value: 'bob', account: 'bob' },
    ]);
    assert.deepEqual(runRule(rule, [e]), [], 'off by default: RAs and connectors request for others on most CAs');
    // The UPN SAN of the issued certificate counts as the subject; a CN-derived user does not.
    const bySan = issued(
      BASE,
      { requester: 'CORP\\attack_user', requested_san: [] },
      { cert: esc1Cert, user: 'attack_user', user_from: 'certificate' },
    );
    assert.equal(runRule(rule, [bySan], on)[0]?.evidence.target_account, 'victim_admin_user');
    assert.deepEqual(runRule(rule, [issued(BASE, { requested_san: [] })], on), [], 'CN=attack_user is the requester itself');
    // No requester logged: nothing to compare.
    assert.deepEqual(runRule(rule, [issued(BASE, { requester: null })], on), []);
  });

  test('the flagged issuance is remembered across runs (bounded) so a later run sees its use', () => {
    const registry = new StateRegistry();
    assert.equal(runRule(rule, [issued(BASE)], { registry }).length, 1);
    const second = runRule(rule, [pkinit(BASE + HOUR, 'victim_admin_user')], { registry });
    assert.deepEqual(
      second.map((s) => s.variant),
      ['used'],
    );
    assert.deepEqual(
      runRule(rule, [pkinit(BASE + 2 * HOUR, 'victim_admin_user')], { registry }),
      [],
      'one use signal per issuance',
    );
    const capped = new StateRegistry();
    const many = [];
    for (let i = 0; i < 10; i++) many.push(issued(BASE + i * MIN, { request_id: String(i) }));
    runRule(rule, many, { registry: capped, config: { max_tracked_issuances: 3 } });
    const list = capped.state<{ dedup_key: string }[]>('requester-subject-mismatch/issued').get('list');
    assert.deepEqual(
      list?.map((r) => r.dedup_key.split(':')[1]),
      ['7', '8', '9'],
    );
    assert.deepEqual(JSON.parse(JSON.stringify(list)), list);
  });

  test('requested SANs are parsed as AD CS and other CAs log them', () => {
    assert.deepEqual(parseRequestedSans(['dns=victim_machine.attack_range.local&upn=victim_admin']), [
      { from: 'dns', value: 'victim_machine.attack_range.local', account: 'victim_machine$' },
      { from: 'upn', value: 'victim_admin', account: 'victim_admin' },
    ]);
    assert.deepEqual(
      parseRequestedSans(['upn:Bob@Corp.Example', 'email=carol@corp.example', 'uri=spiffe://x/y', 'ip=10.0.0.1', 'dave']),
      [
        { from: 'upn', value: 'Bob@Corp.Example', account: 'bob' },
        { from: 'email', value: 'carol@corp.example', account: 'carol' },
        { from: 'account', value: 'dave', account: 'dave' },
      ],
    );
    assert.deepEqual(certIds(null), []);
  });

  test('defaults are valid config, equal the schema defaults, and unknown keys are rejected', () => {
    assert.equal(rule.meta.id, 'requester-subject-mismatch');
    assert.deepEqual(rule.meta.event_kinds, ['issuance', 'authentication']);
    assert.ok(Value.Check(rule.configSchema, rule.defaults));
    assert.deepEqual(Value.Default(rule.configSchema, {}), rule.defaults);
    assert.equal(Value.Check(rule.configSchema, { ...rule.defaults, surprise: 1 }), false);
    // Issuance + use is high (> 80) even when the use is matched by account only.
    const w = rule.meta.variant_weights ?? {};
    assert.ok(w['requested-san'] + w.used * rule.defaults.account_match_confidence > 80);
  });
});
