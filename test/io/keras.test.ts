// Keras / TF.js import: models built and saved by TensorFlow.js itself (its own save handler) give
// the same outputs here; GRU reset_after=True (which tfjs cannot build) comes as a hand-written
// Keras model.json checked against ONNX Runtime's GRU with linear_before_reset=1.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import type { onnx as proto } from 'onnx-proto';
import { init, importKeras, tensor, Tensor, FormatError, ValueError, type KerasSource, type KerasWeightSpec } from '../../src/index';
import { tfjsReady } from '../oracle/tfjs';
import { randArray, maxAbsDiff } from '../model/helpers';

const require = createRequire(import.meta.url);
const { onnx } = require('onnx-proto') as { onnx: typeof proto };

beforeAll(async () => {
  await init();
  await tfjsReady();
});

const seen: Record<string, number> = {};
// observed maxima, printed once (the numbers quoted in reports)
afterAll(() => console.log('max |diff|', JSON.stringify(seen)));
function record(name: string, d: number, tol = 1e-5) {
  seen[name] = Math.max(seen[name] ?? 0, d);
  expect(d, name).toBeLessThanOrEqual(tol);
}

/** What tfjs's own save handler receives. */
async function saveArtifacts(m: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let art: tf.io.ModelArtifacts | undefined;
  await m.save(tf.io.withSaveHandler(async (a) => {
    art = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  return art!;
}

// seeded initialisers so every weight (biases included) is nonzero and reproducible
let seed = 100;
const init_ = () => tf.initializers.randomUniform({ minval: -0.6, maxval: 0.6, seed: seed++ });
const rnnInit = () => ({ kernelInitializer: init_(), recurrentInitializer: init_(), biasInitializer: init_() });

/** Max |a − b| over the valid steps of (B, T, F) outputs. */
function validDiff(a: ArrayLike<number>, b: ArrayLike<number>, B: number, T: number, F: number, lens: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < B; i++) for (let t = 0; t < lens[i]; t++) for (let j = 0; j < F; j++) {
    const k = (i * T + t) * F + j;
    m = Math.max(m, Math.abs(a[k] - b[k]));
  }
  return m;
}

describe('models saved by TensorFlow.js', () => {
  it('Masking → Bidirectional(LSTM) → GRU (reset_after=False) → SimpleRNN relu → TimeDistributed(Dense softmax)', async () => {
    const T = 6, B = 3, I = 3;
    const m = tf.sequential();
    m.add(tf.layers.masking({ maskValue: 0, inputShape: [T, I] }));
    m.add(tf.layers.bidirectional({ layer: tf.layers.lstm({ units: 4, returnSequences: true, recurrentActivation: 'sigmoid', ...rnnInit() }) as tf.layers.RNN, mergeMode: 'concat' }));
    m.add(tf.layers.gru({ units: 5, returnSequences: true, recurrentActivation: 'sigmoid', ...rnnInit() }));
    m.add(tf.layers.simpleRNN({ units: 3, returnSequences: true, activation: 'relu', ...rnnInit() }));
    m.add(tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 4, activation: 'softmax', kernelInitializer: init_(), biasInitializer: init_() }) }));
    const art = await saveArtifacts(m);
    const imp = importKeras(art as KerasSource);
    const lens = [6, 3, 4];
    const x = randArray(B * T * I, 5, 1.5);
    for (let b = 0; b < B; b++) x.fill(0, (b * T + lens[b]) * I, (b + 1) * T * I);
    const want = (m.predict(tf.tensor3d(x, [B, T, I])) as tf.Tensor).dataSync();
    const xt = tensor(x, [B, T, I]);
    expect(Array.from(imp.lengths(xt)!)).toEqual(lens);
    const got = imp.predict(xt);
    expect(got.shape).toEqual([B, T, 4]);
    record('tfjs sequence model (valid steps)', validDiff(got.data, want, B, T, 4, lens));
    imp.dispose();
    m.dispose();
  });

  it('Embedding(mask_zero) → Bidirectional(GRU, ave, return_sequences=False) → Dense softmax, from model.json + two shards', async () => {
    const T = 5, B = 4, V = 12;
    const m = tf.sequential();
    m.add(tf.layers.embedding({ inputDim: V, outputDim: 4, inputLength: T, maskZero: true, embeddingsInitializer: init_() }));
    m.add(tf.layers.bidirectional({ layer: tf.layers.gru({ units: 5, recurrentActivation: 'sigmoid', ...rnnInit() }) as tf.layers.RNN, mergeMode: 'ave' }));
    m.add(tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: init_(), biasInitializer: init_() }));
    const art = await saveArtifacts(m);
    // as files: model.json with a manifest, the weights split into two shards
    const all = new Uint8Array(art.weightData as ArrayBuffer);
    const cut = Math.floor(all.length / 2);
    const modelJson = JSON.stringify({ modelTopology: art.modelTopology, format: art.format, weightsManifest: [{ paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'], weights: art.weightSpecs }] });
    const imp = importKeras({ modelJson, weights: { 'group1-shard1of2.bin': all.slice(0, cut), 'group1-shard2of2.bin': all.slice(cut) } });
    expect(imp.returnSequences).toBe(false);
    const lens = [5, 2, 4, 1];
    const ids = new Int32Array(B * T);
    for (let b = 0; b < B; b++) for (let t = 0; t < lens[b]; t++) ids[b * T + t] = 1 + ((b * 7 + t * 3) % (V - 1));
    const want = (m.predict(tf.tensor2d(ids, [B, T], 'int32')) as tf.Tensor).dataSync();
    const got = imp.predict(new Tensor(ids, [B, T]));
    expect(got.shape).toEqual([B, 3]);
    record('tfjs many-to-one (bidirectional ave)', maxAbsDiff(got.data, want));
    // a missing shard is named
    expect(() => importKeras({ modelJson, weights: { 'group1-shard1of2.bin': all.slice(0, cut) } })).toThrow(/group1-shard2of2\.bin/);
    imp.dispose();
    m.dispose();
  });

  it('LSTM (return_sequences=False, no mask) → Dense; Bidirectional(SimpleRNN, mul) → Dense (no bias)', async () => {
    const T = 7, B = 2, I = 2;
    const x = randArray(B * T * I, 8);
    const a = tf.sequential();
    a.add(tf.layers.lstm({ units: 6, inputShape: [T, I], recurrentActivation: 'sigmoid', ...rnnInit() }));
    a.add(tf.layers.dense({ units: 2, kernelInitializer: init_(), biasInitializer: init_() }));
    const ia = importKeras((await saveArtifacts(a)) as KerasSource);
    record('tfjs many-to-one (LSTM)', maxAbsDiff(ia.predict(tensor(x, [B, T, I])).data, (a.predict(tf.tensor3d(x, [B, T, I])) as tf.Tensor).dataSync()));
    const b = tf.sequential();
    b.add(tf.layers.bidirectional({ layer: tf.layers.simpleRNN({ units: 3, returnSequences: true, ...rnnInit() }) as tf.layers.RNN, mergeMode: 'mul', inputShape: [T, I] }));
    b.add(tf.layers.dense({ units: 2, useBias: false, kernelInitializer: init_() }));
    const ib = importKeras((await saveArtifacts(b)) as KerasSource);
    record('tfjs Bidirectional(SimpleRNN, mul)', maxAbsDiff(ib.predict(tensor(x, [B, T, I])).data, (b.predict(tf.tensor3d(x, [B, T, I])) as tf.Tensor).dataSync()));
    ia.dispose();
    ib.dispose();
    a.dispose();
    b.dispose();
  });

  it('a functional tf.model chain (Input → LSTM → Dense) imports like a Sequential', async () => {
    const T = 4, B = 2, I = 3;
    const inp = tf.input({ shape: [T, I] });
    const h = tf.layers.lstm({ units: 5, returnSequences: true, recurrentActivation: 'sigmoid', ...rnnInit() }).apply(inp) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 2, kernelInitializer: init_(), biasInitializer: init_() }).apply(h) as tf.SymbolicTensor;
    const m = tf.model({ inputs: inp, outputs: out });
    const imp = importKeras((await saveArtifacts(m)) as KerasSource);
    const x = randArray(B * T * I, 17);
    record('tfjs functional chain', maxAbsDiff(imp.predict(tensor(x, [B, T, I])).data, (m.predict(tf.tensor3d(x, [B, T, I])) as tf.Tensor).dataSync()));
    imp.dispose();
    m.dispose();
  });

  it('refuses what it cannot represent, naming it', async () => {
    const m = tf.sequential();
    m.add(tf.layers.lstm({ units: 2, inputShape: [3, 2] })); // tfjs default recurrentActivation: hardSigmoid
    const art = (await saveArtifacts(m)) as KerasSource;
    expect(() => importKeras(art)).toThrow(/recurrent_activation sigmoid.*hard_sigmoid/);
    const c = tf.sequential();
    c.add(tf.layers.conv1d({ filters: 2, kernelSize: 1, inputShape: [3, 2] }));
    const cart = (await saveArtifacts(c)) as KerasSource;
    expect(() => importKeras(cart)).toThrow(/unsupported layer 0 .*Conv1D/);
    m.dispose();
    c.dispose();
  });
});

describe('hand-written Keras model.json: GRU reset_after=True', () => {
  // Keras 2 (Python) layout: model_config wrapper, names with a cell scope and ":0"
  const T = 5, B = 3, I = 3, H = 4;
  const kernel = randArray(I * 3 * H, 11, 0.7); // (I, 3H) z,r,h
  const rk = randArray(H * 3 * H, 12, 0.7); // (H, 3H)
  const bias = randArray(2 * 3 * H, 13, 0.5); // (2, 3H): input, recurrent
  const dk = randArray(H * 2, 14);
  const db = randArray(2, 15);
  const specs: KerasWeightSpec[] = [
    { name: 'gru/gru_cell/kernel:0', shape: [I, 3 * H], dtype: 'float32' },
    { name: 'gru/gru_cell/recurrent_kernel:0', shape: [H, 3 * H], dtype: 'float32' },
    { name: 'gru/gru_cell/bias:0', shape: [2, 3 * H], dtype: 'float32' },
    { name: 'time_distributed/kernel:0', shape: [H, 2], dtype: 'float32' },
    { name: 'time_distributed/bias:0', shape: [2], dtype: 'float32' },
  ];
  const weightData = new Uint8Array(new Float32Array([...kernel, ...rk, ...bias, ...dk, ...db]).buffer);
  const topology = {
    keras_version: '2.15.0',
    backend: 'tensorflow',
    model_config: {
      class_name: 'Sequential',
      config: {
        name: 'sequential',
        layers: [
          { class_name: 'InputLayer', config: { batch_input_shape: [null, T, I], dtype: 'float32', name: 'input_1' } },
          { class_name: 'GRU', config: { name: 'gru', units: H, activation: 'tanh', recurrent_activation: 'sigmoid', use_bias: true, return_sequences: true, reset_after: true } },
          { class_name: 'TimeDistributed', config: { name: 'time_distributed', layer: { class_name: 'Dense', config: { name: 'dense', units: 2, activation: 'linear', use_bias: true } } } },
        ],
      },
    },
  };

  it('matches ONNX Runtime GRU (linear_before_reset=1) fed the Keras tensors directly', async () => {
    const imp = importKeras({ modelTopology: topology, weightSpecs: specs, weightData });
    // the oracle: Keras z,r,h is ONNX's gate order; W = kernelᵀ, R = recurrent_kernelᵀ, B = [b_input | b_recurrent]
    const tr = (a: Float32Array, r: number, c: number) => {
      const o = new Float32Array(a.length);
      for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) o[j * r + i] = a[i * c + j];
      return o;
    };
    const ft = (name: string, dims: number[], d: Float32Array): proto.ITensorProto => ({ name, dims, dataType: 1, rawData: new Uint8Array(d.slice().buffer) });
    const vi = (name: string, dims: number[]) => ({ name, type: { tensorType: { elemType: 1, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });
    const bytes = onnx.ModelProto.encode(onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 14 }],
      graph: {
        name: 'keras_gru',
        node: [{ opType: 'GRU', input: ['X', 'W', 'R', 'B'], output: ['Y'], attribute: [{ name: 'hidden_size', type: 2, i: H }, { name: 'linear_before_reset', type: 2, i: 1 }] }],
        initializer: [ft('W', [1, 3 * H, I], tr(kernel, I, 3 * H)), ft('R', [1, 3 * H, H], tr(rk, H, 3 * H)), ft('B', [1, 6 * H], bias)],
        input: [vi('X', [T, B, I])],
        output: [vi('Y', [T, 1, B, H])],
      },
    })).finish();
    const xs = randArray(T * B * I, 16, 1.5); // time-major for ORT
    const s = await ort.InferenceSession.create(bytes);
    const y = (await s.run({ X: new ort.Tensor('float32', xs, [T, B, I]) })).Y.data as Float32Array;
    await s.release();
    // the dense head in f64 on ORT's hidden states, then compare batch-first outputs
    const want = new Float32Array(B * T * 2);
    for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) for (let o = 0; o < 2; o++) {
      let acc = db[o];
      for (let j = 0; j < H; j++) acc += y[(t * B + b) * H + j] * dk[j * 2 + o];
      want[(b * T + t) * 2 + o] = acc;
    }
    const xb = new Float32Array(B * T * I);
    for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) xb.set(xs.subarray((t * B + b) * I, (t * B + b + 1) * I), (b * T + t) * I);
    const got = imp.predict(tensor(xb, [B, T, I]));
    record('Keras GRU reset_after=True vs ORT', maxAbsDiff(got.data, want));
    expect(imp.model.getParameter('0.bias_hh_l0').some((v) => v !== 0)).toBe(true);
    imp.dispose();
  });

  it('dequantizes uint8 and float16 weights from the manifest', () => {
    const q = Uint8Array.from({ length: H * 2 }, (_, i) => (i * 37) % 256);
    const scale = 0.01, min = -1.2;
    const half = new Uint16Array([0x3c00, 0xb800]); // 1, -0.5
    const bytes = new Uint8Array(4 * (kernel.length + rk.length + bias.length) + q.length + 4);
    bytes.set(new Uint8Array(new Float32Array([...kernel, ...rk, ...bias]).buffer));
    bytes.set(q, 4 * (kernel.length + rk.length + bias.length));
    bytes.set(new Uint8Array(half.buffer), bytes.length - 4);
    const qspecs: KerasWeightSpec[] = specs.map((sp) =>
      sp.name.startsWith('time_distributed/kernel') ? { ...sp, quantization: { dtype: 'uint8', scale, min } }
        : sp.name.startsWith('time_distributed/bias') ? { ...sp, quantization: { dtype: 'float16' } } : sp);
    const imp = importKeras({ modelTopology: topology, weightSpecs: qspecs, weightData: bytes });
    const w = imp.model.getParameter('1.weight'); // (2, H) = kernelᵀ
    const deq = Float32Array.from(q, (v) => v * scale + min);
    for (let j = 0; j < H; j++) for (let o = 0; o < 2; o++) expect(w[o * H + j]).toBe(deq[j * 2 + o]);
    expect(Array.from(imp.model.getParameter('1.bias'))).toEqual([1, -0.5]);
    imp.dispose();
  });

  it('names shape and layout problems', () => {
    const badBias = specs.map((s) => (s.name.endsWith('gru_cell/bias:0') ? { ...s, shape: [6 * H] } : s));
    expect(() => importKeras({ modelTopology: topology, weightSpecs: badBias, weightData })).toThrow(/reset_after=True.*\[2, 12\]/);
    expect(() => importKeras({ modelTopology: topology, weightSpecs: specs, weightData: weightData.slice(0, 40) })).toThrow(FormatError);
    const imp = importKeras({ modelTopology: topology, weightSpecs: specs, weightData });
    void imp;
    imp.dispose();
    // Masking with a hole in the middle of a row
    const masked = JSON.parse(JSON.stringify(topology));
    masked.model_config.config.layers.splice(1, 0, { class_name: 'Masking', config: { name: 'masking', mask_value: 0 } });
    const mi = importKeras({ modelTopology: masked, weightSpecs: specs, weightData });
    const x = randArray(1 * T * I, 3);
    x.fill(0, 1 * I, 2 * I); // step 1 masked, step 2 not
    expect(() => mi.predict(tensor(x, [1, T, I]))).toThrow(ValueError);
    expect(() => mi.predict(tensor(x, [1, T, I]))).toThrow(/row 0 unmasked at step 2/);
    mi.dispose();
  });
});
