// WorkerPool against the in-process graph it replicates, on the built package (dist/), since
// the workers run the built worker entry: a multi-input graph's forward (ids, float and vector
// inputs with lengths; sequence, attention-weight and vector outputs) is bit-identical to
// model.forward; Seq2Seq decoding through the pool (greedy and beam, n-best, attention weights)
// equals Seq2Seq.translate exactly (and an ensemble pool Seq2Seq.translateEnsemble); a worker that crashes mid-call rejects with a WorkerError and
// the pool then serves normally; validation is typed and happens before anything is sent.
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as l from '../../dist/index.js';
import { keptPools } from './kept-pools';
import { prng, randArray } from '../model/helpers';

const { graph: g, Tensor } = l;
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const keep = keptPools();
const pool = async (src: l.PoolSource, opts: l.WorkerPoolOptions = {}): Promise<l.WorkerPool> => keep(await l.WorkerPool.create(src, { workers: 2, ...opts }));

// src ids → embedding → bidirectional GRU (encoder); cond vector → linear → tanh as the decoder
// LSTM's h0 over float features; general attention of the decoder over the encoder; logSoftmax
// logits, the attention weights, the encoder's mean over valid steps and its final states.
const V = 9, F = 3, C = 4, O = 7;
function net(seed: number): l.GraphModel {
  const src = g.input('src', { type: 'ids', vocabSize: V });
  const feats = g.input('feats', { type: 'float', features: F });
  const cond = g.input('cond', { type: 'vector', features: C });
  const enc = g.gru(g.embedding(src, { embeddingDim: 5 }), { hiddenSize: 6, bidirectional: true, name: 'enc' });
  const h0 = g.tanh(g.linear(cond, { outFeatures: 6, name: 'bridge' }));
  const dec = g.lstm(feats, { hiddenSize: 6, initialState: { h: h0 }, name: 'dec' });
  const att = g.attention(dec.output, enc.output, { score: 'general', name: 'att' });
  const logp = g.logSoftmax(g.linear(g.concat([dec.output, att.context]), { outFeatures: O, name: 'out' }));
  return new l.GraphModel({ inputs: [src, feats, cond], outputs: { logp, weights: att.weights, pooled: g.pool(enc.output, { mode: 'mean' }), hN: enc.hN }, seed });
}
function feed(B: number, seed: number): l.Feed {
  const r = prng(seed);
  const Ts = 6, Tt = 4;
  const len = (T: number) => Array.from({ length: B }, (_, b) => (b === 0 ? T : 1 + Math.floor(r() * T)));
  return {
    src: { data: new Tensor(Int32Array.from({ length: Ts * B }, () => Math.floor(r() * V)), [Ts, B]), lengths: len(Ts) },
    feats: { data: l.tensor(randArray(Tt * B * F, seed + 1), [Tt, B, F]), lengths: len(Tt) },
    cond: l.tensor(randArray(B * C, seed + 2), [B, C]),
  };
}
function expectSameOutputs(got: Record<string, l.Tensor>, want: Record<string, l.Tensor>): void {
  expect(Object.keys(got)).toEqual(Object.keys(want));
  for (const k of Object.keys(want)) {
    expect(got[k].shape, k).toEqual(want[k].shape);
    expect(bits(got[k].data as Float32Array), k).toEqual(bits(want[k].data as Float32Array));
  }
}

describe('WorkerPool.forward: shards concatenated equal the in-process forward bit for bit', () => {
  it('ids, float and vector inputs with lengths; sequence, attention-weight and vector outputs; 2 and 3 workers', async () => {
    const m = net(3);
    for (const workers of [2, 3]) {
      const p = await pool(m, { workers });
      expect(p.size).toBe(workers);
      for (const B of [7, 2]) {
        const f = feed(B, 10 + B);
        const want = m.forward(f);
        expect(want.weights.shape).toEqual([4, B, 6]);
        expectSameOutputs(await p.forward(f), want);
      }
    }
  });

  it('parameter changes reach the workers; concurrent calls each get their own answer', async () => {
    const m = net(4);
    const p = await pool(m);
    const fs = [1, 2, 3].map((s) => feed(5, s));
    const got = await Promise.all(fs.map((f) => p.forward(f)));
    fs.forEach((f, k) => expectSameOutputs(got[k], m.forward(f)));
    const before = bits((await p.forward(fs[0])).logp.data as Float32Array);
    m.setParameter('out.weight', randArray(m.getParameter('out.weight').length, 9));
    const after = await p.forward(fs[0]);
    expect(bits(after.logp.data as Float32Array)).not.toEqual(before);
    expectSameOutputs(after, m.forward(fs[0]));
  });
});

// A tiny untrained digit model: its decodes are long and varied, which is what the comparison needs.
function seq2seq(attention: l.Seq2SeqAttention): l.Seq2Seq {
  const digits = ['0123456789'];
  return new l.Seq2Seq({ cell: 'lstm', hidden: 8, embedding: 4, bidirectional: true, attention, seed: 11, source: l.TokenVocab.fromTexts('chars', digits), target: l.TokenVocab.fromTexts('chars', digits) });
}
const texts = Array.from({ length: 23 }, (_, i) => String(7 ** (i % 9) * (i + 1)).slice(0, 1 + (i % 7)));

describe('WorkerPool.translate equals Seq2Seq.translate', () => {
  it('greedy and beam search (n-best, length normalisation, attention weights), several chunks per worker', async () => {
    const s = seq2seq('general');
    const p = await pool(s);
    expect(p.app).toBe(s);
    for (const o of [{ maxLength: 6, batchSize: 4 }, { beam: 3, nbest: 3, alpha: 0.6, maxLength: 5, batchSize: 5 }, { beam: 2 }]) {
      const want = s.translate(texts, o);
      const got = (await p.translate(texts, o)) as l.Translation[];
      expect(got).toEqual(want);
      expect(got[5].attention.length).toBe(got[5].tokens.length + 1);
    }
    expect(await p.translate([])).toEqual([]);
  });

  it('from the model file bytes (the pool owns and disposes the model); without attention', async () => {
    const s = seq2seq('none');
    const p = await l.WorkerPool.create(s.serialize(), { workers: 2 });
    expect(p.app).not.toBe(s);
    const o = { beam: 4, nbest: 2, maxLength: 5, batchSize: 3 };
    expect(await p.translate(texts, o)).toEqual(s.translate(texts, o));
    const model = p.model;
    await p.dispose();
    expect(() => model.getParameter(model.parameters()[0].name)).toThrow(l.StateError);
    await expect(p.translate(texts)).rejects.toBeInstanceOf(l.StateError);
  });
});

describe('WorkerPool.createEnsemble decodes as Seq2Seq.translateEnsemble', () => {
  it('greedy and beam search with three members, from the models and from their file bytes; vocabularies checked before starting', async () => {
    const members = [seq2seq('general'), seq2seq('none'), seq2seq('dot')];
    const p = keep(await l.WorkerPool.createEnsemble(members, { workers: 2 }));
    expect(p.members).toEqual(members.slice(1));
    for (const o of [{ maxLength: 6, batchSize: 4 }, { beam: 3, nbest: 3, alpha: 0.6, maxLength: 5, batchSize: 5 }]) {
      const want = l.Seq2Seq.translateEnsemble(members, texts, o);
      expect(await p.translate(texts, o)).toEqual(want);
      // and not the first member alone
      expect(want.map((t) => t.score)).not.toEqual(members[0].translate(texts, o).map((t) => t.score));
    }
    // the same pool's workers then serve a plain pool's model again (their extra replicas released)
    const plain = await pool(members[0]);
    expect(await plain.translate(texts, { beam: 2 })).toEqual(members[0].translate(texts, { beam: 2 }));
    const fromBytes = await l.WorkerPool.createEnsemble(members.map((m) => m.serialize()), { workers: 2 });
    const o = { beam: 2, nbest: 2, maxLength: 5 };
    expect(await fromBytes.translate(texts, o)).toEqual(l.Seq2Seq.translateEnsemble(members, texts, o));
    await fromBytes.dispose();
    const other = new l.Seq2Seq({ cell: 'gru', hidden: 4, embedding: 2, seed: 1, source: l.TokenVocab.fromTexts('chars', ['abc']), target: l.TokenVocab.fromTexts('chars', ['abc']) });
    await expect(l.WorkerPool.createEnsemble([members[0], other], { workers: 2 })).rejects.toThrow("Expected every member to have the first one's source vocabulary, got another in members[1]");
    await expect(l.WorkerPool.createEnsemble([], { workers: 2 })).rejects.toThrow(/non-empty array/);
    await expect(l.WorkerPool.createEnsemble([members[0], members[1].serialize()], { workers: 2 })).rejects.toThrow(/a mixture/);
    other.dispose();
  });
});

describe('errors: typed, checked before anything is sent, a crashed worker replaced', () => {
  it('a worker that exits mid-call rejects with WorkerError; the next calls are answered correctly', async () => {
    process.env.RNN_WASM_CRASH_ONCE = join(mkdtempSync(join(tmpdir(), 'rnn-wasm-crash-')), 'crashed');
    const s = seq2seq('dot');
    let p: l.WorkerPool;
    try {
      p = await pool(s, { workerUrl: fixture('crash-once-worker.mjs') });
    } finally {
      delete process.env.RNN_WASM_CRASH_ONCE;
    }
    const f = { src: { data: new Tensor(Int32Array.from({ length: 12 }, (_, i) => 4 + (i % 10)), [4, 3]), lengths: [4, 2, 3] }, tgt: new Tensor(new Int32Array(6).fill(1), [2, 3]) };
    await expect(p.forward(f)).rejects.toBeInstanceOf(l.WorkerError);
    expectSameOutputs(await p.forward(f), s.model.forward(f));
    const o = { beam: 3, maxLength: 4, batchSize: 4 };
    await expect(p.translate(texts, o)).rejects.toThrow(l.WorkerError);
    expect(await p.translate(texts, o)).toEqual(s.translate(texts, o));
  });

  it('bad feeds, texts and options are the library errors of the in-process call; the pool still works', async () => {
    const m = net(5);
    const p = await pool(m);
    const f = feed(3, 1);
    await expect(p.forward({ ...f, cond: l.tensor(new Float32Array(3 * 5), [3, 5]) })).rejects.toBeInstanceOf(l.ShapeError);
    await expect(p.forward({ src: f.src, feats: f.feats })).rejects.toThrow('Expected a value for input cond, got none');
    await expect(p.translate(['1'])).rejects.toThrow('Expected a pool created from an application with translate (seq2seq) for translate, got one over a plain GraphModel');
    expectSameOutputs(await p.forward(f), m.forward(f));
    const s = seq2seq('additive');
    const ps = await pool(s);
    await expect(ps.translate(['12', ''])).rejects.toThrow('Expected texts[1] to have at least one token, got none');
    await expect(ps.translate(['12'], { beam: 2, nbest: 3 })).rejects.toBeInstanceOf(l.ValueError);
    await expect(ps.translate(['12'], { beams: 2 } as never)).rejects.toThrow(/unknown key beams/);
    await expect(ps.translate(['12'], { batchSize: 0 })).rejects.toThrow(/batchSize/);
    await expect(l.WorkerPool.create({} as never)).rejects.toThrow(/Expected a layer or Sequential model, a GraphModel, an application holding one \(seq2seq\) or the bytes of a model file, got/);
    const gone = net(6);
    gone.dispose();
    await expect(l.WorkerPool.create(gone)).rejects.toBeInstanceOf(l.StateError);
  });
});
