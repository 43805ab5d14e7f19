// Memory stays flat over 1,000 graph training steps whose batch shapes all differ: compiled plans
// (their activations) are kept in a bounded least-recently-used cache.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as lib from '../../src/index';
import { runtime } from '../../src/wasm/load';
import { batchOf, buildModel, prng } from '../../scripts/reverse-task.mjs';

beforeAll(async () => {
  await lib.init();
});
afterEach(() => {
  lib.resetLimits();
});

/** Element offsets held after a forward of every (batch 1) length in `lengths`, over the model's own. */
function heldAfter(m: ReturnType<typeof buildModel>, lengths: number[], keep = false): number {
  const heap = runtime().heap;
  const r = prng(3);
  for (const T of lengths) {
    const strs = [Array.from({ length: T }, () => Math.floor(r() * 10))];
    m.forward(batchOf(lib, strs).inputs as never, { keep });
  }
  return heap.liveElements;
}

describe('graph plan cache', () => {
  it('the heap stays bounded over 1,000 training steps with 1,000 different (length, batch) shapes', () => {
    const heap = runtime().heap;
    const m = buildModel(lib, { attention: true, hidden: 8, embed: 4, seed: 1 });
    const opt = new lib.Adam({ lr: 1e-3 });
    const r = prng(9);
    // 1,000 distinct shapes: source length 1–40 (target = source + 1), batch 1–25
    const shapes: [number, number][] = [];
    for (let T = 1; T <= 40; T++) for (let B = 1; B <= 25; B++) shapes.push([T, B]);
    for (let i = shapes.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [shapes[i], shapes[j]] = [shapes[j], shapes[i]];
    }
    const step = ([T, B]: [number, number]) => {
      const strs = Array.from({ length: B }, () => Array.from({ length: T }, () => Math.floor(r() * 10)));
      m.trainStep(batchOf(lib, strs) as never, { losses: { logits: 'crossEntropy' }, optimizer: opt });
    };
    const sizes: number[] = [];
    let maxLive = 0;
    for (const [i, s] of shapes.entries()) {
      step(s);
      maxLive = Math.max(maxLive, heap.liveElements);
      if (i % 200 === 199) sizes.push(heap.byteLength);
    }
    console.log(`heap every 200 steps: ${sizes.join(' ')} bytes, max live ${maxLive * 4} bytes`);
    // every step compiled a new plan; kept unbounded, they would hold ~1,000 plans' activations.
    // Bounded, the live set stays that of 16 plans and the heap (with the allocator's
    // fragmentation) within twice it (measured: one growth to 1.4× around step 700, then flat
    // over 1,400 more steps)
    expect(heap.byteLength).toBeLessThanOrEqual(2 * maxLive * 4);
    expect(maxLive * 4).toBeLessThan(24 * 1024 * 1024);
    m.dispose();
  });

  // The case: batch-1 inference over 200 different lengths at hidden 64. Each length compiles
  // its own plan; the graph keeps them in the shared PlanCache (limits.maxCachedPlans and
  // limits.maxPlanCacheBytes), so what stays held is the last few plans' workspace, not 200 of them.
  it('forward over 200 different lengths holds exactly the workspace of the last maxCachedPlans plans', () => {
    const heap = runtime().heap;
    lib.setLimits({ maxCachedPlans: 4 });
    const lengths = Array.from({ length: 200 }, (_, i) => i + 1);
    const a = buildModel(lib, { attention: true, hidden: 64, seed: 1 });
    const base = heap.liveElements;
    const held = heldAfter(a, lengths) - base;
    // a second pass over all 200 lengths ends with the same four plans: nothing accumulates
    expect(heldAfter(a, lengths) - base).toBe(held);
    a.dispose();
    // a fresh model that only ever ran the last four lengths holds the same
    const b = buildModel(lib, { attention: true, hidden: 64, seed: 1 });
    const base2 = heap.liveElements;
    expect(heldAfter(b, lengths.slice(-4)) - base2).toBe(held);
    b.dispose();
    console.log(`graph forward, 200 lengths, batch 1, hidden 64: ${(held * 4 / 2 ** 20).toFixed(2)} MiB held by 4 cached plans`);
  });

  it('the byte bound holds too: over 200 lengths (kept for backward) the cached workspace stays under maxPlanCacheBytes plus the newest plan', () => {
    const heap = runtime().heap;
    const bound = 2 * 2 ** 20;
    lib.setLimits({ maxCachedPlans: 1000, maxPlanCacheBytes: bound });
    const m = buildModel(lib, { attention: true, hidden: 64, seed: 1 });
    const base = heap.liveElements;
    const one = heldAfter(m, [200], true) - base; // the largest plan alone
    let maxHeld = 0;
    for (let T = 1; T <= 200; T += 1) maxHeld = Math.max(maxHeld, heldAfter(m, [T], true) - base);
    expect(maxHeld * 4).toBeLessThanOrEqual(bound + one * 4);
    expect(maxHeld * 4).toBeGreaterThan(bound / 2); // the bound is what limits it, not a lack of plans
    m.dispose();
  });
});
