// Hostile imports (issue 13): PyTorch architectures and safetensors metadata held to the limits
// before anything is built, tensors named like Object's own properties reported by name, Keras
// graphs that loop refused, malformed manifests and ONNX dims/perm refused as FormatError.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  init, GRU, LSTM, RNN, Sequential, layers, serialize, convert, importModel, importTorch, importKeras, readSafetensors,
  writeSafetensors, toOnnx, fromOnnx, FormatError, ValueError,
} from '../../src/index';
import { rewriteSafetensors } from './fuzz/readers.mjs';
import { parseProto, encodeProto, packVarints, unpackVarints, type ProtoField } from './fuzz/mutate.mjs';

beforeAll(async () => {
  await init();
});

function wasmBytes(): number {
  const m = new RNN({ inputSize: 1, hiddenSize: 1 });
  const n = m.runner.rt.heap.byteLength;
  m.dispose();
  return n;
}
function rejects(fn: () => unknown, cls: typeof FormatError | typeof ValueError, re: RegExp): void {
  const before = wasmBytes();
  const t0 = performance.now();
  expect(fn).toThrow(cls);
  expect(fn).toThrow(re);
  expect(performance.now() - t0).toBeLessThan(1000);
  expect(wasmBytes()).toBe(before);
}

describe('PyTorch architectures and safetensors metadata', () => {
  it('importTorch with num_layers 1e7 or 1e5 modules: ValueError naming limits.maxLayers, nothing built', () => {
    rejects(() => importTorch({}, { modules: [{ type: 'LSTM', input_size: 2, hidden_size: 2, num_layers: 1e7 }] }), ValueError, /limits\.maxLayers = 4096, got 10000000/);
    const many = Array.from({ length: 1e5 }, () => ({ type: 'Dropout' as const }));
    rejects(() => importTorch({}, { modules: many }), ValueError, /limits\.maxLayers = 4096, got 100000/);
  });

  it('limits.maxLayers counts each recurrent layer once per direction', () => {
    const gru = (bidirectional: boolean) => ({ modules: [{ type: 'GRU' as const, input_size: 1, hidden_size: 1, num_layers: 2049, bidirectional }] });
    rejects(() => importTorch({}, gru(true)), ValueError, /limits\.maxLayers = 4096, got 4098/);
    rejects(() => importTorch({}, gru(false)), FormatError, /state_dict key 0\.weight_ih_l0/);
  });

  it('a NaN in a state dict is a FormatError naming the key, before the model is built', () => {
    const w = new Float32Array(2).fill(0.5);
    w[1] = NaN;
    rejects(() => importTorch({ '0.weight': { data: w, shape: [1, 2] }, '0.bias': new Float32Array(1) }, { modules: [{ type: 'Linear', in_features: 2, out_features: 1 }] }), FormatError, /finite values in 0\.weight, got NaN at element 1/);
  });

  it('importTorch with hidden_size 15000 and a tiny state dict: refused by limits.maxParameters before allocation', () => {
    rejects(() => importTorch({ weight_ih_l0: new Float32Array(4) }, { modules: [{ type: 'LSTM', name: '', input_size: 2, hidden_size: 15000 }] }), ValueError, /limits\.maxParameters/);
  });

  it('importTorch({ modules: [null] }) and a null state dict entry are ValueErrors naming the argument', () => {
    rejects(() => importTorch({}, { modules: [null as never] }), ValueError, /modules\[0\] to be a module object/);
    rejects(() => importTorch({ w: null as never }, { modules: [{ type: 'Linear', in_features: 1, out_features: 1 }] }), ValueError, /state dict entry w/);
  });

  it('a state dict that does not match the architecture is refused before the model is built', () => {
    // 2000 hidden units would take 48 MB of wasm memory; the missing key is found first
    rejects(() => importTorch({ 'rnn.weight_ih_l0': new Float32Array(4) }, { modules: [{ type: 'GRU', name: 'rnn', input_size: 2, hidden_size: 2000 }] }), FormatError, /Expected rnn\.weight_ih_l0 of shape \[6000, 2\], got \[4\]/);
  });

  it('safetensors metadata with numLayers 1e7 (convert): FormatError naming limits.maxLayers', () => {
    const m = new GRU({ inputSize: 2, hiddenSize: 2 });
    const st = convert(serialize(m), { from: 'rnnw', to: 'safetensors' });
    m.dispose();
    const bad = rewriteSafetensors(st, (h) => {
      const spec = JSON.parse(h.__metadata__['rnn-wasm.model']);
      spec.config.numLayers = 1e7;
      h.__metadata__['rnn-wasm.model'] = JSON.stringify(spec);
    });
    rejects(() => convert(bad, { from: 'auto', to: 'rnnw' }), FormatError, /limits\.maxLayers = 4096, got 10000000/);
  });

  it('a tensor named __proto__ or constructor is kept by readSafetensors and reported unused by importTorch', () => {
    const m = new RNN({ inputSize: 2, hiddenSize: 2 });
    const sd: Record<string, { data: Float32Array; shape: number[] }> = {};
    for (const p of m.parameters()) sd[p.name] = { data: m.getParameter(p.name), shape: [...p.shape] };
    for (const name of ['__proto__', 'constructor']) {
      const file = rewriteSafetensors(writeSafetensors(sd), (h) => {
        const out = {};
        for (const [k, v] of Object.entries(h)) Object.defineProperty(out, k, { value: v, enumerable: true });
        Object.defineProperty(out, name, { value: { dtype: 'F32', shape: [0], data_offsets: [0, 0] }, enumerable: true });
        return out;
      });
      const { tensors } = readSafetensors(file);
      expect(Object.keys(tensors)).toContain(name);
      expect(tensors[name].shape).toEqual([0]);
      expect(() => importTorch(file, m)).toThrow(new RegExp(`got unused ${name}$`));
    }
    m.dispose();
  });
});

/** A Keras functional model.json (Input → GRU → Dense) and its weights. */
function functional(edit?: (layers: any[]) => void) {
  const layers = [
    { class_name: 'InputLayer', name: 'in', config: { name: 'in', batch_input_shape: [null, null, 2] }, inbound_nodes: [] },
    { class_name: 'GRU', name: 'a', config: { name: 'a', units: 2, recurrent_activation: 'sigmoid', return_sequences: true }, inbound_nodes: [[['in', 0, 0, {}]]] },
    { class_name: 'Dense', name: 'b', config: { name: 'b', units: 2 }, inbound_nodes: [[['a', 0, 0, {}]]] },
  ];
  edit?.(layers);
  const w = (name: string, shape: number[]) => ({ name, shape, dtype: 'float32' });
  const weights = [w('a/kernel', [2, 6]), w('a/recurrent_kernel', [2, 6]), w('a/bias', [2, 6]), w('b/kernel', [2, 2]), w('b/bias', [2])];
  const modelJson = {
    modelTopology: { keras_version: '2.15.0', model_config: { class_name: 'Functional', config: { layers, input_layers: [['in', 0, 0]], output_layers: [['b', 0, 0]] } } },
    weightsManifest: [{ paths: ['w.bin'], weights }],
  };
  return { modelJson, weights: { 'w.bin': new Uint8Array(4 * (12 + 12 + 12 + 4 + 2)) } };
}

describe('Keras / TF.js', () => {
  it('the functional fixture imports (so the cases below fail for the reason they name)', () => {
    importKeras(functional()).dispose();
  });

  it('a NaN weight is a FormatError naming the weight, before a layer is built', () => {
    const src = functional();
    new DataView(src.weights['w.bin'].buffer).setFloat32(4 * 36 + 8, NaN, true); // b/kernel[2]
    rejects(() => importKeras(src), FormatError, /finite values in weight b\/kernel, got NaN at element 2/);
  });

  it('a layer listing itself as its input is a FormatError, not an endless walk', () => {
    const src = functional((l) => {
      l[0].inbound_nodes = [[['in', 0, 0, {}]]];
      l[1].inbound_nodes = [];
    });
    rejects(() => importKeras(src), FormatError, /without cycles, got layer in reached twice/);
  });

  it('a → b → a (a second layer named a fed by b) is a FormatError, not an endless walk', () => {
    const src = functional((l) => {
      l.push({ class_name: 'Dense', name: 'a', config: { name: 'a', units: 2 }, inbound_nodes: [[['b', 0, 0, {}]]] });
    });
    src.modelJson.modelTopology.model_config.config.output_layers = [['out', 0, 0]];
    rejects(() => importKeras(src), FormatError, /without cycles, got layer b reached twice/);
  });

  it('null manifest entries, null weight specs, negative and fractional shapes are FormatErrors naming them', () => {
    const cases: [(j: any) => void, RegExp][] = [
      [(j) => void (j.weightsManifest = [null]), /weightsManifest\[0\]/],
      [(j) => void (j.weightsManifest[0].weights[1] = null), /weight spec 1/],
      [(j) => void (j.weightsManifest[0].weights[0].shape = [-2, -6]), /a\/kernel's shape to be non-negative integers, got \[-2,-6\]/],
      [(j) => void (j.weightsManifest[0].weights[0].shape = [1e9, 1e9]), /bytes of weight data up to a\/kernel/],
      [(j) => void (j.weightsManifest[0].weights[0].quantization = { dtype: '__proto__' }), /quantization dtype/],
      [(j) => void (j.modelTopology.model_config.config.layers[1] = null), /layers\[1\] to be \{ class_name, config \}/],
      [(j) => void (j.modelTopology.model_config.config.layers[1].config.units = -3), /layer 1 a \(GRU\)/],
      [(j) => void (j.weightsManifest[0].weights[3].quantization = { dtype: 'uint8', scale: 'x' }), /quantization scale to be a finite number/],
    ];
    for (const [edit, re] of cases) {
      const src = functional();
      edit(src.modelJson);
      rejects(() => importKeras(src), FormatError, re);
    }
  });
});

/** Fields of a message with a given field number (protobuf wire format). */
const fieldsOf = (msg: ProtoField[], n: number) => msg.filter((f) => f.tag >> 3n === BigInt(n));
/** Sets a repeated int64 field (packed, as the exporter writes it) to values. */
const setInts = (msg: ProtoField[], n: number, values: (number | bigint)[]) => {
  const f = fieldsOf(msg, n)[0];
  expect(unpackVarints(f.v as Uint8Array)!.length).toBe(values.length);
  f.v = packVarints(values);
};

describe('ONNX', () => {
  /** Edits the model's graph (ModelProto field 7) and re-encodes it. */
  function editGraph(bytes: Uint8Array, edit: (graph: ProtoField[]) => void): Uint8Array {
    const model = parseProto(bytes) as ProtoField[];
    edit(fieldsOf(model, 7)[0].v as ProtoField[]);
    return encodeProto(model);
  }
  /** Sets the dims (TensorProto field 1) of initializer k (GraphProto field 5). */
  const setDims = (graph: ProtoField[], k: number, dims: (number | bigint)[]) => setInts(fieldsOf(graph, 5)[k].v as ProtoField[], 1, dims);

  it('negative or huge tensor dims are FormatErrors naming the tensor, before an array is made', () => {
    const m = new LSTM({ inputSize: 2, hiddenSize: 2 });
    const bytes = toOnnx(m);
    m.dispose();
    fromOnnx(editGraph(bytes, () => undefined)).model.dispose(); // the unedited re-encoding imports
    rejects(() => fromOnnx(editGraph(bytes, (g) => setDims(g, 0, [1, -8, 2]))), FormatError, /dims to be non-negative integers, got \[1, -8, 2\]/);
    rejects(() => fromOnnx(editGraph(bytes, (g) => setDims(g, 0, [1n << 40n, 1n << 40n, 1n << 40n]))), FormatError, /at most limits\.maxParameters/);
  });

  it('a NaN in an initializer is a FormatError naming it, before the model is built', () => {
    const m = new LSTM({ inputSize: 2, hiddenSize: 2 });
    const bytes = toOnnx(m);
    m.dispose();
    const nan = editGraph(bytes, (g) => {
      const raw = fieldsOf(fieldsOf(g, 5)[1].v as ProtoField[], 9)[0].v as Uint8Array; // R's raw_data
      new DataView(raw.buffer, raw.byteOffset).setFloat32(4, NaN, true);
    });
    rejects(() => fromOnnx(nan), FormatError, /finite values in 0\.weight_hh_l0, got NaN/);
  });

  it('a Transpose perm that is not a permutation is a FormatError naming it', () => {
    const m = new GRU({ inputSize: 2, hiddenSize: 2, batchFirst: true });
    const bytes = toOnnx(m);
    m.dispose();
    const perm = (values: number[]) => editGraph(bytes, (g) => {
      const node = fieldsOf(g, 1).map((f) => f.v as ProtoField[]).find((n) => new TextDecoder().decode(fieldsOf(n, 4)[0].v as Uint8Array) === 'Transpose')!;
      setInts(fieldsOf(node, 5)[0].v as ProtoField[], 8, values);
    });
    fromOnnx(perm([1, 0, 2])).model.dispose();
    rejects(() => fromOnnx(perm([5, 0, 1])), FormatError, /permutation of 3 axes .* got \[5, 0, 1\]/);
    rejects(() => fromOnnx(perm([0, 0, 1])), FormatError, /permutation of 3 axes/);
    rejects(() => fromOnnx(perm([-1, 0, 1])), FormatError, /permutation of 3 axes/);
  });
});
