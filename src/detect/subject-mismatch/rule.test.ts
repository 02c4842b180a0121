// subject-mismatch: each variant fires on a real contradicting certificate and stays quiet on the
// near-miss (owner by CN, e-mail or UPN, case-insensitively; the device's own certificate; missing
// registry rows); one report per certificate + device + variant, remembered across runs.

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { Value } from 'typebox/value';
import { type EventInit, makeEvent, runRule } from '../../../tests/helpers/events.ts';
import { createRootCA, type TestCA, type TestCert } from '../../../tests/helpers/pki.ts';
import type { Asset, Identity } from '../../schema/event.ts';
import { StateRegistry } from '../state.ts';
import { accountAliases, rule } from './rule.ts';

let ca: TestCA;
let aliceByCn: TestCert;
let aliceByEmail: TestCert;
let bob: TestCert;
let bobByUpn: TestCert;
let svcBackup: TestCert;
let aliceLaptopCert: TestCert;
let bobLaptopCert: TestCert;
let bareDeviceIdCert: TestCert;
let displayNameOnly: TestCert;
let firstLast: TestCert;

const aliceLaptop: Asset = {
  device_id: 'dev-001',
  owner: 'alice',
  kind: 'Laptop',
  hostname: 'lap-alice.corp.example',
  os: 'macOS',
  enrolled_at: null,
};
const buildServer: Asset = {
  device_id: 'srv-9',
  owner: 'platform-team',
  kind: 'server',
  hostname: 'build-01.corp.example',
  os: 'linux',
  enrolled_at: null,
};
const aliceRow: Identity = {
  user: 'alice',
  kind: 'human',
  role: null,
  department: null,
  country: null,
  email: 'alice.smith@corp.example',
};
const svcRow: Identity = { user: 'svc-backup', kind: 'service', role: null, department: null, country: null, email: null };

before(async () => {
  ca = await createRootCA('CN=Corp Identity CA, O=Example Corp');
  aliceByCn = await ca.issue({ subject: 'CN=alice, O=Example Corp' });
  aliceByEmail = await ca.issue({ subject: 'CN=Alice Smith, O=Example Corp', email: ['Alice.Smith@corp.example'] });
  bob = await ca.issue({ subject: 'CN=bob, O=Example Corp', email: ['bob@corp.example'] });
  bobByUpn = await ca.issue({ subject: 'CN=Bob Jones, O=Example Corp', upn: ['bob@corp.example'] });
  svcBackup = await ca.issue({ subject: 'CN=svc-backup, O=Example Corp' });
  aliceLaptopCert = await ca.issue({ subject: 'CN=lap-alice.corp.example', dns: ['lap-alice.corp.example'] });
  bobLaptopCert = await ca.issue({ subject: 'CN=lap-bob.corp.example', dns: ['lap-bob.corp.example'] });
  bareDeviceIdCert = await ca.issue({ subject: 'CN=dev-001, O=Example Corp' });
  displayNameOnly = await ca.issue({ subject: 'CN=Alice Smith, O=Example Corp' });
  firstLast = await ca.issue({ subject: 'CN=alice.smith, O=Example Corp' });
});

/** An event whose user was derived from the certificate (no gateway user). */
function fromCert(cert: TestCert, user: string, init: EventInit = {}) {
  return makeEvent({ cert, user, user_from: 'certificate', ...init });
}

/** An event whose user the gateway authenticated. */
function fromGateway(cert: TestCert, user: string, init: EventInit = {}) {
  return makeEvent({ cert, user, user_from: 'event', ...init });
}

describe('subject-mismatch', () => {
  test('service-cert-on-endpoint: a service account certificate used from a laptop fires; from a server it does not', () => {
    const onLaptop = fromCert(svcBackup, 'svc-backup', { device: 'dev-001', asset: aliceLaptop, identity: svcRow });
    const signals = runRule(rule, [onLaptop]);
    assert.equal(signals.length, 1, 'the service variant replaces not-device-owner');
    assert.equal(signals[0].variant, 'service-cert-on-endpoint');
    assert.equal(signals[0].dedup_key, `service-cert-on-endpoint:${onLaptop.certificate?.sha256}:dev-001`);
    assert.deepEqual(signals[0].evidence.certificate_identity, { user: 'svc-backup', kind: 'service', email: null });
    assert.match(signals[0].summary, /service account svc-backup's certificate used from Laptop lap-alice\.corp\.example/);
    const onServer = fromCert(svcBackup, 'svc-backup', { device: 'srv-9', asset: buildServer, identity: svcRow });
    assert.deepEqual(runRule(rule, [onServer]), [], 'service certificates on servers are normal, whoever owns the server');
    assert.equal(
      runRule(rule, [onServer], { config: { end_user_device_kinds: ['server'] } })[0]?.variant,
      'service-cert-on-endpoint',
    );
  });

  test('service-cert-on-endpoint needs the identity row to describe the certificate', () => {
    // The gateway says alice, the identity row is alice's: the certificate's own kind is unknown.
    const e = fromGateway(svcBackup, 'alice', { device: 'dev-001', asset: aliceLaptop, identity: aliceRow });
    assert.deepEqual(
      runRule(rule, [e])
        .map((s) => s.variant)
        .sort(),
      ['not-device-owner', 'user-mismatch'],
    );
    assert.deepEqual(
      runRule(rule, [fromCert(svcBackup, 'svc-backup', { device: 'dev-001', asset: aliceLaptop, identity: svcRow })], {
        facts: { identitiesConfigured: false },
      }).map((s) => s.variant),
      ['not-device-owner'],
    );
  });

  test("not-device-owner: bob's certificate on alice's laptop fires", () => {
    const e = fromCert(bob, 'bob', { device: 'dev-001', asset: aliceLaptop });
    const signals = runRule(rule, [e]);
    assert.equal(signals.length, 1);
    assert.equal(signals[0].variant, 'not-device-owner');
    assert.equal(signals[0].evidence.owner, 'alice');
    assert.deepEqual(signals[0].evidence.certificate_names, ['bob@corp.example', 'bob']);
    assert.equal(signals[0].dedup_key, `not-device-owner:${e.certificate?.sha256}:dev-001`);
  });

  test("not-device-owner is quiet for the owner's certificate by CN, by e-mail from the identity store, and for the device's own certificate", () => {
    const quiet = [
      fromCert(aliceByCn, 'alice', { device: 'dev-001', asset: aliceLaptop }),
      fromCert(aliceByCn, 'alice', { device: 'dev-001', asset: { ...aliceLaptop, owner: 'ALICE@corp.example' } }),
      fromCert(aliceByEmail, 'alice', { device: 'dev-001', asset: aliceLaptop, identity: aliceRow }),
      makeEvent({ cert: aliceLaptopCert, device: 'dev-001', asset: aliceLaptop }),
      makeEvent({ cert: bareDeviceIdCert, device: 'dev-001', asset: aliceLaptop }),
    ];
    assert.deepEqual(runRule(rule, quiet), []);
    // Without the identity row, "alice.smith@corp.example" cannot be tied to owner "alice".
    const noRow = runRule(rule, [fromCert(aliceByEmail, 'alice.smith', { device: 'dev-001', asset: aliceLaptop })]);
    assert.deepEqual(
      noRow.map((s) => s.variant),
      ['not-device-owner'],
    );
  });

  test("not-device-owner fires for another device's certificate on the laptop", () => {
    const signals = runRule(rule, [makeEvent({ cert: bobLaptopCert, device: 'dev-001', asset: aliceLaptop })]);
    assert.deepEqual(
      signals.map((s) => s.variant),
      ['not-device-owner'],
    );
    assert.ok((signals[0].evidence.certificate_names as string[]).includes('lap-bob.corp.example'));
  });

  test('quiet when the registry row is missing or the registry is not configured', () => {
    assert.deepEqual(runRule(rule, [fromCert(bob, 'bob', { device: 'dev-unknown' })]), []);
    assert.deepEqual(
      runRule(rule, [fromCert(bob, 'bob', { device: 'dev-001', asset: aliceLaptop })], { facts: { assetsConfigured: false } }),
      [],
    );
    assert.deepEqual(runRule(rule, [fromCert(bob, 'bob', { device: 'dev-001', asset: { ...aliceLaptop, owner: null } })]), []);
  });

  test('user-mismatch: the gateway user differs from the user the certificate names', () => {
    const e = fromGateway(bob, 'alice');
    const signals = runRule(rule, [e]);
    assert.equal(signals.length, 1);
    assert.equal(signals[0].variant, 'user-mismatch');
    assert.equal(signals[0].dedup_key, `user-mismatch:${e.certificate?.sha256}:-:alice`);
    assert.equal(signals[0].evidence.authenticated_user, 'alice');
    assert.equal(runRule(rule, [fromGateway(bobByUpn, 'alice')])[0]?.variant, 'user-mismatch');
  });

  test('user-mismatch matches alice, alice@corp.example and CN=alice as the same user, case-insensitively', () => {
    const quiet = [
      fromGateway(aliceByCn, 'alice'),
      fromGateway(aliceByCn, 'Alice@corp.example'),
      fromGateway(aliceByCn, 'CN=alice,O=Example Corp'),
      fromGateway(bobByUpn, 'BOB'),
      fromGateway(aliceByEmail, 'alice', { identity: aliceRow }),
      // A device certificate names the device, not a user.
      fromGateway(aliceLaptopCert, 'alice', { device: 'lap-alice' }),
      fromGateway(bareDeviceIdCert, 'alice', { device: 'dev-001' }),
      // A display-name CN without SANs names nobody we can compare.
      fromGateway(displayNameOnly, 'asmith'),
    ];
    assert.deepEqual(runRule(rule, quiet), []);
    // Users derived from the certificate itself cannot mismatch it.
    assert.deepEqual(runRule(rule, [fromCert(bob, 'alice')]), []);
    assert.deepEqual(accountAliases('CN=Alice, O=Example'), ['alice']);
  });

  test('each finding is reported once per certificate + device + variant, also across runs', () => {
    const registry = new StateRegistry();
    const repeat = [1, 2, 3].map(() => fromCert(bob, 'bob', { device: 'dev-001', asset: aliceLaptop }));
    assert.equal(runRule(rule, repeat, { registry }).length, 1);
    assert.deepEqual(runRule(rule, repeat, { registry }), [], 'second run with the same state: already reported');
    const otherLaptop: Asset = { ...aliceLaptop, device_id: 'dev-002', hostname: 'lap-alice-2.corp.example' };
    assert.equal(runRule(rule, [fromCert(bob, 'bob', { device: 'dev-002', asset: otherLaptop })], { registry }).length, 1);
    const fresh = runRule(rule, repeat);
    assert.equal(fresh.length, 1, 'a fresh state reports it again, under the same dedup key');
    const ns = registry.state<string[]>('subject-mismatch/reported');
    assert.deepEqual(ns.get(repeat[0].certificate?.sha256 ?? ''), ['not-device-owner|dev-001', 'not-device-owner|dev-002']);
  });

  test('failed handshakes are ignored', () => {
    assert.deepEqual(runRule(rule, [fromCert(bob, 'bob', { device: 'dev-001', asset: aliceLaptop, outcome: 'failure' })]), []);
  });
  test('defaults are valid config, equal the schema defaults, and unknown keys are rejected', () => {
    assert.equal(rule.meta.id, 'subject-mismatch');
    assert.ok(Value.Check(rule.configSchema, rule.defaults));
    assert.deepEqual(Value.Default(rule.configSchema, {}), rule.defaults);
    assert.equal(Value.Check(rule.configSchema, { ...rule.defaults, surprise: 1 }), false);
  });
  test('the same certificate object is judged again when user, device or registry rows change', () => {
    const first = fromGateway(bob, 'bob', { device: 'dev-001', asset: { ...aliceLaptop, owner: 'bob' } });
    const sameAgain = fromGateway(bob, 'bob', { device: 'dev-001', asset: first.enrichment.asset });
    const otherUser = fromGateway(bob, 'alice', { device: 'dev-001', asset: first.enrichment.asset });
    const otherOwner = fromGateway(bob, 'alice', { device: 'dev-001', asset: aliceLaptop });
    for (const e of [sameAgain, otherUser, otherOwner]) e.certificate = first.certificate; // normalize shares one CertInfo per certificate
    const signals = runRule(rule, [first, sameAgain, otherUser, otherOwner]);
    assert.deepEqual(
      signals.map((s) => s.variant),
      ['user-mismatch', 'not-device-owner'],
    );
  });
  test('a first.last CN is an account: the owner of that name is quiet, another gateway user fires', () => {
    const owner: Asset = { ...aliceLaptop, owner: 'alice.smith' };
    assert.deepEqual(runRule(rule, [fromCert(firstLast, 'alice.smith', { device: 'dev-001', asset: owner })]), []);
    assert.deepEqual(
      runRule(rule, [fromGateway(firstLast, 'Alice.Smith@corp.example', { device: 'dev-001', asset: owner })]),
      [],
    );
    assert.deepEqual(
      runRule(rule, [fromGateway(firstLast, 'bob', { device: 'dev-001', asset: owner })]).map((s) => s.variant),
      ['user-mismatch'],
    );
  });
});
