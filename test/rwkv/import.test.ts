// importRwkv7 on bad input: every malformed checkpoint, vocabulary, id or state is a typed error
// naming what is wrong, and nothing is left half-built.
import { beforeAll, describe, expect, it } from 'vitest';
import { init, runtime } from '../../src/wasm/load';
import { importRwkv7 } from '../../src/rwkv/import';
import { readSafetensors, writeSafetensors, type NamedTensor } from '../../src/io/safetensors';
import { FormatError } from '../../src/io/format';
import { ShapeError, StateError, ValueError } from '../../src/errors';
import { join } from 'node:path';
import { FIXTURES, loadFixture } from './fixtures';

const f = loadFixture('tiny');
const tensors = (): Record<string, NamedTensor> => readSafetensors(f.bytes).tensors;
const bytesOf = (t: Record<string, NamedTensor>): Uint8Array => writeSafetensors(t);

beforeAll(async () => {
  await init();
});

describe('importRwkv7 errors', () => {
  it('a missing tensor is a FormatError naming it; the heap is unchanged', async () => {
    const live = runtime().heap.liveElements;
    for (const name of ['blocks.1.att.key.weight', 'head.weight', 'blocks.1.ffn.x_k', 'blocks.0.ln0.bias']) {
      const t = tensors();
      delete t[name];
      await expect(importRwkv7(bytesOf(t))).rejects.toThrow(new RegExp(`Expected tensor ${name.replace(/\./g, '\\.')} in the RWKV-7 checkpoint, got none`));
    }
    await expect(importRwkv7(f.bytes.subarray(0, 10))).rejects.toBeInstanceOf(FormatError);
    expect(runtime().heap.liveElements).toBe(live);
  });
  it('a wrong shape is a FormatError naming the tensor and both shapes', async () => {
    const t = tensors();
    t['blocks.1.att.value.weight'] = { data: new Float32Array(64 * 60), shape: [64, 60] };
    await expect(importRwkv7(bytesOf(t))).rejects.toThrow('Expected blocks.1.att.value.weight of shape [64, 64], got [64, 60]');
    const u = tensors();
    u['blocks.0.att.x_g'] = { data: new Float32Array(63), shape: [1, 1, 63] };
    await expect(importRwkv7(bytesOf(u))).rejects.toThrow('Expected blocks.0.att.x_g of shape [1, 1, 64], got [1, 1, 63]');
    const w = tensors();
    w['blocks.0.att.r_k'] = { data: new Float32Array(60), shape: [4, 15] };
    await expect(importRwkv7(bytesOf(w))).rejects.toBeInstanceOf(FormatError);
  });
  it('vectors may come squeezed ([C] for [1, 1, C]); layer 0 may omit its unused v0/v1/v2', async () => {
    const t = tensors();
    t['blocks.1.att.w0'] = { data: t['blocks.1.att.w0'].data, shape: [64] };
    delete t['blocks.0.att.v0'];
    delete t['blocks.0.att.v1'];
    delete t['blocks.0.att.v2'];
    const m = await importRwkv7(bytesOf(t));
    const ref = await importRwkv7(f.bytes);
    expect(m.forward(f.ints.ids).logits).toEqual(ref.forward(f.ints.ids).logits);
    m.dispose();
    ref.dispose();
  });
  it('an unknown tensor or a non-finite value is a FormatError', async () => {
    await expect(importRwkv7(bytesOf({ ...tensors(), 'blocks.1.att.key.weigth': { data: new Float32Array(4), shape: [4] } }))).rejects.toThrow('unknown tensor blocks.1.att.key.weigth');
    await expect(importRwkv7(bytesOf({ ...tensors(), 'lm_head.weight': { data: new Float32Array(4), shape: [4] } }))).rejects.toThrow('unknown tensor lm_head.weight');
    const t = tensors();
    t['blocks.0.att.a0'].data[3] = NaN;
    await expect(importRwkv7(bytesOf(t))).rejects.toThrow('Expected finite values in blocks.0.att.a0, got NaN at element 3');
  });
  it('bad arguments: ValueError; a directory path: FormatError', async () => {
    await expect(importRwkv7(42 as never)).rejects.toBeInstanceOf(ValueError);
    await expect(importRwkv7(f.bytes, { vocab: 3 } as never)).rejects.toBeInstanceOf(ValueError);
    await expect(importRwkv7(f.bytes, { vocabulary: 'x' } as never)).rejects.toBeInstanceOf(ValueError);
    await expect(importRwkv7(FIXTURES)).rejects.toBeInstanceOf(FormatError);
  });
  it('reads a path and a vocabulary file; a vocabulary larger than the model is refused', async () => {
    const m = await importRwkv7(join(FIXTURES, 'tiny.safetensors'));
    expect(m.forward(f.ints.ids).logits).toEqual((await importRwkv7(f.bytes)).forward(f.ints.ids).logits);
    m.dispose();
    await expect(importRwkv7(f.bytes, { vocab: join(FIXTURES, 'vocab-subset.txt') })).rejects.toThrow("Expected the vocabulary's ids below the model's vocabulary size 64");
  });
});

describe('RWKV7 and Rwkv7Stream errors', () => {
  it('ids out of range, non-integers and empty inputs; a bad state; use after dispose', async () => {
    const m = await importRwkv7(f.bytes);
    expect(() => m.forward([0, 64])).toThrow('Expected ids[1] to be an integer token id in [0, 64), got 64');
    expect(() => m.forward([1.5])).toThrow(ValueError);
    expect(() => m.forward([])).toThrow(ShapeError);
    expect(() => m.forward('abc' as never)).toThrow(ValueError);
    expect(() => m.forward([1], { data: new Float32Array(3) })).toThrow(ShapeError);
    expect(() => m.greedy([1], -1)).toThrow(ValueError);
    expect(() => m.setParameter('blocks.0.att.k_k', new Float32Array(3))).toThrow('Expected 64 elements for blocks.0.att.k_k');
    expect(() => m.getParameter('blocks.9.att.k_k')).toThrow(ValueError);
    const s = m.stream();
    const before = s.getState().data;
    expect(() => s.step(99)).toThrow(ValueError);
    expect(s.getState().data).toEqual(before);
    s.dispose();
    expect(() => s.step(1)).toThrow(StateError);
    m.dispose();
    expect(() => m.forward([1])).toThrow(StateError);
  });
});
