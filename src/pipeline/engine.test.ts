import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Type } from 'typebox';
import { makeEvent } from '../../tests/helpers/events.ts';
import type { Rule } from '../detect/types.ts';
import { DEFAULT_POLICY } from '../policy/policy.ts';
import { alertId } from '../score/alert.ts';
import { DetectionEngine } from './engine.ts';

// A rule written for this test: fires for every event of user "mallory", one finding per device.
const everyMallory: Rule<{ enabled: boolean }> = {
  meta: {
    id: 'test-mallory',
    title: 'Mallory seen',
    description: 'test rule',
    default_weight: 30,
    variant_weights: { loud: 90 },
    references: [],
    false_positives: [],
  },
  configSchema: Type.Object({ enabled: Type.Boolean() }),
  defaults: { enabled: true },
  create(_config, ctx) {
    const seen = ctx.state<number>('seen');
    return {
      observe(event, emit) {
        if (event.user !== 'mallory') return;
        seen.set(event.device ?? '-', (seen.get(event.device ?? '-') ?? 0) + 1);
        emit({
          rule: 'test-mallory',
          variant: event.service === 'loud' ? 'loud' : undefined,
          summary: `mallory on ${event.device}`,
          dedup_key: `${event.device}`,
          event,
          evidence: { device: event.device },
        });
      },
    };
  },
};

function engine(extra: Partial<ConstructorParameters<typeof DetectionEngine>[0]> = {}) {
  return new DetectionEngine({
    rules: [everyMallory],
    ruleConfig: {},
    weights: { 'test-mallory': 30, 'test-mallory.loud': 90 },
    risk: { correlation_window_minutes: 1440, decay_half_life_minutes: 360 },
    policy: DEFAULT_POLICY,
    facts: { trustAnchorsConfigured: false, crlsConfigured: false, assetsConfigured: false, identitiesConfigured: false },
    ...extra,
  });
}

test('a signal becomes an alert with a deterministic id, severity and action from the score', () => {
  const e = engine();
  const [alert] = e.process(makeEvent({ user: 'mallory', device: 'laptop-1', source_ip: '10.0.0.1' }));
  assert.equal(alert.id, alertId('test-mallory', 'laptop-1'));
  assert.match(alert.id, /^cs-[0-9a-f]{24}$/);
  assert.equal(alert.score, 30);
  assert.equal(alert.severity, 'low');
  assert.equal(alert.action, 'allow');
  assert.equal(alert.user, 'mallory');
  assert.equal(alert.source_ip, '10.0.0.1');
  assert.deepEqual(alert.entity, { kind: 'user', id: 'mallory' });
});

test('one finding is reported once even when the rule signals it again', () => {
  const e = engine();
  assert.equal(e.process(makeEvent({ user: 'mallory', device: 'd1' })).length, 1);
  assert.equal(e.process(makeEvent({ user: 'mallory', device: 'd1' })).length, 0);
  assert.equal(e.stats.duplicates, 1);
});

test('signals for one entity correlate: the third weak finding escalates to high / deny', () => {
  const e = engine();
  const at = Date.parse('2026-01-05T09:00:00Z');
  const scores = ['d1', 'd2', 'd3'].map((device, i) => e.process(makeEvent({ user: 'mallory', device, at: at + i * 60_000 }))[0]);
  assert.deepEqual(
    scores.map((a) => a.severity),
    ['low', 'medium', 'high'],
  );
  assert.equal(scores[2].action, 'deny');
  assert.ok(scores[2].score > 80 && scores[2].score < 90, `decayed sum ${scores[2].score}`);
});

test('variant weights apply', () => {
  const [alert] = engine().process(makeEvent({ user: 'mallory', device: 'd9', service: 'loud' }));
  assert.equal(alert.score, 90);
  assert.equal(alert.severity, 'high');
  assert.equal(alert.evidence.variant, 'loud');
});

test('allowlisted signals are suppressed and counted, not scored', () => {
  const e = engine({ allowlisted: (s) => (s.event.device === 'lab' ? 'lab device' : null) });
  assert.equal(e.process(makeEvent({ user: 'mallory', device: 'lab' })).length, 0);
  assert.equal(e.stats.suppressed.get('test-mallory'), 1);
  assert.equal(e.process(makeEvent({ user: 'mallory', device: 'other' }))[0].score, 30);
});

test('a disabled rule does not run', () => {
  const e = engine({ ruleConfig: { 'test-mallory': { enabled: false } } });
  assert.equal(e.process(makeEvent({ user: 'mallory', device: 'd1' })).length, 0);
  assert.deepEqual(e.enabledRules, []);
});

test('ids already emitted by an earlier run are not emitted again', () => {
  const e = engine();
  e.rememberEmitted([alertId('test-mallory', 'd1')]);
  assert.equal(e.process(makeEvent({ user: 'mallory', device: 'd1' })).length, 0);
});

// A rule that watches issuance events only and decides at end of input.
const deferred: Rule<{ enabled: boolean }> = {
  meta: { ...everyMallory.meta, id: 'test-deferred', event_kinds: ['issuance'] },
  configSchema: Type.Object({ enabled: Type.Boolean() }),
  defaults: { enabled: true },
  create() {
    const held: import('../schema/event.ts').NormalizedEvent[] = [];
    return {
      observe(event) {
        held.push(event);
      },
      finish(emit) {
        for (const event of held)
          emit({ rule: 'test-deferred', summary: 'held', dedup_key: String(event.ts), event, evidence: {} });
      },
    };
  },
};

test('rules see only the event kinds they declare (default: authentication)', () => {
  const e = engine({ rules: [everyMallory, deferred], weights: { 'test-mallory': 30, 'test-deferred': 10 } });
  // An issuance for mallory reaches the issuance rule, not the authentication rule.
  assert.equal(e.process(makeEvent({ user: 'mallory', device: 'd1', kind: 'issuance' })).length, 0);
  assert.equal(e.process(makeEvent({ user: 'mallory', device: 'd2', kind: 'enrollment' })).length, 0);
  const auth = e.process(makeEvent({ user: 'mallory', device: 'd3' }));
  assert.deepEqual(
    auth.map((a) => a.rule),
    ['test-mallory'],
  );
  const last = e.finish();
  assert.deepEqual(
    last.map((a) => a.rule),
    ['test-deferred'],
  );
  assert.equal(last[0].device, 'd1');
  assert.equal(e.stats.alerts, 2);
});
