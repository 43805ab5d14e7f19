// brain.js 1.6.1 (npm `latest`): recurrent nets in plain JS, one sequence at a time.
// Its LSTM is not the standard cell: getEquation (dist/recurrent/lstm.js) computes
//   c_t = f ⊙ h_{t-1} + i ⊙ g,   h_t = o ⊙ tanh(c_t)
// i.e. the "cell" it retains is the previous *hidden* state and no cell state is carried. So its
// output cannot match rnn-wasm's. W1a loads our parameters (gate blocks i,f,g,o → input/forget/
// cellActivation/output matrices, bias = b_ih + b_hh) and is checked against an f64 reference of
// brain.js' own equations with those parameters (the check proves the weights and shapes, and the
// timing is of the same-size work plus its 64-wide output layer). W4 (training, RMSProp-style, its
// batch of 1) and W5 (sampling) run its char-level LSTM (embedding rows plucked by index, which costs
// the same as our one-hot product) at the workload's sizes; they are not numerically comparable.
import { createRequire } from 'node:module';
import { WORKLOADS, seqInput, randomIds, uniform, sampleSoftmax } from '../common.mjs';
import { paramsOf } from '../ours.mjs';

const require = createRequire(import.meta.url);

// brain.js' LSTM recurrence in f64: returns h (T, H) for x (T, I), parameters in PyTorch layout.
function brainLstmRef(p, x, T, I, H) {
  const h = new Float64Array(H), out = new Float32Array(T * H);
  const a = new Float64Array(4 * H);
  const sig = (v) => 1 / (1 + Math.exp(-v));
  for (let t = 0; t < T; t++) {
    for (let r = 0; r < 4 * H; r++) {
      let s = p.bias_ih_l0[r] + p.bias_hh_l0[r];
      for (let k = 0; k < I; k++) s += p.weight_ih_l0[r * I + k] * x[t * I + k];
      for (let k = 0; k < H; k++) s += p.weight_hh_l0[r * H + k] * h[k];
      a[r] = s;
    }
    for (let j = 0; j < H; j++) {
      const c = sig(a[H + j]) * h[j] + sig(a[j]) * Math.tanh(a[2 * H + j]);
      out[t * H + j] = sig(a[3 * H + j]) * Math.tanh(c);
    }
    for (let j = 0; j < H; j++) h[j] = out[t * H + j];
  }
  return out;
}

// Our LSTM layer l's parameters into one brain.js hidden layer's matrices.
function loadLstm(layer, p, I, H, l = 0, prefix = '') {
  const P = (n) => p[`${prefix}${n}_l${l}`];
  const blocks = [['input', 0], ['forget', 1], ['cellActivation', 2], ['output', 3]];
  for (const [name, g] of blocks) {
    layer[`${name}Matrix`].weights.set(P('weight_ih').subarray(g * H * I, (g + 1) * H * I));
    layer[`${name}Hidden`].weights.set(P('weight_hh').subarray(g * H * H, (g + 1) * H * H));
    const b = layer[`${name}Bias`].weights;
    for (let j = 0; j < H; j++) b[j] = P('bias_ih')[g * H + j] + P('bias_hh')[g * H + j];
  }
}

export async function make() {
  const brain = require('brain.js');
  const version = require('brain.js/package.json').version;
  return {
    version: `brain.js ${version}`,
    async seq(id) {
      const w = WORKLOADS[id];
      if (w.cell !== 'lstm' || w.B !== 1) return null; // batch 1 only; its GRU is not modelled here
      const p = await paramsOf(id);
      const net = new brain.recurrent.LSTMTimeStep({ inputSize: w.I, hiddenLayers: [w.H], outputSize: w.I });
      net.initialize();
      loadLstm(net.model.hiddenLayers[0], p, w.I, w.H);
      while (net.model.equations.length <= w.T) net.bindEquation(); // runArrays refuses an unbound net
      const x = seqInput(w);
      const steps = Array.from({ length: w.T }, (_, t) => x.slice(t * w.I, (t + 1) * w.I));
      const fn = () => net.runArrays(steps);
      const output = () => {
        fn();
        const out = new Float32Array(w.T * w.H);
        for (let t = 0; t < w.T; t++) out.set(net.model.equationConnections[t][0].weights, t * w.H);
        return out;
      };
      return {
        fn, output, reference: brainLstmRef(p, x, w.T, w.I, w.H),
        note: 'brain.js LSTMTimeStep.runArrays; its LSTM retains h_{t-1} as the cell (checked against an f64 reference of its own equations with our weights)',
      };
    },
    async train(id) {
      const w = WORKLOADS[id];
      const net = new brain.recurrent.LSTM({ inputSize: w.V, inputRange: w.V, hiddenLayers: [w.H], outputSize: w.V });
      net.initialize();
      const seqs = Array.from({ length: 8 }, (_, i) => Array.from(randomIds(w.T, w.V, 500 + i)));
      let n = 0;
      const fn = () => net.trainPattern(seqs[n++ % seqs.length]);
      return {
        fn, output: null, unit: (seconds) => w.T / seconds,
        note: 'characters/s: brain.recurrent.LSTM.trainPattern on one 64-character sequence (its batch of 1, RMSProp-style update); not numerically comparable',
      };
    },
    async sample(id) {
      const w = WORKLOADS[id];
      const net = new brain.recurrent.LSTM({ inputSize: w.V, inputRange: w.V, hiddenLayers: Array(w.L).fill(w.H), outputSize: w.V });
      net.initialize();
      const eqs = net.model.equations;
      while (eqs.length < w.steps) net.bindEquation();
      // net.run()'s loop without its stop at the END token: 200 characters, each fed back
      const fn = () => {
        const u = uniform(7);
        let prev = 0;
        for (let t = 0; t < w.steps; t++) prev = sampleSoftmax(eqs[t].runIndex(prev).weights, u());
        return prev;
      };
      return { fn, output: null, note: "brain.recurrent.LSTM equations run one character at a time (net.run's loop); not numerically comparable" };
    },
  };
}
