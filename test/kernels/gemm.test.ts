// gemm_nt / gemm_nn / gemm_tn / matvec_nt (both binaries) against the f64 references in
// test/reference/gemm.ts, over sizes below, at and above every tile edge (tiles: nt 2×4 over 4-wide
// K vectors; nn/tn 4×8 and their K blocks, in place below 64 rows and on packed panels from 64;
// matvec 1×6, then 1×4 for the last N mod 6 rows), accumulate on/off, bias on/off.
// Every buffer sits between guard cells at a varying misalignment: input guards hold NaN (a read
// past an operand that reaches the result turns it NaN), output guards a sentinel that must
// survive, and y starts as NaN when not accumulating (the kernel must not read it then).
import { beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime, type Variant } from '../../src/wasm/load';
import * as ref from '../reference/gemm';

// Tolerance, the one table: |y − ref| ≤ rel·√(K+1)·mag + abs per element, where mag is the same
// product computed on absolute values (Σ_k |x·w| + |b| + |y_old|): f32 rounding of a K-term sum
// grows like √K times the size of the terms. (Observed worst ratios are printed by the tests.)
const TOL = { rel: 2e-7, abs: 1e-30 };

const SIZES = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33, 64, 100];
const VARIANTS: Variant[] = ['simd', 'relaxed'];
const G = 8; // guard cells on each side of a buffer
const SENTINEL = 1234.5;

type Kind = 'gemm_nt' | 'gemm_nn' | 'gemm_tn' | 'matvec_nt';

// (M, N, K) cases: every (M, N) pair with K cycling through SIZES, plus every K for a few (M, N).
function shapes(kind: Kind): [number, number, number][] {
  const out: [number, number, number][] = [];
  const Ms = kind === 'matvec_nt' ? [1] : SIZES;
  Ms.forEach((M, i) =>
    SIZES.forEach((N, j) => out.push([M, N, SIZES[(3 * i + 5 * j) % SIZES.length]])),
  );
  const few = kind === 'matvec_nt' ? [[1, 1], [1, 5], [1, 6], [1, 11], [1, 12], [1, 17], [1, 1030]] : [[1, 1], [2, 5], [3, 4], [9, 17]];
  for (const [M, N] of few) for (const K of SIZES) out.push([M, N, K]);
  out.push(kind === 'matvec_nt' ? [1, 7, 0] : [5, 7, 0], [1, 9, 0]); // K = 0: y = b (+ y)
  // gemm_nn / gemm_tn below 64 rows split K into blocks of ≈ 131072 / (M + N) (≥ 16); from 64 rows
  // on they pack W in column chunks of ≤ 2048 and K blocks of min(512, 65536 / chunk): cross the
  // block and chunk edges of both drivers, with row and column tails
  if (kind === 'gemm_nn' || kind === 'gemm_tn') {
    out.push([3, 4100, 100], [6, 4097, 70], [9, 8190, 33]);
    out.push([64, 4100, 40], [67, 2049, 33], [66, 9, 1030], [101, 300, 230], [64, 1, 513]);
  }
  return out;
}

let seed = 12345;
function rnd(): number {
  seed ^= seed << 13; seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5; seed >>>= 0;
  return (seed / 4294967296) * 2 - 1;
}

// Buffers carved out of one heap block: [guard | data | guard], data start shifted by 0..3 cells.
class Arena {
  private base: number;
  private cur = 0;
  constructor(private rt: Runtime, private cap: number) {
    this.base = rt.heap.alloc(cap);
  }
  reset(): void {
    this.cur = this.base;
  }
  place(data: ArrayLike<number>, guard: number, shift: number): number {
    const off = this.cur + G + shift;
    this.cur = off + data.length + G;
    if (this.cur > this.base + this.cap) throw new Error('arena too small');
    const f32 = this.rt.heap.f32;
    f32.fill(guard, off - G, off);
    f32.set(data, off);
    f32.fill(guard, off + data.length, off + data.length + G);
    return off;
  }
}

interface Result {
  ratio: number; // worst |err| / tol
  where: string;
}

function runCase(rt: Runtime, arena: Arena, kind: Kind, M: number, N: number, K: number, acc: boolean, bias: boolean): Result {
  const xs = Float32Array.from({ length: M * K }, rnd);
  const ws = Float32Array.from({ length: N * K }, rnd);
  const bs = Float32Array.from({ length: N }, rnd);
  const y0 = acc ? Float32Array.from({ length: M * N }, rnd) : new Float32Array(M * N).fill(NaN);
  const s = (M + 3 * N + 7 * K) & 3;
  arena.reset();
  const x = arena.place(xs, NaN, s);
  const w = arena.place(ws, NaN, (s + 1) & 3);
  const b = bias ? arena.place(bs, NaN, (s + 2) & 3) : 0;
  const y = arena.place(y0, SENTINEL, (s + 3) & 3);
  const a = acc ? 1 : 0;
  if (kind === 'gemm_nt') rt.k.gemm_nt(y, x, w, b, M, N, K, a);
  else if (kind === 'matvec_nt') rt.k.matvec_nt(y, w, x, b, N, K, a);
  else rt.k[kind](y, x, w, M, N, K, a);

  // reference and the magnitude of its terms (same formula on absolute values)
  const want = Float64Array.from(y0);
  const mag = Float64Array.from(y0, Math.abs);
  const abs = (v: Float32Array) => v.map(Math.abs);
  if (kind === 'gemm_nn' || kind === 'gemm_tn') {
    ref[kind](want, xs, ws, M, N, K, acc);
    ref[kind](mag, abs(xs), abs(ws), M, N, K, acc);
  } else {
    ref.gemm_nt(want, xs, ws, bias ? bs : null, M, N, K, acc);
    ref.gemm_nt(mag, abs(xs), abs(ws), bias ? abs(bs) : null, M, N, K, acc);
  }
  const f32 = rt.heap.f32;
  for (let i = 1; i <= G; i++) {
    if (f32[y - i] !== SENTINEL || f32[y + M * N + i - 1] !== SENTINEL) {
      return { ratio: Infinity, where: `${kind} ${M}x${N}x${K}: wrote outside y` };
    }
  }
  let worst: Result = { ratio: 0, where: '' };
  for (let i = 0; i < M * N; i++) {
    const tol = TOL.rel * Math.sqrt(K + 1) * mag[i] + TOL.abs;
    const err = Math.abs(f32[y + i] - want[i]);
    const ratio = Number.isNaN(err) ? Infinity : err / tol;
    if (ratio > worst.ratio) {
      worst = { ratio, where: `${kind} M=${M} N=${N} K=${K} acc=${a} bias=${+bias} [${i}]: got ${f32[y + i]}, want ${want[i]}` };
    }
  }
  return worst;
}

describe.each(VARIANTS)('GEMM kernels, %s binary', (variant) => {
  let rt: Runtime;
  let arena: Arena;
  beforeAll(async () => {
    rt = await createRuntime({ variant });
    arena = new Arena(rt, 1 << 20);
  });

  const flagSets: [Kind, boolean, boolean][] = [];
  for (const kind of ['gemm_nt', 'matvec_nt', 'gemm_nn', 'gemm_tn'] as Kind[]) {
    for (const acc of [false, true]) {
      for (const bias of kind === 'gemm_nt' || kind === 'matvec_nt' ? [false, true] : [false]) flagSets.push([kind, acc, bias]);
    }
  }

  it.each(flagSets)('%s matches the f64 reference over the size sweep (accumulate=%s, bias=%s)', (kind, acc, bias) => {
    let worst: Result = { ratio: 0, where: '' };
    for (const [M, N, K] of shapes(kind)) {
      const r = runCase(rt, arena, kind, M, N, K, acc, bias);
      if (r.ratio > worst.ratio) worst = r;
    }
    console.log(`${variant} ${kind} acc=${+acc} bias=${+bias}: worst err/tol ${worst.ratio.toFixed(3)}`);
    expect(worst.ratio, worst.where).toBeLessThanOrEqual(1);
  });

  it('gemm_nt with M = 1 gives exactly matvec_nt', () => {
    const N = 37, K = 53;
    arena.reset();
    const x = arena.place(Float32Array.from({ length: K }, rnd), NaN, 1);
    const w = arena.place(Float32Array.from({ length: N * K }, rnd), NaN, 2);
    const b = arena.place(Float32Array.from({ length: N }, rnd), NaN, 3);
    const y1 = arena.place(new Float32Array(N), SENTINEL, 0);
    const y2 = arena.place(new Float32Array(N), SENTINEL, 1);
    rt.k.gemm_nt(y1, x, w, b, 1, N, K, 0);
    rt.k.matvec_nt(y2, w, x, b, N, K, 0);
    expect(rt.heap.read(y1, N)).toEqual(rt.heap.read(y2, N));
  });

  it('the tolerance is tight enough to see one missing term', () => {
    // the harness itself: a reference that drops the last k term must fail the same check
    const M = 3, N = 5, K = 9;
    const xs = Float32Array.from({ length: M * K }, rnd);
    const ws = Float32Array.from({ length: N * K }, rnd);
    arena.reset();
    const x = arena.place(xs, NaN, 0), w = arena.place(ws, NaN, 0), y = arena.place(new Float32Array(M * N), 0, 0);
    rt.k.gemm_nt(y, x, w, 0, M, N, K, 0);
    const xDrop = xs.map((v, i) => (i % K === K - 1 ? 0 : v));
    const want = new Float64Array(M * N), mag = new Float64Array(M * N);
    ref.gemm_nt(want, xDrop, ws, null, M, N, K, false);
    ref.gemm_nt(mag, xs.map(Math.abs), ws.map(Math.abs), null, M, N, K, false);
    let worst = 0;
    for (let i = 0; i < M * N; i++) {
      worst = Math.max(worst, Math.abs(rt.heap.f32[y + i] - want[i]) / (TOL.rel * Math.sqrt(K + 1) * mag[i] + TOL.abs));
    }
    expect(worst).toBeGreaterThan(100);
  });
});
