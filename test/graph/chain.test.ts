// A graph built as a chain equals Sequential bit for bit: same initial parameters (same specs in the
// same order from the same seed), same forward, same training (dropout masks from the same
// generator, the same ops in the same order), over several steps with variable lengths.
import { beforeAll, describe, expect, it } from 'vitest';
import { init, graph, GraphModel, Sequential, layers, Tensor, Adam } from '../../src/index';
import { prng } from '../model/helpers';

beforeAll(async () => {
  await init();
});

const V = 7, E = 5, H = 6, T = 6, B = 3;

function batch(seed: number): { x: Tensor<Int32Array>; y: Tensor<Int32Array>; lengths: number[] } {
  const r = prng(seed);
  const x = Int32Array.from({ length: T * B }, () => Math.floor(r() * V));
  const y = Int32Array.from({ length: T * B }, () => Math.floor(r() * V));
  return { x: new Tensor(x, [T, B]), y: new Tensor(y, [T, B]), lengths: [T, 2, 4] };
}

describe('Sequential as a chain graph', () => {
  it('gives bit-identical parameters, forward and training (embedding → 2-layer LSTM with dropout → dropout → linear → logSoftmax)', () => {
    const seq = new Sequential([
      layers.embedding({ numEmbeddings: V, embeddingDim: E }),
      layers.lstm({ inputSize: E, hiddenSize: H, numLayers: 2, dropout: 0.25 }),
      layers.dropout({ p: 0.2 }),
      layers.linear({ inFeatures: H, outFeatures: V }),
      layers.logSoftmax(),
    ], { seed: 9 });
    const x = graph.input('x', { type: 'ids', vocabSize: V });
    const e = graph.embedding(x, { embeddingDim: E, name: 'emb' });
    const l = graph.lstm(e, { hiddenSize: H, numLayers: 2, dropout: 0.25, name: 'lstm' });
    const d = graph.dropout(l.output, { p: 0.2, name: 'drop' });
    const o = graph.linear(d, { outFeatures: V, name: 'out' });
    const y = graph.logSoftmax(o, { name: 'logp' });
    const g = new GraphModel({ inputs: [x], outputs: { y }, seed: 9 });

    const seqNames = seq.parameters().map((p) => p.name);
    const gNames = g.parameters().map((p) => p.name);
    expect(gNames).toEqual(['emb.weight', 'lstm.weight_ih_l0', 'lstm.weight_hh_l0', 'lstm.bias_ih_l0', 'lstm.bias_hh_l0',
      'lstm.weight_ih_l1', 'lstm.weight_hh_l1', 'lstm.bias_ih_l1', 'lstm.bias_hh_l1', 'out.weight', 'out.bias']);
    seqNames.forEach((n, i) => expect(g.getParameter(gNames[i])).toEqual(seq.getParameter(n)));

    const b0 = batch(1);
    const fs = seq.forward(b0.x, { lengths: b0.lengths }).output.data;
    const fg = g.forward({ x: { data: b0.x, lengths: b0.lengths } }).y.data;
    expect(Buffer.from(fg.buffer).equals(Buffer.from(fs.buffer))).toBe(true);

    const optS = new Adam({ lr: 0.01 });
    const optG = new Adam({ lr: 0.01 });
    for (let step = 0; step < 4; step++) {
      const bt = batch(10 + step);
      const rs = seq.trainStep({ x: bt.x, y: bt.y, lengths: bt.lengths }, { loss: 'crossEntropy', optimizer: optS, clipNorm: 1 });
      const rg = g.trainStep({ inputs: { x: { data: bt.x, lengths: bt.lengths } }, targets: { y: bt.y } }, { losses: { y: 'crossEntropy' }, optimizer: optG, clipNorm: 1 });
      expect(rg.loss).toBe(rs.loss);
      expect(rg.gradNorm).toBe(rs.gradNorm);
    }
    seqNames.forEach((n, i) => expect(Buffer.from(g.getParameter(gNames[i]).buffer).equals(Buffer.from(seq.getParameter(n).buffer)), n).toBe(true));
    // and the trained models still agree in inference
    const b1 = batch(99);
    expect(g.forward({ x: { data: b1.x, lengths: b1.lengths } }).y.data).toEqual(seq.forward(b1.x, { lengths: b1.lengths }).output.data);
    seq.dispose();
    g.dispose();
  });
});
