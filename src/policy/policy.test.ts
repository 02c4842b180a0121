import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_POLICY, decide, severityAtLeast, severityFor } from './policy.ts';

test('score bands follow the seed: >80 deny, 40–80 step-up, below allow', () => {
  assert.deepEqual(decide(39.99, DEFAULT_POLICY), { severity: 'low', action: 'allow' });
  assert.deepEqual(decide(40, DEFAULT_POLICY), { severity: 'medium', action: 'step-up' });
  assert.deepEqual(decide(80, DEFAULT_POLICY), { severity: 'medium', action: 'step-up' });
  assert.deepEqual(decide(80.01, DEFAULT_POLICY), { severity: 'high', action: 'deny' });
  assert.deepEqual(decide(120, DEFAULT_POLICY), { severity: 'high', action: 'deny' });
  assert.deepEqual(decide(121, DEFAULT_POLICY), { severity: 'critical', action: 'deny' });
});

test('thresholds and actions are configurable', () => {
  const policy = {
    thresholds: { medium: 10, high: 20, critical: 30 },
    actions: { ...DEFAULT_POLICY.actions, medium: 'allow' as const },
  };
  assert.equal(severityFor(15, policy), 'medium');
  assert.equal(decide(15, policy).action, 'allow');
});

test('severityAtLeast orders low < medium < high < critical', () => {
  assert.equal(severityAtLeast('high', 'medium'), true);
  assert.equal(severityAtLeast('medium', 'high'), false);
  assert.equal(severityAtLeast('critical', 'critical'), true);
});
