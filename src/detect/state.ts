// Keyed rule state held in memory during a run, tracking which keys changed so the pipeline can
// persist only those to the state store at the end (and preload them at the start of the next run).
import type { KeyedState } from './types.ts';

export class MemoryKeyedState<T> implements KeyedState<T> {
  private readonly map = new Map<string, T>();
  /** Null when nothing is persisted (a run without --state): no bookkeeping on the hot path. */
  private readonly dirty: Set<string> | null;

  constructor(options: { trackChanges?: boolean } = {}) {
    this.dirty = options.trackChanges === false ? null : new Set<string>();
  }

  get(key: string): T | undefined {
    return this.map.get(key);
  }
  set(key: string, value: T): void {
    this.map.set(key, value);
    this.dirty?.add(key);
  }
  delete(key: string): void {
    if (this.map.delete(key)) this.dirty?.add(key);
  }
  get size(): number {
    return this.map.size;
  }
  /** Load persisted entries without marking them dirty. */
  preload(entries: Map<string, unknown>): void {
    for (const [k, v] of entries) this.map.set(k, v as T);
  }
  /** Changed entries since the last call ([key, undefined] for deletions); clears the dirty set. */
  takeDirty(): [string, T | undefined][] {
    const out: [string, T | undefined][] = [];
    if (!this.dirty) return out;
    for (const k of this.dirty) out.push([k, this.map.get(k)]);
    this.dirty.clear();
    return out;
  }
}

/** All rule state namespaces of one run. */
export class StateRegistry {
  readonly namespaces = new Map<string, MemoryKeyedState<unknown>>();
  private readonly trackChanges: boolean;

  /** `trackChanges: false` when nothing will be persisted (takeDirty then returns nothing). */
  constructor(options: { trackChanges?: boolean } = {}) {
    this.trackChanges = options.trackChanges !== false;
  }

  state<T>(namespace: string): MemoryKeyedState<T> {
    let s = this.namespaces.get(namespace);
    if (!s) {
      s = new MemoryKeyedState<unknown>({ trackChanges: this.trackChanges });
      this.namespaces.set(namespace, s);
    }
    return s as MemoryKeyedState<T>;
  }
}
