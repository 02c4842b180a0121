// tls-fingerprint-change: baseline maturity boundaries (events and hours), one signal per device +
// fingerprint, JA3 only without JA4, unstable (randomised) fingerprints, downgrades across version
// spellings, the source-IP fallback, fleet drift (many devices making one change) and baselines
// carried across runs. Fingerprints are real JA4 /
// JA3 values from FoxIO's and Salesforce's reference outputs; certificates come from the test PKI.

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { Value } from 'typebox/value';
import { type EventInit, makeEvent, runRule } from '../../../tests/helpers/events.ts';
import { createRootCA, type TestCert } from '../../../tests/helpers/pki.ts';
import type { NormalizedEvent } from '../../schema/event.ts';
import { StateRegistry } from '../state.ts';
import { normalizeTlsVersion, rule } from './rule.ts';

const BASE = Date.parse('2026-01-05T09:00:00Z');
const HOUR = 3_600_000;

// Chrome-like TLS 1.3 client, the same stack over HTTP/1.1, and a TLS 1.2 client (FoxIO testdata).
const CHROME = 't13d1516h2_8daaf6152771_e5627efa2ab1';
const CHROME_H1 = 't13d1516h1_8daaf6152771_e5627efa2ab1';
const TLS12_CLIENT = 't12d190800_d83cc789557e_7af1ed941c26';
// JA3 MD5s from the Salesforce README examples.
const JA3_A = 'ada70206e40642a3e4461f35503241d5';
const JA3_B = 'de350869b8c85de67a350c8d186f11e6';

let deviceCert: TestCert;

before(async () => {
  const ca = await createRootCA('CN=Corp Device CA, O=Example Corp');
  deviceCert = await ca.issue({ subject: 'CN=lap-42.corp.example', dns: ['lap-42.corp.example'] });
});

function ev(hours: number, tls: Partial<NormalizedEvent['tls']>, init: EventInit = {}) {
  return makeEvent({
    cert: deviceCert,
    at: BASE + hours * HOUR,
    device: 'lap-42',
    user: 'alice',
    source_ip: '10.1.2.3',
    tls,
    ...init,
  });
}

/** `count` events with JA4 `fp`: hours 0..count-2, and the last at `spanHours`. */
function baseline(
  count: number,
  spanHours: number,
  tls: Partial<NormalizedEvent['tls']> = { ja4: CHROME, version: 'TLSv1.3' },
  init: EventInit = {},
) {
  const out = [];
  for (let i = 0; i < count - 1; i++) out.push(ev(i * (spanHours / (count - 1)) * 0.5, tls, init));
  out.push(ev(spanHours, tls, init));
  return out;
}

describe('tls-fingerprint-change', () => {
  test('a new JA4 after a mature baseline (20 events over 24 h) fires once with the baseline in evidence', () => {
    const events = [...baseline(20, 24), ev(25, { ja4: TLS12_CLIENT, version: 'TLSv1.3' })];
    const signals = runRule(rule, events);
    assert.equal(signals.length, 1);
    const s = signals[0];
    assert.equal(s.variant, 'new-fingerprint');
    assert.equal(s.event, events[20]);
    assert.equal(s.dedup_key, `device:lap-42:ja4:${TLS12_CLIENT}`);
    assert.equal(s.confidence, undefined);
    assert.equal(s.evidence.observed, TLS12_CLIENT);
    assert.equal(s.evidence.baseline_events, 20);
    assert.deepEqual(s.evidence.baseline_fingerprints, [
      { fingerprint: CHROME, events: 20, last_seen: new Date(BASE + 24 * HOUR).toISOString() },
    ]);
    assert.deepEqual(s.evidence.versions, { 'TLSv1.3': 20 });
    assert.match(s.summary, /device lap-42: JA4 t12d190800_\S+ never seen in its baseline of 20 events over 24 h/);
  });

  test('baseline maturity boundaries: 19 events, or 20 events over 24 h minus 1 ms, do not fire', () => {
    assert.deepEqual(runRule(rule, [...baseline(19, 24), ev(25, { ja4: TLS12_CLIENT })]), []);
    const short = baseline(20, 24);
    short[19] = makeEvent({ cert: deviceCert, at: BASE + 24 * HOUR - 1, device: 'lap-42', tls: { ja4: CHROME } });
    assert.deepEqual(runRule(rule, [...short, ev(25, { ja4: TLS12_CLIENT })]), []);
  });

  test('the new fingerprint joins the baseline: it fires once per device, a further new one fires again', () => {
    const events = [
      ...baseline(20, 24),
      ev(25, { ja4: TLS12_CLIENT }),
      ev(26, { ja4: TLS12_CLIENT }),
      ev(27, { ja4: CHROME }),
      ev(28, { ja4: CHROME_H1 }),
    ];
    const signals = runRule(rule, events);
    assert.deepEqual(
      signals.map((s) => s.evidence.observed),
      [TLS12_CLIENT, CHROME_H1],
    );
    const second = signals[1].evidence.baseline_fingerprints as { fingerprint: string; events: number }[];
    assert.deepEqual(
      second.map((f) => [f.fingerprint, f.events]),
      [
        [CHROME, 21],
        [TLS12_CLIENT, 2],
      ],
    );
  });

  test('JA3 is judged only when the event has no JA4, against its own baseline', () => {
    const ja4Only = baseline(20, 24);
    // A sensor that only computes JA3 sees the same device: no JA3 baseline yet, so no signal.
    assert.deepEqual(runRule(rule, [...ja4Only, ev(25, { ja3: JA3_A })]), []);
    const ja3Baseline = baseline(20, 24, { ja3: JA3_A });
    const signals = runRule(rule, [...ja3Baseline, ev(25, { ja3: JA3_B }), ev(26, { ja4: CHROME, ja3: JA3_B })]);
    assert.equal(signals.length, 1);
    assert.equal(signals[0].evidence.fingerprint_type, 'ja3');
    assert.equal(signals[0].dedup_key, `device:lap-42:ja3:${JA3_B}`);
  });

  test('a device whose fingerprint changes all the time (randomised JA3) stays quiet', () => {
    const events = [];
    for (let i = 0; i < 40; i++) events.push(ev(i, { ja3: i.toString(16).padStart(32, '0') }));
    events.push(ev(41, { ja3: JA3_B }));
    assert.deepEqual(runRule(rule, events), []);
    // Below the novelty ratio (5 fingerprints in 40 events) it does fire.
    const stable = [];
    for (let i = 0; i < 40; i++) stable.push(ev(i, { ja3: (i % 5).toString(16).padStart(32, '0') }));
    stable.push(ev(41, { ja3: JA3_B }));
    assert.equal(runRule(rule, stable).length, 1);
  });

  test('downgrade: TLS 1.2 on a device that always used TLS 1.3 fires once; TLS 1.0 later fires again', () => {
    const events = [
      ...baseline(20, 24, { ja4: CHROME, version: 'TLSv1.3' }),
      ev(25, { ja4: CHROME, version: 'TLS 1.2' }),
      ev(26, { ja4: CHROME, version: 'tls1.2' }),
      ev(27, { ja4: CHROME, version: 'TLSv1' }),
    ];
    const signals = runRule(rule, events);
    assert.deepEqual(
      signals.map((s) => s.variant),
      ['downgrade', 'downgrade'],
    );
    assert.equal(signals[0].dedup_key, 'device:lap-42:downgrade:TLSv1.2');
    assert.deepEqual(signals[0].evidence.baseline_versions, { 'TLSv1.3': 20 });
    assert.equal(signals[0].evidence.baseline_highest_version, 'TLSv1.3');
    assert.equal(signals[1].evidence.observed_version, 'TLSv1.0');
    assert.equal(signals[1].event, events[22]);
  });

  test('no downgrade for a version the device already mixes in, or an immature baseline', () => {
    const mixed = baseline(20, 24).map((e, i) =>
      i % 4 === 0 ? ev((e.ts - BASE) / HOUR, { ja4: CHROME, version: 'TLSv12' }) : e,
    );
    assert.deepEqual(runRule(rule, [...mixed, ev(25, { ja4: CHROME, version: '1.2' })]), []);
    assert.deepEqual(runRule(rule, [...baseline(19, 24), ev(25, { ja4: CHROME, version: 'TLSv1.2' })]), []);
  });

  test('TLS version spellings normalise to one canonical version', () => {
    for (const s of ['TLSv1.2', 'TLSv12', 'TLS 1.2', 'tls1.2', '1.2', '0x0303', '771', 'TLS_1_2'])
      assert.equal(normalizeTlsVersion(s)?.name, 'TLSv1.2', s);
    for (const s of ['TLSv1', 'TLSv10', 'TLS 1.0', '1.0']) assert.equal(normalizeTlsVersion(s)?.name, 'TLSv1.0', s);
    assert.equal(normalizeTlsVersion('TLSv13')?.name, 'TLSv1.3');
    assert.equal(normalizeTlsVersion('SSLv3')?.name, 'SSLv3');
    assert.equal(normalizeTlsVersion('DTLSv1.2'), null);
    assert.equal(normalizeTlsVersion('banana'), null);
  });

  test('without a device id the source IP is the key, with lower confidence and a note; fallback can be disabled', () => {
    const events = [...baseline(20, 24, { ja4: CHROME }, { device: null }), ev(25, { ja4: TLS12_CLIENT }, { device: null })];
    const signals = runRule(rule, events);
    assert.equal(signals.length, 1);
    assert.equal(signals[0].dedup_key, `source_ip:10.1.2.3:ja4:${TLS12_CLIENT}`);
    assert.equal(signals[0].confidence, 0.5);
    assert.equal(signals[0].evidence.device_key_kind, 'source_ip');
    assert.match(String(signals[0].evidence.device_key_note), /source IP/);
    assert.deepEqual(runRule(rule, events, { config: { fallback_to_source_ip: false } }), []);
  });

  test('events without a fingerprint or version do not count towards the baseline', () => {
    const events = [...baseline(19, 24)];
    for (let i = 0; i < 10; i++) events.push(ev(24.5, {}));
    events.push(ev(25, { ja4: TLS12_CLIENT }));
    assert.deepEqual(runRule(rule, events), []);
  });

  test('failed handshakes are ignored', () => {
    assert.deepEqual(runRule(rule, [...baseline(20, 24), ev(25, { ja4: TLS12_CLIENT }, { outcome: 'failure' })]), []);
  });

  test('the baseline carries across runs sharing a StateRegistry, and is bounded per device', () => {
    const registry = new StateRegistry();
    assert.deepEqual(runRule(rule, baseline(20, 24), { registry }), []);
    const later = [ev(48, { ja4: TLS12_CLIENT })];
    assert.equal(runRule(rule, later, { registry }).length, 1);
    assert.deepEqual(runRule(rule, later), [], 'a fresh state has no baseline');
    const capped = new StateRegistry();
    const many = [];
    for (let i = 0; i < 50; i++) many.push(ev(i, { ja4: `t13d1516h2_8daaf6152771_${i.toString(16).padStart(12, '0')}` }));
    runRule(rule, many, { registry: capped, config: { max_fingerprints_per_device: 8 } });
    const s = capped
      .state<{ ja4: { size: number; fps: Record<string, unknown> } }>('tls-fingerprint-change/device')
      .get('lap-42');
    assert.ok(s);
    assert.equal(s.ja4.size, 8);
    assert.equal(Object.keys(s.ja4.fps).length, 8);
    assert.deepEqual(JSON.parse(JSON.stringify(s)), s);
  });
  describe('fleet drift', () => {
    /** A mature CHROME baseline for `device`, then one event at `at` hours with JA4 `next`. */
    function move(device: string, at: number, next: string, tls: Partial<NormalizedEvent['tls']> = {}) {
      return [
        ...baseline(20, 24, { ja4: CHROME, version: 'TLSv1.3' }, { device }),
        ev(at, { ja4: next, version: 'TLSv1.3', ...tls }, { device }),
      ];
    }
    const byTime = (events: NormalizedEvent[]) => [...events].sort((a, b) => a.ts - b.ts);

    test('5 devices making the same change within the window: only the first drift_min_devices − 1 fire, with peer counts', () => {
      const events = byTime(['d1', 'd2', 'd3', 'd4', 'd5'].flatMap((d, i) => move(d, 30 + i, TLS12_CLIENT)));
      const signals = runRule(rule, events);
      assert.deepEqual(
        signals.map((s) => s.evidence.device_key),
        ['d1', 'd2'],
      );
      assert.deepEqual(
        signals.map((s) => s.evidence.peer_devices),
        [0, 1],
      );
      assert.equal(signals[0].evidence.usual_fingerprint, CHROME);
      // A higher threshold lets more fire first.
      const four = runRule(rule, events, { config: { drift_min_devices: 4 } });
      assert.deepEqual(
        four.map((s) => s.evidence.device_key),
        ['d1', 'd2', 'd3'],
      );
    });

    test('one device moving to a fingerprint no peer uses still fires while the fleet drifts elsewhere', () => {
      const fleet = ['d1', 'd2', 'd3', 'd4'].flatMap((d, i) => move(d, 30 + i, CHROME_H1));
      const lone = move('lap-42', 35, TLS12_CLIENT);
      const signals = runRule(rule, byTime([...fleet, ...lone]));
      assert.deepEqual(
        signals.map((s) => [s.evidence.device_key, s.evidence.observed]),
        [
          ['d1', CHROME_H1],
          ['d2', CHROME_H1],
          ['lap-42', TLS12_CLIENT],
        ],
      );
      assert.equal(signals[2].evidence.peer_devices, 0);
    });

    test('peers outside the window do not count; at the window edge they do', () => {
      // d1 and d2 change at hour 30; d3 at 30 + 72 h + 1 ms is alone again, at exactly 30 + 72 h it is drift.
      const early = byTime([...move('d1', 30, TLS12_CLIENT), ...move('d2', 30, TLS12_CLIENT)]);
      const late = runRule(rule, byTime([...early, ...move('d3', 30 + 72 + 1 / HOUR, TLS12_CLIENT)]));
      assert.deepEqual(
        late.map((s) => [s.evidence.device_key, s.evidence.peer_devices]),
        [
          ['d1', 0],
          ['d2', 1],
          ['d3', 0],
        ],
      );
      const edge = runRule(rule, byTime([...early, ...move('d3', 30 + 72, TLS12_CLIENT)]));
      assert.deepEqual(
        edge.map((s) => s.evidence.device_key),
        ['d1', 'd2'],
      );
    });

    test('a downgrade is never drift: every device downgrading fires', () => {
      const events = byTime(['d1', 'd2', 'd3', 'd4'].flatMap((d, i) => move(d, 30 + i, TLS12_CLIENT, { version: 'TLSv1.2' })));
      const signals = runRule(rule, events);
      assert.deepEqual(
        signals.filter((s) => s.variant === 'downgrade').map((s) => s.evidence.device_key),
        ['d1', 'd2', 'd3', 'd4'],
      );
      assert.deepEqual(
        signals.filter((s) => s.variant === 'new-fingerprint').map((s) => s.evidence.device_key),
        ['d1', 'd2'],
      );
    });

    test('peers carry across runs sharing a StateRegistry, and the per-transition list is bounded', () => {
      const registry = new StateRegistry();
      const first = runRule(rule, byTime([...move('d1', 30, TLS12_CLIENT), ...move('d2', 31, TLS12_CLIENT)]), { registry });
      assert.equal(first.length, 2);
      const laterBaseline = baseline(20, 24, { ja4: CHROME }, { device: 'd3' });
      assert.deepEqual(
        runRule(rule, [...laterBaseline, ev(40, { ja4: TLS12_CLIENT }, { device: 'd3' })], { registry }),
        [],
        'third device in a later run is drift',
      );
      assert.equal(
        runRule(rule, [...laterBaseline, ev(40, { ja4: TLS12_CLIENT }, { device: 'd3' })]).length,
        1,
        'a fresh state has no peers',
      );
      const t = registry
        .state<{ devices: [string, number][] }>('tls-fingerprint-change/transition')
        .get(`${CHROME}→${TLS12_CLIENT}`);
      assert.deepEqual(
        t?.devices.map((d) => d[0]),
        ['device:d1', 'device:d2', 'device:d3'],
      );
      const big = new StateRegistry();
      const many = [];
      for (let i = 0; i < 60; i++) many.push(...move(`m${i}`, 30, TLS12_CLIENT));
      runRule(rule, byTime(many), { registry: big });
      const capped = big
        .state<{ devices: [string, number][] }>('tls-fingerprint-change/transition')
        .get(`${CHROME}→${TLS12_CLIENT}`);
      assert.equal(capped?.devices.length, 50);
    });
  });

  test('defaults are valid config, equal the schema defaults, and unknown keys are rejected', () => {
    assert.equal(rule.meta.id, 'tls-fingerprint-change');
    assert.ok(Value.Check(rule.configSchema, rule.defaults));
    assert.deepEqual(Value.Default(rule.configSchema, {}), rule.defaults);
    assert.equal(Value.Check(rule.configSchema, { ...rule.defaults, surprise: 1 }), false);
    assert.equal(rule.defaults.drift_min_devices, 3);
    assert.equal(rule.defaults.drift_window_hours, 72);
    assert.equal(
      Value.Check(rule.configSchema, { ...rule.defaults, drift_min_devices: 1 }),
      false,
      'one device alone is never drift',
    );
  });
});
