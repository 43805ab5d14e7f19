// Plain float64 references for one RNN / LSTM / GRU layer in one direction over a whole sequence:
// the readable spec of assembly/cells/*.ts. Everything is written out as scalar loops, input
// projection included, with no shared code with the wasm side and no cleverness.
//
// Shapes (time-major, row-major, PyTorch parameter layout):
//   x     (T, B, I)        input sequence
//   w_ih  (G*H, I)         input weights, one row per gate unit (G = 1 RNN, 4 LSTM, 3 GRU)
//   w_hh  (G*H, H)         recurrent weights
//   b_ih, b_hh (G*H)       optional biases (absent = 0)
//   h0, c0 (B, H)          optional initial states (absent = 0)
//   lens  (B)              optional lengths (absent = every row has length T)
// Gate order is PyTorch's: LSTM i, f, g, o; GRU r, z, n.
//
// Packed-sequence semantics (PyTorch pack_padded_sequence, also onnxruntime's sequence_lens >= 1):
//   row b runs only its steps t < lens[b]. Forward visits t = 0 … len−1; reverse visits
//   t = len−1 … 0, i.e. the reverse direction starts at the row's OWN last step from h0, not at T−1.
//   Outputs at padded steps (t >= len) are exactly 0, and the final state is the state after the last
//   step the row ran. Saved gates at padded steps are 0 (the wasm kernels zero them too).

export interface CellInput {
  T: number;
  B: number;
  I: number;
  H: number;
  x: ArrayLike<number>;
  w_ih: ArrayLike<number>;
  w_hh: ArrayLike<number>;
  b_ih?: ArrayLike<number>;
  b_hh?: ArrayLike<number>;
  h0?: ArrayLike<number>;
  lens?: ArrayLike<number>;
  reverse?: boolean;
}

export interface LstmInput extends CellInput {
  c0?: ArrayLike<number>;
  /** (3H) peephole weights p_i, p_f, p_o (ONNX semantics; absent = none). */
  peep?: ArrayLike<number>;
  /** ONNX `clip` threshold; absent or <= 0 = no clipping. */
  clip?: number;
}

export interface CellOutput {
  /** (T, B, H): h_t of every step, 0 at padded steps. */
  y: Float64Array;
  /** (B, H): final hidden state. */
  hN: Float64Array;
  /** (B, H): final cell state (LSTM only). */
  cN?: Float64Array;
  /** (T, B, G*H): activated gates saved per step (RNN: the pre-activation), 0 at padded steps. */
  gates: Float64Array;
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

// The steps row b runs, in the order it runs them.
function stepsOf(inp: CellInput, b: number): number[] {
  const len = inp.lens ? Math.min(inp.lens[b], inp.T) : inp.T;
  const ts: number[] = [];
  for (let k = 0; k < len; k++) ts.push(inp.reverse ? len - 1 - k : k);
  return ts;
}

// out[r] = Σ_q W[r, q]·v[q] (+ bias[r]) for r < rows: one matrix–vector product, W row-major (rows, K).
function affine(
  W: ArrayLike<number>, v: ArrayLike<number>, vOff: number, bias: ArrayLike<number> | undefined,
  rows: number, K: number, rowOff = 0,
): Float64Array {
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = bias ? bias[rowOff + r] : 0;
    for (let q = 0; q < K; q++) s += W[(rowOff + r) * K + q] * v[vOff + q];
    out[r] = s;
  }
  return out;
}

function initState(s: ArrayLike<number> | undefined, b: number, H: number): Float64Array {
  const v = new Float64Array(H);
  if (s) for (let j = 0; j < H; j++) v[j] = s[b * H + j];
  return v;
}

/**
 * Elman RNN:  a_t = x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh;  h_t = tanh(a_t)  (or max(a_t, 0) with relu).
 * `gates` holds a_t (the pre-activation, what rnn_backward needs with h).
 */
export function rnnRef(inp: CellInput & { relu?: boolean }): CellOutput {
  const { T, B, I, H } = inp;
  const y = new Float64Array(T * B * H);
  const gates = new Float64Array(T * B * H);
  const hN = new Float64Array(B * H);
  for (let b = 0; b < B; b++) {
    let h = initState(inp.h0, b, H);
    for (const t of stepsOf(inp, b)) {
      const xa = affine(inp.w_ih, inp.x, (t * B + b) * I, inp.b_ih, H, I); // input projection
      const ha = affine(inp.w_hh, h, 0, inp.b_hh, H, H); // recurrent projection
      const hNew = new Float64Array(H);
      for (let j = 0; j < H; j++) {
        const a = xa[j] + ha[j];
        gates[(t * B + b) * H + j] = a;
        hNew[j] = inp.relu ? Math.max(a, 0) : Math.tanh(a);
        y[(t * B + b) * H + j] = hNew[j];
      }
      h = hNew;
    }
    hN.set(h, b * H);
  }
  return { y, hN, gates };
}

/**
 * LSTM (PyTorch gate order i, f, g, o) with ONNX peepholes and ONNX / onnxruntime cell clip:
 *
 *   a = x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh            (4H pre-activations, blocks i f g o)
 *   a_i += p_i ⊙ c_{t−1};  a_f += p_f ⊙ c_{t−1}              (peepholes on i and f see the OLD cell)
 *   i = σ(clip(a_i));  f = σ(clip(a_f));  g = tanh(clip(a_g))
 *   c_t = f ⊙ c_{t−1} + i ⊙ g                                (the cell itself is never clipped)
 *   a_o += p_o ⊙ c_t                                          (the peephole on o sees the NEW cell)
 *   o = σ(clip(a_o));  h_t = o ⊙ tanh(c_t)
 *
 * clip(v) = min(max(v, −clip), clip) when clip > 0. This is where onnxruntime's DeepCPU LSTM applies
 * it (uni_directional_lstm.cc: clip_with_bias_ptr_ runs on each gate after the peephole product and
 * with both biases added, right before the gate activation; h() gets the unclipped C_t).
 * `gates` holds the activated i, f, g, o (what lstm_backward needs, with c and h).
 */
export function lstmRef(inp: LstmInput): CellOutput {
  const { T, B, I, H } = inp;
  const clipOn = inp.clip !== undefined && inp.clip > 0;
  const clip = (v: number): number => (clipOn ? Math.min(Math.max(v, -inp.clip!), inp.clip!) : v);
  const p = inp.peep;
  const y = new Float64Array(T * B * H);
  const gates = new Float64Array(T * B * 4 * H);
  const hN = new Float64Array(B * H);
  const cN = new Float64Array(B * H);
  for (let b = 0; b < B; b++) {
    let h = initState(inp.h0, b, H);
    let c = initState(inp.c0, b, H);
    for (const t of stepsOf(inp, b)) {
      const xa = affine(inp.w_ih, inp.x, (t * B + b) * I, inp.b_ih, 4 * H, I);
      const ha = affine(inp.w_hh, h, 0, inp.b_hh, 4 * H, H);
      const hNew = new Float64Array(H);
      const cNew = new Float64Array(H);
      const g0 = (t * B + b) * 4 * H;
      for (let j = 0; j < H; j++) {
        let ai = xa[j] + ha[j];
        let af = xa[H + j] + ha[H + j];
        const ag = xa[2 * H + j] + ha[2 * H + j];
        let ao = xa[3 * H + j] + ha[3 * H + j];
        if (p) {
          ai += p[j] * c[j];
          af += p[H + j] * c[j];
        }
        const ig = sigmoid(clip(ai));
        const fg = sigmoid(clip(af));
        const gg = Math.tanh(clip(ag));
        cNew[j] = fg * c[j] + ig * gg;
        if (p) ao += p[2 * H + j] * cNew[j];
        const og = sigmoid(clip(ao));
        hNew[j] = og * Math.tanh(cNew[j]);
        gates[g0 + j] = ig;
        gates[g0 + H + j] = fg;
        gates[g0 + 2 * H + j] = gg;
        gates[g0 + 3 * H + j] = og;
        y[(t * B + b) * H + j] = hNew[j];
      }
      h = hNew;
      c = cNew;
    }
    hN.set(h, b * H);
    cN.set(c, b * H);
  }
  return { y, hN, cN, gates };
}

/**
 * GRU (PyTorch gate order r, z, n):
 *
 *   r = σ(x_t·W_irᵀ + b_ir + h_{t−1}·W_hrᵀ + b_hr)
 *   z = σ(x_t·W_izᵀ + b_iz + h_{t−1}·W_hzᵀ + b_hz)
 *   resetAfter (PyTorch, cuDNN, Keras reset_after=True, ONNX linear_before_reset=1):
 *     n = tanh(x_t·W_inᵀ + b_in + r ⊙ (h_{t−1}·W_hnᵀ + b_hn))
 *   Cho et al. form (Keras reset_after=False, ONNX linear_before_reset=0):
 *     n = tanh(x_t·W_inᵀ + b_in + (r ⊙ h_{t−1})·W_hnᵀ + b_hn)
 *   h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}
 *
 * `gates` holds the activated r, z, n.
 */
export function gruRef(inp: CellInput & { resetAfter: boolean }): CellOutput {
  const { T, B, I, H } = inp;
  const y = new Float64Array(T * B * H);
  const gates = new Float64Array(T * B * 3 * H);
  const hN = new Float64Array(B * H);
  for (let b = 0; b < B; b++) {
    let h = initState(inp.h0, b, H);
    for (const t of stepsOf(inp, b)) {
      const xa = affine(inp.w_ih, inp.x, (t * B + b) * I, inp.b_ih, 3 * H, I);
      // r and z: the first 2H rows of W_hh / b_hh
      const hrz = affine(inp.w_hh, h, 0, inp.b_hh, 2 * H, H);
      const r = new Float64Array(H);
      const z = new Float64Array(H);
      for (let j = 0; j < H; j++) {
        r[j] = sigmoid(xa[j] + hrz[j]);
        z[j] = sigmoid(xa[H + j] + hrz[H + j]);
      }
      // the candidate n: the last H rows of W_hh / b_hh (W_hn, b_hn)
      let hn: Float64Array;
      if (inp.resetAfter) {
        const lin = affine(inp.w_hh, h, 0, inp.b_hh, H, H, 2 * H); // h·W_hnᵀ + b_hn
        hn = lin.map((v, j) => r[j] * v); //                          r ⊙ (h·W_hnᵀ + b_hn)
      } else {
        const rh = h.map((v, j) => r[j] * v); //                      r ⊙ h
        hn = affine(inp.w_hh, rh, 0, inp.b_hh, H, H, 2 * H); //       (r ⊙ h)·W_hnᵀ + b_hn
      }
      const hNew = new Float64Array(H);
      const g0 = (t * B + b) * 3 * H;
      for (let j = 0; j < H; j++) {
        const n = Math.tanh(xa[2 * H + j] + hn[j]);
        hNew[j] = (1 - z[j]) * n + z[j] * h[j];
        gates[g0 + j] = r[j];
        gates[g0 + H + j] = z[j];
        gates[g0 + 2 * H + j] = n;
        y[(t * B + b) * H + j] = hNew[j];
      }
      h = hNew;
    }
    hN.set(h, b * H);
  }
  return { y, hN, gates };
}
