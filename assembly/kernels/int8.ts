// Int8-weight GEMM for inference: W quantized per output row (symmetric, int8 in [-127, 127], one f32
// scale per row), each row of X quantized on the fly to i16 in [-1023, 1023] with one scale per row
// (symmetric, round to nearest even), the products summed exactly in i32 with i32x4.dot_i16x8_s.
// Dimension letters: M rows of the output, N columns of the output (rows of W), K the reduced
// dimension, Kp = K rounded up to 16 (the stored row length of W, zero-padded).
// Batch-1 inference reads every weight once per step: int8 rows are a quarter of the f32 bytes.
// Both binaries run this same integer path (SIMD128 only), so their results are identical. Not
// used: i32x4.relaxed_dot_i8x16_i7x16_add_s. In Node 20 (V8 11.3, --experimental-wasm-relaxed-simd)
// it validates but returned 2·Σ without the addend (bench/relaxed-dot-probe.mjs: a = 0..15, b = 1: 12 and 44
// where 11 and 27 were due), so a relaxed-only integer path would compute wrong results there.
// Every output row depends on its own X row and W only: a batch split across workers, or fed one
// step at a time, gives the whole-batch result bit for bit.
// Error: |x_k − sx·q_k| ≤ sx/2 with sx = max|x_row|/1023, |w − sw·q| ≤ sw/2 with sw = max|w_row|/127;
// measured against f32 in test/kernels/int8.test.ts. Rows of X with a NaN or no nonzero entry
// quantize to 0 (the output is then b, or y + b). K ≤ Q8_MAX_K keeps the i32 sums exact
// (|Σ| ≤ K·127·1023 < 2^31).
import { ldn, stn } from '../util/simd';
import { SQX, Q8_MAX_K } from '../util/scratch';
import { matvec_packed } from './packed';
import { gemm_nt } from './gemm';

export { Q8_MAX_K };
const QX: f32 = 1023;

// Byte address of the quantized-row scratch: SQX, or a thread's own region in the threaded build
// (each instance has its own globals; assembly/mt/runner.ts sets it per helper thread).
let sqx: usize = SQX;
export function setQ8Scratch(p: usize): void {
  sqx = p;
}

// Kp of a K: the int8 row stride in bytes (a multiple of 16).
@inline export function q8RowBytes(K: i32): i32 {
  return (K + 15) & ~15;
}

// Quantizes x (K floats at element x) into the scratch (sqx) as i16 (Kp entries, zero-padded); returns sx.
@inline function quantizeRow(x: usize, K: i32, Kp: i32): f32 {
  let m = f32x4.splat(0);
  let k = 0;
  for (; k + 4 <= K; k += 4) m = f32x4.max(m, f32x4.abs(v128.load((x + <usize>k) << 2)));
  if (k < K) m = f32x4.max(m, f32x4.abs(ldn(x + <usize>k, K - k)));
  const mx = max(max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
  const ok = mx > 0 && mx < f32.MAX_VALUE; // false for NaN and ±Inf too
  const inv = f32x4.splat(ok ? QX / mx : 0);
  const z = f32x4.splat(0);
  const sq = sqx;
  for (k = 0; k < Kp; k += 8) {
    const a = k + 4 <= K ? v128.load((x + <usize>k) << 2) : k < K ? ldn(x + <usize>k, K - k) : z;
    const b = k + 8 <= K ? v128.load((x + <usize>k + 4) << 2) : k + 4 < K ? ldn(x + <usize>k + 4, K - k - 4) : z;
    const ia = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(a, inv)));
    const ib = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(b, inv)));
    v128.store(sq + (<usize>k << 1), i16x8.narrow_i32x4_s(ia, ib));
  }
  return ok ? mx / QX : 0;
}

// Σ of 16 int8 weights at byte address wp against 16 quantized x at sqx + 2k, added into acc.
// load8x8_s loads and sign-extends 8 bytes in one instruction (pmovsxbw on x64); a 16-byte load
// then extend_low / extend_high costs one more (extend_high is two on x64).
@inline function dot16(acc: v128, wp: usize, x0: v128, x1: v128): v128 {
  acc = i32x4.add(acc, i32x4.dot_i16x8_s(v128.load8x8_s(wp), x0));
  return i32x4.add(acc, i32x4.dot_i16x8_s(v128.load8x8_s(wp, 8), x1));
}

// [Σa, Σb, Σc, Σd] of four i32x4 (two transposing adds, as hsum4 in util/simd.ts).
@inline function isum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = i32x4.add(v128.shuffle<i32>(a, b, 0, 4, 1, 5), v128.shuffle<i32>(a, b, 2, 6, 3, 7));
  const cd = i32x4.add(v128.shuffle<i32>(c, d, 0, 4, 1, 5), v128.shuffle<i32>(c, d, 2, 6, 3, 7));
  return i32x4.add(v128.shuffle<i32>(ab, cd, 0, 1, 4, 5), v128.shuffle<i32>(ab, cd, 2, 3, 6, 7));
}

// Outputs n0..n0+nv (nv ≤ 4) of one row: W rows past nv repeat the last valid one (not stored).
@inline function q8Tile(yp: usize, w8: usize, sw: usize, b: usize, sx: f32, n0: i32, nv: i32, Kp: i32, accumulate: i32): void {
  const ld: usize = <usize>Kp;
  const w0 = (w8 << 2) + <usize>n0 * ld;
  const w1 = nv > 1 ? w0 + ld : w0;
  const w2 = nv > 2 ? w1 + ld : w1;
  const w3 = nv > 3 ? w2 + ld : w2;
  let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
  const sq = sqx;
  for (let k: usize = 0; k < ld; k += 16) {
    const x0 = v128.load(sq + (k << 1));
    const x1 = v128.load(sq + (k << 1), 16);
    a0 = dot16(a0, w0 + k, x0, x1);
    a1 = dot16(a1, w1 + k, x0, x1);
    a2 = dot16(a2, w2 + k, x0, x1);
    a3 = dot16(a3, w3 + k, x0, x1);
  }
  // y = Σ·(sx·sw) + b (+ y): plain mul and add (no fused madd), the same in both binaries
  let r = f32x4.mul(f32x4.convert_i32x4_s(isum4(a0, a1, a2, a3)), f32x4.mul(f32x4.splat(sx), ldn(sw + <usize>n0, nv)));
  if (b) r = f32x4.add(r, ldn(b + <usize>n0, nv));
  if (accumulate) r = f32x4.add(r, ldn(yp + <usize>n0, nv));
  stn(yp + <usize>n0, r, nv);
}

// gemm_q8_nt: Y = X·Wᵀ (+ b) (or Y += … when accumulate != 0) with int8 W.
//   y  (M, N)   out     row-major, leading dimension N
//   x  (M, K)   in      row-major f32; each row quantized to i16 in the kernel's scratch
//   w8 (N, Kp)  in      int8, row-major, Kp = K rounded up to 16 bytes, zero-padded; w8 is the f32
//                       element offset of its first byte (byte address 4·w8)
//   sw (N)      in      f32 scale of each W row (w ≈ sw·q)
//   b  (N)      in      optional bias (0 = none)
// 1 ≤ K ≤ Q8_MAX_K; does nothing otherwise (the host checks K when it quantizes).
export function gemm_q8_nt(y: usize, x: usize, w8: usize, sw: usize, b: usize, M: i32, N: i32, K: i32, accumulate: i32): void {
  if (K < 1 || K > Q8_MAX_K) return;
  const Kp = q8RowBytes(K);
  for (let m = 0; m < M; m++) {
    const sx = quantizeRow(x + <usize>m * <usize>K, K, Kp);
    const yp = y + <usize>m * <usize>N;
    for (let n0 = 0; n0 < N; n0 += 4) q8Tile(yp, w8, sw, b, sx, n0, min(N - n0, 4), Kp, accumulate);
  }
}

// The cells' recurrent product on f32 (sw = 0: gemm_nt) or int8 W (gemm_q8_nt); with a constant
// sw = 0 the branch folds away and the f32 cell is the code it was. wp != 0: the packed copy of W
// (assembly/kernels/packed.ts) for one row of x, bit-identical to gemm_nt.
@inline export function gemmW(y: usize, x: usize, w: usize, sw: usize, b: usize, M: i32, N: i32, K: i32, accumulate: i32, wp: usize = 0): void {
  if (sw) gemm_q8_nt(y, x, w, sw, b, M, N, K, accumulate);
  else if (wp && M == 1) matvec_packed(y, wp, x, b, N, K, accumulate);
  else gemm_nt(y, x, w, b, M, N, K, accumulate);
}

// Element offset of row n of W (f32 rows of K floats, or int8 rows of Kp bytes when sw != 0).
@inline export function wRow(w: usize, sw: usize, n: i32, K: i32): usize {
  return sw ? w + ((<usize>n * <usize>q8RowBytes(K)) >> 2) : w + <usize>n * <usize>K;
}
