// mask_rows (assembly/kernels/rows.ts, the MASK_ROWS op the rwkv7 node runs on sequences with
// lengths), both binaries: over sizes below, at and above the 4-float tile, every row (t, b) with
// t >= lens[b] becomes 0 and every other float — and the guard cells around the buffer — keeps its
// bits; lens 0 (absent) changes nothing.
import { describe, expect, it } from 'vitest';
import { ProgramBuilder } from '../../src/ir/program';
import type { Runtime } from '../../src/wasm/load';
import { VARIANTS, randArray, rng, useRuntimes } from '../cells/harness';

const rts = useRuntimes();
const GUARD = 8;

/** Runs MASK_ROWS over a (T, B, F) buffer with guard cells; returns the buffer and guards after it. */
function run(rt: Runtime, y: Float32Array, lens: number[] | null, T: number, B: number, F: number): Float32Array {
  const b = new ProgramBuilder(rt);
  const buf = b.alloc(y.length + 2 * GUARD);
  const l = lens ? b.alloc(B) : 0;
  b.maskRows(buf + GUARD, l, T, B, F);
  const prog = b.finish();
  try {
    const heap = rt.heap;
    heap.f32.fill(7.5, buf, buf + y.length + 2 * GUARD);
    heap.f32.set(y, buf + GUARD);
    if (lens) heap.i32.set(lens, l);
    prog.run();
    return heap.f32.slice(buf, buf + y.length + 2 * GUARD);
  } finally {
    prog.dispose();
  }
}

/** The reference: rows past each length set to 0. */
function masked(y: Float32Array, lens: number[], T: number, B: number, F: number): Float32Array {
  const out = y.slice();
  for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) if (t >= lens[b]) out.fill(0, (t * B + b) * F, (t * B + b + 1) * F);
  return out;
}

describe.each(VARIANTS)('mask_rows on the %s binary', (variant) => {
  it('zeroes exactly the rows past each length, guards untouched; no lens changes nothing', () => {
    const rt = rts[variant];
    const r = rng(11);
    for (const F of [1, 2, 3, 4, 5, 7, 8, 9, 17, 33]) {
      for (const [T, B] of [[1, 1], [3, 2], [5, 3], [4, 5]]) {
        const y = Float32Array.from(randArray(r, T * B * F));
        const lens = Array.from({ length: B }, (_, b) => (b === 0 ? T : b === 1 ? 0 : Math.floor(((r() + 1) / 2) * (T + 1)) % (T + 1)));
        const got = run(rt, y, lens, T, B, F);
        const guards = [...got.subarray(0, GUARD), ...got.subarray(GUARD + y.length)];
        expect(guards.every((v) => v === 7.5), `F ${F} T ${T} B ${B} guards`).toBe(true);
        expect(Array.from(got.subarray(GUARD, GUARD + y.length)), `F ${F} T ${T} B ${B}`).toEqual(Array.from(masked(y, lens, T, B, F)));
        expect(Array.from(run(rt, y, null, T, B, F).subarray(GUARD, GUARD + y.length))).toEqual(Array.from(y));
      }
    }
  });
});
