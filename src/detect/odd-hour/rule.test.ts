// odd-hour: maturity boundaries (events and days), the probability threshold, once per account per
// UTC day, failures ignored, and the profile carried across runs. Certificates come from the test PKI.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { Value } from 'typebox/value';
import { type EventInit, makeEvent, runRule } from '../../../tests/helpers/events.ts';
import { createRootCA, type TestCert } from '../../../tests/helpers/pki.ts';
import { StateRegistry } from '../state.ts';
import { type HourProfile, hourOfWeek, rule, smoothedProbability } from './rule.ts';

const MON = Date.parse('2026-01-05T00:00:00Z'); // a Monday
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
let cert: TestCert;

before(async () => {
  const ca = await createRootCA('CN=Corp Device CA, O=Example Corp');
  cert = await ca.issue({ subject: 'CN=alice, O=Example Corp' });
});

function ev(at: number, init: EventInit = {}) {
  return makeEvent({ cert, at, user: 'alice', device: 'lap-1', ...init });
}

/** `perDay` events between 09:00 and 16:00 UTC on each of `days` weekdays-or-not from MON. */
function office(daysN: number, perDay: number) {
  const out = [];
  for (let d = 0; d < daysN; d++)
    for (let i = 0; i < perDay; i++) out.push(ev(MON + d * DAY + 9 * HOUR + i * Math.floor((7 * HOUR) / perDay)));
  return out;
}

describe('odd-hour', () => {
  test('hour of week is Monday-based UTC', () => {
    assert.equal(hourOfWeek(MON), 0);
    assert.equal(hourOfWeek(MON + 3 * HOUR + 59 * 60_000), 3);
    assert.equal(hourOfWeek(MON - 1), 167);
  });

  test('the smoothed probabilities over the week sum to 1', () => {
    const hours = new Array<number>(168).fill(0);
    hours[10] = 7;
    hours[100] = 3;
    let sum = 0;
    for (let b = 0; b < 168; b++) sum += smoothedProbability(hours, 10, b, 2, 1, 0.5);
    assert.ok(Math.abs(sum - 1) < 1e-9);
  });

  test('a 03:00 UTC event after a mature office-hours profile (56 events over 7+ days) fires once that day', () => {
    const hist = office(8, 7); // 56 events, 7 days 6 h span
    const night = MON + 8 * DAY + 3 * HOUR;
    const signals = runRule(rule, [...hist, ev(night), ev(night + 10 * 60_000), ev(night + HOUR)]);
    assert.equal(signals.length, 1);
    const s = signals[0];
    assert.equal(s.rule, 'odd-hour');
    assert.equal(s.dedup_key, 'alice:2026-01-13');
    assert.equal(s.evidence.baseline, 'mature');
    assert.equal(s.evidence.hour_label, 'Tue 03:00 UTC');
    assert.equal(s.evidence.time_zone, 'UTC');
    assert.ok((s.evidence.probability as number) < 0.001);
    // The next day fires again (once per UTC day).
    assert.equal(runRule(rule, [...hist, ev(night), ev(night + DAY)]).length, 2);
  });

  test('an event within the usual hours stays quiet', () => {
    assert.deepEqual(runRule(rule, [...office(8, 7), ev(MON + 9 * DAY + 11 * HOUR)]), []);
  });

  test('maturity boundaries: 49 events, or a span under 7 days, stay quiet (baseline immature)', () => {
    const night = MON + 8 * DAY + 3 * HOUR;
    const h50 = office(8, 7).slice(0, 50); // span 7 days 1 h (the 50th is on day 7)
    assert.equal(runRule(rule, [...h50, ev(night)]).length, 1);
    assert.deepEqual(runRule(rule, [...h50.slice(0, 49), ev(night)]), []);
    const short = office(7, 8); // 56 events over 6 days + 6 h
    assert.deepEqual(runRule(rule, [...short, ev(night)]), []);
    const [s] = runRule(rule, [...short, ev(night)], { config: { immature_confidence: 0.3 } });
    assert.equal(s.confidence, 0.3);
    assert.equal(s.evidence.baseline, 'immature');
  });

  test('the probability threshold is strict: min_probability just above / below the observed value', () => {
    const night = MON + 8 * DAY + 3 * HOUR;
    const [s] = runRule(rule, [...office(8, 7), ev(night)]);
    const p = s.evidence.probability as number;
    assert.deepEqual(runRule(rule, [...office(8, 7), ev(night)], { config: { min_probability: p * 0.99 } }), []);
    assert.equal(runRule(rule, [...office(8, 7), ev(night)], { config: { min_probability: p * 1.01 } }).length, 1);
  });

  test('failed authentications and events without a user neither learn nor fire', () => {
    const night = MON + 8 * DAY + 3 * HOUR;
    assert.deepEqual(runRule(rule, [...office(8, 7), ev(night, { outcome: 'failure' }), ev(night, { user: null })]), []);
  });

  test('the profile carries across runs sharing a StateRegistry and stays bounded', () => {
    const registry = new StateRegistry();
    assert.deepEqual(runRule(rule, office(8, 7), { registry }), []);
    assert.equal(runRule(rule, [ev(MON + 8 * DAY + 3 * HOUR)], { registry }).length, 1);
    assert.deepEqual(runRule(rule, [ev(MON + 8 * DAY + 3 * HOUR)]), [], 'fresh state has no history');
    const s = registry.state<HourProfile>('odd-hour/account').get('alice');
    assert.ok(s);
    assert.equal(s.hours.length, 168);
    assert.deepEqual(JSON.parse(JSON.stringify(s)), s);
    const capped = new StateRegistry();
    runRule(rule, office(20, 10), { registry: capped, config: { max_history_events: 100 } });
    const c = capped.state<HourProfile>('odd-hour/account').get('alice');
    assert.ok(c && c.total < 100 && c.events === 200);
  });

  test('defaults are valid config, equal the schema defaults, and unknown keys are rejected', () => {
    assert.ok(Value.Check(rule.configSchema, rule.defaults));
    assert.deepEqual(Value.Default(rule.configSchema, {}), rule.defaults);
    assert.equal(Value.Check(rule.configSchema, { ...rule.defaults, surprise: 1 }), false);
  });
});
