// LSTM cell: one layer, one direction, whole sequence, time loop inside wasm. PyTorch gate order
// i, f, g, o; optional ONNX peepholes and ONNX/onnxruntime cell clip.
// Dimension letters: T steps, B batch, H hidden, G gates (LSTM 4). Pointers are f32 element offsets.
import { madd, ldn, stn } from '../util/simd';
import { gemm_nn } from '../kernels/gemm';
import { gemmW } from '../kernels/int8';
import { packedHh } from '../kernels/packed';
import { vsigmoid, vtanh } from '../kernels/activations';
import { stepActive, zeron, copyn, runStart, runEnd, initCarry } from './rnn';

// Clamp to [-clip, clip] (onnxruntime clip_add_bias: min(clip, x) then max(-clip, x)). NaN stays NaN.
@inline function vclip(v: v128, hi: v128, lo: v128): v128 {
  return f32x4.max(f32x4.min(v, hi), lo);
}

// Elementwise stage of one row, n lanes at column j. g4 points at the row's 4H gate block.
@inline export function lstmLanes(
  g4: usize, cp: usize, cout: usize, hout: usize, y: usize, peep: usize,
  H: usize, j: i32, n: i32, clip: f32,
): void {
  const jj = <usize>j;
  let ai = ldn(g4 + jj, n);
  let af = ldn(g4 + H + jj, n);
  let ag = ldn(g4 + 2 * H + jj, n);
  let ao = ldn(g4 + 3 * H + jj, n);
  const c_prev = ldn(cp + jj, n);
  // peepholes: i and f see c_{t-1}
  if (peep) {
    ai = madd(ldn(peep + jj, n), c_prev, ai);
    af = madd(ldn(peep + H + jj, n), c_prev, af);
  }
  const hi = f32x4.splat(clip);
  const lo = f32x4.splat(-clip);
  if (clip > 0) {
    ai = vclip(ai, hi, lo);
    af = vclip(af, hi, lo);
    ag = vclip(ag, hi, lo);
  }
  const i = vsigmoid(ai);
  const f = vsigmoid(af);
  const g = vtanh(ag);
  // c_t = f⊙c_{t-1} + i⊙g
  const c = madd(f, c_prev, f32x4.mul(i, g));
  // peephole: o sees c_t; clip applies after the peephole term (as for i, f)
  if (peep) ao = madd(ldn(peep + 2 * H + jj, n), c, ao);
  if (clip > 0) ao = vclip(ao, hi, lo);
  const o = vsigmoid(ao);
  const hv = f32x4.mul(o, vtanh(c));
  // save the activated gates for lstm_backward, then c_t, h_t, y_t
  stn(g4 + jj, i, n);
  stn(g4 + H + jj, f, n);
  stn(g4 + 2 * H + jj, g, n);
  stn(g4 + 3 * H + jj, o, n);
  stn(cout + jj, c, n);
  stn(hout + jj, hv, n);
  if (y) stn(y + jj, hv, n);
}

// lstm_forward: LSTM, one layer, one direction, whole sequence, time-major, gate order i,f,g,o.
//   gates (T, B, 4H)  in/out   x·W_ihᵀ + b_ih on entry (one gemm_nt over T*B rows);
//                              activated i, f, g, o on exit (saved for lstm_backward); 0 at masked steps
//   h     (T+1, B, H) in/out   fwd: h[0] = h0 on entry, step t writes h[t+1], final = h[T]
//                              rev: h[T] = h0 on entry, step t writes h[t],   final = h[0]
//   c     (T+1, B, H) in/out   same indexing as h; c0 on entry at c[0] (fwd) / c[T] (rev)
//   y     (T, B, ldy) out      optional (0 = none): h_t at y + (t*B + b)*ldy; 0 at masked steps
//   w_hh  (4H, H)     in       PyTorch layout, row blocks i, f, g, o
//   b_hh  (4H)        in       optional (0 = none)
//   peep  (3H)        in       optional (0 = none): p_i, p_f, p_o (ONNX P order i,o,f reordered to i,f,o
//                              by the host); a_i += p_i⊙c_{t-1}, a_f += p_f⊙c_{t-1}, a_o += p_o⊙c_t
//   lens  (B) i32     in       optional (0 = all T); step t of row b is masked when t >= lens[b]:
//                              h and c are carried, y and the saved gate rows are 0
//   reverse           0 = t runs 0…T-1, 1 = t runs T-1…0
//   clip              > 0: onnxruntime cell clip — every gate pre-activation (input + recurrent + both
//                              biases + peephole term) is clamped to [-clip, clip] before σ / tanh;
//                              the cell state c_t and tanh(c_t) are never clipped. <= 0: no clip
//                              (onnxruntime core/providers/cpu/rnn/uni_directional_lstm.cc GateComputations:
//                              clip_with_bias_ptr_ after the peephole product, then the activation; h()
//                              gets the unclipped C_t). NaN stays NaN here (ORT maps it to +clip when a
//                              bias is present — std::min(clip, NaN) — an accident we do not copy).
// Allocates nothing. Masked rows skip the recurrent gemm (active rows are processed in runs).
export function lstm_forward(
  gates: usize, h: usize, c: usize, y: usize,
  w_hh: usize, b_hh: usize, peep: usize, lens: usize,
  T: i32, B: i32, H: i32, ldy: i32, reverse: i32, clip: f32,
): void {
  lstm_forward_pk(gates, h, c, y, w_hh, 0, b_hh, peep, lens, T, B, H, ldy, reverse, clip); // one copy of the loop for both
}

// lstm_forward_pk: lstm_forward given also w_pk, W_hh in packed form (assembly/kernels/packed.ts
// pack_hh(w_pk, w_hh, 4H, H, 0)), which the recurrent product of a single row reads; bit-identical.
export function lstm_forward_pk(
  gates: usize, h: usize, c: usize, y: usize,
  w_hh: usize, w_pk: usize, b_hh: usize, peep: usize, lens: usize,
  T: i32, B: i32, H: i32, ldy: i32, reverse: i32, clip: f32,
): void {
  lstmForward(gates, h, c, y, w_hh, 0, w_pk, b_hh, peep, lens, T, B, H, ldy, reverse, clip);
}

// lstm_forward_q8: lstm_forward with W_hh in int8 (inference only; nothing saved is used later).
//   w_hh8 (4H, Kp)  in   int8 rows, Kp = H rounded up to 16 (assembly/kernels/int8.ts)
//   sw_hh (4H)      in   f32 scale per row
//   every other argument as lstm_forward's
export function lstm_forward_q8(
  gates: usize, h: usize, c: usize, y: usize,
  w_hh8: usize, sw_hh: usize, b_hh: usize, peep: usize, lens: usize,
  T: i32, B: i32, H: i32, ldy: i32, reverse: i32, clip: f32,
): void {
  lstmForward(gates, h, c, y, w_hh8, sw_hh, 0, b_hh, peep, lens, T, B, H, ldy, reverse, clip);
}

// The time loop of both: the recurrent product through gemmW (f32 when sw_hh = 0).
@inline function lstmForward(
  gates: usize, h: usize, c: usize, y: usize,
  w_hh: usize, sw_hh: usize, w_pk: usize, b_hh: usize, peep: usize, lens: usize,
  T: i32, B: i32, H: i32, ldy: i32, reverse: i32, clip: f32,
): void {
  const Hs = <usize>H;
  const BH = <usize>B * Hs;
  const G4 = 4 * H;
  const H4 = H & ~3;
  const tail = H & 3;
  // one batch row: read W_hh from a packed copy (bit-identical), the caller's or packed here
  const wp = packedHh(w_pk, w_hh, T, B, sw_hh, G4, H, 0);
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    const gates_t = gates + <usize>t * BH * 4;
    const prev = <usize>(reverse ? t + 1 : t) * BH;
    const cur = <usize>(reverse ? t : t + 1) * BH;
    // recurrent product for each run of active rows: gates_t += h_prev·W_hhᵀ + b_hh
    for (let b = runStart(lens, 0, B, t), e = 0; b < B; b = runStart(lens, e, B, t)) {
      e = runEnd(lens, b, B, t);
      gemmW(gates_t + <usize>b * <usize>G4, h + prev + <usize>b * Hs, w_hh, sw_hh, b_hh, e - b, G4, H, 1, wp);
    }
    // elementwise stage per row
    for (let r = 0; r < B; r++) {
      const g4 = gates_t + <usize>r * <usize>G4;
      const ro = <usize>r * Hs;
      const yr: usize = y ? y + (<usize>t * <usize>B + <usize>r) * <usize>ldy : 0;
      if (!stepActive(lens, r, t)) {
        // masked: carry h and c, zero the output and the saved gates
        copyn(h + cur + ro, h + prev + ro, H);
        copyn(c + cur + ro, c + prev + ro, H);
        zeron(g4, G4);
        if (yr) zeron(yr, H);
        continue;
      }
      let j = 0;
      for (; j < H4; j += 4) lstmLanes(g4, c + prev + ro, c + cur + ro, h + cur + ro, yr, peep, Hs, j, 4, clip);
      if (tail) lstmLanes(g4, c + prev + ro, c + cur + ro, h + cur + ro, yr, peep, Hs, j, tail, clip);
    }
  }
}

// ---- lstm_backward ---------------------------------------------------------------------------------

// 0 in the lanes where the saved activation s equals the activation of a clip bound (the forward
// clamped that pre-activation, so its gradient is 0), d elsewhere.
@inline function unclipped(d: v128, s: v128, atHi: v128, atLo: v128): v128 {
  return v128.andnot(d, v128.or(f32x4.eq(s, atHi), f32x4.eq(s, atLo)));
}

// Elementwise stage of one row, n lanes at column j. dg4/g4: the row's 4H blocks of gate gradients
// (out) and saved activated gates (in); dhc/dcc: the row's h and c gradient carries (dcc is updated
// to ∂L/∂c_{t-1}); cp/cc: c_{t-1}, c_t. With clip > 0, sHi/sLo = σ(±clip) and tHi = tanh(clip)
// (computed once per call by lstm_backward) mark the clamped gates.
@inline function lstmBackLanes(
  dg4: usize, g4: usize, dhc: usize, dcc: usize, dy: usize, cp: usize, cc: usize,
  peep: usize, dpeep: usize, H: usize, j: i32, n: i32, clip: f32, sHi: v128, sLo: v128, tHi: v128,
): void {
  const jj = <usize>j;
  const one = f32x4.splat(1);
  const i = ldn(g4 + jj, n);
  const f = ldn(g4 + H + jj, n);
  const g = ldn(g4 + 2 * H + jj, n);
  const o = ldn(g4 + 3 * H + jj, n);
  const c_prev = ldn(cp + jj, n);
  const c_t = ldn(cc + jj, n);
  let dh = ldn(dhc + jj, n);
  if (dy) dh = f32x4.add(dh, ldn(dy + jj, n));
  const tc = vtanh(c_t);
  // h = o⊙tanh(c)
  let da_o = f32x4.mul(f32x4.mul(dh, tc), f32x4.mul(o, f32x4.sub(one, o)));
  if (clip > 0) da_o = unclipped(da_o, o, sHi, sLo);
  let dc = madd(f32x4.mul(dh, o), f32x4.sub(one, f32x4.mul(tc, tc)), ldn(dcc + jj, n));
  if (peep) dc = madd(da_o, ldn(peep + 2 * H + jj, n), dc);
  // c = f⊙c_prev + i⊙g
  let da_i = f32x4.mul(f32x4.mul(dc, g), f32x4.mul(i, f32x4.sub(one, i)));
  let da_f = f32x4.mul(f32x4.mul(dc, c_prev), f32x4.mul(f, f32x4.sub(one, f)));
  let da_g = f32x4.mul(f32x4.mul(dc, i), f32x4.sub(one, f32x4.mul(g, g)));
  if (clip > 0) {
    da_i = unclipped(da_i, i, sHi, sLo);
    da_f = unclipped(da_f, f, sHi, sLo);
    da_g = unclipped(da_g, g, tHi, f32x4.neg(tHi));
  }
  let dc_prev = f32x4.mul(dc, f);
  if (peep) {
    dc_prev = madd(da_i, ldn(peep + jj, n), dc_prev);
    dc_prev = madd(da_f, ldn(peep + H + jj, n), dc_prev);
    stn(dpeep + jj, madd(da_i, c_prev, ldn(dpeep + jj, n)), n);
    stn(dpeep + H + jj, madd(da_f, c_prev, ldn(dpeep + H + jj, n)), n);
    stn(dpeep + 2 * H + jj, madd(da_o, c_t, ldn(dpeep + 2 * H + jj, n)), n);
  }
  stn(dg4 + jj, da_i, n);
  stn(dg4 + H + jj, da_f, n);
  stn(dg4 + 2 * H + jj, da_g, n);
  stn(dg4 + 3 * H + jj, da_o, n);
  stn(dcc + jj, dc_prev, n);
}

// lstm_backward: backward of lstm_forward, walking the steps in the opposite order.
//   dgates  (T, B, 4H)   out      ∂L/∂(gate pre-activations) i, f, g, o; 0 at masked steps. The host
//                                 turns it into dW_ih, dW_hh, db_ih, db_hh and dX with GEMMs over T*B rows
//   dh0     (B, H)       out      optional (0 = none): ∂L/∂h0
//   dc0     (B, H)       out      optional (0 = none): ∂L/∂c0
//   dpeep   (3H)         in/out   optional (0 = none; required when peep is given): += ∂L/∂(p_i, p_f, p_o)
//   dy      (T, B, ldy)  in       optional (0 = none): upstream ∂L/∂y_t (ignored at masked steps)
//   dhN     (B, H)       in       optional (0 = none): upstream ∂L/∂(final h)
//   dcN     (B, H)       in       optional (0 = none): upstream ∂L/∂(final c)
//   gates, h, c          in       saved by lstm_forward (activated gates; states with its indexing)
//   w_hh    (4H, H)      in
//   peep    (3H)         in       optional, as in lstm_forward
//   lens    (B) i32      in       as in lstm_forward: masked steps pass both state gradients through
//   scratch (B, 2H)      scratch  the h and c gradient carries
//   clip                 as in lstm_forward: a gate whose pre-activation was clamped gets gradient 0.
//                        Clamping is recognised from the saved activation: it equals σ(±clip) (tanh(±clip)
//                        for g) bit for bit. An unclamped pre-activation so close to the bound that its
//                        f32 activation rounds to the same value is treated as clamped too (its true
//                        gradient there is one-sided anyway).
// Allocates nothing. dh_{t-1} = da_t·W_hh is one gemm_nn per run of active rows.
export function lstm_backward(
  dgates: usize, dh0: usize, dc0: usize, dpeep: usize,
  dy: usize, dhN: usize, dcN: usize,
  gates: usize, h: usize, c: usize, w_hh: usize, peep: usize, lens: usize, scratch: usize,
  T: i32, B: i32, H: i32, ldy: i32, reverse: i32, clip: f32,
): void {
  const Hs = <usize>H;
  const BH = <usize>B * Hs;
  const G4 = 4 * H;
  const H4 = H & ~3;
  const tail = H & 3;
  const dhc = scratch;
  const dcc = scratch + BH;
  initCarry(dhc, dhN, B * H);
  initCarry(dcc, dcN, B * H);
  const sHi = vsigmoid(f32x4.splat(clip));
  const sLo = vsigmoid(f32x4.splat(-clip));
  const tHi = vtanh(f32x4.splat(clip));
  for (let s = 0; s < T; s++) {
    const t = reverse ? s : T - 1 - s;
    const gates_t = gates + <usize>t * BH * 4;
    const dgates_t = dgates + <usize>t * BH * 4;
    const prev = <usize>(reverse ? t + 1 : t) * BH;
    const cur = <usize>(reverse ? t : t + 1) * BH;
    for (let r = 0; r < B; r++) {
      const ro = <usize>r * Hs;
      const go = <usize>r * <usize>G4;
      if (!stepActive(lens, r, t)) {
        zeron(dgates_t + go, G4);
        continue;
      }
      const dyr: usize = dy ? dy + (<usize>t * <usize>B + <usize>r) * <usize>ldy : 0;
      let j = 0;
      for (; j < H4; j += 4) {
        lstmBackLanes(dgates_t + go, gates_t + go, dhc + ro, dcc + ro, dyr, c + prev + ro, c + cur + ro, peep, dpeep, Hs, j, 4, clip, sHi, sLo, tHi);
      }
      if (tail) lstmBackLanes(dgates_t + go, gates_t + go, dhc + ro, dcc + ro, dyr, c + prev + ro, c + cur + ro, peep, dpeep, Hs, j, tail, clip, sHi, sLo, tHi);
    }
    // dh carry = da_t·W_hh for each run of active rows (masked rows keep theirs)
    for (let b = runStart(lens, 0, B, t), e = 0; b < B; b = runStart(lens, e, B, t)) {
      e = runEnd(lens, b, B, t);
      gemm_nn(dhc + <usize>b * Hs, dgates_t + <usize>b * <usize>G4, w_hh, e - b, H, G4, 0);
    }
  }
  if (dh0) copyn(dh0, dhc, B * H);
  if (dc0) copyn(dc0, dcc, B * H);
}
