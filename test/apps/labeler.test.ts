import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../src/wasm/load';
import { SequenceLabeler, type LabeledText } from '../../src/apps/labeler/index';
import { Tokenizer } from '../../src/apps/common/index';
import { Rng } from '../../src/params/rng';
import { ShapeError, ValueError } from '../../src/errors';

beforeAll(async () => { await init(); });

// Filler characters, then a last character A or B; every tag is that last character. A forward-only
// encoder cannot see the future, so per-step softmax guesses; a CRF learns that the tag never
// changes and Viterbi carries the last step's evidence back over the whole sequence.
function task(n: number, seed: number): LabeledText[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const len = 4 + Math.floor(rng.uniform() * 6);
    const last = rng.uniform() < 0.5 ? 'A' : 'B';
    const text = Array.from({ length: len - 1 }, () => 'xyz'[Math.floor(rng.uniform() * 3)]).join('') + last;
    return { text, tags: Array(len).fill(last) };
  });
}

describe('SequenceLabeler', () => {
  const train = task(400, 1), test = task(200, 2);
  const make = (crf: boolean) => new SequenceLabeler({ tokenizer: Tokenizer.fit(['xyzAB']), tags: ['A', 'B'], crf, bidirectional: false, hiddenSize: 8, embeddingDim: 4, seed: 1 });

  it('a CRF output trained jointly with the encoder beats per-step softmax where transitions matter (≥ 95 % against ≤ 75 % of the steps)', () => {
    const soft = make(false), crf = make(true);
    soft.fit(train, { epochs: 8, lr: 2e-2 });
    crf.fit(train, { epochs: 8, lr: 2e-2 });
    const a = soft.evaluate(test).accuracy, b = crf.evaluate(test).accuracy;
    expect(b).toBeGreaterThanOrEqual(0.95);
    expect(a).toBeLessThanOrEqual(0.75);
    // the CRF's transitions learnt "the tag never changes"
    const tr = crf.crf!.getParameter('transitions');
    expect(tr[0]).toBeGreaterThan(tr[1]);
    expect(tr[3]).toBeGreaterThan(tr[2]);
    // the file carries the CRF: the restored labeler decodes the same tags
    const back = SequenceLabeler.deserialize(crf.serialize());
    const texts = test.slice(0, 30).map((e) => e.text);
    expect(back.predict(texts)).toEqual(crf.predict(texts));
    back.dispose();
    soft.dispose();
    crf.dispose();
  }, 60_000);

  it('predict returns one tag per token; F1 of a tag is computed from the counts', () => {
    const lab = make(false);
    const out = lab.predict(['xyA', '', 'B']);
    expect(out.map((t) => t.length)).toEqual([3, 0, 1]);
    const s = lab.evaluate([{ text: 'xA', tags: ['A', 'A'] }], { positiveTag: 'A' });
    expect(s.f1).toBeCloseTo(s.precision + s.recall ? (2 * s.precision * s.recall) / (s.precision + s.recall) : 0, 9);
    lab.dispose();
  });

  it('per-step sample weights of 0 leave those steps out of the loss', () => {
    // tags of the first step are the opposite of the rest; weighting them 0 leaves only "all A"
    const ex: LabeledText[] = Array.from({ length: 32 }, () => ({ text: 'xxx', tags: ['B', 'A', 'A'] }));
    const lab = make(false);
    lab.fit(ex, { epochs: 10, lr: 3e-2, sampleWeights: ex.map(() => [0, 1, 1]) });
    expect(lab.predict(['xxx'])[0]).toEqual(['A', 'A', 'A']);
    lab.dispose();
  });

  it('refuses mismatched tags, unknown tags and weights with a CRF, before training', () => {
    const lab = make(true);
    const before = lab.model.stateDict();
    expect(() => lab.fit([{ text: 'xA', tags: ['A'] }])).toThrow(ShapeError);
    expect(() => lab.fit([{ text: 'xA', tags: ['A', 'C'] }])).toThrow(/tags\[1\] among A, B/);
    expect(() => lab.fit([{ text: 'xA', tags: ['A', 'A'] }], { classWeights: [1, 2] })).toThrow(/crf: true/);
    expect(() => lab.evaluate([{ text: 'xA', tags: ['A', 'A'] }], { positiveTag: 'Q' })).toThrow(ValueError);
    expect(lab.model.stateDict()).toEqual(before);
    lab.dispose();
  });
});

describe('SequenceLabeler windows over long texts', () => {
  // Each character is tagged N when the next character is 'a': the tag needs right context, and the
  // last token of every window has none (training texts end there with tag '-').
  const tagNext = (text: string) => [...text].map((_, i) => (text[i + 1] === 'a' ? 'N' : '-'));
  function short(n: number, seed: number): LabeledText[] {
    const rng = new Rng(seed);
    return Array.from({ length: n }, () => {
      const text = Array.from({ length: 4 + Math.floor(rng.uniform() * 7) }, () => 'abc'[Math.floor(rng.uniform() * 3)]).join('');
      return { text, tags: tagNext(text) };
    });
  }

  it("overlapping windows give every token its right context: a 40-character text with an 'a' after each 10-token cut is tagged perfectly with overlap 4, and misses the cuts without", () => {
    const lab = new SequenceLabeler({ tokenizer: Tokenizer.fit(['abc']), tags: ['-', 'N'], hiddenSize: 12, embeddingDim: 4, maxLength: 10, seed: 1 });
    lab.fit(short(400, 1), { epochs: 8, lr: 2e-2 });
    expect(lab.evaluate(short(100, 2)).accuracy).toBe(1);
    const rng = new Rng(3);
    const chars = Array.from({ length: 40 }, () => 'bc'[Math.floor(rng.uniform() * 2)]);
    for (const cut of [10, 20, 30]) chars[cut] = 'a'; // the token after each window's last one
    const long = { text: chars.join(''), tags: tagNext(chars.join('')) };
    const plain = lab.predict([long.text])[0];
    expect([9, 19, 29].map((t) => plain[t])).toEqual(['-', '-', '-']); // no right context at a cut
    expect(lab.evaluate([long], { overlap: 4 }).accuracy).toBe(1);
    expect(lab.predict([long.text], { overlap: 4 })[0]).toEqual(long.tags);
    // texts no longer than a window are tagged the same with or without overlap
    const few = short(20, 4).map((e) => e.text);
    expect(lab.predict(few, { overlap: 6 })).toEqual(lab.predict(few));
    expect(() => lab.predict([long.text], { overlap: 10 })).toThrow(/Expected overlap to be an integer in \[0, maxLength 10\), got 10/);
    expect(() => lab.evaluate([long], { overlap: 1.5 })).toThrow(ValueError);
    expect(() => lab.predict([long.text], { stride: 2 } as never)).toThrow(/unknown key stride/);
    lab.dispose();
  });
});
