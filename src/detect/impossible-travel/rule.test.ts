// impossible-travel: the speed (899 vs 901 km/h) and distance (499 vs 501 km) boundaries, events
// without a usable location, the first event, the simulator's benign flight, known places
// (familiar to the account, or organisation places), the key variant across accounts, one
// finding per pair of uses, and the last place carried across runs. Certificates come from the
// test PKI.

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { Value } from 'typebox/value';
import { type EventInit, makeEvent, runRule } from '../../../tests/helpers/events.ts';
import { createRootCA, type TestCert } from '../../../tests/helpers/pki.ts';
import type { Geo } from '../../schema/event.ts';
import { StateRegistry } from '../state.ts';
import { haversineKm, PLACES_PER_ENTITY, placeCell, rule as realRule, type TravelState } from './rule.ts';

// These tests exercise the travel logic itself, so the cold-start wait is off here; the test
// 'cold start' below checks it with the real defaults.
const rule = { ...realRule, defaults: { ...realRule.defaults, min_history_hours: 0 } };

/** The finding key: entity, the unordered pair of places and the UTC day of the later use. */
function findingKey(variant: string, id: string, a: Geo, b: Geo, ts: number): string {
  const cells = [placeCell(a.lat as number, a.lon as number), placeCell(b.lat as number, b.lon as number)].sort().join('|');
  return `${variant}:${id}:${cells}:${Math.floor(ts / 86_400_000)}`;
}

const BASE = Date.parse('2026-01-05T09:00:00Z');
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const NEW_YORK: Geo = { country_iso_code: 'US', city_name: 'New York', lat: 40.7128, lon: -74.006 };
const AUSTIN: Geo = { country_iso_code: 'US', city_name: 'Austin', lat: 30.2672, lon: -97.7431 };
const MUNICH: Geo = { country_iso_code: 'DE', city_name: 'Munich', lat: 48.1372, lon: 11.5756 };
const SINGAPORE: Geo = { country_iso_code: 'SG', city_name: 'Singapore', lat: 1.3521, lon: 103.8198 };

let aliceCert: TestCert;

before(async () => {
  const ca = await createRootCA('CN=Corp Device CA, O=Example Corp');
  aliceCert = await ca.issue({ subject: 'CN=alice, O=Example Corp' });
});

function ev(at: number, geo: Geo | null, init: EventInit = {}) {
  return makeEvent({ cert: aliceCert, at, user: 'alice', device: 'lap-1', source_ip: '192.0.2.10', geo, ...init });
}

/** A point `km` north of (10, 20) along the meridian. */
function northOf(km: number): Geo {
  return { country_iso_code: null, city_name: null, lat: 10 + (km / 6371.0088) * (180 / Math.PI), lon: 20 };
}
const ORIGIN: Geo = { country_iso_code: null, city_name: null, lat: 10, lon: 20 };

describe('impossible-travel', () => {
  test('haversine distance matches known city distances', () => {
    assert.ok(
      Math.abs(haversineKm(NEW_YORK.lat as number, NEW_YORK.lon as number, AUSTIN.lat as number, AUSTIN.lon as number) - 2432) <
        2,
    );
    assert.ok(Math.abs(haversineKm(40.7128, -74.006, 51.5072, -0.1276) - 5570) < 5);
    assert.equal(haversineKm(1, 2, 1, 2), 0);
    assert.ok(Math.abs(haversineKm(10, 20, northOf(501).lat as number, 20) - 501) < 1e-6);
  });

  test('speed boundary: 901 km/h fires with both places, distance, gap and speed in evidence; 899 km/h does not', () => {
    const d = haversineKm(NEW_YORK.lat as number, NEW_YORK.lon as number, SINGAPORE.lat as number, SINGAPORE.lon as number);
    const fast = [
      ev(BASE, NEW_YORK, { source_ip: '192.0.2.10' }),
      ev(BASE + Math.round((d / 901) * HOUR), SINGAPORE, { source_ip: '198.19.223.9' }),
    ];
    const signals = runRule(rule, fast);
    assert.equal(signals.length, 1);
    const s = signals[0];
    assert.equal(s.variant, 'account');
    assert.equal(s.event, fast[1]);
    assert.equal(s.dedup_key, findingKey('account', 'alice', NEW_YORK, SINGAPORE, fast[1].ts));
    assert.equal(s.evidence.speed_kmh, 901);
    assert.equal(s.evidence.distance_km, Math.round(d * 10) / 10);
    assert.equal(s.evidence.gap_minutes, Math.round(((fast[1].ts - fast[0].ts) / MINUTE) * 10) / 10);
    const from = s.evidence.from as Record<string, unknown>;
    const to = s.evidence.to as Record<string, unknown>;
    assert.deepEqual(
      [from.city, from.country, from.ip, from.time, from.known_place],
      ['New York', 'US', '192.0.2.10', fast[0].time, null],
    );
    assert.deepEqual([to.city, to.lat, to.lon, to.ip], ['Singapore', 1.3521, 103.8198, '198.19.223.9']);
    assert.equal(s.evidence.key_kind, 'spki_sha256');
    assert.match(
      s.summary,
      /alice: New York \(US\) → Singapore \(SG\), \d+ km in [\d.]+ min = 901 km\/h \(threshold > 900 km\/h, ≥ 500 km\)/,
    );
    const slow = [ev(BASE, NEW_YORK), ev(BASE + Math.round((d / 899) * HOUR), SINGAPORE)];
    assert.deepEqual(runRule(rule, slow), []);
  });

  test('distance floor: 501 km in one minute fires, 499 km does not', () => {
    assert.equal(runRule(rule, [ev(BASE, ORIGIN), ev(BASE + MINUTE, northOf(501))]).length, 1);
    assert.deepEqual(runRule(rule, [ev(BASE, ORIGIN), ev(BASE + MINUTE, northOf(499))]), []);
  });

  test('the first located event, events without geo and unusable points never fire nor move the last place', () => {
    assert.deepEqual(runRule(rule, [ev(BASE, SINGAPORE)]), []);
    const unknown = { country_iso_code: 'SG', city_name: 'Singapore', lat: null, lon: null };
    const events = [
      ev(BASE, NEW_YORK),
      ev(BASE + MINUTE, null),
      ev(BASE + 2 * MINUTE, unknown),
      ev(BASE + 3 * MINUTE, { country_iso_code: null, city_name: null, lat: 0, lon: 0 }),
      ev(BASE + 4 * MINUTE, { country_iso_code: null, city_name: null, lat: 95, lon: 10 }),
      ev(BASE + 5 * MINUTE, NEW_YORK),
    ];
    assert.deepEqual(runRule(rule, events), []);
    // A located event after the unknown ones is still compared with New York.
    const [s] = runRule(rule, [...events, ev(BASE + 30 * MINUTE, SINGAPORE)]);
    assert.equal((s.evidence.from as { time: string }).time, events[5].time);
  });

  test("the simulator's benign travel (New York → Munich, 6,488 km, 10 h door to door) does not fire; the same trip in 5 h does", () => {
    const flight = Math.round((6488 / 800 + 2) * HOUR);
    const trip = [
      ev(BASE, NEW_YORK),
      ev(BASE + HOUR, NEW_YORK),
      ev(BASE + HOUR + flight, MUNICH, { source_ip: '198.19.201.7' }),
      ev(BASE + 2 * HOUR + flight, MUNICH),
    ];
    assert.deepEqual(runRule(rule, trip), []);
    assert.equal(runRule(rule, [ev(BASE, NEW_YORK), ev(BASE + 5 * HOUR, MUNICH)]).length, 1);
  });

  test('a gap longer than max_gap_minutes is not compared; same-instant uses fire as simultaneous', () => {
    assert.deepEqual(
      runRule(rule, [ev(BASE, ORIGIN), ev(BASE + 2 * HOUR, northOf(5000))], {
        config: { max_gap_minutes: 90, max_speed_kmh: 100 },
      }),
      [],
    );
    assert.equal(
      runRule(rule, [ev(BASE, ORIGIN), ev(BASE + 89 * MINUTE, northOf(5000))], {
        config: { max_gap_minutes: 90, max_speed_kmh: 100 },
      }).length,
      1,
    );
    const [s] = runRule(rule, [ev(BASE, NEW_YORK), ev(BASE, SINGAPORE)]);
    assert.equal(s.evidence.speed_kmh, null);
    assert.equal(s.evidence.simultaneous, true);
    assert.match(s.summary, /at the same instant/);
  });

  test("the intruder's later uses from the same place do not signal; the owner coming back does, as the same finding (same places, same day)", () => {
    const events = [
      ev(BASE, NEW_YORK),
      ev(BASE + 20 * MINUTE, SINGAPORE),
      ev(BASE + 40 * MINUTE, SINGAPORE),
      ev(BASE + 60 * MINUTE, NEW_YORK),
    ];
    const signals = runRule(rule, events);
    assert.deepEqual(
      signals.map((s) => s.event),
      [events[1], events[3]],
    );
    const key = findingKey('account', 'alice', NEW_YORK, SINGAPORE, events[1].ts);
    assert.deepEqual(
      signals.map((s) => s.dedup_key),
      [key, key],
    );
    const tomorrow = (Math.floor(BASE / DAY) + 1) * DAY;
    const nextDay = runRule(rule, [...events, ev(tomorrow + 10 * MINUTE, SINGAPORE), ev(tomorrow + 30 * MINUTE, NEW_YORK)]);
    assert.notEqual(nextDay.at(-1)?.dedup_key, key, 'the same trip on another day is a new finding');
    assert.deepEqual(
      runRule(rule, [ev(BASE, NEW_YORK), ev(BASE + 20 * MINUTE, SINGAPORE, { outcome: 'failure' })]),
      [],
      'failures are ignored',
    );
  });

  test('key variant: the same key used by another account far away fires once as key; the same user with the same key is one account signal', () => {
    const events = [ev(BASE, NEW_YORK), ev(BASE + 30 * MINUTE, SINGAPORE, { user: 'bob', device: 'dev-evil' })];
    const signals = runRule(rule, events);
    assert.equal(signals.length, 1);
    const s = signals[0];
    assert.equal(s.variant, 'key');
    const spki = events[0].certificate?.spki_sha256 as string;
    assert.equal(s.dedup_key, findingKey('key', spki, NEW_YORK, SINGAPORE, events[1].ts));
    assert.deepEqual(s.evidence.accounts, ['alice', 'bob']);
    assert.equal(s.evidence.key, spki);
    assert.match(s.summary, /accounts alice → bob/);
    // No account at all on the far use: still the key.
    assert.equal(runRule(rule, [ev(BASE, NEW_YORK), ev(BASE + 30 * MINUTE, SINGAPORE, { user: null })])[0].variant, 'key');
    assert.deepEqual(
      runRule(rule, [ev(BASE, NEW_YORK), ev(BASE + 30 * MINUTE, SINGAPORE)]).map((x) => x.variant),
      ['account'],
    );
  });

  test('places familiar to the account (used on 2+ days) do not fire between each other; a new place still does', () => {
    const events = [];
    // Office in New York and home in Austin on days 0 and 1 (the first alternation fires).
    for (let day = 0; day < 2; day++) events.push(ev(BASE + day * DAY, NEW_YORK), ev(BASE + day * DAY + HOUR, AUSTIN));
    // Before the places are familiar each hop New York → Austin in 1 h fires (the way back takes 23 h).
    assert.equal(runRule(rule, events).length, 2);
    const registry = new StateRegistry();
    runRule(rule, events, { registry });
    assert.deepEqual(runRule(rule, [ev(BASE + 2 * DAY, NEW_YORK), ev(BASE + 2 * DAY + HOUR, AUSTIN)], { registry }), []);
    const [s] = runRule(rule, [ev(BASE + 2 * DAY + 2 * HOUR, SINGAPORE)], { registry });
    assert.equal((s.evidence.from as { known_place: unknown }).known_place, 'familiar');
    assert.equal((s.evidence.to as { known_place: unknown }).known_place, null);
    const strict = { familiar_place_min_days: 0, org_place_min_accounts: 0 };
    assert.equal(
      runRule(rule, [...events, ev(BASE + 2 * DAY, NEW_YORK), ev(BASE + 2 * DAY + HOUR, AUSTIN)], { config: strict }).length,
      3,
    );
  });

  test('organisation places (used by 10+ accounts) do not fire between each other; with the setting at 0 they do', () => {
    const colleagues = [];
    for (let i = 0; i < 10; i++)
      colleagues.push(ev(BASE + i, NEW_YORK, { user: `u${i}`, cert: null }), ev(BASE + i, AUSTIN, { user: `v${i}`, cert: null }));
    // Austin has 10 accounts, New York 10 + alice's first use.
    const alice = [ev(BASE + HOUR, NEW_YORK), ev(BASE + HOUR + 30 * MINUTE, AUSTIN)];
    assert.deepEqual(runRule(rule, [...colleagues, ...alice]), []);
    assert.equal(runRule(rule, [...colleagues, ...alice], { config: { org_place_min_accounts: 0 } }).length, 1);
    // Nine colleagues are not enough.
    assert.equal(runRule(rule, [...colleagues.slice(2), ...alice]).length, 1);
    const [s] = runRule(rule, [...colleagues, ev(BASE + HOUR, NEW_YORK), ev(BASE + HOUR + 30 * MINUTE, SINGAPORE)]);
    assert.equal((s.evidence.from as { known_place: unknown }).known_place, 'organisation');
  });

  test('the last place carries across runs sharing a StateRegistry; state is plain JSON and bounded', () => {
    const registry = new StateRegistry();
    assert.deepEqual(runRule(rule, [ev(BASE, NEW_YORK)], { registry }), []);
    assert.equal(runRule(rule, [ev(BASE + HOUR, SINGAPORE)], { registry }).length, 1);
    assert.deepEqual(runRule(rule, [ev(BASE + HOUR, SINGAPORE)]), [], 'a fresh state has no last place');
    const s = registry.state<TravelState>('impossible-travel/account').get('alice');
    assert.ok(s);
    assert.equal(s.last.city, 'Singapore');
    assert.deepEqual(JSON.parse(JSON.stringify(s)), s);
    const wander = new StateRegistry();
    const many = [];
    for (let i = 0; i < 50; i++)
      many.push(ev(BASE + i * DAY, { country_iso_code: null, city_name: null, lat: -40 + i, lon: 10 }));
    runRule(rule, many, { registry: wander });
    const w = wander.state<TravelState>('impossible-travel/account').get('alice');
    assert.equal(w?.size, PLACES_PER_ENTITY);
    assert.equal(Object.keys(w?.places ?? {}).length, PLACES_PER_ENTITY);
    const org = wander.state<string[]>('impossible-travel/place');
    assert.deepEqual(org.get('9,10'), ['alice']);
  });

  test('defaults are valid config, equal the schema defaults, and unknown keys are rejected', () => {
    assert.equal(realRule.meta.id, 'impossible-travel');
    assert.ok(Value.Check(realRule.configSchema, realRule.defaults));
    assert.deepEqual(Value.Default(realRule.configSchema, {}), realRule.defaults);
    assert.equal(Value.Check(realRule.configSchema, { ...realRule.defaults, surprise: 1 }), false);
  });
});

test('cold start: an account seen for less than min_history_hours learns silently, then fires', () => {
  const early = [ev(BASE, NEW_YORK), ev(BASE + 30 * MINUTE, SINGAPORE)];
  assert.deepEqual(runRule(realRule, early), [], 'first day: no history to judge against');
  const later = [ev(BASE, NEW_YORK), ev(BASE + 25 * HOUR, NEW_YORK), ev(BASE + 25 * HOUR + 30 * MINUTE, SINGAPORE)];
  assert.equal(runRule(realRule, later).length, 1);
});

test('a flip-flop between the same two places on one day is one finding (one dedup key)', () => {
  const flips = [
    ev(BASE, NEW_YORK),
    ev(BASE + 20 * MINUTE, SINGAPORE),
    ev(BASE + 40 * MINUTE, NEW_YORK),
    ev(BASE + 60 * MINUTE, SINGAPORE),
  ];
  const keys = new Set(runRule(rule, flips).map((s) => s.dedup_key));
  assert.equal(keys.size, 1);
});
