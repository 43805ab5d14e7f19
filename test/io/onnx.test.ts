// ONNX: models exported here run in onnxruntime-node with the same outputs; ONNX graphs written by
// the test (the oracle's own builder, and hand-built exporter-style graphs) import and match ORT.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import * as ort from 'onnxruntime-node';
import type { onnx as proto } from 'onnx-proto';
import { init, LSTM, GRU, RNN, Sequential, layers, Tensor, tensor, toOnnx, fromOnnx, FormatError, type Model } from '../../src/index';
import { buildOnnxModel } from '../oracle/onnx';
import { config, randomParams, type RnnConfig } from '../oracle/spec';
import { randArray, maxAbsDiff } from '../model/helpers';

const require = createRequire(import.meta.url);
const { onnx } = require('onnx-proto') as { onnx: typeof proto };

beforeAll(async () => {
  await init();
});

const TOL = 1e-5;
const seen: Record<string, number> = {};
// observed maxima, printed once (the numbers quoted in reports)
afterAll(() => console.log('max |diff|', JSON.stringify(seen)));
function record(name: string, d: number) {
  seen[name] = Math.max(seen[name] ?? 0, d);
  expect(d, name).toBeLessThanOrEqual(TOL);
}

async function runOrt(bytes: Uint8Array, feeds: Record<string, ort.Tensor>) {
  const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    return await s.run(feeds);
  } finally {
    await s.release();
  }
}

/** Random lengths in [1, T] with one full-length row. */
function lengthsFor(T: number, B: number, seed: number): Int32Array {
  const r = randArray(B, seed);
  const l = Int32Array.from(r, (v) => 1 + Math.floor(((v + 1) / 2) * T) % T);
  l[0] = T;
  return l;
}

describe('ONNX export runs in onnxruntime-node', () => {
  const cases: { name: string; make: () => Model; ids?: number }[] = [
    {
      name: 'embedding → 2-layer bidirectional LSTM → linear → softmax (batchFirst)',
      ids: 11,
      make: () =>
        new Sequential([
          layers.embedding({ numEmbeddings: 11, embeddingDim: 5 }),
          layers.lstm({ inputSize: 5, hiddenSize: 7, numLayers: 2, bidirectional: true }),
          layers.linear({ inFeatures: 14, outFeatures: 11 }),
          layers.softmax(),
        ], { batchFirst: true, seed: 4 }),
    },
    {
      name: 'GRU (Cho) sum-merged → GRU (reset-after) ave → RNN relu → linear (no bias) → logSoftmax',
      make: () =>
        new Sequential([
          layers.gru({ inputSize: 3, hiddenSize: 6, bidirectional: true, mergeMode: 'sum', resetAfter: false }),
          layers.gru({ inputSize: 6, hiddenSize: 5, bidirectional: true, mergeMode: 'ave' }),
          layers.rnn({ inputSize: 5, hiddenSize: 4, nonlinearity: 'relu', bidirectional: true, mergeMode: 'mul' }),
          layers.linear({ inFeatures: 4, outFeatures: 3, bias: false }),
          layers.logSoftmax(),
        ], { seed: 5 }),
    },
    { name: 'standalone LSTM with peepholes and clip', make: () => new LSTM({ inputSize: 4, hiddenSize: 9, peepholes: true, cellClip: 0.7, numLayers: 2, seed: 6 }) },
    { name: 'standalone GRU batchFirst', make: () => new GRU({ inputSize: 4, hiddenSize: 8, batchFirst: true, seed: 7 }) },
    { name: 'standalone RNN without bias', make: () => new RNN({ inputSize: 2, hiddenSize: 3, bias: false, seed: 8 }) },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const m = c.make();
      const bf = m.runner.batchFirst;
      const T = 6;
      const B = 3;
      const F = m.runner.inFeatures;
      const lens = lengthsFor(T, B, 3);
      for (const withLens of [false, true]) {
        const bytes = toOnnx(m, { lengths: withLens, opset: withLens ? 21 : 14 });
        const dims = bf ? [B, T] : [T, B];
        let x: Tensor<Float32Array> | Tensor<Int32Array>;
        let feed: ort.Tensor;
        if (c.ids) {
          const ids = Int32Array.from(randArray(T * B, 9), (v) => Math.floor(((v + 1) / 2) * c.ids!) % c.ids!);
          x = new Tensor(ids, dims);
          feed = new ort.Tensor('int32', ids, dims);
        } else {
          const xs = randArray(T * B * F, 10, 2);
          x = tensor(xs, [...dims, F]);
          feed = new ort.Tensor('float32', xs, [...dims, F]);
        }
        const feeds: Record<string, ort.Tensor> = { input: feed };
        if (withLens) feeds.sequence_lens = new ort.Tensor('int32', lens, [B]);
        const got = await runOrt(bytes, feeds);
        const ours = m.forward(x, withLens ? { lengths: lens } : {});
        expect(got.output.dims).toEqual(ours.output.shape);
        record('export output', maxAbsDiff(got.output.data as Float32Array, ours.output.data));
        // final states: one h_n (and c_n) per recurrent layer; compare when there is one
        if ('h_n' in got) record('export h_n', maxAbsDiff(got.h_n.data as Float32Array, ours.hN.data));
        if ('c_n' in got) record('export c_n', maxAbsDiff(got.c_n.data as Float32Array, ours.cN!.data));
        expect(Object.keys(got).some((k) => k.startsWith('h_n'))).toBe(true);
      }
      m.dispose();
    });
  }

  it('rejects a bad opset by name', () => {
    const m = new GRU({ inputSize: 2, hiddenSize: 2 });
    expect(() => toOnnx(m, { opset: 9 })).toThrow(/opset/);
    m.dispose();
  });
});

// ───── import ─────

const FLOAT = 1;
const INT32 = 6;
function ft(name: string, dims: number[], data: Float32Array): proto.ITensorProto {
  return { name, dims, dataType: FLOAT, rawData: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) };
}
function i64(name: string, v: number[]): proto.ITensorProto {
  return { name, dims: [v.length], dataType: 7, int64Data: v };
}
function vi(name: string, elem: number, dims: (number | string)[]): proto.IValueInfoProto {
  return { name, type: { tensorType: { elemType: elem, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } } };
}
const enc = new TextEncoder();
function encodeModel(nodes: proto.INodeProto[], inits: proto.ITensorProto[], inputs: proto.IValueInfoProto[], outputs: proto.IValueInfoProto[], opset = 14): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create({
    irVersion: 7,
    opsetImport: [{ domain: '', version: opset }],
    graph: { name: 'g', node: nodes, initializer: inits, input: inputs, output: outputs },
  })).finish();
}

describe('ONNX import matches onnxruntime-node', () => {
  const oracleCases: RnnConfig[] = [
    config({ mode: 'lstm', inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, peepholes: true, cellClip: 0.9 }),
    config({ mode: 'gru', inputSize: 4, hiddenSize: 6, bidirectional: true, mergeMode: 'ave', resetAfter: false }),
    config({ mode: 'gru', inputSize: 4, hiddenSize: 3, numLayers: 3, resetAfter: true }),
    config({ mode: 'rnn', inputSize: 2, hiddenSize: 7, bidirectional: true, mergeMode: 'mul', nonlinearity: 'relu', bias: false }),
    config({ mode: 'lstm', inputSize: 3, hiddenSize: 4, bidirectional: true, mergeMode: 'sum' }),
  ];
  for (const c of oracleCases) {
    it(`oracle-built graph: ${c.mode} L${c.numLayers} ${c.bidirectional ? c.mergeMode : 'fwd'}`, async () => {
      const T = 7;
      const B = 3;
      const p = randomParams(c, 21);
      const lens = lengthsFor(T, B, 4);
      const bytes = buildOnnxModel(c, p, { T, B, lengths: true, h0: false, c0: false });
      const imp = fromOnnx(bytes);
      expect(imp.lengthsInput).toBe('sequence_lens');
      expect(imp.ignoredOutputs.length).toBeGreaterThan(0);
      const x = randArray(T * B * c.inputSize, 22, 1.5);
      const got = await runOrt(bytes, { X: new ort.Tensor('float32', x, [T, B, c.inputSize]), sequence_lens: new ort.Tensor('int32', lens, [B]) });
      const ours = imp.model.forward(tensor(x, [T, B, c.inputSize]), { lengths: lens });
      record('import (oracle graphs)', maxAbsDiff(got.Y.data as Float32Array, ours.output.data));
      imp.model.dispose();
    });
  }

  it('exporter-style graph: ids (B,T) → Gather → Transpose → reverse LSTM → Squeeze → MatMul+Add → Softmax', async () => {
    const V = 9, E = 4, H = 5, O = 6, T = 5, B = 2;
    const emb = randArray(V * E, 1);
    const W = randArray(4 * H * E, 2, 0.6);
    const R = randArray(4 * H * H, 3, 0.6);
    const Bb = randArray(8 * H, 4, 0.3);
    const Wl = randArray(H * O, 5);
    const bl = randArray(O, 6);
    const bytes = encodeModel([
      { opType: 'Gather', input: ['emb', 'ids'], output: ['e'], attribute: [{ name: 'axis', type: 2, i: 0 }] },
      { opType: 'Transpose', input: ['e'], output: ['e_t'], attribute: [{ name: 'perm', type: 7, ints: [1, 0, 2] }] },
      { opType: 'LSTM', input: ['e_t', 'W', 'R', 'B', '', 'h0'], output: ['Y', 'Y_h'], attribute: [
        { name: 'hidden_size', type: 2, i: H }, { name: 'direction', type: 3, s: enc.encode('reverse') }] },
      { opType: 'Squeeze', input: ['Y', 'ax1'], output: ['y'] },
      { opType: 'Transpose', input: ['y'], output: ['y_bt'], attribute: [{ name: 'perm', type: 7, ints: [1, 0, 2] }] },
      { opType: 'MatMul', input: ['y_bt', 'Wl'], output: ['z'] },
      { opType: 'Add', input: ['z', 'bl'], output: ['zb'] },
      { opType: 'Softmax', input: ['zb'], output: ['probs'], attribute: [{ name: 'axis', type: 2, i: -1 }] },
    ], [ft('emb', [V, E], emb), ft('W', [1, 4 * H, E], W), ft('R', [1, 4 * H, H], R), ft('B', [1, 8 * H], Bb), ft('h0', [1, B, H], new Float32Array(B * H)),
      i64('ax1', [1]), ft('Wl', [H, O], Wl), ft('bl', [O], bl)],
    [vi('ids', INT32, ['B', 'T'])], [vi('probs', FLOAT, ['B', 'T', O]), vi('Y_h', FLOAT, [1, 'B', H])]);
    const imp = fromOnnx(bytes);
    expect(imp.model.runner.batchFirst).toBe(true);
    const ids = Int32Array.from({ length: B * T }, (_, i) => (i * 7 + 3) % V);
    const got = await runOrt(bytes, { ids: new ort.Tensor('int32', ids, [B, T]) });
    const ours = imp.model.forward(new Tensor(ids, [B, T]));
    record('import (exporter-style)', maxAbsDiff(got.probs.data as Float32Array, ours.output.data));
    imp.model.dispose();
  });

  it('flattened head: GRU → Squeeze → Reshape(-1, H) → Gemm(transB) → LogSoftmax (opset 11 Squeeze attribute)', async () => {
    const I = 3, H = 4, O = 5, T = 4, B = 3;
    const W = randArray(3 * H * I, 7, 0.7);
    const R = randArray(3 * H * H, 8, 0.7);
    const Bb = randArray(6 * H, 9, 0.3);
    const Wg = randArray(O * H, 10);
    const bg = randArray(O, 11);
    const bytes = encodeModel([
      { opType: 'GRU', input: ['x', 'W', 'R', 'B'], output: ['Y'], attribute: [{ name: 'hidden_size', type: 2, i: H }, { name: 'linear_before_reset', type: 2, i: 1 }] },
      { opType: 'Squeeze', input: ['Y'], output: ['y'], attribute: [{ name: 'axes', type: 7, ints: [1] }] },
      { opType: 'Reshape', input: ['y', 'shp'], output: ['rows'] },
      { opType: 'Gemm', input: ['rows', 'Wg', 'bg'], output: ['logits'], attribute: [{ name: 'transB', type: 2, i: 1 }, { name: 'alpha', type: 1, f: 0.5 }] },
      { opType: 'LogSoftmax', input: ['logits'], output: ['out'], attribute: [{ name: 'axis', type: 2, i: 1 }] },
    ], [ft('W', [1, 3 * H, I], W), ft('R', [1, 3 * H, H], R), ft('B', [1, 6 * H], Bb), i64('shp', [-1, H]), ft('Wg', [O, H], Wg), ft('bg', [O], bg)],
    [vi('x', FLOAT, [T, B, I])], [vi('out', FLOAT, [T * B, O])], 11);
    const imp = fromOnnx(bytes);
    expect(imp.flatOutput).toBe(true);
    const x = randArray(T * B * I, 12);
    const got = await runOrt(bytes, { x: new ort.Tensor('float32', x, [T, B, I]) });
    const ours = imp.model.forward(tensor(x, [T, B, I]));
    record('import (flattened Gemm head)', maxAbsDiff(got.out.data as Float32Array, ours.output.data));
    imp.model.dispose();
  });

  it('PyTorch-exporter shape: batch_first 2-layer bidirectional LSTM, zero h0/c0 built from Shape → ConstantOfShape → Slice', async () => {
    const I = 3, H = 4, O = 2, T = 5, B = 3;
    const inits: proto.ITensorProto[] = [i64('zero', [0]), i64('nd', [4]), i64('hs', [H]), i64('ax0', [0]), i64('s0', [0]), i64('s2', [2]), i64('s4', [4]), i64('shp3', [0, 0, -1])];
    const nodes: proto.INodeProto[] = [
      { opType: 'Transpose', input: ['x'], output: ['xt'], attribute: [{ name: 'perm', type: 7, ints: [1, 0, 2] }] },
      { opType: 'Shape', input: ['x'], output: ['xs'] },
      { opType: 'Gather', input: ['xs', 'zero'], output: ['b'], attribute: [{ name: 'axis', type: 2, i: 0 }] },
      { opType: 'Concat', input: ['nd', 'b', 'hs'], output: ['hshape'], attribute: [{ name: 'axis', type: 2, i: 0 }] },
      { opType: 'ConstantOfShape', input: ['hshape'], output: ['h0all'], attribute: [{ name: 'value', type: 4, t: ft('v', [1], new Float32Array([0])) }] },
    ];
    let x = 'xt';
    for (let l = 0; l < 2; l++) {
      const Il = l === 0 ? I : 2 * H;
      inits.push(ft(`W${l}`, [2, 4 * H, Il], randArray(2 * 4 * H * Il, 30 + l, 0.6)), ft(`R${l}`, [2, 4 * H, H], randArray(2 * 4 * H * H, 40 + l, 0.6)), ft(`B${l}`, [2, 8 * H], randArray(2 * 8 * H, 50 + l, 0.3)));
      nodes.push(
        { opType: 'Slice', input: ['h0all', l ? 's2' : 's0', l ? 's4' : 's2', 'ax0'], output: [`h0_${l}`] },
        { opType: 'LSTM', input: [x, `W${l}`, `R${l}`, `B${l}`, '', `h0_${l}`, `h0_${l}`], output: [`Y${l}`, `Yh${l}`, `Yc${l}`], attribute: [
          { name: 'hidden_size', type: 2, i: H }, { name: 'direction', type: 3, s: enc.encode('bidirectional') }] },
        { opType: 'Transpose', input: [`Y${l}`], output: [`Yt${l}`], attribute: [{ name: 'perm', type: 7, ints: [0, 2, 1, 3] }] },
        { opType: 'Reshape', input: [`Yt${l}`, 'shp3'], output: [`x${l + 1}`] },
      );
      x = `x${l + 1}`;
    }
    inits.push(ft('Wl', [2 * H, O], randArray(2 * H * O, 60)));
    nodes.push(
      { opType: 'Transpose', input: [x], output: ['xb'], attribute: [{ name: 'perm', type: 7, ints: [1, 0, 2] }] },
      { opType: 'MatMul', input: ['xb', 'Wl'], output: ['out'] },
      { opType: 'Concat', input: ['Yh0', 'Yh1'], output: ['h_n'], attribute: [{ name: 'axis', type: 2, i: 0 }] },
    );
    const bytes = encodeModel(nodes, inits, [vi('x', FLOAT, ['B', 'T', I])], [vi('out', FLOAT, ['B', 'T', O]), vi('h_n', FLOAT, [4, 'B', H])]);
    const imp = fromOnnx(bytes);
    expect(imp.ignoredOutputs).toEqual(['h_n']);
    const xs = randArray(B * T * I, 61, 1.5);
    const got = await runOrt(bytes, { x: new ort.Tensor('float32', xs, [B, T, I]) });
    const ours = imp.model.forward(tensor(xs, [B, T, I]));
    record('import (PyTorch-style dynamic h0)', maxAbsDiff(got.out.data as Float32Array, ours.output.data));
    imp.model.dispose();
  });

  it('round trip: our export imports back to the same outputs', () => {
    const m = new Sequential([
      layers.embedding({ numEmbeddings: 6, embeddingDim: 3 }),
      // one cell kind and one H: Runner.readStates assumes that for the final states
      layers.lstm({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, mergeMode: 'ave' }),
      layers.lstm({ inputSize: 4, hiddenSize: 4, peepholes: true, cellClip: 1.5 }),
      layers.linear({ inFeatures: 4, outFeatures: 6 }),
      layers.logSoftmax(),
    ], { batchFirst: true, seed: 9 });
    const imp = fromOnnx(toOnnx(m, { lengths: true }));
    const x = new Tensor(Int32Array.from({ length: 12 }, (_, i) => i % 6), [3, 4]);
    const lens = new Int32Array([4, 2, 3]);
    expect(maxAbsDiff(imp.model.forward(x, { lengths: lens }).output.data, m.forward(x, { lengths: lens }).output.data)).toBe(0);
    m.dispose();
    imp.model.dispose();
  });

  it('unsupported operators and layouts are named', () => {
    const conv = encodeModel([{ opType: 'Conv', input: ['x', 'w'], output: ['y'] }], [ft('w', [1, 1, 1], new Float32Array(1))], [vi('x', FLOAT, [2, 1, 3])], [vi('y', FLOAT, [2, 1, 3])]);
    expect(() => fromOnnx(conv)).toThrow(FormatError);
    expect(() => fromOnnx(conv)).toThrow(/unsupported operator Conv/);
    const act = encodeModel([{ opType: 'RNN', input: ['x', 'W', 'R'], output: ['Y'], attribute: [{ name: 'hidden_size', type: 2, i: 1 }, { name: 'activations', type: 8, strings: [enc.encode('Sigmoid')] }] },
      { opType: 'Squeeze', input: ['Y', 'a'], output: ['y'] }],
    [ft('W', [1, 1, 3], new Float32Array(3)), ft('R', [1, 1, 1], new Float32Array(1)), i64('a', [1])], [vi('x', FLOAT, [2, 1, 3])], [vi('y', FLOAT, [2, 1, 1])]);
    expect(() => fromOnnx(act)).toThrow(/activations/);
    expect(() => fromOnnx(new Uint8Array([1, 2, 3, 4, 5]))).toThrow(FormatError);
  });
});
