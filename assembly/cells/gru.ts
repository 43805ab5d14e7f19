// GRU cell: one layer, one direction, whole sequence, time loop inside wasm. PyTorch gate order
// r, z, n; reset-after form (PyTorch, cuDNN, Keras reset_after) or the Cho et al. form.
// Dimension letters: T steps, B batch, H hidden, G gates (GRU 3). Pointers are f32 element offsets.
import { madd, ldn, stn } from '../util/simd';
import { gemm_nn } from '../kernels/gemm';
import { gemmW, wRow } from '../kernels/int8';
import { packedHh, packedFloats } from '../kernels/packed';
import { vsigmoid, vtanh } from '../kernels/activations';
import { stepActive, zeron, copyn, runStart, runEnd, initCarry } from './rnn';

// h_t = (1−z)⊙n + z⊙h_{t-1}, written as n + z⊙(h_{t-1} − n).
@inline function blend(n: v128, z: v128, hp: v128): v128 {
  return madd(z, f32x4.sub(hp, n), n);
}

// Reset-after stage of one row, n lanes at column j. g3: the row's 3H gate block (x-projections in,
// activated r, z, n out); s3: the row's 3H block of h_{t-1}·W_hhᵀ + b_hh.
@inline export function gruAfterLanes(
  g3: usize, s3: usize, aux: usize, hp: usize, hout: usize, y: usize,
  H: usize, j: i32, n: i32,
): void {
  const jj = <usize>j;
  const r = vsigmoid(f32x4.add(ldn(g3 + jj, n), ldn(s3 + jj, n)));
  const z = vsigmoid(f32x4.add(ldn(g3 + H + jj, n), ldn(s3 + H + jj, n)));
  const hn = ldn(s3 + 2 * H + jj, n); // h_{t-1}·W_hnᵀ + b_hn
  const nn = vtanh(madd(r, hn, ldn(g3 + 2 * H + jj, n)));
  const hv = blend(nn, z, ldn(hp + jj, n));
  stn(g3 + jj, r, n);
  stn(g3 + H + jj, z, n);
  stn(g3 + 2 * H + jj, nn, n);
  stn(aux + jj, hn, n);
  stn(hout + jj, hv, n);
  if (y) stn(y + jj, hv, n);
}

// Cho form, first stage: r and z (s2: the row's 2H block of h_{t-1}·W_{hr,hz}ᵀ + b_{hr,hz});
// aux = r⊙h_{t-1}, the input of the second recurrent gemm.
@inline export function gruChoRzLanes(g3: usize, s2: usize, aux: usize, hp: usize, H: usize, j: i32, n: i32): void {
  const jj = <usize>j;
  const r = vsigmoid(f32x4.add(ldn(g3 + jj, n), ldn(s2 + jj, n)));
  const z = vsigmoid(f32x4.add(ldn(g3 + H + jj, n), ldn(s2 + H + jj, n)));
  stn(g3 + jj, r, n);
  stn(g3 + H + jj, z, n);
  stn(aux + jj, f32x4.mul(r, ldn(hp + jj, n)), n);
}

// Cho form, second stage: n = tanh(x_n + b_in + (r⊙h)·W_hnᵀ + b_hn) (s1: the row's H block of the
// second gemm, bias included); z was saved by the first stage.
@inline export function gruChoNLanes(g3: usize, s1: usize, hp: usize, hout: usize, y: usize, H: usize, j: i32, n: i32): void {
  const jj = <usize>j;
  const nn = vtanh(f32x4.add(ldn(g3 + 2 * H + jj, n), ldn(s1 + jj, n)));
  const hv = blend(nn, ldn(g3 + H + jj, n), ldn(hp + jj, n));
  stn(g3 + 2 * H + jj, nn, n);
  stn(hout + jj, hv, n);
  if (y) stn(y + jj, hv, n);
}

// gru_forward: GRU, one layer, one direction, whole sequence, time-major, gate order r,z,n.
//   gates   (T, B, 3H)  in/out  x·W_ihᵀ + b_ih on entry (one gemm_nt over T*B rows);
//                               activated r, z, n on exit (saved for gru_backward); 0 at masked steps
//   aux     (T, B, H)   out     saved for gru_backward: resetAfter=1: h_{t-1}·W_hnᵀ + b_hn;
//                               resetAfter=0: r⊙h_{t-1}. 0 at masked steps
//   h       (T+1, B, H) in/out  fwd: h[0] = h0 on entry, step t writes h[t+1], final = h[T]
//                               rev: h[T] = h0 on entry, step t writes h[t],   final = h[0]
//   y       (T, B, ldy) out     optional (0 = none): h_t at y + (t*B + b)*ldy; 0 at masked steps
//   scratch (B, 3H)     scratch per-step workspace (recurrent products); contents undefined on exit
//   w_hh    (3H, H)     in      PyTorch layout, row blocks r, z, n (W_hn = last H rows)
//   b_hh    (3H)        in      optional (0 = none)
//   lens    (B) i32     in      optional (0 = all T); step t of row b is masked when t >= lens[b]:
//                               h is carried, y / gates / aux rows are 0
//   reverse             0 = t runs 0…T-1, 1 = t runs T-1…0
//   resetAfter          1: n = tanh(x_n + r⊙(h·W_hnᵀ + b_hn))   (PyTorch, cuDNN, Keras reset_after)
//                       0: n = tanh(x_n + b_hn + (r⊙h)·W_hnᵀ)   (Cho et al., ONNX linear_before_reset=0)
//   r = σ(x_r + h·W_hrᵀ + b_hr), z = σ(x_z + h·W_hzᵀ + b_hz), h_t = (1−z)⊙n + z⊙h_{t-1}
// Allocates nothing. Masked rows skip the recurrent gemms (active rows are processed in runs).
export function gru_forward(
  gates: usize, aux: usize, h: usize, y: usize, scratch: usize,
  w_hh: usize, b_hh: usize, lens: usize,
  T: i32, B: i32, H: i32, ldy: i32, reverse: i32, resetAfter: i32,
): void {
  gru_forward_pk(gates, aux, h, y, scratch, w_hh, 0, b_hh, lens, T, B, H, ldy, reverse, resetAfter); // one copy of the loop for both
}

// gru_forward_pk: gru_forward given also w_pk, W_hh in packed form (assembly/kernels/packed.ts
// pack_hh(w_pk, w_hh, 3H, H, resetAfter ? 0 : 1): the Cho form packs its n rows apart), which the
// recurrent products of a single row read; bit-identical.
export function gru_forward_pk(
  gates: usize, aux: usize, h: usize, y: usize, scratch: usize,
  w_hh: usize, w_pk: usize, b_hh: usize, lens: usize,
  T: i32, B: i32, H: i32, ldy: i32, reverse: i32, resetAfter: i32,
): void {
  gruForward(gates, aux, h, y, scratch, w_hh, 0, w_pk, b_hh, lens, T, B, H, ldy, reverse, resetAfter);
}

// gru_forward_q8: gru_forward with W_hh in int8 (inference only).
//   w_hh8 (3H, Kp)  in   int8 rows, Kp = H rounded up to 16 (assembly/kernels/int8.ts)
//   sw_hh (3H)      in   f32 scale per row
//   every other argument as gru_forward's
export function gru_forward_q8(
  gates: usize, aux: usize, h: usize, y: usize, scratch: usize,
  w_hh8: usize, sw_hh: usize, b_hh: usize, lens: usize,
  T: i32, B: i32, H: i32, ldy: i32, reverse: i32, resetAfter: i32,
): void {
  gruForward(gates, aux, h, y, scratch, w_hh8, sw_hh, 0, b_hh, lens, T, B, H, ldy, reverse, resetAfter);
}

// The time loop of both: the recurrent products through gemmW (f32 when sw_hh = 0).
@inline function gruForward(
  gates: usize, aux: usize, h: usize, y: usize, scratch: usize,
  w_hh: usize, sw_hh: usize, w_pk: usize, b_hh: usize, lens: usize,
  T: i32, B: i32, H: i32, ldy: i32, reverse: i32, resetAfter: i32,
): void {
  const Hs = <usize>H;
  const BH = <usize>B * Hs;
  const G3 = 3 * H;
  const H4 = H & ~3;
  const tail = H & 3;
  // Cho form: scratch = [ (B, 2H) r,z products | (B, H) n product ]
  const sN = scratch + 2 * BH;
  const w_hn = wRow(w_hh, sw_hh, 2 * H, H);
  const sw_hn: usize = sw_hh ? sw_hh + 2 * Hs : 0;
  const b_hn: usize = b_hh ? b_hh + 2 * Hs : 0;
  // one batch row: read W_hh from a packed copy (bit-identical), the caller's or packed here; the
  // Cho form packs its r,z rows and its n rows apart (two products with different inputs)
  const wp = packedHh(w_pk, w_hh, T, B, sw_hh, G3, H, resetAfter ? 0 : 1);
  const wpn: usize = wp && !resetAfter ? wp + <usize>packedFloats(2 * H, H) : 0;
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    const gates_t = gates + <usize>t * BH * 3;
    const aux_t = aux + <usize>t * BH;
    const h_prev = h + <usize>(reverse ? t + 1 : t) * BH;
    const h_t = h + <usize>(reverse ? t : t + 1) * BH;

    // recurrent products for each run of active rows
    for (let b = runStart(lens, 0, B, t), e = 0; b < B; b = runStart(lens, e, B, t)) {
      e = runEnd(lens, b, B, t);
      if (resetAfter) gemmW(scratch + <usize>b * <usize>G3, h_prev + <usize>b * Hs, w_hh, sw_hh, b_hh, e - b, G3, H, 0, wp);
      else gemmW(scratch + <usize>b * 2 * Hs, h_prev + <usize>b * Hs, w_hh, sw_hh, b_hh, e - b, 2 * H, H, 0, wp);
    }

    if (resetAfter) {
      for (let r = 0; r < B; r++) {
        if (!stepActive(lens, r, t)) continue; // masked rows are handled below
        const g3 = gates_t + <usize>r * <usize>G3;
        const ro = <usize>r * Hs;
        const yr: usize = y ? y + (<usize>t * <usize>B + <usize>r) * <usize>ldy : 0;
        const s3 = scratch + <usize>r * <usize>G3;
        let j = 0;
        for (; j < H4; j += 4) gruAfterLanes(g3, s3, aux_t + ro, h_prev + ro, h_t + ro, yr, Hs, j, 4);
        if (tail) gruAfterLanes(g3, s3, aux_t + ro, h_prev + ro, h_t + ro, yr, Hs, j, tail);
      }
    } else {
      // stage 1: r, z and aux = r⊙h_{t-1}
      for (let r = 0; r < B; r++) {
        if (!stepActive(lens, r, t)) continue;
        const g3 = gates_t + <usize>r * <usize>G3;
        const ro = <usize>r * Hs;
        const s2 = scratch + <usize>r * 2 * Hs;
        let j = 0;
        for (; j < H4; j += 4) gruChoRzLanes(g3, s2, aux_t + ro, h_prev + ro, Hs, j, 4);
        if (tail) gruChoRzLanes(g3, s2, aux_t + ro, h_prev + ro, Hs, j, tail);
      }
      // second recurrent product per run: sN = (r⊙h_{t-1})·W_hnᵀ + b_hn
      for (let b = runStart(lens, 0, B, t), e = 0; b < B; b = runStart(lens, e, B, t)) {
        e = runEnd(lens, b, B, t);
        gemmW(sN + <usize>b * Hs, aux_t + <usize>b * Hs, w_hn, sw_hn, b_hn, e - b, H, H, 0, wpn);
      }
      // stage 2: n and h_t
      for (let r = 0; r < B; r++) {
        if (!stepActive(lens, r, t)) continue;
        const g3 = gates_t + <usize>r * <usize>G3;
        const ro = <usize>r * Hs;
        const yr: usize = y ? y + (<usize>t * <usize>B + <usize>r) * <usize>ldy : 0;
        let j = 0;
        for (; j < H4; j += 4) gruChoNLanes(g3, sN + ro, h_prev + ro, h_t + ro, yr, Hs, j, 4);
        if (tail) gruChoNLanes(g3, sN + ro, h_prev + ro, h_t + ro, yr, Hs, j, tail);
      }
    }

    // masked rows: carry the state, zero the output and the saved gate / aux rows
    for (let r = 0; r < B; r++) {
      if (stepActive(lens, r, t)) continue;
      const ro = <usize>r * Hs;
      copyn(h_t + ro, h_prev + ro, H);
      zeron(gates_t + <usize>r * <usize>G3, G3);
      zeron(aux_t + ro, H);
      if (y) zeron(y + (<usize>t * <usize>B + <usize>r) * <usize>ldy, H);
    }
  }
}

// ---- gru_backward ----------------------------------------------------------------------------------

// Pieces both forms share. dh = carry + dy (the full ∂L/∂h_t); from h = (1−z)⊙n + z⊙h_prev the
// n pre-activation gets da_n = dh⊙(1−z)⊙(1−n²) and the z pre-activation da_z = dh⊙(h_prev−n)⊙z(1−z).
@inline function gruDh(carry: usize, dy: usize, jj: usize, n: i32): v128 {
  const dh = ldn(carry + jj, n);
  return dy ? f32x4.add(dh, ldn(dy + jj, n)) : dh;
}
@inline function gruDaN(dh: v128, z: v128, nn: v128): v128 {
  const one = f32x4.splat(1);
  return f32x4.mul(f32x4.mul(dh, f32x4.sub(one, z)), f32x4.sub(one, f32x4.mul(nn, nn)));
}
@inline function gruDaZ(dh: v128, z: v128, nn: v128, hp: v128): v128 {
  return f32x4.mul(f32x4.mul(dh, f32x4.sub(hp, nn)), f32x4.mul(z, f32x4.sub(f32x4.splat(1), z)));
}

// Reset-after, one row: a_n = x_n + r⊙hn with hn = h_prev·W_hnᵀ + b_hn (saved in aux).
//   dgates r,z,n ← da_r, da_z, da_n; dg_rz ← da_r, da_z; dg_n ← da_n⊙r (the gradient of hn);
//   carry ← dh⊙z (the direct part of ∂L/∂h_prev; the host-side gemms add the rest).
@inline function gruAfterBackLanes(
  dg3: usize, drz: usize, dgn: usize, g3: usize, hn: usize, carry: usize, dy: usize, hp: usize,
  H: usize, j: i32, n: i32,
): void {
  const jj = <usize>j;
  const r = ldn(g3 + jj, n);
  const z = ldn(g3 + H + jj, n);
  const nn = ldn(g3 + 2 * H + jj, n);
  const dh = gruDh(carry, dy, jj, n);
  const da_z = gruDaZ(dh, z, nn, ldn(hp + jj, n));
  const da_n = gruDaN(dh, z, nn);
  const da_r = f32x4.mul(f32x4.mul(da_n, ldn(hn + jj, n)), f32x4.mul(r, f32x4.sub(f32x4.splat(1), r)));
  stn(dg3 + jj, da_r, n);
  stn(dg3 + H + jj, da_z, n);
  stn(dg3 + 2 * H + jj, da_n, n);
  stn(drz + jj, da_r, n);
  stn(drz + H + jj, da_z, n);
  stn(dgn + jj, f32x4.mul(da_n, r), n);
  stn(carry + jj, f32x4.mul(dh, z), n);
}

// Cho form, first stage, one row: everything that does not need ∂(r⊙h_prev).
//   dgates z,n ← da_z, da_n; dg_rz z ← da_z; dg_n ← da_n; carry ← dh (kept for the second stage).
@inline function gruChoBack1Lanes(
  dg3: usize, drz: usize, dgn: usize, g3: usize, carry: usize, dy: usize, hp: usize,
  H: usize, j: i32, n: i32,
): void {
  const jj = <usize>j;
  const z = ldn(g3 + H + jj, n);
  const nn = ldn(g3 + 2 * H + jj, n);
  const dh = gruDh(carry, dy, jj, n);
  const da_z = gruDaZ(dh, z, nn, ldn(hp + jj, n));
  const da_n = gruDaN(dh, z, nn);
  stn(dg3 + H + jj, da_z, n);
  stn(dg3 + 2 * H + jj, da_n, n);
  stn(drz + H + jj, da_z, n);
  stn(dgn + jj, da_n, n);
  stn(carry + jj, dh, n);
}

// Cho form, second stage, one row, with daux = ∂L/∂(r⊙h_prev) = da_n·W_hn:
//   da_r = daux⊙h_prev⊙r(1−r); carry ← dh⊙z + daux⊙r.
@inline function gruChoBack2Lanes(
  dg3: usize, drz: usize, g3: usize, daux: usize, carry: usize, hp: usize,
  H: usize, j: i32, n: i32,
): void {
  const jj = <usize>j;
  const r = ldn(g3 + jj, n);
  const z = ldn(g3 + H + jj, n);
  const da = ldn(daux + jj, n);
  const da_r = f32x4.mul(f32x4.mul(da, ldn(hp + jj, n)), f32x4.mul(r, f32x4.sub(f32x4.splat(1), r)));
  stn(dg3 + jj, da_r, n);
  stn(drz + jj, da_r, n);
  stn(carry + jj, madd(da, r, f32x4.mul(ldn(carry + jj, n), z)), n);
}

// gru_backward: backward of gru_forward, walking the steps in the opposite order.
//   dgates  (T, B, 3H)   out      ∂L/∂(x_r, x_z, x_n), the input projections (+ b_ih); 0 at masked
//                                 steps. The host turns it into dW_ih, db_ih and dX with GEMMs
//   dg_rz   (T, B, 2H)   out      ∂L/∂(r, z pre-activations): with h_prev gives dW_hr, dW_hz, db_hr, db_hz
//   dg_n    (T, B, H)    out      ∂L/∂(the n recurrent product): resetAfter=1: da_n⊙r, with h_prev gives
//                                 dW_hn and db_hn; resetAfter=0: da_n, with aux = r⊙h_prev gives dW_hn
//   dh0     (B, H)       out      optional (0 = none): ∂L/∂h0
//   dy      (T, B, ldy)  in       optional (0 = none): upstream ∂L/∂y_t (ignored at masked steps)
//   dhN     (B, H)       in       optional (0 = none): upstream ∂L/∂(final state)
//   gates, aux, h        in       saved by gru_forward (activated r, z, n; aux; states)
//   w_hh    (3H, H)      in
//   lens    (B) i32      in       as in gru_forward: masked steps pass the state gradient through
//   scratch (B, 2H)      scratch  the state-gradient carry and (Cho form) ∂L/∂(r⊙h_prev)
//   resetAfter           as in gru_forward
// Allocates nothing. ∂L/∂h_prev is completed by gemm_nn products per run of active rows:
// [da_r, da_z]·W_{hr,hz} and dg_n·W_hn (reset-after) — the Cho form needs dg_n·W_hn before r's gradient.
export function gru_backward(
  dgates: usize, dg_rz: usize, dg_n: usize, dh0: usize,
  dy: usize, dhN: usize,
  gates: usize, aux: usize, h: usize, w_hh: usize, lens: usize, scratch: usize,
  T: i32, B: i32, H: i32, ldy: i32, reverse: i32, resetAfter: i32,
): void {
  const Hs = <usize>H;
  const BH = <usize>B * Hs;
  const G3 = 3 * H;
  const H4 = H & ~3;
  const tail = H & 3;
  const carry = scratch;
  const daux = scratch + BH;
  const w_hn = w_hh + 2 * Hs * Hs;
  initCarry(carry, dhN, B * H);
  for (let s = 0; s < T; s++) {
    const t = reverse ? s : T - 1 - s;
    const gates_t = gates + <usize>t * BH * 3;
    const dgates_t = dgates + <usize>t * BH * 3;
    const drz_t = dg_rz + <usize>t * BH * 2;
    const dgn_t = dg_n + <usize>t * BH;
    const aux_t = aux + <usize>t * BH;
    const h_prev = h + <usize>(reverse ? t + 1 : t) * BH;

    // stage 1 (every row): masked rows get zero gradients; active rows the common part
    for (let r = 0; r < B; r++) {
      const ro = <usize>r * Hs;
      const g3 = <usize>r * <usize>G3;
      if (!stepActive(lens, r, t)) {
        zeron(dgates_t + g3, G3);
        zeron(drz_t + 2 * ro, 2 * H);
        zeron(dgn_t + ro, H);
        continue;
      }
      const dyr: usize = dy ? dy + (<usize>t * <usize>B + <usize>r) * <usize>ldy : 0;
      let j = 0;
      if (resetAfter) {
        for (; j < H4; j += 4) gruAfterBackLanes(dgates_t + g3, drz_t + 2 * ro, dgn_t + ro, gates_t + g3, aux_t + ro, carry + ro, dyr, h_prev + ro, Hs, j, 4);
        if (tail) gruAfterBackLanes(dgates_t + g3, drz_t + 2 * ro, dgn_t + ro, gates_t + g3, aux_t + ro, carry + ro, dyr, h_prev + ro, Hs, j, tail);
      } else {
        for (; j < H4; j += 4) gruChoBack1Lanes(dgates_t + g3, drz_t + 2 * ro, dgn_t + ro, gates_t + g3, carry + ro, dyr, h_prev + ro, Hs, j, 4);
        if (tail) gruChoBack1Lanes(dgates_t + g3, drz_t + 2 * ro, dgn_t + ro, gates_t + g3, carry + ro, dyr, h_prev + ro, Hs, j, tail);
      }
    }

    // Cho form: daux = da_n·W_hn, then r's gradient and the direct part of the carry
    if (!resetAfter) {
      for (let b = runStart(lens, 0, B, t), e = 0; b < B; b = runStart(lens, e, B, t)) {
        e = runEnd(lens, b, B, t);
        gemm_nn(daux + <usize>b * Hs, dgn_t + <usize>b * Hs, w_hn, e - b, H, H, 0);
      }
      for (let r = 0; r < B; r++) {
        if (!stepActive(lens, r, t)) continue;
        const ro = <usize>r * Hs;
        const g3 = <usize>r * <usize>G3;
        let j = 0;
        for (; j < H4; j += 4) gruChoBack2Lanes(dgates_t + g3, drz_t + 2 * ro, gates_t + g3, daux + ro, carry + ro, h_prev + ro, Hs, j, 4);
        if (tail) gruChoBack2Lanes(dgates_t + g3, drz_t + 2 * ro, gates_t + g3, daux + ro, carry + ro, h_prev + ro, Hs, j, tail);
      }
    }

    // carry += [da_r, da_z]·W_{hr,hz} (+ dg_n·W_hn in the reset-after form), per run of active rows
    for (let b = runStart(lens, 0, B, t), e = 0; b < B; b = runStart(lens, e, B, t)) {
      e = runEnd(lens, b, B, t);
      gemm_nn(carry + <usize>b * Hs, drz_t + <usize>b * 2 * Hs, w_hh, e - b, H, 2 * H, 1);
      if (resetAfter) gemm_nn(carry + <usize>b * Hs, dgn_t + <usize>b * Hs, w_hn, e - b, H, H, 1);
    }
  }
  if (dh0) copyn(dh0, carry, B * H);
}
