// The graph's row kernels (assembly/kernels/rows.ts), both binaries: copy_rows (concat), add_to,
// repeat_rows, pool_forward against the f64 reference, and pool_backward, softmax_rows_backward and
// tanh_rows_backward against central finite differences of the f64 references.
import { describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/wasm/load';
import { pool, softmaxRows } from '../reference/rows';
import { VARIANTS, randArray, rng, useRuntimes } from '../cells/harness';

const rts = useRuntimes();
const SIZES = [1, 2, 3, 4, 5, 7, 8, 9, 17];

/** Allocates and fills heap buffers; run(fn) releases them afterwards. */
function scope<R>(rt: Runtime, fn: (put: (src: ArrayLike<number>, i32?: boolean) => number, zeros: (n: number) => number) => R): R {
  const offs: number[] = [];
  const zeros = (n: number): number => {
    const o = rt.heap.alloc(Math.max(n, 1));
    offs.push(o);
    return o;
  };
  const put = (src: ArrayLike<number>, i32 = false): number => {
    const o = zeros(src.length);
    if (i32) rt.heap.i32.set(Array.from(src), o);
    else rt.heap.f32.set(src, o);
    return o;
  };
  try {
    return fn(put, zeros);
  } finally {
    for (const o of offs) rt.heap.release(o);
  }
}

function close(got: ArrayLike<number>, want: ArrayLike<number>, tol: number): string[] {
  const bad: string[] = [];
  for (let i = 0; i < want.length && bad.length < 4; i++) {
    if (!(Math.abs(got[i] - want[i]) <= tol * (1 + Math.abs(want[i])))) bad.push(`[${i}] got ${got[i]}, expected ${want[i]}`);
  }
  return bad;
}

/** Central differences of L = Σ dy ⊙ f(x) w.r.t. x. */
function fd(f: (x: Float64Array) => Float64Array, x: Float64Array, dy: ArrayLike<number>): Float64Array {
  const g = new Float64Array(x.length);
  const L = (): number => f(x).reduce((s, v, i) => s + v * dy[i], 0);
  for (let i = 0; i < x.length; i++) {
    const keep = x[i];
    x[i] = keep + 1e-6;
    const lp = L();
    x[i] = keep - 1e-6;
    const lm = L();
    x[i] = keep;
    g[i] = (lp - lm) / 2e-6;
  }
  return g;
}

describe('row kernels of the graph', () => {
  it.each(SIZES)('copy_rows writes one column block (and adds it back) without touching the others, F=%i', (F) => {
    const r = rng(F);
    const M = 5;
    const ld = F + 3;
    const x = randArray(r, M * F);
    for (const v of VARIANTS) {
      scope(rts[v], (put, zeros) => {
        const y = put(new Float64Array(M * ld).fill(7));
        const xo = put(x);
        rts[v].k.copy_rows(y + 2, ld, xo, F, M, F, 0);
        rts[v].k.copy_rows(y + 2, ld, xo, F, M, F, 1);
        const out = rts[v].heap.read(y, M * ld);
        for (let m = 0; m < M; m++) {
          for (let q = 0; q < ld; q++) {
            const want = q >= 2 && q < 2 + F ? 2 * Math.fround(x[m * F + q - 2]) : 7;
            expect(out[m * ld + q]).toBe(Math.fround(want));
          }
        }
        zeros(0);
      });
    }
  });

  it.each(SIZES)('repeat_rows and add_to, n=%i', (n) => {
    const x = randArray(rng(n + 50), n);
    for (const v of VARIANTS) {
      scope(rts[v], (put, zeros) => {
        const xo = put(x);
        const y = zeros(3 * n);
        rts[v].k.repeat_rows(y, xo, 3, n);
        rts[v].k.add_to(y + n, xo, n);
        const out = rts[v].heap.read(y, 3 * n);
        for (let i = 0; i < n; i++) {
          expect(out[i]).toBe(Math.fround(x[i]));
          expect(out[n + i]).toBe(Math.fround(2 * Math.fround(x[i])));
          expect(out[2 * n + i]).toBe(Math.fround(x[i]));
        }
      });
    }
  });

  for (const [mode, name] of [[0, 'last'], [1, 'mean'], [2, 'max']] as const) {
    it.each(SIZES)(`pool ${name} over valid steps: forward vs reference, backward vs finite differences, F=%i`, (F) => {
      const T = 1 + (F % 5);
      const B = 3;
      const r = rng(100 * F + mode);
      const x = randArray(r, T * B * F);
      const lens = [T, 1, Math.max(1, T - 1)];
      const dy = randArray(r, B * F);
      const want = pool(x, lens, T, B, F, mode);
      const dwant = fd((xx) => pool(xx, lens, T, B, F, mode), x, dy);
      for (const v of VARIANTS) {
        scope(rts[v], (put, zeros) => {
          const k = rts[v].k;
          const xo = put(x);
          const lo = put(lens, true);
          const y = zeros(B * F);
          const idx = zeros(B * F);
          k.pool_forward(y, idx, xo, lo, T, B, F, mode);
          expect(close(rts[v].heap.read(y, B * F), want, 1e-6)).toEqual([]);
          const dx = put(new Float64Array(T * B * F).fill(0.5)); // backward adds
          k.pool_backward(dx, put(dy), idx, lo, T, B, F, mode);
          expect(close(rts[v].heap.read(dx, T * B * F), dwant.map((g) => g + 0.5), 1e-5)).toEqual([]);
        });
      }
    });
  }

  for (const log of [false, true]) {
    it.each(SIZES)(`${log ? 'log_' : ''}softmax_rows_backward vs finite differences, N=%i`, (N) => {
      const M = 3;
      const r = rng(N + (log ? 500 : 0));
      const x = randArray(r, M * N, 2);
      const dy = randArray(r, M * N);
      const y = softmaxRows(x, M, N, log);
      const want = fd((xx) => softmaxRows(xx, M, N, log), x, dy);
      for (const v of VARIANTS) {
        scope(rts[v], (put, zeros) => {
          const dx = zeros(M * N);
          rts[v].k.softmax_rows_backward(dx, put(dy), put(y), M, N, log ? 1 : 0);
          expect(close(rts[v].heap.read(dx, M * N), want, 2e-6)).toEqual([]);
        });
      }
    });
  }

  it.each(SIZES)('tanh_rows and tanh_rows_backward vs Math.tanh and finite differences, n=%i', (n) => {
    const x = randArray(rng(n + 900), n, 2);
    const dy = randArray(rng(n + 901), n);
    const want = fd((xx) => xx.map(Math.tanh), x, dy);
    for (const v of VARIANTS) {
      scope(rts[v], (put, zeros) => {
        const y = zeros(n);
        rts[v].k.tanh_rows(y, put(x), n);
        expect(close(rts[v].heap.read(y, n), Array.from(x, Math.tanh), 2e-7)).toEqual([]);
        const dx = zeros(n);
        rts[v].k.tanh_rows_backward(dx, put(dy), y, n);
        expect(close(rts[v].heap.read(dx, n), want, 2e-6)).toEqual([]);
      });
    }
  });
});
