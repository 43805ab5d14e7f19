// RWKV-7 kernels (assembly/rwkv7.ts) against the f64 references (test/reference/rwkv7.ts) over a size
// sweep, both binaries: heads of N = 4…64, 1–3 heads, T = 1…5, B = 1…3, guard cells after every output.
import { describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/wasm/load';
import { normRef, outRef, prepRef, shiftRef, wkvRef } from '../reference/rwkv7';
import { VARIANTS, rng, useRuntimes } from '../cells/harness';

const rts = useRuntimes();
const TOL = 2e-5; // |wasm − f64| ≤ TOL·(1 + |f64|)
const GUARD = 4;
const SENT = 7777.25;

/** Heap scratch for one case: put/zeros with guard cells, read back, free all. */
function scratch(rt: Runtime) {
  const offs: number[] = [];
  const guards: [number, number][] = [];
  const zeros = (n: number): number => {
    const o = rt.heap.alloc(n + GUARD);
    offs.push(o);
    rt.heap.f32.fill(SENT, o + n, o + n + GUARD);
    guards.push([o + n, GUARD]);
    return o;
  };
  const put = (a: ArrayLike<number>): number => {
    const o = zeros(a.length);
    rt.heap.f32.set(a, o);
    return o;
  };
  const get = (o: number, n: number): Float32Array => rt.heap.f32.slice(o, o + n);
  const done = (): void => {
    for (const [o, n] of guards) for (let i = 0; i < n; i++) expect(rt.heap.f32[o + i]).toBe(SENT);
    for (const o of offs) rt.heap.release(o);
  };
  return { zeros, put, get, done };
}

function close(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= TOL * (1 + Math.abs(want[i])))) throw new Error(`${what}: element ${i} is ${got[i]}, expected ${want[i]}`);
  }
}

const rand = (r: (lo?: number, hi?: number) => number, n: number, s = 1, shift = 0): Float64Array => Float64Array.from({ length: n }, () => r(-1, 1) * s + shift);
const f32 = (a: ArrayLike<number>): Float64Array => Float64Array.from(Float32Array.from(a));
const SIZES: [number, number][] = [[1, 4], [2, 8], [3, 16], [1, 32], [2, 64], [3, 12]]; // [H, N]
const TB: [number, number][] = [[1, 1], [5, 1], [2, 3], [4, 2]];

describe.each(VARIANTS)('rwkv7 kernels on %s', (variant) => {
  it.each(SIZES)('rwkv7_norm, G=%i groups of N=%i, in place and with stats', (G, N) => {
    const rt = rts[variant];
    const r = rng(G * 100 + N);
    for (const M of [1, 3, 7]) {
      const x = f32(rand(r, M * G * N, 2, 0.5));
      const w = f32(rand(r, G * N, 0.5, 1));
      const b = f32(rand(r, G * N, 0.3));
      const s = scratch(rt);
      const px = s.put(x), pw = s.put(w), pb = s.put(b), py = s.zeros(M * G * N), st = s.zeros(M * G * 2);
      rt.k.rwkv7_norm(py, st, px, pw, pb, M, G, N, 64e-5);
      close(s.get(py, M * G * N), normRef(x, w, b, M, G, N, 64e-5), `norm M=${M}`);
      rt.k.rwkv7_norm(px, 0, px, pw, pb, M, G, N, 1e-5); // in place
      close(s.get(px, M * G * N), normRef(x, w, b, M, G, N, 1e-5), `norm in place M=${M}`);
      const stats = s.get(st, 2 * M * G);
      let mean = 0;
      for (let j = 0; j < N; j++) mean += x[j];
      expect(stats[0]).toBeCloseTo(mean / N, 5);
      s.done();
    }
  });

  it.each(TB)('rwkv7_shift T=%i B=%i, K = 6 and 1, with and without a carried state', (T, B) => {
    const rt = rts[variant];
    const r = rng(T * 10 + B);
    for (const [C, K, carry] of [[8, 6, true], [12, 1, false], [64, 6, false]] as const) {
      const x = f32(rand(r, T * B * C));
      const prev = f32(rand(r, B * C));
      const mu = f32(rand(r, K * C, 0.5, 0.5));
      const s = scratch(rt);
      const px = s.put(x), pp = carry ? s.put(prev) : 0, pm = s.put(mu), py = s.zeros(K * T * B * C), pl = s.zeros(B * C);
      rt.k.rwkv7_shift(py, carry ? pp : pl, px, pp, pm, T, B, C, K);
      const ref = shiftRef(x, carry ? prev : null, mu, T, B, C, K);
      const y = s.get(py, K * T * B * C);
      for (let k = 0; k < K; k++) close(y.subarray(k * T * B * C, (k + 1) * T * B * C), ref.y[k], `mix ${k}`);
      close(s.get(carry ? pp : pl, B * C), ref.last, 'last');
      s.done();
    }
  });

  it.each(SIZES)('rwkv7_prep, then rwkv7_wkv (with saved states) and rwkv7_out, H=%i N=%i', (H, N) => {
    const rt = rts[variant];
    const C = H * N;
    for (const [T, B] of TB) {
      const r = rng(H * 1000 + N * 10 + T * 3 + B);
      const M = T * B;
      for (const first of [1, 0]) {
        const p = { w0: f32(rand(r, C, 2, -2)), a0: f32(rand(r, C, 0.5)), v0: f32(rand(r, C, 0.5, 0.7)), k_k: f32(rand(r, C, 0.1, 0.7)), k_a: f32(rand(r, C, 0.1, 1)) };
        const wl = f32(rand(r, M * C)), al = f32(rand(r, M * C)), vl = f32(rand(r, M * C)), k = f32(rand(r, M * C)), v = f32(rand(r, M * C));
        const vfirst = f32(rand(r, M * C));
        const s = scratch(rt);
        const pw = s.put(wl), pa = s.put(al), pvg = s.put(vl), pkk = s.zeros(M * C), pkh = s.zeros(M * C), pvh = s.zeros(M * C);
        const pvf = first ? s.zeros(M * C) : s.put(vfirst);
        const pk = s.put(k), pv = s.put(v);
        const pp = [p.w0, p.a0, p.v0, p.k_k, p.k_a].map((a) => s.put(a));
        rt.k.rwkv7_prep(pw, pw, pa, pvg, pkk, pkh, pvh, pvf, pk, pv, pp[0], pp[1], pp[2], pp[3], pp[4], M, C, N, first);
        const ref = prepRef(wl, al, vl, k, v, first ? null : vfirst, p, M, C, N);
        const what = `T=${T} B=${B} first=${first}`;
        close(s.get(pw, M * C), ref.w, `w ${what}`);
        close(s.get(pa, M * C), ref.a, `a ${what}`);
        close(s.get(pkk, M * C), ref.kk, `kk ${what}`);
        close(s.get(pkh, M * C), ref.kh, `kh ${what}`);
        close(s.get(pvh, M * C), ref.vh, `vh ${what}`);
        if (first) close(s.get(pvf, M * C), v, `vfirst ${what}`);
        else close(s.get(pvg, M * C), ref.vg, `vg ${what}`);
        // the state update on the kernel's own prep outputs (f32-rounded for the reference)
        const rr = f32(rand(r, M * C));
        const S0 = f32(rand(r, B * H * N * N, 0.5));
        const [w, a, kk, kh, vh] = [pw, pa, pkk, pkh, pvh].map((o) => f32(s.get(o, M * C)));
        const pr = s.put(rr), pS = s.put(S0), py = s.zeros(M * C), psv = s.zeros(T * B * H * N * N);
        rt.k.rwkv7_wkv(py, pS, psv, pr, pw, pkh, pvh, pkk, pa, T, B, H, N);
        const Sref = Float64Array.from(S0);
        const yref = wkvRef(Sref, rr, w, kh, vh, kk, a, T, B, H, N);
        close(s.get(py, M * C), yref, `wkv y ${what}`);
        close(s.get(pS, B * H * N * N), Sref, `wkv S ${what}`);
        close(s.get(psv, T * B * H * N * N).subarray((T - 1) * B * H * N * N), Sref, `wkv saved ${what}`);
        const yn = f32(rand(r, M * C)), g = f32(rand(r, M * C)), rk = f32(rand(r, C, 0.3));
        const po = s.zeros(M * C);
        rt.k.rwkv7_out(po, s.put(yn), pr, pkh, pvh, s.put(g), s.put(rk), M, C, N);
        close(s.get(po, M * C), outRef(yn, rr, kh, vh, g, rk, M, C, N), `out ${what}`);
        s.done();
      }
    }
  });

  it('rwkv7_relu_sq and rwkv7_sigmoid', () => {
    const rt = rts[variant];
    const r = rng(5);
    const x = f32(rand(r, 36, 4));
    const s = scratch(rt);
    const px = s.put(x), py = s.zeros(36), pz = s.zeros(35);
    rt.k.rwkv7_relu_sq(py, px, 36);
    close(s.get(py, 36), Array.from(x, (v) => Math.max(v, 0) ** 2), 'relu²');
    rt.k.rwkv7_sigmoid(pz, px, 35);
    close(s.get(pz, 35), Array.from(x.subarray(0, 35), (v) => 1 / (1 + Math.exp(-v))), 'σ');
    s.done();
  });
});
