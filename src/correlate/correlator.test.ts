import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Type } from 'typebox';
import { Value } from 'typebox/value';
import { makeEvent } from '../../tests/helpers/events.ts';
import { loadConfig } from '../config/config.ts';
import { RULES } from '../detect/registry.ts';
import { StateRegistry } from '../detect/state.ts';
import type { Rule } from '../detect/types.ts';
import { DetectionEngine } from '../pipeline/engine.ts';
import { ruleWeights } from '../pipeline/setup.ts';
import type { Alert } from '../schema/alert.ts';
import { type Incident, IncidentSchema } from '../schema/incident.ts';
import { Pseudonymiser } from '../sinks/pseudonymise.ts';
import { IncidentCorrelator } from './correlator.ts';
import { createCorrelator, incidentId } from './index.ts';

// The engine with the shipped default weights and policy, and stand-ins that fire under the real
// rule ids: an event whose `service` is `<rule>` or `<rule>.<variant>` raises that finding. The
// real rules need days of history to fire (new-device, impossible-travel); what is tested here is
// how their alerts combine, with exactly the weights and thresholds a user gets.
const CONFIG = loadConfig(undefined, { rules: RULES });
const IDS = [
  'new-device',
  'impossible-travel',
  'new-resource',
  'key-reuse',
  'tls-fingerprint-change',
  'untrusted-issuer',
  'subject-mismatch',
];
const standIns: Rule<{ enabled: boolean }>[] = IDS.map((id) => ({
  meta: { id, title: id, description: 'stand-in', default_weight: 0, references: [], false_positives: [] },
  configSchema: Type.Object({ enabled: Type.Boolean() }),
  defaults: { enabled: true },
  create() {
    return {
      observe(event, emit) {
        const [rule, variant] = (event.service ?? '').split('.');
        if (rule !== id) return;
        emit({
          rule: id,
          variant,
          summary: `${id} for ${event.user ?? event.device}`,
          dedup_key: `${event.time}|${event.user}|${event.device}`,
          event,
          evidence: {},
        });
      },
    };
  },
}));

function engine(): DetectionEngine {
  return new DetectionEngine({
    rules: standIns,
    ruleConfig: {},
    weights: ruleWeights(RULES, CONFIG.scoring.weights),
    risk: {
      correlation_window_minutes: CONFIG.scoring.correlation_window_minutes,
      decay_half_life_minutes: CONFIG.scoring.decay_half_life_minutes,
    },
    policy: { thresholds: CONFIG.scoring.thresholds, actions: CONFIG.scoring.actions },
    facts: { trustAnchorsConfigured: true, crlsConfigured: true, assetsConfigured: true, identitiesConfigured: true },
  });
}

const T0 = Date.parse('2026-03-02T09:00:00Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
const KEY_A = 'a'.repeat(64);
const KEY_B = 'b'.repeat(64);

interface Step {
  at: number;
  finding: string;
  user?: string;
  device?: string;
  key?: string;
}

/** Runs the steps through one engine; returns its alerts in event order. */
function alertsOf(steps: Step[], e = engine()): Alert[] {
  const out: Alert[] = [];
  for (const s of steps) {
    const event = makeEvent({
      at: s.at,
      user: s.user ?? null,
      device: s.device ?? null,
      service: s.finding,
      source_ip: '192.0.2.10',
    });
    if (s.key)
      event.certificate = { spki_sha256: s.key, sha256: s.key.replace(/./, 'f') } as unknown as NonNullable<
        typeof event.certificate
      >;
    out.push(...e.process(event));
  }
  return out;
}

function correlate(alerts: Alert[], watermark = Math.max(...alerts.map((a) => Date.parse(a.time)))): Incident[] {
  const c = createCorrelator(CONFIG);
  for (const a of alerts) c.add(a);
  return c.finish(watermark);
}

function valid(records: Incident[]): void {
  for (const r of records)
    assert.ok(
      Value.Check(IncidentSchema, r),
      `invalid incident: ${JSON.stringify([...Value.Errors(IncidentSchema, r)].slice(0, 3))}`,
    );
}

test('three weak alerts for one account within the window make one high incident, though each alone is low or medium', () => {
  const alerts = alertsOf([
    { at: T0, finding: 'new-device', user: 'alice', device: 'lt-new' },
    { at: T0 + 17 * MIN, finding: 'impossible-travel.account', user: 'alice', device: 'lt-new' },
    { at: T0 + 42 * MIN, finding: 'new-resource.sweep', user: 'alice', device: 'lt-new' },
  ]);
  assert.equal(alerts.length, 3);
  const weights = alerts.map((a) => (a.evidence.scoring as { weight: number }).weight);
  assert.deepEqual(weights, [30, 50, 40], 'the shipped default weights');
  const [incident] = correlate(alerts);
  valid([incident]);
  assert.equal(incident.alert_count, 3);
  assert.deepEqual(
    incident.alerts,
    alerts.map((a) => a.id),
  );
  assert.equal(incident.severity, 'high');
  assert.equal(incident.action, 'deny');
  // 30 → decayed over 17 min (half-life 6 h) + 50 → decayed over 25 min + 40
  const expected = (30 * 0.5 ** (17 / 360) + 50) * 0.5 ** (25 / 360) + 40;
  assert.ok(Math.abs(incident.score - expected) < 0.02, `${incident.score} vs ${expected}`);
  assert.deepEqual(incident.escalation, { strongest_alert: 'medium', incident: 'high', escalated: true });
  assert.deepEqual(incident.rules, ['new-device', 'impossible-travel', 'new-resource']);
  assert.deepEqual(incident.entity, { kind: 'user', id: 'alice' });
  assert.deepEqual(incident.entities, { users: ['alice'], devices: ['lt-new'], keys: [], source_ips: [] });
  assert.equal(incident.summary, '3 alerts for alice in 42 min: new-device, impossible-travel, new-resource');
  assert.equal(incident.first_time, new Date(T0).toISOString());
  assert.equal(incident.last_time, new Date(T0 + 42 * MIN).toISOString());
  assert.equal(incident.status, 'open');
});

test('a device links alerts scored for different entities: the incident is high while no alert record is above medium', () => {
  // The entity risk score cannot see this: each alert is scored for a different entity.
  const alerts = alertsOf([
    { at: T0, finding: 'tls-fingerprint-change.downgrade', device: 'kiosk-7' },
    { at: T0 + 5 * MIN, finding: 'untrusted-issuer.self-signed', user: 'bob', device: 'kiosk-7' },
    { at: T0 + 9 * MIN, finding: 'subject-mismatch.not-device-owner', user: 'carol', device: 'kiosk-7' },
  ]);
  assert.deepEqual(
    alerts.map((a) => a.severity),
    ['low', 'medium', 'low'],
  );
  const records = correlate(alerts);
  assert.equal(records.length, 1);
  const [incident] = records;
  assert.equal(incident.severity, 'high');
  assert.equal(incident.max_alert_severity, 'medium');
  assert.deepEqual(incident.entities.users, ['bob', 'carol']);
  assert.deepEqual(incident.entities.devices, ['kiosk-7']);
  assert.equal(incident.summary, '3 alerts for bob, carol in 9 min: tls-fingerprint-change, untrusted-issuer, subject-mismatch');
});

test('an alert beyond the correlation window opens a new incident; nothing of the old score carries over', () => {
  const window = CONFIG.scoring.correlation_window_minutes * MIN;
  const alerts = alertsOf([
    { at: T0, finding: 'impossible-travel.account', user: 'dave' },
    { at: T0 + 2 * HOUR, finding: 'new-device', user: 'dave', device: 'lt-x' },
    { at: T0 + 2 * HOUR + window + MIN, finding: 'untrusted-issuer.unknown-issuer', user: 'dave' },
  ]);
  const records = correlate(alerts);
  assert.equal(records.length, 2);
  assert.deepEqual(
    records.map((r) => r.alert_count),
    [2, 1],
  );
  assert.deepEqual(records[1].alerts, [alerts[2].id]);
  assert.equal(records[1].score, 50, 'only its own weight');
  assert.equal(records[0].status, 'closed', 'the window passed since its last alert');
  assert.equal(records[1].status, 'open');
  assert.equal(records[1].summary, '1 alert for dave: untrusted-issuer');
  assert.notEqual(records[0].id, records[1].id);
  // Exactly at the window's edge the alert still joins.
  const edge = correlate(
    alertsOf([
      { at: T0, finding: 'impossible-travel.account', user: 'erin' },
      { at: T0 + window, finding: 'new-device', user: 'erin', device: 'lt-y' },
    ]),
  );
  assert.equal(edge.length, 1);
});

test('decay: the same two alerts score less the further apart they are', () => {
  const score = (gapMinutes: number) =>
    correlate(
      alertsOf([
        { at: T0, finding: 'impossible-travel.account', user: 'fay' },
        { at: T0 + gapMinutes * MIN, finding: 'untrusted-issuer.unknown-issuer', user: 'fay' },
      ]),
    )[0];
  assert.equal(score(0).score, 100);
  assert.equal(score(0).severity, 'high');
  assert.equal(score(720).score, 62.5, 'two half-lives: 50 / 4 + 50');
  assert.equal(score(720).severity, 'medium');
  assert.equal(score(720).escalation.escalated, false);
});

test('a key-reuse alert linking two accounts merges their incidents into one (union-find), named after the earliest alert', () => {
  const alerts = alertsOf([
    { at: T0, finding: 'new-device', user: 'gina', device: 'lt-g', key: KEY_A },
    { at: T0 + 10 * MIN, finding: 'tls-fingerprint-change.new-fingerprint', user: 'hugo', device: 'lt-h', key: KEY_B },
    { at: T0 + 20 * MIN, finding: 'impossible-travel.account', user: 'hugo', device: 'lt-h', key: KEY_B },
    // hugo presents gina's key: links both incidents
    { at: T0 + 30 * MIN, finding: 'key-reuse.multi-subject', user: 'hugo', device: 'lt-h2', key: KEY_A },
  ]);
  // Before the link, two incidents.
  const before = correlate(alerts.slice(0, 3));
  assert.equal(before.length, 2);
  const hugoId = before.find((r) => r.entities.users.includes('hugo'))?.id as string;
  const records = correlate(alerts);
  valid(records);
  assert.equal(records.length, 1);
  const [incident] = records;
  assert.equal(incident.id, incidentId(alerts[0].id));
  assert.ok(hugoId && hugoId !== incident.id);
  assert.deepEqual(incident.merged, [], 'within one run only the final incident is ever emitted');
  assert.deepEqual(incident.entities.users, ['gina', 'hugo']);
  assert.deepEqual(incident.entities.keys, [KEY_A, KEY_B]);
  assert.deepEqual(
    incident.alerts,
    alerts.map((a) => a.id),
  );
  assert.equal(incident.severity, 'critical', '30 + 20 + 50 + 60, little decay within 30 min');
  // Sharing only an address links nothing (NAT, proxies).
  const apart = correlate(
    alertsOf([
      { at: T0, finding: 'new-device', user: 'ivan', device: 'lt-i' },
      { at: T0 + MIN, finding: 'new-device', user: 'jade', device: 'lt-j' },
    ]),
  );
  assert.equal(apart.length, 2);
});

test('incident ids are deterministic and do not depend on the order alerts arrive in', () => {
  const steps: Step[] = [
    { at: T0, finding: 'new-device', user: 'kim', device: 'lt-k' },
    { at: T0 + 3 * MIN, finding: 'impossible-travel.account', user: 'kim' },
    { at: T0 + 8 * MIN, finding: 'new-resource.sweep', user: 'kim' },
    { at: T0 + HOUR, finding: 'new-device', user: 'lou', device: 'lt-l' },
  ];
  const alerts = alertsOf(steps);
  const a = correlate(alerts);
  const b = correlate(alertsOf(steps));
  assert.deepEqual(a, b, 'same input, same records');
  for (const r of a) assert.match(r.id, /^ci-[0-9a-f]{24}$/);
  const shuffled = correlate([alerts[2], alerts[3], alerts[0], alerts[1]]);
  assert.deepEqual(
    shuffled.map((r) => [r.id, r.alerts, r.score]),
    a.map((r) => [r.id, r.alerts, r.score]),
  );
  assert.ok(shuffled.every((r) => r.merged.length === 0));
});

test('open incidents continue in the next run through the state: two runs give the records of one run', () => {
  const steps: Step[] = [
    { at: T0, finding: 'new-device', user: 'mia', device: 'lt-m', key: KEY_A },
    { at: T0 + 5 * HOUR, finding: 'impossible-travel.account', user: 'mia', key: KEY_A },
    { at: T0 + 6 * HOUR, finding: 'new-device', user: 'ned', device: 'lt-n', key: KEY_B },
    // next day
    { at: T0 + 20 * HOUR, finding: 'key-reuse.multi-subject', user: 'ned', key: KEY_A },
    { at: T0 + 60 * HOUR, finding: 'untrusted-issuer.self-signed', user: 'olga' },
  ];
  const alerts = alertsOf(steps);
  const watermark = T0 + 61 * HOUR;
  const whole = correlate(alerts, watermark);

  const registry = new StateRegistry();
  const day1 = createCorrelator(CONFIG, registry);
  for (const a of alerts.slice(0, 3)) day1.add(a);
  const first = day1.finish(T0 + 8 * HOUR);
  assert.equal(first.length, 2);
  assert.ok(first.every((r) => r.status === 'open'));
  // What the store keeps is JSON: round-trip it as SQLite would.
  const saved = new StateRegistry();
  for (const [ns, state] of registry.namespaces) saved.state(ns).preload(new Map(JSON.parse(JSON.stringify(state.takeDirty()))));
  const day2 = createCorrelator(CONFIG, saved);
  for (const a of alerts.slice(3)) day2.add(a);
  const second = day2.finish(watermark);

  // Day 2's key-reuse alert folded ned's incident (emitted open on day 1) into mia's: the record says so.
  const nedDay1 = first.find((r) => r.entities.users.includes('ned'))?.id as string;
  const miaDay2 = second.find((r) => r.entities.users.includes('mia'));
  assert.deepEqual(miaDay2?.merged, [nedDay1]);
  const latest = new Map<string, Incident>();
  for (const r of [...first, ...second]) latest.set(r.id, r);
  for (const r of second) for (const gone of r.merged) latest.delete(gone);
  const comparable = (list: Incident[]) => list.map((r) => ({ ...r, merged: [] })).sort((x, y) => (x.id < y.id ? -1 : 1));
  assert.deepEqual(comparable([...latest.values()]), comparable(whole));
  assert.equal(whole.length, 2);
  assert.equal(whole[0].status, 'closed');
});

test('an incident carried over from an earlier run is emitted again when it closes, and dropped from the state', () => {
  const registry = new StateRegistry();
  const c1 = createCorrelator(CONFIG, registry);
  for (const a of alertsOf([{ at: T0, finding: 'new-device', user: 'pia', device: 'lt-p' }])) c1.add(a);
  const [open] = c1.finish(T0);
  assert.equal(open.status, 'open');
  const state = registry.state('correlate/incidents');
  assert.ok(state.get('open'));
  const c2 = createCorrelator(CONFIG, registry);
  const again = c2.finish(T0 + 2 * CONFIG.scoring.correlation_window_minutes * MIN);
  assert.deepEqual(
    again.map((r) => [r.id, r.status]),
    [[open.id, 'closed']],
  );
  assert.equal(state.get('open'), undefined);
  const c3 = createCorrelator(CONFIG, registry);
  assert.deepEqual(c3.finish(T0 + 3 * CONFIG.scoring.correlation_window_minutes * MIN), [], 'nothing is emitted twice as closed');
  // Without a state nothing is carried at all.
  assert.deepEqual(
    new IncidentCorrelator({
      risk: { correlation_window_minutes: 60, decay_half_life_minutes: 30 },
      policy: { thresholds: CONFIG.scoring.thresholds, actions: CONFIG.scoring.actions },
    }).finish(T0),
    [],
  );
});

test('pseudonymisation replaces the accounts and devices of an incident, keeping ids, keys and structure', () => {
  const alerts = alertsOf([
    { at: T0, finding: 'new-device', user: 'quinn.baker', device: 'lt-quinn', key: KEY_A },
    { at: T0 + MIN, finding: 'key-reuse.multi-subject', user: 'rosa.diaz', device: 'lt-rosa', key: KEY_A },
  ]);
  const [incident] = correlate(alerts);
  const p = new Pseudonymiser('incident-test-key-0123456789');
  const anon = p.incident(incident);
  const text = JSON.stringify(anon);
  for (const name of ['quinn.baker', 'rosa.diaz', 'lt-quinn', 'lt-rosa'])
    assert.ok(!text.includes(name), `${name} still visible`);
  assert.deepEqual(anon.entities.users, [p.token('quinn.baker'), p.token('rosa.diaz')]);
  assert.deepEqual(anon.entity, { kind: 'user', id: p.token('quinn.baker') });
  assert.equal(anon.summary, `2 alerts for ${p.token('quinn.baker')}, ${p.token('rosa.diaz')} in 1 min: new-device, key-reuse`);
  assert.equal(anon.id, incident.id);
  assert.deepEqual(anon.alerts, incident.alerts);
  assert.deepEqual(anon.entities.keys, [KEY_A]);
  // The same token as the alert records get, so both stay correlatable.
  assert.equal(p.alert(alerts[0]).user, anon.entities.users[0]);
  valid([anon]);
});
