// ConditionalGenerator on a synthetic task the condition alone decides: class 'ab' texts are
// "ab" repeated, class 'ba' texts "ba" repeated, both 1–4 repeats. A trained generator must produce
// the asked class's pattern, whichever way the condition enters (initial state, every step, both);
// sampling is reproducible and survives save/load; bad input is refused by name.
import { beforeAll, describe, expect, it } from 'vitest';
import { init, ConditionalGenerator, ValueError, FormatError } from '../../src/index';

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
