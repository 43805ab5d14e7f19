import { describe, expect, it } from 'vitest';
import { Tokenizer, PAD_ID, UNK_ID, weightedCrossEntropy, balancedClassWeights, lengthBatches, padIds, splitIndices, EarlyStopping, trainLoop } from '../../src/apps/common/index';
import { ShapeError, ValueError } from '../../src/errors';

describe('apps/common tokenizers', () => {
  it('a character tokenizer maps unseen characters to <unk> and round-trips through JSON', () => {
    const t = Tokenizer.fit(['abba', 'cab'], { kind: 'char' });
    expect(t.tokens).toEqual(['<pad>', '<unk>', 'a', 'b', 'c']);
    expect(Array.from(t.encode('abz'))).toEqual([2, 3, UNK_ID]);
    const back = Tokenizer.fromJSON(JSON.parse(JSON.stringify(t)));
    expect(Array.from(back.encode('cab'))).toEqual([4, 2, 3]);
  });
  it('a word tokenizer lower-cases, splits punctuation, keeps the most frequent words', () => {
    const t = Tokenizer.fit(['The cat sat.', 'the dog, the end'], { kind: 'word', maxTokens: 3 });
    expect(t.tokens).toEqual(['<pad>', '<unk>', 'the', ',', '.']); // most frequent first, ties in code-unit order
    expect(t.split("Don't stop!")).toEqual(["don't", 'stop', '!']);
    expect(Array.from(t.encode('THE cat.'))).toEqual([2, UNK_ID, 4]);
  });
  it('refuses malformed tokenizer JSON by name', () => {
    expect(() => Tokenizer.fromJSON({ kind: 'char', lowercase: false, tokens: ['a'] })).toThrow(/start with <pad>, <unk>/);
    expect(() => Tokenizer.fromJSON({ kind: 'bpe' as never, lowercase: false, tokens: ['<pad>', '<unk>'] })).toThrow(ValueError);
    expect(() => Tokenizer.fit([], {})).toThrow(/non-empty array/);
  });
});

describe('apps/common weighted cross-entropy', () => {
  const K = 3;
  const logits = new Float32Array([0.2, -1, 0.5, 1.5, 0.1, -0.3, 0, 0, 0, -0.7, 2, 0.4]);
  const targets = new Int32Array([2, 0, -1, 1]);
  const w = { sampleWeights: [1, 0.5, 3, 2], classWeights: [2, 1, 0.25] };
  it('its gradient matches central differences of its loss (sample and class weights, an ignored row)', () => {
    const { dLogits } = weightedCrossEntropy(logits, targets, K, w);
    const f = (z: Float32Array) => weightedCrossEntropy(z, targets, K, w).loss;
    for (let i = 0; i < logits.length; i++) {
      const p = Float32Array.from(logits), m = Float32Array.from(logits);
      p[i] += 1e-2; m[i] -= 1e-2;
      expect(dLogits[i]).toBeCloseTo((f(p) - f(m)) / 2e-2, 4);
    }
    expect(Array.from(dLogits.slice(6, 9))).toEqual([0, 0, 0]);
  });
  it('equals the plain mean cross-entropy without weights and the weighted mean with them', () => {
    const nll = [0, 1, 3].map((r) => { const z = logits.slice(r * K, r * K + K); const y = targets[r]; return Math.log(z.reduce((a, v) => a + Math.exp(v), 0)) - z[y]; });
    expect(weightedCrossEntropy(logits, targets, K).loss).toBeCloseTo((nll[0] + nll[1] + nll[2]) / 3, 5);
    const ws = [1 * 0.25, 0.5 * 2, 2 * 1];
    expect(weightedCrossEntropy(logits, targets, K, w).loss).toBeCloseTo((ws[0] * nll[0] + ws[1] * nll[1] + ws[2] * nll[2]) / (ws[0] + ws[1] + ws[2]), 5);
  });
  it('refuses weights of the wrong length or sign', () => {
    expect(() => weightedCrossEntropy(logits, targets, K, { sampleWeights: [1, 2] })).toThrow(ShapeError);
    expect(() => weightedCrossEntropy(logits, targets, K, { classWeights: [1, -1, 1] })).toThrow(/classWeights\[1\]/);
  });
  it('balanced class weights are n / (K · count)', () => {
    const w = balancedClassWeights([0, 0, 0, 1, -1], 2);
    expect(w[0]).toBeCloseTo(4 / 6, 6);
    expect(w[1]).toBe(2);
  });
});

describe('apps/common batching and splits', () => {
  it('groups neighbours in length and pads time-major', () => {
    const batches = lengthBatches([5, 1, 4, 2, 9, 3], 2);
    expect(batches).toEqual([[1, 3], [5, 2], [0, 4]]);
    const { data, lengths } = padIds([new Int32Array([4, 5, 6]), new Int32Array([7])]);
    expect(data.shape).toEqual([3, 2]);
    expect(Array.from(data.data)).toEqual([4, 7, 5, PAD_ID, 6, PAD_ID]);
    expect(lengths).toEqual([3, 1]);
  });
  it('splits deterministically and disjointly', () => {
    const a = splitIndices(100, 0.2, 7), b = splitIndices(100, 0.2, 7);
    expect(a).toEqual(b);
    expect(a.test.length).toBe(20);
    expect(new Set([...a.train, ...a.test]).size).toBe(100);
  });
});

describe('apps/common training controls', () => {
  it('early stopping restores the best epoch after `patience` epochs without improvement', () => {
    let params = 0;
    const metrics = [0.5, 0.7, 0.6, 0.65, 0.69, 0.9];
    const r = trainLoop({ epochs: 6, epoch: (e) => ((params = e), [1]), validate: () => metrics[params], earlyStopping: { patience: 2 }, snapshot: () => params, restore: (s) => (params = s as number) });
    expect(r.stopReason).toBe('earlyStopping');
    expect(r.bestEpoch).toBe(1);
    expect(params).toBe(1);
    expect(r.history.map((h) => h.metric)).toEqual([0.5, 0.7, 0.6, 0.65]);
  });
  it('TerminateOnNaN stops at a non-finite loss and keeps the last finite parameters', () => {
    let params = 0;
    const r = trainLoop({ epochs: 5, epoch: (e) => ((params = e), [e === 2 ? NaN : 1]), snapshot: () => params, restore: (s) => (params = s as number) });
    expect(r.stopReason).toBe('nan');
    expect(params).toBe(1);
    expect(r.history.length).toBe(2);
  });
  it('EarlyStopping refuses bad options', () => {
    expect(() => new EarlyStopping({ patience: -1 })).toThrow(/patience/);
    expect(() => new EarlyStopping({ mode: 'up' as never })).toThrow(/mode/);
  });
});
