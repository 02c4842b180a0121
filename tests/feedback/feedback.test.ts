// Analyst feedback below the CLI: verdicts recorded against a store, suppressions matched per
// signal by the detection engine (scopes, latest verdict wins, expiry, true positives), durations
// and per-rule statistics.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Type } from 'typebox';
import type { Rule } from '../../src/detect/types.ts';
import { CertsignalError } from '../../src/errors.ts';
import { FeedbackSuppressions, parseDuration, recordFeedback, ruleStats } from '../../src/feedback/index.ts';
import { DetectionEngine } from '../../src/pipeline/engine.ts';
import { DEFAULT_POLICY } from '../../src/policy/policy.ts';
import type { Alert } from '../../src/schema/alert.ts';
import { MemoryStateStore } from '../../src/store/memory.ts';
import type { FeedbackRecord } from '../../src/store/types.ts';
import { makeEvent } from '../helpers/events.ts';
import { makeAlert, makeFeedback } from '../store/conformance.ts';

/** A test rule that fires once per (device, service) for every event that names a device. */
function deviceRule(id: string): Rule<{ enabled: boolean }> {
  return {
    meta: { id, title: id, description: 'test rule', default_weight: 30, references: [], false_positives: [] },
    configSchema: Type.Object({ enabled: Type.Boolean() }),
    defaults: { enabled: true },
    create() {
      return {
        observe(event, emit) {
          if (!event.device) return;
          emit({
            rule: id,
            summary: `${id} on ${event.device}`,
            dedup_key: `${event.device}|${event.service}`,
            event,
            evidence: {},
          });
        },
      };
    },
  };
}

const RULE_A = deviceRule('test-a');
const RULE_B = deviceRule('test-b');
const NOW = Date.parse('2026-03-10T12:00:00Z');
const DAY = 86_400_000;

function engineWith(history: FeedbackRecord[], nowMs = NOW): DetectionEngine {
  const feedback = FeedbackSuppressions.fromHistory(history, nowMs);
  return new DetectionEngine({
    rules: [RULE_A, RULE_B],
    ruleConfig: {},
    weights: { 'test-a': 30, 'test-b': 30 },
    risk: { correlation_window_minutes: 1440, decay_half_life_minutes: 360 },
    policy: DEFAULT_POLICY,
    facts: { trustAnchorsConfigured: false, crlsConfigured: false, assetsConfigured: false, identitiesConfigured: false },
    suppressedByFeedback: (signal) => feedback.match(signal) !== null,
  });
}

/** The alert a first run produced for `device` (riskEntity: a device-only event scores the device). */
function firstAlert(rule: 'test-a' | 'test-b', device: string, service = 'vpn'): Alert {
  const alerts = engineWith([]).process(makeEvent({ device, service }));
  const alert = alerts.find((a) => a.rule === rule);
  assert.ok(alert, `${rule} fires for ${device}`);
  return alert;
}

/** Rules that alerted on one later event of `device` on another service (so: new alert ids). */
function laterRules(engine: DetectionEngine, device: string, service = 'mail'): string[] {
  return engine
    .process(makeEvent({ device, service }))
    .map((a) => a.rule)
    .sort();
}

describe('feedback suppressions in the detection engine', () => {
  test('scope rule: that rule is suppressed for that entity only, counted per rule', () => {
    const alert = firstAlert('test-a', 'dev-x');
    assert.deepEqual(alert.entity, { kind: 'device', id: 'dev-x' });
    const engine = engineWith([makeFeedback(alert, { scope: 'rule' })]);
    assert.deepEqual(laterRules(engine, 'dev-x'), ['test-b']);
    assert.deepEqual(laterRules(engine, 'dev-y'), ['test-a', 'test-b'], 'another entity is not affected');
    assert.deepEqual([...engine.stats.suppressedByFeedback], [['test-a', 1]]);
    assert.equal(engine.stats.suppressed.size, 0, 'allowlist counts stay separate');
  });

  test('scope entity: every rule is suppressed for that entity', () => {
    const engine = engineWith([makeFeedback(firstAlert('test-a', 'dev-x'), { scope: 'entity' })]);
    assert.deepEqual(laterRules(engine, 'dev-x'), []);
    assert.deepEqual(laterRules(engine, 'dev-y'), ['test-a', 'test-b']);
    assert.deepEqual(Object.fromEntries(engine.stats.suppressedByFeedback), { 'test-a': 1, 'test-b': 1 });
  });

  test('scope alert: only that finding (same alert id) is suppressed, not the rule for the entity', () => {
    const alert = firstAlert('test-a', 'dev-x', 'vpn');
    const engine = engineWith([makeFeedback(alert, { scope: 'alert' })]);
    assert.deepEqual(
      engine.process(makeEvent({ device: 'dev-x', service: 'vpn' })).map((a) => a.rule),
      ['test-b'],
    );
    assert.deepEqual(laterRules(engine, 'dev-x', 'mail'), ['test-a', 'test-b']);
    assert.equal(engine.stats.suppressedByFeedback.get('test-a'), 1);
  });

  test('a suppressed signal adds no risk to its entity', () => {
    const alert = firstAlert('test-a', 'dev-x');
    const engine = engineWith([makeFeedback(alert, { scope: 'rule' })]);
    const [b] = engine.process(makeEvent({ device: 'dev-x', service: 'mail' }));
    assert.equal(b.score, 30, 'only test-b scored');
  });

  test('true-positive verdicts never suppress, whatever their scope', () => {
    const alert = firstAlert('test-a', 'dev-x');
    const history = (['alert', 'rule', 'entity'] as const).map((scope) =>
      makeFeedback(alert, { verdict: 'true-positive', scope }),
    );
    for (const record of history) {
      const engine = engineWith([record]);
      assert.deepEqual(
        engine
          .process(makeEvent({ device: 'dev-x', service: 'vpn' }))
          .map((a) => a.rule)
          .sort(),
        ['test-a', 'test-b'],
      );
      assert.equal(engine.stats.suppressedByFeedback.size, 0);
    }
    assert.equal(FeedbackSuppressions.fromHistory(history, NOW).size, 0);
  });

  test("expiry is judged against the run's wall clock: active before expires_at, not from it on", () => {
    const alert = firstAlert('test-a', 'dev-x');
    const record = makeFeedback(alert, { scope: 'rule', expires_at: new Date(NOW + DAY).toISOString() });
    assert.deepEqual(laterRules(engineWith([record], NOW + DAY - 1), 'dev-x'), ['test-b']);
    assert.deepEqual(laterRules(engineWith([record], NOW + DAY), 'dev-x'), ['test-a', 'test-b']);
    // event time plays no part: an event long before the expiry is not suppressed by an expired verdict
    const engine = engineWith([record], NOW + 2 * DAY);
    assert.deepEqual(
      engine
        .process(makeEvent({ device: 'dev-x', service: 'mail', at: '2026-01-01T00:00:00Z' }))
        .map((a) => a.rule)
        .sort(),
      ['test-a', 'test-b'],
    );
  });

  test('the latest verdict on an alert wins: false positive then true positive no longer suppresses, and back', () => {
    const alert = firstAlert('test-a', 'dev-x');
    const fp = makeFeedback(alert, { scope: 'rule' });
    const tp = makeFeedback(alert, { verdict: 'true-positive' });
    assert.deepEqual(laterRules(engineWith([fp, tp]), 'dev-x'), ['test-a', 'test-b']);
    assert.deepEqual(laterRules(engineWith([tp, fp]), 'dev-x'), ['test-b']);
  });

  test('a user entity and a device entity with the same name are different entities', () => {
    const alert = firstAlert('test-a', 'shared-name');
    const engine = engineWith([makeFeedback(alert, { scope: 'entity' })]);
    const rules = engine
      .process(makeEvent({ user: 'shared-name', device: 'other', service: 'mail' }))
      .map((a) => a.rule)
      .sort();
    assert.deepEqual(rules, ['test-a', 'test-b'], 'the user-scored signal is not suppressed by a device verdict');
  });
});

describe('recordFeedback', () => {
  test('copies rule and entity from the stored alert and computes expiry from the wall clock', async () => {
    const store = new MemoryStateStore();
    const alert = makeAlert(1, { rule: 'key-reuse', entity: { kind: 'device', id: 'dev-7' } });
    await store.saveAlerts([alert]);
    const record = await recordFeedback(store, {
      alertId: alert.id,
      verdict: 'false-positive',
      scope: 'rule',
      expiresInMs: parseDuration('30d'),
      reason: 'pentest',
      nowMs: NOW,
    });
    assert.deepEqual(record, {
      alert_id: alert.id,
      verdict: 'false-positive',
      scope: 'rule',
      rule: 'key-reuse',
      entity: { kind: 'device', id: 'dev-7' },
      reason: 'pentest',
      created_at: '2026-03-10T12:00:00.000Z',
      expires_at: '2026-04-09T12:00:00.000Z',
    });
    assert.deepEqual(await store.listFeedback(), [record]);
    const defaults = await recordFeedback(store, { alertId: alert.id, verdict: 'true-positive', nowMs: NOW });
    assert.equal(defaults.scope, 'alert');
    assert.equal(defaults.expires_at, null);
    assert.equal(defaults.reason, null);
  });

  test('an alert id the store never saw is a usage error (exit 2) and stores nothing', async () => {
    const store = new MemoryStateStore();
    await assert.rejects(
      recordFeedback(store, { alertId: 'cs-000000000000000000000000', verdict: 'false-positive', nowMs: NOW }),
      (error: unknown) => {
        assert.ok(error instanceof CertsignalError);
        assert.equal(error.exitCode, 2);
        assert.match(error.message, /cs-000000000000000000000000 is not in this state store/);
        return true;
      },
    );
    assert.deepEqual(await store.listFeedback(), []);
  });
});

describe('parseDuration', () => {
  test('hours, days and weeks', () => {
    assert.equal(parseDuration('12h'), 12 * 3_600_000);
    assert.equal(parseDuration('30d'), 30 * DAY);
    assert.equal(parseDuration('2w'), 14 * DAY);
    assert.equal(parseDuration('1D'), DAY);
  });

  test('anything else is a usage error naming the value', () => {
    for (const bad of ['', 'd', '30', '0d', '-1d', '1.5d', '30m', '30 d', 'forever', '9999999d']) {
      assert.throws(
        () => parseDuration(bad),
        (error: unknown) => error instanceof CertsignalError && error.message.includes(`"${bad}"`),
        bad,
      );
    }
  });
});

describe('ruleStats', () => {
  test('per rule: stored alerts, current verdicts, precision (null without verdicts) and active suppressions', async () => {
    const store = new MemoryStateStore();
    const churn = [makeAlert(1), makeAlert(2), makeAlert(3), makeAlert(4)];
    const reuse = makeAlert(5, { rule: 'key-reuse' });
    const foreign = makeAlert(6, { rule: 'retired-rule' });
    await store.saveAlerts([...churn, reuse, foreign]);
    const at = (n: number) => new Date(NOW - n * DAY).toISOString();
    for (const record of [
      makeFeedback(churn[0], { verdict: 'false-positive', scope: 'rule' }),
      makeFeedback(churn[1], { verdict: 'false-positive', scope: 'entity', expires_at: at(1) }), // expired
      makeFeedback(churn[2], { verdict: 'false-positive', scope: 'alert' }),
      makeFeedback(churn[2], { verdict: 'true-positive', scope: 'alert' }), // supersedes the FP
      makeFeedback(churn[3], { verdict: 'true-positive', scope: 'rule' }),
    ]) {
      await store.saveFeedback(record);
    }
    const rows = await ruleStats(store, ['cert-churn', 'key-reuse', 'expired-cert'], NOW);
    assert.deepEqual(
      rows.map((r) => r.rule),
      ['cert-churn', 'key-reuse', 'expired-cert', 'retired-rule'],
    );
    const [c, k, e, r] = rows;
    assert.deepEqual(c, {
      rule: 'cert-churn',
      alerts: 4,
      true_positives: 2,
      false_positives: 2,
      precision: 0.5,
      suppressions_active: 1,
      suppressions_by_scope: { alert: 0, rule: 1, entity: 0 },
    });
    assert.equal(k.alerts, 1);
    assert.equal(k.precision, null);
    assert.equal(e.alerts, 0);
    assert.equal(e.precision, null);
    assert.equal(r.alerts, 1);
  });
});
