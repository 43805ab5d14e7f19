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
    const r = await fitRwkv7(m, text.slice(0, 1000), { steps: 60, seqLen: 24, batch: 4, lr: 0.01, validation: text.slice(1000, 1300), onProgress: (p) => seen.push(p.step) });
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

describe('RWKV7 with a World vocabulary', () => {
  it('importRwkv7 { vocab } encodes prompts with the World tokenizer and decodes the tokens it picks', async () => {
    await init();
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { FIXTURES } = await import('./fixtures');
    const { WorldTokenizer } = await import('../../src/rwkv/tokenizer');
    const vocab = join(FIXTURES, 'vocab-subset.txt');
    const world = WorldTokenizer.fromText(readFileSync(vocab, 'utf-8'));
    const C = 8;
    const m = createRwkv7({ vocabSize: 65536, dim: C, headSize: 4, layers: 1, ffnDim: 16, lora: { w: 4, a: 4, v: 4, g: 4 } }, 2);
    // ln_out gives all ones and the head favours token 33 (the byte ' '), so greedy text is spaces
    m.setParameter('ln_out.weight', new Float32Array(C));
    m.setParameter('ln_out.bias', new Float32Array(C).fill(1));
    const head = new Float32Array(65536 * C);
    head.fill(1, 33 * C, 34 * C);
    m.setParameter('head.weight', head);
    const w = await importRwkv7(rwkv7ToBytes(m), { vocab });
    expect(w.tokenizer).toBeInstanceOf(WorldTokenizer);
    expect(completeRwkv7(w, 'Hello, world!', { maxLength: 3 })).toBe('   ');
    // the prompt went in as World tokens: the same logits as feeding those ids
    const ids = world.encode('Hello, world!');
    expect(ids.length).toBeLessThan('Hello, world!'.length);
    const s = w.stream();
    expect(s.run(ids)).toEqual(m.forward(ids).logits);
    s.dispose();
    w.dispose();
    m.dispose();
  });
});
