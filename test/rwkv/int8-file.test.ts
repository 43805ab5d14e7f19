// int8 weights for RWKV7 (the library's quantize()), and saving/loading: the file is an official-named
// safetensors checkpoint whose metadata keeps the vocabulary and the int8 flag.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { init } from '../../src/wasm/load';
import { importRwkv7 } from '../../src/rwkv/import';
import { quantize } from '../../src/model/quantize';
import { rwkv7ToBytes, saveRwkv7 } from '../../src/rwkv/file';
import { Rwkv7Trainer } from '../../src/rwkv/train';
import { CharTokenizer, WorldTokenizer } from '../../src/rwkv/tokenizer';
import { readSafetensors } from '../../src/io/safetensors';
import { StateError } from '../../src/errors';
import { FIXTURES, loadFixture, relErr } from './fixtures';
import { VARIANTS } from '../cells/harness';

const f = loadFixture('small');
const dir = mkdtempSync(join(tmpdir(), 'rwkv7-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(VARIANTS)('int8 RWKV7 on the %s binary', (variant) => {
  it('logits stay within 2 % of PyTorch; streamed equals whole sequence bit for bit; inference only', async () => {
    await init({ variant });
    const m = await importRwkv7(f.bytes);
    const f32 = m.forward(f.ints.ids).logits;
    const s = m.stream(); // built before quantize: its programs are rebuilt on the int8 weights
    s.step(f.ints.ids[0]);
    expect(quantize(m, { weights: 'int8' })).toBe(m);
    expect(m.quantized).toBe(true);
    const q = m.forward(f.ints.ids).logits;
    const e = relErr(q, f.floats.logits);
    expect(e).toBeLessThan(2e-2);
    expect(e).toBeGreaterThan(relErr(f32, f.floats.logits)); // it does run on other weights
    s.reset();
    const steps = new Float32Array(q.length);
    f.ints.ids.forEach((id, t) => steps.set(s.step(id), t * f.dims.V));
    expect(steps).toEqual(q);
    s.dispose();
    expect(() => m.setParameter('head.weight', new Float32Array(f.dims.V * f.dims.C))).toThrow(StateError);
    expect(() => new Rwkv7Trainer(m, 4, 1)).toThrow(StateError);
    // saved and loaded: int8 again, the same logits bit for bit
    const back = await importRwkv7(rwkv7ToBytes(m));
    expect(back.quantized).toBe(true);
    expect(back.forward(f.ints.ids).logits).toEqual(q);
    back.dispose();
    m.dispose();
  });
});

describe('saving RWKV7', () => {
  it('round-trips f32 weights bit for bit, as an official-named checkpoint', async () => {
    await init();
    const m = await importRwkv7(f.bytes);
    const path = join(dir, 'small.safetensors');
    await saveRwkv7(m, path);
    const raw = readSafetensors(readFileSync(path));
    expect(Object.keys(raw.tensors).sort()).toEqual(Object.keys(readSafetensors(f.bytes).tensors).sort());
    expect(raw.tensors['blocks.1.att.w1'].shape).toEqual([f.dims.C, 16]);
    const back = await importRwkv7(path);
    expect(back.forward(f.ints.ids).logits).toEqual(m.forward(f.ints.ids).logits);
    expect(back.tokenizer).toBeNull();
    back.dispose();
    m.dispose();
  });
  it('keeps a character or World vocabulary', async () => {
    const t = loadFixture('tiny');
    const m = await importRwkv7(t.bytes);
    m.tokenizer = new CharTokenizer([...'abcdefghijklmnopqrstuvwxyz .,!?ABCDEFGHIJKLMNOPQRSTUVWXYZ'].slice(0, 60));
    const back = await importRwkv7(rwkv7ToBytes(m));
    expect(back.tokenizer).toBeInstanceOf(CharTokenizer);
    expect(back.tokenizer!.encode('Hi there.')).toEqual(m.tokenizer.encode('Hi there.'));
    back.dispose();
    const world = WorldTokenizer.fromText(readFileSync(join(FIXTURES, 'vocab-subset.txt'), 'utf-8'));
    // a World vocabulary needs a model as large as its ids: check the metadata path on the bytes alone
    m.tokenizer = world;
    const meta = readSafetensors(rwkv7ToBytes(m)).metadata!;
    expect(meta['rwkv7.vocab']).toBe('world');
    expect(WorldTokenizer.fromText(meta['rwkv7.vocab.text']).encode('Hello, world!')).toEqual(world.encode('Hello, world!'));
    await expect(importRwkv7(rwkv7ToBytes(m))).rejects.toThrow("Expected the vocabulary's ids below the model's vocabulary size 64");
    m.dispose();
  });
});
