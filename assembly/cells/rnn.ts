// Elman RNN cell (tanh or relu): one layer, one direction, whole sequence, time loop inside wasm.
// Also holds the small helpers the three cell files share: the packed-sequence mask, row copy/zero,
// the run-of-active-rows walker used to skip masked rows in the gemm.
// Dimension letters: T steps, B batch, H hidden, G gates (RNN 1). Pointers are f32 element offsets.
import { ld, st, lds, sts, ldn, stn } from '../util/simd';
import { vtanh } from '../kernels/activations';
import { gemm_nn } from '../kernels/gemm';
import { gemmW } from '../kernels/int8';
import { packedHh } from '../kernels/packed';

// ---- shared helpers (used by lstm.ts and gru.ts) -------------------------------------------------

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

// First active row at or after row b (B when there is none). With runEnd it walks the runs of
// active rows: for (b = runStart(lens, 0, B, t), e = 0; b < B; b = runStart(lens, e, B, t)) { e = runEnd(…); … }
@inline export function runStart(lens: usize, b: i32, B: i32, t: i32): i32 {
  while (b < B && !stepActive(lens, b, t)) b++;
  return b;
}

// End (exclusive) of the run of active rows that starts at row b0 (which is active).
@inline export function runEnd(lens: usize, b0: i32, B: i32, t: i32): i32 {
  let e = b0 + 1;
  while (e < B && stepActive(lens, e, t)) e++;
  return e;
}

// ---- rnn_forward -----------------------------------------------------------------------------------

// Elementwise stage of one row, n lanes at column j: h = f(pre) (pre already holds the full sum).
@inline export function rnnLanes(pre: usize, hout: usize, y: usize, j: i32, n: i32, relu: i32): void {
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
  rnn_forward_pk(pre, h, y, w_hh, 0, b_hh, lens, T, B, H, ldy, reverse, relu); // one copy of the loop for both
}

// rnn_forward_pk: rnn_forward given also w_pk, W_hh in packed form (assembly/kernels/packed.ts
// pack_hh(w_pk, w_hh, H, H, 0)), which the recurrent product of a single row reads; bit-identical.
export function rnn_forward_pk(
  pre: usize, h: usize, y: usize,
  w_hh: usize, w_pk: usize, b_hh: usize, lens: usize,
  T: i32, B: i32, H: i32, ldy: i32, reverse: i32, relu: i32,
): void {
  rnnForward(pre, h, y, w_hh, 0, w_pk, b_hh, lens, T, B, H, ldy, reverse, relu);
}

// rnn_forward_q8: rnn_forward with W_hh in int8 (inference only).
//   w_hh8 (H, Kp)  in   int8 rows, Kp = H rounded up to 16 (assembly/kernels/int8.ts)
//   sw_hh (H)      in   f32 scale per row
//   every other argument as rnn_forward's
export function rnn_forward_q8(
  pre: usize, h: usize, y: usize,
  w_hh8: usize, sw_hh: usize, b_hh: usize, lens: usize,
  T: i32, B: i32, H: i32, ldy: i32, reverse: i32, relu: i32,
): void {
  rnnForward(pre, h, y, w_hh8, sw_hh, 0, b_hh, lens, T, B, H, ldy, reverse, relu);
}

// The time loop of both: the recurrent product through gemmW (f32 when sw_hh = 0).
@inline function rnnForward(
  pre: usize, h: usize, y: usize,
  w_hh: usize, sw_hh: usize, w_pk: usize, b_hh: usize, lens: usize,
  T: i32, B: i32, H: i32, ldy: i32, reverse: i32, relu: i32,
): void {
  const BH = <usize>B * <usize>H;
  const H4 = H & ~3;
  const tail = H & 3;
  // one batch row: read W_hh from a packed copy (bit-identical), the caller's or packed here
  const wp = packedHh(w_pk, w_hh, T, B, sw_hh, H, H, 0);
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    const pre_t = pre + <usize>t * BH;
    const h_prev = h + <usize>(reverse ? t + 1 : t) * BH;
    const h_t = h + <usize>(reverse ? t : t + 1) * BH;
    // recurrent product for each run of active rows: pre_t += h_prev·W_hhᵀ + b_hh
    for (let b = runStart(lens, 0, B, t), e = 0; b < B; b = runStart(lens, e, B, t)) {
      e = runEnd(lens, b, B, t);
      gemmW(pre_t + <usize>b * <usize>H, h_prev + <usize>b * <usize>H, w_hh, sw_hh, b_hh, e - b, H, H, 1, wp);
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

// ---- rnn_backward ----------------------------------------------------------------------------------

// Shared by the three backward kernels: the state-gradient carry starts as dhN (or 0).
@inline export function initCarry(carry: usize, dhN: usize, n: i32): void {
  if (dhN) copyn(carry, dhN, n);
  else zeron(carry, n);
}

// Elementwise stage of one row: da = (carry + dy)⊙f'(a), f' from the saved output h_t
// (tanh: 1 − h², relu: h > 0).
@inline function rnnBackLanes(da: usize, carry: usize, dy: usize, ht: usize, j: i32, n: i32, relu: i32): void {
  const jj = <usize>j;
  let dh = ldn(carry + jj, n);
  if (dy) dh = f32x4.add(dh, ldn(dy + jj, n));
  const hv = ldn(ht + jj, n);
  const d = relu
    ? v128.and(dh, f32x4.gt(hv, f32x4.splat(0)))
    : f32x4.mul(dh, f32x4.sub(f32x4.splat(1), f32x4.mul(hv, hv)));
  stn(da + jj, d, n);
}

// rnn_backward: backward of rnn_forward, walking the steps in the opposite order.
//   dpre    (T, B, H)    out      ∂L/∂a_t (a_t the full pre-activation); 0 at masked steps. The host
//                                 turns it into dW_ih, dW_hh, db_ih, db_hh and dX with GEMMs over T*B rows
//   dh0     (B, H)       out      optional (0 = none): ∂L/∂h0
//   dy      (T, B, ldy)  in       optional (0 = none): upstream ∂L/∂y_t (ignored at masked steps)
//   dhN     (B, H)       in       optional (0 = none): upstream ∂L/∂(final state)
//   h       (T+1, B, H)  in       saved by rnn_forward (same indexing)
//   w_hh    (H, H)       in
//   lens    (B) i32      in       as in rnn_forward: masked steps pass the state gradient through
//   scratch (B, H)       scratch  the state-gradient carry
// Allocates nothing. The recurrent product dh_{t-1} = da_t·W_hh is one gemm_nn per run of active rows.
export function rnn_backward(
  dpre: usize, dh0: usize, dy: usize, dhN: usize,
  h: usize, w_hh: usize, lens: usize, scratch: usize,
  T: i32, B: i32, H: i32, ldy: i32, reverse: i32, relu: i32,
): void {
  const Hs = <usize>H;
  const BH = <usize>B * Hs;
  const H4 = H & ~3;
  const tail = H & 3;
  const carry = scratch;
  initCarry(carry, dhN, B * H);
  for (let s = 0; s < T; s++) {
    const t = reverse ? s : T - 1 - s;
    const dpre_t = dpre + <usize>t * BH;
    const h_t = h + <usize>(reverse ? t : t + 1) * BH;
    for (let r = 0; r < B; r++) {
      const ro = <usize>r * Hs;
      if (!stepActive(lens, r, t)) {
        zeron(dpre_t + ro, H);
        continue;
      }
      const dyr: usize = dy ? dy + (<usize>t * <usize>B + <usize>r) * <usize>ldy : 0;
      let j = 0;
      for (; j < H4; j += 4) rnnBackLanes(dpre_t + ro, carry + ro, dyr, h_t + ro, j, 4, relu);
      if (tail) rnnBackLanes(dpre_t + ro, carry + ro, dyr, h_t + ro, j, tail, relu);
    }
    // carry = da_t·W_hh for each run of active rows (masked rows keep theirs)
    for (let b = runStart(lens, 0, B, t), e = 0; b < B; b = runStart(lens, e, B, t)) {
      e = runEnd(lens, b, B, t);
      gemm_nn(carry + <usize>b * Hs, dpre_t + <usize>b * Hs, w_hh, e - b, H, H, 0);
    }
  }
  if (dh0) copyn(dh0, carry, B * H);
}
