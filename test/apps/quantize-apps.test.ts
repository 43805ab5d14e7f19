// quantize(app, { weights: 'int8' }) on each of the six applications: the int8 app's results after
// save + load equal the in-memory int8 app's bit for bit (the file carries the int8 marker and the
// loader derives the same copies), differ from the f32 app's by at most a declared bound (and do
// differ: the int8 kernels ran), and a quantized app refuses training with a StateError.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  init, quantize, CharLM, Seq2Seq, SequenceClassifier, SequenceLabeler, ConditionalGenerator, Forecaster, Tokenizer,
  Tensor, StateError,
} from '../../src/index';

beforeAll(async () => {
  await init();
});

const flat = (x: readonly (ArrayLike<number>)[]) => x.flatMap((r) => Array.from(r));
const maxDiff = (a: number[], b: number[]) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

/**
 * An app's results: numbers compared with a bound against f32, and what the int8 numbers decide
 * (search scores, texts), compared only between int8 apps (a near-tie may go either way in f32).
 */
interface Out {
  values: number[];
  decided?: number[];
  texts?: string[];
}

interface App {
  readonly model: { readonly runner: unknown; readonly quantized: 'int8' | null };
  serialize(): Uint8Array;
  dispose(): void;
}

/**
 * One application: `make` builds it (same seed each call), `run` gives its numeric results (the
 * same call on the f32 app, the int8 app and the int8 app rebuilt from its file), `reload` reads a
 * file, `train` is any training call. `bound`: max |int8 − f32| allowed, measured 2026-12-07 beside it.
 */
interface Case<A extends App> {
  name: string;
  make: () => A | Promise<A>;
  run: (a: A) => Out;
  reload: (bytes: Uint8Array) => A;
  train: (a: A) => unknown;
  bound: number;
}

const words = ['anna', 'bob', 'carla', 'dmitri', 'eve', 'fatima', 'george', 'hana', 'ivan', 'julia'];
const seriesOf = (n: number) => Array.from({ length: n }, (_, t) => 10 + 3 * Math.sin((2 * Math.PI * t) / 7) + 0.5 * Math.cos(t));
const genExamples = words.map((w, i) => ({ text: w, condition: i % 2 ? 'b' : 'a' }));

const CASES: Case<App>[] = [
  {
    name: 'CharLM (Sequential)',
    make: () => CharLM.fromText(words.join(' '), { cell: 'lstm', hidden: 48, embedding: 16, seed: 3 }),
    run: (a) => {
      const lm = a as unknown as CharLM;
      return { values: [lm.bitsPerChar('anna bob carla eve')], texts: [lm.sample({ length: 30, seed: 4, prompt: 'an' })] };
    },
    reload: (b) => CharLM.deserialize(b),
    train: (a) => (a as unknown as CharLM).train(words.join(' ').repeat(20), { steps: 1 }),
    bound: 1e-3, // 5.7e-5 (bits per char)
  },
  {
    name: 'Seq2Seq (attention, beam search)',
    make: () => Seq2Seq.fromPairs(words.map((w) => [w, [...w].reverse().join('')] as [string, string]), { hidden: 48, embedding: 16, attention: 'general', bidirectional: true, seed: 3 }),
    run: (a) => {
      const s = a as unknown as Seq2Seq;
      const lp = s.logProb(words.map((w) => [w, [...w].reverse().join('')] as [string, string]));
      const tr = s.translate(words.slice(0, 4), { beam: 3, nbest: 2 });
      return { values: lp, decided: tr.flatMap((t) => t.nbest.flatMap((h) => [h.score, h.logProb])), texts: tr.flatMap((t) => t.nbest.map((h) => h.text)) };
    },
    reload: (b) => Seq2Seq.deserialize(b),
    train: (a) => (a as unknown as Seq2Seq).fit(words.map((w) => [w, w] as [string, string]), { epochs: 1, validation: 0 }),
    bound: 1e-2, // 8.2e-4 (log-probabilities of whole targets)
  },
  {
    name: 'SequenceClassifier',
    make: () => new SequenceClassifier({ tokenizer: Tokenizer.fit(words), labels: ['a', 'b', 'c'], hiddenSize: 48, embeddingDim: 16, bidirectional: true, pooling: 'mean', seed: 2 }),
    run: (a) => ({ values: flat((a as unknown as SequenceClassifier).predict(words)) }),
    reload: (b) => SequenceClassifier.deserialize(b),
    train: (a) => (a as unknown as SequenceClassifier).fit(['ab', 'ba'], ['a', 'b'], { epochs: 1 }),
    bound: 2e-3, // 1.6e-4 (probabilities)
  },
  {
    name: 'SequenceLabeler (CRF)',
    make: () => new SequenceLabeler({ tokenizer: Tokenizer.fit(words), tags: ['X', 'Y'], crf: true, hiddenSize: 48, embeddingDim: 16, seed: 2 }),
    run: (a) => {
      const lab = a as unknown as SequenceLabeler;
      // the emissions behind the tags (one text at a time), then the tags themselves
      const em = words.map((w) => lab.model.forward({ ids: new Tensor(lab.tokenizer.encode(w), [w.length, 1]) }).emissions.data);
      return { values: flat(em), texts: lab.predict(words).flat() };
    },
    reload: (b) => SequenceLabeler.deserialize(b),
    train: (a) => (a as unknown as SequenceLabeler).fit([{ text: 'ab', tags: ['X', 'Y'] }], { epochs: 1 }),
    bound: 5e-3, // 8.2e-4 (emissions)
  },
  {
    name: 'ConditionalGenerator',
    make: () => ConditionalGenerator.fromExamples(genExamples, { classes: ['a', 'b'], hidden: 48, embedding: 16, conditioning: 'both', seed: 2 }),
    run: (a) => {
      const g = a as unknown as ConditionalGenerator;
      // the step decoder's logits decide every character: one row of logits through the public graph, then samples
      const cond = new Tensor(Float32Array.from([1, 0]), [1, 2]);
      const x = new Tensor(Int32Array.from([0, 3, 5, 2]), [4, 1]);
      const logits = g.model.forward({ cond, x }).logits.data;
      const texts = g.generate({ condition: 'a', count: 6, seed: 5, maxLength: 12 });
      return { values: Array.from(logits), texts };
    },
    reload: (b) => ConditionalGenerator.deserialize(b),
    train: (a) => (a as unknown as ConditionalGenerator).train(genExamples, { steps: 1 }),
    bound: 1e-2, // 1.2e-3 (logits)
  },
  {
    name: 'Forecaster',
    make: async () => {
      const f = new Forecaster({ window: 14, horizon: 3, mode: 'many-to-many', hidden: 48, seed: 3 });
      await f.train(seriesOf(200), { steps: 5, batchSize: 16 });
      return f;
    },
    run: (a) => {
      const f = a as unknown as Forecaster;
      const s = seriesOf(60);
      return { values: [...f.forecast(s.slice(0, 14)).flat(), ...f.forecastAt(s, [14, 30, 45]).flat(2)] };
    },
    reload: (b) => Forecaster.deserialize(b),
    train: (a) => (a as unknown as Forecaster).train(seriesOf(100), { steps: 1 }),
    bound: 1e-2, // 1.3e-3 (forecasts of values around 10)
  },
];

describe('quantize(app): int8 on every application', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s: save + load = in-memory int8 bit for bit; within its bound of f32; training refused', async (_n, c) => {
    const f32 = await c.make();
    const q8 = await c.make();
    const ref = c.run(f32);
    expect(quantize(q8, { weights: 'int8' })).toBe(q8); // the app itself comes back
    expect(q8.model.quantized).toBe('int8');
    const got = c.run(q8);
    const d = maxDiff(got.values, ref.values);
    expect(d).toBeGreaterThan(0); // the int8 kernels ran
    expect(d).toBeLessThanOrEqual(c.bound);
    // through the file
    const back = c.reload(q8.serialize());
    expect(back.model.quantized).toBe('int8');
    // exact equality of every number (toEqual compares numbers with Object.is)
    expect(c.run(back)).toEqual(got);
    // a second quantize changes nothing; training is refused without touching the parameters
    quantize(back, { weights: 'int8' });
    expect(c.run(back)).toEqual(got);
    let err: unknown;
    try {
      await c.train(back);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StateError);
    expect(String((err as Error).message)).toMatch(/quantized to int8/);
    expect(c.run(back)).toEqual(got);
    for (const a of [f32, q8, back]) a.dispose();
  });
});
