// The seeded PRNG: same seed, same stream; different seeds and forks diverge; helpers stay in range.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRng, hashSeed } from './prng.ts';

const draw = (seed: string | number, n: number): number[] => {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => rng.next());
};

test('the same seed yields the same sequence', () => {
  assert.deepEqual(draw('abc', 100), draw('abc', 100));
  assert.deepEqual(draw(42, 100), draw('42', 100));
});

test('different seeds yield different sequences', () => {
  assert.notDeepEqual(draw('abc', 20), draw('abd', 20));
  assert.notEqual(hashSeed('a'), hashSeed('b'));
});

test('next() stays in [0, 1) and is roughly uniform', () => {
  const values = draw('uniform', 20_000);
  assert.ok(values.every((v) => v >= 0 && v < 1));
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  assert.ok(Math.abs(mean - 0.5) < 0.02, `mean ${mean}`);
  const buckets = new Array(10).fill(0);
  for (const v of values) buckets[Math.floor(v * 10)]++;
  for (const b of buckets) assert.ok(b > 1700 && b < 2300, `bucket ${b}`);
});

test('int() covers both bounds and nothing outside them', () => {
  const rng = createRng('int');
  const seen = new Set<number>();
  for (let i = 0; i < 2000; i++) {
    const v = rng.int(3, 7);
    assert.ok(Number.isInteger(v) && v >= 3 && v <= 7);
    seen.add(v);
  }
  assert.deepEqual([...seen].sort(), [3, 4, 5, 6, 7]);
});

test('weighted() follows the weights and never picks a zero weight', () => {
  const rng = createRng('weighted');
  const counts = { a: 0, b: 0, c: 0 };
  for (let i = 0; i < 10_000; i++) counts[rng.weighted(['a', 'b', 'c'] as const, [1, 3, 0])]++;
  assert.equal(counts.c, 0);
  assert.ok(counts.b > 2.5 * counts.a && counts.b < 3.5 * counts.a, JSON.stringify(counts));
});

test('fork() is deterministic, independent of draws on the parent, and differs by label', () => {
  const a = createRng('parent');
  const b = createRng('parent');
  b.next();
  b.next();
  assert.equal(a.fork('x').next(), b.fork('x').next());
  assert.notEqual(a.fork('x').next(), a.fork('y').next());
});

test('hex() returns the requested number of bytes', () => {
  const h = createRng('hex').hex(16);
  assert.match(h, /^[0-9a-f]{32}$/);
});

test('pick() refuses an empty array', () => {
  assert.throws(() => createRng(1).pick([]), RangeError);
});
