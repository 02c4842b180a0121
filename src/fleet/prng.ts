// A small seeded PRNG (mulberry32 with a string-hash seeder) for the fleet generator, so the
// structure of generated estates and event streams is a pure function of the seed.

/** A deterministic random source. Every method advances the same underlying stream. */
export interface Rng {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform integer in [min, max] (inclusive). */
  int(min: number, max: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T;
  /** One element chosen with the given relative weights (same length as items). */
  weighted<T>(items: readonly T[], weights: readonly number[]): T;
  /** Approximately normal (mean, sd) via the sum of uniforms (cheap, bounded). */
  normal(mean: number, sd: number): number;
  /** `count` random bytes as lowercase hex. */
  hex(bytes: number): string;
  /**
   * An independent stream derived from this seed and `label` (does not advance this stream),
   * so adding draws in one part of a generator does not shift every other part.
   */
  fork(label: string): Rng;
}

/** 32-bit FNV-1a of a string, then mixed: turns any seed text into a 32-bit state. */
export function hashSeed(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Creates a mulberry32 generator from a numeric or text seed. */
export function createRng(seed: number | string): Rng {
  const seedText = String(seed);
  let state = hashSeed(seedText);
  const next = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const rng: Rng = {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (p) => next() < p,
    pick: (items) => {
      if (items.length === 0) throw new RangeError('pick from an empty array');
      return items[Math.floor(next() * items.length)];
    },
    weighted: (items, weights) => {
      let total = 0;
      for (const w of weights) total += w;
      let r = next() * total;
      for (let i = 0; i < items.length; i++) {
        r -= weights[i];
        if (r < 0) return items[i];
      }
      return items[items.length - 1];
    },
    normal: (mean, sd) => {
      // Irwin–Hall with 6 uniforms: variance 0.5, so scale by sqrt(2).
      let s = 0;
      for (let i = 0; i < 6; i++) s += next();
      return mean + (s - 3) * Math.SQRT2 * sd;
    },
    hex: (bytes) => {
      let out = '';
      for (let i = 0; i < bytes; i++)
        out += Math.floor(next() * 256)
          .toString(16)
          .padStart(2, '0');
      return out;
    },
    fork: (label) => createRng(`${seedText}/${label}`),
  };
  return rng;
}
