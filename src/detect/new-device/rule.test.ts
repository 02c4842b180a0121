// new-device: history maturity boundaries (events and days), registered vs unregistered vs
// someone else's device, the no-registry and immature confidences, one signal per account +
// device, forgetting and the per-account cap, and the history carried across runs. Certificates
// come from the test PKI.

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { Value } from 'typebox/value';
import { type EventInit, makeEvent, runRule } from '../../../tests/helpers/events.ts';
import { createRootCA, type TestCert } from '../../../tests/helpers/pki.ts';
import type { Asset } from '../../schema/event.ts';
import { StateRegistry } from '../state.ts';
import { type AccountDevices, ownerIsAccount, rule } from './rule.ts';

const BASE = Date.parse('2026-01-05T09:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let cert: TestCert;

before(async () => {
  const ca = await createRootCA('CN=Corp Device CA, O=Example Corp');
  cert = await ca.issue({ subject: 'CN=alice, O=Example Corp', email: ['alice@corp.example'] });
});

function asset(device: string, owner: string | null, kind = 'laptop'): Asset {
  return { device_id: device, owner, kind, hostname: `${device}.corp.example`, os: null, enrolled_at: '2026-01-01T00:00:00Z' };
}

function ev(at: number, device: string | null, init: EventInit = {}) {
  return makeEvent({
    cert,
    at,
    user: 'alice',
    device,
    source_ip: '198.51.100.7',
    asset: device === 'lap-1' ? asset('lap-1', 'alice') : null,
    ...init,
  });
}

/** `count` events on alice's laptop: evenly from BASE, the last at BASE + spanMs. */
function history(count: number, spanMs: number) {
  const out = [];
  for (let i = 0; i < count; i++) out.push(ev(BASE + Math.round((spanMs * i) / (count - 1)), 'lap-1'));
  return out;
}

const AFTER = BASE + 6 * DAY;

describe('new-device', () => {
  test('an unregistered device after a mature history (20 events over 5 days) fires once with the history in evidence', () => {
    const events = [...history(20, 5 * DAY), ev(AFTER, 'dev-evil'), ev(AFTER + HOUR, 'dev-evil'), ev(AFTER + 2 * HOUR, 'lap-1')];
    const signals = runRule(rule, events);
    assert.equal(signals.length, 1);
    const s = signals[0];
    assert.equal(s.rule, 'new-device');
    assert.equal(s.event, events[20]);
    assert.equal(s.dedup_key, 'alice:dev-evil');
    assert.equal(s.confidence, undefined);
    assert.equal(s.evidence.registration, 'unregistered');
    assert.equal(s.evidence.asset, null);
    assert.equal(s.evidence.baseline, 'mature');
    assert.equal(s.evidence.baseline_events, 20);
    assert.equal(s.evidence.baseline_days, 5);
    assert.deepEqual(s.evidence.known_devices, [{ device: 'lap-1', last_seen: new Date(BASE + 5 * DAY).toISOString() }]);
    assert.equal((s.evidence.certificate as { sha256: string }).sha256.length, 64);
    assert.match(
      s.summary,
      /alice authenticated from device dev-evil, never seen for the account in 20 events over 5 days \(1 known; not in the asset registry\)/,
    );
  });

  test('maturity boundaries: 19 events, or 20 events over 5 days minus 1 ms, stay quiet', () => {
    assert.deepEqual(runRule(rule, [...history(19, 5 * DAY), ev(AFTER, 'dev-evil')]), []);
    assert.deepEqual(runRule(rule, [...history(20, 5 * DAY - 1), ev(AFTER, 'dev-evil')]), []);
    assert.equal(runRule(rule, [...history(20, 5 * DAY), ev(AFTER, 'dev-evil')]).length, 1);
  });

  test('a new device registered to the account is a legitimate enrollment and stays quiet (owner spelt as e-mail too)', () => {
    assert.deepEqual(runRule(rule, [...history(20, 5 * DAY), ev(AFTER, 'lap-2', { asset: asset('lap-2', 'alice') })]), []);
    assert.deepEqual(
      runRule(rule, [...history(20, 5 * DAY), ev(AFTER, 'lap-2', { asset: asset('lap-2', ' Alice@Corp.Example ') })]),
      [],
    );
  });

  test("someone else's registered device, or an unowned one, fires as registered-to-other", () => {
    const [s] = runRule(rule, [...history(20, 5 * DAY), ev(AFTER, 'lap-bob', { asset: asset('lap-bob', 'bob') })]);
    assert.equal(s.evidence.registration, 'registered-to-other');
    assert.deepEqual(s.evidence.asset, {
      device_id: 'lap-bob',
      owner: 'bob',
      kind: 'laptop',
      hostname: 'lap-bob.corp.example',
      enrolled_at: '2026-01-01T00:00:00Z',
    });
    assert.match(s.summary, /registered to bob/);
    const [kiosk] = runRule(rule, [...history(20, 5 * DAY), ev(AFTER, 'kiosk-1', { asset: asset('kiosk-1', null, 'kiosk') })]);
    assert.equal(kiosk.evidence.registration, 'registered-to-other');
  });

  test('without an asset registry a new device fires at half confidence and says so; 0 keeps it quiet', () => {
    const events = [...history(20, 5 * DAY), ev(AFTER, 'lap-2', { asset: null })];
    const [s] = runRule(rule, events, { facts: { assetsConfigured: false } });
    assert.equal(s.confidence, 0.5);
    assert.equal(s.evidence.registration, 'no-registry');
    assert.match(String(s.evidence.registry_note), /no asset registry configured/);
    assert.deepEqual(runRule(rule, events, { facts: { assetsConfigured: false }, config: { no_registry_confidence: 0 } }), []);
  });

  test('an immature history stays quiet by default; immature_confidence reports it as baseline: immature', () => {
    const events = [...history(5, DAY), ev(BASE + 2 * DAY, 'dev-evil')];
    assert.deepEqual(runRule(rule, events), []);
    const [s] = runRule(rule, events, { config: { immature_confidence: 0.25 } });
    assert.equal(s.confidence, 0.25);
    assert.equal(s.evidence.baseline, 'immature');
    assert.equal(s.evidence.baseline_events, 5);
    assert.match(s.summary, /immature baseline/);
  });

  test('events without user or device, and failed authentications, neither count nor fire', () => {
    const noise = [];
    for (let i = 0; i < 30; i++) noise.push(ev(BASE + 5 * DAY + i, null), ev(BASE + 5 * DAY + i, 'lap-1', { user: null }));
    // 19 real events + noise: still immature.
    assert.deepEqual(runRule(rule, [...history(19, 5 * DAY), ...noise, ev(AFTER, 'dev-evil')]), []);
    assert.deepEqual(runRule(rule, [...history(20, 5 * DAY), ev(AFTER, 'dev-evil', { outcome: 'failure' })]), []);
    // The failed attempt did not teach the device: a later success fires.
    assert.equal(
      runRule(rule, [...history(20, 5 * DAY), ev(AFTER, 'dev-evil', { outcome: 'failure' }), ev(AFTER + 1, 'dev-evil')]).length,
      1,
    );
  });

  test('a device unused for more than device_memory_days is forgotten and fires again when it returns', () => {
    const events = [
      ...history(20, 5 * DAY),
      ev(AFTER, 'dev-x'),
      ev(AFTER + 10 * DAY, 'lap-1'),
      ev(AFTER + 10 * DAY + 1, 'dev-x'),
    ];
    assert.equal(runRule(rule, events).length, 1, 'seen 10 days ago: still known');
    const later = [...history(20, 5 * DAY), ev(AFTER, 'dev-x'), ev(AFTER + 10 * DAY, 'lap-1'), ev(AFTER + 11 * DAY, 'dev-x')];
    assert.equal(runRule(rule, later, { config: { device_memory_days: 10 } }).length, 2);
  });

  test('the history carries across runs sharing a StateRegistry, and the device set is capped', () => {
    const registry = new StateRegistry();
    assert.deepEqual(runRule(rule, history(20, 5 * DAY), { registry }), []);
    assert.equal(runRule(rule, [ev(AFTER, 'dev-evil')], { registry }).length, 1);
    assert.deepEqual(runRule(rule, [ev(AFTER + HOUR, 'dev-evil')], { registry }), [], 'reported once per account + device');
    assert.deepEqual(runRule(rule, [ev(AFTER, 'dev-evil')]), [], 'a fresh state has no history');
    const capped = new StateRegistry();
    const many = [...history(20, 5 * DAY)];
    for (let i = 0; i < 10; i++) many.push(ev(AFTER + i * HOUR, `dev-${i}`));
    const signals = runRule(rule, many, { registry: capped, config: { max_devices_per_account: 4 } });
    assert.equal(signals.length, 10);
    const s = capped.state<AccountDevices>('new-device/account').get('alice');
    assert.ok(s);
    assert.equal(s.size, 4);
    assert.deepEqual(Object.keys(s.devices).sort(), ['dev-6', 'dev-7', 'dev-8', 'dev-9']);
    assert.deepEqual(JSON.parse(JSON.stringify(s)), s);
  });

  test('owner/account comparison: trimmed, case-insensitive, e-mail local part only against a bare name', () => {
    assert.equal(ownerIsAccount('Alice', 'alice'), true);
    assert.equal(ownerIsAccount('alice@corp.example', 'alice'), true);
    assert.equal(ownerIsAccount('alice', 'ALICE@corp.example'), true);
    assert.equal(ownerIsAccount('alice@corp.example', 'alice@other.example'), false);
    assert.equal(ownerIsAccount('alicia', 'alice'), false);
    assert.equal(ownerIsAccount('', 'alice'), false);
  });

  test('defaults are valid config, equal the schema defaults, and unknown keys are rejected', () => {
    assert.equal(rule.meta.id, 'new-device');
    assert.ok(Value.Check(rule.configSchema, rule.defaults));
    assert.deepEqual(Value.Default(rule.configSchema, {}), rule.defaults);
    assert.equal(Value.Check(rule.configSchema, { ...rule.defaults, surprise: 1 }), false);
  });
});
