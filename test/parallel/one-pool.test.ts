// One WorkerPool for every model (issue 22), on the built package (the workers run its worker
// entry): the same class serves a Sequential, a GraphModel, an application and a layer model's
// file; a layer pool runs the model's chain graph on its workers and gives model.forward bit for
// bit, and on one worker model.trainStep bit for bit (loss, norm and every parameter after); a call
// in the other kind's form is a ValueError naming the expected one, and changes nothing.
import { describe, expect, it } from 'vitest';
import * as l from '../../dist/index.js';
import { keptPools } from './kept-pools';
import { prng, randArray } from '../model/helpers';

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
const keep = keptPools();
const errorOf = (f: () => unknown): Error => {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('Expected the call to throw, got a return');
};

const T = 5, B = 4, I = 3, H = 6, O = 4;
// batch-first, two LSTM layers, a linear head and a trailing softmax (folded into the loss): every
// layout the pool translates (no dropout: a pool's masks come from per-worker generators, so
// training with dropout is reproducible for a worker count but not the in-process masks)
const seq = (seed = 7) => new l.Sequential([
  l.layers.lstm({ inputSize: I, hiddenSize: H, numLayers: 2 }),
  l.layers.linear({ inFeatures: H, outFeatures: O }),
  l.layers.softmax(),
], { seed, batchFirst: true });
const x = l.tensor(randArray(B * T * I, 1), [B, T, I]);
const lengths = [5, 2, 4, 1];
const h0 = randArray(2 * B * H, 2, 0.5), c0 = randArray(2 * B * H, 3, 0.5);
const r = prng(4);
const y = new l.Tensor(Int32Array.from({ length: B * T }, () => (r() < 0.2 ? -1 : Math.floor(r() * O))), [B, T]);

function graphModel(): l.GraphModel {
  const ids = l.graph.input('ids', { type: 'ids', vocabSize: 6 });
  const rnn = l.graph.gru(l.graph.embedding(ids, { embeddingDim: 4, name: 'e' }), { hiddenSize: 5, name: 'r' });
  return new l.GraphModel({ inputs: [ids], outputs: { y: l.graph.linear(rnn.output, { outFeatures: 3, name: 'o' }) }, seed: 2 });
}
const digits = ['0123456789'];
const seq2seq = () => new l.Seq2Seq({ cell: 'gru', hidden: 6, embedding: 4, seed: 3, source: l.TokenVocab.fromTexts('chars', digits), target: l.TokenVocab.fromTexts('chars', digits) });

describe('one WorkerPool for every model', () => {
  it('the same class serves a Sequential, a GraphModel, an application and a layer model file; GraphWorkerPool is that class', async () => {
    const m = seq(), gm = graphModel(), s = seq2seq();
    const pools = [await l.WorkerPool.create(m, { workers: 2 }), await l.WorkerPool.create(gm, { workers: 2 }), await l.WorkerPool.create(s, { workers: 2 }), await l.WorkerPool.create(l.serialize(m), { workers: 2 })].map(keep);
    for (const p of pools) expect(p).toBeInstanceOf(l.WorkerPool);
    expect(new Set(pools.map((p) => p.constructor)).size).toBe(1);
    expect(l.GraphWorkerPool).toBe(l.WorkerPool);
    expect(pools.map((p) => p.app)).toEqual([null, null, s, null]);
    // each in its own form, each equal to the in-process call
    expect(bits((await pools[0].forward(x, { lengths, h0, c0 })).output.data)).toEqual(bits(m.forward(x, { lengths, h0, c0 }).output.data));
    const f = { ids: new l.Tensor(Int32Array.from([1, 2, 3, 4, 5, 0]), [2, 3]) };
    expect(bits((await pools[1].forward(f)).y.data as Float32Array)).toEqual(bits(gm.forward(f).y.data as Float32Array));
    expect(await pools[2].translate(['12', '907'])).toEqual(s.translate(['12', '907']));
    // from a layer file: the pool loaded the model (a Sequential) and owns it
    const fromFile = pools[3];
    expect(fromFile.model).toBeInstanceOf(l.Sequential);
    expect(fromFile.model).not.toBe(m);
    expect(bits((await fromFile.forward(x, { lengths })).output.data)).toEqual(bits(m.forward(x, { lengths }).output.data));
    const loaded = fromFile.model as l.Sequential;
    await fromFile.dispose();
    expect(() => loaded.getParameter('1.weight')).toThrow(l.StateError);
    await expect(pools[0].translate(['1'])).rejects.toThrow(/got one over a layer or Sequential model/);
  });

  it('a layer pool: forward equals model.forward bit for bit (2 workers); trainStep and evaluate on 1 worker equal the model\'s bit for bit', async () => {
    const m = seq(9);
    const p2 = keep(await l.WorkerPool.create(m, { workers: 2 }));
    const a = m.forward(x, { lengths, h0, c0 });
    const b = await p2.forward(x, { lengths, h0, c0 });
    expect(b.output.shape).toEqual([B, T, O]);
    expect(bits(b.output.data)).toEqual(bits(a.output.data));
    expect(bits(b.hN.data)).toEqual(bits(a.hN.data));
    expect(bits(b.cN!.data)).toEqual(bits(a.cN!.data));
    // two models from one seed, one trained in process and one through a pool of one worker
    const single = seq(10), pooled = seq(10);
    const p1 = keep(await l.WorkerPool.create(pooled, { workers: 1 }));
    const o1 = new l.Adam({ lr: 0.05 }), o2 = new l.Adam({ lr: 0.05 });
    const batch = { x, y, lengths, h0, c0 };
    expect(await p1.evaluate(batch, { loss: 'crossEntropy' })).toBe(single.evaluate(batch, { loss: 'crossEntropy' }));
    for (let k = 0; k < 3; k++) {
      const want = single.trainStep(batch, { loss: 'crossEntropy', optimizer: o1, clipNorm: 0.5 });
      const got = await p1.trainStep(batch, { loss: 'crossEntropy', optimizer: o2, clipNorm: 0.5 });
      expect(got).toEqual(want);
      for (const { name } of single.parameters()) expect(bits(pooled.getParameter(name)), `${name} after step ${k + 1}`).toEqual(bits(single.getParameter(name)));
    }
    // the parameters moved (the comparison is not between untouched models)
    expect(bits(single.getParameter('1.weight'))).not.toEqual(bits(seq(10).getParameter('1.weight')));
  });

  it('a call in the other kind\'s form is a ValueError naming the expected form; nothing changes', async () => {
    const m = seq(11);
    const lp = keep(await l.WorkerPool.create(m, { workers: 2 }));
    const before = bits(m.getParameter('0.weight_hh_l1'));
    const opt = new l.Adam();
    const feed = { x: { data: l.tensor(new Float32Array(T * B * I), [T, B, I]), lengths } };
    await expect(lp.forward(feed as never)).rejects.toThrow(/^Expected forward\(x: Tensor, options\?\) on a pool over a layer or Sequential model, got the other form forward\(feed\)/);
    await expect(lp.forward(feed as never)).rejects.toBeInstanceOf(l.ValueError);
    const gbatch = { inputs: feed, targets: { logits: y } };
    await expect(lp.trainStep(gbatch as never, { losses: { logits: 'crossEntropy' }, optimizer: opt } as never)).rejects.toThrow(/^Expected trainStep\(\{ x, y, … \}, \{ loss, optimizer, … \}\) on a pool over a layer or Sequential model/);
    await expect(lp.evaluate(gbatch as never, { losses: { logits: 'crossEntropy' } } as never)).rejects.toThrow(/^Expected evaluate\(\{ x, y, … \}, \{ loss \}\) on a pool over a layer or Sequential model/);
    expect(opt.isBoundTo(m.runner.arena)).toBe(false);
    expect(bits(m.getParameter('0.weight_hh_l1'))).toEqual(before);
    // and the model's own checks, with the model's messages, for a call in the right form
    const narrow = l.tensor(new Float32Array(B * T * 2), [B, T, 2]);
    const modelError = errorOf(() => m.forward(narrow));
    expect(modelError).toBeInstanceOf(l.ShapeError);
    await expect(lp.forward(narrow)).rejects.toThrow(modelError.message);
    await expect(lp.trainStep({ x, y, h0: new Float32Array(3) }, { loss: 'crossEntropy', optimizer: opt })).rejects.toBeInstanceOf(l.ShapeError);

    const gm = graphModel();
    const gp = keep(await l.WorkerPool.create(gm, { workers: 2 }));
    const ids = new l.Tensor(Int32Array.from([1, 2, 3, 4]), [2, 2]);
    await expect(gp.forward(ids as never)).rejects.toThrow(/^Expected forward\(feed\), a feed of named inputs on a pool over a graph model, got the other form forward\(x: Tensor, options\?\)/);
    await expect(gp.trainStep({ x: ids, y: ids } as never, { loss: 'mse', optimizer: opt } as never)).rejects.toThrow(/^Expected trainStep\(\{ inputs, targets \}, \{ losses, optimizer, … \}\) on a pool over a graph model/);
    await expect(gp.evaluate({ x: ids, y: ids } as never, { loss: 'mse' } as never)).rejects.toBeInstanceOf(l.ValueError);
    expect(opt.isBoundTo(gm.runner.arena)).toBe(false);
    // both pools still serve
    expect(bits((await lp.forward(x)).output.data)).toEqual(bits(m.forward(x).output.data));
    expect(bits((await gp.forward({ ids })).y.data as Float32Array)).toEqual(bits(gm.forward({ ids }).y.data as Float32Array));
  });
});
