// A bounded LRU cache of compiled plans keyed by shape (e.g. "T x B, lengths?, streaming?").
// Every plan owns wasm workspace; wasm memory never shrinks, so an unbounded cache keyed by
// sequence length grows until memory runs out. This cache keeps at most `maxPlans` entries and
// at most `maxElements` workspace elements in total, disposing the least recently used entries
// (never the one just inserted); freed blocks go back to the heap's free list for the next plan.
// Used by every graph (and so every layer and Sequential) that compiles per-shape programs.
import { getLimits } from '../limits';
import { MemoryError } from '../errors';

/** What a cached entry must provide: its workspace size and a way to release it. */
export interface CachedPlan {
  /** f32 elements of wasm memory this entry holds. */
  readonly elements: number;
  dispose(): void;
}

export interface PlanCacheBounds {
  /** At most this many entries (default: limits.maxCachedPlans, read at each insertion). */
  maxPlans?: number | (() => number);
  /** At most this many workspace elements in total (default: limits.maxPlanCacheBytes / 4). */
  maxElements?: number | (() => number);
}

export class PlanCache<P extends CachedPlan> {
  // Map iteration order is insertion order: the first key is the least recently used.
  private readonly entries = new Map<string, P>();
  private total = 0;
  private readonly maxPlans: () => number;
  private readonly maxElements: () => number;

  constructor(bounds: PlanCacheBounds = {}) {
    const fn = (v: number | (() => number) | undefined, dflt: () => number) =>
      v === undefined ? dflt : typeof v === 'function' ? v : () => v;
    this.maxPlans = fn(bounds.maxPlans, () => getLimits().maxCachedPlans);
    this.maxElements = fn(bounds.maxElements, () => getLimits().maxPlanCacheBytes / 4);
  }

  /** Entries cached now. */
  get size(): number {
    return this.entries.size;
  }
  /** Workspace elements held by the cached entries. */
  get elements(): number {
    return this.total;
  }

  /** The entry for `key` (marked most recently used), or undefined. */
  get(key: string): P | undefined {
    const p = this.entries.get(key);
    if (p !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, p);
    }
    return p;
  }

  /**
   * The entry for `key`, built by `build` when absent. When building fails with a MemoryError,
   * every other entry is released and the build is tried once more; if that fails too (or the
   * error is of another kind) it propagates and nothing is cached.
   */
  getOrBuild(key: string, build: () => P): P {
    const hit = this.get(key);
    if (hit !== undefined) return hit;
    let p: P;
    try {
      p = build();
    } catch (e) {
      if (!(e instanceof MemoryError) || this.entries.size === 0) throw e;
      this.clear();
      p = build();
    }
    this.set(key, p);
    return p;
  }

  /** Inserts (or replaces) an entry, then evicts least recently used ones beyond the bounds. */
  set(key: string, p: P): void {
    this.delete(key);
    this.entries.set(key, p);
    this.total += p.elements;
    this.evict(key);
  }

  /** Removes and disposes the entry for `key`, if any. */
  delete(key: string): void {
    const old = this.entries.get(key);
    if (old === undefined) return;
    this.entries.delete(key);
    this.total -= old.elements;
    old.dispose();
  }

  /** Disposes every entry. */
  clear(): void {
    for (const p of this.entries.values()) p.dispose();
    this.entries.clear();
    this.total = 0;
  }

  values(): IterableIterator<P> {
    return this.entries.values();
  }

  // Drops least recently used entries (never `keep`) while a bound is exceeded.
  private evict(keep: string): void {
    const maxPlans = Math.max(1, this.maxPlans());
    const maxElements = this.maxElements();
    for (const [k] of this.entries) {
      if (this.entries.size <= maxPlans && this.total <= maxElements) break;
      if (k === keep) continue;
      this.delete(k);
    }
  }
}
