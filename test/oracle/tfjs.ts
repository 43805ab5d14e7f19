// Oracle 2: TensorFlow.js layers (simpleRNN, lstm, gru, bidirectional) on the cpu backend, with
// weights converted from PyTorch layout by setWeights. Layers run eagerly one after another with
// the same mask, so stacking and per-layer merge mirror the library.
//
// Layout conversion (per direction; Bidirectional holds [forward…, backward…]):
//   kernel (I, G*H) = W_ihᵀ, recurrent_kernel (H, G*H) = W_hhᵀ, bias (G*H) = b_ih + b_hh
//   gate blocks: LSTM tfjs i,f,c,o = PyTorch i,f,g,o (no reorder); GRU tfjs z,r,h ← PyTorch r,z,n
// What tfjs can represent: no peepholes, no clip, and GRU only in the Cho form (resetAfter=false):
//   tfjs GRU has one bias and computes hh = tanh(x·W_h + b_h + (r⊙h)·U_h), so b_hn must be folded
//   into b_h = b_in + b_hn — exactly the Cho form; the reset-after form needs b_hn inside r⊙(…).
// Defaults overridden: recurrentActivation 'sigmoid' (tfjs: hardSigmoid); initializers 'zeros'
// (the orthogonal default is slow above ~2,000 elements; setWeights overwrites them anyway).
// Masking: padded steps repeat the last valid output (forward) or hold the initial state
// (reverse), so `paddedOutputsZero` is false; valid outputs and final states follow PyTorch.
import * as tf from '@tensorflow/tfjs';
import { GATES, dirs, layerInput, outSize, suffix, type OracleInput, type OracleOutput, type Params, type RnnConfig } from './spec';

let ready: Promise<void> | undefined;
/** The cpu backend: float32, deterministic, no WebGL on Node. */
export function tfjsReady(): Promise<void> {
  ready ??= tf.setBackend('cpu').then(async (ok) => {
    if (!ok) throw new Error('Expected the tfjs cpu backend to initialise');
    await tf.ready();
  });
  return ready;
}

/** Why tfjs cannot represent a configuration, or null when it can. */
export function tfjsUnsupported(c: RnnConfig): string | null {
  if (c.mode === 'lstm' && c.peepholes) return 'tfjs LSTM has no peepholes';
  if (c.mode === 'lstm' && c.cellClip > 0) return 'tfjs LSTM has no clip';
  if (c.mode === 'gru' && c.resetAfter) return 'tfjs GRU has no recurrent bias (only the Cho form)';
  return null;
}

/** tfjs gate block k holds PyTorch gate block ORDER[k]. */
export const TFJS_ORDER: Record<RnnConfig['mode'], number[]> = { rnn: [0], lstm: [0, 1, 2, 3], gru: [1, 0, 2] };

/** (G*H, cols) PyTorch matrix → (cols, G*H) kernel with gate blocks reordered. */
export function tfjsKernel(w: ArrayLike<number>, G: number, H: number, order: number[]): Float32Array {
  const cols = w.length / (G * H);
  const out = new Float32Array(w.length);
  for (let k = 0; k < G; k++) {
    for (let j = 0; j < H; j++) {
      const src = (order[k] * H + j) * cols;
      for (let q = 0; q < cols; q++) out[q * G * H + k * H + j] = w[src + q];
    }
  }
  return out;
}
/** b_ih + b_hh (summed in f64, rounded once), gate blocks reordered. */
function foldedBias(bIh: ArrayLike<number>, bHh: ArrayLike<number>, G: number, H: number, order: number[]): Float32Array {
  const out = new Float32Array(G * H);
  for (let k = 0; k < G; k++) for (let j = 0; j < H; j++) out[k * H + j] = bIh[order[k] * H + j] + bHh[order[k] * H + j];
  return out;
}

/** (T,B,F) time-major → (B,T,F) batch-major (and back: swap T and B). */
export function swapTB(a: ArrayLike<number>, T: number, B: number, F: number): Float32Array {
  const out = new Float32Array(T * B * F);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < F; j++) out[(b * T + t) * F + j] = a[(t * B + b) * F + j];
    }
  }
  return out;
}

/**
 * One layer (both directions) of the library's stack as a built tfjs layer holding the PyTorch-layout
 * parameters `p` (converted as in the header). The caller disposes `layer.weights`.
 */
export function tfjsLayer(c: RnnConfig, p: Params, l: number, B: number, T: number): tf.layers.Layer {
  const H = c.hiddenSize;
  const G = GATES[c.mode];
  const D = dirs(c);
  const order = TFJS_ORDER[c.mode];
  const I = layerInput(c, l);
  const args = {
    units: H,
    returnSequences: true,
    returnState: true,
    useBias: c.bias,
    activation: c.mode === 'rnn' ? c.nonlinearity : 'tanh',
    kernelInitializer: 'zeros',
    recurrentInitializer: 'zeros',
    biasInitializer: 'zeros',
  } as const;
  const cell =
    c.mode === 'rnn'
      ? tf.layers.simpleRNN(args)
      : c.mode === 'lstm'
        ? tf.layers.lstm({ ...args, recurrentActivation: 'sigmoid' })
        : tf.layers.gru({ ...args, recurrentActivation: 'sigmoid' });
  const layer = D === 2 ? tf.layers.bidirectional({ layer: cell, mergeMode: c.mergeMode }) : cell;
  // build now so that setWeights can run before the first call; RNN.build (unlike
  // Bidirectional.build) leaves `built` to Layer.apply, which would otherwise build again
  layer.build([B, T, I]);
  layer.built = true;
  const weights: tf.Tensor[] = [];
  for (let d = 0; d < D; d++) {
    const sf = suffix(l, d);
    weights.push(tf.tensor2d(tfjsKernel(p[`weight_ih${sf}`], G, H, order), [I, G * H]));
    weights.push(tf.tensor2d(tfjsKernel(p[`weight_hh${sf}`], G, H, order), [H, G * H]));
    if (c.bias) weights.push(tf.tensor1d(foldedBias(p[`bias_ih${sf}`], p[`bias_hh${sf}`], G, H, order)));
  }
  layer.setWeights(weights);
  weights.forEach((w) => w.dispose());
  return layer;
}

export async function runTfjs(c: RnnConfig, p: Params, inp: OracleInput): Promise<OracleOutput> {
  const why = tfjsUnsupported(c);
  if (why) throw new Error(`Expected a configuration tfjs can represent: ${why}`);
  await tfjsReady();
  const { T, B } = inp;
  const H = c.hiddenSize;
  const G = GATES[c.mode];
  const D = dirs(c);
  const F = outSize(c);
  const order = TFJS_ORDER[c.mode];
  const S = c.numLayers * D;
  const hN = new Float32Array(S * B * H);
  const cN = c.mode === 'lstm' ? new Float32Array(S * B * H) : undefined;

  const disposables: { dispose(): void }[] = [];
  try {
    let x = tf.tensor3d(swapTB(inp.x, T, B, c.inputSize), [B, T, c.inputSize]);
    disposables.push(x);
    const mask = inp.lengths
      ? tf.tensor2d(
          Float32Array.from({ length: B * T }, (_, i) => (i % T < inp.lengths![Math.floor(i / T)] ? 1 : 0)),
          [B, T],
        )
      : undefined;
    if (mask) disposables.push(mask);
    const stateOf = (src: Float32Array | undefined, idx: number) => {
      if (!src) return undefined;
      const t = tf.tensor2d(src.subarray(idx * B * H, (idx + 1) * B * H), [B, H]);
      disposables.push(t);
      return t;
    };

    for (let l = 0; l < c.numLayers; l++) {
      const layer = tfjsLayer(c, p, l, B, T);
      // the layer's variables (Layer.dispose refuses a layer that was only run eagerly)
      for (const v of layer.weights) disposables.push(v);

      // initial states, in tfjs order: [h, c] per direction, forward first
      const init: tf.Tensor[] = [];
      for (let d = 0; d < D; d++) {
        const h0 = stateOf(inp.h0, l * D + d) ?? track(tf.zeros([B, H]));
        init.push(h0);
        if (c.mode === 'lstm') init.push(stateOf(inp.c0, l * D + d) ?? track(tf.zeros([B, H])));
      }
      const kwargs: Record<string, unknown> = {};
      if (mask) kwargs.mask = mask;
      if (inp.h0 || inp.c0) kwargs.initialState = init;
      const res = layer.apply(x, kwargs) as tf.Tensor[];
      res.forEach((t) => disposables.push(t));
      // res = [output, …states]: per direction h (and c for LSTM)
      const per = c.mode === 'lstm' ? 2 : 1;
      for (let d = 0; d < D; d++) {
        const idx = l * D + d;
        hN.set(res[1 + d * per].dataSync() as Float32Array, idx * B * H);
        if (cN) cN.set(res[2 + d * per].dataSync() as Float32Array, idx * B * H);
      }
      x = res[0] as tf.Tensor3D;
    }
    const out = swapTB(x.dataSync() as Float32Array, B, T, F);
    return { output: out, hN, cN, paddedOutputsZero: false };
  } finally {
    disposables.forEach((t) => t.dispose());
  }

  function track<T extends { dispose(): void }>(t: T): T {
    disposables.push(t);
    return t;
  }
}
