// key-reuse: one key bound to an account and presented by another (memory window boundary), the
// multi-subject and shared-key variants, the certificate-digest fallback, and bindings carried
// across runs — on real certificates sharing real key pairs.

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { Value } from 'typebox/value';
import { type EventInit, makeEvent, runRule } from '../../../tests/helpers/events.ts';
import { createRootCA, generateKeys, type TestCA, type TestCert, type TestKeyPair } from '../../../tests/helpers/pki.ts';
import { StateRegistry } from '../state.ts';
import { rule } from './rule.ts';

const BASE = Date.parse('2026-01-05T09:00:00Z');
const MIN = 60_000;
const DAY = 86_400_000;

let ca: TestCA;
let sharedKeys: TestKeyPair;
let aliceCert: TestCert;
let bobCertSameKey: TestCert;
let aliceOtherSubject: TestCert;
let aliceRekeyed: TestCert;
let appCert: TestCert;

before(async () => {
  ca = await createRootCA('CN=Corp User CA, O=Example Corp');
  sharedKeys = await generateKeys();
  aliceCert = await ca.issue({ subject: 'CN=alice, O=Example Corp', keys: sharedKeys, email: ['alice@corp.example'] });
  bobCertSameKey = await ca.issue({ subject: 'CN=bob, O=Example Corp', keys: sharedKeys });
  aliceOtherSubject = await ca.issue({ subject: 'CN=alice, OU=Finance, O=Example Corp', keys: sharedKeys });
  aliceRekeyed = await ca.issue({ subject: 'CN=alice, O=Example Corp' });
  appCert = await ca.issue({ subject: 'CN=mobile-app, O=Example Corp' });
});

function at(cert: TestCert, ms: number, init: EventInit = {}) {
  return makeEvent({ cert, at: BASE + ms, source_ip: '203.0.113.7', ...init });
}

describe('key-reuse', () => {
  test('a key bound to alice and presented by bob fires once, with both accounts and certificates in evidence', () => {
    const events = [
      at(aliceCert, 0, { user: 'alice', device: 'lap-alice' }),
      at(aliceCert, 5 * MIN, { user: 'alice', device: 'lap-alice' }),
      at(bobCertSameKey, 10 * MIN, { user: 'bob', device: 'lap-bob' }),
      at(bobCertSameKey, 20 * MIN, { user: 'bob', device: 'lap-bob' }),
    ];
    const signals = runRule(rule, events);
    assert.equal(signals.length, 1);
    const s = signals[0];
    const spki = events[0].certificate?.spki_sha256;
    assert.ok(spki);
    assert.equal(s.variant, undefined);
    assert.equal(s.event, events[2]);
    assert.equal(s.dedup_key, `${spki}:bob`);
    assert.match(s.summary, /bound to alice is now presented by bob \(2 accounts within 30 d; threshold >1\)/);
    assert.equal(s.evidence.key_basis, 'spki_sha256');
    assert.deepEqual(s.evidence.accounts, [
      { user: 'alice', first_seen: new Date(BASE).toISOString(), last_seen: new Date(BASE + 5 * MIN).toISOString() },
      { user: 'bob', first_seen: new Date(BASE + 10 * MIN).toISOString(), last_seen: new Date(BASE + 10 * MIN).toISOString() },
    ]);
    assert.deepEqual(
      (s.evidence.devices as { device: string }[]).map((d) => d.device),
      ['lap-alice', 'lap-bob'],
    );
    assert.deepEqual(
      (s.evidence.certificates as { sha256: string }[]).map((c) => c.sha256),
      [events[0].certificate?.sha256, events[2].certificate?.sha256],
    );
    // A third account is a new finding.
    const carol = runRule(rule, [...events, at(aliceCert, 30 * MIN, { user: 'carol' })]);
    assert.deepEqual(
      carol.map((x) => x.dedup_key),
      [`${spki}:bob`, `${spki}:carol`],
    );
  });

  test('one account with one key, and a re-keyed renewal with the same subject, never fire', () => {
    const events = [];
    for (let i = 0; i < 50; i++) events.push(at(aliceCert, i * MIN, { user: 'alice' }));
    events.push(at(aliceRekeyed, 60 * MIN, { user: 'alice' }));
    assert.deepEqual(runRule(rule, events), []);
  });

  test('binding memory boundary: bob at exactly 30 days after alice last used the key fires, 1 ms later does not', () => {
    const alice = at(aliceCert, 0, { user: 'alice' });
    assert.equal(runRule(rule, [alice, at(bobCertSameKey, 30 * DAY, { user: 'bob' })]).length, 1);
    assert.deepEqual(runRule(rule, [alice, at(bobCertSameKey, 30 * DAY + 1, { user: 'bob' })]), []);
    // The seed's 24 h is configurable.
    assert.deepEqual(
      runRule(rule, [alice, at(bobCertSameKey, 2 * DAY, { user: 'bob' })], { config: { binding_memory_days: 1 } }),
      [],
    );
  });

  test('multi-subject: the same key under another subject DN for the same account fires with confidence 0.5', () => {
    const events = [
      at(aliceCert, 0, { user: 'alice' }),
      at(aliceOtherSubject, MIN, { user: 'alice' }),
      at(aliceOtherSubject, 2 * MIN, { user: 'alice' }),
    ];
    const signals = runRule(rule, events);
    assert.equal(signals.length, 1);
    assert.equal(signals[0].variant, 'multi-subject');
    assert.equal(signals[0].confidence, 0.5);
    assert.equal(signals[0].event, events[1]);
    assert.deepEqual(
      (signals[0].evidence.subjects as { subject: string }[]).map((x) => x.subject),
      [events[0].certificate?.subject, events[1].certificate?.subject],
    );
  });

  test('multi-subject ignores DN formatting differences between sources', () => {
    const a = at(aliceCert, 0, { user: 'alice' });
    const b = at(aliceCert, MIN, { user: 'alice' });
    assert.ok(b.certificate?.subject);
    b.certificate = { ...b.certificate, subject: b.certificate.subject.replace(/,/g, ', ').toUpperCase() };
    assert.deepEqual(runRule(rule, [a, b]), []);
  });

  test('a new account under a new subject is reported as account reuse, not also as multi-subject', () => {
    const signals = runRule(rule, [at(aliceCert, 0, { user: 'alice' }), at(bobCertSameKey, MIN, { user: 'bob' })]);
    assert.deepEqual(
      signals.map((s) => s.variant ?? 'account'),
      ['account'],
    );
  });

  test('a key used by more than 10 accounts is reported once as shared-key and per-account alerts stop', () => {
    const events = [];
    for (let i = 1; i <= 14; i++) events.push(at(appCert, i * MIN, { user: `user${i}` }));
    const signals = runRule(rule, events);
    const perAccount = signals.filter((s) => s.variant === undefined);
    const shared = signals.filter((s) => s.variant === 'shared-key');
    assert.equal(perAccount.length, 9, 'accounts 2..10 are alerts');
    assert.equal(shared.length, 1);
    assert.equal(shared[0].event, events[10]);
    assert.equal(shared[0].dedup_key, `${events[0].certificate?.spki_sha256}:shared-key`);
    assert.equal((shared[0].evidence.accounts as unknown[]).length, 11);
    assert.equal(signals.length, 10);
  });

  test('logged certificates without SPKI fall back to the certificate SHA-256 and say so', () => {
    const a = at(aliceCert, 0, { user: 'alice' });
    const b = at(aliceCert, MIN, { user: 'mallory' });
    for (const e of [a, b]) {
      assert.ok(e.certificate);
      e.certificate = { ...e.certificate, source: 'logged', spki_sha256: null, spki_pin_sha256: null };
    }
    const signals = runRule(rule, [a, b]);
    assert.equal(signals.length, 1);
    assert.equal(signals[0].evidence.key_basis, 'cert_sha256');
    assert.equal(signals[0].dedup_key, `cert:${a.certificate?.sha256}:mallory`);
    assert.match(String(signals[0].evidence.key_basis_note), /no SPKI/);
  });

  test('failed handshakes do not bind keys or fire', () => {
    const events = [at(aliceCert, 0, { user: 'alice' }), at(bobCertSameKey, MIN, { user: 'bob', outcome: 'failure' })];
    assert.deepEqual(runRule(rule, events), []);
  });

  test('bindings carry across runs sharing a StateRegistry', () => {
    const registry = new StateRegistry();
    assert.deepEqual(runRule(rule, [at(aliceCert, 0, { user: 'alice' })], { registry }), []);
    const second = [at(bobCertSameKey, DAY, { user: 'bob' })];
    assert.equal(runRule(rule, second, { registry }).length, 1);
    assert.deepEqual(runRule(rule, second), [], 'without the first run bob is simply the first account');
    const ns = registry.state<unknown>('key-reuse/key');
    assert.equal(ns.size, 1);
    for (const [, v] of ns.takeDirty()) assert.deepEqual(JSON.parse(JSON.stringify(v)), v);
  });
  test('defaults are valid config, equal the schema defaults, and unknown keys are rejected', () => {
    assert.equal(rule.meta.id, 'key-reuse');
    assert.ok(Value.Check(rule.configSchema, rule.defaults));
    assert.deepEqual(Value.Default(rule.configSchema, {}), rule.defaults);
    assert.equal(Value.Check(rule.configSchema, { ...rule.defaults, surprise: 1 }), false);
  });
});
