// fitRwkv7 on the shared training loop: a run stopped (by its budget or an AbortSignal) and continued —
// on the same model or on the one read back from its file — ends with the same file, byte for byte,
// as one uninterrupted run; the file carries the run (settings, step, window order, Adam's moments)
// unless asked not to; a continued run refuses other settings; a damaged run in a file is a FormatError.
import { describe, expect, it } from 'vitest';
import { init } from '../../src/wasm/load';
import { createRwkv7 } from '../../src/rwkv/init';
import { CharTokenizer } from '../../src/rwkv/tokenizer';
import { fitRwkv7 } from '../../src/rwkv/fit';
import { importRwkv7 } from '../../src/rwkv/import';
import { bitsPerCharRwkv7 } from '../../src/rwkv/generate';
import { META, OPTIMIZER_TENSOR, rwkv7ToBytes } from '../../src/rwkv/file';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors';
import { FormatError } from '../../src/io/format';
import { ValueError } from '../../src/errors';

const text = 'the quick brown fox jumps over the lazy dog. '.repeat(30);
const settings = { seqLen: 16, batch: 3, lr: 0.01, clipNorm: 1, seed: 4 };

async function fresh() {
  await init();
  const tok = CharTokenizer.fromText(text);
  const m = createRwkv7({ vocabSize: tok.size, dim: 16, headSize: 8, layers: 2, ffnDim: 32, lora: { w: 4, a: 4, v: 4, g: 4 } }, 3);
  m.tokenizer = tok;
  return m;
}

describe('fitRwkv7 continues a run exactly', () => {
  it('30 + 30 steps on one model, through a file, and after an abort all equal 60 steps in one call', async () => {
    const full = await fresh();
    const r = await fitRwkv7(full, text, { ...settings, steps: 60 });
    expect(r).toMatchObject({ steps: 60, totalSteps: 60, stopped: 'steps' });
    expect(full.step).toBe(60);
    const want = rwkv7ToBytes(full);

    // the same model, two calls (the second keeps the first's settings without repeating them)
    const twice = await fresh();
    await fitRwkv7(twice, text, { ...settings, steps: 30 });
    const half = rwkv7ToBytes(twice);
    expect(Buffer.compare(half, want)).not.toBe(0); // the comparisons below can fail
    expect(await fitRwkv7(twice, text, { steps: 30 })).toMatchObject({ steps: 30, totalSteps: 60 });
    expect(Buffer.compare(rwkv7ToBytes(twice), want)).toBe(0);

    // the 30-step file read back and continued
    const back = await importRwkv7(half);
    expect(back.step).toBe(30);
    expect(back.trainSettings).toEqual(settings);
    await fitRwkv7(back, text, { steps: 30 });
    expect(Buffer.compare(rwkv7ToBytes(back), want)).toBe(0);

    // an AbortSignal mid-run: the call resolves between steps, and the run continues from there
    const cut = await fresh();
    const ac = new AbortController();
    const stopped = await fitRwkv7(cut, text, { ...settings, steps: 60, signal: ac.signal, onProgress: (p) => p.step === 17 && ac.abort() });
    expect(stopped).toMatchObject({ steps: 17, totalSteps: 17, stopped: 'signal' });
    const resumed = await importRwkv7(rwkv7ToBytes(cut));
    await fitRwkv7(resumed, text, { steps: 43 });
    expect(Buffer.compare(rwkv7ToBytes(resumed), want)).toBe(0);

    // a continued run keeps its settings
    await expect(fitRwkv7(resumed, text, { steps: 1, lr: 0.02 })).rejects.toThrow(new ValueError('Expected lr 0.01 (the model\'s run, to continue it), got 0.02'));
    for (const m of [full, twice, back, cut, resumed]) m.dispose();
  });

  it('the file holds the run unless { training: false }; a damaged run is a FormatError', async () => {
    const m = await fresh();
    expect(m.step).toBe(0);
    expect(m.trainSettings).toBeNull();
    // an untrained model's file is weights only
    expect(readSafetensors(rwkv7ToBytes(m)).tensors[OPTIMIZER_TENSOR]).toBeUndefined();
    await fitRwkv7(m, text, { ...settings, steps: 5 });
    const { tensors, metadata } = readSafetensors(rwkv7ToBytes(m));
    expect(tensors[OPTIMIZER_TENSOR].shape).toEqual([2, m.arena.size]);
    expect(JSON.parse(metadata![META.training])).toMatchObject({ settings, step: 5, optimizer: { kind: 'adam', step: 5 } });
    const weights = readSafetensors(rwkv7ToBytes(m, { training: false }));
    expect(weights.tensors[OPTIMIZER_TENSOR]).toBeUndefined();
    expect(weights.metadata![META.training]).toBeUndefined();
    expect((await importRwkv7(rwkv7ToBytes(m, { training: false }))).step).toBe(0);

    const damaged = (meta: Record<string, string>, t = tensors) => importRwkv7(writeSafetensors(t, meta));
    const run = JSON.parse(metadata![META.training]) as Record<string, unknown>;
    await expect(damaged({ ...metadata, [META.training]: JSON.stringify({ ...run, step: -1 }) })).rejects.toThrow(FormatError);
    await expect(damaged({ ...metadata, [META.training]: JSON.stringify({ ...run, rng: [0, 0, 0, 0] }) })).rejects.toThrow(/rng to be 4 words/);
    await expect(damaged({ ...metadata, [META.training]: '{' })).rejects.toThrow(/Expected JSON in metadata rwkv7.training/);
    const { [META.training]: _, ...noRun } = metadata!;
    await expect(damaged(noRun)).rejects.toThrow(/got only the tensor/);
    const poisoned = { ...tensors, [OPTIMIZER_TENSOR]: { data: tensors[OPTIMIZER_TENSOR].data.map((v, i) => (i === 3 ? NaN : v)), shape: tensors[OPTIMIZER_TENSOR].shape } };
    await expect(damaged(metadata!, poisoned)).rejects.toThrow(/finite optimizer state/);
    const short = { ...tensors, [OPTIMIZER_TENSOR]: { data: tensors[OPTIMIZER_TENSOR].data.subarray(2), shape: [tensors[OPTIMIZER_TENSOR].data.length - 2] } };
    await expect(damaged(metadata!, short)).rejects.toThrow(FormatError);
    m.dispose();
  });

  it('the guard: a non-finite loss stops the run with stopped nan and updates nothing', async () => {
    const m = await fresh();
    // a head this large overflows the logits to ±Infinity: the loss is not finite
    m.setParameter('head.weight', new Float32Array(m.getParameter('head.weight').length).fill(3e38));
    const before = rwkv7ToBytes(m, { training: false });
    const r = await fitRwkv7(m, text, { ...settings, steps: 10 });
    expect(r.stopped).toBe('nan');
    expect(r.steps).toBe(1);
    expect(Number.isFinite(r.loss)).toBe(false);
    expect(Buffer.compare(rwkv7ToBytes(m, { training: false }), before)).toBe(0);
    expect(m.run!.optimizer.step).toBe(0);
    m.dispose();
  });

  it('checks its options (a budget, evalEvery with a validation text, patience with evalEvery); early stopping restores the best', async () => {
    const m = await fresh();
    await expect(fitRwkv7(m, text, {})).rejects.toThrow('Expected a budget');
    await expect(fitRwkv7(m, text, { steps: 1, evalEvery: 2 })).rejects.toThrow('Expected a validation text with evalEvery');
    await expect(fitRwkv7(m, text, { steps: 1, validation: 'the dog', patience: 2 })).rejects.toThrow('Expected evalEvery with patience');
    await expect(fitRwkv7(m, text, { steps: 1, batchSize: 2 } as never)).rejects.toThrow(ValueError);
    // early stopping on the validation text restores the best parameters it saw
    const seen: number[] = [];
    const valid = text.slice(600, 800);
    const r = await fitRwkv7(m, text.slice(0, 600), { ...settings, lr: 0.2, steps: 40, validation: valid, evalEvery: 2, patience: 2, onProgress: (p) => p.validationBitsPerChar !== undefined && seen.push(p.validationBitsPerChar) });
    expect(r.stopped).toBe('patience');
    expect(r.steps).toBeLessThan(40);
    expect(seen).toHaveLength(r.steps / 2);
    // the best validation's parameters are back: it is what the model now scores, and the last two were worse
    expect(r.validationBitsPerChar).toBe(Math.min(...seen));
    expect(bitsPerCharRwkv7(m, valid)).toBe(r.validationBitsPerChar);
    expect(Math.min(seen.at(-1)!, seen.at(-2)!)).toBeGreaterThan(r.validationBitsPerChar!);
    m.dispose();
  });
});
