import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { emptyState, HalfSpaceTrees, type HstParams, mulberry32, nodesPerTree, stateMatches } from './hst.ts';

const PARAMS: HstParams = { seed: 42, dims: 3, trees: 25, depth: 8, window: 200, sizeLimit: 0.1 };

/** Points around a centre (uniform in a small cube), from a seeded generator. */
function cluster(seed: number, n: number, centre: number[], spread = 0.1): number[][] {
  const rnd = mulberry32(seed);
  return Array.from({ length: n }, () => centre.map((c) => c + (rnd() - 0.5) * 2 * spread));
}

function trained(params: HstParams, points: number[][]): HalfSpaceTrees {
  const m = new HalfSpaceTrees(params);
  for (const p of points) m.learn(p);
  return m;
}

describe('mulberry32', () => {
  test('the same seed gives the same sequence in [0,1); another seed another one', () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    const c = mulberry32(8);
    const xs = Array.from({ length: 1000 }, () => a());
    assert.deepEqual(
      xs,
      Array.from({ length: 1000 }, () => b()),
    );
    assert.notDeepEqual(
      xs.slice(0, 10),
      Array.from({ length: 10 }, () => c()),
    );
    assert.ok(xs.every((x) => x >= 0 && x < 1));
    // Roughly uniform: every tenth of [0,1) gets 70–130 of 1000 draws.
    for (let d = 0; d < 10; d++) {
      const n = xs.filter((x) => Math.floor(x * 10) === d).length;
      assert.ok(n > 70 && n < 130, `decile ${d}: ${n}`);
    }
  });
});

describe('HalfSpaceTrees', () => {
  test('a point in the dense region scores lower than an isolated point', () => {
    const m = trained(PARAMS, cluster(1, 2 * PARAMS.window, [0.3, 0.3, 0.3]));
    const dense = m.score([0.3, 0.3, 0.3]);
    const isolated = m.score([0.95, 0.9, 0.95]);
    assert.ok(dense.mass > isolated.mass, `${dense.mass} > ${isolated.mass}`);
    assert.ok(dense.anomaly < 0.3, `dense anomaly ${dense.anomaly}`);
    assert.ok(isolated.anomaly > 0.8, `isolated anomaly ${isolated.anomaly}`);
  });

  test('property: for any seed and cluster centre, the centre scores below a point far from it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.array(fc.double({ min: 0.15, max: 0.35, noNaN: true }), { minLength: 3, maxLength: 3 }),
        (seed, centre) => {
          const m = trained({ ...PARAMS, seed }, cluster(seed ^ 0x5bd1e995, 2 * PARAMS.window, centre, 0.08));
          const far = centre.map((c) => c + 0.6);
          return m.score(centre).anomaly < m.score(far).anomaly;
        },
      ),
      { numRuns: 40, seed: 4 },
    );
  });

  test('is deterministic for a seed, and the seed changes the trees', () => {
    const points = cluster(2, 3 * PARAMS.window, [0.5, 0.2, 0.7]);
    const a = trained(PARAMS, points);
    const b = trained(PARAMS, points);
    const c = trained({ ...PARAMS, seed: 43 }, points);
    const probes = cluster(3, 200, [0.5, 0.5, 0.5], 0.5);
    assert.deepEqual(
      probes.map((p) => a.score(p)),
      probes.map((p) => b.score(p)),
    );
    assert.deepEqual(a.state, b.state);
    assert.notDeepEqual(
      probes.map((p) => a.score(p).mass),
      probes.map((p) => c.score(p).mass),
    );
  });

  test('window swap: latest becomes the reference every `window` points, scores use the reference only', () => {
    const n = nodesPerTree(PARAMS.depth);
    const m = new HalfSpaceTrees(PARAMS);
    const pts = cluster(4, 3 * PARAMS.window, [0.4, 0.6, 0.4]);
    // First window: no reference yet, every point has mass 0 (maximally anomalous).
    for (let i = 0; i < PARAMS.window - 1; i++) m.learn(pts[i]);
    assert.equal(m.ready, false);
    assert.equal(m.state.filled, PARAMS.window - 1);
    assert.equal(m.score([0.4, 0.6, 0.4]).mass, 0);
    assert.equal(m.score([0.4, 0.6, 0.4]).anomaly, 1);
    m.learn(pts[PARAMS.window - 1]);
    assert.equal(m.ready, true);
    assert.equal(m.state.windows, 1);
    assert.equal(m.state.filled, 0);
    for (let t = 0; t < PARAMS.trees; t++) {
      assert.equal(m.state.ref[t * n], PARAMS.window, 'root reference mass = window');
      // Masses are conserved down the tree: each node's mass is the sum of its children's.
      for (let i = 0; i < (n - 1) / 2; i++)
        assert.equal(m.state.ref[t * n + i], m.state.ref[t * n + 2 * i + 1] + m.state.ref[t * n + 2 * i + 2]);
    }
    assert.ok(m.state.latest.every((v) => v === 0));
    // Learning far-away points fills `latest` but does not change scores until the next swap.
    const before = m.score([0.9, 0.1, 0.9]);
    for (let i = 0; i < PARAMS.window - 1; i++) m.learn([0.9, 0.1, 0.9]);
    assert.deepEqual(m.score([0.9, 0.1, 0.9]), before);
    assert.equal(m.state.latest[0], PARAMS.window - 1);
    m.learn([0.9, 0.1, 0.9]);
    assert.equal(m.state.windows, 2);
    // Now the reference is the window of far-away points: that point is dense, the old cluster empty.
    assert.ok(m.score([0.9, 0.1, 0.9]).anomaly < 0.2);
    assert.ok(m.score([0.4, 0.6, 0.4]).anomaly > before.anomaly);
  });

  test('a JSON round trip of the state gives identical scores, attributions and further learning', () => {
    const pts = cluster(5, 2 * PARAMS.window + 37, [0.3, 0.7, 0.5]);
    const a = trained(PARAMS, pts);
    const restored = JSON.parse(JSON.stringify(a.state));
    assert.ok(stateMatches(restored, PARAMS));
    const b = new HalfSpaceTrees(PARAMS, restored);
    const probes = cluster(6, 300, [0.5, 0.5, 0.5], 0.5);
    assert.deepEqual(
      probes.map((p) => [a.score(p), a.attribution(p)]),
      probes.map((p) => [b.score(p), b.attribution(p)]),
    );
    const more = cluster(7, PARAMS.window, [0.6, 0.2, 0.2]);
    for (const p of more) {
      a.learn(p);
      b.learn(p);
    }
    assert.deepEqual(a.state, b.state);
    assert.deepEqual(
      probes.map((p) => a.score(p)),
      probes.map((p) => b.score(p)),
    );
  });

  test('a state for other parameters is refused', () => {
    const s = emptyState(PARAMS);
    assert.equal(stateMatches(s, { ...PARAMS, seed: 1 }), false);
    assert.equal(stateMatches(s, { ...PARAMS, depth: 7 }), false);
    assert.equal(stateMatches({ ...s, ref: s.ref.slice(1) }, PARAMS), false);
    assert.equal(stateMatches(null, PARAMS), false);
    assert.throws(() => new HalfSpaceTrees({ ...PARAMS, trees: 3 }, s), RangeError);
    assert.throws(() => new HalfSpaceTrees({ ...PARAMS, dims: 0 }), RangeError);
  });

  test('attribution credits the dimension that isolates a point', () => {
    const m = trained(PARAMS, cluster(8, 2 * PARAMS.window, [0.3, 0.3, 0.3], 0.05));
    for (let q = 0; q < 3; q++) {
      const p = [0.3, 0.3, 0.3];
      p[q] = 0.95;
      const shares = m.attribution(p);
      assert.ok(Math.abs(shares.reduce((x, y) => x + y, 0) - 1) < 1e-9);
      assert.equal(shares.indexOf(Math.max(...shares)), q, `dimension ${q}: ${shares}`);
      assert.ok(shares[q] > 0.8, `dimension ${q} share ${shares[q]}`);
    }
    // Off in two dimensions: both are credited, each more than the third.
    const s2 = m.attribution([0.95, 0.3, 0.95]);
    assert.ok(s2[0] > s2[1] && s2[2] > s2[1], `${s2}`);
  });
});
