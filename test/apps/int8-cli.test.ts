// --int8 and --threads on every command that runs a model (the built dist/cli.js in a child process): translate
// (this thread and 2 workers, greedy and beam), classify and label (1 and 2 batch workers),
// generate, sample, complete and forecast each print what the library prints for the same model
// after quantize(app, { weights: 'int8' }) — and, where the output is numeric, not what the f32
// model prints (the flag reached the model).
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as l from '../../dist/index.js';

const CLI = resolve(__dirname, '../../dist/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'rnn-wasm-int8-'));
const file = (n: string) => join(dir, n);
const cli = (args: string[], input?: string) => {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8', input });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
};
const records = (s: string) => s.trim().split('\n').map((x) => JSON.parse(x) as Record<string, unknown>);
const q8 = <T extends { model: { runner: unknown } }>(x: T): T => l.quantize(x, { weights: 'int8' });

const words = ['anna', 'bob', 'carla', 'dmitri', 'eve', 'fatima', 'george', 'hana', 'ivan', 'julia', 'kofi', 'lena'];
const series = Array.from({ length: 120 }, (_, t) => 10 + 3 * Math.sin((2 * Math.PI * t) / 7) + 0.5 * Math.cos(t));
const load = {
  s2s: () => l.Seq2Seq.deserialize(readBytes('s2s.rnnw')),
  clf: () => l.SequenceClassifier.deserialize(readBytes('clf.rnnw')),
  lab: () => l.SequenceLabeler.deserialize(readBytes('lab.rnnw')),
  gen: () => l.ConditionalGenerator.deserialize(readBytes('gen.rnnw')),
  lm: () => l.CharLM.deserialize(readBytes('lm.rnnw')),
  fc: () => l.Forecaster.deserialize(readBytes('fc.rnnw')),
};
const bytes = new Map<string, Uint8Array>();
function readBytes(name: string): Uint8Array {
  return bytes.get(name)!;
}
function write(name: string, b: Uint8Array): void {
  bytes.set(name, b);
  writeFileSync(file(name), b);
}

beforeAll(async () => {
  await l.init();
  // untrained models of each application (their outputs are varied, which the comparison needs)
  const s2s = l.Seq2Seq.fromPairs(words.map((w) => [w, [...w].reverse().join('')] as [string, string]), { hidden: 32, embedding: 8, attention: 'general', bidirectional: true, seed: 3 });
  write('s2s.rnnw', s2s.serialize());
  const tok = l.Tokenizer.fit(words);
  write('clf.rnnw', new l.SequenceClassifier({ tokenizer: tok, labels: ['A', 'B'], hiddenSize: 32, embeddingDim: 8, seed: 2 }).serialize());
  write('lab.rnnw', new l.SequenceLabeler({ tokenizer: tok, tags: ['V', 'C'], crf: true, hiddenSize: 32, embeddingDim: 8, seed: 2 }).serialize());
  write('gen.rnnw', l.ConditionalGenerator.fromExamples(words.map((w, i) => ({ text: w, condition: i % 2 ? 'b' : 'a' })), { classes: ['a', 'b'], hidden: 32, embedding: 8, seed: 2 }).serialize());
  write('lm.rnnw', l.CharLM.fromText(words.join(' '), { hidden: 32, embedding: 8, seed: 3 }).serialize());
  const fc = new l.Forecaster({ window: 14, horizon: 3, hidden: 32, seed: 3 });
  await fc.train(series, { steps: 5, batchSize: 16 });
  write('fc.rnnw', fc.serialize());
  writeFileSync(file('series.csv'), series.map((v) => String(v)).join('\n') + '\n');
}, 60_000);

describe('--int8', () => {
  it('translate: this thread and 2 workers, greedy and beam 3, equal Seq2Seq.translate after quantize()', () => {
    const input = words.join('\n') + '\n';
    const f32 = load.s2s(), int8 = q8(load.s2s());
    for (const beam of [1, 3]) {
      const want = int8.translate(words, { beam });
      const plain = f32.translate(words, { beam });
      for (const workers of ['1', '2']) {
        const r = cli(['translate', 's2s.rnnw', '--int8', '--beam', String(beam), '--workers', workers], input);
        expect(r.code, r.stderr).toBe(0);
        const got = records(r.stdout);
        expect(got.map((o) => [o.output, o.score, o.logProb])).toEqual(want.map((t) => [t.text, t.score, t.logProb]));
      }
      expect(want.map((t) => t.score)).not.toEqual(plain.map((t) => t.score));
    }
    f32.dispose();
    int8.dispose();
  }, 60_000);

  it('classify and label: 1 and 2 batch workers run the quantized model', () => {
    const input = words.map((w, i) => JSON.stringify({ id: i, text: w })).join('\n') + '\n';
    const clf = q8(load.clf()), plain = load.clf();
    const want = clf.predict(words).map((p) => +p[0].toFixed(6));
    expect(want).not.toEqual(plain.predict(words).map((p) => +p[0].toFixed(6)));
    const lab = q8(load.lab());
    for (const workers of ['1', '2']) {
      const c = cli(['classify', 'clf.rnnw', '--int8', '--workers', workers, '--batch', '5'], input);
      expect(c.code, c.stderr).toBe(0);
      expect(records(c.stdout).map((o) => (o.probs as Record<string, number>).A)).toEqual(want);
      const t = cli(['label', 'lab.rnnw', '--int8', '--workers', workers, '--batch', '5'], input);
      expect(t.code, t.stderr).toBe(0);
      expect(records(t.stdout).map((o) => o.tags)).toEqual(lab.predict(words));
    }
    for (const m of [clf, plain, lab]) m.dispose();
  }, 60_000);

  it('generate, sample, complete and forecast print the quantized model\'s output', () => {
    const gen = q8(load.gen());
    const g = cli(['generate', 'gen.rnnw', '--int8', '--condition', 'a', '--count', '6', '--seed', '4', '--json']);
    expect(g.code, g.stderr).toBe(0);
    expect(JSON.parse(g.stdout).texts).toEqual(gen.generate({ condition: 'a', count: 6, seed: 4, maxLength: 40 }));
    const lm = q8(load.lm());
    const s = cli(['sample', 'lm.rnnw', '--int8', '--length', '40', '--seed', '5', '--prompt', 'an', '--json']);
    expect(s.code, s.stderr).toBe(0);
    expect(JSON.parse(s.stdout).text).toBe(lm.sample({ length: 40, seed: 5, prompt: 'an' }));
    const c = cli(['complete', 'lm.rnnw', '--int8', '--prompt', 'ge', '--max-length', '20', '--json']);
    expect(c.code, c.stderr).toBe(0);
    expect(JSON.parse(c.stdout).completion).toBe(lm.complete('ge', { maxLength: 20 }));
    const fc = q8(load.fc()), plain = load.fc();
    const f = cli(['forecast', 'fc.rnnw', '--int8', '--input', 'series.csv', '--json']);
    expect(f.code, f.stderr).toBe(0);
    const rows = series.map((v) => [v]);
    expect(JSON.parse(f.stdout).forecast).toEqual(fc.forecast(rows));
    expect(fc.forecast(rows)).not.toEqual(plain.forecast(rows));
    for (const m of [gen, lm, fc, plain]) m.dispose();
  }, 60_000);
});

describe('--threads', () => {
  it('translate, classify, label, generate, sample, complete and forecast on 2 threads print the one-thread library output; a count init refuses is an error naming threads', () => {
    const input = words.join('\n') + '\n';
    const jsonl = words.map((w, i) => JSON.stringify({ id: i, text: w })).join('\n') + '\n';
    const s2s = load.s2s(), clf = load.clf(), lab = load.lab(), gen = load.gen(), lm = load.lm(), fc = load.fc();
    const run = (args: string[], stdin?: string) => {
      const r = cli([...args, '--threads', '2'], stdin);
      expect(r.code, `${args[0]}: ${r.stderr}`).toBe(0);
      return r.stdout;
    };
    expect(records(run(['translate', 's2s.rnnw', '--beam', '3'], input)).map((o) => [o.output, o.score])).toEqual(s2s.translate(words, { beam: 3 }).map((t) => [t.text, t.score]));
    for (const workers of ['1', '2']) {
      expect(records(run(['classify', 'clf.rnnw', '--workers', workers, '--batch', '5'], jsonl)).map((o) => (o.probs as Record<string, number>).A)).toEqual(clf.predict(words).map((p) => +p[0].toFixed(6)));
      expect(records(run(['label', 'lab.rnnw', '--workers', workers, '--batch', '5'], jsonl)).map((o) => o.tags)).toEqual(lab.predict(words));
    }
    expect(JSON.parse(run(['generate', 'gen.rnnw', '--condition', 'a', '--count', '6', '--seed', '4', '--json'])).texts).toEqual(gen.generate({ condition: 'a', count: 6, seed: 4, maxLength: 40 }));
    expect(JSON.parse(run(['sample', 'lm.rnnw', '--length', '40', '--seed', '5', '--prompt', 'an', '--json'])).text).toBe(lm.sample({ length: 40, seed: 5, prompt: 'an' }));
    expect(JSON.parse(run(['complete', 'lm.rnnw', '--prompt', 'ge', '--max-length', '20', '--json'])).completion).toBe(lm.complete('ge', { maxLength: 20 }));
    expect(JSON.parse(run(['forecast', 'fc.rnnw', '--input', 'series.csv', '--json'])).forecast).toEqual(fc.forecast(series.map((v) => [v])));
    // the flag reaches init({ threads }): a count it refuses fails the command, naming the option
    for (const args of [['sample', 'lm.rnnw', '--length', '5'], ['classify', 'clf.rnnw']]) {
      const r = cli([...args, '--threads', '100000'], jsonl);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/Expected threads to be an integer from 1 to \d+/);
    }
    expect(cli(['sample', 'lm.rnnw', '--threads', '0']).code).toBe(2);
    for (const m of [s2s, clf, lab, gen, lm, fc]) m.dispose();
  }, 120_000);
});
