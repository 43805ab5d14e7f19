// Every application takes `cell: 'mingru' | 'minlstm'` (the cell registry, src/apps/common/cells.ts):
// each one builds a model whose recurrent parameters are the min cell's (weight_ih/bias_ih, no
// weight_hh), trains on a tiny task with its loss falling, and its file restores the cell and gives the
// same outputs.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  init, CharLM, SequenceClassifier, SequenceLabeler, Seq2Seq, ConditionalGenerator, Forecaster, Tokenizer, ValueError,
} from '../../src/index';

beforeAll(async () => {
  await init();
});

const CORPUS = 'the cat sat on the mat. the dog sat on the log. '.repeat(6);
const recurrentNames = (names: string[]): string[] => names.filter((n) => /weight_(ih|hh)|bias_(ih|hh)/.test(n));
const noHh = (names: string[]): void => {
  expect(recurrentNames(names).length).toBeGreaterThan(0);
  expect(names.filter((n) => /_hh/.test(n))).toEqual([]);
};

describe.each(['mingru', 'minlstm'] as const)('cell %s', (cell) => {
  it('CharLM trains (bits/char fall), samples, and its file restores the cell', async () => {
    const lm = CharLM.fromText(CORPUS, { cell, hidden: 16, embedding: 8, seed: 3 });
    noHh(lm.model.parameters().map((p) => p.name));
    const before = lm.bitsPerChar(CORPUS);
    await lm.train(CORPUS, { steps: 40, seqLen: 16, batchSize: 8, lr: 0.02, validation: 0 });
    expect(lm.bitsPerChar(CORPUS)).toBeLessThan(before - 0.5);
    const back = CharLM.deserialize(lm.serialize());
    expect(back.config.cell).toBe(cell);
    expect(back.sample({ length: 30, seed: 2 })).toBe(lm.sample({ length: 30, seed: 2 }));
    lm.dispose();
    back.dispose();
  });

  it('SequenceClassifier and SequenceLabeler train and restore', () => {
    const texts = Array.from({ length: 60 }, (_, i) => (i % 2 ? 'ab' : 'ba').repeat(1 + (i % 3)) + (i % 2 ? 'x' : 'y'));
    const labels = texts.map((t) => (t.endsWith('x') ? 'X' : 'Y'));
    const clf = new SequenceClassifier({ tokenizer: Tokenizer.fit(texts), labels: ['X', 'Y'], cell, hiddenSize: 8, embeddingDim: 4, seed: 1 });
    expect(clf.config.cell).toBe(cell);
    noHh(clf.model.parameters().map((p) => p.name));
    const r = clf.fit(texts, labels, { epochs: 6, batchSize: 16, lr: 3e-2 });
    expect(r.history.at(-1)!.loss).toBeLessThan(r.history[0].loss);
    const c2 = SequenceClassifier.deserialize(clf.serialize());
    expect(c2.config.cell).toBe(cell);
    expect(c2.predict(texts.slice(0, 10))).toEqual(clf.predict(texts.slice(0, 10)));

    const ex = texts.map((t) => ({ text: t, tags: [...t].map((ch) => (ch === 'a' ? 'A' : 'O')) }));
    const lab = new SequenceLabeler({ tokenizer: Tokenizer.fit(texts), tags: ['A', 'O'], cell, hiddenSize: 8, embeddingDim: 4, seed: 1 });
    const rl = lab.fit(ex, { epochs: 5, lr: 3e-2 });
    expect(rl.history.at(-1)!.loss).toBeLessThan(rl.history[0].loss);
    const l2 = SequenceLabeler.deserialize(lab.serialize());
    expect(l2.predict(texts.slice(0, 10))).toEqual(lab.predict(texts.slice(0, 10)));
    for (const m of [clf, c2, lab, l2]) m.dispose();
  });

  it('Seq2Seq, ConditionalGenerator and Forecaster train and restore', async () => {
    const pairs: [string, string][] = Array.from({ length: 80 }, (_, i) => {
      const s = String(1000 + i * 37).slice(0, 1 + (i % 4));
      return [s, [...s].reverse().join('')];
    });
    const s2s = Seq2Seq.fromPairs(pairs, { cell, hidden: 12, embedding: 6, attention: 'dot', seed: 2 });
    expect(s2s.config.cell).toBe(cell);
    noHh(s2s.model.parameters().map((p) => p.name));
    const fr = await s2s.fit(pairs, { epochs: 3, batchSize: 16, lr: 2e-2 });
    expect(fr.history.at(-1)!.loss).toBeLessThan(fr.history[0].loss);
    const s2 = Seq2Seq.deserialize(s2s.serialize());
    expect(s2.translate(['123', '98'])).toEqual(s2s.translate(['123', '98']));

    const examples = Array.from({ length: 48 }, (_, i) => ({ text: (i % 2 ? 'ba' : 'ab').repeat(1 + (i % 3)), condition: i % 2 ? 'ba' : 'ab' }));
    const gen = ConditionalGenerator.fromExamples(examples, { classes: ['ab', 'ba'], cell, hidden: 12, embedding: 4, seed: 2 });
    noHh(gen.model.parameters().map((p) => p.name));
    const gr = await gen.train(examples, { steps: 40, batchSize: 16, lr: 2e-2, validation: 0.25 });
    expect(gr.validationLoss!).toBeLessThan(gr.initialValidationLoss!);
    const g2 = ConditionalGenerator.deserialize(gen.serialize());
    const o = { condition: 'ab', count: 4, seed: 5, maxLength: 8 };
    expect(g2.generate(o)).toEqual(gen.generate(o));

    const series = Array.from({ length: 200 }, (_, t) => [Math.sin(t / 4) + 0.1 * Math.cos(t / 9)]);
    const f = new Forecaster({ cell, window: 12, horizon: 3, hidden: 8, seed: 1 });
    noHh(f.model.parameters().map((p) => p.name));
    const ft = await f.train(series, { steps: 40, batchSize: 16, lr: 1e-2, validation: 0.2 });
    expect(ft.validationLoss!).toBeLessThan(ft.initialValidationLoss!);
    const f2 = Forecaster.deserialize(f.serialize());
    expect(f2.config.cell).toBe(cell);
    expect(f2.forecast(series.slice(-12))).toEqual(f.forecast(series.slice(-12)));
    for (const m of [s2s, s2, gen, g2, f, f2]) m.dispose();
  });
});

it('an unknown cell names every accepted kind', () => {
  expect(() => CharLM.fromText(CORPUS, { cell: 'rwkv' as never })).toThrow(ValueError);
  expect(() => CharLM.fromText(CORPUS, { cell: 'rwkv' as never })).toThrow("Expected cell to be one of 'lstm', 'gru', 'rnn', 'mingru', 'minlstm', got rwkv");
});

// `--cell mingru|minlstm` through the built CLI (dist/cli.js, as users run it): train-lm then eval-lm.
describe('rnn-wasm --cell', () => {
  it.each(['mingru', 'minlstm'])('train-lm --cell %s writes a model eval-lm reads back as that cell', (cell) => {
    const dir = mkdtempSync(join(tmpdir(), 'mincells-'));
    writeFileSync(join(dir, 'c.txt'), CORPUS);
    const run = (args: string[]) => spawnSync(process.execPath, [resolve(__dirname, '../../dist/cli.js'), ...args], { cwd: dir, encoding: 'utf8' });
    const t = run(['train-lm', '--corpus', 'c.txt', '--cell', cell, '--hidden', '16', '--steps', '20', '--seq-len', '12', '--batch', '4', '--out', 'm.rnnw', '--quiet']);
    expect(t.status, t.stderr).toBe(0);
    const lm = CharLM.deserialize(readFileSync(join(dir, 'm.rnnw')));
    expect(lm.config.cell).toBe(cell);
    const e = run(['eval-lm', 'm.rnnw', 'c.txt']);
    expect(e.status, e.stderr).toBe(0);
    expect(e.stdout + e.stderr).toContain(`${lm.bitsPerChar(CORPUS).toFixed(4)} bits/char`);
    lm.dispose();
  });
});
