import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryKeyedState } from '../detect/state.ts';
import { decayedScore, type EntityRisk, RiskScorer } from './risk.ts';

const config = { correlation_window_minutes: 1440, decay_half_life_minutes: 60 };
const MIN = 60_000;

test('signals for one entity add up within the window', () => {
  const scorer = new RiskScorer(config, new MemoryKeyedState<EntityRisk>());
  assert.equal(scorer.add('user:alice', 40, 0).score, 40);
  const second = scorer.add('user:alice', 60, 0);
  assert.equal(second.prior, 40);
  assert.equal(second.score, 100);
  assert.equal(second.signals, 2);
});

test('older signals decay by half each half-life', () => {
  const scorer = new RiskScorer(config, new MemoryKeyedState<EntityRisk>());
  scorer.add('user:bob', 40, 0);
  const later = scorer.add('user:bob', 10, 60 * MIN);
  assert.equal(later.prior, 20);
  assert.equal(later.score, 30);
});

test('nothing carries over past the correlation window', () => {
  const scorer = new RiskScorer(config, new MemoryKeyedState<EntityRisk>());
  scorer.add('user:carol', 100, 0);
  const next = scorer.add('user:carol', 5, 1441 * MIN);
  assert.equal(next.prior, 0);
  assert.equal(next.score, 5);
  assert.equal(next.signals, 1);
});

test('entities are scored independently', () => {
  const scorer = new RiskScorer(config, new MemoryKeyedState<EntityRisk>());
  scorer.add('user:a', 70, 0);
  assert.equal(scorer.add('user:b', 30, 0).score, 30);
});

test('an out-of-order (earlier) signal does not decay the score', () => {
  const risk: EntityRisk = { score: 50, ts: 10 * MIN, signals: 1 };
  assert.equal(decayedScore(risk, 5 * MIN, config), 50);
});

test('risk state is persisted through the keyed state (dirty entries)', () => {
  const state = new MemoryKeyedState<EntityRisk>();
  new RiskScorer(config, state).add('device:d1', 30, 1000);
  const dirty = state.takeDirty();
  assert.deepEqual(dirty, [['device:d1', { score: 30, ts: 1000, signals: 1 }]]);
  const reloaded = new MemoryKeyedState<EntityRisk>();
  reloaded.preload(new Map(dirty as [string, EntityRisk][]));
  assert.equal(new RiskScorer(config, reloaded).add('device:d1', 30, 1000).score, 60);
});
