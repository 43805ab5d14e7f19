// gemm_q8_nt (assembly/kernels/int8.ts), both binaries, against the bit-exact reference in
// test/reference/int8.ts over sizes below, at and above its tiles (4 W rows per tile; 16-byte K
// chunks of int8 rows padded to Kp), accumulate and bias on and off; y sits between sentinel guard
// cells that must survive, and inputs end next to NaN-filled cells (a read past x reaching the
// result would turn it NaN). Then against the f32 product: the error stays within the bound the
// two quantizations allow.
import { beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime, type Variant } from '../../src/wasm/load';
import { quantizeRows, q8RowBytes } from '../../src/model/quantize';
import { gemmQ8Ref, qxOf } from '../reference/int8';

const SIZES = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100];
const VARIANTS: Variant[] = ['simd', 'relaxed'];
const G = 8;
const SENTINEL = 1234.5;

let seed = 777;
function rnd(): number {
  seed ^= seed << 13; seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5; seed >>>= 0;
  return (seed / 4294967296) * 2 - 1;
}

interface Case { M: number; N: number; K: number; acc: boolean; bias: boolean }
const cases: Case[] = [];
SIZES.forEach((N, i) => SIZES.forEach((K, j) => cases.push({ M: 1 + ((i + j) % 3), N, K, acc: (i + j) % 2 === 1, bias: (i * 3 + j) % 4 !== 0 })));
cases.push({ M: 5, N: 1030, K: 70, acc: false, bias: true }, { M: 2, N: 6, K: 1030, acc: true, bias: false });

// Runs one case; returns the kernel's y (M·N) and the reference's, plus the f32 product's.
function run(rt: Runtime, c: Case, qx = qxOf(rt.int8)) {
  const { M, N, K, acc, bias } = c;
  const xs = Float32Array.from({ length: M * K }, rnd);
  if (M > 1) xs.fill(0, K, 2 * K); // an all-zero row: sx = 0, y = b (+ y)
  const ws = Float32Array.from({ length: N * K }, rnd);
  const bs = Float32Array.from({ length: N }, rnd);
  const y0 = acc ? Float32Array.from({ length: M * N }, rnd) : new Float32Array(M * N).fill(NaN);
  const { q, s } = quantizeRows(ws, N, K);
  const h = rt.heap;
  const blk = h.alloc(M * K + N + M * N + N + q.length / 4 + 8 * G);
  const x = blk + G;
  const sw = x + M * K + G;
  const b = sw + N + G;
  const y = b + N + G;
  const w8 = y + M * N + G;
  h.f32.fill(NaN, blk, w8);
  h.write(x, xs);
  h.write(sw, s);
  h.write(b, bs);
  h.f32.fill(SENTINEL, y - G, y + M * N + G);
  h.write(y, y0);
  h.writeI8(w8, q);
  rt.k.gemm_q8_nt(y, x, w8, sw, bias ? b : 0, M, N, K, acc ? 1 : 0);
  const got = h.read(y, M * N);
  const guards = [...h.read(y - G, G), ...h.read(y + M * N, G)];
  h.release(blk);
  const want = y0.slice();
  gemmQ8Ref(want, xs, q, s, bias ? bs : null, M, N, K, q8RowBytes(K), acc, qx);
  // the f32 product, for the error bound
  const exact = new Float64Array(M * N);
  for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
    let v = acc ? y0[m * N + n] : 0;
    for (let k = 0; k < K; k++) v += xs[m * K + k] * ws[n * K + k];
    exact[m * N + n] = v + (bias ? bs[n] : 0);
  }
  return { got, want, guards, exact, xs, ws };
}

describe.each(VARIANTS.flatMap((v) => (['exact', 'fast'] as const).map((m) => [v, m] as const)))('gemm_q8_nt, %s binary, %s activations', (variant, int8) => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await createRuntime({ variant, int8 });
    expect(rt.int8).toBe(int8);
  });

  it('equals the integer reference bit for bit over the size sweep, and writes nothing outside y', () => {
    for (const c of cases) {
      const { got, want, guards } = run(rt, c);
      expect(guards.every((v) => v === SENTINEL), `guards ${JSON.stringify(c)}`).toBe(true);
      for (let i = 0; i < got.length; i++) {
        if (!Object.is(got[i], want[i])) expect.fail(`${JSON.stringify(c)} [${i}]: got ${got[i]}, want ${want[i]}`);
      }
    }
  });

  it('stays within the quantization bound of the f32 product', () => {
    // |Σ x·w − Σ x̃·w̃| ≤ Σ_k (|x|·sw/2 + |w|·sx/2 + sx·sw/4) per output, inputs in [-1, 1)
    for (const c of cases) {
      const { got, exact, xs, ws } = run(rt, c);
      for (let m = 0; m < c.M; m++) {
        let mx = 0;
        for (let k = 0; k < c.K; k++) mx = Math.max(mx, Math.abs(xs[m * c.K + k]));
        const sx = mx / qxOf(int8);
        for (let n = 0; n < c.N; n++) {
          let mw = 0, bound = 0;
          for (let k = 0; k < c.K; k++) mw = Math.max(mw, Math.abs(ws[n * c.K + k]));
          const sw = mw / 127;
          for (let k = 0; k < c.K; k++) bound += (Math.abs(xs[m * c.K + k]) * sw) / 2 + (Math.abs(ws[n * c.K + k]) * sx) / 2 + (sx * sw) / 4;
          const err = Math.abs(got[m * c.N + n] - exact[m * c.N + n]);
          expect(err, `${JSON.stringify(c)} row ${m} col ${n}`).toBeLessThanOrEqual(bound * 1.001 + 1e-5);
        }
      }
    }
  });
});

describe('int8 kernels across binaries', () => {
  it('give the same bits in the plain and the relaxed binary (integer sums, no fused madd)', async () => {
    const a = await createRuntime({ variant: 'simd' });
    const b = await createRuntime({ variant: 'relaxed' });
    for (const c of cases.slice(0, 40)) {
      seed = 99;
      const ra = run(a, c).got;
      seed = 99;
      const rb = run(b, c).got;
      expect(Array.from(new Uint32Array(ra.buffer)), JSON.stringify(c)).toEqual(Array.from(new Uint32Array(rb.buffer)));
    }
  });
});

describe('int8 rows and modes', () => {
  it('each int8 row ends in the i32 sum of its weights; the rest of the padding is zero', () => {
    for (const K of [1, 5, 12, 13, 16, 28, 29, 64, 100]) {
      const N = 3;
      const w = Float32Array.from({ length: N * K }, rnd);
      const { q } = quantizeRows(w, N, K);
      const Kp = q8RowBytes(K);
      expect(Kp % 16).toBe(0);
      expect(Kp).toBeGreaterThanOrEqual(K + 4);
      for (let n = 0; n < N; n++) {
        let sum = 0;
        for (let k = 0; k < K; k++) sum += q[n * Kp + k];
        expect(new DataView(q.buffer, n * Kp + Kp - 4, 4).getInt32(0, true), `K ${K} row ${n}`).toBe(sum);
        for (let k = K; k < Kp - 4; k++) expect(q[n * Kp + k]).toBe(0);
      }
    }
  });

  it('the probe passes only where the engine computes the relaxed dot as the spec says (checked here by a module of our own bytes)', async () => {
    // (func (result i32) a = 0..15, b = 1, c = 5; relaxed_dot_i8x16_i7x16_add_s; lane 0 + 1000·lane 1)
    const a = Array.from({ length: 16 }, (_, i) => i);
    const bytes = new Uint8Array([
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f, 0x03, 0x02, 0x01, 0x00,
      0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00, 0x0a, 0x45, 0x01, 0x43, 0x01, 0x01, 0x7b,
      0xfd, 0x0c, ...a, 0xfd, 0x0c, ...Array(16).fill(1), 0xfd, 0x0c, 5, 0, 0, 0, 5, 0, 0, 0, 5, 0, 0, 0, 5, 0, 0, 0,
      0xfd, 0x93, 0x02, 0x21, 0x00,
      0x20, 0x00, 0xfd, 0x1b, 0x00, 0x20, 0x00, 0xfd, 0x1b, 0x01, 0x41, 0xe8, 0x07, 0x6c, 0x6a, 0x0b,
    ]);
    let correct = false;
    if (WebAssembly.validate(bytes)) {
      const f = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports.f as () => number;
      correct = f() === 11 + 1000 * 27;
    }
    const relaxed = await createRuntime({ variant: 'relaxed' });
    const simd = await createRuntime({ variant: 'simd' });
    expect(relaxed.relaxedDot).toBe(correct);
    expect(simd.relaxedDot).toBe(false);
    // auto: fast only where the relaxed dot is right; either mode can be asked for anywhere
    expect(relaxed.int8).toBe(correct ? 'fast' : 'exact');
    expect(simd.int8).toBe('exact');
    expect((await createRuntime({ variant: 'simd', int8: 'fast' })).int8).toBe('fast');
    await expect(createRuntime({ int8: 'int7' as never })).rejects.toThrow("Expected int8 'auto', 'exact' or 'fast', got int7");
  });
});
