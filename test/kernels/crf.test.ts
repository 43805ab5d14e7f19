// crf_nll_forward_backward and crf_viterbi (both binaries) against the f64 reference in
// test/reference/crf.ts over a sweep of K (below, at, above and at multiples of the 4-lane vector),
// T and B with per-row lengths; guard cells around every output, NaN-poisoned padded steps, ±1e4
// emissions, the op-list path and the loss-only mode.
import { beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime, type Variant } from '../../src/wasm/load';
import { OP, f32word } from '../../src/ir/program';
import * as ref from '../reference/crf';

// Tolerances, the one table. The kernels keep alphas, betas and Viterbi deltas minus their row
// maximum (offsets in f64), so f32 rounding is relative to mag = 1 + max|input| — not to the path
// score — and adds up over the steps (T + 1). ε = 2e-7 ≈ 3.4 ulp per step; over the sweep and the
// ±1e4 case every error stays below half its bound (the last test of each binary asserts it;
// measured 2026-11-30: loss 0.05, dem 0.09, dtrans/dstart/dend 0.14, Viterbi score 0.33).
const EPS = 2e-7;
const TOL = {
  loss: (mag: number, rows: number, steps: number) => EPS * mag * rows * steps,
  dem: (mag: number, steps: number) => EPS * mag * steps,
  dparam: (mag: number, terms: number, steps: number) => EPS * mag * Math.sqrt(terms) * steps,
  score: (mag: number, steps: number) => EPS * mag * steps,
};

const VARIANTS: Variant[] = ['simd', 'relaxed'];
const KS = [1, 2, 3, 4, 5, 7, 8, 9, 17];
const TS = [1, 2, 5, 16];
const BS = [1, 3, 8];
const G = 8; // guard cells
const SENTINEL = -4321.25;
const PAD_TAG = 1 << 20; // tags at padded steps: far out of range, never read

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return (s / 4294967296) * 2 - 1;
  };
}

/** Lengths of a batch: the full length, length 1 and values between. */
function lengthsFor(T: number, B: number): number[] {
  return Array.from({ length: B }, (_, b) => (b === 0 ? T : b === 1 ? 1 : 1 + ((b * 7) % T)));
}

interface Case {
  K: number; T: number; B: number; lens: number[];
  trans: Float32Array; start: Float32Array; end: Float32Array; em: Float32Array; tags: Int32Array;
}

function makeCase(K: number, T: number, B: number, seed: number, amp = 2, lens = lengthsFor(T, B)): Case {
  const r = rng(seed);
  const f = (n: number) => Float32Array.from({ length: n }, () => r() * amp);
  const em = f(T * B * K);
  const tags = new Int32Array(T * B);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      const valid = t < lens[b];
      tags[t * B + b] = valid ? Math.floor(((r() + 1) / 2) * K) % K : PAD_TAG;
      if (!valid) em.fill(NaN, (t * B + b) * K, (t * B + b + 1) * K); // must never be read
    }
  }
  return { K, T, B, lens, trans: f(K * K), start: f(K), end: f(K), em, tags };
}

describe.each(VARIANTS)('CRF kernels, %s binary', (variant) => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await createRuntime({ variant });
  });

  // A guarded heap block holding `data` (or n sentinels); returns its element offset.
  function place(data: ArrayLike<number> | number, i32 = false): number {
    const n = typeof data === 'number' ? data : data.length;
    const off = rt.heap.alloc(n + 2 * G) + G;
    rt.heap.f32.fill(SENTINEL, off - G, off + n + G);
    if (typeof data !== 'number') (i32 ? rt.heap.i32 : rt.heap.f32).set(data, off);
    return off;
  }
  function guardsIntact(off: number, n: number): boolean {
    const f = rt.heap.f32;
    for (let i = 1; i <= G; i++) if (f[off - i] !== SENTINEL || f[off + n + i - 1] !== SENTINEL) return false;
    return true;
  }

  // Runs both kernels on a case (directly, or through one program) and returns what they wrote.
  function run(c: Case, scale: number, viaProgram = false) {
    const { K, T, B } = c;
    const p = {
      em: place(c.em), tags: place(c.tags, true), lens: place(c.lens, true),
      trans: place(c.trans), start: place(c.start), end: place(c.end),
      dem: place(T * B * K), dtrans: place(new Float32Array(K * K).fill(0.5)),
      dstart: place(new Float32Array(K).fill(0.25)), dend: place(new Float32Array(K).fill(-0.25)),
      scratch: place(rt.k.crf_nll_scratch_size(T, B, K)), vscratch: place(rt.k.crf_viterbi_scratch_size(T, B, K)),
      path: place(T * B), score: place(B), slot: rt.heap.alloc(4),
    };
    let loss: number;
    if (viaProgram) {
      rt.heap.f32[p.slot + 2] = scale;
      const words = [
        OP.CRF_NLL, p.dem, p.dtrans, p.dstart, p.dend, p.em, p.tags, p.trans, p.start, p.end, p.lens, p.scratch, T, B, K, p.slot,
        OP.CRF_VITERBI, p.path, p.score, p.em, p.trans, p.start, p.end, p.lens, p.vscratch, T, B, K,
      ];
      const prog = place(words, true);
      expect(rt.k.run_program(prog, words.length)).toBe(2);
      loss = rt.heap.readF64(p.slot);
    } else {
      loss = rt.k.crf_nll_forward_backward(p.dem, p.dtrans, p.dstart, p.dend, p.em, p.tags, p.trans, p.start, p.end,
        p.lens, p.scratch, T, B, K, Math.fround(scale));
      rt.k.crf_viterbi(p.path, p.score, p.em, p.trans, p.start, p.end, p.lens, p.vscratch, T, B, K);
    }
    const sizes: [number, number][] = [[p.dem, T * B * K], [p.dtrans, K * K], [p.dstart, K], [p.dend, K], [p.path, T * B], [p.score, B],
      [p.em, T * B * K], [p.trans, K * K]];
    for (const [off, n] of sizes) expect(guardsIntact(off, n)).toBe(true);
    const f = rt.heap.f32;
    return {
      loss,
      dem: f.slice(p.dem, p.dem + T * B * K),
      dtrans: f.slice(p.dtrans, p.dtrans + K * K).map((v) => v - 0.5),
      dstart: f.slice(p.dstart, p.dstart + K).map((v) => v - 0.25),
      dend: f.slice(p.dend, p.dend + K).map((v) => v + 0.25),
      path: rt.heap.i32.slice(p.path, p.path + T * B),
      score: f.slice(p.score, p.score + B),
      inputsUnchanged: f.slice(p.em, p.em + T * B * K).every((v, i) => Object.is(v, c.em[i])),
    };
  }

  // Largest error / bound seen per quantity (the sweep's margin, asserted by the last test).
  const worst: Record<string, number> = {};
  function within(kind: string, err: number, bound: number, what: string): void {
    worst[kind] = Math.max(worst[kind] ?? 0, err / bound);
    expect(err, what).toBeLessThanOrEqual(bound);
  }

  // Compares one run with the reference (tolerances from TOL, scaled by the case's magnitude).
  function check(c: Case, scale: number, got: ReturnType<typeof run>): void {
    const { K, T, B, lens } = c;
    const p = { K, trans: c.trans, start: c.start, end: c.end };
    const want = ref.crfBatch(p, c.em, c.tags, lens, T, scale);
    let mx = 0;
    for (const v of [...c.em, ...c.trans, ...c.start, ...c.end]) if (Number.isFinite(v)) mx = Math.max(mx, Math.abs(v));
    const mag = 1 + mx;
    const ctx = `K=${K} T=${T} B=${B}`;
    within('loss', Math.abs(got.loss - want.loss), TOL.loss(mag, B, T + 1), `loss ${ctx}`);
    for (let i = 0; i < got.dem.length; i++) {
      const b = Math.floor(i / K) % B, t = Math.floor(i / (B * K));
      if (t >= lens[b]) expect(got.dem[i], `padded dem ${ctx}`).toBe(0);
      else within('dem', Math.abs(got.dem[i] - want.dem[i]), TOL.dem(mag, T + 1) * scale, `dem[${i}] ${ctx}`);
    }
    const steps = lens.reduce((a, b) => a + b, 0);
    const near = (g: Float32Array, w: Float64Array, terms: number, what: string) => {
      for (let i = 0; i < g.length; i++) within('dparam', Math.abs(g[i] - w[i]), TOL.dparam(mag, terms, T + 1) * scale + 1e-7, `${what}[${i}] ${ctx}`);
    };
    near(got.dtrans, want.dtrans, steps, 'dtrans');
    near(got.dstart, want.dstart, B, 'dstart');
    near(got.dend, want.dend, B, 'dend');
    // Viterbi: the same path, unless an f32 near-tie picked another path of (nearly) the best score
    for (let b = 0; b < B; b++) {
      const L = lens[b];
      const gp = ref.tagsOf(got.path, b, L, B);
      const wp = ref.tagsOf(want.path, b, L, B);
      for (let t = L; t < T; t++) expect(got.path[t * B + b]).toBe(-1);
      within('score', Math.abs(got.score[b] - want.score[b]), TOL.score(mag, T + 1), `score ${ctx}`);
      if (gp.join() !== wp.join()) {
        const s = ref.pathScore(p, ref.rowOf(c.em, b, L, B, K), gp);
        within('score', Math.abs(s - want.score[b]), TOL.score(mag, T + 1), `near-tie path ${ctx}`);
      }
    }
    expect(got.inputsUnchanged).toBe(true);
  }

  it.each(KS)('K=%i: loss, gradients (+= into parameters, 0 at padded steps) and Viterbi match the f64 reference over T and B', (K) => {
    for (const T of TS) {
      for (const B of BS) {
        const c = makeCase(K, T, B, 1000 * K + 10 * T + B);
        check(c, 1 / B, run(c, 1 / B));
      }
    }
  });

  it('the op-list path (OP.CRF_NLL, OP.CRF_VITERBI in one run_program) is bit-identical to direct calls', () => {
    const c = makeCase(5, 7, 3, 42);
    const a = run(c, 1 / 3);
    const b = run(c, 1 / 3, true);
    expect(b.loss).toBe(a.loss);
    for (const k of ['dem', 'dtrans', 'dstart', 'dend', 'score'] as const) expect(Array.from(b[k])).toEqual(Array.from(a[k]));
    expect(Array.from(b.path)).toEqual(Array.from(a.path));
  });

  it('with every gradient pointer 0 only the loss is computed, equal to the full call', () => {
    const c = makeCase(7, 9, 4, 7);
    const full = run(c, 1);
    const k = rt.k;
    const p = [c.em, c.trans, c.start, c.end].map((x) => place(x));
    const tags = place(c.tags, true), lens = place(c.lens, true);
    const scratch = place(k.crf_nll_scratch_size(9, 4, 7));
    const loss = k.crf_nll_forward_backward(0, 0, 0, 0, p[0], tags, p[1], p[2], p[3], lens, scratch, 9, 4, 7, 1);
    expect(loss).toBe(full.loss);
    expect(loss).toBeGreaterThan(0);
  });

  it('rows of length 0 add no loss and no gradient, decode to all −1 with score 0; lens = 0 means every row has T', () => {
    const c = makeCase(4, 5, 3, 9, 2, [5, 0, 2]);
    const got = run(c, 1);
    check(c, 1, got);
    for (let t = 0; t < 5; t++) expect(got.path[t * 3 + 1]).toBe(-1);
    expect(got.score[1]).toBe(0);
    // lens pointer 0: full length for every row
    const full = makeCase(3, 4, 2, 5, 2, [4, 4]);
    const r1 = run(full, 0.5);
    const k = rt.k;
    const em = place(full.em), tr = place(full.trans), st = place(full.start), en = place(full.end), tg = place(full.tags, true);
    const loss = k.crf_nll_forward_backward(0, 0, 0, 0, em, tg, tr, st, en, 0, place(k.crf_nll_scratch_size(4, 2, 3)), 4, 2, 3, 0.5);
    expect(loss).toBe(r1.loss);
  });

  it('extreme emissions (±1e4) and large transitions keep the loss, gradients and scores finite and correct', () => {
    const c = makeCase(5, 16, 3, 77, 1e4);
    for (let i = 0; i < c.trans.length; i++) c.trans[i] = Math.fround(c.trans[i] / 10);
    const got = run(c, 1 / 3);
    expect(Number.isFinite(got.loss)).toBe(true);
    for (const k of ['dem', 'dtrans', 'dstart', 'dend', 'score'] as const) expect(got[k].every(Number.isFinite)).toBe(true);
    // marginals stay probabilities (|dem| ≤ scale up to f32 rounding of the ±1e3 transitions) and
    // each valid step's marginals sum to 1, so its row of dem sums to 0
    expect(Math.max(...got.dem.map(Math.abs))).toBeLessThanOrEqual((1 / 3) * (1 + 1e-3));
    for (let r = 0; r < 16 * 3; r++) {
      const sum = got.dem.subarray(r * 5, r * 5 + 5).reduce((a, v) => a + v, 0);
      expect(Math.abs(sum)).toBeLessThanOrEqual(1e-3 / 3);
    }
    check(c, 1 / 3, got);
  });

  it('the comparison can fail: kernels given the transposed transition matrix disagree with the reference', () => {
    const c = makeCase(4, 5, 3, 3);
    const bad = { ...c, trans: Float32Array.from({ length: 16 }, (_, i) => c.trans[(i % 4) * 4 + Math.floor(i / 4)]) };
    const saved = { ...worst };
    expect(() => check(c, 1 / 3, run(bad, 1 / 3))).toThrow();
    Object.assign(worst, saved); // the deliberate failure does not count toward the margins
  });

  it('over the sweep and the ±1e4 case every error stays below half its tolerance (TOL is not slack by orders of magnitude either)', () => {
    expect(Object.keys(worst).sort()).toEqual(['dem', 'dparam', 'loss', 'score']);
    for (const [k, r] of Object.entries(worst)) {
      expect(r, k).toBeLessThan(0.5);
      expect(r, k).toBeGreaterThan(0.01);
    }
  });
});
