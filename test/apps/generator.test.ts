// ConditionalGenerator on a synthetic task the condition alone decides: class 'ab' texts are
// "ab" repeated, class 'ba' texts "ba" repeated, both 1–4 repeats. A trained generator must produce
// the asked class's pattern, whichever way the condition enters (initial state, every step, both);
// sampling is reproducible and survives save/load; bad input is refused by name.
import { beforeAll, describe, expect, it } from 'vitest';
import { init, ConditionalGenerator, ValueError, FormatError } from '../../src/index';
import { checkGuidance, guidedLogits } from '../../src/apps/generator/guidance';

const examples = Array.from({ length: 64 }, (_, i) => ({ text: (i % 2 ? 'ba' : 'ab').repeat(1 + (i % 4)), condition: i % 2 ? 'ba' : 'ab' }));

beforeAll(async () => {
  await init();
});

describe('ConditionalGenerator', () => {
  it.each(['state', 'input', 'both'] as const)('conditioning %s: generated texts follow the asked class\'s pattern', async (conditioning) => {
    const gen = ConditionalGenerator.fromExamples(examples, { classes: ['ab', 'ba'], cell: conditioning === 'input' ? 'rnn' : 'lstm', hidden: 24, embedding: 8, conditioning, seed: 2 });
    const r = await gen.train(examples, { steps: 150, batchSize: 16, lr: 2e-2, validation: 0.25 });
    expect(r.validationLoss!).toBeLessThan(0.5 * r.initialValidationLoss!);
    for (const [cls, re] of [['ab', /^(ab)+$/], ['ba', /^(ba)+$/]] as const) {
      const texts = gen.generate({ condition: cls, count: 40, temperature: 0.7, seed: 1, maxLength: 12 });
      const ok = texts.filter((t) => re.test(t)).length;
      expect(ok, `${cls}: ${texts.join(' ')}`).toBeGreaterThanOrEqual(36);
    }
    gen.dispose();
  });

  it('sampling is reproducible and identical after save/load; a vector condition works too', async () => {
    const vec = examples.map((e) => ({ text: e.text, condition: e.condition === 'ab' ? [1, 0.5] : [-1, 0.5] }));
    const gen = ConditionalGenerator.fromExamples(vec, { conditionSize: 2, hidden: 16, embedding: 8, seed: 3 });
    await gen.train(vec, { steps: 40, batchSize: 16, lr: 2e-2 });
    const o = { condition: [1, 0.5], count: 8, topK: 2, topP: 0.9, seed: 9 };
    const a = gen.generate(o);
    expect(gen.generate(o)).toEqual(a);
    const copy = ConditionalGenerator.deserialize(gen.serialize());
    expect(copy.generate(o)).toEqual(a);
    expect(copy.config).toEqual(gen.config);
    expect(copy.step).toBe(40);
    expect(gen.generate({ ...o, greedy: true, count: 1 })).toEqual(gen.generate({ ...o, temperature: 0, count: 1 }));
    gen.dispose();
    copy.dispose();
  });

  it('guided logits are (1 + w)·log p(asked) − w·log(mean of the contrasts\' p), in f64', () => {
    // two asked rows, two contrast blocks (three classes), V = 3
    const V = 3, rows = 2;
    const logits = Float32Array.from([0.5, -1, 2, /* row 1 */ 0, 0, 0, /* contrast 1 */ 1, 2, 3, 0, 1, 0, /* contrast 2 */ -2, 0, 4, 3, 3, -1]);
    const g = checkGuidance({ classes: ['a', 'b', 'c'], conditionSize: 3 } as never, { guidance: 1.5 }, Float32Array.from([0, 1, 0]));
    expect(g.contrasts.map((c) => [...c])).toEqual([[1, 0, 0], [0, 0, 1]]);
    const softmax = (o: number) => {
      const e = [0, 1, 2].map((j) => Math.exp(logits[o + j]));
      const z = e[0] + e[1] + e[2];
      return e.map((x) => x / z);
    };
    for (const r of [0, 1]) {
      const out = guidedLogits(logits, rows, V, r, g, new Float64Array(V), new Float64Array(V).fill(7)); // a dirty scratch is cleared
      const p = softmax(r * V), q1 = softmax((rows + r) * V), q2 = softmax((2 * rows + r) * V);
      for (let j = 0; j < V; j++) expect(out[j]).toBeCloseTo(2.5 * Math.log(p[j]) - 1.5 * Math.log((q1[j] + q2[j]) / 2), 12);
    }
    // a contrast probability that underflows stays a finite logit
    const extreme = Float32Array.from([0, 0, 0, 0, 0, 0, 1e4, 0, 0, 0, 0, 0, 1e4, 0, 0, 0, 0, 0]);
    expect([...guidedLogits(extreme, rows, V, 0, g, new Float64Array(V), new Float64Array(V))].every(Number.isFinite)).toBe(true);
  });

  it('guidance sharpens what sets the asked class apart: 70/30 classes sample their majority text far more often', async () => {
    // class 'p' says "xx" 70 % of the time and "yy" 30 %; class 'q' the other way round
    const mixed = Array.from({ length: 200 }, (_, i) => ({ condition: i % 2 ? 'q' : 'p', text: (i >> 1) % 10 < 7 === (i % 2 === 0) ? 'xx' : 'yy' }));
    const gen = ConditionalGenerator.fromExamples(mixed, { classes: ['p', 'q'], hidden: 16, embedding: 4, seed: 5 });
    await gen.train(mixed, { steps: 300, batchSize: 40, lr: 2e-2 });
    const share = (o: object) => gen.generate({ condition: 'p', count: 600, seed: 4, maxLength: 4, ...o }).filter((t) => t === 'xx').length / 600;
    const plain = share({});
    const guided = share({ guidance: 2 });
    // p^3 / q^2 over two outcomes with p = 0.7: 0.7³/0.3² against 0.3³/0.7² → 98.6 % "xx"
    expect(plain).toBeGreaterThan(0.6);
    expect(plain).toBeLessThan(0.8);
    expect(guided).toBeGreaterThan(0.93);
    // an explicit contrast equal to the default (the other class) gives the same draws
    const o = { condition: 'p', count: 50, seed: 8, guidance: 1 };
    expect(gen.generate({ ...o, contrast: 'q' })).toEqual(gen.generate(o));
    expect(() => gen.generate({ condition: 'p', guidance: -1 })).toThrow(/Expected guidance to be a number in \[0, 100\], got -1/);
    expect(() => gen.generate({ condition: 'p', contrast: 'q' })).toThrow(/Expected guidance > 0 with a contrast condition/);
    expect(() => gen.generate({ condition: 'p', guidance: 1, contrast: 'r' })).toThrow(/Expected contrast to be one of "p", "q", got "r"/);
    gen.dispose();
    const vec = ConditionalGenerator.fromExamples(mixed, { conditionSize: 2, hidden: 8, embedding: 4 });
    expect(() => vec.generate({ condition: [1, 0], guidance: 1 })).toThrow(/Expected a contrast condition \(a vector\)/);
    expect(vec.generate({ condition: [1, 0], guidance: 1, contrast: [0, 1], count: 3 })).toHaveLength(3);
    vec.dispose();
  });

  it('refuses bad conditions, texts and options by name, before changing anything', async () => {
    expect(() => ConditionalGenerator.fromExamples(examples, {})).toThrow(/Expected classes \(named conditions\) or conditionSize/);
    expect(() => ConditionalGenerator.fromExamples(examples, { classes: ['a', 'a'] })).toThrow(/distinct class names/);
    const gen = ConditionalGenerator.fromExamples(examples, { classes: ['ab', 'ba'], hidden: 8, embedding: 4 });
    const before = gen.model.stateDict();
    await expect(gen.train([...examples, { text: 'ab', condition: 'xy' }], { steps: 2 })).rejects.toThrow(/Expected examples\[64\].condition to be one of "ab", "ba", got "xy"/);
    await expect(gen.train([{ text: 'a\nb', condition: 'ab' }], { steps: 2 })).rejects.toThrow(/without newlines/);
    await expect(gen.train([{ text: 'abz', condition: 'ab' }], { steps: 2 })).rejects.toThrow(ValueError);
    await expect(gen.train(examples, { steps: 2, lerning: 1 } as never)).rejects.toThrow(/unknown key lerning/);
    expect(gen.model.stateDict()).toEqual(before);
    expect(gen.step).toBe(0);
    expect(() => gen.generate({ condition: 'ab', count: 0 })).toThrow(/Expected count to be an integer in \[1/);
    expect(() => gen.generate({ condition: [1, 0] })).toThrow(/Expected condition to be one of/);
    expect(() => gen.generate({ condition: 'ab', topP: 2 })).toThrow(/topP/);
    const bytes = gen.serialize();
    gen.dispose();
    expect(() => ConditionalGenerator.deserialize(bytes.slice(0, 40))).toThrow(FormatError);
  });
});
