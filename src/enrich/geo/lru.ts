// A bounded least-recently-used cache on a Map (insertion order = recency): geo lookups repeat
// the same few thousand client addresses, and a log of millions of lines must not grow memory.

/** Bounded LRU map; `get` refreshes an entry, `set` evicts the least recently used past `max`. */
export class LruCache<K, V> {
  private readonly map = new Map<K, V>();
  readonly max: number;
  hits = 0;
  misses = 0;

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`LRU size must be a positive integer, got ${max}`);
    this.max = max;
  }

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    const value = this.map.get(key);
    if (value === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.map.delete(key);
    this.map.set(key, value);
    return value;
  }

  set(key: K, value: V): void {
    if (this.map.has(key)) this.map.delete(key);
    else if (this.map.size >= this.max) {
      const oldest = this.map.keys().next();
      if (!oldest.done) this.map.delete(oldest.value);
    }
    this.map.set(key, value);
  }
}
