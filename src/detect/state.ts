// Keyed rule state held in memory during a run, tracking which keys changed so the pipeline can
// persist only those to the state store at the end (and preload them at the start of the next run).
import type { KeyedState } from './types.ts';

export class MemoryKeyedState<T> implements KeyedState<T> {
  private readonly map = new Map<string, T>();
  private readonly dirty = new Set<string>();

  get(key: string): T | undefined {
    return this.map.get(key);
  }
  set(key: string, value: T): void {
    this.map.set(key, value);
    this.dirty.add(key);
  }
  delete(key: string): void {
    if (this.map.delete(key)) this.dirty.add(key);
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
    for (const k of this.dirty) out.push([k, this.map.get(k)]);
    this.dirty.clear();
    return out;
  }
}

/** All rule state namespaces of one run. */
export class StateRegistry {
  readonly namespaces = new Map<string, MemoryKeyedState<unknown>>();

  state<T>(namespace: string): MemoryKeyedState<T> {
    let s = this.namespaces.get(namespace);
    if (!s) {
      s = new MemoryKeyedState<unknown>();
      this.namespaces.set(namespace, s);
    }
    return s as MemoryKeyedState<T>;
  }
}
