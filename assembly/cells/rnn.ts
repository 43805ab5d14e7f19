// Elman RNN cell (tanh or relu): one layer, one direction, whole sequence, time loop inside wasm.
// Also holds the small helpers the three cell files share: partial (tail) loads/stores, the
// packed-sequence mask and the run-of-active-rows walker used to skip masked rows in the gemm.
// Dimension letters: T steps, B batch, H hidden, G gates (RNN 1). Pointers are f32 element offsets.
import { ld, st, lds, sts } from '../util/simd';
import { gemm_nt } from '../kernels/gemm';

// ---- TEMPORARY activations: replaced by the import from ../kernels/activations before finishing ---
// Cephes-style expf (range reduction by ln2, degree-6 polynomial), x clamped to [-87.3, 88.3].
@inline function vexp_tmp(x: v128): v128 {
  x = f32x4.min(f32x4.max(x, f32x4.splat(-87.3365478515625)), f32x4.splat(88.3762626647949));
  const fx = f32x4.nearest(f32x4.mul(x, f32x4.splat(1.44269504088896341)));
  let r = f32x4.sub(x, f32x4.mul(fx, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(fx, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  p = f32x4.add(f32x4.add(f32x4.mul(p, f32x4.mul(r, r)), r), f32x4.splat(1));
  const e = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(fx), i32x4.splat(127)), 23);
  return f32x4.mul(p, e);
}
@inline export function vsigmoid(x: v128): v128 {
  return f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), vexp_tmp(f32x4.neg(x))));
}
@inline export function vtanh(x: v128): v128 {
  const e = vexp_tmp(f32x4.mul(f32x4.abs(x), f32x4.splat(-2)));
  const t = f32x4.div(f32x4.sub(f32x4.splat(1), e), f32x4.add(f32x4.splat(1), e));
  return v128.or(t, v128.and(x, i32x4.splat(0x80000000))); // copysign(t, x); NaN stays NaN
}

// ---- shared helpers (used by lstm.ts and gru.ts) -------------------------------------------------

// Load n (1..4) floats at element p into the low lanes (the others 0). n == 4 is a plain v128.load;
// with a constant n the branches fold away after inlining, so body and tail share one formula.
@inline export function ldn(p: usize, n: i32): v128 {
  if (n >= 4) return ld(p);
  let v = f32x4.splat(0);
  v = f32x4.replace_lane(v, 0, lds(p));
  if (n > 1) v = f32x4.replace_lane(v, 1, lds(p + 1));
  if (n > 2) v = f32x4.replace_lane(v, 2, lds(p + 2));
  return v;
}

// Store the low n (1..4) lanes of v at element p (never touches p+n…p+3).
@inline export function stn(p: usize, v: v128, n: i32): void {
  if (n >= 4) {
    st(p, v);
    return;
  }
  sts(p, f32x4.extract_lane(v, 0));
  if (n > 1) sts(p + 1, f32x4.extract_lane(v, 1));
  if (n > 2) sts(p + 2, f32x4.extract_lane(v, 2));
}

// 1 if step t of row b is a real step (t < lens[b]); lens = 0 means every row has length T.
@inline export function stepActive(lens: usize, b: i32, t: i32): bool {
  return lens == 0 || t < load<i32>((lens + <usize>b) << 2);
}

// Zero n floats at element p.
@inline export function zeron(p: usize, n: i32): void {
  const z = f32x4.splat(0);
  let j = 0;
  for (; j + 4 <= n; j += 4) st(p + <usize>j, z);
  for (; j < n; j++) sts(p + <usize>j, 0);
}

// Copy n floats from src to dst (non-overlapping).
@inline export function copyn(dst: usize, src: usize, n: i32): void {
  let j = 0;
  for (; j + 4 <= n; j += 4) st(dst + <usize>j, ld(src + <usize>j));
  for (; j < n; j++) sts(dst + <usize>j, lds(src + <usize>j));
}

// End (exclusive) of the run of active rows that starts at row b0 (which is active).
@inline export function runEnd(lens: usize, b0: i32, B: i32, t: i32): i32 {
  let e = b0 + 1;
  while (e < B && stepActive(lens, e, t)) e++;
  return e;
}

// ---- rnn_forward -----------------------------------------------------------------------------------

// Elementwise stage of one row, n lanes at column j: pre += nothing (already summed); h = f(pre).
@inline function rnnLanes(pre: usize, hout: usize, y: usize, j: i32, n: i32, relu: i32): void {
  const a = ldn(pre + <usize>j, n);
  const h = relu ? f32x4.max(a, f32x4.splat(0)) : vtanh(a);
  stn(hout + <usize>j, h, n);
  if (y) stn(y + <usize>j, h, n);
}

// rnn_forward: Elman RNN, one layer, one direction, whole sequence, time-major.
//   pre  (T, B, H)    in/out   x·W_ihᵀ + b_ih on entry (one gemm_nt over T*B rows);
//                              on exit the full pre-activation a_t = x·W_ihᵀ + b_ih + h_{t-1}·W_hhᵀ + b_hh
//                              (saved for rnn_backward); rows of masked steps are 0
//   h    (T+1, B, H)  in/out   fwd: h[0] = h0 on entry, step t writes h[t+1], final = h[T]
//                              rev: h[T] = h0 on entry, step t writes h[t],   final = h[0]
//   y    (T, B, ldy)  out      optional (0 = none): h_t at y + (t*B + b)*ldy; 0 at masked steps
//   w_hh (H, H)       in       PyTorch layout
//   b_hh (H)          in       optional (0 = none)
//   lens (B) i32      in       optional (0 = all T); step t of row b is masked when t >= lens[b]:
//                              the state is carried (h[t+1][b] = h[t][b] fwd, h[t][b] = h[t+1][b] rev)
//   reverse           0 = t runs 0…T-1, 1 = t runs T-1…0
//   relu              0: h_t = tanh(a_t); 1: h_t = max(a_t, 0)
// Allocates nothing. Masked rows skip the recurrent gemm (active rows are processed in runs).
export function rnn_forward(
  pre: usize, h: usize, y: usize,
  w_hh: usize, b_hh: usize, lens: usize,
  T: i32, B: i32, H: i32, ldy: i32, reverse: i32, relu: i32,
): void {
  const BH = <usize>B * <usize>H;
  const H4 = H & ~3;
  const tail = H & 3;
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    const pre_t = pre + <usize>t * BH;
    const h_prev = h + <usize>(reverse ? t + 1 : t) * BH;
    const h_t = h + <usize>(reverse ? t : t + 1) * BH;
    // recurrent product for each run of active rows: pre_t += h_prev·W_hhᵀ + b_hh
    let b = 0;
    while (b < B) {
      if (!stepActive(lens, b, t)) {
        b++;
        continue;
      }
      const e = runEnd(lens, b, B, t);
      gemm_nt(pre_t + <usize>b * <usize>H, h_prev + <usize>b * <usize>H, w_hh, b_hh, e - b, H, H, 1);
      b = e;
    }
    // elementwise stage per row
    for (let r = 0; r < B; r++) {
      const pr = pre_t + <usize>r * <usize>H;
      const hp = h_prev + <usize>r * <usize>H;
      const hr = h_t + <usize>r * <usize>H;
      const yr: usize = y ? y + (<usize>t * <usize>B + <usize>r) * <usize>ldy : 0;
      if (!stepActive(lens, r, t)) {
        // masked: carry the state, zero the output and the saved pre-activation
        copyn(hr, hp, H);
        zeron(pr, H);
        if (yr) zeron(yr, H);
        continue;
      }
      let j = 0;
      for (; j < H4; j += 4) rnnLanes(pr, hr, yr, j, 4, relu);
      if (tail) rnnLanes(pr, hr, yr, j, tail, relu);
    }
  }
}
