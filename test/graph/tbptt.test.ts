// Truncated BPTT on graphs (GraphStepOptions.tbptt): a chain graph trained with tbptt gives, bit for
// bit, what the equal Sequential gives with tbptt (losses, gradient norms, parameters; lengths,
// dropout masks, stacked layers; initial states from a vector input on the first chunk only), steps
// without tbptt in between are unaffected by the carried plans, and a graph whose recurrent path
// reads the whole sequence is refused with a ValueError before anything changes.
import { beforeAll, describe, expect, it } from 'vitest';
import { init, graph, GraphModel, Sequential, layers, Tensor, Adam, SGD, ValueError } from '../../src/index';
import { randArray } from '../model/helpers';

beforeAll(async () => {
  await init();
});

const I = 3, H = 5, O = 4, T = 7, B = 3;
const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');

function sameParams(seq: Sequential, g: GraphModel): void {
  const sn = seq.parameters().map((p) => p.name);
  const gn = g.parameters().map((p) => p.name);
  expect(gn.length).toBe(sn.length);
  sn.forEach((n, i) => expect(bits(g.getParameter(gn[i])), `${n} / ${gn[i]}`).toBe(bits(seq.getParameter(n))));
}

describe('graph trainStep with tbptt', () => {
  it('equals Sequential with tbptt bit for bit (2-layer LSTM with dropout → dropout → linear, lengths, crossEntropy), and steps without tbptt in between stay equal', () => {
    const seq = new Sequential([
      layers.lstm({ inputSize: I, hiddenSize: H, numLayers: 2, dropout: 0.3 }), layers.dropout({ p: 0.2 }), layers.linear({ inFeatures: H, outFeatures: O }),
    ], { seed: 4 });
    const x = graph.input('x', { type: 'float', features: I });
    const l = graph.lstm(x, { hiddenSize: H, numLayers: 2, dropout: 0.3, name: 'lstm' });
    const y = graph.linear(graph.dropout(l.output, { p: 0.2, name: 'drop' }), { outFeatures: O, name: 'out' });
    const g = new GraphModel({ inputs: [x], outputs: { y }, seed: 4 });
    sameParams(seq, g);
    const os = new Adam({ lr: 0.02 });
    const og = new Adam({ lr: 0.02 });
    const lengths = [7, 3, 5];
    for (const [step, tbptt] of [[0, 2], [1, 3], [2, undefined], [3, 2], [4, 7], [5, 1]] as const) {
      const xs = new Tensor(randArray(T * B * I, 10 + step), [T, B, I]);
      const ys = new Tensor(Int32Array.from({ length: T * B }, (_, i) => (i * 7 + step) % (O + 1) - 1), [T, B]);
      const rs = seq.trainStep({ x: xs, y: ys, lengths }, { loss: 'crossEntropy', optimizer: os, clipNorm: 0.5, tbptt });
      const rg = g.trainStep({ inputs: { x: { data: xs, lengths } }, targets: { y: ys } }, { losses: { y: 'crossEntropy' }, optimizer: og, clipNorm: 0.5, tbptt });
      expect(rg.loss, `step ${step} loss`).toBe(rs.loss);
      expect(rg.losses.y).toBe(rs.loss);
      expect(rg.gradNorm, `step ${step} gradNorm`).toBe(rs.gradNorm);
    }
    expect(og.step).toBe(os.step);
    expect(og.step).toBe(4 + 3 + 1 + 4 + 1 + 7); // one update per chunk
    sameParams(seq, g);
    seq.dispose();
    g.dispose();
  });

  it('initial states from a vector input start the first chunk only (GRU → linear, mse), as Sequential\'s h0', () => {
    const seq = new Sequential([layers.gru({ inputSize: I, hiddenSize: H }), layers.linear({ inFeatures: H, outFeatures: O })], { seed: 8 });
    const x = graph.input('x', { type: 'float', features: I });
    const h0 = graph.input('h0', { type: 'vector', features: H });
    const r = graph.gru(x, { hiddenSize: H, name: 'gru', initialState: { h: h0 } });
    const y = graph.linear(r.output, { outFeatures: O, name: 'out' });
    const g = new GraphModel({ inputs: [x, h0], outputs: { y }, seed: 8 });
    sameParams(seq, g);
    const os = new SGD({ lr: 0.1 });
    const og = new SGD({ lr: 0.1 });
    for (let step = 0; step < 3; step++) {
      const xs = new Tensor(randArray(T * B * I, 30 + step), [T, B, I]);
      const ys = new Tensor(randArray(T * B * O, 40 + step), [T, B, O]);
      const h = randArray(B * H, 50 + step, 0.8); // (1, B, H) for Sequential = (B, H) for the graph
      const rs = seq.trainStep({ x: xs, y: ys, h0: h }, { loss: 'mse', optimizer: os, tbptt: 3 });
      const rg = g.trainStep({ inputs: { x: xs, h0: new Tensor(h, [B, H]) }, targets: { y: ys } }, { losses: { y: 'mse' }, optimizer: og, tbptt: 3 });
      expect(rg.loss).toBe(rs.loss);
      expect(rg.gradNorm).toBe(rs.gradNorm);
    }
    sameParams(seq, g);
    // without the carry (every chunk from h0 again) the result would differ: the test can fail
    const xs = new Tensor(randArray(T * B * I, 60), [T, B, I]);
    const whole = g.forward({ x: xs, h0: new Tensor(new Float32Array(B * H), [B, H]) }).y.data;
    const tail = g.forward({ x: new Tensor(xs.data.subarray(3 * B * I), [T - 3, B, I]), h0: new Tensor(new Float32Array(B * H), [B, H]) }).y.data;
    expect(bits(tail)).not.toBe(bits(whole.subarray(3 * B * O)));
    seq.dispose();
    g.dispose();
  });

  it('refuses graphs whose recurrent path reads the whole sequence, and bad values, with a ValueError before any change', () => {
    const opt = new SGD({ lr: 0.1 });
    const x = graph.input('x', { type: 'float', features: I });
    const bi = graph.gru(x, { hiddenSize: H, bidirectional: true, name: 'bi' });
    const pooled = graph.pool(graph.lstm(x, { hiddenSize: H, name: 'enc' }).output, { mode: 'mean', name: 'avg' });
    const g = new GraphModel({ inputs: [x], outputs: { y: graph.linear(bi.output, { outFeatures: O, name: 'o1' }), v: graph.linear(pooled, { outFeatures: O, name: 'o2' }) }, seed: 1 });
    const xs = new Tensor(randArray(T * B * I, 1), [T, B, I]);
    const before = g.stateDict();
    const step = (losses: Record<string, 'mse'>, targets: Record<string, Tensor<Float32Array>>, tbptt: unknown) =>
      g.trainStep({ inputs: { x: xs }, targets }, { losses, optimizer: opt, tbptt: tbptt as number });
    const yt = new Tensor(randArray(T * B * O, 2), [T, B, O]);
    const vt = new Tensor(randArray(B * O, 3), [B, O]);
    expect(() => step({ y: 'mse' }, { y: yt }, 2)).toThrow(ValueError);
    expect(() => step({ y: 'mse' }, { y: yt }, 2)).toThrow(/Expected unidirectional recurrent nodes for tbptt, got bidirectional bi/);
    expect(() => step({ y: 'mse' }, { y: yt }, 0)).toThrow(/Expected tbptt to be a positive integer, got 0/);
    expect(() => step({ y: 'mse' }, { y: yt }, 1.5)).toThrow(/Expected tbptt to be a positive integer/);
    expect(opt.step).toBe(0);
    for (const [k, v] of Object.entries(before)) expect(bits(g.getParameter(k))).toBe(bits(v));
    g.dispose();
    // a pool over the steps, and a loss on a vector output
    const x2 = graph.input('x', { type: 'float', features: I });
    const enc = graph.lstm(x2, { hiddenSize: H, name: 'enc' });
    const g2 = new GraphModel({ inputs: [x2], outputs: { v: graph.linear(graph.pool(enc.output, { mode: 'last', name: 'last' }), { outFeatures: O, name: 'o' }) }, seed: 1 });
    expect(() => g2.trainStep({ inputs: { x: xs }, targets: { v: vt } }, { losses: { v: 'mse' }, optimizer: opt, tbptt: 2 })).toThrow(/Expected only step-wise and unidirectional recurrent nodes after x for tbptt, got pool node last/);
    g2.dispose();
    const x3 = graph.input('x', { type: 'float', features: I });
    const c3 = graph.input('c', { type: 'vector', features: O });
    const g3 = new GraphModel({ inputs: [x3, c3], outputs: { y: graph.linear(graph.gru(x3, { hiddenSize: H, name: 'g' }).output, { outFeatures: O, name: 'o' }), v: graph.linear(c3, { outFeatures: O, name: 'ov' }) }, seed: 1 });
    const feed = { x: xs, c: new Tensor(randArray(B * O, 4), [B, O]) };
    expect(() => g3.trainStep({ inputs: feed, targets: { y: yt, v: vt } }, { losses: { y: 'mse', v: 'mse' }, optimizer: opt, tbptt: 2 })).toThrow(/Expected losses only on outputs along the steps of x for tbptt, got one on v \(a vec value\)/);
    g3.dispose();
    // two sequence inputs
    const a = graph.input('a', { type: 'float', features: I });
    const b = graph.input('b', { type: 'float', features: I });
    const g4 = new GraphModel({ inputs: [a, b], outputs: { y: graph.linear(graph.gru(a, { hiddenSize: H, name: 'ga' }).output, { outFeatures: O, name: 'o' }) }, seed: 1 });
    expect(() => g4.trainStep({ inputs: { a: xs, b: xs }, targets: { y: yt } }, { losses: { y: 'mse' }, optimizer: opt, tbptt: 2 })).toThrow(/Expected one sequence input for tbptt \(the chunks cut its steps\), got 2 \(a, b\)/);
    g4.dispose();
    expect(opt.step).toBe(0);
  });
});
