// An RWKV7 char model end to end through the library: fitRwkv7 on a small text (validation bits/char
// fall), completeRwkv7 (greedy, stop strings), sampleRwkv7 (seeded), bitsPerCharRwkv7, save/load.
import { describe, expect, it } from 'vitest';
import { init } from '../../src/wasm/load';
import { createRwkv7 } from '../../src/rwkv/init';
import { CharTokenizer } from '../../src/rwkv/tokenizer';
import { fitRwkv7 } from '../../src/rwkv/fit';
import { bitsPerCharRwkv7, completeRwkv7, sampleRwkv7 } from '../../src/rwkv/generate';
import { importRwkv7 } from '../../src/rwkv/import';
import { rwkv7ToBytes } from '../../src/rwkv/file';
import { StateError, ValueError } from '../../src/errors';

const text = 'the quick brown fox jumps over the lazy dog. '.repeat(30);

describe('RWKV7 char-LM through the library', () => {
  it('trains, completes, samples and scores; a saved model does the same', async () => {
    await init();
    const tok = CharTokenizer.fromText(text);
    const m = createRwkv7({ vocabSize: tok.size, dim: 32, headSize: 8, layers: 2, ffnDim: 128, lora: { w: 8, a: 8, v: 8, g: 8 } }, 5);
    expect(() => completeRwkv7(m, 'the')).toThrow(StateError);
    m.tokenizer = tok;
    const seen: number[] = [];
    const r = fitRwkv7(m, text.slice(0, 1000), { steps: 60, seqLen: 24, batch: 4, lr: 0.01, validation: text.slice(1000, 1300), onProgress: (p) => seen.push(p.step) });
    expect(r.steps).toBe(60);
    expect(seen).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(r.validationBitsPerChar!).toBeLessThan(0.5 * r.initialValidationBitsPerChar!);
    expect(completeRwkv7(m, 'the quick ', { maxLength: 20, until: [' over'] })).toBe('brown fox jumps');
    const a = sampleRwkv7(m, { length: 40, prompt: 'the', temperature: 0.8, seed: 7 });
    expect(a).toHaveLength(40);
    expect(sampleRwkv7(m, { length: 40, prompt: 'the', temperature: 0.8, seed: 7 })).toBe(a);
    const bpc = bitsPerCharRwkv7(m, text.slice(1000, 1300));
    expect(bpc).toBeCloseTo(r.validationBitsPerChar!, 10);
    expect(bitsPerCharRwkv7(m, text.slice(1000, 1300), 7)).toBeCloseTo(bpc, 4); // chunking carries the state
    const back = await importRwkv7(rwkv7ToBytes(m));
    expect(completeRwkv7(back, 'the quick ', { maxLength: 20, until: [' over'] })).toBe('brown fox jumps');
    expect(() => completeRwkv7(m, 'the', { maxLength: 0 })).toThrow(ValueError);
    expect(() => sampleRwkv7(m, { length: 3, topP: 2 })).toThrow(ValueError);
    expect(() => completeRwkv7(m, 'the €')).toThrow(/not among its/);
    back.dispose();
    m.dispose();
  });
});
