// Gradient oracle: the library's BPTT against TensorFlow.js autodiff (`tf.variableGrads` over
// tfjs-layers simpleRNN / lstm / gru (Cho form) / bidirectional with the same weights).
//
// Loss on both sides: masked mean squared error against a random target, over the valid steps
// only (tfjs masking repeats outputs at padded steps, so those steps carry no upstream gradient).
// tfjs holds one folded bias b_ih + b_hh, so its bias gradient is compared with ours for b_ih and
// for b_hh alike (∂L/∂b_ih = ∂L/∂b_hh for RNN and LSTM; for the Cho-form GRU too, where b_hn sits
// beside b_in inside the tanh). Gradients w.r.t. h0 (and c0) come from tfjs variables too.
// tfjs 4.22 cannot differentiate an RNN layer at T = 1, so every case has T >= 2.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, GRU, LSTM, RNN, tensor } from '../../src/index';
import { TFJS_ORDER, swapTB, tfjsKernel, tfjsLayer, tfjsReady } from './tfjs';
import {
  GATES, config, dirs, layerInput, mulberry32, outSize, randomInput, randomParams, suffix, uniform,
  type OracleInput, type Params, type RnnConfig,
} from './spec';

beforeAll(async () => {
  await init();
  await tfjsReady();
});

const worst: Record<string, number> = {};
afterAll(() => console.table(worst));

/** max |a − b| / max |b|: the error relative to the gradient's own scale. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let e = 0, m = 1e-30;
  for (let i = 0; i < b.length; i++) {
    e = Math.max(e, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return e / m;
}

interface Grads {
  /** Per parameter, in tfjs layout (kernels (I, G·H), gate blocks in tfjs order). */
  params: Record<string, Float32Array>;
  h0: Float32Array;
  c0?: Float32Array;
}

/** (T, B, F) mask rows: 1 at valid steps. */
function validMask(inp: OracleInput, F: number): Float32Array {
  const { T, B } = inp;
  const m = new Float32Array(T * B * F);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) if (!inp.lengths || t < inp.lengths[b]) m.fill(1, (t * B + b) * F, (t * B + b + 1) * F);
  }
  return m;
}

function libraryGrads(c: RnnConfig, p: Params, inp: OracleInput, target: Float32Array): Grads {
  const base = {
    inputSize: c.inputSize, hiddenSize: c.hiddenSize, numLayers: c.numLayers,
    bidirectional: c.bidirectional, mergeMode: c.mergeMode, bias: c.bias,
  };
  const m =
    c.mode === 'rnn' ? new RNN({ ...base, nonlinearity: c.nonlinearity })
      : c.mode === 'lstm' ? new LSTM(base) : new GRU({ ...base, resetAfter: false });
  try {
    for (const [name, v] of Object.entries(p)) m.setParameter(name, v);
    const { T, B } = inp;
    m.evaluate(
      { x: tensor(inp.x, [T, B, c.inputSize]), y: tensor(target, [T, B, outSize(c)]), lengths: inp.lengths, h0: inp.h0, c0: inp.c0 },
      { loss: 'mse' },
    );
    const G = GATES[c.mode];
    const H = c.hiddenSize;
    const order = TFJS_ORDER[c.mode];
    const params: Record<string, Float32Array> = {};
    for (let l = 0; l < c.numLayers; l++) {
      for (let d = 0; d < dirs(c); d++) {
        const sf = suffix(l, d);
        params[`kernel${sf}`] = tfjsKernel(m.gradient(`weight_ih${sf}`), G, H, order);
        params[`recurrent_kernel${sf}`] = tfjsKernel(m.gradient(`weight_hh${sf}`), G, H, order);
        if (c.bias) {
          // both biases see the folded bias's gradient; reorder them like a (G·H, 1) kernel
          params[`bias${sf}`] = tfjsKernel(m.gradient(`bias_ih${sf}`), G, H, order);
          params[`bias_hh${sf}`] = tfjsKernel(m.gradient(`bias_hh${sf}`), G, H, order);
        }
      }
    }
    const s = m.initialStateGradients();
    return { params, h0: s.dh0.data as Float32Array, c0: s.dc0?.data as Float32Array | undefined };
  } finally {
    m.dispose();
  }
}

function tfjsGrads(c: RnnConfig, p: Params, inp: OracleInput, target: Float32Array): Grads {
  const { T, B } = inp;
  const H = c.hiddenSize;
  const D = dirs(c);
  const F = outSize(c);
  const S = c.numLayers * D;
  const keep: { dispose(): void }[] = [];
  const track = <X extends { dispose(): void }>(x: X): X => (keep.push(x), x);
  try {
    const layers = Array.from({ length: c.numLayers }, (_, l) => tfjsLayer(c, p, l, B, T));
    for (const layer of layers) keep.push(...layer.weights);
    const x = track(tf.tensor3d(swapTB(inp.x, T, B, c.inputSize), [B, T, c.inputSize]));
    const mask = inp.lengths
      ? track(tf.tensor2d(Float32Array.from({ length: B * T }, (_, i) => (i % T < inp.lengths![Math.floor(i / T)] ? 1 : 0)), [B, T]))
      : undefined;
    const lossMask = validMask(inp, F);
    const count = lossMask.reduce((a, v) => a + v, 0);
    const tgt = track(tf.tensor3d(swapTB(target, T, B, F), [B, T, F]));
    const lm = track(tf.tensor3d(swapTB(lossMask, T, B, F), [B, T, F]));
    // initial states as variables, one (B, H) per layer, direction (and h / c)
    const h0 = Array.from({ length: S }, (_, i) => track(tf.variable(tf.tensor2d(inp.h0!.subarray(i * B * H, (i + 1) * B * H), [B, H]))));
    const c0 = c.mode === 'lstm' ? Array.from({ length: S }, (_, i) => track(tf.variable(tf.tensor2d(inp.c0!.subarray(i * B * H, (i + 1) * B * H), [B, H])))) : [];
    const vars: tf.Variable[] = [];
    const names: string[] = [];
    layers.forEach((layer, l) => {
      layer.trainableWeights.forEach((w, k) => {
        vars.push(w.read() as tf.Variable);
        // per direction: kernel, recurrent_kernel, (bias)
        const per = c.bias ? 3 : 2;
        const d = Math.floor(k / per);
        names.push(`${['kernel', 'recurrent_kernel', 'bias'][k % per]}${suffix(l, d)}`);
      });
    });
    const { grads } = tf.variableGrads(() => {
      let y: tf.Tensor = x;
      layers.forEach((layer, l) => {
        const init: tf.Tensor[] = [];
        for (let d = 0; d < D; d++) {
          init.push(h0[l * D + d]);
          if (c.mode === 'lstm') init.push(c0[l * D + d]);
        }
        const res = layer.apply(y, { mask, initialState: init }) as tf.Tensor[];
        y = res[0];
      });
      return tf.div(tf.sum(tf.mul(lm, tf.square(tf.sub(y, tgt)))), count) as tf.Scalar;
    }, [...vars, ...h0, ...c0]);
    const read = (v: tf.Variable): Float32Array => {
      const g = grads[v.name];
      return g ? (g.dataSync() as Float32Array).slice() : new Float32Array(v.size);
    };
    const params: Record<string, Float32Array> = {};
    vars.forEach((v, i) => (params[names[i]] = read(v)));
    const cat = (vs: tf.Variable[]) => {
      const out = new Float32Array(S * B * H);
      vs.forEach((v, i) => out.set(read(v), i * B * H));
      return out;
    };
    const out = { params, h0: cat(h0), c0: c.mode === 'lstm' ? cat(c0) : undefined };
    Object.values(grads).forEach((g) => g.dispose());
    return out;
  } finally {
    keep.forEach((t) => t.dispose());
  }
}

interface Case {
  name: string;
  c: RnnConfig;
  T: number;
  B: number;
  lengths?: number[];
}

const CASES: Case[] = [
  { name: 'rnn tanh', c: config({ mode: 'rnn', inputSize: 5, hiddenSize: 8 }), T: 6, B: 3 },
  { name: 'rnn relu, lengths', c: config({ mode: 'rnn', inputSize: 4, hiddenSize: 7, nonlinearity: 'relu' }), T: 5, B: 3, lengths: [5, 2, 4] },
  { name: 'lstm', c: config({ mode: 'lstm', inputSize: 5, hiddenSize: 9 }), T: 7, B: 2 },
  { name: 'lstm, lengths', c: config({ mode: 'lstm', inputSize: 3, hiddenSize: 16 }), T: 6, B: 4, lengths: [6, 1, 3, 5] },
  { name: 'gru (Cho form)', c: config({ mode: 'gru', inputSize: 5, hiddenSize: 8, resetAfter: false }), T: 6, B: 3 },
  { name: 'gru (Cho form), lengths', c: config({ mode: 'gru', inputSize: 4, hiddenSize: 17, resetAfter: false }), T: 5, B: 3, lengths: [2, 5, 4] },
  { name: 'bidirectional lstm, concat, lengths', c: config({ mode: 'lstm', inputSize: 4, hiddenSize: 6, bidirectional: true }), T: 5, B: 3, lengths: [5, 3, 2] },
  { name: 'bidirectional gru, sum', c: config({ mode: 'gru', inputSize: 4, hiddenSize: 5, bidirectional: true, mergeMode: 'sum', resetAfter: false }), T: 4, B: 2 },
  { name: 'bidirectional rnn, ave, 2 layers', c: config({ mode: 'rnn', inputSize: 3, hiddenSize: 6, bidirectional: true, mergeMode: 'ave', numLayers: 2 }), T: 5, B: 2 },
  { name: '2-layer lstm, lengths', c: config({ mode: 'lstm', inputSize: 4, hiddenSize: 8, numLayers: 2 }), T: 6, B: 3, lengths: [6, 4, 2] },
];

describe('gradients agree with TensorFlow.js autodiff within 1e-4 relative', () => {
  it.each(CASES)('$name', ({ name, c, T, B, lengths }) => {
    const p = randomParams(c, T * 13 + B);
    const inp = randomInput(c, T, B, T * 7 + B, { lengths: lengths ?? false, h0: true, c0: true });
    const target = uniform(mulberry32(T * 31 + B), T * B * outSize(c), 1);
    const ours = libraryGrads(c, p, inp, target);
    const theirs = tfjsGrads(c, p, inp, target);
    for (const [key, g] of Object.entries(ours.params)) {
      const ref = theirs.params[key.replace('bias_hh', 'bias')];
      expect(ref, key).toBeDefined();
      const e = relErr(g, ref);
      worst[name] = Math.max(worst[name] ?? 0, e);
      expect(e, `${key} (${layerInput(c, 0)} inputs)`).toBeLessThan(1e-4);
    }
    for (const [key, g, ref] of [['h0', ours.h0, theirs.h0], ['c0', ours.c0, theirs.c0]] as const) {
      if (!g || !ref) continue;
      const e = relErr(g, ref);
      worst[name] = Math.max(worst[name] ?? 0, e);
      expect(e, key).toBeLessThan(1e-4);
    }
  });
});
