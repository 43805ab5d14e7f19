// The readers under fuzz, their valid seed inputs, and how a case is made from (reader, seed,
// index): a seed input picked and damaged by the mutators. `R` is the library (dist/index.js).
import { rng, mutateBytes, mutateJson, mutateVarint } from './mutate.mjs';

const enc = new TextEncoder();
const dec = new TextDecoder();

// ---- the model file: header JSON mutated with lengths, padding and CRC fixed ----
const CRC = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(b) {
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = CRC[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
/** A model file with its header replaced and its lengths and checksum made valid again. */
export function rewriteModelFile(bytes, edit) {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const jlen = v.getUint32(12, true);
  const header = JSON.parse(dec.decode(bytes.subarray(16, 16 + jlen)));
  const json = enc.encode(typeof edit === 'function' ? JSON.stringify(edit(header) ?? header) : edit);
  const hlen = Math.ceil(json.length / 4) * 4;
  const body = bytes.subarray(16 + Math.ceil(jlen / 4) * 4, bytes.length - 4);
  const out = new Uint8Array(16 + hlen + body.length + 4);
  out.set(bytes.subarray(0, 16));
  const ov = new DataView(out.buffer);
  ov.setUint32(12, json.length, true);
  out.set(json, 16);
  out.fill(0x20, 16 + json.length, 16 + hlen);
  out.set(body, 16 + hlen);
  ov.setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
  return out;
}

// ---- safetensors: header JSON mutated with its length fixed ----
export function rewriteSafetensors(bytes, edit) {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = v.getUint32(0, true);
  const header = JSON.parse(dec.decode(bytes.subarray(8, 8 + n)));
  const json = enc.encode(JSON.stringify(edit(header) ?? header));
  const out = new Uint8Array(8 + json.length + bytes.length - 8 - n);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  out.set(bytes.subarray(8 + n), 8 + json.length);
  return out;
}

// ---- Keras: a Sequential and a functional model.json, written by hand in Keras 2's form ----
function kerasSeed(kind, r) {
  const w = (name, shape) => ({ name, shape, dtype: 'float32' });
  let layers;
  let weights;
  if (kind === 'sequential') {
    layers = [
      { class_name: 'LSTM', config: { name: 'lstm', units: 3, return_sequences: true, recurrent_activation: 'sigmoid', batch_input_shape: [null, null, 2] } },
      { class_name: 'Dense', config: { name: 'dense', units: 2, activation: 'softmax' } },
    ];
    weights = [w('lstm/kernel', [2, 12]), w('lstm/recurrent_kernel', [3, 12]), w('lstm/bias', [12]), w('dense/kernel', [3, 2]), w('dense/bias', [2])];
  } else {
    layers = [
      { class_name: 'InputLayer', name: 'in', config: { name: 'in', batch_input_shape: [null, null, 2] }, inbound_nodes: [] },
      { class_name: 'GRU', name: 'gru', config: { name: 'gru', units: 3, reset_after: true, return_sequences: true, recurrent_activation: 'sigmoid' }, inbound_nodes: [[['in', 0, 0, {}]]] },
      { class_name: 'Bidirectional', name: 'bi', config: { name: 'bi', merge_mode: 'sum', layer: { class_name: 'SimpleRNN', config: { name: 'rnn', units: 2, return_sequences: false } } }, inbound_nodes: [[['gru', 0, 0, {}]]] },
      { class_name: 'Dense', name: 'out', config: { name: 'out', units: 2 }, inbound_nodes: [[['bi', 0, 0, {}]]] },
    ];
    weights = [
      w('gru/kernel', [2, 9]), w('gru/recurrent_kernel', [3, 9]), w('gru/bias', [2, 9]),
      w('bi/forward_rnn/kernel', [3, 2]), w('bi/forward_rnn/recurrent_kernel', [2, 2]), w('bi/forward_rnn/bias', [2]),
      w('bi/backward_rnn/kernel', [3, 2]), w('bi/backward_rnn/recurrent_kernel', [2, 2]), w('bi/backward_rnn/bias', [2]),
      w('out/kernel', [2, 2]), w('out/bias', [2]),
    ];
  }
  const cls = kind === 'sequential' ? 'Sequential' : 'Functional';
  const config = kind === 'sequential' ? { name: 'm', layers } : { name: 'm', layers, input_layers: [['in', 0, 0]], output_layers: [['out', 0, 0]] };
  const modelJson = {
    format: 'layers-model',
    modelTopology: { keras_version: '2.15.0', backend: 'tensorflow', model_config: { class_name: cls, config } },
    weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights }],
  };
  const n = weights.reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1), 0);
  const data = new Float32Array(n).map(() => r() - 0.5);
  return { modelJson, weights: { 'group1-shard1of1.bin': new Uint8Array(data.buffer) } };
}

/** A functional model whose layers loop: one fed by itself, or a later layer feeding an earlier one. */
function addCycle(modelJson, r) {
  const layers = modelJson.modelTopology.model_config.config.layers;
  if (!layers[0]?.inbound_nodes) return;
  const k = 1 + r.int(layers.length - 1);
  const j = k + r.int(layers.length - k);
  layers[k].inbound_nodes = [[[layers[j].name, 0, 0, {}]]];
}

/**
 * The readers: name → { seeds(R, r): inputs, mutate(seed, r, all): input, run(R, input): result to dispose }.
 */
export const READERS = {
  rnnw: {
    seeds(R) {
      const a = new R.Sequential([R.layers.embedding({ numEmbeddings: 5, embeddingDim: 3 }), R.layers.gru({ inputSize: 3, hiddenSize: 2, numLayers: 2, bidirectional: true }), R.layers.linear({ inFeatures: 4, outFeatures: 5 }), R.layers.logSoftmax()], { seed: 1 });
      const b = new R.LSTM({ inputSize: 2, hiddenSize: 3, peepholes: true });
      const opt = new R.Adam({ lr: 0.01 });
      b.trainStep({ x: R.tensor(new Float32Array(2 * 1 * 2).fill(0.5), [2, 1, 2]), y: R.tensor(new Float32Array(2 * 1 * 3).fill(0.1), [2, 1, 3]) }, { loss: 'mse', optimizer: opt });
      const out = [R.serialize(a, { vocabulary: ['a', 'b', 'c', 'd', 'e'], metadata: { epoch: 1 } }), R.serialize(b, { optimizer: opt })];
      a.dispose();
      b.dispose();
      return out;
    },
    mutate(seed, r, all) {
      if (r() < 0.5) return rewriteModelFile(seed, (h) => mutateJson(h, r));
      return mutateBytes(seed, r, r.pick(all));
    },
    run(R, input) {
      const l = R.deserialize(input);
      return () => {
        l.optimizer?.dispose();
        l.model.dispose();
      };
    },
  },
  safetensors: {
    seeds(R) {
      const a = new R.Sequential([R.layers.lstm({ inputSize: 2, hiddenSize: 3, numLayers: 2 }), R.layers.linear({ inFeatures: 3, outFeatures: 2 })], { seed: 2 });
      const b = new R.GRU({ inputSize: 2, hiddenSize: 2, bidirectional: true });
      const out = [a, b].map((m) => R.convert(R.serialize(m), { from: 'rnnw', to: 'safetensors' }));
      a.dispose();
      b.dispose();
      return out;
    },
    mutate(seed, r, all) {
      const p = r();
      if (p < 0.3) {
        // the architecture inside __metadata__ (itself JSON) mutated
        return rewriteSafetensors(seed, (h) => {
          const md = h.__metadata__;
          md['rnn-wasm.model'] = JSON.stringify(mutateJson(JSON.parse(md['rnn-wasm.model']), r));
        });
      }
      if (p < 0.4) {
        // a tensor renamed to a name an object inherits
        return rewriteSafetensors(seed, (h) => {
          const names = Object.keys(h).filter((k) => k !== '__metadata__');
          const from = r.pick(names);
          const to = r.pick(['__proto__', 'constructor', 'toString', 'hasOwnProperty']);
          const out = {};
          for (const [k, v] of Object.entries(h)) Object.defineProperty(out, k === from ? to : k, { value: v, enumerable: true, writable: true, configurable: true });
          return out;
        });
      }
      if (p < 0.7) return rewriteSafetensors(seed, (h) => mutateJson(h, r));
      return mutateBytes(seed, r, r.pick(all));
    },
    run(R, input) {
      const { model } = R.importModel(input, { from: 'safetensors' });
      return () => model.dispose();
    },
  },
  keras: {
    seeds(R, r) {
      return ['sequential', 'functional'].map((k) => kerasSeed(k, r));
    },
    mutate(seed, r) {
      const modelJson = structuredClone(seed.modelJson);
      let shard = seed.weights['group1-shard1of1.bin'];
      const p = r();
      if (p < 0.15) addCycle(modelJson, r);
      else if (p < 0.65) mutateJson(modelJson, r);
      else if (p < 0.85) shard = mutateBytes(shard, r);
      else return { modelJson: dec.decode(mutateBytes(enc.encode(JSON.stringify(modelJson)), r)), weights: { 'group1-shard1of1.bin': shard } };
      return { modelJson: JSON.stringify(modelJson), weights: { 'group1-shard1of1.bin': shard } };
    },
    run(R, input) {
      const imp = R.importKeras(input);
      return () => imp.dispose();
    },
  },
  onnx: {
    seeds(R) {
      const ms = [
        new R.Sequential([R.layers.embedding({ numEmbeddings: 6, embeddingDim: 3 }), R.layers.lstm({ inputSize: 3, hiddenSize: 2, bidirectional: true }), R.layers.linear({ inFeatures: 4, outFeatures: 6 }), R.layers.softmax()], { seed: 3 }),
        new R.GRU({ inputSize: 2, hiddenSize: 3, numLayers: 2, batchFirst: true }),
        new R.RNN({ inputSize: 3, hiddenSize: 2 }),
      ];
      const out = ms.map((m) => R.toOnnx(m));
      ms.forEach((m) => m.dispose());
      return out;
    },
    mutate(seed, r, all) {
      return r() < 0.6 ? mutateVarint(seed, r) : mutateBytes(seed, r, r.pick(all));
    },
    run(R, input) {
      const { model } = R.fromOnnx(input);
      return () => model.dispose();
    },
  },
};

/** Case `index` of a run: its input, made from the seeds by the mutators (deterministic). */
export function makeCase(reader, seeds, seed, index) {
  const r = rng((seed * 0x9e3779b1 + index * 0x85ebca6b + reader.length) >>> 0);
  return READERS[reader].mutate(r.pick(seeds), r, seeds);
}
