// The state store conformance suite: the behaviour every StateStore (memory, SQLite, and the
// PostgreSQL store to come) must show. Each implementation's test file calls runStoreConformance.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { Value } from 'typebox/value';
import { ALERT_SCHEMA_VERSION, type Alert, AlertSchema, type Severity } from '../../src/schema/alert.ts';
import type { FeedbackRecord, StateStore } from '../../src/store/types.ts';

/** A fresh, empty store, plus how to open the same data again (persistent stores only) and clean up. */
export interface StoreUnderTest {
  store: StateStore;
  /** Opens the same store again after `store.close()`; omit for stores that do not persist. */
  reopen?: () => Promise<StateStore>;
  /** Removes whatever the store left behind (temp files, schemas). */
  dispose?: () => Promise<void>;
}

/** The id makeAlert(n) gets. */
export function alertId(n: number): string {
  return `cs-${createHash('sha256').update(`alert-${n}`).digest('hex').slice(0, 24)}`;
}

/** Builds a schema-valid Alert; `n` makes the id and time (n minutes after 2026-01-05T09:00Z), `init` overrides fields. */
export function makeAlert(n: number, init: Partial<Alert> = {}): Alert {
  const id = alertId(n);
  const severity: Severity = init.severity ?? 'medium';
  const alert: Alert = {
    id,
    rule: 'cert-churn',
    title: 'Certificate churn',
    severity,
    score: 45,
    action: 'step-up',
    time: new Date(Date.UTC(2026, 0, 5, 9, 0, 0) + n * 60_000).toISOString(),
    entity: { kind: 'user', id: 'alice' },
    user: 'alice',
    device: null,
    cert_sha256: createHash('sha256').update(`cert-${n}`).digest('hex'),
    spki_sha256: null,
    issuer: 'CN=Example Issuing CA,O=Example',
    source_ip: '192.0.2.10',
    summary: `alert number ${n}`,
    evidence: { certificates: n, nested: { list: [1, 'two', { three: 3 }] } },
    schema_version: ALERT_SCHEMA_VERSION,
    ...init,
  };
  assert.ok(Value.Check(AlertSchema, alert), `fixture alert ${n} must satisfy AlertSchema`);
  return alert;
}

/** Builds a valid FeedbackRecord for `alert`; `init` overrides fields. */
export function makeFeedback(alert: Alert, init: Partial<FeedbackRecord> = {}): FeedbackRecord {
  return {
    alert_id: alert.id,
    verdict: 'false-positive',
    scope: 'rule',
    rule: alert.rule,
    entity: { ...alert.entity },
    reason: 'lab device',
    created_at: '2026-03-01T10:00:00.000Z',
    expires_at: null,
    ...init,
  };
}

/**
 * Registers the conformance tests for one StateStore implementation. `factory` is called once per
 * test and must return a fresh, empty store.
 */
export function runStoreConformance(name: string, factory: () => Promise<StoreUnderTest>): void {
  describe(`StateStore conformance: ${name}`, () => {
    const disposers: (() => Promise<void>)[] = [];
    after(async () => {
      for (const dispose of disposers) await dispose();
    });

    /** Runs `body` on a fresh store and always closes it. */
    async function withStore(body: (store: StateStore, sut: StoreUnderTest) => Promise<void>): Promise<void> {
      const sut = await factory();
      if (sut.dispose) disposers.push(sut.dispose);
      try {
        await body(sut.store, sut);
      } finally {
        await sut.store.close();
      }
    }

    test('a fresh store has empty namespaces, no alerts and an integer schema_version', () =>
      withStore(async (store) => {
        assert.equal((await store.loadNamespace('cert-churn/seen')).size, 0);
        assert.deepEqual(await store.listAlerts(), []);
        assert.equal((await store.knownAlertIds(['cs-000000000000000000000000'])).size, 0);
        assert.match((await store.getMeta('schema_version')) ?? '', /^[1-9][0-9]*$/);
      }));

    test('namespaces are isolated: the same key in two namespaces holds two values', () =>
      withStore(async (store) => {
        await store.saveEntries('key-reuse/spki', [['k', 1]]);
        await store.saveEntries('cert-churn/seen', [['k', 2]]);
        // A namespace that is a prefix of another must not see the other's keys.
        await store.saveEntries('key-reuse', [['k', 3]]);
        assert.deepEqual([...(await store.loadNamespace('key-reuse/spki'))], [['k', 1]]);
        assert.deepEqual([...(await store.loadNamespace('cert-churn/seen'))], [['k', 2]]);
        assert.deepEqual([...(await store.loadNamespace('key-reuse'))], [['k', 3]]);
        assert.equal((await store.loadNamespace('key-reuse/')).size, 0);
      }));

    test('saveEntries upserts: a later save of a key overwrites the earlier value', () =>
      withStore(async (store) => {
        await store.saveEntries('ns', [
          ['a', { count: 1 }],
          ['b', 'kept'],
        ]);
        await store.saveEntries('ns', [['a', { count: 2, extra: true }]]);
        const loaded = await store.loadNamespace('ns');
        assert.deepEqual(loaded.get('a'), { count: 2, extra: true });
        assert.equal(loaded.get('b'), 'kept');
        assert.equal(loaded.size, 2);
      }));

    test('an undefined value deletes the entry; deleting a missing key is harmless', () =>
      withStore(async (store) => {
        await store.saveEntries('ns', [
          ['a', 1],
          ['b', 2],
        ]);
        await store.saveEntries('ns', [
          ['a', undefined],
          ['never-existed', undefined],
        ]);
        assert.deepEqual([...(await store.loadNamespace('ns'))], [['b', 2]]);
      }));

    test('within one batch the last operation on a key wins', () =>
      withStore(async (store) => {
        await store.saveEntries('ns', [
          ['a', 1],
          ['a', undefined],
          ['b', 1],
          ['b', 2],
          ['c', undefined],
          ['c', 'back'],
        ]);
        const loaded = await store.loadNamespace('ns');
        assert.equal(loaded.has('a'), false);
        assert.equal(loaded.get('b'), 2);
        assert.equal(loaded.get('c'), 'back');
      }));

    test('null, false, 0 and "" are stored values, not deletions', () =>
      withStore(async (store) => {
        await store.saveEntries('ns', [
          ['null', null],
          ['false', false],
          ['zero', 0],
          ['empty', ''],
        ]);
        const loaded = await store.loadNamespace('ns');
        assert.equal(loaded.size, 4);
        assert.equal(loaded.get('null'), null);
        assert.equal(loaded.get('false'), false);
        assert.equal(loaded.get('zero'), 0);
        assert.equal(loaded.get('empty'), '');
      }));

    test('values round-trip through JSON: nested objects, arrays, unicode keys and values', () =>
      withStore(async (store) => {
        const value = {
          first_seen_ms: 1767603600000,
          ratio: 0.125,
          negative: -42,
          devices: ['laptop-1', 'phone-2'],
          nested: { deeper: { list: [[1, 2], { x: null }], flag: true } },
          unicode: 'Zoë — 日本語 — 🔐 — \u0000 nul and "quotes" \\ backslash',
        };
        const unicodeKey = 'CN=Jürgen Groß,O=Bäckerei 🍞';
        await store.saveEntries('ns', [
          [unicodeKey, value],
          ['plain', [value, value]],
        ]);
        const loaded = await store.loadNamespace('ns');
        assert.deepEqual(loaded.get(unicodeKey), value);
        assert.deepEqual(loaded.get('plain'), [value, value]);
      }));

    test('a stored value is a copy: mutating the saved or loaded object does not change the store', () =>
      withStore(async (store) => {
        const value = { devices: ['a'] };
        await store.saveEntries('ns', [['k', value]]);
        value.devices.push('mutated-after-save');
        const loaded = (await store.loadNamespace('ns')).get('k') as { devices: string[] };
        assert.deepEqual(loaded, { devices: ['a'] });
        loaded.devices.push('mutated-after-load');
        assert.deepEqual((await store.loadNamespace('ns')).get('k'), { devices: ['a'] });
      }));

    test('saveEntries is one transaction: an iterable that fails part-way saves nothing', () =>
      withStore(async (store) => {
        await store.saveEntries('ns', [['before', 1]]);
        function* failing(): Generator<[string, unknown]> {
          yield ['a', 1];
          yield ['before', undefined];
          throw new Error('source failed');
        }
        await assert.rejects(store.saveEntries('ns', failing()), /source failed/);
        assert.deepEqual([...(await store.loadNamespace('ns'))], [['before', 1]]);
      }));

    test('a value JSON cannot represent is rejected and nothing of the batch is saved', () =>
      withStore(async (store) => {
        await assert.rejects(
          store.saveEntries('ns', [
            ['ok', 1],
            ['bad', () => 1],
          ]),
        );
        await assert.rejects(
          store.saveEntries('ns', [
            ['ok', 1],
            ['big', 10n],
          ]),
        );
        assert.equal((await store.loadNamespace('ns')).size, 0);
      }));

    test('knownAlertIds reports exactly the saved ids among a mix of known and unknown', () =>
      withStore(async (store) => {
        const alerts = [makeAlert(1), makeAlert(2), makeAlert(3)];
        await store.saveAlerts(alerts);
        const unknown = [alertId(4), alertId(5)];
        const known = await store.knownAlertIds([unknown[0], alerts[0].id, alerts[2].id, unknown[1], alerts[0].id]);
        assert.deepEqual([...known].sort(), [alerts[0].id, alerts[2].id].sort());
        assert.equal((await store.knownAlertIds([])).size, 0);
        // ids containing SQL/JSON metacharacters are just strings
        assert.equal((await store.knownAlertIds(["x' OR '1'='1", '"]', '%'])).size, 0);
      }));

    test('knownAlertIds handles many ids at once (beyond any bound-parameter limit)', () =>
      withStore(async (store) => {
        const saved = Array.from({ length: 500 }, (_, i) => makeAlert(i * 2));
        await store.saveAlerts(saved);
        const asked = Array.from({ length: 40_000 }, (_, i) => alertId(i));
        const known = await store.knownAlertIds(asked);
        assert.equal(known.size, 500);
        for (const alert of saved) assert.ok(known.has(alert.id));
      }));

    test('saveAlerts is idempotent by id: saving again (even changed) keeps the first record once', () =>
      withStore(async (store) => {
        const original = makeAlert(1, { summary: 'first' });
        await store.saveAlerts([original, makeAlert(2)]);
        await store.saveAlerts([original, makeAlert(2)]);
        await store.saveAlerts([
          { ...original, summary: 'second' },
          { ...original, summary: 'third' },
        ]);
        const listed = await store.listAlerts();
        assert.equal(listed.length, 2);
        assert.deepEqual(
          listed.find((a) => a.id === original.id),
          original,
        );
        await store.saveAlerts([]);
        assert.equal((await store.listAlerts()).length, 2);
      }));

    test('listAlerts returns the stored alerts intact, newest first, ties by id', () =>
      withStore(async (store) => {
        const older = makeAlert(10, { time: '2026-01-05T08:00:00Z' });
        const newest = makeAlert(11, { time: '2026-02-01T00:00:00.500Z' });
        // same instant written two ways; must sort as equal times, then by id
        const tieA = makeAlert(12, { time: '2026-01-10T12:00:00Z' });
        const tieB = makeAlert(13, { time: '2026-01-10T12:00:00.000Z' });
        const middle = makeAlert(14, { time: '2026-01-10T11:59:59.999Z' });
        await store.saveAlerts([older, tieA]);
        await store.saveAlerts([middle, newest, tieB]);
        const listed = await store.listAlerts();
        const ties = [tieA, tieB].sort((a, b) => (a.id < b.id ? -1 : 1));
        assert.deepEqual(listed, [newest, ...ties, middle, older]);
      }));

    test('listAlerts limit and rule filter, alone and combined', () =>
      withStore(async (store) => {
        const alerts: Alert[] = [];
        for (let i = 0; i < 12; i++) {
          alerts.push(makeAlert(100 + i, { rule: i % 3 === 0 ? 'key-reuse' : 'cert-churn', severity: 'high' }));
        }
        await store.saveAlerts(alerts);
        const newestFirst = [...alerts].reverse();
        assert.deepEqual(await store.listAlerts({ limit: 3 }), newestFirst.slice(0, 3));
        assert.deepEqual(await store.listAlerts({ limit: 0 }), []);
        assert.equal((await store.listAlerts({ limit: 1000 })).length, 12);
        const keyReuse = newestFirst.filter((a) => a.rule === 'key-reuse');
        assert.deepEqual(await store.listAlerts({ rule: 'key-reuse' }), keyReuse);
        assert.deepEqual(await store.listAlerts({ rule: 'key-reuse', limit: 2 }), keyReuse.slice(0, 2));
        assert.deepEqual(await store.listAlerts({ rule: 'no-such-rule' }), []);
        await assert.rejects(store.listAlerts({ limit: -1 }), /limit/);
        await assert.rejects(store.listAlerts({ limit: 1.5 }), /limit/);
      }));

    test('meta: missing key is undefined, set overwrites, schema_version is not writable', () =>
      withStore(async (store) => {
        assert.equal(await store.getMeta('last_run'), undefined);
        await store.setMeta('last_run', '2026-01-05T09:00:00Z');
        await store.setMeta('last_run', '2026-01-06T09:00:00Z');
        await store.setMeta('note', 'ünïcødé 🔐');
        assert.equal(await store.getMeta('last_run'), '2026-01-06T09:00:00Z');
        assert.equal(await store.getMeta('note'), 'ünïcødé 🔐');
        await assert.rejects(store.setMeta('schema_version', '999'));
      }));

    test('a large batch (100k entries) saves and loads completely, then deletes in one batch', () =>
      withStore(async (store) => {
        const count = 100_000;
        function* entries(): Generator<[string, unknown]> {
          for (let i = 0; i < count; i++) yield [`key-${i}`, { n: i, seen: [i % 7, 'x'] }];
        }
        await store.saveEntries('big', entries());
        const loaded = await store.loadNamespace('big');
        assert.equal(loaded.size, count);
        assert.deepEqual(loaded.get('key-0'), { n: 0, seen: [0, 'x'] });
        assert.deepEqual(loaded.get(`key-${count - 1}`), { n: count - 1, seen: [(count - 1) % 7, 'x'] });
        function* deletions(): Generator<[string, unknown]> {
          for (let i = 0; i < count; i += 2) yield [`key-${i}`, undefined];
        }
        await store.saveEntries('big', deletions());
        const remaining = await store.loadNamespace('big');
        assert.equal(remaining.size, count / 2);
        assert.equal(remaining.has('key-0'), false);
        assert.deepEqual(remaining.get('key-1'), { n: 1, seen: [1, 'x'] });
      }));

    test('getAlert returns the stored alert intact, undefined for an unknown id', () =>
      withStore(async (store) => {
        const alert = makeAlert(21, { rule: 'key-reuse', summary: 'ünïcødé 🔐' });
        await store.saveAlerts([alert, makeAlert(22)]);
        assert.deepEqual(await store.getAlert(alert.id), alert);
        assert.equal(await store.getAlert(alertId(23)), undefined);
        assert.equal(await store.getAlert("x' OR '1'='1"), undefined);
      }));

    test('alertCountsByRule counts stored alerts per rule (an alert saved twice counts once)', () =>
      withStore(async (store) => {
        assert.equal((await store.alertCountsByRule()).size, 0);
        const alerts = Array.from({ length: 7 }, (_, i) =>
          makeAlert(200 + i, { rule: i < 4 ? 'cert-churn' : i < 6 ? 'key-reuse' : 'expired-cert' }),
        );
        await store.saveAlerts(alerts);
        await store.saveAlerts(alerts.slice(0, 2));
        assert.deepEqual([...(await store.alertCountsByRule())].sort(), [
          ['cert-churn', 4],
          ['expired-cert', 1],
          ['key-reuse', 2],
        ]);
      }));

    test('feedback: a fresh store has none; saved verdicts list back intact, in insertion order', () =>
      withStore(async (store) => {
        assert.deepEqual(await store.listFeedback(), []);
        const a = makeAlert(31);
        const b = makeAlert(32, { rule: 'tls-fingerprint-change', entity: { kind: 'device', id: 'dev-1' } });
        const records: FeedbackRecord[] = [
          makeFeedback(a, { created_at: '2026-03-02T00:00:00.000Z', expires_at: '2026-04-01T00:00:00.000Z' }),
          makeFeedback(b, { verdict: 'true-positive', scope: 'alert', reason: null, created_at: '2026-03-01T00:00:00.000Z' }),
          // a later verdict on the same alert is a new record, not an overwrite
          makeFeedback(a, { scope: 'entity', reason: 'Zoë — 日本語 — "quotes"', created_at: '2026-03-01T00:00:00.000Z' }),
        ];
        for (const record of records) await store.saveFeedback(record);
        assert.deepEqual(await store.listFeedback(), records);
      }));

    test('feedback times are normalised to ISO 8601 UTC with milliseconds', () =>
      withStore(async (store) => {
        const alert = makeAlert(33);
        await store.saveFeedback(
          makeFeedback(alert, { created_at: '2026-03-01T11:00:00+01:00', expires_at: '2026-03-31T10:00:00Z' }),
        );
        const [stored] = await store.listFeedback();
        assert.equal(stored.created_at, '2026-03-01T10:00:00.000Z');
        assert.equal(stored.expires_at, '2026-03-31T10:00:00.000Z');
      }));

    test('a stored verdict is a copy: mutating the saved or listed record does not change the store', () =>
      withStore(async (store) => {
        const record = makeFeedback(makeAlert(34));
        await store.saveFeedback(record);
        record.entity.id = 'mutated-after-save';
        const [listed] = await store.listFeedback();
        assert.equal(listed.entity.id, 'alice');
        listed.entity.id = 'mutated-after-load';
        assert.equal((await store.listFeedback())[0].entity.id, 'alice');
      }));

    test('a malformed verdict is rejected and nothing is saved', () =>
      withStore(async (store) => {
        const alert = makeAlert(35);
        const bad: Partial<FeedbackRecord>[] = [
          { verdict: 'maybe' as FeedbackRecord['verdict'] },
          { scope: 'everything' as FeedbackRecord['scope'] },
          { alert_id: '' },
          { rule: '' },
          { entity: { kind: 'user', id: '' } },
          { created_at: 'yesterday' },
          { expires_at: 'never' },
        ];
        for (const init of bad) await assert.rejects(store.saveFeedback(makeFeedback(alert, init)), JSON.stringify(init));
        assert.deepEqual(await store.listFeedback(), []);
      }));

    test('after close, data survives reopening (persistent stores)', async (t) => {
      const sut = await factory();
      if (sut.dispose) disposers.push(sut.dispose);
      if (!sut.reopen) {
        await sut.store.close();
        t.skip(`${name} does not persist`);
        return;
      }
      const { store } = sut;
      const alerts = [makeAlert(1), makeAlert(2, { rule: 'key-reuse' })];
      await store.saveEntries('cert-churn/seen', [
        ['alice', { certs: ['a', 'b'] }],
        ['bob', 1],
      ]);
      await store.saveEntries('cert-churn/seen', [['bob', undefined]]);
      await store.saveAlerts(alerts);
      await store.setMeta('last_run', '2026-01-05T09:00:00Z');
      const verdict = makeFeedback(alerts[1], { expires_at: '2026-06-01T00:00:00.000Z' });
      await store.saveFeedback(verdict);
      await store.close();
      await store.close(); // closing twice is harmless

      const reopened = await sut.reopen();
      try {
        assert.deepEqual([...(await reopened.loadNamespace('cert-churn/seen'))], [['alice', { certs: ['a', 'b'] }]]);
        assert.deepEqual(await reopened.listAlerts(), [alerts[1], alerts[0]]);
        assert.equal((await reopened.knownAlertIds(alerts.map((a) => a.id))).size, 2);
        assert.equal(await reopened.getMeta('last_run'), '2026-01-05T09:00:00Z');
        assert.deepEqual(await reopened.listFeedback(), [verdict]);
        assert.deepEqual(await reopened.getAlert(alerts[1].id), alerts[1]);
        assert.deepEqual([...(await reopened.alertCountsByRule())].sort(), [
          ['cert-churn', 1],
          ['key-reuse', 1],
        ]);
        // and keeps working after the reopen
        await reopened.saveEntries('cert-churn/seen', [['carol', 3]]);
        assert.equal((await reopened.loadNamespace('cert-churn/seen')).size, 2);
      } finally {
        await reopened.close();
      }
    });

    test('a closed store refuses further calls', async () => {
      const sut = await factory();
      if (sut.dispose) disposers.push(sut.dispose);
      await sut.store.close();
      await assert.rejects(sut.store.loadNamespace('ns'), /closed/);
      await assert.rejects(sut.store.saveEntries('ns', [['a', 1]]), /closed/);
      await assert.rejects(sut.store.saveAlerts([makeAlert(1)]), /closed/);
      await assert.rejects(sut.store.saveFeedback(makeFeedback(makeAlert(1))), /closed/);
      await assert.rejects(sut.store.listFeedback(), /closed/);
      await assert.rejects(sut.store.getAlert(alertId(1)), /closed/);
    });
  });
}
