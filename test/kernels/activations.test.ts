// sigmoid_f32 / tanh_f32 / relu_f32 (both binaries; they run vsigmoid / vtanh / vrelu, the vector
// activations the cells use) against the f64 references in test/reference/activations.ts:
// the error bound over a strided sweep of every f32 bit pattern, the special values, the ranges,
// and the body/tail split over sizes crossing the 4-lane vector.
import { beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime, type Variant } from '../../src/wasm/load';
import * as ref from '../reference/activations';

// Max abs error allowed, the one table. Measured over all 2^32 bit patterns (bench/kernels.mjs
// --act-error), both builds: sigmoid 8.93e-8, tanh 7.93e-8 — as stated in assembly/kernels/activations.ts.
const TOL = { sigmoid_f32: 1e-7, tanh_f32: 1e-7, relu_f32: 0 };
// Every STRIDE-th bit pattern (a prime, so every exponent and many mantissa patterns are visited).
const STRIDE = 257;

const VARIANTS: Variant[] = ['simd', 'relaxed'];
const KERNELS = ['sigmoid_f32', 'tanh_f32', 'relu_f32'] as const;
type Kernel = (typeof KERNELS)[number];
const REF: Record<Kernel, (x: number) => number> = { sigmoid_f32: ref.sigmoid, tanh_f32: ref.tanh, relu_f32: ref.relu };
const RANGE: Record<Kernel, [number, number]> = { sigmoid_f32: [0, 1], tanh_f32: [-1, 1], relu_f32: [0, Infinity] };

const FLT_MAX = 3.4028234663852886e38;
const DENORM_MIN = 1.401298464324817e-45;
const FLT_MIN = 1.1754943508222875e-38;
const SPECIALS = [0, -0, DENORM_MIN, -DENORM_MIN, FLT_MIN * 0.5, -FLT_MIN * 0.5, FLT_MIN, -FLT_MIN, FLT_MAX, -FLT_MAX,
  Infinity, -Infinity, 88, -88, 88.5, -88.5, 89, -89, 100, -100, 1e10, -1e10, 9, -9, 10, -10, 0.625, -0.625,
  0.62499994, -0.62499994, 1e-20, -1e-20];

const CHUNK = 1 << 20;

describe.each(VARIANTS)('activations, %s binary', (variant) => {
  let rt: Runtime;
  let xb: number, yb: number;
  beforeAll(async () => {
    rt = await createRuntime({ variant });
    xb = rt.heap.alloc(CHUNK + 16);
    yb = rt.heap.alloc(CHUNK + 16);
  });

  // Runs a kernel on xs (any length ≤ CHUNK) and returns its output.
  function run(k: Kernel, xs: Float32Array): Float32Array {
    rt.heap.write(xb, xs);
    rt.k[k](yb, xb, xs.length);
    return rt.heap.read(yb, xs.length);
  }

  it.each(['sigmoid_f32', 'tanh_f32'] as const)(
    '%s: max abs error over every 257th f32 bit pattern and the special values is within the bound',
    (k) => {
      const bits = new Uint32Array(CHUNK);
      const xs = new Float32Array(bits.buffer);
      const f = REF[k];
      const [lo, hi] = RANGE[k];
      let worst = 0, worstX = 0, bad = 0, n = 0;
      const check = (m: number) => {
        const ys = run(k, xs.subarray(0, m));
        for (let i = 0; i < m; i++) {
          const x = xs[i], y = ys[i];
          if (Number.isNaN(x)) { if (!Number.isNaN(y)) bad++; continue; }
          if (!(y >= lo && y <= hi)) { bad++; continue; } // NaN or out of range from a non-NaN input
          const e = Math.abs(y - f(x));
          if (e > worst) { worst = e; worstX = x; }
        }
      };
      xs.set(SPECIALS);
      check(SPECIALS.length);
      for (let b = 0; b < 2 ** 32; b += STRIDE) {
        bits[n++] = b;
        if (n === CHUNK) { check(n); n = 0; }
      }
      check(n);
      console.log(`${variant} ${k}: max abs err ${worst.toExponential(2)} at x = ${worstX} (stride ${STRIDE})`);
      expect(bad, 'NaN for a non-NaN input, a non-NaN for NaN, or a result out of range').toBe(0);
      expect(worst).toBeLessThanOrEqual(TOL[k]);
    },
  );

  it('saturates exactly: tanh(±Inf) = ±1, σ(+Inf) = 1, σ(−Inf) = 0, relu(+Inf) = +Inf', () => {
    const xs = Float32Array.of(Infinity, -Infinity, 1e30, -1e30, FLT_MAX, -FLT_MAX);
    expect(Array.from(run('tanh_f32', xs))).toEqual([1, -1, 1, -1, 1, -1]);
    expect(Array.from(run('sigmoid_f32', xs))).toEqual([1, 0, 1, 0, 1, 0]);
    expect(Array.from(run('relu_f32', xs))).toEqual([Infinity, 0, 1e30, 0, FLT_MAX, 0].map(Math.fround));
  });

  it('propagates NaN (both signs, any payload) in every lane position and the tail', () => {
    const nanBits = Uint32Array.of(0x7fc00000, 0xffc00000, 0x7f800001, 0x7fffffff, 0xff812345);
    for (const k of KERNELS) {
      for (const n of [1, 4, 5, 7]) {
        for (let at = 0; at < n; at++) {
          const xs = Float32Array.from({ length: n }, (_, i) => i * 0.3 - 1);
          new Uint32Array(xs.buffer)[at] = nanBits[(at + n) % nanBits.length];
          const ys = run(k, xs);
          ys.forEach((y, i) => expect(Number.isNaN(y), `${k} n=${n} NaN at ${at}, lane ${i}`).toBe(i === at));
        }
      }
    }
  });

  it('tanh is odd bit-for-bit, keeps tiny values (tanh(x) = x for |x| < 2^-12) and the sign of zero', () => {
    const xs = Float32Array.from({ length: 4096 }, (_, i) => (i - 2048) / 97);
    const neg = xs.map((v) => -v);
    expect(run('tanh_f32', neg)).toEqual(run('tanh_f32', xs).map((v) => -v));
    const tiny = Float32Array.of(DENORM_MIN, -DENORM_MIN, 1e-30, -1e-30, 2 ** -13, -(2 ** -13));
    expect(run('tanh_f32', tiny)).toEqual(tiny);
    expect(Object.is(run('tanh_f32', Float32Array.of(-0))[0], -0)).toBe(true);
  });

  it('σ(x) + σ(−x) = 1 within the bound; σ(0) = 0.5, tanh(0) = 0', () => {
    const xs = Float32Array.from({ length: 2048 }, (_, i) => (i - 1024) / 37);
    const a = run('sigmoid_f32', xs), b = run('sigmoid_f32', xs.map((v) => -v));
    for (let i = 0; i < xs.length; i++) expect(Math.abs(a[i] + b[i] - 1)).toBeLessThanOrEqual(2 * TOL.sigmoid_f32);
    expect(run('sigmoid_f32', Float32Array.of(0))[0]).toBe(0.5);
    expect(run('tanh_f32', Float32Array.of(0))[0]).toBe(0);
  });

  // Body/tail split: sizes below, at and above multiples of 4, in place and out of place,
  // at every misalignment; cells around the output must not be touched.
  const SIZES = [0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33, 64, 100];
  it.each(KERNELS)('%s: every size writes exactly n results matching the reference (also in place)', (k) => {
    const f = REF[k];
    for (const n of SIZES) {
      for (const shift of [0, 1, 2, 3]) {
        for (const inPlace of [false, true]) {
          const xs = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + shift) * 12);
          const x = xb + shift;
          const y = inPlace ? x : yb + ((shift + 1) & 3);
          const f32 = rt.heap.f32;
          f32.fill(-7, yb, yb + 128);
          f32.set(xs, x);
          f32.fill(-9, x + n, x + n + 8);
          rt.k[k](y, x, n);
          const out = rt.heap.read(y, n);
          for (let i = 0; i < n; i++) {
            expect(Math.abs(out[i] - f(xs[i])), `${k} n=${n} shift=${shift} inPlace=${inPlace} [${i}]`).toBeLessThanOrEqual(TOL[k]);
          }
          const after = rt.heap.read(y + n, 4);
          expect(Array.from(after), `${k} n=${n}: wrote past the end`).toEqual(inPlace ? [-9, -9, -9, -9] : [-7, -7, -7, -7]);
          if (!inPlace && y > yb) expect(rt.heap.f32[y - 1], `${k} n=${n}: wrote before the start`).toBe(-7);
        }
      }
    }
  });
});
