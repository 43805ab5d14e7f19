// CharLM: vocabulary policies, seeded sampling (temperature, top-k, top-p), streaming generation,
// bits per character against the trainer's own loss, checkpoints that resume bit for bit, and
// option validation that changes nothing on rejection.
import { beforeAll, describe, expect, it } from 'vitest';
import { init, CharLM, Tensor, ValueError, FormatError, serialize } from '../../src/index';
import { candidates, checkSampling } from '../../src/apps/charlm/sampling';

const CORPUS = 'Hi How are you?\nI am fine. Thank you!\nHow do you feel today?\n';
let lm: CharLM;

beforeAll(async () => {
  await init();
  lm = CharLM.fromText(CORPUS, { cell: 'lstm', hidden: 32, embedding: 16, seed: 3 });
  await lm.train(CORPUS.repeat(4), { steps: 60, seqLen: 16, batchSize: 8, lr: 0.01, validation: 0 });
});

const params = (m: CharLM) => Object.values(m.model.stateDict()).map((a) => Array.from(a));

describe('vocabulary and the unknown-character policy', () => {
  it("'unk' maps unknown characters to <unk>; 'error' names the character and its position", () => {
    expect(lm.vocabulary.tokens[0]).toBe('<unk>');
    expect(Array.from(lm.vocabulary.encode('Hi€'))).toEqual([lm.vocabulary.tokens.indexOf('H'), lm.vocabulary.tokens.indexOf('i'), 0]);
    const strict = CharLM.fromText('abc', { unknown: 'error', hidden: 8, embedding: 4 });
    expect(strict.vocabulary.tokens).toEqual(['a', 'b', 'c']);
    expect(() => strict.bitsPerChar('abxc')).toThrow(ValueError);
    expect(() => strict.bitsPerChar('abxc')).toThrow("got 'x' (U+0078) at position 2");
    expect(() => strict.complete('zz')).toThrow(/prompt.*'z'.*position 0/);
    strict.dispose();
  });
});

describe('sampling', () => {
  it('is reproducible for a seed and differs between seeds', () => {
    const a = lm.sample({ length: 60, seed: 7, prompt: 'How' });
    expect(a).toHaveLength(60);
    expect(lm.sample({ length: 60, seed: 7, prompt: 'How' })).toBe(a);
    expect(lm.sample({ length: 60, seed: 8, prompt: 'How' })).not.toBe(a);
    expect(a).not.toContain('<unk>');
  });

  it('temperature → 0 and topK = 1 equal greedy decoding', () => {
    const greedy = lm.sample({ length: 40, greedy: true, prompt: 'I' });
    expect(lm.sample({ length: 40, temperature: 1e-6, seed: 1, prompt: 'I' })).toBe(greedy);
    expect(lm.sample({ length: 40, temperature: 0, seed: 2, prompt: 'I' })).toBe(greedy);
    expect(lm.sample({ length: 40, topK: 1, seed: 3, prompt: 'I' })).toBe(greedy);
    expect(lm.complete('I', { maxLength: 40 })).toBe(greedy);
  });

  it('topK and topP keep the most likely tokens up to the cumulative mass', () => {
    const p = [0.05, 0.5, 0.15, 0.3];
    const logits = p.map(Math.log);
    const s = (o: object) => checkSampling(o, { greedy: false });
    expect(candidates(logits, s({ topP: 0.7 })).ids).toEqual([1, 3]);
    expect(candidates(logits, s({ topP: 0.79 })).ids).toEqual([1, 3]);
    expect(candidates(logits, s({ topP: 0.81 })).ids).toEqual([1, 3, 2]);
    expect(candidates(logits, s({ topP: 1 })).ids).toEqual([1, 3, 2, 0]);
    expect(candidates(logits, s({ topK: 2 })).ids).toEqual([1, 3]);
    const w = candidates(logits, s({ temperature: 1 })).weights;
    expect(w[1] / w[0]).toBeCloseTo(0.6, 12);
    // the excluded id (<unk>) is never a candidate
    expect(candidates(logits, s({}), 1).ids).toEqual([3, 2, 0]);
    // a tiny nucleus always yields the most likely character
    expect(lm.sample({ length: 30, topP: 1e-6, seed: 9, prompt: 'I' })).toBe(lm.sample({ length: 30, greedy: true, prompt: 'I' }));
  });

  it('the generator keeps its state between calls, also when other sampling runs in between', () => {
    const whole = lm.sample({ length: 30, seed: 5, prompt: 'Ho' });
    const g = lm.generator({ seed: 5, prompt: 'Ho' });
    const first = g.take(10);
    lm.sample({ length: 25, seed: 1, prompt: 'I am' }); // uses the model's step state meanwhile
    const other = lm.generator({ seed: 2 });
    other.take(5);
    const rest = g.take(12) + [...Array(8)].map(() => g.next()).join('');
    expect(first + rest).toBe(whole);
    g.close();
    other.close();
    expect(() => g.next()).toThrow(/closed/);
    expect(() => lm.generator().take(-1)).toThrow(/Expected n to be a non-negative integer/);
  });

  it('complete stops before the until string', () => {
    const full = lm.complete('I am ', { maxLength: 30 });
    const cut = full.indexOf(' ');
    expect(cut).toBeGreaterThan(0);
    expect(lm.complete('I am ', { maxLength: 30, until: ' ' })).toBe(full.slice(0, cut));
  });
});

describe('bitsPerChar', () => {
  it('equals the mean cross-entropy of evaluate() in bits, within and across its 256-character windows', () => {
    for (const text of [CORPUS, CORPUS.repeat(6)]) {
      const ids = lm.vocabulary.encode(text);
      const n = ids.length - 1;
      const nats = lm.model.evaluate({ x: new Tensor(ids.slice(0, n), [n, 1]), y: new Tensor(ids.slice(1), [n, 1]) }, { loss: 'crossEntropy' });
      expect(Math.abs(lm.bitsPerChar(text) - nats / Math.LN2)).toBeLessThan(1e-5);
    }
    expect(lm.bitsPerChar(CORPUS)).toBeLessThan(Math.log2(lm.vocabulary.size) / 2);
  });
});

describe('files and resuming', () => {
  it('save/load round trip: vocabulary, architecture and outputs bit-exact', () => {
    const back = CharLM.deserialize(lm.serialize());
    expect(back.vocabulary.tokens).toEqual(lm.vocabulary.tokens);
    expect(back.config).toEqual(lm.config);
    expect(back.step).toBe(60);
    expect(back.bitsPerChar(CORPUS)).toBe(lm.bitsPerChar(CORPUS));
    expect(back.sample({ length: 50, seed: 4 })).toBe(lm.sample({ length: 50, seed: 4 }));
    back.dispose();
  });

  it('a checkpoint resumes training bit for bit (optimizer moments, step, batch order)', async () => {
    const text = CORPUS.repeat(5);
    const opts = { seqLen: 12, tbptt: 6, batchSize: 4, lr: 0.01, validation: 0, order: 'sequential' as const };
    const a = CharLM.fromText(CORPUS, { cell: 'gru', hidden: 16, embedding: 8, seed: 11 });
    await a.train(text, { ...opts, steps: 15 });
    const ckpt = a.serialize();
    await a.train(text, { steps: 15 });
    const b = CharLM.deserialize(ckpt);
    await b.train(text, { steps: 15 });
    expect(b.step).toBe(30);
    expect(params(b)).toEqual(params(a));
    // a setting that shapes the run cannot change on resume
    await expect(b.train(text, { steps: 1, seqLen: 8 })).rejects.toThrow(/seqLen 12/);
    a.dispose();
    b.dispose();
  });

  it('a model file without CharLM metadata, or with an invalid training state, is a FormatError', () => {
    const plain = serialize(lm.model);
    expect(() => CharLM.deserialize(plain)).toThrow(FormatError);
    const training = { settings: { ...lm.trainSettings!, seqLen: -3 }, step: 60, order: { rng: [1, 2, 3, 4], cursor: 0 } };
    const bad = serialize(lm.model, { vocabulary: [...lm.vocabulary.tokens], metadata: { charlm: { version: 1, unknown: 'unk', config: lm.config, training } } });
    expect(() => CharLM.deserialize(bad)).toThrow(/Expected a valid character model file, got: Expected seqLen/);
    const badOrder = serialize(lm.model, { vocabulary: [...lm.vocabulary.tokens], metadata: { charlm: { version: 1, unknown: 'unk', config: lm.config, training: { ...training, settings: lm.trainSettings, order: { rng: [1], cursor: 0 } } } } });
    expect(() => CharLM.deserialize(badOrder)).toThrow(/batch order/);
  });
});

describe('option validation', () => {
  it('rejects bad options with typed errors and leaves the model unchanged', async () => {
    const before = params(lm);
    const step = lm.step;
    expect(() => CharLM.fromText(CORPUS, { hiden: 8 } as never)).toThrow(/unknown key hiden/);
    expect(() => CharLM.fromText(CORPUS, { cell: 'tcn' as never })).toThrow(ValueError);
    expect(() => lm.sample({ temperature: -1 })).toThrow(/temperature/);
    expect(() => lm.sample({ topP: 0 })).toThrow(/topP/);
    expect(() => lm.sample({ topK: 1.5 })).toThrow(/topK/);
    expect(() => lm.complete('I', { until: '' })).toThrow(/until\[0\]/);
    await expect(lm.train(CORPUS, { steps: 5, batchSize: 0 })).rejects.toThrow(/batchSize 8/);
    await expect(lm.train(CORPUS, {} as never)).rejects.toThrow(/budget/);
    await expect(lm.train('I am ☃', { steps: 5 })).rejects.toThrow(ValueError);
    const fresh = CharLM.fromText(CORPUS, { hidden: 8, embedding: 4 });
    await expect(fresh.train(CORPUS, { steps: 5, seqLen: 500 })).rejects.toThrow(/at least 501 characters/);
    expect(fresh.step).toBe(0);
    fresh.dispose();
    expect(lm.step).toBe(step);
    expect(params(lm)).toEqual(before);
  });

  it('stops between steps when its signal aborts, with the step count kept', async () => {
    const m = CharLM.fromText(CORPUS, { hidden: 8, embedding: 4 });
    const ac = new AbortController();
    const r = await m.train(CORPUS.repeat(3), { steps: 1000, seqLen: 8, batchSize: 2, validation: 0, signal: ac.signal, onProgress: (p) => p.step === 7 && ac.abort() });
    expect(r.stopped).toBe('signal');
    expect(r.steps).toBe(7);
    expect(m.step).toBe(7);
    m.dispose();
  });

  it('trains on the applications\' shared loop with the numbers of its former own loop (recorded at 6039943, bit for bit)', async () => {
    const text = 'the quick brown fox jumps over the lazy dog. '.repeat(40);
    const m = CharLM.fromText(text, { cell: 'lstm', hiddenSize: 16, embeddingDim: 8, seed: 3 });
    const vals: number[] = [];
    const r = await m.train(text, { steps: 40, seqLen: 16, batchSize: 4, lr: 0.01, evalEvery: 10, onProgress: (p) => p.validationBitsPerChar !== undefined && vals.push(p.step) });
    expect([r.steps, r.totalSteps, r.stopped]).toEqual([40, 40, 'steps']);
    expect([r.trainBitsPerChar, r.initialValidationBitsPerChar, r.validationBitsPerChar]).toEqual([3.9572565334896694, 4.939415923597374, 2.83298001813542]);
    expect(vals).toEqual([10, 20, 30, 40]);
    const again = await m.train(text, { steps: 5 });
    expect([again.steps, again.trainBitsPerChar, again.validationBitsPerChar]).toEqual([5, 2.8172502266016997, 2.5568457536056473]);
    m.dispose();
  });

  it('early stopping on the shared loop: patience counts validations, the best parameters are restored', async () => {
    const text = 'abcabcabdabcabcabd'.repeat(30);
    const m = CharLM.fromText(text, { hiddenSize: 8, embeddingDim: 4, seed: 1 });
    const seen: { step: number; v: number }[] = [];
    const snap: Record<number, string> = {};
    // with a large learning rate the validation stalls well before the budget: the run stops on patience
    const r = await m.train(text, {
      steps: 400, seqLen: 8, batchSize: 4, lr: 0.5, validation: 0.2, evalEvery: 5, patience: 2,
      onProgress: (p) => {
        if (p.validationBitsPerChar === undefined) return;
        seen.push({ step: p.step, v: p.validationBitsPerChar });
        snap[p.step] = JSON.stringify(Array.from(m.model.stateDict()['1.weight_hh_l0']));
      },
    });
    expect(r.stopped).toBe('patience');
    expect(r.steps).toBeLessThan(400);
    const best = Math.min(r.initialValidationBitsPerChar!, ...seen.map((s) => s.v));
    expect(r.bestValidationBitsPerChar).toBe(best);
    expect(r.validationBitsPerChar).toBe(best);
    // two validations after the best one, none better
    const after = seen.filter((s) => s.step > r.bestStep!);
    expect(after.length).toBe(2);
    expect(r.bestStep).toBeGreaterThan(0);
    expect(JSON.stringify(Array.from(m.model.stateDict()['1.weight_hh_l0']))).toBe(snap[r.bestStep!]);
    await expect(m.train(text, { steps: 5, patience: 2 })).rejects.toThrow('Expected evalEvery with patience');
    m.dispose();
  });
});
