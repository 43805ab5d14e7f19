// softmax_rows, log_softmax_rows, embedding_gather, merge_dirs, copy_f32, fill_f32, add_f32
// (both binaries) against the f64 references in test/reference/elementwise.ts, over sizes crossing
// the 4-lane vector, with guard cells around every output.
import { beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime, type Variant } from '../../src/wasm/load';
import * as ref from '../reference/elementwise';

// Tolerances, the one table (want = f64 reference, dx = |x − row max|). f32 rounds x − max by
// ≈ 2^-24·dx and exp turns that into a relative error, so it scales with dx. merge / add / copy /
// fill / gather are exact (one f32 rounding, compared with Math.fround of the f64 reference).
const TOL = {
  softmax_rows: (want: number, dx: number) => 4e-7 * (1 + dx) * Math.abs(want) + 1e-30,
  log_softmax_rows: (want: number, dx: number) => 4e-7 * (1 + dx + Math.abs(want)),
};

const VARIANTS: Variant[] = ['simd', 'relaxed'];
const SIZES = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33, 64, 100];
const G = 8;
const SENTINEL = -4321.25;

let seed = 99;
function rnd(): number {
  seed ^= seed << 13; seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5; seed >>>= 0;
  return (seed / 4294967296) * 2 - 1;
}

describe.each(VARIANTS)('elementwise kernels, %s binary', (variant) => {
  let rt: Runtime;
  let base: number;
  beforeAll(async () => {
    rt = await createRuntime({ variant });
    base = rt.heap.alloc(1 << 16);
  });

  // Two regions with guards: input at base + G + shift, output after it (also guarded).
  function place(xs: ArrayLike<number>, shift: number): { x: number; y: number } {
    const f32 = rt.heap.f32;
    const x = base + G + shift;
    const y = x + xs.length + 2 * G + ((shift + 1) & 3);
    f32.fill(NaN, base, x);
    f32.set(xs, x);
    f32.fill(NaN, x + xs.length, y);
    f32.fill(SENTINEL, y - G, y + xs.length + G);
    return { x, y };
  }
  function guardsIntact(y: number, n: number): boolean {
    const f32 = rt.heap.f32;
    for (let i = 1; i <= G; i++) if (f32[y - i] !== SENTINEL || f32[y + n + i - 1] !== SENTINEL) return false;
    return true;
  }
  // Row-kernel check against the reference with the TOL entry of kernel k.
  function near(k: keyof typeof TOL, got: Float32Array, xs: Float32Array, M: number, N: number, what: string): void {
    const want = ref[k](xs, M, N);
    for (let m = 0; m < M; m++) {
      const mx = Math.max(...xs.subarray(m * N, m * N + N));
      for (let j = 0; j < N; j++) {
        const i = m * N + j;
        const err = Math.abs(got[i] - want[i]);
        if (!(err <= TOL[k](want[i], Math.abs(xs[i] - mx)))) expect.fail(`${what} [${i}]: got ${got[i]}, want ${want[i]}`);
      }
    }
  }

  it.each(['softmax_rows', 'log_softmax_rows'] as const)('%s matches the reference for every row length', (k) => {
    for (const M of [1, 2, 3]) {
      for (const N of [...SIZES, 1000]) {
        const xs = Float32Array.from({ length: M * N }, () => rnd() * 20);
        const { x, y } = place(xs, (M + N) & 3);
        rt.k[k](y, x, M, N);
        near(k, rt.heap.read(y, M * N), xs, M, N, `${k} M=${M} N=${N}`);
        expect(guardsIntact(y, M * N), `${k} M=${M} N=${N}: wrote outside y`).toBe(true);
      }
    }
  });

  it.each(['softmax_rows', 'log_softmax_rows'] as const)('%s is stable for huge logits, works in place, and handles -Inf', (k) => {
    for (const N of [1, 3, 4, 6, 9]) {
      // huge shared offset (exp would overflow without the max subtraction)
      const xs = Float32Array.from({ length: 2 * N }, (_, i) => 1e4 + (i % N) * 0.5 - (i >= N ? 2e4 : 0));
      const { x } = place(xs, N & 3);
      rt.k[k](x, x, 2, N); // in place
      near(k, rt.heap.read(x, 2 * N), xs, 2, N, `${k} N=${N} in place`);
    }
    // -Inf entries (masked logits): probability exactly 0 / log-probability -Inf
    const xs = Float32Array.of(-Infinity, 1, 2, -Infinity, 3);
    const { x, y } = place(xs, 1);
    rt.k[k](y, x, 1, 5);
    const out = rt.heap.read(y, 5);
    expect([out[0], out[3]]).toEqual(k === 'softmax_rows' ? [0, 0] : [-Infinity, -Infinity]);
    const want = ref[k](xs, 1, 5);
    for (const i of [1, 2, 4]) expect(Math.abs(out[i] - want[i])).toBeLessThanOrEqual(TOL[k](want[i], 3 - xs[i]));
    // a NaN poisons its own row only
    const nanRows = Float32Array.of(1, NaN, 2, 3, 4, 5, 6, 7);
    const p = place(nanRows, 2);
    rt.k[k](p.y, p.x, 2, 4);
    const o = rt.heap.read(p.y, 8);
    expect(Array.from(o.subarray(0, 4)).every(Number.isNaN)).toBe(true);
    near(k, o.subarray(4), nanRows.subarray(4), 1, 4, `${k} row after a NaN row`);
  });

  it('softmax rows sum to 1', () => {
    for (const N of SIZES) {
      const xs = Float32Array.from({ length: N }, () => rnd() * 5);
      const { x, y } = place(xs, N & 3);
      rt.k.softmax_rows(y, x, 1, N);
      const s = rt.heap.read(y, N).reduce((a, b) => a + b, 0);
      expect(Math.abs(s - 1)).toBeLessThan(1e-6);
    }
  });

  it('embedding_gather copies the rows named by ids (repeats and any order), exactly', () => {
    const V = 11;
    for (const D of SIZES) {
      const table = Float32Array.from({ length: V * D }, rnd);
      const idList = [3, 0, 10, 3, 7, 7, 1];
      const f32 = rt.heap.f32;
      const t = base + G + (D & 3);
      f32.set(table, t);
      const ids = t + V * D + G;
      rt.heap.i32.set(idList, ids);
      const y = ids + idList.length + G + 1;
      f32.fill(SENTINEL, y - G, y + idList.length * D + G);
      rt.k.embedding_gather(y, t, ids, idList.length, D);
      expect(rt.heap.read(y, idList.length * D)).toEqual(Float32Array.from(ref.embedding_gather(table, idList, idList.length, D)));
      expect(guardsIntact(y, idList.length * D), `D=${D}: wrote outside y`).toBe(true);
    }
  });

  it.each([0, 1, 2] as const)('merge_dirs mode %s is exact for every H', (mode) => {
    for (const H of SIZES) {
      const rows = 3;
      const as = Float32Array.from({ length: rows * 2 * H }, rnd);
      const { x, y } = place(as, H & 3);
      rt.k.merge_dirs(y, x, rows, H, mode);
      expect(rt.heap.read(y, rows * H)).toEqual(Float32Array.from(ref.merge_dirs(as, rows, H, mode)));
      expect(guardsIntact(y, rows * H), `H=${H}: wrote outside y`).toBe(true);
    }
  });

  it('copy_f32, fill_f32 and add_f32 are exact, stay in bounds, and copy handles overlap', () => {
    for (const n of [0, ...SIZES]) {
      const a = Float32Array.from({ length: n }, rnd);
      const b = Float32Array.from({ length: n }, rnd);
      const { x, y } = place(a, n & 3);
      rt.k.copy_f32(y, x, n);
      expect(rt.heap.read(y, n)).toEqual(a);
      expect(guardsIntact(y, n)).toBe(true);

      place(a, n & 3);
      rt.k.fill_f32(y, 0.75, n);
      expect(Array.from(rt.heap.read(y, n))).toEqual(new Array(n).fill(0.75));
      expect(guardsIntact(y, n)).toBe(true);

      // add: y = a + b, then in place a = a + b
      const p = place(a, (n + 1) & 3);
      const bOff = p.y + n + 2 * G + 3;
      rt.heap.write(bOff, b);
      rt.heap.f32.fill(SENTINEL, p.y - G, p.y + n + G);
      rt.k.add_f32(p.y, p.x, bOff, n);
      expect(rt.heap.read(p.y, n)).toEqual(Float32Array.from(ref.add(a, b, n)));
      expect(guardsIntact(p.y, n)).toBe(true);
      rt.k.add_f32(p.x, p.x, bOff, n);
      expect(rt.heap.read(p.x, n)).toEqual(Float32Array.from(ref.add(a, b, n)));
    }
    // overlapping copy (memmove): shift a run right by 3 cells
    const src = Float32Array.from({ length: 37 }, (_, i) => i);
    const { x } = place(src, 0);
    rt.k.copy_f32(x + 3, x, 37);
    expect(Array.from(rt.heap.read(x + 3, 37))).toEqual(Array.from(src));
  });
});
