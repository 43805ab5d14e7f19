// The public backward's step() and a graph's trainStep()/step() are all-or-nothing like
// model.trainStep: an update that leaves a parameter NaN/±Inf (Adam with lr 3e38) throws a
// NonFiniteError and puts back the parameters, the optimizer's moments and step, and the
// dropout generator; an optimizer that the failed call bound is unbound again.
import { beforeAll, describe, expect, it } from 'vitest';
import { init, graph, GraphModel, LSTM, Adam, NonFiniteError, Tensor, tensor } from '../../src/index';

beforeAll(async () => {
  await init();
});

const V = 5, E = 4, H = 6, T = 4, B = 2;

function chainGraph(): GraphModel {
  const x = graph.input('x', { type: 'ids', vocabSize: V });
  const e = graph.embedding(x, { embeddingDim: E, name: 'emb' });
  const l = graph.lstm(e, { hiddenSize: H, dropout: 0, name: 'lstm' });
  const d = graph.dropout(l.output, { p: 0.3, name: 'drop' });
  const y = graph.linear(d, { outFeatures: V, name: 'out' });
  return new GraphModel({ inputs: [x], outputs: { y }, seed: 3 });
}

function graphBatch() {
  const x = Int32Array.from({ length: T * B }, (_, i) => i % V);
  const y = Int32Array.from({ length: T * B }, (_, i) => (i + 1) % V);
  return { inputs: { x: { data: new Tensor(x, [T, B]) } }, targets: { y: new Tensor(y, [T, B]) } };
}

const snapshot = (m: { stateDict(): Record<string, Float32Array>; runner: { dropoutRngState: number[] } }) => ({
  params: m.stateDict(),
  rng: [...m.runner.dropoutRngState],
});

describe('public and graph updates are all-or-nothing', () => {
  it('graph trainStep with Adam lr 3e38: NonFiniteError, parameters, generator and a fresh optimizer untouched', () => {
    const g = chainGraph();
    const before = snapshot(g);
    const opt = new Adam({ lr: 3e38 });
    expect(() => g.trainStep(graphBatch(), { losses: { y: 'crossEntropy' }, optimizer: opt })).toThrow(NonFiniteError);
    expect(snapshot(g)).toEqual(before);
    expect(opt.step).toBe(0);
    expect(opt.isBoundTo(g.runner.arena)).toBe(false);
    // the same model still trains normally afterwards
    const ok = new Adam({ lr: 1e-2 });
    const r = g.trainStep(graphBatch(), { losses: { y: 'crossEntropy' }, optimizer: ok });
    expect(Number.isFinite(r.loss)).toBe(true);
    expect(ok.step).toBe(1);
    g.dispose();
  });

  it('graph step() after a bound optimizer has stepped: a failed update restores parameters, moments and step', () => {
    const g = chainGraph();
    const opt = new Adam({ lr: 1e-2 });
    g.trainStep(graphBatch(), { losses: { y: 'crossEntropy' }, optimizer: opt });
    const before = snapshot(g);
    const moments = opt.state().buffers.slice();
    g.evaluate(graphBatch(), { losses: { y: 'crossEntropy' } }); // gradients of the batch, nothing updated
    const huge = new Adam({ lr: 3e38 });
    expect(() => g.step(huge)).toThrow(NonFiniteError);
    expect(snapshot(g)).toEqual(before);
    expect(huge.step).toBe(0);
    expect(opt.state().buffers).toEqual(moments);
    expect(opt.step).toBe(1);
    g.dispose();
  });

  it('model step() on the public backward: a failed update restores parameters and the optimizer', () => {
    const m = new LSTM({ inputSize: 3, hiddenSize: H, seed: 2 });
    const x = tensor(new Float32Array(T * B * 3).map((_, i) => Math.sin(i)), [T, B, 3]);
    const opt = new Adam({ lr: 1e-2 });
    m.forward(x, { keep: true });
    m.backward({ dOutput: tensor(new Float32Array(T * B * H).fill(0.1), [T, B, H]) });
    m.step(opt);
    const before = m.stateDict();
    const moments = opt.state().buffers.slice();
    m.zeroGrad();
    m.forward(x, { keep: true });
    m.backward({ dOutput: tensor(new Float32Array(T * B * H).fill(0.1), [T, B, H]) });
    const huge = new Adam({ lr: 3e38 });
    expect(() => m.step(huge)).toThrow(NonFiniteError);
    expect(m.stateDict()).toEqual(before);
    expect(huge.step).toBe(0);
    expect(huge.isBoundTo(m.runner.arena)).toBe(false);
    expect(opt.state().buffers).toEqual(moments);
    m.dispose();
  });
});
