// safetensors and PyTorch state_dicts: files written here in PyTorch's layout (by an independent
// writer in this test) import to the right slots — checked by running the same tensors through the
// oracle's ONNX graph in onnxruntime-node, whose gate-order conversion is its own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import {
  init, importTorch, readSafetensors, writeSafetensors, modelToSafetensors, Sequential, layers, LSTM, tensor, Tensor, FormatError,
  type TorchArchitecture,
} from '../../src/index';
import { buildOnnxModel } from '../oracle/onnx';
import { config, paramShapes, randomParams, type RnnConfig, type Params } from '../oracle/spec';
import { randArray, maxAbsDiff } from '../model/helpers';

beforeAll(async () => {
  await init();
});

type Dtype = 'F32' | 'F16' | 'BF16' | 'F64';
/** An independent safetensors writer (as the Python library lays files out). */
function torchFile(tensors: Record<string, { shape: number[]; data: Float32Array }>, dtype: Dtype = 'F32', meta?: Record<string, string>): Uint8Array {
  const size = { F32: 4, F16: 2, BF16: 2, F64: 8 }[dtype];
  const header: Record<string, unknown> = meta ? { __metadata__: meta } : {};
  let off = 0;
  // store in reverse name order: readers must use the offsets, not the order
  const names = Object.keys(tensors).sort().reverse();
  for (const n of names) {
    const len = tensors[n].data.length * size;
    header[n] = { dtype, shape: tensors[n].shape, data_offsets: [off, off + len] };
    off += len;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + off);
  const v = new DataView(out.buffer);
  v.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let p = 8 + json.length;
  for (const n of names) {
    for (const x of tensors[n].data) {
      if (dtype === 'F32') v.setFloat32(p, x, true);
      else if (dtype === 'F64') v.setFloat64(p, x, true);
      else if (dtype === 'BF16') v.setUint16(p, new Uint32Array(new Float32Array([x]).buffer)[0] >>> 16, true);
      else v.setUint16(p, toHalf(x), true);
      p += size;
    }
  }
  return out;
}
/** float → IEEE half (round to nearest; the test values are in the normal range). */
function toHalf(x: number): number {
  const s = x < 0 ? 0x8000 : 0;
  x = Math.abs(x);
  if (x === 0) return s;
  let e = Math.floor(Math.log2(x));
  let m = Math.round((x / 2 ** e - 1) * 1024);
  if (m === 1024) {
    m = 0;
    e++;
  }
  return s | ((e + 15) << 10) | m;
}

function stateDictOf(c: RnnConfig, p: Params, prefix = ''): Record<string, { shape: number[]; data: Float32Array }> {
  const out: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const { name, shape } of paramShapes(c)) out[prefix + name] = { shape, data: p[name] };
  return out;
}

async function ortRun(c: RnnConfig, p: Params, x: Float32Array, T: number, B: number, lens: Int32Array) {
  const bytes = buildOnnxModel(c, p, { T, B, lengths: true, h0: false, c0: false });
  const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  try {
    return await s.run({ X: new ort.Tensor('float32', x, [T, B, c.inputSize]), sequence_lens: new ort.Tensor('int32', lens, [B]) });
  } finally {
    await s.release();
  }
}

const seen: Record<string, number> = {};
// observed maxima, printed once (the numbers quoted in reports)
afterAll(() => console.log('max |diff|', JSON.stringify(seen)));
function record(name: string, d: number, tol: number) {
  seen[name] = Math.max(seen[name] ?? 0, d);
  expect(d, name).toBeLessThanOrEqual(tol);
}

describe('PyTorch state_dicts in safetensors', () => {
  const cases: { c: RnnConfig; type: 'RNN' | 'LSTM' | 'GRU' }[] = [
    { type: 'LSTM', c: config({ mode: 'lstm', inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true }) },
    { type: 'GRU', c: config({ mode: 'gru', inputSize: 4, hiddenSize: 6, numLayers: 2, resetAfter: true }) },
    { type: 'RNN', c: config({ mode: 'rnn', inputSize: 2, hiddenSize: 7, bidirectional: true, nonlinearity: 'relu', bias: false }) },
  ];
  for (const { c, type } of cases) {
    for (const batchFirst of [false, true]) {
      it(`nn.${type} (num_layers ${c.numLayers}, bidirectional ${c.bidirectional}, batch_first ${batchFirst}) matches ONNX Runtime`, async () => {
        const p = randomParams(c, 31);
        const file = torchFile(stateDictOf(c, p, 'rnn.'), 'F32', { format: 'pt' });
        const arch: TorchArchitecture = {
          modules: [{
            name: 'rnn', type, input_size: c.inputSize, hidden_size: c.hiddenSize, num_layers: c.numLayers, bidirectional: c.bidirectional,
            bias: c.bias, batch_first: batchFirst, ...(type === 'RNN' ? { nonlinearity: c.nonlinearity } : {}),
          } as TorchArchitecture['modules'][number]],
        };
        const m = importTorch(file, arch);
        const T = 6, B = 3;
        const lens = new Int32Array([6, 2, 4]);
        const x = randArray(T * B * c.inputSize, 32, 1.5);
        const want = await ortRun(c, p, x, T, B, lens);
        // batch_first: feed (B, T, I) and read (B, T, ·) back time-major
        const xin = batchFirst ? swap(x, T, B, c.inputSize) : x;
        const r = m.forward(tensor(xin, batchFirst ? [B, T, c.inputSize] : [T, B, c.inputSize]), { lengths: lens });
        const outF = r.output.shape[2];
        const out = batchFirst ? swap(r.output.data, B, T, outF) : r.output.data;
        record('safetensors → ours vs ORT (output)', maxAbsDiff(out, want.Y.data as Float32Array), 1e-5);
        record('safetensors → ours vs ORT (h_n)', maxAbsDiff(r.hN.data, want.Y_h.data as Float32Array), 1e-5);
        m.dispose();
      });
    }
  }

  it('a Sequential of nn.Embedding → nn.LSTM → nn.Linear maps every key to its slot; F16/BF16/F64 convert', async () => {
    const c = config({ mode: 'lstm', inputSize: 4, hiddenSize: 5, numLayers: 2 });
    const p = randomParams(c, 41);
    const emb = randArray(9 * 4, 42);
    const fcw = randArray(3 * 5, 43);
    const fcb = randArray(3, 44);
    const sd = { ...stateDictOf(c, p, 'lstm.'), 'emb.weight': { shape: [9, 4], data: emb }, 'fc.weight': { shape: [3, 5], data: fcw }, 'fc.bias': { shape: [3], data: fcb } };
    const arch: TorchArchitecture = {
      modules: [
        { name: 'emb', type: 'Embedding', num_embeddings: 9, embedding_dim: 4 },
        { name: 'lstm', type: 'LSTM', input_size: 4, hidden_size: 5, num_layers: 2, batch_first: true },
        { name: 'fc', type: 'Linear', in_features: 5, out_features: 3 },
        { type: 'LogSoftmax', dim: -1 },
      ],
    };
    const exact = importTorch(torchFile(sd), arch) as Sequential;
    expect(exact.runner.batchFirst).toBe(true);
    const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
    expect(bits(exact.getParameter('0.weight'))).toEqual(bits(emb));
    expect(bits(exact.getParameter('2.weight'))).toEqual(bits(fcw));
    expect(bits(exact.getParameter('2.bias'))).toEqual(bits(fcb));
    for (const { name } of paramShapes(c)) expect(bits(exact.getParameter(`1.${name}`)), name).toEqual(bits(p[name]));
    // the recurrent slots run like ORT's LSTM on the embedded sequence
    const ids = new Int32Array([1, 5, 8, 0, 2, 2, 7, 3]); // (B=2, T=4)
    const xs = new Float32Array(4 * 2 * 4);
    for (let b = 0; b < 2; b++) for (let t = 0; t < 4; t++) xs.set(emb.subarray(ids[b * 4 + t] * 4, ids[b * 4 + t] * 4 + 4), (t * 2 + b) * 4);
    const want = await ortRun(c, p, xs, 4, 2, new Int32Array([4, 4]));
    const body = new Sequential([exact.layers[0], exact.layers[1]], { batchFirst: true });
    body.loadStateDict({ '0.weight': emb, ...Object.fromEntries(paramShapes(c).map(({ name }) => [`1.${name}`, p[name]])) });
    const got = body.forward(new Tensor(ids, [2, 4])).output.data;
    record('Sequential LSTM slots vs ORT', maxAbsDiff(swap(got, 2, 4, 5), want.Y.data as Float32Array), 1e-5);
    body.dispose();
    // reduced precisions convert on read
    for (const [dt, tol] of [['F64', 0], ['F16', 1e-3], ['BF16', 8e-3]] as const) {
      const m = importTorch(torchFile(sd, dt), arch);
      record(`${dt} conversion`, maxAbsDiff(m.getParameter('2.weight'), fcw), tol);
      m.dispose();
    }
    exact.dispose();
  });

  it('imports into a built model by prefixes, and our writer round-trips bit-exactly', () => {
    const m = new Sequential([layers.gru({ inputSize: 2, hiddenSize: 3 }), layers.linear({ inFeatures: 3, outFeatures: 2 })], { seed: 3 });
    const file = modelToSafetensors(m, { note: 'x' });
    const { tensors, metadata } = readSafetensors(file);
    expect(metadata).toEqual({ note: 'x' });
    expect(Object.keys(tensors)).toEqual(m.parameters().map((p) => p.name));
    const renamed = Object.fromEntries(Object.entries(tensors).map(([k, v]) => [k.replace(/^0\./, 'gru.').replace(/^1\./, 'head.'), v]));
    const other = new Sequential([layers.gru({ inputSize: 2, hiddenSize: 3 }), layers.linear({ inFeatures: 3, outFeatures: 2 })], { seed: 99 });
    importTorch(writeSafetensors(renamed), other, { prefixes: ['gru', 'head'] });
    for (const p of m.parameters()) expect(Array.from(other.getParameter(p.name))).toEqual(Array.from(m.getParameter(p.name)));
    m.dispose();
    other.dispose();
  });

  it('names what is wrong: missing key, wrong shape, unused key, unsupported module option', () => {
    const c = config({ mode: 'lstm', inputSize: 2, hiddenSize: 3 });
    const p = randomParams(c, 5);
    const arch: TorchArchitecture = { modules: [{ name: 'rnn', type: 'LSTM', input_size: 2, hidden_size: 3 }] };
    const sd = stateDictOf(c, p, 'rnn.');
    const { ['rnn.bias_hh_l0']: _gone, ...missing } = sd;
    void _gone;
    expect(() => importTorch(torchFile(missing), arch)).toThrow(/rnn\.bias_hh_l0/);
    expect(() => importTorch(torchFile({ ...sd, 'rnn.weight_hh_l0': { shape: [3, 12], data: p.weight_hh_l0 } }), arch)).toThrow(/weight_hh_l0 of shape \[12, 3\]/);
    expect(() => importTorch(torchFile({ ...sd, 'rnn.extra': { shape: [1], data: new Float32Array(1) } }), arch)).toThrow(/unused rnn\.extra/);
    expect(() => importTorch(torchFile(sd), { modules: [{ name: 'rnn', type: 'LSTM', input_size: 2, hidden_size: 3, proj_size: 2 }] })).toThrow(/proj_size/);
    // a built model is left untouched when the import fails
    const m = new LSTM({ inputSize: 2, hiddenSize: 3 });
    const before = m.getParameter('weight_ih_l0');
    expect(() => importTorch(torchFile(missing), m, { prefixes: ['rnn'] })).toThrow(FormatError);
    expect(Array.from(m.getParameter('weight_ih_l0'))).toEqual(Array.from(before));
    m.dispose();
  });
});

describe('safetensors validation', () => {
  const good = torchFile({ a: { shape: [2, 3], data: randArray(6, 1) }, b: { shape: [4], data: randArray(4, 2) } }, 'F32', { k: 'v' });

  it('reads what an independent writer wrote', () => {
    const { tensors, metadata } = readSafetensors(good);
    expect(metadata).toEqual({ k: 'v' });
    expect(tensors.a.shape).toEqual([2, 3]);
    expect(Array.from(tensors.b.data)).toEqual(Array.from(randArray(4, 2)));
  });

  it('a truncated file at every length gives a FormatError', () => {
    for (let n = 0; n < good.length; n++) expect(() => readSafetensors(good.slice(0, n)), `length ${n}`).toThrow(FormatError);
  });

  it('bad offsets, holes, overlaps, dtypes and header lengths are named', () => {
    const withHeader = (h: unknown, dataLen: number) => {
      const json = new TextEncoder().encode(JSON.stringify(h));
      const out = new Uint8Array(8 + json.length + dataLen);
      new DataView(out.buffer).setUint32(0, json.length, true);
      out.set(json, 8);
      return out;
    };
    expect(() => readSafetensors(withHeader({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, 4))).toThrow(/8 bytes for tensor a/);
    expect(() => readSafetensors(withHeader({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8))).toThrow(/hole/);
    expect(() => readSafetensors(withHeader({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8))).toThrow(/overlapping/);
    expect(() => readSafetensors(withHeader({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, 12))).toThrow(/extra bytes/);
    expect(() => readSafetensors(withHeader({ a: { dtype: 'Q4', shape: [1], data_offsets: [0, 1] } }, 1))).toThrow(/dtype/);
    expect(() => readSafetensors(withHeader({ a: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, 8))).toThrow(/float tensor.*I64/);
    expect(() => readSafetensors(withHeader({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 4))).toThrow(/shape/);
    const huge = good.slice();
    new DataView(huge.buffer).setUint32(4, 1, true); // header length ≥ 2^32
    expect(() => readSafetensors(huge)).toThrow(/header/);
  });
});

function swap(a: ArrayLike<number>, T: number, B: number, F: number): Float32Array {
  const out = new Float32Array(T * B * F);
  for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) for (let j = 0; j < F; j++) out[(b * T + t) * F + j] = a[(t * B + b) * F + j];
  return out;
}
