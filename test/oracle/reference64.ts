// A plain float64 forward of stacked (bi)directional RNN/LSTM/GRU layers in PyTorch layout, with
// PyTorch packed-sequence semantics. It is the tie-breaker of the oracle self-check: written from
// the equations below, it shares no code with onnx.ts or tfjs.ts (which only convert layouts).
//
//   RNN   h' = f(W_ih x + b_ih + W_hh h + b_hh), f = tanh | relu
//   LSTM  gates i,f,g,o: a = W_ih x + b_ih + W_hh h + b_hh
//         a_i += p_i⊙c, a_f += p_f⊙c                     (peepholes see c_{t-1})
//         i = σ(clip(a_i)), f = σ(clip(a_f)), g = tanh(clip(a_g))
//         c' = f⊙c + i⊙g;  a_o += p_o⊙c';  o = σ(clip(a_o));  h' = o⊙tanh(c')
//         clip(v) = min(max(v, -cellClip), cellClip) when cellClip > 0: onnxruntime clips every gate
//         pre-activation (bias and peephole terms included) and never the cell state itself.
//   GRU   gates r,z,n: r = σ(W_ir x + b_ir + W_hr h + b_hr), z likewise
//         resetAfter: n = tanh(W_in x + b_in + r⊙(W_hn h + b_hn))
//         Cho form:   n = tanh(W_in x + b_in + b_hn + W_hn (r⊙h))
//         h' = (1−z)⊙n + z⊙h
// Packed semantics: row b runs steps 0…len−1 (forward) or len−1…0 (reverse, starting from h0 at
// its own last step); outputs at t >= len are 0; the final state is the state after the last step run.
// Bidirectional merge per layer: concat [fwd | rev], or sum / mul / ave of the two.
import { GATES, dirs, layerInput, outSize, suffix, type OracleInput, type Params, type RnnConfig } from './spec';

export interface Reference64Output {
  output: Float64Array;
  hN: Float64Array;
  cN?: Float64Array;
  paddedOutputsZero: true;
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

export function reference64(c: RnnConfig, p: Params, inp: OracleInput): Reference64Output {
  const { T, B } = inp;
  const H = c.hiddenSize;
  const G = GATES[c.mode];
  const D = dirs(c);
  const F = outSize(c);
  const S = c.numLayers * D * B * H;
  const hN = new Float64Array(S);
  const cN = c.mode === 'lstm' ? new Float64Array(S) : undefined;
  const clip = (v: number): number => (c.cellClip > 0 ? Math.min(Math.max(v, -c.cellClip), c.cellClip) : v);
  let x: ArrayLike<number> = inp.x;

  for (let l = 0; l < c.numLayers; l++) {
    const I = layerInput(c, l);
    const cat = new Float64Array(T * B * D * H); // (T, B, D*H), zeros at padded steps
    for (let d = 0; d < D; d++) {
      const s = suffix(l, d);
      const wIh = p[`weight_ih${s}`];
      const wHh = p[`weight_hh${s}`];
      const bIh = p[`bias_ih${s}`];
      const bHh = p[`bias_hh${s}`];
      const peep = c.mode === 'lstm' && c.peepholes ? p[`weight_peep${s}`] : undefined;
      const state = l * D + d;
      for (let b = 0; b < B; b++) {
        const len = inp.lengths ? inp.lengths[b] : T;
        const h = new Float64Array(H);
        const cell = new Float64Array(H);
        if (inp.h0) for (let j = 0; j < H; j++) h[j] = inp.h0[(state * B + b) * H + j];
        if (inp.c0) for (let j = 0; j < H; j++) cell[j] = inp.c0[(state * B + b) * H + j];
        const xa = new Float64Array(G * H); // W_ih x + b_ih
        const ha = new Float64Array(G * H); // W_hh h + b_hh (GRU Cho form: n block computed later)
        for (let k = 0; k < len; k++) {
          const t = d === 0 ? k : len - 1 - k;
          const xo = (t * B + b) * I;
          for (let r = 0; r < G * H; r++) {
            let sx = bIh ? bIh[r] : 0;
            for (let q = 0; q < I; q++) sx += wIh[r * I + q] * x[xo + q];
            xa[r] = sx;
            let sh = bHh ? bHh[r] : 0;
            for (let q = 0; q < H; q++) sh += wHh[r * H + q] * h[q];
            ha[r] = sh;
          }
          if (c.mode === 'rnn') {
            for (let j = 0; j < H; j++) {
              const a = xa[j] + ha[j];
              h[j] = c.nonlinearity === 'relu' ? Math.max(a, 0) : Math.tanh(a);
            }
          } else if (c.mode === 'lstm') {
            for (let j = 0; j < H; j++) {
              let ai = xa[j] + ha[j];
              let af = xa[H + j] + ha[H + j];
              const ag = xa[2 * H + j] + ha[2 * H + j];
              let ao = xa[3 * H + j] + ha[3 * H + j];
              if (peep) {
                ai += peep[j] * cell[j];
                af += peep[H + j] * cell[j];
              }
              const ig = sigmoid(clip(ai));
              const fg = sigmoid(clip(af));
              const gg = Math.tanh(clip(ag));
              cell[j] = fg * cell[j] + ig * gg;
              if (peep) ao += peep[2 * H + j] * cell[j];
              h[j] = sigmoid(clip(ao)) * Math.tanh(cell[j]);
            }
          } else {
            const r = new Float64Array(H);
            const z = new Float64Array(H);
            for (let j = 0; j < H; j++) {
              r[j] = sigmoid(xa[j] + ha[j]);
              z[j] = sigmoid(xa[H + j] + ha[H + j]);
            }
            const n = new Float64Array(H);
            for (let j = 0; j < H; j++) {
              const row = 2 * H + j;
              let hn: number;
              if (c.resetAfter) {
                hn = r[j] * ha[row];
              } else {
                hn = bHh ? bHh[row] : 0;
                for (let q = 0; q < H; q++) hn += wHh[row * H + q] * r[q] * h[q];
              }
              n[j] = Math.tanh(xa[row] + hn);
            }
            for (let j = 0; j < H; j++) h[j] = (1 - z[j]) * n[j] + z[j] * h[j];
          }
          cat.set(h, (t * B + b) * D * H + d * H);
        }
        hN.set(h, (state * B + b) * H);
        if (cN) cN.set(cell, (state * B + b) * H);
      }
    }
    // merge the two directions into the next layer's input
    if (D === 2 && c.mergeMode !== 'concat') {
      const m = new Float64Array(T * B * H);
      for (let rI = 0; rI < T * B; rI++) {
        for (let j = 0; j < H; j++) {
          const f = cat[rI * 2 * H + j];
          const v = cat[rI * 2 * H + H + j];
          m[rI * H + j] = c.mergeMode === 'sum' ? f + v : c.mergeMode === 'mul' ? f * v : 0.5 * (f + v);
        }
      }
      x = m;
    } else {
      x = cat;
    }
  }
  if ((x as Float64Array).length !== T * B * F) throw new Error('reference64: output size mismatch');
  return { output: x as Float64Array, hN, cN, paddedOutputsZero: true };
}
