// LSTM cell: one layer, one direction, whole sequence, time loop inside wasm. PyTorch gate order
// i, f, g, o; optional ONNX peepholes and ONNX/onnxruntime cell clip.
// Dimension letters: T steps, B batch, H hidden, G gates (LSTM 4). Pointers are f32 element offsets.
import { madd, ldn, stn } from '../util/simd';
import { gemm_nt } from '../kernels/gemm';
import { vsigmoid, vtanh } from '../kernels/activations';
import { stepActive, zeron, copyn, runEnd } from './rnn';

// Clamp to [-clip, clip] (onnxruntime clip_add_bias: min(clip, x) then max(-clip, x)). NaN stays NaN.
@inline function vclip(v: v128, hi: v128, lo: v128): v128 {
  return f32x4.max(f32x4.min(v, hi), lo);
}

// Elementwise stage of one row, n lanes at column j. g4 points at the row's 4H gate block.
@inline function lstmLanes(
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
  const Hs = <usize>H;
  const BH = <usize>B * Hs;
  const G4 = 4 * H;
  const H4 = H & ~3;
  const tail = H & 3;
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    const gates_t = gates + <usize>t * BH * 4;
    const prev = <usize>(reverse ? t + 1 : t) * BH;
    const cur = <usize>(reverse ? t : t + 1) * BH;
    // recurrent product for each run of active rows: gates_t += h_prev·W_hhᵀ + b_hh
    let b = 0;
    while (b < B) {
      if (!stepActive(lens, b, t)) {
        b++;
        continue;
      }
      const e = runEnd(lens, b, B, t);
      gemm_nt(gates_t + <usize>b * <usize>G4, h + prev + <usize>b * Hs, w_hh, b_hh, e - b, G4, H, 1);
      b = e;
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
