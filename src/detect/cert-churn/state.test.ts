// cert-churn state layout: the compact one-certificate form (identities as strings, no `recent`
// lists), its growth into lists on the entity's second certificate, and state persisted by the
// earlier list-only version loading and behaving exactly like the compact state — on real
// certificates from the test PKI.

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { type EventInit, makeEvent, runRule } from '../../../tests/helpers/events.ts';
import { createRootCA, type TestCert } from '../../../tests/helpers/pki.ts';
import { StateRegistry } from '../state.ts';
import { certIdentity, type EntityState, expand, issuerSerialIdentity, rule } from './rule.ts';

const BASE = Date.parse('2026-01-05T09:00:00Z');
const MIN = 60_000;
const DAY = 86_400_000;

let baseline: TestCert;
let fresh: TestCert[];

before(async () => {
  const ca = await createRootCA('CN=Corp Device CA, O=Example Corp');
  baseline = await ca.issue({
    subject: 'CN=alice, O=Example Corp',
    notBefore: new Date(BASE - 30 * DAY),
    notAfter: new Date(BASE + 335 * DAY),
  });
  fresh = [];
  for (let i = 0; i < 5; i++) fresh.push(await ca.issue({ subject: `CN=alice, O=Example Corp, OU=n${i}` }));
});

function at(cert: TestCert, minutes: number, init: EventInit = {}) {
  return makeEvent({ cert, at: BASE + minutes * MIN, user: 'alice', device: 'lap-1', ...init });
}

/** The same state in the shape the earlier version persisted: lists throughout, `[]` for no recent certificates. */
function oldShape(s: EntityState): EntityState {
  const list = (x: string | string[] | undefined) => (typeof x === 'string' ? [x] : (x ?? []));
  return JSON.parse(
    JSON.stringify({
      ...s,
      known: list(s.known),
      known_sha1: list(s.known_sha1),
      known_alt: list(s.known_alt),
      recent: s.recent ?? [],
      short_recent: s.short_recent ?? [],
    }),
  );
}

describe('cert-churn state', () => {
  test("an entity's one certificate is stored as strings, without lists; repeats change nothing", () => {
    const registry = new StateRegistry();
    const first = at(baseline, 0);
    runRule(rule, [first, at(baseline, 5), at(baseline, 50)], { registry });
    const cert = first.certificate;
    assert.ok(cert);
    for (const ns of ['cert-churn/user', 'cert-churn/device']) {
      const dirty = registry.state<EntityState>(ns).takeDirty();
      assert.equal(dirty.length, 1, 'only the first sighting wrote state');
      const s = dirty[0][1];
      assert.ok(s);
      assert.equal(s.known, certIdentity(cert));
      assert.equal(s.known, cert.sha256);
      assert.equal(s.known_sha1, cert.sha1);
      assert.equal(s.known_alt, issuerSerialIdentity(cert));
      assert.equal(s.recent, null);
      assert.equal(s.short_recent, null);
      assert.equal(s.long_lived, 1);
      assert.deepEqual(JSON.parse(JSON.stringify(s)), s);
    }
  });

  test('the second certificate creates the lists (least recently seen first); a return to the first reorders them', () => {
    const registry = new StateRegistry();
    const events = [at(baseline, 0), at(fresh[0], 10), at(baseline, 20)];
    assert.deepEqual(runRule(rule, events, { registry }), []);
    const s = registry.state<EntityState>('cert-churn/user').get('alice');
    assert.ok(s);
    assert.deepEqual(s.known, [events[1].certificate?.sha256, events[0].certificate?.sha256]);
    assert.deepEqual(s.known_sha1, [events[1].certificate?.sha1, events[0].certificate?.sha1]);
    assert.equal((s.known_alt as string[]).length, 2);
    assert.deepEqual(
      s.recent?.map((r) => r.serial),
      [fresh[0].serial],
    );
  });

  test('expand fills what the compact or an old record lacks', () => {
    const compact: EntityState = {
      first_seen: 1,
      known: 'a',
      known_sha1: '',
      known_alt: 'issuer-serial:x/1',
      recent: null,
      burst: null,
      long_lived: 0,
      short_lived: 0,
      short_recent: null,
      short_burst: null,
    };
    assert.deepEqual(expand(compact), { ...compact, known: ['a'], known_sha1: [''], known_alt: ['issuer-serial:x/1'] });
    const noAlt: EntityState = {
      first_seen: 1,
      known: ['a', 'b'],
      known_sha1: ['', 's'],
      recent: [],
      burst: null,
      long_lived: 0,
      short_lived: 0,
      short_recent: [],
      short_burst: null,
    };
    assert.deepEqual(expand(noAlt).known_alt, ['', '']);
  });

  test('state persisted by the list-only version loads and behaves exactly like the compact state', () => {
    const compact = new StateRegistry();
    runRule(rule, [at(baseline, -120)], { registry: compact });
    const old = new StateRegistry();
    for (const ns of ['cert-churn/user', 'cert-churn/device']) {
      old.state(ns).preload(
        new Map(
          compact
            .state<EntityState>(ns)
            .takeDirty()
            .map(([k, v]) => [k, oldShape(v as EntityState)]),
        ),
      );
    }
    assert.ok(Array.isArray(old.state<EntityState>('cert-churn/user').get('alice')?.known));
    assert.equal(typeof compact.state<EntityState>('cert-churn/user').get('alice')?.known, 'string');
    const next = [at(baseline, 0), ...fresh.slice(0, 4).map((c, i) => at(c, 5 + i * 5)), at(baseline, 40)];
    const fromOld = runRule(rule, next, { registry: old });
    const fromCompact = runRule(rule, next, { registry: compact });
    assert.equal(fromOld.length, 1);
    assert.deepEqual(fromOld[0].evidence.also_entities, [{ kind: 'device', id: 'lap-1' }]);
    assert.deepEqual(
      fromOld.map((x) => [x.summary, x.dedup_key, x.evidence]),
      fromCompact.map((x) => [x.summary, x.dedup_key, x.evidence]),
    );
    // Afterwards both hold the same lists; only "no short-lived certificates yet" differs in spelling ([] vs null).
    for (const [ns, id] of [
      ['cert-churn/user', 'alice'],
      ['cert-churn/device', 'lap-1'],
    ]) {
      const a = old.state<EntityState>(ns).get(id);
      const b = compact.state<EntityState>(ns).get(id);
      assert.ok(a && b);
      assert.deepEqual(a.short_recent, []);
      assert.deepEqual({ ...a, short_recent: null }, b);
    }
  });
});
