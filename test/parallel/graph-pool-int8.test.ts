// WorkerPool with int8 weights (on the built package, as graph-pool.test.ts): the replicas
// derive their int8 copies from the spec's marker and the parameters sent with each task, so a
// pool over a quantized graph forwards bit for bit what the model does in process, a pool over a
// quantized Seq2Seq (or its file) translates exactly as Seq2Seq.translate does, and a pool started
// before quantize() serves int8 from the next call on.
import { describe, expect, it } from 'vitest';
import * as l from '../../dist/index.js';
import { keptPools } from './kept-pools';
import { prng, randArray } from '../model/helpers';

const { graph: g, Tensor } = l;
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
const keep = keptPools();
const pool = async (src: l.PoolSource): Promise<l.WorkerPool> => keep(await l.WorkerPool.create(src, { workers: 2 }));

// ids → embedding → bidirectional GRU → attention of an LSTM over float features → linear
const V = 9, F = 3;
function net(seed: number): l.GraphModel {
  const src = g.input('src', { type: 'ids', vocabSize: V });
  const feats = g.input('feats', { type: 'float', features: F });
  const enc = g.gru(g.embedding(src, { embeddingDim: 5 }), { hiddenSize: 16, bidirectional: true, name: 'enc' });
  const dec = g.lstm(feats, { hiddenSize: 16, name: 'dec' });
  const att = g.attention(dec.output, enc.output, { score: 'general', name: 'att' });
  const y = g.linear(g.concat([dec.output, att.context]), { outFeatures: 7, name: 'out' });
  return new l.GraphModel({ inputs: [src, feats], outputs: { y }, seed });
}
function feed(B: number, seed: number): l.Feed {
  const r = prng(seed);
  return {
    src: { data: new Tensor(Int32Array.from({ length: 6 * B }, () => Math.floor(r() * V)), [6, B]), lengths: Array.from({ length: B }, (_, b) => (b ? 1 + Math.floor(r() * 6) : 6)) },
    feats: l.tensor(randArray(4 * B * F, seed + 1), [4, B, F]),
  };
}
const texts = Array.from({ length: 17 }, (_, i) => String(7 ** (i % 9) * (i + 1)).slice(0, 1 + (i % 6)));
function seq2seq(): l.Seq2Seq {
  const digits = ['0123456789'];
  return new l.Seq2Seq({ cell: 'lstm', hidden: 16, embedding: 4, bidirectional: true, attention: 'general', seed: 11, source: l.TokenVocab.fromTexts('chars', digits), target: l.TokenVocab.fromTexts('chars', digits) });
}

describe('WorkerPool with int8 weights', () => {
  it('forward over a quantized graph equals the in-process int8 forward bit for bit; a pool started before quantize() follows it', async () => {
    const m = net(3);
    const p = await pool(m);
    const f = feed(5, 7);
    const f32 = m.forward(f).y.data as Float32Array;
    expect(bits((await p.forward(f)).y.data as Float32Array)).toEqual(bits(f32));
    l.quantize(m, { weights: 'int8' });
    const want = m.forward(f).y.data as Float32Array;
    expect(bits(want)).not.toEqual(bits(f32));
    expect(bits((await p.forward(f)).y.data as Float32Array)).toEqual(bits(want));
    // a fresh pool over the quantized model, and one over its file
    expect(bits((await (await pool(m)).forward(f)).y.data as Float32Array)).toEqual(bits(want));
    const fromFile = await pool(l.serialize(m));
    expect(fromFile.model.quantized).toBe('int8');
    expect(bits((await fromFile.forward(f)).y.data as Float32Array)).toEqual(bits(want));
  });

  it('translate over a quantized Seq2Seq (and its file) equals Seq2Seq.translate after quantize(), greedy and beam', async () => {
    const s = l.quantize(seq2seq(), { weights: 'int8' });
    const plain = seq2seq();
    const fromModel = await pool(s);
    const fromFile = await pool(s.serialize());
    for (const o of [{ maxLength: 6, batchSize: 4 }, { beam: 3, nbest: 2, maxLength: 5, batchSize: 5 }]) {
      const want = s.translate(texts, o);
      expect(want.map((t) => t.score)).not.toEqual(plain.translate(texts, o).map((t) => t.score));
      expect(await fromModel.translate(texts, o)).toEqual(want);
      expect(await fromFile.translate(texts, o)).toEqual(want);
    }
    plain.dispose();
  });
});
