// issuance-without-enrollment: the seed 002 attack (certificates issued to a device that never
// enrolled) fires; enrolled devices, re-enrollment, an enrollment logged within the grace period
// after the issuance (even in a later-read file), automation issuers, renewals and the cold start
// (no enrollment data at all) stay quiet. Issued certificates come from the test PKI.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { Value } from 'typebox/value';
import { type EventInit, makeEvent, runRule } from '../../../tests/helpers/events.ts';
import { createRootCA, type TestCert } from '../../../tests/helpers/pki.ts';
import type { CaRecord, NormalizedEvent } from '../../schema/event.ts';
import { StateRegistry } from '../state.ts';
import type { RuleContext, Signal } from '../types.ts';
import { type EnrollmentTimes, rule } from './rule.ts';

const BASE = Date.parse('2026-01-05T09:00:00Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

let deviceCert: TestCert;
let automationCert: TestCert;
/** The issuer as normalize writes it (RFC 4514, most specific RDN first as encoded by the test PKI). */
const DEVICE_CA = 'O=Example Corp,CN=Corp Device CA';

before(async () => {
  const ca = await createRootCA('CN=Corp Device CA, O=Example Corp');
  const bot = await createRootCA('CN=Workload Automation CA, O=Example Corp');
  deviceCert = await ca.issue({ subject: 'CN=lap-7, O=Example Corp', dns: ['lap-7.corp.example'] });
  automationCert = await bot.issue({ subject: 'CN=payments-api, O=Example Corp' });
});

function caRecord(over: Partial<CaRecord> = {}): CaRecord {
  return {
    ca: 'corp-issuing-ca',
    requester: 'scep-connector',
    template: 'DeviceAuth',
    request_id: '42',
    operation: 'sign',
    requested_san: [],
    reason: null,
    ...over,
  };
}

function issued(at: number, device: string | null, init: EventInit = {}): NormalizedEvent {
  return makeEvent({ kind: 'issuance', cert: deviceCert, at, device, user: 'alice', ca: caRecord(), ...init });
}

function enrolled(at: number, device: string | null, action = 'enrolled', init: EventInit = {}): NormalizedEvent {
  return makeEvent({
    kind: 'enrollment',
    at,
    device,
    user: 'alice',
    enrollment: { action, mdm: 'Intune', platform: 'windows', serial: null },
    ...init,
  });
}

/** Some other device's enrollment: enrollment data exists, but not for the device under test. */
const otherEnrollment = () => enrolled(BASE - 3 * DAY, 'lap-other', 'enrolled', { user: 'bob' });

describe('issuance-without-enrollment', () => {
  test('seed 002: a certificate issued to a never-enrolled device fires after the grace period, with the issuance and window in evidence', () => {
    const events = [
      otherEnrollment(),
      enrolled(BASE - 2 * DAY, 'lap-1'),
      issued(BASE, 'dev-evil'),
      issued(BASE + 20 * MIN, 'lap-1'),
    ];
    const signals = runRule(rule, events);
    assert.equal(signals.length, 1);
    const s = signals[0];
    assert.equal(s.rule, 'issuance-without-enrollment');
    assert.equal(s.event, events[2]);
    assert.equal(s.confidence, undefined);
    assert.equal(s.dedup_key, `device:dev-evil:${new Date(BASE).toISOString()}`);
    assert.deepEqual(s.evidence.subject, { kind: 'device', id: 'dev-evil' });
    const iss = s.evidence.issuance as Record<string, unknown>;
    assert.equal(iss.serial, deviceCert.serial);
    assert.equal(iss.issuer, DEVICE_CA);
    assert.equal(iss.requester, 'scep-connector');
    assert.equal(iss.template, 'DeviceAuth');
    assert.equal(iss.ca, 'corp-issuing-ca');
    assert.equal(s.evidence.nearest_enrollment, null);
    // alice's own laptop is enrolled: evidence says so (her account, not the device, is vouched for).
    assert.deepEqual(s.evidence.user_nearest_enrollment, {
      user: 'alice',
      time: new Date(BASE - 2 * DAY).toISOString(),
      in_window: true,
    });
    assert.deepEqual(s.evidence.window, {
      from: new Date(BASE - 30 * DAY).toISOString(),
      to: new Date(BASE + 15 * MIN).toISOString(),
      lookback_days: 30,
      grace_minutes: 15,
    });
    assert.equal(s.evidence.grace_elapsed, true);
    assert.match(
      s.summary,
      /certificate issued to device dev-evil \(requested by scep-connector\) with no MDM enrollment within 30 days before or 15 min after; no enrollment of the device ever seen/,
    );
  });

  test('a device enrolled before the issuance (within 30 days) stays quiet; 30 days + 1 ms before fires, with how far outside', () => {
    assert.deepEqual(runRule(rule, [enrolled(BASE - 30 * DAY, 'lap-7'), issued(BASE, 'lap-7')]), []);
    const [s] = runRule(rule, [enrolled(BASE - 30 * DAY - 1, 'lap-7'), issued(BASE, 'lap-7')]);
    assert.ok(s);
    assert.deepEqual(s.evidence.nearest_enrollment, {
      time: new Date(BASE - 30 * DAY - 1).toISOString(),
      outside_window_minutes: 0,
      position: 'before',
    });
    const [far] = runRule(rule, [enrolled(BASE - 40 * DAY, 'lap-7'), issued(BASE, 'lap-7')]);
    assert.equal((far.evidence.nearest_enrollment as { outside_window_minutes: number }).outside_window_minutes, 10 * 24 * 60);
    assert.match(far.summary, /nearest enrollment .* \(10 days outside the window\)/);
    assert.deepEqual(
      runRule(rule, [enrolled(BASE - 40 * DAY, 'lap-7'), issued(BASE, 'lap-7')], { config: { lookback_days: 45 } }),
      [],
    );
  });

  test('re-enrollment: a device enrolled long ago that re-enrolls right before its new certificate stays quiet; an unenrollment does not count', () => {
    assert.deepEqual(
      runRule(rule, [
        enrolled(BASE - 200 * DAY, 'lap-7'),
        enrolled(BASE - 5 * MIN, 'lap-7', 're-enrolled'),
        issued(BASE, 'lap-7'),
      ]),
      [],
    );
    const wiped = runRule(rule, [otherEnrollment(), enrolled(BASE - 5 * MIN, 'lap-7', 'Wiped'), issued(BASE, 'lap-7')]);
    assert.equal(wiped.length, 1, 'a wipe is not an enrollment');
  });

  test('an enrollment logged within the grace period after the issuance (read later, from another file) settles it; one after the grace fires', () => {
    // Interleaved input: the CA record comes first, the MDM record 10 min later.
    assert.deepEqual(
      runRule(rule, [
        otherEnrollment(),
        issued(BASE, 'lap-7'),
        enrolled(BASE + 10 * MIN, 'lap-7'),
        issued(BASE + HOUR, 'lap-9', { user: 'carol' }),
        enrolled(BASE + HOUR, 'lap-9'),
      ]),
      [],
    );
    // An MDM record timed before the issuance but read after it (a later file) counts too.
    assert.deepEqual(runRule(rule, [otherEnrollment(), issued(BASE, 'lap-7'), enrolled(BASE - 2 * HOUR, 'lap-7')]), []);
    // 16 min after: outside the grace period.
    const late = runRule(rule, [otherEnrollment(), issued(BASE, 'lap-7'), enrolled(BASE + 16 * MIN, 'lap-7')]);
    assert.equal(late.length, 1);
    assert.deepEqual(late[0].evidence.nearest_enrollment, {
      time: new Date(BASE + 16 * MIN).toISOString(),
      outside_window_minutes: 1,
      position: 'after',
    });
  });

  test('input ending inside the grace period: decided at finish, at lower confidence, and evidence says so', () => {
    const signals = runRule(rule, [
      otherEnrollment(),
      issued(BASE, 'dev-evil'),
      makeEvent({ kind: 'issuance', at: BASE + 5 * MIN, device: null, user: null, ca: caRecord() }),
    ]);
    assert.equal(signals.length, 1);
    assert.equal(signals[0].confidence, 0.5);
    assert.equal(signals[0].evidence.grace_elapsed, false);
    assert.match(
      String(signals[0].evidence.grace_note),
      /input ended 5 min after the issuance, before the 15 min grace period elapsed/,
    );
    assert.deepEqual(
      runRule(rule, [otherEnrollment(), issued(BASE, 'dev-evil')], { config: { unelapsed_grace_confidence: 0 } }),
      [],
    );
  });

  test('cold start: with no enrollment event at all the rule stays quiet and says so once, naming the count', () => {
    const events = [issued(BASE, 'dev-1'), issued(BASE + HOUR, 'dev-2'), issued(BASE + 2 * HOUR, 'dev-3')];
    assert.deepEqual(runRule(rule, events), []);
    const notes: [string, string][] = [];
    const registry = new StateRegistry();
    const ctx: RuleContext = {
      state: <T>(name: string) => registry.state<T>(`issuance-without-enrollment/${name}`),
      facts: { trustAnchorsConfigured: false, crlsConfigured: false, assetsConfigured: false, identitiesConfigured: false },
      note: (reason, message) => notes.push([reason, message]),
    };
    const instance = rule.create(rule.defaults, ctx);
    const out: Signal[] = [];
    for (const e of events) instance.observe(e, (s) => out.push(s));
    instance.finish?.((s) => out.push(s));
    assert.deepEqual(out, []);
    assert.equal(notes.length, 1);
    assert.equal(notes[0][0], 'no-enrollment-data');
    assert.match(notes[0][1], /^3 issuance\(s\) not checked: no MDM\/enrollment event in this run or in saved state/);
  });

  test('enrollment data from an earlier run (saved state) is enough to judge', () => {
    const registry = new StateRegistry();
    assert.deepEqual(runRule(rule, [enrolled(BASE - DAY, 'lap-1')], { registry }), []);
    assert.equal(runRule(rule, [issued(BASE, 'dev-evil'), issued(BASE + HOUR, 'lap-1')], { registry }).length, 1);
    const times = registry.state<EnrollmentTimes>('issuance-without-enrollment/device').get('lap-1');
    assert.deepEqual(times, [BASE - DAY]);
  });

  test('automation issuers (exempt_issuers, matched as DNs) and renewals are never checked', () => {
    const bot = makeEvent({
      kind: 'issuance',
      cert: automationCert,
      at: BASE,
      device: 'k8s-node-3',
      ca: caRecord({ requester: 'vault-token' }),
    });
    const events = [otherEnrollment(), bot, issued(BASE + HOUR, null, { user: 'bob' })];
    assert.equal(runRule(rule, events).length, 1, 'not exempt: the workload certificate fires');
    assert.deepEqual(runRule(rule, events, { config: { exempt_issuers: ['o=example corp, CN=Workload  Automation CA'] } }), []);
    const renewal = issued(BASE, 'lap-7', { ca: caRecord({ operation: 'Renew' }) });
    assert.deepEqual(runRule(rule, [otherEnrollment(), renewal, issued(BASE + HOUR, null, { user: 'bob' })]), []);
  });

  test('without a device the issuance is matched by user (DOMAIN\\ and @realm ignored); with a device, only the device counts', () => {
    const userCert = (at: number, user: string) => makeEvent({ kind: 'issuance', at, user, device: null, ca: caRecord() });
    assert.deepEqual(
      runRule(rule, [
        enrolled(BASE - DAY, 'lap-1', 'enrolled', { user: 'CORP\\Alice' }),
        userCert(BASE, 'alice@corp.example'),
        userCert(BASE + HOUR, 'alice'),
      ]),
      [],
    );
    const [s] = runRule(rule, [otherEnrollment(), userCert(BASE, 'dave'), userCert(BASE + HOUR, 'bob')]);
    assert.deepEqual(s.evidence.subject, { kind: 'user', id: 'dave' });
    // alice enrolled lap-1, but the certificate went to dev-evil: fires.
    assert.equal(
      runRule(rule, [enrolled(BASE - DAY, 'lap-1'), issued(BASE, 'dev-evil'), issued(BASE + HOUR, 'lap-1')]).length,
      1,
    );
    // The MDM's hardware serial stands for the device id too.
    const bySerial = enrolled(BASE - DAY, 'MDM-0042', 'enrolled', {
      enrollment: { action: 'enrolled', mdm: 'Jamf', platform: 'macos', serial: 'C02XK1' },
    });
    assert.deepEqual(runRule(rule, [bySerial, issued(BASE, 'c02xk1'), issued(BASE + HOUR, 'MDM-0042')]), []);
  });

  test('several unmatched issuances for one device give one signal within repeat_after_hours; denied ones are ignored', () => {
    const events = [otherEnrollment()];
    for (let i = 0; i < 4; i++) events.push(issued(BASE + i * 10 * MIN, 'dev-evil'));
    events.push(issued(BASE + 2 * HOUR, null, { user: 'bob' }));
    const signals = runRule(rule, events).filter((s) => (s.evidence.subject as { id: string }).id === 'dev-evil');
    assert.equal(signals.length, 1);
    assert.equal(signals[0].event, events[1]);
    assert.deepEqual(
      runRule(rule, [
        otherEnrollment(),
        issued(BASE, 'dev-evil', { outcome: 'failure' }),
        issued(BASE + HOUR, null, { user: 'bob' }),
      ]).filter((s) => (s.evidence.subject as { id: string }).id === 'dev-evil'),
      [],
    );
  });

  test('state is bounded: enrollment times per subject are capped, the pending list overflows into early decisions', () => {
    const registry = new StateRegistry();
    const many = [];
    for (let i = 0; i < 20; i++) many.push(enrolled(BASE - i * DAY, 'lap-7'));
    runRule(rule, many, { registry, config: { max_enrollments_per_subject: 4 } });
    const times = registry.state<EnrollmentTimes>('issuance-without-enrollment/device').get('lap-7');
    assert.deepEqual(times, [BASE - 3 * DAY, BASE - 2 * DAY, BASE - DAY, BASE]);
    const burst = [otherEnrollment(), issued(BASE, 'dev-a'), issued(BASE + 1, 'dev-b'), issued(BASE + 2, 'dev-c')];
    const early = runRule(rule, burst, { config: { max_pending: 2 } });
    assert.equal(early.length, 3);
    assert.match(String(early[0].evidence.decided_early), /more than 2 issuances were waiting/);
    assert.equal(early[0].confidence, undefined);
  });

  test('defaults are valid config, equal the schema defaults, and unknown keys are rejected', () => {
    assert.equal(rule.meta.id, 'issuance-without-enrollment');
    assert.deepEqual(rule.meta.event_kinds, ['issuance', 'enrollment']);
    assert.ok(Value.Check(rule.configSchema, rule.defaults));
    assert.deepEqual(Value.Default(rule.configSchema, {}), rule.defaults);
    assert.equal(Value.Check(rule.configSchema, { ...rule.defaults, surprise: 1 }), false);
  });
});
