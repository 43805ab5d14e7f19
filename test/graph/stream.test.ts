// GraphModel.stream(): one step of everything downstream of the graph's sequence input per call, as
// a Sequential stream. A chain graph's stream equals the equal Sequential's stream bit for bit at
// batch 1 (packed weight copies) and batch 2, equals its own whole-sequence forward step by step,
// reads packed copies only where asked and allowed, takes a context for its other inputs, and
// refuses bad options with a ValueError.
import { beforeAll, describe, expect, it } from 'vitest';
import { init, graph, GraphModel, Sequential, layers, Tensor, quantize, ShapeError, ValueError } from '../../src/index';
import { randArray } from '../model/helpers';

beforeAll(async () => {
  await init();
});

const V = 9, E = 4, H = 6, O = 5;
const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');

function chain(): { seq: Sequential; g: GraphModel } {
  const seq = new Sequential([
    layers.embedding({ numEmbeddings: V, embeddingDim: E }), layers.lstm({ inputSize: E, hiddenSize: H, numLayers: 2 }), layers.gru({ inputSize: H, hiddenSize: H }),
    layers.linear({ inFeatures: H, outFeatures: O }), layers.softmax(),
  ], { seed: 3 });
  const x = graph.input('x', { type: 'ids', vocabSize: V });
  const e = graph.embedding(x, { embeddingDim: E, name: 'emb' });
  const l = graph.lstm(e, { hiddenSize: H, numLayers: 2, name: 'lstm' });
  const r = graph.gru(l.output, { hiddenSize: H, name: 'gru' });
  const y = graph.softmax(graph.linear(r.output, { outFeatures: O, name: 'out' }), { name: 'p' });
  return { seq, g: new GraphModel({ inputs: [x], outputs: { y }, seed: 3 }) };
}

describe('GraphModel.stream', () => {
  it('equals Sequential\'s stream bit for bit at batch 1 (packed) and 2, and the whole-sequence forward', () => {
    const { seq, g } = chain();
    for (const B of [1, 2]) {
      const ss = seq.stream({ batchSize: B });
      const gs = g.stream({ batchSize: B });
      expect(gs.batchSize).toBe(B);
      expect(gs.packed).toBe(B === 1);
      expect(ss.packed).toBe(B === 1);
      const T = 6;
      const ids = Int32Array.from({ length: T * B }, (_, i) => (i * 5 + B) % V);
      const full = g.forward({ x: new Tensor(ids, [T, B]) }).y.data as Float32Array;
      for (let t = 0; t < T; t++) {
        const step = ids.subarray(t * B, (t + 1) * B);
        const a = ss.step(step);
        const b = gs.step(step).y.data as Float32Array;
        expect(bits(b), `B ${B} step ${t}`).toBe(bits(a));
        expect(bits(b)).toBe(bits(full.subarray(t * B * O, (t + 1) * B * O)));
      }
      // reset starts again from zero states
      gs.reset();
      expect(bits(gs.step(ids.subarray(0, B)).y.data as Float32Array)).toBe(bits(full.subarray(0, B * O)));
      ss.close();
      gs.close();
    }
    // packed: false reads the weights in place, with the same results
    const p = g.stream({ packed: true });
    const u = g.stream({ packed: false });
    expect(p.packed).toBe(true);
    expect(u.packed).toBe(false);
    expect(g.packedFloats).toBeGreaterThan(0);
    for (let t = 0; t < 4; t++) expect(bits(p.step([t]).y.data as Float32Array)).toBe(bits(u.step([t]).y.data as Float32Array));
    p.close();
    u.close();
    expect(g.packedFloats).toBe(0); // released with the last packing stream
    seq.dispose();
    g.dispose();
  });

  it('runs a context once (a vector input as the initial state) and checks its options', () => {
    const x = graph.input('x', { type: 'float', features: 3 });
    const z = graph.input('z', { type: 'vector', features: H });
    const r = graph.gru(x, { hiddenSize: H, name: 'gru', initialState: { h: z } });
    const g = new GraphModel({ inputs: [x, z], outputs: { y: graph.linear(r.output, { outFeatures: O, name: 'out' }) }, seed: 5 });
    const B = 2, T = 4;
    const xs = randArray(T * B * 3, 1);
    const zs = new Tensor(randArray(B * H, 2), [B, H]);
    const full = g.forward({ x: new Tensor(xs, [T, B, 3]), z: zs }).y.data as Float32Array;
    const s = g.stream({ context: { z: zs } });
    expect(s.batchSize).toBe(B);
    for (let t = 0; t < T; t++) expect(bits(s.step(xs.subarray(t * B * 3, (t + 1) * B * 3)).y.data as Float32Array)).toBe(bits(full.subarray(t * B * O, (t + 1) * B * O)));
    s.close();
    expect(() => g.stream()).toThrow(/Expected a value for input z, got none/);
    expect(() => g.stream({ context: { z: zs }, batchSize: 3 })).toThrow(ShapeError);
    expect(() => g.stream({ context: { z: zs }, packed: true })).toThrow(/Expected packed: true only with batchSize 1/);
    expect(() => g.stream({ input: 'z', context: {} })).toThrow(/Expected input to name a sequence input \(x\), got "?z"?/);
    expect(() => g.stream({ batchSize: 0, context: { z: zs } })).toThrow(ValueError);
    expect(() => g.stream({ beam: 2 } as never)).toThrow(ValueError);
    quantize(g, { weights: 'int8' });
    const z1 = new Tensor(randArray(H, 3), [1, H]);
    expect(() => g.stream({ context: { z: z1 }, packed: true })).toThrow(/Expected packed: true only for f32 weights/);
    expect(g.stream({ context: { z: z1 } }).packed).toBe(false);
    g.dispose();
    // two sequence inputs: the streamed one must be named
    const a = graph.input('a', { type: 'float', features: 3 });
    const b = graph.input('b', { type: 'float', features: 3 });
    const g2 = new GraphModel({ inputs: [a, b], outputs: { y: graph.linear(graph.concat([graph.rnn(a, { hiddenSize: H, name: 'ra' }).output]), { outFeatures: O, name: 'o' }) }, seed: 1 });
    expect(() => g2.stream({ batchSize: 1 })).toThrow(/Expected input to name the streamed sequence input \(one of a, b\), got none/);
    g2.dispose();
  });
});
