// importRwkv7 on a .pth as torch.save (PyTorch 1.13) writes it: BF16 storages, one storage shared by
// two tensors at different offsets, an OrderedDict with _metadata (scripts/fixtures/rwkv7.py "micro");
// logits vs the PyTorch reference; damaged archives and pickles are FormatErrors.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../src/wasm/load';
import { importRwkv7 } from '../../src/rwkv/import';
import { readPth } from '../../src/io/pth';
import { parseSafetensors } from '../../src/io/safetensors';
import { FormatError } from '../../src/io/format';
import { FIXTURES, relErr } from './fixtures';

const pth = new Uint8Array(readFileSync(join(FIXTURES, 'micro.pth')));
const io = parseSafetensors(new Uint8Array(readFileSync(join(FIXTURES, 'micro-io.safetensors'))));
const ids = new Int32Array(io.tensors.get('ids')!.bytes.slice().buffer);
const logits = new Float64Array(io.tensors.get('logits')!.bytes.slice().buffer);

beforeAll(async () => {
  await init();
});

describe('.pth checkpoints', () => {
  it('reads every tensor with its official shape, including views into a shared storage', () => {
    const t = readPth(pth);
    expect(t['blocks.0.att.x_r'].shape).toEqual([1, 1, 16]);
    expect(t['blocks.0.att.r_k'].shape).toEqual([2, 8]);
    expect(t['emb.weight'].shape).toEqual([16, 16]);
    expect(t['head.weight'].data).not.toEqual(t['emb.weight'].data);
  });
  it('importRwkv7 of the .pth gives the PyTorch logits (≤ 1e-5 relative); the path form too', async () => {
    const m = await importRwkv7(pth);
    expect(relErr(m.forward(ids).logits, logits)).toBeLessThan(1e-5);
    const p = await importRwkv7(join(FIXTURES, 'micro.pth'));
    expect(p.forward(ids).logits).toEqual(m.forward(ids).logits);
    p.dispose();
    m.dispose();
  });
  it('damaged archives are FormatErrors', async () => {
    await expect(importRwkv7(pth.subarray(0, pth.length - 30))).rejects.toBeInstanceOf(FormatError);
    // flip the pickle's first GLOBAL to one no state_dict uses
    const bad = pth.slice();
    const at = Buffer.from(bad).indexOf('collections\nOrderedDict');
    bad.set(Buffer.from('collections\nOrderedDixt'), at);
    await expect(importRwkv7(bad)).rejects.toThrow(/got a call of collections OrderedDixt/);
    const noPkl = pth.slice();
    noPkl.set(Buffer.from('data.pkx'), Buffer.from(noPkl).lastIndexOf('data.pkl'));
    noPkl.set(Buffer.from('data.pkx'), Buffer.from(noPkl).indexOf('data.pkl'));
    await expect(importRwkv7(noPkl)).rejects.toBeInstanceOf(FormatError);
  });
});
