// key-reuse state layout: the compact one-account/one-subject/one-device/one-certificate form, its
// growth into lists when a second value appears, and state persisted by the earlier list-only
// version (with the stored `norm` DN) loading and behaving exactly like the compact state — on
// real certificates sharing a real key pair.

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { type EventInit, makeEvent, runRule } from '../../../tests/helpers/events.ts';
import { createRootCA, generateKeys, type TestCert } from '../../../tests/helpers/pki.ts';
import type { NormalizedEvent } from '../../schema/event.ts';
import { StateRegistry } from '../state.ts';
import { type KeyState, keyId, keyIdentity, normalizeDn, rule } from './rule.ts';

const BASE = Date.parse('2026-01-05T09:00:00Z');
const MIN = 60_000;

let aliceCert: TestCert;
let aliceOtherSubject: TestCert;
let bobCertSameKey: TestCert;

before(async () => {
  const ca = await createRootCA('CN=Corp User CA, O=Example Corp');
  const keys = await generateKeys();
  aliceCert = await ca.issue({ subject: 'CN=alice, O=Example Corp', keys });
  aliceOtherSubject = await ca.issue({ subject: 'CN=alice, OU=Finance, O=Example Corp', keys });
  bobCertSameKey = await ca.issue({ subject: 'CN=bob, O=Example Corp', keys });
});

function at(cert: TestCert, ms: number, init: EventInit = {}) {
  return makeEvent({ cert, at: BASE + ms, source_ip: '203.0.113.7', ...init });
}

/** The state one key has after `events` (a fresh registry), and the registry. */
function stateAfter(events: NormalizedEvent[]): { registry: StateRegistry; state: KeyState } {
  const registry = new StateRegistry();
  runRule(rule, events, { registry });
  const ns = registry.state<KeyState>('key-reuse/key');
  assert.equal(ns.size, 1);
  const [[, state]] = ns.takeDirty();
  assert.ok(state);
  return { registry, state };
}

/** The same state in the shape the earlier version persisted: every list an array, subjects with `norm`. */
function oldShape(s: KeyState): Record<string, unknown> {
  const list = (x: unknown) => (x === null ? [] : Array.isArray(x) ? x : [x]);
  return JSON.parse(
    JSON.stringify({
      ...s,
      accounts: list(s.accounts),
      subjects: list(s.subjects).map((e: { subject: string }) => ({ ...e, norm: normalizeDn(e.subject) })),
      devices: list(s.devices),
      certs: list(s.certs),
    }),
  );
}

describe('key-reuse state', () => {
  test('one account, subject, device and certificate are stored as single entries (no lists, no normalised DN copy)', () => {
    const { state } = stateAfter([
      at(aliceCert, 0, { user: 'alice', device: 'lap-alice' }),
      at(aliceCert, 5 * MIN, { user: 'alice', device: 'lap-alice' }),
    ]);
    assert.equal(Array.isArray(state.accounts), false);
    assert.deepEqual(state.accounts, { user: 'alice', first_seen: BASE, last_seen: BASE + 5 * MIN });
    assert.deepEqual(state.subjects, {
      subject: 'O=Example Corp,CN=alice',
      user: 'alice',
      first_seen: BASE,
      last_seen: BASE + 5 * MIN,
    });
    assert.deepEqual(state.devices, { device: 'lap-alice', first_seen: BASE, last_seen: BASE + 5 * MIN });
    assert.equal(Array.isArray(state.certs), false);
    assert.equal((state.certs as { serial: string }).serial, aliceCert.serial);
    assert.deepEqual(JSON.parse(JSON.stringify(state)), state);
  });

  test('a second account, device and certificate turn the single entries into lists, in order, and fire as before', () => {
    const registry = new StateRegistry();
    runRule(rule, [at(aliceCert, 0, { user: 'alice', device: 'lap-alice' })], { registry });
    const signals = runRule(rule, [at(bobCertSameKey, 10 * MIN, { user: 'bob', device: 'lap-bob' })], { registry });
    assert.equal(signals.length, 1);
    assert.deepEqual(
      (signals[0].evidence.accounts as { user: string }[]).map((a) => a.user),
      ['alice', 'bob'],
    );
    const [[, s]] = registry.state<KeyState>('key-reuse/key').takeDirty();
    assert.ok(s);
    assert.deepEqual(
      (s.accounts as { user: string }[]).map((a) => a.user),
      ['alice', 'bob'],
    );
    assert.deepEqual(
      (s.devices as { device: string }[]).map((d) => d.device),
      ['lap-alice', 'lap-bob'],
    );
    assert.deepEqual(
      (s.certs as { serial: string }[]).map((c) => c.serial),
      [aliceCert.serial, bobCertSameKey.serial],
    );
    // bob's subject is under another account: recorded, but not a multi-subject finding.
    assert.deepEqual(
      (s.subjects as { subject: string }[]).map((e) => e.subject),
      ['O=Example Corp,CN=alice', 'O=Example Corp,CN=bob'],
    );
  });

  test('a second subject for the same account becomes a list and fires multi-subject; a respelled subject does not', () => {
    const respelled = at(aliceCert, 2 * MIN, { user: 'alice' });
    const cert = respelled.certificate as NonNullable<NormalizedEvent['certificate']>;
    respelled.certificate = { ...cert, subject: 'o=example corp, cn=ALICE' };
    const events = [at(aliceCert, 0, { user: 'alice' }), respelled, at(aliceOtherSubject, 10 * MIN, { user: 'alice' })];
    const signals = runRule(rule, events);
    assert.deepEqual(
      signals.map((x) => x.variant),
      ['multi-subject'],
    );
    assert.equal(signals[0].event, events[2]);
    const { state } = stateAfter(events);
    assert.deepEqual(
      (state.subjects as { subject: string; last_seen: number }[]).map((e) => [e.subject, e.last_seen]),
      [
        ['O=Example Corp,CN=alice', BASE + 2 * MIN],
        ['O=Example Corp,OU=Finance,CN=alice', BASE + 10 * MIN],
      ],
    );
  });

  test('keyIdentity (id cached per certificate, basis from the certificate): SPKI, else certificate SHA-256, else SHA-1', () => {
    const cert = at(aliceCert, 0).certificate as NonNullable<NormalizedEvent['certificate']>;
    assert.ok(cert.spki_sha256 && cert.sha256 && cert.sha1);
    assert.deepEqual(keyIdentity(cert), { id: cert.spki_sha256, basis: 'spki_sha256' });
    const logged = { ...cert, spki_sha256: null };
    assert.deepEqual(keyIdentity(logged), { id: `cert:${cert.sha256}`, basis: 'cert_sha256' });
    assert.equal(keyId(logged), keyId(logged));
    assert.deepEqual(keyIdentity({ ...logged, sha256: null }), { id: `cert-sha1:${cert.sha1}`, basis: 'cert_sha1' });
    assert.equal(keyIdentity({ ...logged, sha256: null, sha1: null }), null);
  });

  test('state persisted by the list-only version loads and behaves exactly like the compact state', () => {
    const history = [
      at(aliceCert, 0, { user: 'alice', device: 'lap-alice' }),
      at(aliceCert, 3 * MIN, { user: 'alice', device: 'lap-alice' }),
    ];
    const { registry: compact, state } = stateAfter(history);
    const key = history[0].certificate?.spki_sha256;
    assert.ok(key);
    const old = new StateRegistry();
    old.state('key-reuse/key').preload(new Map([[key, oldShape(state)]]));
    assert.ok(Array.isArray((old.state<KeyState>('key-reuse/key').get(key) as KeyState).accounts));
    const next = [
      at(aliceOtherSubject, 10 * MIN, { user: 'alice', device: 'lap-alice' }),
      at(bobCertSameKey, 20 * MIN, { user: 'bob', device: 'lap-bob' }),
      at(aliceCert, 30 * MIN, { user: 'alice', device: 'lap-2' }),
    ];
    const fromOld = runRule(rule, next, { registry: old });
    const fromCompact = runRule(rule, next, { registry: compact });
    assert.deepEqual(
      fromOld.map((x) => x.variant ?? 'account'),
      ['multi-subject', 'account'],
    );
    assert.deepEqual(
      fromOld.map((x) => [x.summary, x.dedup_key, x.evidence]),
      fromCompact.map((x) => [x.summary, x.dedup_key, x.evidence]),
    );
  });
});
