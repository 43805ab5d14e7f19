// Activations: vector sigmoid / tanh / relu for other kernels (@inline, v128) and the array kernels.
// sigmoid and tanh share one exp: Cody–Waite reduction by ln 2 and a degree-6 polynomial (Cephes
// expf); the relaxed build evaluates the polynomials with fused madd, the plain build with mul + add.
// Measured max abs error against f64 Math over ALL 2^32 f32 bit patterns (`node bench/kernels.mjs
// --act-error`; test/kernels/activations.test.ts re-checks every 257th pattern), both builds:
//   vtanh     7.93e-8  (worst near |x| = 0.628);  |result| ≤ 1, odd bit-for-bit, tanh(x) = x when |x| < 2^-12
//   vsigmoid  8.93e-8  (worst near x = 7.86);     0 ≤ result ≤ 1
// ±Inf → ±1 (tanh) / 1, 0 (sigmoid); NaN → NaN; a finite input never gives NaN; denormals fine;
// saturated to exactly ±1 / 1 / 0 far out (|x| ≳ 9 for tanh, x ≳ 17 / x ≲ -88 for sigmoid).
import { madd, ldn, stn } from '../util/simd';

// exp(x), lane-wise, for every x: x ≳ 88.4 gives +Inf, x ≲ -87.7 gives 0 (no denormals; -Inf → 0),
// NaN stays NaN. Relative error ≈ 1 ulp where the result is a normal float.
@inline export function vexp(x: v128): v128 {
  // pmin/pmax with x first return x when x is NaN, so NaN survives the clamp (1 instruction each)
  x = f32x4.pmin(f32x4.pmax(x, f32x4.splat(-88.0)), f32x4.splat(89.0));
  // n = round(x / ln2) by the 1.5·2^23 trick: the low mantissa bits of j hold n as an integer
  const j = madd(x, f32x4.splat(1.44269504088896341), f32x4.splat(12582912.0));
  const n = f32x4.sub(j, f32x4.splat(12582912.0));
  // x = n·ln2 + r, |r| ≤ ln2/2; ln2 split in two so n·C1 is exact
  let r = madd(n, f32x4.splat(-0.693359375), x);
  r = madd(n, f32x4.splat(2.12194440e-4), r);
  // exp(r) = 1 + r + r²·P(r)
  let p = f32x4.splat(1.9875691500e-4);
  p = madd(p, r, f32x4.splat(1.3981999507e-3));
  p = madd(p, r, f32x4.splat(8.3334519073e-3));
  p = madd(p, r, f32x4.splat(4.1665795894e-2));
  p = madd(p, r, f32x4.splat(1.6666665459e-1));
  p = madd(p, r, f32x4.splat(5.0000001201e-1));
  p = f32x4.add(madd(p, f32x4.mul(r, r), r), f32x4.splat(1));
  // 2^n from the exponent field: (n + 127) << 23 with n ∈ [-127, 128]; -127 gives 0, 128 gives +Inf
  const scale = i32x4.shl(i32x4.add(j, i32x4.splat(127)), 23);
  return f32x4.mul(p, scale);
}

// σ(x) = 1 / (1 + exp(-x)), lane-wise (error bound in the file header).
@inline export function vsigmoid(x: v128): v128 {
  return f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), vexp(f32x4.neg(x))));
}

// tanh(x), lane-wise (error bound in the file header). On a = |x|:
//   a < 0.625:  odd polynomial a + a³·Q(a²)  (Cephes tanhf; exact sign and tiny values)
//   otherwise:  1 − 2 / (1 + exp(2a)), a clamped to 10 (tanh(10) rounds to 1 in f32)
// and the sign of x is copied back, so tanh(-0) = -0 and the result is odd by construction.
@inline export function vtanh(x: v128): v128 {
  const sign = v128.and(x, i32x4.splat(0x80000000));
  const a = f32x4.abs(x);
  // small |x|
  const z = f32x4.mul(a, a);
  let q = f32x4.splat(-5.70498872745e-3);
  q = madd(q, z, f32x4.splat(2.06390887954e-2));
  q = madd(q, z, f32x4.splat(-5.37397155531e-2));
  q = madd(q, z, f32x4.splat(1.33314422036e-1));
  q = madd(q, z, f32x4.splat(-3.33332819422e-1));
  const small = madd(f32x4.mul(q, z), a, a);
  // large |x|
  const a10 = f32x4.pmin(a, f32x4.splat(10)); // NaN stays NaN (a is the first operand)
  const e = vexp(f32x4.add(a10, a10));
  const large = f32x4.sub(f32x4.splat(1), f32x4.div(f32x4.splat(2), f32x4.add(e, f32x4.splat(1))));
  // NaN compares false and takes the large branch, which carries it
  const t = v128.bitselect(small, large, f32x4.lt(a, f32x4.splat(0.625)));
  return v128.or(t, sign);
}

// relu(x) = max(x, 0), lane-wise; NaN stays NaN.
@inline export function vrelu(x: v128): v128 {
  return f32x4.max(x, f32x4.splat(0));
}

// sigmoid_f32: y[i] = σ(x[i]).
//   y (n)  out    may alias x
//   x (n)  in
export function sigmoid_f32(y: usize, x: usize, n: i32): void {
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) v128.store((y + <usize>i) << 2, vsigmoid(v128.load((x + <usize>i) << 2)));
  if (i < n) stn(y + <usize>i, vsigmoid(ldn(x + <usize>i, n - i)), n - i);
}

// tanh_f32: y[i] = tanh(x[i]).
//   y (n)  out    may alias x
//   x (n)  in
export function tanh_f32(y: usize, x: usize, n: i32): void {
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) v128.store((y + <usize>i) << 2, vtanh(v128.load((x + <usize>i) << 2)));
  if (i < n) stn(y + <usize>i, vtanh(ldn(x + <usize>i, n - i)), n - i);
}

// relu_f32: y[i] = max(x[i], 0).
//   y (n)  out    may alias x
//   x (n)  in
export function relu_f32(y: usize, x: usize, n: i32): void {
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) v128.store((y + <usize>i) << 2, vrelu(v128.load((x + <usize>i) << 2)));
  if (i < n) stn(y + <usize>i, vrelu(ldn(x + <usize>i, n - i)), n - i);
}
