// cert-churn: threshold and window boundaries, one signal per burst, per-user vs per-device
// counting, cold start, exemptions, the short-lived variant and state carried across runs —
// on real certificates from the test PKI.

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { Value } from 'typebox/value';
import { type EventInit, makeEvent, runRule } from '../../../tests/helpers/events.ts';
import { createRootCA, type TestCA, type TestCert } from '../../../tests/helpers/pki.ts';
import { StateRegistry } from '../state.ts';
import { rule } from './rule.ts';

const BASE = Date.parse('2026-01-05T09:00:00Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

let ca: TestCA;
let automationCa: TestCA;
/** alice's long-used certificate (the baseline) and eight fresh ones. */
let baseline: TestCert;
let fresh: TestCert[];
let shortLived: TestCert[];
let automation: TestCert[];

before(async () => {
  ca = await createRootCA('CN=Corp Device CA, O=Example Corp');
  automationCa = await createRootCA('CN=Rotation Bot CA, O=Example Corp');
  baseline = await ca.issue({
    subject: 'CN=alice, O=Example Corp',
    notBefore: new Date(BASE - 30 * DAY),
    notAfter: new Date(BASE + 335 * DAY),
  });
  fresh = [];
  for (let i = 0; i < 8; i++) fresh.push(await ca.issue({ subject: `CN=alice, O=Example Corp, OU=n${i}` }));
  shortLived = [];
  for (let i = 0; i < 3; i++) {
    shortLived.push(
      await ca.issue({ subject: 'CN=alice, O=Example Corp', notBefore: new Date(BASE), notAfter: new Date(BASE + 12 * HOUR) }),
    );
  }
  automation = [];
  for (let i = 0; i < 5; i++) {
    automation.push(
      await automationCa.issue({
        subject: 'CN=alice, O=Example Corp',
        notBefore: new Date(BASE),
        notAfter: new Date(BASE + 6 * HOUR),
      }),
    );
  }
});

function at(cert: TestCert, minutes: number, init: EventInit = {}) {
  return makeEvent({
    cert,
    at: BASE + minutes * MIN,
    user: 'alice',
    source_ip: `198.51.100.${10 + (Math.floor(minutes) % 200)}`,
    ...init,
  });
}

describe('cert-churn', () => {
  test('the 4th new certificate within 60 minutes fires; 3 new certificates do not', () => {
    const three = [at(baseline, -120), at(fresh[0], 0), at(fresh[1], 10), at(fresh[2], 20)];
    assert.deepEqual(runRule(rule, three), []);
    const four = [...three, at(fresh[3], 38)];
    const signals = runRule(rule, four);
    assert.equal(signals.length, 1);
    const s = signals[0];
    assert.equal(s.rule, 'cert-churn');
    assert.equal(s.variant, undefined);
    assert.equal(s.event, four[4]);
    assert.match(s.summary, /^4 new certificates for user alice in 38 min \(threshold >3 in 60 min\)$/);
    assert.equal(s.dedup_key, `user:alice:${new Date(BASE).toISOString()}`);
    const certs = s.evidence.certificates as { sha256: string; first_seen: string; source_ip: string; issuer: string }[];
    assert.deepEqual(
      certs.map((c) => c.sha256),
      four.slice(1).map((e) => e.certificate?.sha256),
    );
    assert.deepEqual(
      certs.map((c) => c.first_seen),
      [0, 10, 20, 38].map((m) => new Date(BASE + m * MIN).toISOString()),
    );
    assert.deepEqual(
      certs.map((c) => c.source_ip),
      [0, 10, 20, 38].map((m) => `198.51.100.${10 + m}`),
    );
    assert.ok(certs.every((c) => c.issuer === 'O=Example Corp,CN=Corp Device CA'));
    assert.deepEqual(s.evidence.threshold, { max_new_certs: 3, window_minutes: 60 });
  });

  test('window edge is inclusive: the 4th new certificate at exactly +60 min fires, 1 ms later does not', () => {
    const early = [at(baseline, -120), at(fresh[0], 0), at(fresh[1], 20), at(fresh[2], 40)];
    assert.equal(runRule(rule, [...early, at(fresh[3], 60)]).length, 1);
    assert.equal(runRule(rule, [...early, makeEvent({ cert: fresh[3], at: BASE + 60 * MIN + 1, user: 'alice' })]).length, 0);
  });

  test("an entity's first certificate is its baseline: a fresh state with one certificate per entity never fires", () => {
    const events = fresh.map((c, i) => at(c, i, { user: `user${i}`, device: `dev${i}` }));
    assert.deepEqual(runRule(rule, events), []);
    // Fresh alice: baseline + 3 new (4 distinct certificates within minutes) is still not > 3 new.
    assert.deepEqual(runRule(rule, [at(fresh[0], 0), at(fresh[1], 1), at(fresh[2], 2), at(fresh[3], 3)]), []);
    assert.equal(runRule(rule, [at(fresh[0], 0), at(fresh[1], 1), at(fresh[2], 2), at(fresh[3], 3), at(fresh[4], 4)]).length, 1);
  });

  test('a burst is reported once; a later burst after a quiet window is a new finding', () => {
    const burst1 = [at(baseline, -120), ...fresh.slice(0, 6).map((c, i) => at(c, i * 5))];
    const signals = runRule(rule, burst1);
    assert.equal(signals.length, 1, 'six new certificates in 25 min: one signal');
    assert.equal(signals[0].event, burst1[4]);
    // Continuing: another new cert within 60 min of the last one stays in the same burst;
    // after > 60 min of quiet, a fresh run of 4 new certificates fires again.
    const more = [
      ...burst1,
      at(fresh[6], 80),
      at(shortLived[0], 200),
      at(shortLived[1], 205),
      at(shortLived[2], 210),
      at(fresh[7], 215),
    ];
    // (The three short-lived certificates also fire the short-lived variant; not counted here.)
    const all = runRule(rule, more).filter((x) => x.variant === undefined);
    assert.equal(all.length, 2);
    assert.equal(all[1].dedup_key, `user:alice:${new Date(BASE + 200 * MIN).toISOString()}`);
    assert.notEqual(all[0].dedup_key, all[1].dedup_key);
  });

  test('users and devices are counted separately', () => {
    // alice uses four new certificates, each from a different device: the user churns, no device does.
    const perDevice = [
      at(baseline, -120, { device: 'lap-1' }),
      ...fresh.slice(0, 4).map((c, i) => at(c, i * 5, { device: `lap-${i + 1}` })),
    ];
    const a = runRule(rule, perDevice);
    assert.deepEqual(
      a.map((s) => (s.evidence.entity as { kind: string }).kind),
      ['user'],
    );
    // One device with four new certificates and no user: the device churns.
    const device = [
      makeEvent({ cert: baseline, at: BASE - HOUR, device: 'kiosk-7' }),
      ...fresh.slice(0, 4).map((c, i) => makeEvent({ cert: c, at: BASE + i * MIN, device: 'kiosk-7' })),
    ];
    const d = runRule(rule, device);
    assert.equal(d.length, 1);
    assert.deepEqual(d[0].evidence.entity, { kind: 'device', id: 'kiosk-7' });
    assert.equal(d[0].dedup_key, `device:kiosk-7:${new Date(BASE).toISOString()}`);
    // Both on the same events: one burst seen from two sides is reported once, naming both.
    const both = [at(baseline, -120, { device: 'lap-1' }), ...fresh.slice(0, 4).map((c, i) => at(c, i * 5, { device: 'lap-1' }))];
    const merged = runRule(rule, both);
    assert.equal(merged.length, 1);
    assert.equal(merged[0].dedup_key.split(':')[0], 'user');
    assert.deepEqual(merged[0].evidence.also_entities, [{ kind: 'device', id: 'lap-1' }]);
    assert.match(merged[0].summary, /device lap-1 too/);
  });

  test('known certificates do not count as new, however often they alternate', () => {
    const events = [at(baseline, -120)];
    for (let i = 0; i < 40; i++) events.push(at(i % 2 === 0 ? baseline : fresh[0], i));
    events.push(at(fresh[1], 41), at(fresh[2], 42));
    assert.deepEqual(runRule(rule, events), [], 'only 3 distinct new certificates in total');
  });

  test('a certificate logged only by SHA-1 is recognised as the same certificate', () => {
    const der = at(fresh[0], 0);
    const cert = der.certificate;
    assert.ok(cert);
    const logged = at(fresh[0], 5);
    logged.certificate = { ...cert, source: 'logged', sha256: null, spki_sha256: null, spki_pin_sha256: null };
    const events = [at(baseline, -120), der, logged, at(fresh[1], 10), at(fresh[2], 15)];
    assert.deepEqual(runRule(rule, events), [], 'the SHA-1 sighting must not be a 4th new certificate');
  });

  test('failed handshakes are ignored', () => {
    const events = [at(baseline, -120), ...fresh.slice(0, 4).map((c, i) => at(c, i, { outcome: 'failure' }))];
    assert.deepEqual(runRule(rule, events), []);
  });

  test('certificates from exempt issuers count for neither trigger (matched case-insensitively)', () => {
    const events = [at(baseline, -120), ...automation.map((c, i) => at(c, i * 5))];
    assert.equal(runRule(rule, events).length, 2, 'not exempt: churn and short-lived both fire');
    const exempt = runRule(rule, events, { config: { exempt_issuers: [' o=example corp, CN=ROTATION BOT CA '] } });
    assert.deepEqual(exempt, []);
  });

  test('short-lived variant: 2 new short-lived certificates within 24 h for an entity with long-lived ones fire once', () => {
    const one = [at(baseline, -120), at(shortLived[0], 0)];
    assert.deepEqual(runRule(rule, one), []);
    const two = [...one, at(shortLived[1], 23 * 60)];
    const signals = runRule(rule, two);
    assert.equal(signals.length, 1);
    assert.equal(signals[0].variant, 'short-lived');
    assert.equal(signals[0].dedup_key, `user:alice:short-lived:${new Date(BASE).toISOString()}`);
    assert.equal((signals[0].evidence.certificates as unknown[]).length, 2);
    assert.equal(signals[0].evidence.latest_lifetime_hours, 12);
    // Outside the 24 h window: no signal.
    assert.deepEqual(runRule(rule, [...one, at(shortLived[1], 24 * 60 + 1)]), []);
    // A third one in the same window does not report again.
    assert.equal(runRule(rule, [...two, at(shortLived[2], 23 * 60 + 30)]).length, 1);
  });

  test('short-lived variant stays quiet for an entity whose certificates are short-lived by habit', () => {
    // Starts with a short-lived certificate and has no long-lived one: short-lived is normal here.
    const events = [at(shortLived[0], 0), at(shortLived[1], 60), at(shortLived[2], 120)];
    assert.deepEqual(runRule(rule, events), []);
  });

  test('state carries across runs: a burst split over two runs sharing a StateRegistry fires in the second', () => {
    const registry = new StateRegistry();
    const run1 = runRule(rule, [at(baseline, -120), at(fresh[0], 0), at(fresh[1], 10)], { registry });
    assert.deepEqual(run1, []);
    const run2Events = [at(fresh[2], 20), at(fresh[3], 30)];
    const run2 = runRule(rule, run2Events, { registry });
    assert.equal(run2.length, 1);
    assert.equal((run2[0].evidence.certificates as unknown[]).length, 4);
    // The same second run on a fresh state sees fresh[2] as alice's baseline and 1 new cert.
    assert.deepEqual(runRule(rule, run2Events), []);
    // State is JSON-serialisable (it is persisted to SQLite between runs).
    const ns = registry.state<unknown>('cert-churn/user');
    const copy = JSON.parse(JSON.stringify(ns.get('alice')));
    assert.deepEqual(copy, ns.get('alice'));
  });

  test('known-certificate memory is bounded per entity', () => {
    const events = [at(baseline, -120), ...fresh.map((c, i) => at(c, i * 120))];
    const registry = new StateRegistry();
    runRule(rule, events, { registry, config: { known_certs_per_entity: 4 } });
    const s = registry.state<{ known: string[]; recent: unknown[] }>('cert-churn/user').get('alice');
    assert.ok(s);
    assert.equal(s.known.length, 4);
    assert.ok(s.recent.length <= 4);
  });
  /** The certificate as a CA issuance log shows it: issuer + serial, no digests. */
  function issuedLogged(cert: TestCert, minutes: number, init: EventInit = {}) {
    const e = at(cert, minutes, { kind: 'issuance', source_ip: null, ...init });
    const c = e.certificate;
    assert.ok(c);
    e.certificate = { ...c, source: 'logged', sha256: null, sha1: null, spki_sha256: null, spki_pin_sha256: null };
    return e;
  }

  test('issuance events count: four certificates issued to alice within the hour fire, evidence says they came from the CA', () => {
    const events = [at(baseline, -120), ...fresh.slice(0, 4).map((c, i) => issuedLogged(c, i * 10))];
    const signals = runRule(rule, events);
    assert.equal(signals.length, 1);
    const s = signals[0];
    assert.equal(s.event, events[4]);
    assert.equal(s.evidence.from_issuance, 4);
    assert.equal(s.evidence.from_presentation, 0);
    const certs = s.evidence.certificates as { via: string; serial: string; sha256: string | null }[];
    assert.deepEqual(
      certs.map((c) => c.via),
      ['issuance', 'issuance', 'issuance', 'issuance'],
    );
    assert.deepEqual(
      certs.map((c) => c.serial),
      fresh.slice(0, 4).map((c) => c.serial),
    );
    assert.match(
      s.summary,
      /^4 new certificates for user alice in 30 min \(threshold >3 in 60 min\); 4 issued by a CA, 0 first presented$/,
    );
    // Denied requests (outcome failure) provision nothing.
    assert.deepEqual(
      runRule(rule, [at(baseline, -120), ...fresh.slice(0, 4).map((c, i) => issuedLogged(c, i, { outcome: 'failure' }))]),
      [],
    );
  });

  test('an issued certificate later presented counts once (issuance logs issuer + serial, the gateway the SHA-256)', () => {
    const three = fresh.slice(0, 3);
    const events = [
      at(baseline, -120),
      ...three.map((c, i) => issuedLogged(c, i * 5)),
      ...three.map((c, i) => at(c, 20 + i * 5)),
    ];
    assert.deepEqual(runRule(rule, events), [], 'three new certificates, each seen twice');
    const signals = runRule(rule, [...events, at(fresh[3], 40)]);
    assert.equal(signals.length, 1);
    assert.equal(signals[0].evidence.new_certificates, 4);
    assert.equal(signals[0].evidence.from_issuance, 3);
    assert.equal(signals[0].evidence.from_presentation, 1);
    assert.match(signals[0].summary, /; 3 issued by a CA, 1 first presented$/);
    // The other way round: presented first (SHA-256), then the issuance record arrives (merged files).
    const reversed = [
      at(baseline, -120),
      ...three.map((c, i) => at(c, i * 5)),
      ...three.map((c, i) => issuedLogged(c, 20 + i * 5)),
    ];
    assert.deepEqual(runRule(rule, reversed), []);
    // A gateway that logs only SHA-1 + issuer + serial (nginx) still matches an issuance logged with its SHA-256.
    const withSha = (c: TestCert, m: number) => {
      const e = at(c, m, { kind: 'issuance' });
      e.certificate = {
        ...(e.certificate as NonNullable<typeof e.certificate>),
        source: 'logged',
        sha1: null,
        spki_sha256: null,
        spki_pin_sha256: null,
      };
      return e;
    };
    const nginx = (c: TestCert, m: number) => {
      const e = at(c, m);
      e.certificate = {
        ...(e.certificate as NonNullable<typeof e.certificate>),
        source: 'logged',
        sha256: null,
        sha1: null,
        spki_sha256: null,
        spki_pin_sha256: null,
      };
      return e;
    };
    const mixed = [at(baseline, -120), ...three.map((c, i) => withSha(c, i * 5)), ...three.map((c, i) => nginx(c, 20 + i * 5))];
    assert.deepEqual(runRule(rule, mixed), []);
  });

  test('state written before issuance counting (no known_alt) still loads and matches by the primary identity', () => {
    const registry = new StateRegistry();
    runRule(rule, [at(baseline, -120), at(fresh[0], 0)], { registry });
    const ns = registry.state<{ known_alt?: string[] }>('cert-churn/user');
    const s = ns.get('alice');
    assert.ok(s);
    delete s.known_alt;
    assert.deepEqual(runRule(rule, [at(fresh[0], 5), at(fresh[1], 10), at(fresh[2], 15)], { registry }), []);
    assert.equal(ns.get('alice')?.known_alt?.length, 4);
  });

  test('defaults are valid config, equal the schema defaults, and unknown keys are rejected', () => {
    assert.equal(rule.meta.id, 'cert-churn');
    assert.ok(Value.Check(rule.configSchema, rule.defaults));
    assert.deepEqual(Value.Default(rule.configSchema, {}), rule.defaults);
    assert.equal(Value.Check(rule.configSchema, { ...rule.defaults, surprise: 1 }), false);
  });
});
