// attention_forward / attention_backward (wasm, both binaries) against the f64 reference in
// test/reference/attention.ts: a size sweep across the SIMD tails (forward), and every gradient
// against central finite differences of the reference (backward). Luong `general` and Bahdanau
// additive run as the graph runs them: the projections are gemm_nt calls, their gradients
// gemm_tn / gemm_nn / colsum calls around the kernel.
import { describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/wasm/load';
import { attentionRef, type AttentionInput, type AttentionKind } from '../reference/attention';
import { VARIANTS, randArray, rng, useRuntimes } from '../cells/harness';

const rts = useRuntimes();

const TOL = { fwd: { abs: 3e-6, rel: 3e-6 }, bwd: { abs: 2e-5, rel: 2e-5 } };

interface Grads {
  q: Float32Array;
  enc: Float32Array;
  W?: Float32Array;
  Wq?: Float32Array;
  Wk?: Float32Array;
  bk?: Float32Array;
  v?: Float32Array;
}

/** Runs forward (and backward with upstream dctx when given) in wasm. */
function runWasm(rt: Runtime, inp: AttentionInput, dctx?: ArrayLike<number>): { a: Float32Array; ctx: Float32Array; g?: Grads } {
  const { Tq, Tk, B, H, E } = inp;
  const heap = rt.heap;
  const k = rt.k;
  const offs: number[] = [];
  const zeros = (n: number): number => {
    const o = heap.alloc(n);
    offs.push(o);
    return o;
  };
  const put = (src: ArrayLike<number> | undefined, n: number): number => {
    if (!src) return 0;
    const o = zeros(n);
    heap.f32.set(src, o);
    return o;
  };
  try {
    const q = put(inp.q, Tq * B * H);
    const enc = put(inp.enc, Tk * B * E);
    let lens = 0;
    if (inp.lens) {
      lens = zeros(B);
      heap.i32.set(Array.from(inp.lens), lens);
    }
    const A = inp.A ?? H;
    let qk = q; // what the kernel sees as q and k
    let kk = enc;
    let W = 0, Wq = 0, Wk = 0, bk = 0, v = 0;
    const W_H = inp.kind === 'additive' ? A : H; // width of the kernel's q and k
    if (inp.kind === 'general') {
      W = put(inp.W, H * E);
      kk = zeros(Tk * B * H);
      k.gemm_nt(kk, enc, W, 0, Tk * B, H, E, 0);
    } else if (inp.kind === 'additive') {
      Wq = put(inp.Wq, A * H);
      Wk = put(inp.Wk, A * E);
      bk = put(inp.bk, A);
      v = put(inp.v, A);
      qk = zeros(Tq * B * A);
      kk = zeros(Tk * B * A);
      k.gemm_nt(qk, q, Wq, 0, Tq * B, A, H, 0);
      k.gemm_nt(kk, enc, Wk, bk, Tk * B, A, E, 0);
    }
    const a = zeros(Tq * B * Tk);
    const ctx = zeros(Tq * B * E);
    heap.f32.fill(NaN, a, a + Tq * B * Tk); // every weight must be written, padded ones with 0
    heap.f32.fill(NaN, ctx, ctx + Tq * B * E);
    const mode = inp.kind === 'additive' ? 1 : 0;
    k.attention_forward(a, ctx, qk, kk, enc, v, lens, Tq, Tk, B, W_H, E, mode);
    const out = { a: heap.read(a, Tq * B * Tk), ctx: heap.read(ctx, Tq * B * E) } as { a: Float32Array; ctx: Float32Array; g?: Grads };
    if (!dctx) return out;
    const dc = put(dctx, Tq * B * E);
    const dqk = zeros(Tq * B * W_H);
    const denc = zeros(Tk * B * E);
    // dot: the keys are the values, so dk and dval are the same buffer (both accumulate)
    const dkk = inp.kind === 'dot' ? denc : zeros(Tk * B * W_H);
    const dv = v ? zeros(A) : 0;
    const scratch = zeros(Tk);
    k.attention_backward(dqk, dkk, denc, dv, dc, a, qk, kk, enc, v, lens, scratch, Tq, Tk, B, W_H, E, mode);
    const g: Grads = { q: new Float32Array(0), enc: new Float32Array(0) };
    if (inp.kind === 'dot') g.q = heap.read(dqk, Tq * B * H);
    else if (inp.kind === 'general') {
      const dW = zeros(H * E);
      k.gemm_tn(dW, dkk, enc, H, E, Tk * B, 0);
      k.gemm_nn(denc, dkk, W, Tk * B, E, H, 1);
      g.q = heap.read(dqk, Tq * B * H);
      g.W = heap.read(dW, H * E);
    } else {
      const dq = zeros(Tq * B * H);
      const dWq = zeros(A * H);
      const dWk = zeros(A * E);
      const dbk = zeros(A);
      k.gemm_tn(dWq, dqk, q, A, H, Tq * B, 0);
      k.gemm_nn(dq, dqk, Wq, Tq * B, H, A, 0);
      k.gemm_tn(dWk, dkk, enc, A, E, Tk * B, 0);
      k.colsum(dbk, dkk, Tk * B, A, 0);
      k.gemm_nn(denc, dkk, Wk, Tk * B, E, A, 1);
      Object.assign(g, { q: heap.read(dq, Tq * B * H), Wq: heap.read(dWq, A * H), Wk: heap.read(dWk, A * E), bk: heap.read(dbk, A), v: heap.read(dv, A) });
    }
    g.enc = heap.read(denc, Tk * B * E);
    out.g = g;
    return out;
  } finally {
    for (const o of offs) heap.release(o);
  }
}

function randomCase(seed: number, kind: AttentionKind, Tq: number, Tk: number, B: number, H: number, E: number, A: number, withLens: boolean): AttentionInput {
  const r = rng(seed);
  const inp: AttentionInput = {
    kind, Tq, Tk, B, H, E: kind === 'dot' ? H : E, A,
    q: randArray(r, Tq * B * H, 1 / Math.sqrt(H)),
    enc: randArray(r, Tk * B * (kind === 'dot' ? H : E)),
  };
  const Ew = inp.E;
  if (kind === 'general') inp.W = randArray(r, H * Ew, 1.5 / Math.sqrt(Ew));
  if (kind === 'additive') {
    inp.Wq = randArray(r, A * H, 1.5 / Math.sqrt(H));
    inp.Wk = randArray(r, A * Ew, 1.5 / Math.sqrt(Ew));
    inp.bk = randArray(r, A, 0.5);
    inp.v = randArray(r, A, 1.5 / Math.sqrt(A));
  }
  if (withLens) {
    // a full row, a length-1 row, the rest random
    const lens = Array.from({ length: B }, () => 1 + Math.floor(r(0, 1) * Tk));
    lens[seed % B] = Tk;
    if (B > 1) lens[(seed + 1) % B] = 1;
    inp.lens = lens;
  }
  return inp;
}

function compare(what: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: { abs: number; rel: number }): string[] {
  const bad: string[] = [];
  if (got.length !== want.length) return [`${what}: length ${got.length}, expected ${want.length}`];
  for (let i = 0; i < want.length && bad.length < 4; i++) {
    const e = Math.abs(got[i] - want[i]);
    if (!(e <= tol.abs + tol.rel * Math.abs(want[i]))) bad.push(`${what}[${i}]: got ${got[i]}, expected ${want[i]}`);
  }
  return bad;
}

const KINDS: AttentionKind[] = ['dot', 'general', 'additive'];
const HS = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33];
const TKS = [1, 2, 5, 9];

describe('attention_forward vs the f64 reference (size sweep, masks, both binaries)', () => {
  for (const kind of KINDS) {
    it.each(HS)(`${kind}: H=%i over Tk ∈ {1,2,5,9}, lens on/off`, (H) => {
      for (const [ti, Tk] of TKS.entries()) {
        for (const withLens of [false, true]) {
          const B = [1, 2, 3, 5][(ti + H) % 4];
          const Tq = [1, 3, 4][(ti + H) % 3];
          const E = [1, 4, 6, 9][(ti + 2 * H) % 4];
          const A = [1, 3, 8, 11][(ti + H) % 4];
          const inp = randomCase(100 * H + 10 * ti + (withLens ? 1 : 0), kind, Tq, Tk, B, H, E, A, withLens);
          const ref = attentionRef(inp);
          for (const v of VARIANTS) {
            const out = runWasm(rts[v], inp);
            const desc = `${v} Tq=${Tq} Tk=${Tk} B=${B} E=${inp.E} A=${A} lens=${inp.lens ?? 'none'}`;
            expect(compare('a', out.a, ref.a, TOL.fwd), desc).toEqual([]);
            expect(compare('ctx', out.ctx, ref.ctx, TOL.fwd), desc).toEqual([]);
            // padded keys get exactly 0
            for (let i = 0; i < ref.a.length; i++) if (ref.a[i] === 0) expect(out.a[i]).toBe(0);
          }
        }
      }
    });
  }

  it('weights of a row sum to 1 over the valid keys and follow the scores (a hand case)', () => {
    // dot, H = 1: q = 1, keys 0, ln 2, ln 3 (third masked) → weights 1/3, 2/3, 0
    const inp: AttentionInput = { kind: 'dot', Tq: 1, Tk: 3, B: 1, H: 1, E: 1, q: [1], enc: [0, Math.log(2), Math.log(3)], lens: [2] };
    for (const v of VARIANTS) {
      const out = runWasm(rts[v], inp);
      expect(out.a[0]).toBeCloseTo(1 / 3, 6);
      expect(out.a[1]).toBeCloseTo(2 / 3, 6);
      expect(out.a[2]).toBe(0);
      expect(out.ctx[0]).toBeCloseTo((2 / 3) * Math.log(2), 6);
    }
  });
});

// ---- backward: central differences of the f64 reference ----------------------------------------

function loss(inp: AttentionInput, dctx: Float64Array): number {
  const { ctx } = attentionRef(inp);
  let s = 0;
  for (let i = 0; i < ctx.length; i++) s += dctx[i] * ctx[i];
  return s;
}

function numeric(inp: AttentionInput, dctx: Float64Array, key: keyof Grads): Float64Array {
  const v = (inp as unknown as Record<string, Float64Array>)[key];
  const eps = 1e-6;
  const d = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const keep = v[i];
    v[i] = keep + eps;
    const lp = loss(inp, dctx);
    v[i] = keep - eps;
    const lm = loss(inp, dctx);
    v[i] = keep;
    d[i] = (lp - lm) / (2 * eps);
  }
  return d;
}

const GRAD_KEYS: Record<AttentionKind, (keyof Grads)[]> = {
  dot: ['q', 'enc'],
  general: ['q', 'enc', 'W'],
  additive: ['q', 'enc', 'Wq', 'Wk', 'bk', 'v'],
};

describe('attention_backward vs central differences of the f64 reference', () => {
  const shapes = [
    { Tq: 1, Tk: 1, B: 1, H: 1, E: 1, A: 1 },
    { Tq: 3, Tk: 5, B: 3, H: 4, E: 6, A: 5 },
    { Tq: 4, Tk: 7, B: 2, H: 7, E: 3, A: 9 },
    { Tq: 2, Tk: 9, B: 4, H: 5, E: 5, A: 4 },
  ];
  for (const kind of KINDS) {
    it.each(shapes.map((s, i) => ({ ...s, i })))(`${kind}: Tq=$Tq Tk=$Tk B=$B H=$H E=$E A=$A, masked`, (s) => {
      const inp = randomCase(7000 + 31 * s.i + kind.length, kind, s.Tq, s.Tk, s.B, s.H, s.E, s.A, s.i > 0);
      const dctx = randArray(rng(99 + s.i), s.Tq * s.B * inp.E);
      for (const v of VARIANTS) {
        const g = runWasm(rts[v], inp, dctx).g!;
        for (const key of GRAD_KEYS[kind]) {
          const want = numeric(inp, dctx, key);
          expect(compare(`${v} d${key}`, g[key]!, want, TOL.bwd)).toEqual([]);
        }
      }
    });
  }

  it('gradients of padded keys are exactly 0 and the harness can fail (a wrong upstream gradient is caught)', () => {
    const inp = randomCase(4242, 'additive', 3, 6, 2, 4, 5, 3, true);
    inp.lens = [6, 2];
    const dctx = randArray(rng(5), 3 * 2 * 5);
    const g = runWasm(rts.simd, inp, dctx).g!;
    for (let j = 2; j < 6; j++) for (let i = 0; i < 5; i++) expect(g.enc[(j * 2 + 1) * 5 + i]).toBe(0);
    const other = runWasm(rts.simd, inp, dctx.map((x) => x * 1.01)).g!;
    expect(compare('dq', other.q, numeric(inp, dctx, 'q'), TOL.bwd).length).toBeGreaterThan(0);
  });
});
