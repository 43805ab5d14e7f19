// Int8-weight GEMM for inference: W quantized per output row (symmetric, int8 in [-127, 127], one f32
// scale per row), each row of X quantized on the fly with one scale per row (symmetric, round to
// nearest even), the products summed exactly in i32.
// Dimension letters: M rows of the output, N columns of the output (rows of W), K the reduced
// dimension; an int8 row is Kp = q8RowBytes(K) bytes: K weights, zeros, and in its last 4 bytes the
// i32 sum of its K weights (the relaxed path's offset correction); the products run over the first
// Kc = K rounded up to 16 bytes (the row sum, when it lies there, meets x entries that are 0).
// Two activation modes, chosen by the host at init (the word at Q8_MODE):
//   exact (0)  x rows to i16 in [-1023, 1023], i32x4.dot_i16x8_s (SIMD128: the same integer sums in
//              both binaries and every engine);
//   fast (1, 2)  x rows to 7 bits, q in [-63, 63]. Mode 2 (relaxed build, on an engine whose
//              i32x4.relaxed_dot_i8x16_i7x16_add_s computes what the spec says: q8_dot_probe)
//              feeds u = q + 64 in [1, 127] (the operand whose top bit must be clear) and subtracts
//              64·Σw; mode 1 sums w·q with dot_i16x8_s. Both give the same i32 sums, so fast
//              results are the same on every engine, and mode 2 reads 16 weights per instruction.
// Node 20 (V8 11.3, --experimental-wasm-relaxed-simd) returns 2·Σ without the addend from the
// relaxed dot (bench/relaxed-dot-probe.mjs), so the probe fails there and mode 2 is never used.
// Batch-1 inference reads every weight once per step: int8 rows are a quarter of the f32 bytes.
// Every output row depends on its own X row and W only: a batch split across workers, or fed one
// step at a time, gives the whole-batch result bit for bit.
// Error: |x_k − sx·q_k| ≤ sx/2 with sx = max|x_row|/QX (QX 1023 exact, 63 fast), |w − sw·q| ≤ sw/2
// with sw = max|w_row|/127; measured against f32 in test/kernels/int8.test.ts. Rows of X with a NaN
// or no nonzero entry quantize to 0 (the output is then b, or y + b). K ≤ Q8_MAX_K keeps the i32
// sums exact (|Σ| ≤ K·127·1023 < 2^31).
import { ldn, stn } from '../util/simd';
import { SQX, Q8_MAX_K, Q8_MODE } from '../util/scratch';
import { matvec_packed } from './packed';
import { gemm_nt } from './gemm';

export { Q8_MAX_K };
const QX_EXACT: f32 = 1023;
const QX_FAST: f32 = 63;
export const Q8_EXACT: i32 = 0;
export const Q8_FAST: i32 = 1;
export const Q8_FAST_RELAXED: i32 = 2;

// Byte address of the quantized-row scratch: SQX, or a thread's own region in the threaded build
// (each instance has its own globals; assembly/mt/runner.ts sets it per helper thread).
let sqx: usize = SQX;
export function setQ8Scratch(p: usize): void {
  sqx = p;
}

// q8_set_mode: the activation mode of every int8 product of this memory (Q8_EXACT, Q8_FAST or, in
// the relaxed build after a passing q8_dot_probe, Q8_FAST_RELAXED). The host calls it at init.
export function q8_set_mode(mode: i32): void {
  store<i32>(Q8_MODE, mode);
}

// q8_dot_probe: 1 if this engine's i32x4.relaxed_dot_i8x16_i7x16_add_s gives Σ a·b + c per group of
// four on a = 0..15, b = 1, c = 5 (11, 27, 43, 59), else 0 (always 0 in the plain SIMD build). The
// operands go through memory (the quantized-row scratch) so nothing folds them at build time.
export function q8_dot_probe(): i32 {
  if (!ASC_FEATURE_RELAXED_SIMD) return 0;
  const p = sqx;
  for (let i = 0; i < 16; i++) {
    store<i8>(p + <usize>i, <i8>i);
    store<i8>(p + 16 + <usize>i, 1);
  }
  v128.store(p + 32, i32x4.splat(5));
  const r = i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(p), v128.load(p + 16), v128.load(p + 32));
  return i32x4.extract_lane(r, 0) == 11 && i32x4.extract_lane(r, 1) == 27 && i32x4.extract_lane(r, 2) == 43 && i32x4.extract_lane(r, 3) == 59 ? 1 : 0;
}

// Kp of a K: the int8 row stride in bytes (a multiple of 16, with 4 bytes for the row sum).
@inline export function q8RowBytes(K: i32): i32 {
  return (K + 4 + 15) & ~15;
}
// Kc of a K: the bytes of a row the products run over.
@inline function q8DotBytes(K: i32): i32 {
  return (K + 15) & ~15;
}

// max|x| over the row, and whether it is a usable scale (false for 0, NaN and ±Inf).
@inline function rowMax(x: usize, K: i32): f32 {
  let m = f32x4.splat(0);
  let k = 0;
  for (; k + 4 <= K; k += 4) m = f32x4.max(m, f32x4.abs(v128.load((x + <usize>k) << 2)));
  if (k < K) m = f32x4.max(m, f32x4.abs(ldn(x + <usize>k, K - k)));
  return max(max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
}

// Four x entries at k (0 past K) times inv, rounded to nearest even, as i32.
@inline function q4(x: usize, k: i32, K: i32, inv: v128): v128 {
  const a = k + 4 <= K ? v128.load((x + <usize>k) << 2) : k < K ? ldn(x + <usize>k, K - k) : f32x4.splat(0);
  return i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(a, inv)));
}

// Quantizes x (K floats at element x) into the scratch (sqx) as i16 in [-qx, qx] (Kc entries,
// zero-padded); returns sx.
@inline function quantizeRow(x: usize, K: i32, Kc: i32, qx: f32): f32 {
  const mx = rowMax(x, K);
  const ok = mx > 0 && mx < f32.MAX_VALUE; // false for NaN and ±Inf too
  const inv = f32x4.splat(ok ? qx / mx : 0);
  const sq = sqx;
  for (let k = 0; k < Kc; k += 8) v128.store(sq + (<usize>k << 1), i16x8.narrow_i32x4_s(q4(x, k, K, inv), q4(x, k + 4, K, inv)));
  return ok ? mx / qx : 0;
}

// Quantizes x into the scratch as bytes u = q + 64 (q in [-63, 63]) for k < K and 0 up to Kc (so the
// row sum bytes of W meet 0); returns sx. The relaxed path's operand b: top bit always clear.
@inline function quantizeRowU7(x: usize, K: i32, Kc: i32): f32 {
  const mx = rowMax(x, K);
  const ok = mx > 0 && mx < f32.MAX_VALUE;
  const inv = f32x4.splat(ok ? QX_FAST / mx : 0);
  const sq = sqx;
  const off = i8x16.splat(64);
  const iota = i8x16(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  for (let k = 0; k < Kc; k += 16) {
    const lo = i16x8.narrow_i32x4_s(q4(x, k, K, inv), q4(x, k + 4, K, inv));
    const hi = i16x8.narrow_i32x4_s(q4(x, k + 8, K, inv), q4(x, k + 12, K, inv));
    let u = i8x16.add(i8x16.narrow_i16x8_s(lo, hi), off);
    if (k + 16 > K) u = v128.and(u, i8x16.gt_s(i8x16.splat(<i8>(K - k)), iota));
    v128.store(sq + <usize>k, u);
  }
  return ok ? mx / QX_FAST : 0;
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

// Byte address of row i of a tile whose first row is at w0 (rows ld bytes apart): rows past the nv
// valid ones repeat the last valid one (not stored).
@inline function tileRow(w0: usize, ld: usize, nv: i32, i: i32): usize {
  return w0 + ld * <usize>min(i, nv - 1);
}

// y = Σ·(sx·sw) + b (+ y) for outputs n0..n0+nv: plain mul and add (no fused madd), the same in both binaries.
@inline function q8Store(yp: usize, sums: v128, sw: usize, b: usize, sx: f32, n0: i32, nv: i32, accumulate: i32): void {
  let r = f32x4.mul(f32x4.convert_i32x4_s(sums), f32x4.mul(f32x4.splat(sx), ldn(sw + <usize>n0, nv)));
  if (b) r = f32x4.add(r, ldn(b + <usize>n0, nv));
  if (accumulate) r = f32x4.add(r, ldn(yp + <usize>n0, nv));
  stn(yp + <usize>n0, r, nv);
}

// Outputs n0..n0+nv (nv ≤ 4) of one row (rows past nv repeat the last valid one, not stored), from
// the i16 scratch (relaxed = false), or (relaxed = true: relaxed build, Q8_FAST_RELAXED) from the
// u = q + 64 byte scratch with the relaxed dot — 16 weights an instruction — less 64 × each row's
// stored sum: the same i32 sums as over q. `relaxed` is a constant at each call site.
@inline function q8Tile(relaxed: bool, yp: usize, w8: usize, sw: usize, b: usize, sx: f32, n0: i32, nv: i32, Kp: i32, Kc: i32, accumulate: i32): void {
  const ld: usize = <usize>Kp;
  const w0 = (w8 << 2) + <usize>n0 * ld;
  const w1 = tileRow(w0, ld, nv, 1), w2 = tileRow(w0, ld, nv, 2), w3 = tileRow(w0, ld, nv, 3);
  let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
  const sq = sqx;
  if (ASC_FEATURE_RELAXED_SIMD) {
    if (relaxed) {
      for (let k: usize = 0; k < <usize>Kc; k += 16) {
        const u = v128.load(sq + k);
        a0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(w0 + k), u, a0);
        a1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(w1 + k), u, a1);
        a2 = i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(w2 + k), u, a2);
        a3 = i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(w3 + k), u, a3);
      }
      const e = ld - 4;
      let sums = i32x4.splat(load<i32>(w0 + e));
      sums = i32x4.replace_lane(sums, 1, load<i32>(w1 + e));
      sums = i32x4.replace_lane(sums, 2, load<i32>(w2 + e));
      sums = i32x4.replace_lane(sums, 3, load<i32>(w3 + e));
      q8Store(yp, i32x4.sub(isum4(a0, a1, a2, a3), i32x4.shl(sums, 6)), sw, b, sx, n0, nv, accumulate);
      return;
    }
  }
  for (let k: usize = 0; k < <usize>Kc; k += 16) {
    const x0 = v128.load(sq + (k << 1));
    const x1 = v128.load(sq + (k << 1), 16);
    a0 = dot16(a0, w0 + k, x0, x1);
    a1 = dot16(a1, w1 + k, x0, x1);
    a2 = dot16(a2, w2 + k, x0, x1);
    a3 = dot16(a3, w3 + k, x0, x1);
  }
  q8Store(yp, isum4(a0, a1, a2, a3), sw, b, sx, n0, nv, accumulate);
}

// gemm_q8_nt: Y = X·Wᵀ (+ b) (or Y += … when accumulate != 0) with int8 W.
//   y  (M, N)   out     row-major, leading dimension N
//   x  (M, K)   in      row-major f32; each row quantized in the kernel's scratch (the mode at Q8_MODE)
//   w8 (N, Kp)  in      int8 rows of Kp = q8RowBytes(K) bytes: K weights, zeros, the row's i32 weight
//                       sum in its last 4 bytes; w8 is the f32 element offset of its first byte
//                       (byte address 4·w8)
//   sw (N)      in      f32 scale of each W row (w ≈ sw·q)
//   b  (N)      in      optional bias (0 = none)
// 1 ≤ K ≤ Q8_MAX_K; does nothing otherwise (the host checks K when it quantizes).
export function gemm_q8_nt(y: usize, x: usize, w8: usize, sw: usize, b: usize, M: i32, N: i32, K: i32, accumulate: i32): void {
  if (K < 1 || K > Q8_MAX_K) return;
  const Kp = q8RowBytes(K);
  const Kc = q8DotBytes(K);
  const mode = load<i32>(Q8_MODE);
  for (let m = 0; m < M; m++) {
    const xr = x + <usize>m * <usize>K;
    const yp = y + <usize>m * <usize>N;
    if (ASC_FEATURE_RELAXED_SIMD && mode == Q8_FAST_RELAXED) {
      const sx = quantizeRowU7(xr, K, Kc);
      for (let n0 = 0; n0 < N; n0 += 4) q8Tile(true, yp, w8, sw, b, sx, n0, min(N - n0, 4), Kp, Kc, accumulate);
    } else {
      const sx = quantizeRow(xr, K, Kc, mode == Q8_EXACT ? QX_EXACT : QX_FAST);
      for (let n0 = 0; n0 < N; n0 += 4) q8Tile(false, yp, w8, sw, b, sx, n0, min(N - n0, 4), Kp, Kc, accumulate);
    }
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
