// Data-parallel training of graphs in WorkerPool (on the built package: the workers run its
// worker entry): a pool of one worker computes exactly model.trainStep / model.evaluate (same
// programs, same scales); two and three workers equal them within float rounding over several
// steps, with one loss (shards weighted by their share of the counted targets) and with two losses
// on a sequence and a vector output (workers scale by the batch's counts); dropout masks come from
// per-worker generators (reproducible for a seed and a worker count); refused calls (tbptt, int8,
// a bad batch) change nothing.
import { describe, expect, it } from 'vitest';
import * as l from '../../dist/index.js';
import { keptPools } from './kept-pools';
import { prng, randArray } from '../model/helpers';

const { graph: g, Tensor } = l;
const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');
const keep = keptPools();
const pool = async (m: l.GraphModel, workers: number): Promise<l.WorkerPool> => keep(await l.WorkerPool.create(m, { workers }));

const V = 9, F = 3, C = 4, O = 7, H = 6;
// src ids → embedding → GRU (encoder, mean-pooled); cond → linear → tanh as the decoder LSTM's h0
// over float features; attention of the decoder over the encoder; logSoftmax logits.
function net(seed: number, p = 0): l.GraphModel {
  const src = g.input('src', { type: 'ids', vocabSize: V });
  const feats = g.input('feats', { type: 'float', features: F });
  const cond = g.input('cond', { type: 'vector', features: C });
  const enc = g.gru(g.embedding(src, { embeddingDim: 5, name: 'emb' }), { hiddenSize: H, name: 'enc' });
  const h0 = g.tanh(g.linear(cond, { outFeatures: H, name: 'bridge' }));
  const dec = g.lstm(feats, { hiddenSize: H, initialState: { h: h0 }, name: 'dec' });
  const att = g.attention(dec.output, enc.output, { score: 'general', name: 'att' });
  const logp = g.logSoftmax(g.linear(g.dropout(g.concat([dec.output, att.context]), { p, name: 'drop' }), { outFeatures: O, name: 'out' }), { name: 'logp' });
  return new l.GraphModel({ inputs: [src, feats, cond], outputs: { logp, pooled: g.linear(g.pool(enc.output, { mode: 'mean', name: 'avg' }), { outFeatures: 2, name: 'head' }) }, seed });
}
function batch(B: number, seed: number): l.GraphBatch {
  const r = prng(seed);
  const Ts = 6, Tt = 5;
  const len = (T: number) => Array.from({ length: B }, (_, b) => (b === 0 ? T : 1 + Math.floor(r() * T)));
  return {
    inputs: {
      src: { data: new Tensor(Int32Array.from({ length: Ts * B }, () => Math.floor(r() * V)), [Ts, B]), lengths: len(Ts) },
      feats: { data: l.tensor(randArray(Tt * B * F, seed + 1), [Tt, B, F]), lengths: len(Tt) },
      cond: l.tensor(randArray(B * C, seed + 2), [B, C]),
    },
    targets: {
      logp: new Tensor(Int32Array.from({ length: Tt * B }, () => (r() < 0.2 ? -1 : Math.floor(r() * O))), [Tt, B]),
      pooled: l.tensor(randArray(B * 2, seed + 3), [B, 2]),
    },
  };
}
const one = (b: l.GraphBatch): l.GraphBatch => ({ inputs: b.inputs, targets: { logp: b.targets.logp } });
function maxRel(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return m;
}

describe('WorkerPool.trainStep', () => {
  it('one worker equals model.trainStep and model.evaluate bit for bit (one loss and two)', async () => {
    for (const two of [false, true]) {
      const m = net(3), ref = net(3);
      const p = await pool(m, 1);
      const losses: Record<string, l.LossOption> = two ? { logp: 'crossEntropy', pooled: { loss: 'mse', weight: 0.5 } } : { logp: 'crossEntropy' };
      const om = new l.Adam({ lr: 0.01 }), or = new l.Adam({ lr: 0.01 });
      for (let s = 0; s < 3; s++) {
        const b = two ? batch(5, 20 + s) : one(batch(5, 20 + s));
        const got = await p.trainStep(b, { losses, optimizer: om, clipNorm: 0.5 });
        const want = ref.trainStep(b, { losses, optimizer: or, clipNorm: 0.5 });
        expect(got).toEqual(want);
      }
      for (const q of ref.parameters()) expect(bits(m.getParameter(q.name)), q.name).toBe(bits(ref.getParameter(q.name)));
      const b = two ? batch(4, 40) : one(batch(4, 40));
      expect(await p.evaluate(b, { losses })).toEqual(ref.evaluate(b, { losses }));
      ref.dispose();
    }
  });

  it('two and three workers equal model.trainStep within float rounding over several steps (one loss and two)', async () => {
    for (const [workers, two] of [[2, false], [3, true]] as const) {
      const m = net(5), ref = net(5);
      const p = await pool(m, workers);
      const losses: Record<string, l.LossOption> = two ? { logp: 'crossEntropy', pooled: 'mse' } : { logp: 'crossEntropy' };
      const om = new l.SGD({ lr: 0.2 }), or = new l.SGD({ lr: 0.2 });
      for (let s = 0; s < 4; s++) {
        const b = two ? batch(7, 30 + s) : one(batch(7, 30 + s));
        const got = await p.trainStep(b, { losses, optimizer: om });
        const want = ref.trainStep(b, { losses, optimizer: or });
        expect(Math.abs(got.loss - want.loss) / want.loss).toBeLessThan(1e-5);
        for (const k of Object.keys(want.losses)) expect(Math.abs(got.losses[k] - want.losses[k]) / want.losses[k]).toBeLessThan(1e-5);
        expect(Math.abs(got.gradNorm - want.gradNorm) / want.gradNorm).toBeLessThan(1e-4);
      }
      let moved = 0;
      for (const q of ref.parameters()) {
        expect(maxRel(m.getParameter(q.name), ref.getParameter(q.name)), q.name).toBeLessThan(1e-5);
        moved = Math.max(moved, maxRel(m.getParameter(q.name), net(5).getParameter(q.name)));
      }
      expect(moved).toBeGreaterThan(1e-3); // the steps changed the parameters (the comparison can fail)
      ref.dispose();
    }
  });

  it('dropout masks are reproducible for a seed and a worker count, and differ from no dropout', async () => {
    const run = async (p: number): Promise<string> => {
      const m = net(7, p);
      const pl = await pool(m, 2);
      const o = new l.SGD({ lr: 0.1 });
      for (let s = 0; s < 2; s++) await pl.trainStep(one(batch(6, 50 + s)), { losses: { logp: 'crossEntropy' }, optimizer: o });
      return bits(m.getParameter('out.weight'));
    };
    const a = await run(0.4);
    expect(await run(0.4)).toBe(a);
    expect(await run(0)).not.toBe(a);
  });

  it('refuses tbptt, int8 models and bad batches before anything changes', async () => {
    const m = net(9);
    const p = await pool(m, 2);
    const before = m.stateDict();
    const o = new l.Adam({ lr: 0.1 });
    const b = one(batch(4, 60));
    await expect(p.trainStep(b, { losses: { logp: 'crossEntropy' }, optimizer: o, tbptt: 2 })).rejects.toThrow(/Expected no tbptt for WorkerPool.trainStep, got tbptt 2/);
    await expect(p.trainStep({ inputs: b.inputs, targets: { logp: l.tensor(new Float32Array(20), [5, 4]) } }, { losses: { logp: 'crossEntropy' }, optimizer: o })).rejects.toBeInstanceOf(l.DTypeError);
    await expect(p.trainStep(b, { losses: { nope: 'mse' }, optimizer: o })).rejects.toThrow(/Expected losses on outputs logp, pooled, got unknown nope/);
    await expect(p.trainStep(b, { losses: { logp: 'crossEntropy' }, optimizer: o, lr: 1 } as never)).rejects.toBeInstanceOf(l.ValueError);
    expect(o.step).toBe(0);
    for (const [k, v] of Object.entries(before)) expect(bits(m.getParameter(k))).toBe(bits(v));
    l.quantize(m, { weights: 'int8' });
    await expect(p.trainStep(b, { losses: { logp: 'crossEntropy' }, optimizer: o })).rejects.toBeInstanceOf(l.StateError);
    await expect(p.evaluate(b, { losses: { logp: 'crossEntropy' } })).rejects.toBeInstanceOf(l.StateError);
  });
});
