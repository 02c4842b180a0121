// Half-Space Trees (Tan, Ting & Liu, "Fast anomaly detection for streaming data", IJCAI 2011): an
// online, constant-memory anomaly detector for points in the unit box [0,1]^d.
//
// Each tree splits a randomly enlarged work range of the box in half at every node, on a randomly
// chosen dimension, down to a fixed depth. Each node keeps two masses: `ref` (points of the last
// complete window) and `latest` (points of the window being filled). Learning adds a point to
// `latest` along its root-to-leaf path; every `window` points, `latest` becomes `ref` and counting
// restarts. Scoring walks the path to the first node whose reference mass is below `sizeLimit`
// (or to a leaf) and adds `ref × 2^depth` over the trees: low in dense regions, 0 in empty ones.
//
// Determinism and size: the tree structure (split dimensions and split points) is a pure function
// of (seed, dims, trees, depth), so it is rebuilt from the seed and never stored. The serialisable
// state is the two mass arrays plus counters: `trees × (2^(depth+1) − 1)` integers each.

/** Serialisable state of a Half-Space Trees model (plain JSON: numbers and arrays only). */
export interface HstState {
  /** State format version. */
  v: 1;
  seed: number;
  dims: number;
  trees: number;
  depth: number;
  /** Points per window (reference ↔ latest swap period). */
  window: number;
  /** Points learnt into the current `latest` window (0 ≤ filled < window). */
  filled: number;
  /** Completed windows (swaps) so far; 0 = no reference profile yet. */
  windows: number;
  /** Reference masses, tree-major: node `i` of tree `t` at `t × nodes + i` (heap order). */
  ref: number[];
  /** Masses of the window being filled, same layout. */
  latest: number[];
}

/** Model parameters. */
export interface HstParams {
  seed: number;
  dims: number;
  trees: number;
  depth: number;
  window: number;
  /** Fraction of `window`: a node whose reference mass is below `sizeLimit × window` ends the walk. */
  sizeLimit: number;
}

/** One scoring result. */
export interface HstScore {
  /** The paper's mass score: Σ over trees of `ref(terminal) × 2^depth(terminal)`; lower = more anomalous. */
  mass: number;
  /** Anomaly in [0,1] (see `anomalyFromMass`); higher = more anomalous. */
  anomaly: number;
}

/**
 * A small deterministic PRNG (mulberry32): 32-bit state, uniform floats in [0,1). Not
 * cryptographic; it only has to make the same trees for the same seed on every platform.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Nodes of one complete binary tree of this depth (root depth 0, leaves at `depth`). */
export function nodesPerTree(depth: number): number {
  return 2 ** (depth + 1) - 1;
}

/** A fresh, empty state for these parameters. */
export function emptyState(p: HstParams): HstState {
  const n = p.trees * nodesPerTree(p.depth);
  return {
    v: 1,
    seed: p.seed,
    dims: p.dims,
    trees: p.trees,
    depth: p.depth,
    window: p.window,
    filled: 0,
    windows: 0,
    ref: new Array<number>(n).fill(0),
    latest: new Array<number>(n).fill(0),
  };
}

/** Whether a (possibly persisted) value is a usable state for these parameters. */
export function stateMatches(s: unknown, p: HstParams): s is HstState {
  if (typeof s !== 'object' || s === null) return false;
  const o = s as Partial<HstState>;
  const n = p.trees * nodesPerTree(p.depth);
  return (
    o.v === 1 &&
    o.seed === p.seed &&
    o.dims === p.dims &&
    o.trees === p.trees &&
    o.depth === p.depth &&
    o.window === p.window &&
    Number.isInteger(o.filled) &&
    Number.isInteger(o.windows) &&
    Array.isArray(o.ref) &&
    Array.isArray(o.latest) &&
    o.ref.length === n &&
    o.latest.length === n
  );
}

/**
 * Half-Space Trees over points in [0,1]^dims. The instance holds the (rebuilt) structure and works
 * on a state object it does not copy: callers may keep that object in a keyed state store.
 */
export class HalfSpaceTrees {
  readonly params: HstParams;
  readonly state: HstState;
  /** Nodes per tree. */
  private readonly nodes: number;
  /** Split dimension of each internal node, tree-major (leaves hold -1). */
  private readonly splitDim: Int32Array;
  /** Split point of each internal node, tree-major. */
  private readonly splitAt: Float64Array;
  private readonly sizeLimit: number;
  /** log2(1 + window × 2^depth): the normaliser of `anomaly`. */
  private readonly logMax: number;

  /**
   * @param params model parameters (the seed fixes the trees)
   * @param state a state from `toState()`/`emptyState()` for the same parameters, or undefined for a fresh model
   */
  constructor(params: HstParams, state?: HstState) {
    if (!(params.dims >= 1 && params.trees >= 1 && params.depth >= 1 && params.window >= 1)) {
      throw new RangeError('HalfSpaceTrees: dims, trees, depth and window must be ≥ 1');
    }
    if (state !== undefined && !stateMatches(state, params))
      throw new RangeError('HalfSpaceTrees: state does not match the parameters');
    this.params = params;
    this.state = state ?? emptyState(params);
    this.nodes = nodesPerTree(params.depth);
    this.sizeLimit = params.sizeLimit * params.window;
    this.logMax = Math.log2(1 + params.window * 2 ** params.depth);
    const total = params.trees * this.nodes;
    this.splitDim = new Int32Array(total).fill(-1);
    this.splitAt = new Float64Array(total);
    this.build();
  }

  /**
   * The paper's BuildSingleHS-Tree, for every tree in turn from one PRNG stream: each dimension gets
   * a work range `[s − 2·max(s, 1−s), s + 2·max(s, 1−s)]` around a uniform `s` (so every tree covers
   * the whole unit box with a random offset); each internal node, in heap order, splits the range
   * of a uniformly chosen dimension at its middle.
   */
  private build(): void {
    const { dims, trees, depth } = this.params;
    const rnd = mulberry32(this.params.seed);
    const internal = 2 ** depth - 1;
    // Per node range of each dimension, heap order; refilled per tree.
    const lo = new Float64Array(this.nodes * dims);
    const hi = new Float64Array(this.nodes * dims);
    for (let t = 0; t < trees; t++) {
      for (let q = 0; q < dims; q++) {
        const s = rnd();
        const r = 2 * Math.max(s, 1 - s);
        lo[q] = s - r;
        hi[q] = s + r;
      }
      const base = t * this.nodes;
      for (let i = 0; i < internal; i++) {
        const q = Math.min(dims - 1, Math.floor(rnd() * dims));
        const mid = (lo[i * dims + q] + hi[i * dims + q]) / 2;
        this.splitDim[base + i] = q;
        this.splitAt[base + i] = mid;
        const l = 2 * i + 1;
        const r = 2 * i + 2;
        for (let k = 0; k < dims; k++) {
          lo[l * dims + k] = lo[i * dims + k];
          hi[l * dims + k] = hi[i * dims + k];
          lo[r * dims + k] = lo[i * dims + k];
          hi[r * dims + k] = hi[i * dims + k];
        }
        hi[l * dims + q] = mid;
        lo[r * dims + q] = mid;
      }
    }
  }

  /** Whether a reference profile exists (at least one full window has been learnt). */
  get ready(): boolean {
    return this.state.windows > 0;
  }

  /** Adds a point to the latest window; swaps windows when it is full. */
  learn(x: ArrayLike<number>): void {
    const s = this.state;
    const latest = s.latest;
    const depth = this.params.depth;
    for (let t = 0; t < this.params.trees; t++) {
      const base = t * this.nodes;
      let i = 0;
      for (let k = 0; ; k++) {
        latest[base + i] += 1;
        if (k === depth) break;
        i = x[this.splitDim[base + i]] < this.splitAt[base + i] ? 2 * i + 1 : 2 * i + 2;
      }
    }
    s.filled += 1;
    if (s.filled >= s.window) {
      // Window swap: the finished window becomes the reference, a new one starts empty.
      const ref = s.ref;
      for (let j = 0; j < ref.length; j++) {
        ref[j] = latest[j];
        latest[j] = 0;
      }
      s.filled = 0;
      s.windows += 1;
    }
  }

  /** Mass score and anomaly of a point against the reference profile. */
  score(x: ArrayLike<number>): HstScore {
    const mass = this.mass(x);
    return { mass, anomaly: this.anomalyFromMass(mass) };
  }

  /** The paper's score: Σ_trees ref(terminal) × 2^depth(terminal). */
  mass(x: ArrayLike<number>): number {
    const ref = this.state.ref;
    const depth = this.params.depth;
    let sum = 0;
    for (let t = 0; t < this.params.trees; t++) {
      const base = t * this.nodes;
      let i = 0;
      for (let k = 0; ; k++) {
        const r = ref[base + i];
        if (k === depth || r < this.sizeLimit) {
          sum += r * 2 ** k;
          break;
        }
        i = x[this.splitDim[base + i]] < this.splitAt[base + i] ? 2 * i + 1 : 2 * i + 2;
      }
    }
    return sum;
  }

  /**
   * Maps a mass score to [0,1]: `1 − log2(1 + mass/trees) / log2(1 + window × 2^depth)`. 0 = every
   * tree ends in a leaf holding the whole window (the densest possible point); 1 = every tree ends
   * in an empty node. The log makes equal ratios of mass equal steps of anomaly.
   */
  anomalyFromMass(mass: number): number {
    const a = 1 - Math.log2(1 + mass / this.params.trees) / this.logMax;
    return Math.min(1, Math.max(0, a));
  }

  /**
   * Per-dimension mass deficits: along each tree's scoring path, a step from a node with reference
   * mass `r` to the child holding the point with mass `c` loses `log2((r + 1) / (2·(c + 1)))` bits
   * more than an even split would; a positive loss is credited to the node's split dimension. The
   * result, per dimension, is the credited bits divided by the total (shares summing to 1), or all
   * zeros when no step lost mass. It says which dimensions led the point into sparse regions, and —
   * unlike leave-one-out — it still credits each of several redundant anomalous dimensions.
   */
  attribution(x: ArrayLike<number>): number[] {
    const ref = this.state.ref;
    const depth = this.params.depth;
    const bits = new Array<number>(this.params.dims).fill(0);
    for (let t = 0; t < this.params.trees; t++) {
      const base = t * this.nodes;
      let i = 0;
      for (let k = 0; k < depth; k++) {
        const r = ref[base + i];
        if (r < this.sizeLimit) break;
        const q = this.splitDim[base + i];
        const c = x[q] < this.splitAt[base + i] ? 2 * i + 1 : 2 * i + 2;
        const loss = Math.log2((r + 1) / (2 * (ref[base + c] + 1)));
        if (loss > 0) bits[q] += loss;
        i = c;
      }
    }
    let total = 0;
    for (const b of bits) total += b;
    return total > 0 ? bits.map((b) => b / total) : bits;
  }
}
