// Plans are cached per input shape; the cache is a bounded LRU (limits.maxCachedPlans,
// limits.maxPlanCacheBytes). Issue 13 measured batch-1 inference over lengths 1…1,305 exhausting
// 4 GiB and fit() over 900 distinct lengths holding 2.96 GiB; here the same patterns at small
// scale keep the heap bounded, and a second pass over the same lengths grows nothing.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { init, LSTM, Sequential, layers, tensor, SGD, setLimits, resetLimits, getLimits, MemoryError, ShapeError } from '../../src/index';
import { PlanCache, type CachedPlan } from '../../src/ir/plan-cache';
import { runtime } from '../../src/wasm/load';
import { randArray } from '../model/helpers';

beforeAll(async () => {
  await init();
});
afterEach(() => {
  resetLimits();
});

class Fake implements CachedPlan {
  disposed = false;
  constructor(readonly elements: number) {}
  dispose(): void {
    this.disposed = true;
  }
}

describe('PlanCache', () => {
  it('keeps at most maxPlans entries, evicting (and disposing) the least recently used', () => {
    const c = new PlanCache<Fake>({ maxPlans: 3, maxElements: 1e9 });
    const made = ['a', 'b', 'c'].map((k) => c.getOrBuild(k, () => new Fake(10)));
    c.get('a'); // a is now the most recently used: b goes first
    const d = c.getOrBuild('d', () => new Fake(10));
    expect(c.size).toBe(3);
    expect(made.map((p) => p.disposed)).toEqual([false, true, false]);
    expect(c.get('b')).toBeUndefined();
    expect(c.get('d')).toBe(d);
    expect(c.elements).toBe(30);
  });

  it('keeps the total workspace under maxElements but never evicts the entry just built', () => {
    const c = new PlanCache<Fake>({ maxPlans: 100, maxElements: 100 });
    const a = c.getOrBuild('a', () => new Fake(60));
    const b = c.getOrBuild('b', () => new Fake(60)); // 120 > 100: a goes
    expect(a.disposed).toBe(true);
    expect(c.size).toBe(1);
    const big = c.getOrBuild('big', () => new Fake(500)); // larger than the bound alone: kept
    expect(b.disposed).toBe(true);
    expect(big.disposed).toBe(false);
    expect(c.elements).toBe(500);
    c.clear();
    expect(big.disposed).toBe(true);
    expect(c.elements).toBe(0);
  });

  it('a build that runs out of memory is retried once with every other entry released; a second failure propagates', () => {
    const c = new PlanCache<Fake>({ maxPlans: 10, maxElements: 1e9 });
    const a = c.getOrBuild('a', () => new Fake(1));
    let tries = 0;
    const b = c.getOrBuild('b', () => {
      if (tries++ === 0) throw new MemoryError('Expected memory, got none');
      return new Fake(1);
    });
    expect(tries).toBe(2);
    expect(a.disposed).toBe(true);
    expect(c.get('b')).toBe(b);
    expect(() => c.getOrBuild('x', () => { throw new MemoryError('Expected memory, got none'); })).toThrow(MemoryError);
    expect(c.size).toBe(0);
    // any other error leaves the cached entries alone
    const d = c.getOrBuild('d', () => new Fake(1));
    expect(() => c.getOrBuild('y', () => { throw new ShapeError('Expected a shape, got another'); })).toThrow(ShapeError);
    expect(d.disposed).toBe(false);
    expect(c.size).toBe(1);
  });

  it('reads the default bounds from the limits at each insertion', () => {
    setLimits({ maxCachedPlans: 2 });
    const c = new PlanCache<Fake>();
    for (const k of ['a', 'b', 'c', 'd']) c.getOrBuild(k, () => new Fake(1));
    expect(c.size).toBe(2);
    expect(getLimits().maxCachedPlans).toBe(2);
  });
});

describe('models keep bounded plan caches', () => {
  it('batch-1 inference over 300 distinct lengths: heap bounded, and a second pass grows nothing', () => {
    const heap = runtime().heap;
    const run = (m: LSTM) => {
      for (let T = 1; T <= 300; T++) m.forward(tensor(randArray(T * 8, T), [T, 1, 8]));
    };
    // unbounded (as before the fix): every length keeps its plan
    setLimits({ maxCachedPlans: 1e6, maxPlanCacheBytes: 2 ** 40 });
    const free0 = heap.liveElements;
    const unbounded = new LSTM({ inputSize: 8, hiddenSize: 32, seed: 1 });
    run(unbounded);
    const heldUnbounded = heap.liveElements - free0;
    expect(unbounded.runner.cachedPlans).toBe(300);
    unbounded.dispose();
    resetLimits();

    const m = new LSTM({ inputSize: 8, hiddenSize: 32, seed: 1 });
    const base = heap.liveElements;
    run(m);
    const bytes = heap.byteLength;
    const held = heap.liveElements - base;
    expect(m.runner.cachedPlans).toBe(getLimits().maxCachedPlans);
    run(m);
    expect(heap.byteLength).toBe(bytes);
    expect(heap.liveElements - base).toBe(held);
    // 16 plans of the longest lengths against all 300: 16·300 / Σ 1…300 ≈ 0.11 of the workspace
    expect(held).toBeLessThan(heldUnbounded / 8);
    m.dispose();
  });

  it('fit() over 120 distinct lengths keeps its training plans bounded; a second fit grows nothing', async () => {
    const heap = runtime().heap;
    const make = () => new Sequential([layers.lstm({ inputSize: 4, hiddenSize: 16 }), layers.linear({ inFeatures: 16, outFeatures: 3 })], { seed: 2 });
    const data = Array.from({ length: 120 }, (_, i) => {
      const len = i + 1;
      return { x: randArray(len * 4, i), y: Int32Array.from({ length: len }, (_, t) => (t + i) % 3) };
    });
    const fitOnce = (net: Sequential, opt: SGD) => net.fit(data, { loss: 'crossEntropy', optimizer: opt, epochs: 1, batchSize: 1 });
    // unbounded (as before the fix)
    setLimits({ maxCachedPlans: 1e6, maxPlanCacheBytes: 2 ** 40 });
    let base = heap.liveElements;
    const loose = make();
    const looseOpt = new SGD({ lr: 0.01 });
    await fitOnce(loose, looseOpt);
    const heldUnbounded = heap.liveElements - base;
    loose.dispose();
    looseOpt.dispose();
    resetLimits();

    base = heap.liveElements;
    const net = make();
    const opt = new SGD({ lr: 0.01 });
    await fitOnce(net, opt);
    const bytes = heap.byteLength;
    const held = heap.liveElements - base;
    await fitOnce(net, opt);
    expect(heap.byteLength).toBe(bytes);
    expect(heap.liveElements - base).toBe(held);
    // 16 plans of lengths ≤ 120 against all 120: 16·120 / Σ 1…120 ≈ 0.26 of the workspace
    expect(held).toBeLessThan(heldUnbounded / 3);
    net.dispose();
  });
});
