// One-row graph inference over a long sequence (≥ PACK_MIN_T steps) reads packed W_hh copies, as a
// layer's does: the results equal the same row inside a batch of two (which reads the weights in
// place) bit for bit, follow a write to the parameters (the copies are repacked), and the copies
// are released with the plans (dispose); an int8 model keeps none.
import { beforeAll, describe, expect, it } from 'vitest';
import { init, graph, GraphModel, Tensor, quantize } from '../../src/index';
import { runtime } from '../../src/wasm/load';
import { randArray } from '../model/helpers';

beforeAll(async () => {
  await init({ threads: 1 });
});

const I = 5, H = 24, O = 3;
const hex = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');

function net(): GraphModel {
  const x = graph.input('x', { type: 'float', features: I });
  const l = graph.lstm(x, { hiddenSize: H, numLayers: 2, name: 'lstm' });
  const r = graph.gru(l.output, { hiddenSize: H, name: 'gru' });
  return new GraphModel({ inputs: [x], outputs: { y: graph.linear(r.output, { outFeatures: O, name: 'out' }), h: r.hN }, seed: 4 });
}

describe('one-row graph inference over a long sequence', () => {
  it('reads packed copies with the results of the row read in place, repacked after a write, released with the model', () => {
    const T = (runtime().k.PACK_MIN_T.value as number) + 4;
    const g = net();
    const x2 = randArray(T * 2 * I, 3);
    const row0 = Float32Array.from({ length: T * I }, (_, i) => x2[Math.floor(i / I) * 2 * I + (i % I)]);
    const check = () => {
      const one = g.forward({ x: new Tensor(row0, [T, 1, I]) });
      const two = g.forward({ x: new Tensor(x2, [T, 2, I]) });
      const y2 = two.y.data as Float32Array;
      expect(hex(one.y.data as Float32Array)).toBe(hex(Float32Array.from({ length: T * O }, (_, i) => y2[Math.floor(i / O) * 2 * O + (i % O)])));
      expect(hex(one.h.data as Float32Array)).toBe(hex((two.h.data as Float32Array).subarray(0, H)));
      return one.y.data as Float32Array;
    };
    expect(g.packedFloats).toBe(0);
    const before = check();
    expect(g.packedFloats).toBeGreaterThan(0); // the one-row plan keeps packed copies
    g.setParameter('lstm.weight_hh_l1', randArray(4 * H * H, 9, 0.2));
    const after = check(); // repacked: the new weights, as read in place
    expect(hex(after)).not.toBe(hex(before));
    // a short sequence packs nothing
    const short = net();
    short.forward({ x: new Tensor(row0.subarray(0, 3 * I), [3, 1, I]) });
    expect(short.packedFloats).toBe(0);
    quantize(short, { weights: 'int8' });
    short.forward({ x: new Tensor(row0, [T, 1, I]) });
    expect(short.packedFloats).toBe(0); // int8 weights are read in place
    short.dispose();
    g.dispose();
  });
});
