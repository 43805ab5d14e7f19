// MinGRU / MinLSTM as models, layers and graph nodes: a stacked bidirectional model with lengths and h0
// against the f64 reference composed layer by layer (test/reference/min-cells.ts); backward (dx, every
// dW, dh0) against the reference backward; streaming = whole sequence; training, save/load, the graph
// node and the graph spec; int8 quantization of their W_ih; the errors.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  init, MinGRU, MinLSTM, LSTM, Sequential, GraphModel, graph, layers, tensor, Tensor, Adam, serialize, deserialize, quantize, toOnnx,
  ValueError,
} from '../../src/index';

import { minBackRef, minRef, type MinKind } from '../reference/min-cells';
import { maxAbsDiff, randArray, relErr } from './helpers';

beforeAll(async () => {
  await init();
});

type MinModel = MinGRU | MinLSTM;
const make = (kind: MinKind, o: Record<string, unknown>): MinModel =>
  kind === 'mingru' ? new MinGRU(o as never) : new MinLSTM(o as never);
const CASES: [MinKind, boolean][] = [['mingru', false], ['mingru', true], ['minlstm', false], ['minlstm', true]];
const f64 = (a: ArrayLike<number>): Float64Array => Float64Array.from(a);

/** The model's forward composed from the f64 reference: per layer both directions, concatenated. */
function composeRef(kind: MinKind, m: MinModel, x: Float32Array, T: number, B: number, lens: number[], h0: Float32Array, logSpace: boolean): { y: Float64Array; hN: Float64Array } {
  const H = m.hiddenSize;
  const D = m.bidirectional ? 2 : 1;
  let inp = f64(x);
  let I = m.inputSize;
  const hN = new Float64Array(m.numLayers * D * B * H);
  for (let l = 0; l < m.numLayers; l++) {
    const y = new Float64Array(T * B * D * H);
    for (let d = 0; d < D; d++) {
      const sfx = `_l${l}${d ? '_reverse' : ''}`;
      const slot = l * D + d;
      const r = minRef(kind, {
        T, B, I, H, x: inp, w_ih: m.getParameter(`weight_ih${sfx}`), b_ih: m.getParameter(`bias_ih${sfx}`),
        h0: h0.subarray(slot * B * H, (slot + 1) * B * H), lens, reverse: d === 1, logSpace,
      });
      for (let row = 0; row < T * B; row++) for (let j = 0; j < H; j++) y[row * D * H + d * H + j] = r.y[row * H + j];
      hN.set(r.hN, slot * B * H);
    }
    inp = y;
    I = D * H;
  }
  return { y: inp, hN };
}

describe.each(CASES)('%s logSpace=%s', (kind, logSpace) => {
  const I = 4, H = 5, T = 6, B = 3;

  it('a 2-layer bidirectional model with lengths and h0 equals the composed f64 reference', () => {
    const m = make(kind, { inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: true, logSpace, seed: 3 });
    expect(m.parameters().map((p) => p.name)).toEqual([
      'weight_ih_l0', 'bias_ih_l0', 'weight_ih_l0_reverse', 'bias_ih_l0_reverse',
      'weight_ih_l1', 'bias_ih_l1', 'weight_ih_l1_reverse', 'bias_ih_l1_reverse',
    ]);
    const G = kind === 'mingru' ? 2 : 3;
    expect(m.parameters()[0].shape).toEqual([G * H, I]);
    expect(m.parameters()[4].shape).toEqual([G * H, 2 * H]);
    const x = randArray(T * B * I, 1);
    const h0 = randArray(4 * B * H, 2, 0.5).map((v) => (logSpace ? Math.abs(v) : v));
    const lengths = [T, 2, 4];
    const r = m.forward(tensor(x, [T, B, I]), { lengths, h0 });
    const ref = composeRef(kind, m, x, T, B, lengths, h0, logSpace);
    expect(relErr(r.output.data, ref.y)).toBeLessThan(1e-5);
    expect(relErr(r.hN.data, ref.hN)).toBeLessThan(1e-5);
    // padded outputs are exactly 0
    for (let t = 2; t < T; t++) expect(Array.from(r.output.data.subarray((t * B + 1) * 2 * H, (t * B + 2) * 2 * H)).every((v) => v === 0)).toBe(true);
    m.dispose();
  });

  it('backward: dx, every dW/db and dh0 equal the f64 reference backward (bidirectional, lengths)', () => {
    const m = make(kind, { inputSize: I, hiddenSize: H, bidirectional: true, logSpace, seed: 4 });
    const x = randArray(T * B * I, 5);
    const h0 = randArray(2 * B * H, 6, 0.5).map((v) => (logSpace ? Math.abs(v) : v));
    const lengths = [3, T, 1];
    const dOut = randArray(T * B * 2 * H, 7);
    const dhN = randArray(2 * B * H, 8);
    m.forward(tensor(x, [T, B, I]), { lengths, h0, keep: true });
    m.zeroGrad();
    const g = m.backward({ dOutput: tensor(dOut, [T, B, 2 * H]), dhN });
    const dx = new Float64Array(T * B * I);
    for (let d = 0; d < 2; d++) {
      const sfx = d ? '_l0_reverse' : '_l0';
      const dy = new Float64Array(T * B * H);
      for (let row = 0; row < T * B; row++) for (let j = 0; j < H; j++) dy[row * H + j] = dOut[row * 2 * H + d * H + j];
      const ref = minBackRef(kind, {
        T, B, I, H, x: f64(x), w_ih: f64(m.getParameter(`weight_ih${sfx}`)), b_ih: f64(m.getParameter(`bias_ih${sfx}`)),
        h0: f64(h0.subarray(d * B * H, (d + 1) * B * H)), lens: lengths, reverse: d === 1, logSpace,
      }, dy, dhN.subarray(d * B * H, (d + 1) * B * H));
      expect(relErr(m.gradient(`weight_ih${sfx}`), ref.w_ih), `dW_ih${sfx}`).toBeLessThan(1e-4);
      expect(relErr(m.gradient(`bias_ih${sfx}`), ref.b_ih), `db_ih${sfx}`).toBeLessThan(1e-4);
      expect(relErr(g.dh0!.data.subarray(d * B * H, (d + 1) * B * H), ref.h0), `dh0${sfx}`).toBeLessThan(1e-4);
      for (let i = 0; i < dx.length; i++) dx[i] += ref.x[i];
    }
    expect(relErr(g.dx!.data, dx)).toBeLessThan(1e-4);
    m.dispose();
  });

  it('streaming one step at a time equals the whole-sequence forward (2 layers, h0)', () => {
    const m = make(kind, { inputSize: I, hiddenSize: H, numLayers: 2, logSpace, seed: 5 });
    const x = randArray(T * B * I, 9);
    const h0 = randArray(2 * B * H, 10, 0.5).map((v) => (logSpace ? Math.abs(v) : v));
    const full = m.forward(tensor(x, [T, B, I]), { h0 });
    const s = m.stream({ batchSize: B });
    s.reset(h0);
    for (let t = 0; t < T; t++) {
      const y = s.step(x.subarray(t * B * I, (t + 1) * B * I));
      expect(maxAbsDiff(y, full.output.data.subarray(t * B * H, (t + 1) * B * H))).toBe(0);
    }
    expect(maxAbsDiff(s.state().h.data, full.hN.data)).toBe(0);
    s.close();
    m.dispose();
  });

  it('a batch-1 stream (packed W_ih copy, default on) equals the unpacked stream and forward bit for bit', () => {
    const m = make(kind, { inputSize: I, hiddenSize: 40, numLayers: 2, logSpace, seed: 7 });
    const x = randArray(T * I, 13);
    const full = m.forward(tensor(x, [T, 1, I])).output.data;
    const packed = m.stream({ batchSize: 1 });
    const plain = m.stream({ batchSize: 1, packed: false });
    for (let t = 0; t < T; t++) {
      const xt = x.subarray(t * I, (t + 1) * I);
      const a = packed.step(xt);
      const b = plain.step(xt);
      expect(Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))).toBe(true);
      expect(maxAbsDiff(a, full.subarray(t * 40, (t + 1) * 40))).toBe(0);
    }
    packed.close();
    plain.close();
    m.dispose();
  });

  it('trains (loss falls on a copy-the-input task), and save → load keeps the architecture and outputs bit for bit', () => {
    const m = make(kind, { inputSize: 2, hiddenSize: 8, logSpace, seed: 6 });
    const x = randArray(5 * 8 * 2, 11);
    const y = new Float32Array(5 * 8 * 8);
    for (let r = 0; r < 5 * 8; r++) y[r * 8] = x[r * 2];
    const opt = new Adam({ lr: 0.05 });
    const batch = { x: tensor(x, [5, 8, 2]), y: tensor(y, [5, 8, 8]) };
    const first = m.trainStep(batch, { loss: 'mse', optimizer: opt }).loss;
    let last = first;
    for (let i = 0; i < 40; i++) last = m.trainStep(batch, { loss: 'mse', optimizer: opt }).loss;
    expect(last).toBeLessThan(first * 0.5);
    const { model } = deserialize(serialize(m));
    expect(model.spec()).toEqual(m.spec());
    expect((model.spec() as { type: string }).type).toBe(kind);
    expect(model).toBeInstanceOf(kind === 'mingru' ? MinGRU : MinLSTM);
    const a = m.forward(batch.x).output.data;
    const b = model.forward(batch.x).output.data;
    expect(Buffer.from(b.buffer).equals(Buffer.from(a.buffer))).toBe(true);
    m.dispose();
    model.dispose();
  });
});

describe('min cells in Sequential, the graph and quantize()', () => {
  it('layers.minGRU / layers.minLSTM in Sequential equal graph.mingru / graph.minlstm bit for bit, forward and training', () => {
    for (const kind of ['mingru', 'minlstm'] as const) {
      const V = 7, E = 4, H = 6, T = 5, B = 2;
      const layer = kind === 'mingru' ? layers.minGRU : layers.minLSTM;
      const seq = new Sequential([
        layers.embedding({ numEmbeddings: V, embeddingDim: E }),
        layer({ inputSize: E, hiddenSize: H, numLayers: 2 }),
        layers.linear({ inFeatures: H, outFeatures: V }),
        layers.logSoftmax(),
      ], { seed: 2 });
      const xin = graph.input('x', { type: 'ids', vocabSize: V });
      const e = graph.embedding(xin, { embeddingDim: E, name: 'emb' });
      const r = graph[kind](e, { hiddenSize: H, numLayers: 2, name: 'rec' });
      expect(r.cN).toBeUndefined();
      const o = graph.logSoftmax(graph.linear(r.output, { outFeatures: V, name: 'out' }), { name: 'logp' });
      const g = new GraphModel({ inputs: [xin], outputs: { y: o, hN: r.hN }, seed: 2 });
      expect(g.parameters().map((p) => p.name)).toEqual(['emb.weight', 'rec.weight_ih_l0', 'rec.bias_ih_l0', 'rec.weight_ih_l1', 'rec.bias_ih_l1', 'out.weight', 'out.bias']);
      const ids = new Tensor(Int32Array.from({ length: T * B }, (_, i) => (i * 3) % V), [T, B]);
      const tgt = new Tensor(Int32Array.from({ length: T * B }, (_, i) => (i * 5 + 1) % V), [T, B]);
      const fs = seq.forward(ids, { lengths: [T, 3] }).output.data;
      const fg = g.forward({ x: { data: ids, lengths: [T, 3] } }).y.data;
      expect(Buffer.from(fg.buffer).equals(Buffer.from(fs.buffer))).toBe(true);
      const oS = new Adam({ lr: 0.01 }), oG = new Adam({ lr: 0.01 });
      for (let i = 0; i < 3; i++) {
        const ls = seq.trainStep({ x: ids, y: tgt, lengths: [T, 3] }, { loss: 'crossEntropy', optimizer: oS }).loss;
        const lg = g.trainStep({ inputs: { x: { data: ids, lengths: [T, 3] } }, targets: { y: tgt } }, { losses: { y: 'crossEntropy' }, optimizer: oG }).loss;
        expect(lg).toBe(ls);
      }
      // the graph's spec round trip rebuilds the min cell node
      const back = GraphModel.fromSpec(g.spec());
      expect(back.parameters().map((p) => p.name)).toEqual(g.parameters().map((p) => p.name));
      seq.dispose();
      g.dispose();
      back.dispose();
    }
  });

  it('quantize() gives their W_ih int8 copies (there is no W_hh); outputs stay close to f32', () => {
    for (const kind of ['mingru', 'minlstm'] as const) {
      const m = make(kind, { inputSize: 6, hiddenSize: 16, numLayers: 2 });
      const x = tensor(randArray(7 * 3 * 6, 12), [7, 3, 6]);
      const before = m.forward(x).output.data;
      quantize(m, { weights: 'int8' });
      expect(m.quantized).toBe('int8');
      const after = m.forward(x).output.data;
      const err = maxAbsDiff(after, before);
      // the int8 GEMM (weights rounded, input rows quantized on the fly) changes the outputs a little
      expect(err).toBeLessThan(0.05);
      expect(err).toBeGreaterThan(0);
      expect(m.runner.int8WeightNames()).toEqual(['weight_ih_l0', 'weight_ih_l1']);
      m.dispose();
    }
  });

  it('refuses: logSpace on other cells, init.weightHh on min cells, negative h0 in log space, ONNX export', () => {
    expect(() => new LSTM({ inputSize: 2, hiddenSize: 3, logSpace: true } as never)).toThrow(/Expected logSpace only for mingru or minlstm, got it for lstm/);
    expect(() => new MinGRU({ inputSize: 2, hiddenSize: 3, init: { weightHh: 'orthogonal' } })).toThrow(/Expected no init.weightHh for mingru/);
    expect(() => new MinLSTM({ inputSize: 2, hiddenSize: 3, peepholes: true } as never)).toThrow(ValueError);
    expect(() => new MinGRU({ inputSize: 2, hiddenSize: 3, logSpace: 1 } as never)).toThrow(/Expected logSpace to be a boolean/);
    const m = new MinGRU({ inputSize: 2, hiddenSize: 3, logSpace: true });
    const h0 = new Float32Array(3).fill(0.5);
    h0[1] = -0.1;
    expect(() => m.forward(tensor(new Float32Array(4), [2, 1, 2]), { h0 })).toThrow(/Expected h0 >= 0 in the state slots of a logSpace mingru layer \(slots 0\.\.0\), got -0\.1/);
    expect(() => m.stream().reset(h0)).toThrow(ValueError);
    expect(() => toOnnx(m)).toThrow(/ONNX has no mingru operator/);
    // the linear form takes any h0
    const lin = new MinGRU({ inputSize: 2, hiddenSize: 3 });
    expect(Number.isFinite(lin.forward(tensor(new Float32Array(4), [2, 1, 2]), { h0 }).hN.data[1])).toBe(true);
    m.dispose();
    lin.dispose();
  });
});
