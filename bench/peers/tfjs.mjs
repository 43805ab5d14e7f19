// TensorFlow.js 4.22 layers on the `wasm` (@tensorflow/tfjs-backend-wasm) or `cpu` backend.
// Weights: kernel (I, G·H) = W_ihᵀ, recurrent kernel (H, G·H) = W_hhᵀ, one bias = b_ih + b_hh;
// LSTM gates i,f,c,o (= PyTorch i,f,g,o), recurrentActivation 'sigmoid' (tfjs' default is
// hardSigmoid). GRU: tfjs-layers has only the Cho form (reset before the recurrent product, no
// recurrent bias) with gates z,r,h, so it is checked against this library's GRU with
// resetAfter = false and the same parameters (b_hn folds into the bias); rnn-wasm's own W3
// figure is its default reset-after form, the same work per step.
// Initialisers are 'zeros' (the orthogonal one is slow above 2,000 elements); setWeights loads ours.
// Streaming (W1b) and sampling (W5) use stateful layers with batchInputShape [B, 1, F].
import { WORKLOADS, ADAM, seqInput, swap01, transpose, trainBatch, oneHot, uniform, sampleSoftmax, sampleCheckIds } from '../common.mjs';
import { reorderGates } from '../onnx-model.mjs';
import { paramsOf } from '../ours.mjs';


export async function make(impl) {
  const tf = await import('@tensorflow/tfjs');
  if (impl === 'tfjs-wasm') await import('@tensorflow/tfjs-backend-wasm');
  const backend = impl === 'tfjs-wasm' ? 'wasm' : 'cpu';
  if (!(await tf.setBackend(backend))) throw new Error(`Expected the tfjs ${backend} backend to load`);
  await tf.ready();

  // tfjs weights of one recurrent layer from PyTorch parameters (prefix '' or '0.', layer l).
  const rnnWeights = (cell, p, I, H, l = 0, prefix = '') => {
    const G = cell === 'lstm' ? 4 : 3;
    const order = cell === 'lstm' ? [0, 1, 2, 3] : [1, 0, 2]; // tfjs z,r,h ← PyTorch r,z,n
    const get = (n) => reorderGates(p[`${prefix}${n}_l${l}`], G, order);
    const bias = get('bias_ih').map((v, i) => v + get('bias_hh')[i]);
    return [tf.tensor2d(transpose(get('weight_ih'), G * H, I), [I, G * H]), tf.tensor2d(transpose(get('weight_hh'), G * H, H), [H, G * H]), tf.tensor1d(bias)];
  };
  const layer = (cell, o) => (cell === 'lstm' ? tf.layers.lstm : tf.layers.gru)({
    recurrentActivation: 'sigmoid', kernelInitializer: 'zeros', recurrentInitializer: 'zeros', biasInitializer: 'zeros', ...o,
  });
  const read = (t) => { const d = t.dataSync(); t.dispose(); return d; };
  // setWeights copies into the layer's variables: the source tensors are released right after
  const setW = (lyr, ts) => { lyr.setWeights(ts); tf.dispose(ts); };
  // a workload's dispose(): the model's variables and the workload's input tensors
  const release = (m, ...ts) => () => { m.dispose(); tf.dispose(ts); };

  return {
    version: `@tensorflow/tfjs ${tf.version.tfjs} (${backend} backend)`,
    async seq(id) {
      const w = WORKLOADS[id];
      const refOpts = w.cell === 'gru' ? { resetAfter: false } : {};
      const p = await paramsOf(id, refOpts);
      const m = tf.sequential({ layers: [layer(w.cell, { units: w.H, returnSequences: true, inputShape: [w.T, w.I] })] });
      setW(m.layers[0], rnnWeights(w.cell, p, w.I, w.H));
      const x = tf.tensor3d(swap01(seqInput(w), w.T, w.B, w.I), [w.B, w.T, w.I]);
      const fn = () => read(m.predict(x));
      return { fn, refOpts, dispose: release(m, x), output: () => swap01(fn(), w.B, w.T, w.H), note: w.cell === 'gru' ? 'GRU in the Cho form (tfjs has no reset-after GRU)' : undefined };
    },
    async stream(id) {
      const w = WORKLOADS[id];
      const p = await paramsOf(id);
      const m = tf.sequential({ layers: [layer(w.cell, { units: w.H, stateful: true, batchInputShape: [w.B, 1, w.I] })] });
      setW(m.layers[0], rnnWeights(w.cell, p, w.I, w.H));
      const x = seqInput(w);
      const steps = Array.from({ length: w.T }, (_, t) => tf.tensor3d(x.slice(t * w.B * w.I, (t + 1) * w.B * w.I), [w.B, 1, w.I]));
      const pass = (out) => {
        m.resetStates();
        for (let t = 0; t < w.T; t++) {
          const y = read(m.predict(steps[t]));
          if (out) out.set(y, t * w.B * w.H);
        }
      };
      return { fn: () => pass(null), dispose: release(m, steps), output: () => { const out = new Float32Array(w.T * w.B * w.H); pass(out); return out; } };
    },
    async train(id) {
      const w = WORKLOADS[id];
      const p = await paramsOf(id);
      const m = tf.sequential({
        layers: [
          layer('lstm', { units: w.H, returnSequences: true, inputShape: [w.T, w.V] }),
          tf.layers.dense({ units: w.V, kernelInitializer: 'zeros' }),
        ],
      });
      setW(m.layers[0], rnnWeights('lstm', p, w.V, w.H, 0, '0.'));
      setW(m.layers[1], [tf.tensor2d(transpose(p['1.weight'], w.V, w.H), [w.H, w.V]), tf.tensor1d(p['1.bias'])]);
      const lossFn = (yTrue, yPred) => tf.losses.softmaxCrossEntropy(yTrue, yPred);
      m.compile({ optimizer: tf.train.adam(ADAM.lr, ADAM.beta1, ADAM.beta2, ADAM.eps), loss: lossFn });
      const { x, y } = trainBatch(w);
      const xs = tf.tensor3d(swap01(x, w.T, w.B, w.V), [w.B, w.T, w.V]);
      const ys = tf.tensor3d(swap01(oneHot(y, w.V), w.T, w.B, w.V), [w.B, w.T, w.V]);
      // The check: loss and gradients at the initial parameters (blocks, each compared relative to
      // its scale), in PyTorch layout and our
      // parameters() order (tfjs' one LSTM bias stands for both b_ih and b_hh, which get the same
      // gradient). Not two Adam steps as elsewhere: with two biases Adam moves b_ih + b_hh twice as far.
      const output = () => {
        const { value, grads } = tf.variableGrads(() => lossFn(ys, m.apply(xs)), m.trainableWeights.map((v) => v.val));
        const [kernel, recurrent, bias, dense, denseBias] = m.trainableWeights.map((v) => read(grads[v.val.name]));
        const g = {
          '0.weight_ih_l0': transpose(kernel, w.V, 4 * w.H), '0.weight_hh_l0': transpose(recurrent, w.H, 4 * w.H),
          '0.bias_ih_l0': bias, '0.bias_hh_l0': bias, '1.weight': transpose(dense, w.H, w.V), '1.bias': denseBias,
        };
        return [read(value), ...Object.keys(p).map((name) => g[name])];
      };
      const fn = () => m.trainOnBatch(xs, ys);
      return { fn, async: true, output, dispose: release(m, xs, ys), refOpts: { gradients: true }, note: 'model.trainOnBatch; checked on the loss and gradients' };
    },
    async sample(id) {
      const w = WORKLOADS[id];
      const p = await paramsOf(id);
      const m = tf.sequential({
        layers: [
          layer('lstm', { units: w.H, stateful: true, returnSequences: true, batchInputShape: [1, 1, w.V] }),
          layer('lstm', { units: w.H, stateful: true }),
          tf.layers.dense({ units: w.V, kernelInitializer: 'zeros' }),
        ],
      });
      setW(m.layers[0], rnnWeights('lstm', p, w.V, w.H, 0, '0.'));
      setW(m.layers[1], rnnWeights('lstm', p, w.H, w.H, 1, '0.'));
      setW(m.layers[2], [tf.tensor2d(transpose(p['1.weight'], w.V, w.H), [w.H, w.V]), tf.tensor1d(p['1.bias'])]);
      const inputs = Array.from({ length: w.V }, (_, v) => tf.tensor3d(oneHot([v], w.V), [1, 1, w.V]));
      const fn = () => {
        m.resetStates();
        const u = uniform(7);
        let ch = 0;
        for (let t = 0; t < w.steps; t++) ch = sampleSoftmax(read(m.predict(inputs[ch])), u());
        return ch;
      };
      const output = () => {
        const ids = sampleCheckIds(w);
        const out = new Float32Array(w.steps * w.V);
        m.resetStates();
        for (let t = 0; t < w.steps; t++) out.set(read(m.predict(inputs[ids[t]])), t * w.V);
        return out;
      };
      return { fn, output, dispose: release(m, inputs) };
    },
  };
}
