// Seq2Seq: a reversal task learnt to ≥ 99 % exact match with beam search; beam 1 equals greedy;
// a beam wider than the whole output space finds the exact best sequence of a tiny model (checked
// by enumerating every sequence); n-best scores sorted and equal to teacher-forced log-probabilities;
// batched beam search (reordered state rows) equals one input at a time; attention weights; files;
// rejected calls. Ensembles: one member is the model itself, a model with itself decodes as alone,
// and a beam over every sequence finds the best by the members' mean log-probability.
import { beforeAll, describe, expect, it } from 'vitest';
import { init, Seq2Seq, TokenVocab, ValueError, FormatError, scoreSequences, editDistance, serialize } from '../../src/index';
import { greedyChunk, searchChunk } from '../../src/apps/seq2seq/search';
import { epochBatches } from '../../src/apps/seq2seq/fit';
import { Rng } from '../../src/params/rng';
import { prng } from '../model/helpers';

type P = [string, string];
/** n random digit strings of length 1–6 and their reversals. */
function reversals(rand: () => number, n: number): P[] {
  return Array.from({ length: n }, () => {
    const s = Array.from({ length: 1 + Math.floor(rand() * 6) }, () => Math.floor(rand() * 10)).join('');
    return [s, [...s].reverse().join('')];
  });
}

const rand = prng(11);
const train = reversals(rand, 4000);
const seen = new Set(train.map((p) => p[0]));
const test = reversals(rand, 1200).filter((p) => !seen.has(p[0])).slice(0, 300);
let m: Seq2Seq;
let fitted: Awaited<ReturnType<Seq2Seq['fit']>>;

beforeAll(async () => {
  await init();
  m = Seq2Seq.fromPairs(train, { hidden: 48, embedding: 16, attention: 'general', seed: 3 });
  fitted = await m.fit(train, { epochs: 6, batchSize: 32, lr: 1e-2, validation: test.slice(0, 100), patience: 2 });
}, 120_000);

describe('training and decoding on digit reversal', () => {
  it('reaches ≥ 99 % exact match on held-out strings with beam search (and greedy)', () => {
    expect(test.length).toBeGreaterThan(200);
    for (const beam of [1, 4]) {
      const out = m.translate(test.map((p) => p[0]), { beam });
      const acc = out.filter((o, i) => o.text === test[i][1]).length / test.length;
      expect(acc).toBeGreaterThanOrEqual(0.99);
    }
    expect(fitted.best!.exactMatch).toBeGreaterThanOrEqual(0.99);
    expect(fitted.history.length).toBeGreaterThanOrEqual(2);
    expect(fitted.history[fitted.history.length - 1].loss).toBeLessThan(fitted.history[0].loss);
  });

  it('beam width 1 (the beam-search code path) gives exactly the greedy output, score and attention', () => {
    const srcs = [...test.slice(0, 40).map((p) => p[0]), '9', '0000000000'].map((t) => m.source.encode(t));
    const settings = { beam: 1, nbest: 1, alpha: 0, maxLength: (n: number) => 2 * n + 10 };
    expect(searchChunk([m.model], srcs, settings)).toEqual(greedyChunk([m.model], srcs, settings));
    const tiny = tinyModel();
    const ab = ['ab', 'ba', 'a', 'bbbab'].map((t) => tiny.source.encode(t));
    for (const L of [1, 4]) {
      const short = { ...settings, maxLength: () => L };
      expect(searchChunk([tiny.model], ab, short)).toEqual(greedyChunk([tiny.model], ab, short));
    }
    tiny.dispose();
  });

  it('n-best lists are sorted by score and each score is the teacher-forced log-probability', () => {
    const srcs = test.slice(0, 20).map((p) => p[0]);
    for (const alpha of [0, 0.7]) {
      const out = m.translate(srcs, { beam: 5, nbest: 5, alpha });
      out.forEach((o, i) => {
        expect(o.nbest.length).toBe(5);
        const scores = o.nbest.map((h) => h.score);
        expect(scores).toEqual([...scores].sort((a, b) => b - a));
        const tf = m.logProb(o.nbest.map((h) => [srcs[i], h.text] as P));
        o.nbest.forEach((h, k) => {
          expect(h.logProb).toBeCloseTo(tf[k], 4);
          const lp = alpha === 0 ? 1 : Math.pow((5 + h.tokens.length + 1) / 6, alpha);
          expect(h.score).toBeCloseTo(tf[k] / lp, 4);
        });
        expect(new Set(o.nbest.map((h) => h.text)).size).toBe(5);
      });
    }
  });

  it('attention weights of the chosen output: a row per token and </s>, over the source, each summing to 1', () => {
    const [o] = m.translate(['12345'], { beam: 3 });
    expect(o.text).toBe('54321');
    expect(o.attention.length).toBe(6);
    for (const row of o.attention) {
      expect(row.length).toBe(5);
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
    // reversal: output token k attends most to source position 4 − k
    expect(o.attention.slice(0, 5).map((r) => r.indexOf(Math.max(...r)))).toEqual([4, 3, 2, 1, 0]);
  });
});

/** An untrained model over target tokens a, b (plus the four specials): every output can be enumerated. */
function tinyModel(seed = 5, attention: 'additive' | 'none' | 'dot' = 'additive', cell: 'gru' | 'lstm' | 'rnn' = 'gru'): Seq2Seq {
  return new Seq2Seq({
    cell, hidden: 6, embedding: 3, bidirectional: true, attention, seed,
    source: TokenVocab.fromTexts('chars', ['ab']),
    target: TokenVocab.fromTexts('chars', ['ab']),
  });
}

describe('beam search is exact when the beam covers every sequence', () => {
  it('finds the best of all outputs up to the maximum length, and the n-best list is the enumeration sorted', () => {
    for (const [seed, attention, cell] of [[5, 'additive', 'gru'], [6, 'none', 'lstm'], [7, 'dot', 'rnn']] as const) {
      const tiny = tinyModel(seed, attention, cell);
      const L = 3;
      const src = 'abba';
      // every output: up to L tokens over the producible ids (</s> ends; <unk>=3, a=4, b=5), then </s>
      const seqs: number[][] = [[]];
      for (let l = 1; l <= L; l++) for (const s of seqs.filter((x) => x.length === l - 1)) for (const v of [3, 4, 5]) seqs.push([...s, v]);
      const srcIds = tiny.source.encode(src);
      const lp = tiny.logProbIds(seqs.map(() => srcIds), seqs.map((s) => Int32Array.from(s)));
      const order = seqs.map((_, i) => i).sort((a, b) => lp[b] - lp[a]);
      const [o] = tiny.translate([src], { beam: 64, nbest: 10, maxLength: L });
      expect(seqs.length).toBe(40);
      o.nbest.forEach((h, k) => {
        expect(h.tokens).toEqual(seqs[order[k]].map((id) => tiny.target.tokens[id]));
        expect(h.logProb).toBeCloseTo(lp[order[k]], 5);
      });
      // a narrow beam can only do as well or worse
      expect(tiny.translate([src], { beam: 2, maxLength: L })[0].logProb).toBeLessThanOrEqual(o.logProb + 1e-9);
      tiny.dispose();
    }
  });
});

describe('batched decoding reorders each input’s rows independently', () => {
  it('beam search over many inputs at once equals decoding each input alone', () => {
    const srcs = ['1', '22', '12345', '987654', '5', '31', ...test.slice(0, 10).map((p) => p[0])];
    const together = m.translate(srcs, { beam: 4, nbest: 3, alpha: 0.5 });
    const alone = srcs.map((s) => m.translate([s], { beam: 4, nbest: 3, alpha: 0.5 })[0]);
    together.forEach((t, i) => {
      expect(t.nbest.map((h) => h.text)).toEqual(alone[i].nbest.map((h) => h.text));
      t.nbest.forEach((h, k) => expect(h.logProb).toBeCloseTo(alone[i].nbest[k].logProb, 4));
    });
    const tiny = tinyModel();
    const ab = ['a', 'bb', 'abab', 'b'];
    const t2 = tiny.translate(ab, { beam: 3, nbest: 3, maxLength: 4, batchSize: 2 });
    ab.forEach((s, i) => expect(t2[i].nbest.map((h) => h.tokens)).toEqual(tiny.translate([s], { beam: 3, nbest: 3, maxLength: 4 })[0].nbest.map((h) => h.tokens)));
    tiny.dispose();
  });
});

describe('ensembles decode by the mean of their members\' log-probabilities', () => {
  it('one member, or a model with itself, decodes exactly as the model alone', () => {
    const srcs = ['1', '22', '12345', ...test.slice(0, 20).map((p) => p[0])];
    for (const beam of [1, 4]) {
      const alone = m.translate(srcs, { beam, nbest: beam > 1 ? 2 : 1 });
      expect(Seq2Seq.translateEnsemble([m], srcs, { beam, nbest: beam > 1 ? 2 : 1 })).toEqual(alone);
      expect(Seq2Seq.translateEnsemble([m, m], srcs, { beam, nbest: beam > 1 ? 2 : 1 })).toEqual(alone);
    }
  });

  it('a beam over every sequence finds the best of all outputs by the mean log-probability of three untrained members', () => {
    const members = [tinyModel(5, 'additive', 'gru'), tinyModel(6, 'none', 'lstm'), tinyModel(7, 'dot', 'rnn')];
    const L = 3;
    const src = 'abba';
    const seqs: number[][] = [[]];
    for (let l = 1; l <= L; l++) for (const q of seqs.filter((x) => x.length === l - 1)) for (const v of [3, 4, 5]) seqs.push([...q, v]);
    const srcIds = members[0].source.encode(src);
    const each = members.map((t) => t.logProbIds(seqs.map(() => srcIds), seqs.map((q) => Int32Array.from(q))));
    const mean = seqs.map((_, i) => (each[0][i] + each[1][i] + each[2][i]) / 3);
    const order = seqs.map((_, i) => i).sort((a, b) => mean[b] - mean[a]);
    // n-best over all 40 sequences: the whole ranking is the mean's
    const [o] = Seq2Seq.translateEnsemble(members, [src], { beam: 64, nbest: 40, maxLength: L });
    expect(o.nbest.length).toBe(40);
    o.nbest.forEach((h, k) => {
      expect(h.tokens).toEqual(seqs[order[k]].map((id) => members[0].target.tokens[id]));
      expect(h.logProb).toBeCloseTo(mean[order[k]], 5);
    });
    // and no single member's: each member ranks the 40 sequences otherwise
    for (const e of each) expect(seqs.map((_, i) => i).sort((a, b) => e[b] - e[a])).not.toEqual(order);
    for (const t of members) t.dispose();
  });

  it('rejects no members, non-models and members with another vocabulary', () => {
    expect(() => Seq2Seq.translateEnsemble([], ['1'])).toThrow(/non-empty array of Seq2Seq/);
    expect(() => Seq2Seq.translateEnsemble([m, {} as Seq2Seq], ['1'])).toThrow(ValueError);
    const other = tinyModel();
    expect(() => Seq2Seq.translateEnsemble([m, other], ['1'])).toThrow("Expected every member to have the first one's source vocabulary, got another in members[1]");
    other.dispose();
  });
});

describe('files, vocabularies and metrics', () => {
  it('a saved model decodes the same after loading; a graph that contradicts its metadata is a FormatError', async () => {
    const bytes = m.serialize();
    const back = Seq2Seq.deserialize(bytes);
    expect(back.config).toEqual(m.config);
    expect(back.source.tokens).toEqual(m.source.tokens);
    const srcs = test.slice(0, 30).map((p) => p[0]);
    expect(back.translate(srcs, { beam: 3, nbest: 2 })).toEqual(m.translate(srcs, { beam: 3, nbest: 2 }));
    back.dispose();
    // a file whose metadata says hidden 7 while its graph has hidden 6
    const other = tinyModel();
    const meta = { version: 1, config: { ...other.config, hiddenSize: 7 }, source: [...other.source.tokens], target: [...other.target.tokens] };
    const wrong = serialize(other.model, { metadata: { seq2seq: meta } });
    const noMeta = serialize(other.model);
    other.dispose();
    expect(() => Seq2Seq.deserialize(wrong)).toThrow('Expected the graph that metadata.seq2seq describes, got another graph');
    expect(() => Seq2Seq.deserialize(noMeta)).toThrow(FormatError);
  });

  it('word vocabularies put the specials first and map unknown words to <unk>', () => {
    const v = TokenVocab.fromTexts('words', ['HH AH L OW', 'W ER L D']);
    expect(v.tokens.slice(0, 4)).toEqual(['<pad>', '<s>', '</s>', '<unk>']);
    expect(v.decode(v.encode('  L  OW ZZ '))).toBe('L OW <unk>');
    expect(() => new TokenVocab('words', ['a', 'b'])).toThrow(ValueError);
  });

  it('scores sequences by exact match and token error rate against the closest reference', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    const sc = scoreSequences([['a', 'b'], ['x']], [[['a', 'c'], ['a', 'b']], [['y', 'z']]]);
    expect(sc.exactMatch).toBe(0.5);
    expect(sc.tokenErrorRate).toBeCloseTo(2 / 4, 12);
  });

  it('epoch batches hold every pair once and pad little on both sides (sorted by source, then target length)', () => {
    const r = prng(4);
    const n = 20_000;
    const src = Array.from({ length: n }, () => 1 + Math.floor(r() * 15));
    const tgt = src.map((l) => Math.max(1, l + Math.floor(r() * 5) - 2));
    const batches = epochBatches(n, src, tgt, 64, 50, new Rng(9));
    expect(batches.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    let real = 0;
    let padded = 0;
    for (const b of batches) {
      real += b.reduce((a, i) => a + src[i] + tgt[i], 0);
      padded += b.length * (Math.max(...b.map((i) => src[i])) + Math.max(...b.map((i) => tgt[i])));
    }
    expect(real / padded).toBeGreaterThan(0.92); // sorted by source length alone: ≈ 0.88
  });

  it('lrDecay multiplies the learning rate by its factor per epoch, step by step', async () => {
    const pairs = train.slice(0, 200);
    const d = Seq2Seq.fromPairs(pairs, { hidden: 8, embedding: 4, seed: 5 });
    try {
      const r = await d.fit(pairs, { epochs: 3, batchSize: 32, lr: 4e-3, lrDecay: 0.5, validation: 0 });
      expect(r.steps).toBe(3 * 7); // 200 pairs in batches of 32: 7 per epoch
      expect(d.optimizer!.currentLr()).toBeCloseTo(4e-3 * 0.5 ** 3, 12);
      // a second fit continues the same run (its settings, step and schedule) and may not change them
      await expect(d.fit(pairs, { epochs: 1, lr: 4e-3, lrDecay: 0.25, validation: 0 })).rejects.toThrow(/lrDecay 0.5 \(the checkpoint's/);
      const more = await d.fit(pairs, { epochs: 1, lrDecay: 0.5, validation: 0 });
      expect([more.steps, more.totalSteps]).toEqual([7, 28]);
      expect(d.optimizer!.currentLr()).toBeCloseTo(4e-3 * 0.5 ** 4, 12);
      await expect(Seq2Seq.fromPairs(pairs).fit(pairs, { lrDecay: 1.5 })).rejects.toThrow(/lrDecay/);
      await expect(Seq2Seq.fromPairs(pairs).fit(pairs, { lengthPool: 0 })).rejects.toThrow(/lengthPool/);
      const cut = Seq2Seq.fromPairs(pairs, { hidden: 8, embedding: 4, seed: 5 });
      const c = await cut.fit(pairs, { epochs: 3, batchSize: 32, validation: 0, maxSteps: 9 });
      cut.dispose();
      expect([c.steps, c.epochs]).toEqual([9, 2]);
    } finally {
      d.dispose();
    }
  });

  it('dropout acts in training only: same initial parameters and outputs as without it, other updates, kept in the file', async () => {
    const pairs = train.slice(0, 256);
    const make = (dropout: number) => Seq2Seq.fromPairs(pairs, { hidden: 16, embedding: 8, attention: 'general', seed: 9, dropout });
    const [plain, dropped] = [make(0), make(0.3)];
    try {
      const srcs = test.slice(0, 20).map((p) => p[0]);
      expect(dropped.translate(srcs, { beam: 2 })).toEqual(plain.translate(srcs, { beam: 2 }));
      for (const x of [plain, dropped]) await x.fit(pairs, { epochs: 1, batchSize: 32, validation: 0, maxSteps: 3 });
      expect(dropped.model.getParameter('out.weight')).not.toEqual(plain.model.getParameter('out.weight'));
      const back = Seq2Seq.deserialize(dropped.serialize());
      expect(back.config.dropout).toBe(0.3);
      expect(back.translate(srcs)).toEqual(dropped.translate(srcs));
      back.dispose();
      expect(() => make(1)).toThrow('Expected dropout to be a number in [0, 1), got 1');
    } finally {
      plain.dispose();
      dropped.dispose();
    }
  });

  it('rejects bad calls with typed errors that name the argument', () => {
    expect(() => m.translate(['12', ''])).toThrow('Expected texts[1] to have at least one token, got none');
    expect(() => m.translate(['12'], { beam: 2, nbest: 3 })).toThrow(ValueError);
    expect(() => m.translate(['12'], { beam: 0 })).toThrow(/beam/);
    expect(() => m.translate(['12'], { bogus: 1 } as never)).toThrow(/unknown key bogus/);
    expect(() => Seq2Seq.fromPairs([['a', 'b']], { attention: 'luong' as never })).toThrow(/attention/);
    expect(() => Seq2Seq.fromPairs([['a', 1 as never]])).toThrow(/pairs\[0\]/);
    const before = m.model.getParameter('out.weight');
    return expect(m.fit(train, { lr: 0.5 })).rejects.toThrow(/lr/).then(() => expect(m.model.getParameter('out.weight')).toEqual(before));
  });
});
