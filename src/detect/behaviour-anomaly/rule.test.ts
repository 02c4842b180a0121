import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { Value } from 'typebox/value';
import { makeEvent, runRule } from '../../../tests/helpers/events.ts';
import { createRootCA, type TestCert } from '../../../tests/helpers/pki.ts';
import { nodesPerTree } from '../../model/hst/hst.ts';
import type { NormalizedEvent } from '../../schema/event.ts';
import { StateRegistry } from '../state.ts';
import type { Signal } from '../types.ts';
import { type AccountState, computeFeatures, DIMS, hoursFromUsual, learnEvent, newAccount, sourceNetwork } from './features.ts';
import { rule } from './rule.ts';
import { stationaryStream } from './synthetic.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const BURST_FEATURES = new Set(['device', 'hour', 'geo', 'service', 'bytes']);
let cert: TestCert;
let stream: NormalizedEvent[];

before(async () => {
  const ca = await createRootCA('CN=Corp Device CA, O=Example Corp');
  cert = await ca.issue({ subject: 'CN=user00010, O=Example Corp' });
  // 100 accounts × 45 days of ordinary behaviour (≈ 27,000 events), fixed seed.
  stream = stationaryStream({ accounts: 100, days: 45, seed: 1 });
});

/** The victim's last ordinary event (its known network and JA4). */
function lastOf(user: string): NormalizedEvent {
  const e = stream.findLast((x) => x.user === user);
  assert.ok(e);
  return e;
}

/**
 * An intruder's burst for a mature account, the day after the stream at 03:00 UTC: an unknown
 * device, Singapore instead of Europe, a service nobody uses and a 2 GB transfer — from the
 * account's known network with its known JA4 (so those two features stay ordinary).
 */
function burst(user: string, count = 3, at = 3): NormalizedEvent[] {
  const last = lastOf(user);
  const day = Math.floor(stream[stream.length - 1].ts / DAY) + 1;
  return Array.from({ length: count }, (_, k) =>
    makeEvent({
      at: day * DAY + at * HOUR + k * 10 * 60_000,
      user,
      cert,
      device: 'DESKTOP-X7Q2',
      source_ip: last.source_ip,
      tls: { ja4: last.tls.ja4 },
      geo: { country_iso_code: 'SG', city_name: 'Singapore', lat: 1.35, lon: 103.82 },
      service: 'db-admin-console',
      bytes: 2_000_000_000,
    }),
  );
}

type Snapshot = [string, [string, unknown][]][];

/** What the state store does at the end of a run: every namespace's entries as JSON. */
function snapshot(reg: StateRegistry): Snapshot {
  return JSON.parse(JSON.stringify([...reg.namespaces].map(([ns, state]) => [ns, state.takeDirty()])));
}

/** …and at the start of the next: a fresh registry preloaded from it. */
function restore(snap: Snapshot): StateRegistry {
  const next = new StateRegistry();
  for (const [ns, entries] of snap) next.state(ns).preload(new Map(structuredClone(entries)));
  return next;
}

function transfer(reg: StateRegistry): StateRegistry {
  return restore(snapshot(reg));
}

describe('behaviour-anomaly', () => {
  test('ordinary events after warm-up almost never fire (≤ 0.1 % of a stationary stream, seed fixed)', () => {
    const signals = runRule(rule, stream);
    assert.ok(stream.length > 25_000, `${stream.length} events`);
    assert.ok(signals.length <= stream.length / 1000, `${signals.length} signals on ${stream.length} ordinary events`);
    // The rule did score: the model is mature and every account was scored against it.
    const reg = new StateRegistry();
    runRule(rule, stream, { registry: reg });
    const model = reg.state<{ windows: number }>('behaviour-anomaly/model').get('global');
    assert.ok(model && model.windows >= 10, `model windows ${model?.windows}`);
  });

  test('a burst far off every baseline dimension fires once per hour, with those features on top', () => {
    // A second intruder in the next hour: another device, another far place, another rare service.
    const second = burst('user00010', 2, 4).map((e) => ({
      ...e,
      device: 'LAPTOP-9ZZ',
      service: 'k8s-api',
      geo: { country_iso_code: 'BR', city_name: 'São Paulo', lat: -23.55, lon: -46.63 },
    }));
    const signals = runRule(rule, [...stream, ...burst('user00010'), ...second]);
    const mine = signals.filter((s) => s.event.user === 'user00010');
    assert.equal(mine.length, 2, 'one signal for the 03:00 hour (three events), one for 04:00');
    assert.equal(mine[1].event.device, 'LAPTOP-9ZZ');
    const s = mine[0];
    assert.equal(s.rule, 'behaviour-anomaly');
    assert.equal(s.dedup_key, `user00010:${s.event.time.slice(0, 13)}`);
    assert.equal(mine[1].dedup_key, `user00010:${mine[1].event.time.slice(0, 13)}`);
    assert.notEqual(mine[0].dedup_key, mine[1].dedup_key);
    const ev = s.evidence as {
      anomaly_score: number;
      threshold: number;
      top_features: { feature: string; value: number; contribution: number }[];
      features: Record<string, number>;
      certificate: { sha256: string };
    };
    assert.ok(ev.anomaly_score >= ev.threshold, `${ev.anomaly_score}`);
    assert.ok(s.confidence !== undefined && s.confidence > 0.5 && s.confidence <= 1);
    assert.equal(ev.top_features.length, 3);
    for (const t of ev.top_features) {
      assert.ok(BURST_FEATURES.has(t.feature), `top feature ${t.feature}`);
      assert.ok(t.value >= 0.5, `${t.feature} value ${t.value}`);
      assert.ok(t.contribution > 0.1, `${t.feature} contribution ${t.contribution}`);
    }
    assert.ok(ev.top_features[0].contribution >= ev.top_features[1].contribution);
    assert.ok(ev.top_features[1].contribution >= ev.top_features[2].contribution);
    assert.equal(ev.features.network, 0);
    assert.equal(ev.features.tls, 0);
    assert.equal(ev.features.device, 1);
    assert.equal(ev.features.bytes, 1);
    assert.equal(ev.certificate.sha256, s.event.certificate?.sha256);
    assert.match(s.summary, /^user00010: behaviour anomaly 0\.\d+ \(threshold 0\.6\) — /);
  });

  test('a single new device on an otherwise ordinary day is not enough', () => {
    const last = lastOf('user00020');
    const e = makeEvent({
      at: last.ts + 20 * 60_000,
      user: 'user00020',
      device: 'new-phone',
      source_ip: last.source_ip,
      geo: last.geo,
      service: last.service,
      bytes: last.bytes,
      tls: { ja4: last.tls.ja4 },
    });
    const signals = runRule(rule, [...stream, e]);
    assert.equal(signals.filter((s) => s.event === e).length, 0);
  });

  test('is deterministic under the seed; another seed builds other trees', () => {
    const input = [...stream, ...burst('user00010')];
    const a = runRule(rule, input);
    const b = runRule(rule, input);
    assert.deepEqual(a, b);
    const other = runRule(rule, input, { config: { seed: 7 } });
    const score = (xs: Signal[]) => xs.find((s) => s.event.device === 'DESKTOP-X7Q2')?.evidence.anomaly_score;
    assert.ok(score(other) !== undefined, 'the burst fires under another seed too');
    assert.notEqual(score(a), score(other));
  });

  test('cold start stays quiet: an immature model, an immature account', () => {
    // The model has no complete reference window yet.
    const quietModel = runRule(rule, [...stream, ...burst('user00010')], { config: { window_size: 1_000_000 } });
    assert.deepEqual(quietModel, []);
    // A new account (12 events over 2 days) with the same burst, beside a mature one.
    const t0 = stream[stream.length - 1].ts - 2 * DAY;
    const newbie = Array.from({ length: 12 }, (_, i) =>
      makeEvent({
        at: t0 + i * 4 * HOUR,
        user: 'newbie',
        device: 'newbie-laptop',
        service: 'app-1',
        bytes: 40_000,
        source_ip: '10.3.1.7',
      }),
    );
    const nb = burst('user00010').map((e) => ({ ...e, user: 'newbie' }));
    const signals = runRule(rule, [...stream, ...newbie, ...nb, ...burst('user00010')]);
    assert.equal(signals.filter((s) => s.event.user === 'newbie').length, 0);
    assert.equal(signals.filter((s) => s.event.user === 'user00010' && s.event.device === 'DESKTOP-X7Q2').length, 1);
  });

  test('state carried across runs through JSON (StateRegistry) gives identical decisions', () => {
    const input = [...stream, ...burst('user00010'), ...burst('user00030', 2, 5)];
    const whole = runRule(rule, input);
    assert.ok(whole.length >= 2);
    for (const cut of [Math.floor(input.length / 3), input.length - 4]) {
      const r1 = new StateRegistry();
      const first = runRule(rule, input.slice(0, cut), { registry: r1 });
      const second = runRule(rule, input.slice(cut), { registry: transfer(r1) });
      assert.deepEqual([...first, ...second], whole, `cut at ${cut}`);
    }
  });

  test('a model saved under other parameters is dropped and warms up again', () => {
    const reg = new StateRegistry();
    runRule(rule, stream, { registry: reg });
    const snap = snapshot(reg);
    assert.equal(runRule(rule, burst('user00010'), { registry: restore(snap), config: { seed: 99 } }).length, 0);
    assert.equal(
      runRule(rule, burst('user00010'), { registry: restore(snap) }).length,
      1,
      'same parameters: the saved model is used',
    );
  });

  test('state stays small: per account under 1 KB however much it sees, the model trees × nodes', () => {
    const reg = new StateRegistry();
    runRule(rule, stream, { registry: reg });
    const accounts = reg.state<AccountState>('behaviour-anomaly/account');
    let max = 0;
    for (const [, v] of accounts.takeDirty()) max = Math.max(max, JSON.stringify(v).length);
    assert.ok(max < 1024, `largest account state ${max} bytes`);
    // An account that sees 500 different devices, networks, services and fingerprints.
    const noisy = Array.from({ length: 500 }, (_, i) =>
      makeEvent({
        at: Date.parse('2026-01-05T00:00:00Z') + i * 37 * 60_000,
        user: 'noisy',
        device: `dev-${i}`,
        source_ip: `172.${16 + (i % 16)}.${i % 256}.9`,
        service: `svc-${i}`,
        tls: { ja4: `ja4-${i}` },
        bytes: 1000 * (i + 1),
        geo: { country_iso_code: 'DE', city_name: null, lat: 50 + (i % 7), lon: 8 + (i % 5) },
      }),
    );
    const r2 = new StateRegistry();
    runRule(rule, noisy, { registry: r2 });
    const s = r2.state<AccountState>('behaviour-anomaly/account').get('noisy');
    assert.ok(s && s.events === 500);
    assert.ok(JSON.stringify(s).length < 1024, `noisy account state ${JSON.stringify(s).length} bytes`);
    const model = reg.state<{ ref: number[]; latest: number[] }>('behaviour-anomaly/model').get('global');
    assert.equal(model?.ref.length, rule.defaults.trees * nodesPerTree(rule.defaults.depth));
    assert.equal(model?.latest.length, model?.ref.length);
  });

  test('failed authentications and events without an account are ignored', () => {
    const reg = new StateRegistry();
    const evs = [makeEvent({ user: 'alice', outcome: 'failure' }), makeEvent({ user: null, device: 'x' })];
    assert.deepEqual(runRule(rule, evs, { registry: reg }), []);
    assert.equal(reg.state('behaviour-anomaly/account').size, 0);
  });

  test('defaults are valid config, equal the schema defaults, and unknown keys are rejected', () => {
    assert.ok(Value.Check(rule.configSchema, rule.defaults));
    assert.deepEqual(Value.Default(rule.configSchema, {}), rule.defaults);
    assert.equal(Value.Check(rule.configSchema, { ...rule.defaults, surprise: 1 }), false);
  });
});

describe('behaviour-anomaly features', () => {
  const fleet = { serviceAccounts: (s: string) => (s === 'wiki' ? 90 : 0), fleetAccounts: 100 };

  test('source networks: IPv4 /24, IPv6 /48 (compressed forms, mapped IPv4), junk → null', () => {
    assert.equal(sourceNetwork('10.1.2.3'), '10.1.2.0/24');
    assert.equal(sourceNetwork('2001:db8:abcd:12::1'), '2001:db8:abcd::/48');
    assert.equal(sourceNetwork('2001:DB8::1'), '2001:db8:0::/48');
    assert.equal(sourceNetwork('::1'), '0:0:0::/48');
    assert.equal(sourceNetwork('fe80::1%eth0'), 'fe80:0:0::/48');
    assert.equal(sourceNetwork('::ffff:192.0.2.44'), '192.0.2.0/24');
    for (const junk of ['10.1.2', '256.1.1.1', 'host.example', '1::2::3', '1:2:3:4:5:6:7:8:9', 'g::1', '']) {
      assert.equal(sourceNetwork(junk), null, junk);
    }
    assert.equal(sourceNetwork(null), null);
  });

  test('hour distance is circular: 23:00 is 2 h from a usual 01:00', () => {
    const hours = new Array<number>(24).fill(0);
    hours[1] = 50;
    hours[2] = 50;
    assert.equal(hoursFromUsual(hours, 23), 2);
    assert.equal(hoursFromUsual(hours, 2), 0);
    assert.equal(hoursFromUsual(hours, 13), 11);
    assert.equal(hoursFromUsual(new Array<number>(24).fill(0), 5), null);
  });

  test('unknown fields are neutral; known values score as documented', () => {
    const acc = newAccount(0);
    for (let i = 0; i < 20; i++) {
      learnEvent(
        acc,
        makeEvent({
          at: Date.parse('2026-01-05T09:00:00Z') + i * DAY,
          user: 'a',
          device: 'd1',
          source_ip: '10.0.0.5',
          service: 'wiki',
          bytes: 1024,
          tls: { ja4: 'j1' },
          geo: { country_iso_code: 'DE', city_name: 'Berlin', lat: 52.52, lon: 13.4 },
        }),
      );
    }
    const out = new Array<number>(DIMS).fill(-1);
    assert.deepEqual(
      computeFeatures(acc, makeEvent({ at: '2026-02-01T09:30:00Z', user: 'a' }), fleet, out),
      [0, 0, 0, 0, 0, 0, 0],
    );
    const usual = makeEvent({
      at: '2026-02-01T09:30:00Z',
      user: 'a',
      device: 'd1',
      source_ip: '10.0.0.77',
      service: 'wiki',
      bytes: 1024,
      tls: { ja4: 'j1' },
      geo: { country_iso_code: 'DE', city_name: 'Berlin', lat: 52.52, lon: 13.4 },
    });
    const x = computeFeatures(acc, usual, fleet, out);
    assert.equal(x[0], 0);
    assert.equal(x[1], 0);
    assert.equal(x[2], 0);
    assert.ok(x[3] > 0 && x[3] < 0.05, `service used 20 times by the account and by 90 % of the fleet: ${x[3]}`);
    assert.equal(x[4], 0);
    assert.equal(x[5], 0);
    assert.equal(x[6], 0);
    const odd = makeEvent({
      at: '2026-02-01T03:30:00Z',
      user: 'a',
      device: 'd2',
      source_ip: '2001:db8::1',
      service: 'vault',
      bytes: 1024 * 1024,
      tls: { ja4: 'j2' },
      geo: { country_iso_code: 'SG', city_name: 'Singapore', lat: 1.35, lon: 103.82 },
    });
    const y = computeFeatures(acc, odd, fleet, out);
    assert.equal(y[0], 1, '6 h from the usual 09:00');
    assert.equal(y[1], 1);
    assert.ok(y[2] > 0.85 && y[2] < 1, `≈ 9,900 km: ${y[2]}`);
    assert.equal(y[3], 1, 'new to the account and used by nobody');
    assert.equal(y[4], 1, '1024× the median');
    assert.equal(y[5], 1);
    assert.equal(y[6], 1);
    // A new service that most of the fleet uses counts half.
    assert.equal(
      computeFeatures(acc, makeEvent({ user: 'a', service: 'wiki' }), { ...fleet, serviceAccounts: () => 100 }, out)[3] < 0.05,
      true,
    );
    const fresh = newAccount(0);
    assert.equal(
      computeFeatures(
        fresh,
        makeEvent({ user: 'a', service: 'wiki' }),
        { serviceAccounts: () => 100, fleetAccounts: 100 },
        out,
      )[3],
      0.5,
    );
  });
});
