// RWKV-7 backward kernels (assembly/rwkv7-backward.ts), both binaries, against central finite
// differences of the f64 forward references (test/reference/rwkv7.ts): with L = Σ dout⊙out(inputs),
// every input gradient the kernel writes equals ∂L/∂input. The whole model's gradients are checked
// against PyTorch autograd in train.test.ts.
import { describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/wasm/load';
import { normRef, outRef, prepRef, shiftRef, wkvRef } from '../reference/rwkv7';
import { VARIANTS, rng, useRuntimes } from '../cells/harness';

const rts = useRuntimes();
const TOL = 2e-4; // |wasm − fd| ≤ TOL·(1 + |fd|): f32 kernels against f64 differences
const EPS = 1e-6;

type Inputs = Record<string, Float64Array>;

/** ∂/∂inputs[name][i] of loss(inputs) by central differences, for every element. */
function fd(loss: (x: Inputs) => number, x: Inputs, name: string): Float64Array {
  const v = x[name];
  const g = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const o = v[i];
    v[i] = o + EPS;
    const up = loss(x);
    v[i] = o - EPS;
    const dn = loss(x);
    v[i] = o;
    g[i] = (up - dn) / (2 * EPS);
  }
  return g;
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

function check(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  expect(got.length, what).toBe(want.length);
  let nonzero = 0;
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= TOL * (1 + Math.abs(want[i])))) throw new Error(`${what}[${i}]: kernel ${got[i]}, finite differences ${want[i]}`);
    if (Math.abs(want[i]) > 1e-6) nonzero++;
  }
  expect(nonzero, `${what} has non-zero gradients`).toBeGreaterThan(0);
}

/** Heap helper: put f64 data as f32, allocate zeros, read back. */
function heapOf(rt: Runtime) {
  const offs: number[] = [];
  const zeros = (n: number): number => {
    const o = rt.heap.alloc(n);
    offs.push(o);
    return o;
  };
  const put = (a: ArrayLike<number>): number => {
    const o = zeros(a.length);
    rt.heap.f32.set(a, o);
    return o;
  };
  const get = (o: number, n: number): Float32Array => rt.heap.f32.slice(o, o + n);
  const free = (): void => offs.forEach((o) => rt.heap.release(o));
  return { zeros, put, get, free };
}

const rnd = (r: (lo?: number, hi?: number) => number, n: number, s = 1, c = 0): Float64Array => Float64Array.from({ length: n }, () => Math.fround(r(-1, 1) * s + c));

describe.each(VARIANTS)('rwkv7 backward kernels on %s vs finite differences', (variant) => {
  it('rwkv7_norm_backward (LayerNorm and GroupNorm)', () => {
    const rt = rts[variant];
    for (const [M, G, N] of [[3, 1, 8], [2, 3, 4]]) {
      const r = rng(M * 7 + G);
      const x: Inputs = { x: rnd(r, M * G * N, 2, 0.3), w: rnd(r, G * N, 0.5, 1), b: rnd(r, G * N, 0.3) };
      const dy = rnd(r, M * G * N);
      const loss = (z: Inputs): number => dot(dy, normRef(z.x, z.w, z.b, M, G, N, 1e-3));
      const h = heapOf(rt);
      const px = h.put(x.x), pw = h.put(x.w), pb = h.put(x.b), py = h.zeros(M * G * N), pst = h.zeros(2 * M * G);
      rt.k.rwkv7_norm(py, pst, px, pw, pb, M, G, N, 1e-3);
      const dx = h.zeros(M * G * N), dw = h.zeros(G * N), db = h.zeros(G * N);
      rt.k.rwkv7_norm_backward(dx, dw, db, h.put(dy), px, pst, pw, M, G, N, 0);
      check(h.get(dx, M * G * N), fd(loss, x, 'x'), 'dx');
      check(h.get(dw, G * N), fd(loss, x, 'w'), 'dw');
      check(h.get(db, G * N), fd(loss, x, 'b'), 'db');
      h.free();
    }
  });

  it('rwkv7_shift_backward (K = 6 and 1, zero and carried previous state)', () => {
    const rt = rts[variant];
    for (const [T, B, C, K, carry] of [[3, 2, 8, 6, false], [4, 1, 4, 1, true]] as const) {
      const r = rng(T * 5 + K);
      const x: Inputs = { x: rnd(r, T * B * C), mu: rnd(r, K * C, 0.5, 0.5) };
      const prev = carry ? rnd(r, B * C) : null;
      const dy = Array.from({ length: K }, () => rnd(r, T * B * C));
      const loss = (z: Inputs): number => shiftRef(z.x, prev, z.mu, T, B, C, K).y.reduce((s, y, k) => s + dot(dy[k], y), 0);
      const h = heapOf(rt);
      const pdy = h.zeros(K * T * B * C);
      dy.forEach((d, k) => rt.heap.f32.set(d, pdy + k * T * B * C));
      const dx = h.zeros(T * B * C), dmu = h.zeros(K * C);
      rt.k.rwkv7_shift_backward(dx, dmu, pdy, h.put(x.x), prev ? h.put(prev) : 0, h.put(x.mu), T, B, C, K, 0);
      check(h.get(dx, T * B * C), fd(loss, x, 'x'), 'dx');
      check(h.get(dmu, K * C), fd(loss, x, 'mu'), 'dmu');
      h.free();
    }
  });

  it.each([1, 0])('rwkv7_prep_backward (first = %i)', (first) => {
    const rt = rts[variant];
    const M = 3, C = 8, N = 4;
    const r = rng(40 + first);
    const x: Inputs = {
      wl: rnd(r, M * C), al: rnd(r, M * C), vl: rnd(r, M * C), k: rnd(r, M * C), v: rnd(r, M * C), vfirst: rnd(r, M * C),
      w0: rnd(r, C, 1, -1), a0: rnd(r, C, 0.5), v0: rnd(r, C, 0.5), k_k: rnd(r, C, 0.2, 0.7), k_a: rnd(r, C, 0.2, 1),
    };
    const up = { w: rnd(r, M * C), a: rnd(r, M * C), kk: rnd(r, M * C), kh: rnd(r, M * C), vh: rnd(r, M * C) };
    const loss = (z: Inputs): number => {
      const o = prepRef(z.wl, z.al, z.vl, z.k, z.v, first ? null : z.vfirst, { w0: z.w0, a0: z.a0, v0: z.v0, k_k: z.k_k, k_a: z.k_a }, M, C, N);
      return dot(up.w, o.w) + dot(up.a, o.a) + dot(up.kk, o.kk) + dot(up.kh, o.kh) + dot(up.vh, o.vh);
    };
    const h = heapOf(rt);
    const n = M * C;
    const P = Object.fromEntries(Object.entries(x).map(([k, v]) => [k, h.put(v)]));
    const w = h.zeros(n), a = h.put(x.al), vg = h.put(x.vl), kk = h.zeros(n), kh = h.zeros(n), vh = h.zeros(n);
    const vf = first ? h.zeros(n) : P.vfirst;
    rt.k.rwkv7_prep(w, P.wl, a, vg, kk, kh, vh, vf, P.k, P.v, P.w0, P.a0, P.v0, P.k_k, P.k_a, M, C, N, first);
    const G = ['dwl', 'dal', 'dvl', 'dk', 'dv'].map(() => h.zeros(n));
    const dvfirst = h.zeros(n);
    const dP = [C, C, C, C, C].map((c) => h.zeros(c));
    rt.k.rwkv7_prep_backward(G[0], G[1], G[2], G[3], G[4], dvfirst, dP[0], dP[1], dP[2], dP[3], dP[4],
      h.put(up.w), h.put(up.a), h.put(up.kk), h.put(up.kh), h.put(up.vh), w, P.wl, a, vg, kk, P.k, P.v, vf, P.w0, P.k_k, P.k_a, M, C, N, first);
    check(h.get(G[0], n), fd(loss, x, 'wl'), 'dwl');
    check(h.get(G[1], n), fd(loss, x, 'al'), 'dal');
    check(h.get(G[3], n), fd(loss, x, 'k'), 'dk');
    check(h.get(G[4], n), fd(loss, x, 'v'), 'dv');
    check(h.get(dP[0], C), fd(loss, x, 'w0'), 'dw0');
    check(h.get(dP[1], C), fd(loss, x, 'a0'), 'da0');
    check(h.get(dP[3], C), fd(loss, x, 'k_k'), 'dk_k');
    check(h.get(dP[4], C), fd(loss, x, 'k_a'), 'dk_a');
    if (!first) {
      check(h.get(G[2], n), fd(loss, x, 'vl'), 'dvl');
      check(h.get(dvfirst, n), fd(loss, x, 'vfirst'), 'dvfirst');
      check(h.get(dP[2], C), fd(loss, x, 'v0'), 'dv0');
    }
    h.free();
  });

  it.each([[3, 1, 2, 4], [2, 2, 1, 8]])('rwkv7_wkv_backward T=%i B=%i H=%i N=%i, with the initial and final state', (T, B, H, N) => {
    const rt = rts[variant];
    const C = H * N, M = T * B, NS = B * H * N * N;
    const r = rng(T * 100 + N);
    const x: Inputs = {
      r: rnd(r, M * C), w: rnd(r, M * C, 0.2, 0.75), kh: rnd(r, M * C), vh: rnd(r, M * C), kk: rnd(r, M * C, 0.5), a: rnd(r, M * C, 0.4, 0.5), S0: rnd(r, NS, 0.5),
    };
    const dy = rnd(r, M * C);
    const dSN = rnd(r, NS);
    const loss = (z: Inputs): number => {
      const S = Float64Array.from(z.S0);
      const y = wkvRef(S, z.r, z.w, z.kh, z.vh, z.kk, z.a, T, B, H, N);
      return dot(dy, y) + dot(dSN, S);
    };
    const h = heapOf(rt);
    const P = Object.fromEntries(Object.entries(x).map(([k, v]) => [k, h.put(v)]));
    const S = h.put(x.S0), y = h.zeros(M * C), saved = h.zeros(T * NS);
    rt.k.rwkv7_wkv(y, S, saved, P.r, P.w, P.kh, P.vh, P.kk, P.a, T, B, H, N);
    const D = ['r', 'w', 'kh', 'vh', 'kk', 'a'].map(() => h.zeros(M * C));
    const dS = h.put(dSN);
    rt.k.rwkv7_wkv_backward(D[0], D[1], D[2], D[3], D[4], D[5], dS, h.put(dy), saved, P.S0, P.r, P.w, P.kh, P.vh, P.kk, P.a, T, B, H, N);
    ['r', 'w', 'kh', 'vh', 'kk', 'a'].forEach((k, i) => check(h.get(D[i], M * C), fd(loss, x, k), `d${k}`));
    check(h.get(dS, NS), fd(loss, x, 'S0'), 'dS0');
    h.free();
  });

  it('rwkv7_out_backward, rwkv7_relu_sq_backward, rwkv7_sigmoid_backward', () => {
    const rt = rts[variant];
    const M = 2, C = 8, N = 4, n = M * C;
    const r = rng(77);
    const x: Inputs = { yn: rnd(r, n), r: rnd(r, n), kh: rnd(r, n), vh: rnd(r, n), g: rnd(r, n), r_k: rnd(r, C) };
    const dO = rnd(r, n);
    const loss = (z: Inputs): number => dot(dO, outRef(z.yn, z.r, z.kh, z.vh, z.g, z.r_k, M, C, N));
    const h = heapOf(rt);
    const P = Object.fromEntries(Object.entries(x).map(([k, v]) => [k, h.put(v)]));
    const D = ['g', 'yn', 'r', 'kh', 'vh'].map(() => h.zeros(n));
    const drk = h.zeros(C);
    rt.k.rwkv7_out_backward(D[0], D[1], D[2], D[3], D[4], drk, h.put(dO), P.yn, P.r, P.kh, P.vh, P.g, P.r_k, M, C, N);
    ['g', 'yn', 'r', 'kh', 'vh'].forEach((k, i) => check(h.get(D[i], n), fd(loss, x, k), `d${k}`));
    check(h.get(drk, C), fd(loss, x, 'r_k'), 'dr_k');
    // activations: y = f(u), dx from y
    const u: Inputs = { u: rnd(r, 16, 2) };
    const dy = rnd(r, 16);
    const relu = (z: Inputs): number => dot(dy, Array.from(z.u, (v) => Math.max(v, 0) ** 2));
    const sigm = (z: Inputs): number => dot(dy, Array.from(z.u, (v) => 1 / (1 + Math.exp(-v))));
    const pu = h.put(u.u), py = h.zeros(16), pdx = h.zeros(16), pdy = h.put(dy);
    rt.k.rwkv7_relu_sq(py, pu, 16);
    rt.k.rwkv7_relu_sq_backward(pdx, pdy, py, 16);
    check(h.get(pdx, 16), fd(relu, u, 'u'), 'relu² dx');
    rt.k.rwkv7_sigmoid(py, pu, 16);
    rt.k.rwkv7_sigmoid_backward(pdx, pdy, py, 16);
    check(h.get(pdx, 16), fd(sigm, u, 'u'), 'σ dx');
    h.free();
  });
});
