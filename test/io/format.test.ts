// The model file: bit-exact round trips, every corruption and truncation detected with a clear
// FormatError, atomic saves that survive SIGKILL, and resumable training.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  init, LSTM, GRU, Sequential, layers, tensor, Tensor, Adam, SGD, serialize, deserialize, save, load,
  FormatError, FORMAT_VERSION,
} from '../../src/index';
import { randArray } from '../model/helpers';

beforeAll(async () => {
  await init();
});

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

function smallModel() {
  return new Sequential([
    layers.embedding({ numEmbeddings: 7, embeddingDim: 3 }),
    layers.gru({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, mergeMode: 'sum', resetAfter: false, dropout: 0.1 }),
    layers.linear({ inFeatures: 4, outFeatures: 7 }),
    layers.logSoftmax(),
  ], { seed: 3, batchFirst: true });
}

describe('round trip', () => {
  it('save → load is bit-exact for parameters, architecture, vocabulary and metadata', () => {
    const m = smallModel();
    const bytes = serialize(m, { vocabulary: ['a', 'b', 'c', 'd', 'e', 'f', 'g'], metadata: { epoch: 3 } });
    const { model, vocabulary, metadata } = deserialize(bytes);
    expect(vocabulary).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    expect(metadata).toEqual({ epoch: 3 });
    expect(model.spec()).toEqual(m.spec());
    for (const p of m.parameters()) expect(bits(model.getParameter(p.name))).toEqual(bits(m.getParameter(p.name)));
    const x = new Tensor(new Int32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
    expect(bits(model.forward(x).output.data)).toEqual(bits(m.forward(x).output.data));
    // serialising again gives the same bytes
    expect(Array.from(serialize(model, { vocabulary: ['a', 'b', 'c', 'd', 'e', 'f', 'g'], metadata: { epoch: 3 } }))).toEqual(Array.from(bytes));
    m.dispose();
    model.dispose();
  });

  it('standalone layers round-trip with their options (peepholes, clip)', () => {
    const m = new LSTM({ inputSize: 3, hiddenSize: 5, peepholes: true, cellClip: 2, numLayers: 2 });
    const { model } = deserialize(serialize(m));
    expect(model.spec()).toEqual(m.spec());
    expect(bits(model.getParameter('weight_peep_l1'))).toEqual(bits(m.getParameter('weight_peep_l1')));
    m.dispose();
    model.dispose();
  });
});

describe('damaged files', () => {
  let bytes: Uint8Array<ArrayBuffer>;
  beforeAll(() => {
    const m = new GRU({ inputSize: 2, hiddenSize: 3 });
    bytes = serialize(m, { metadata: { note: 'x' } });
    m.dispose();
  });

  it('a corrupted byte anywhere is detected', () => {
    for (let i = 0; i < bytes.length; i++) {
      const bad = bytes.slice();
      bad[i] ^= 0x5a;
      expect(() => deserialize(bad), `byte ${i}`).toThrow(FormatError);
    }
  });

  it('a truncated file at every length from 0 to its size gives a clear error', () => {
    for (let n = 0; n < bytes.length; n++) {
      expect(() => deserialize(bytes.slice(0, n)), `length ${n}`).toThrow(FormatError);
    }
  });

  it('names the problem: not a model file, wrong version', () => {
    expect(() => deserialize(new TextEncoder().encode('hello world, not a model at all'))).toThrow(/magic/);
    const v2 = bytes.slice();
    new DataView(v2.buffer).setUint32(8, FORMAT_VERSION + 1, true);
    expect(() => deserialize(v2)).toThrow(/format version/);
  });

  it('an unknown model type in a checksummed file names the type', async () => {
    const { crc32 } = await import('../../src/io/format');
    const hl0 = new DataView(bytes.buffer).getUint32(12, true);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + hl0)));
    header.model = { type: 'transformer', config: {} };
    const json = new TextEncoder().encode(JSON.stringify(header));
    const body = bytes.subarray(16 + Math.ceil(hl0 / 4) * 4, bytes.length - 4);
    const hl = Math.ceil(json.length / 4) * 4;
    const out = new Uint8Array(16 + hl + body.length + 4);
    out.set(bytes.subarray(0, 16));
    new DataView(out.buffer).setUint32(12, json.length, true);
    out.set(json, 16);
    out.fill(0x20, 16 + json.length, 16 + hl);
    out.set(body, 16 + hl);
    new DataView(out.buffer).setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
    expect(() => deserialize(out)).toThrow(/transformer/);
  });
});

describe('files on disk', () => {
  it('save/load by path; a missing file is a FormatError', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rnnw-'));
    const m = new GRU({ inputSize: 2, hiddenSize: 3 });
    await save(m, join(dir, 'm.rnnw'));
    const { model } = await load(join(dir, 'm.rnnw'));
    expect(bits(model.getParameter('weight_hh_l0'))).toEqual(bits(m.getParameter('weight_hh_l0')));
    await expect(load(join(dir, 'nope.rnnw'))).rejects.toThrow(FormatError);
    expect(readdirSync(dir)).toEqual(['m.rnnw']); // no temporary files left behind
    m.dispose();
    model.dispose();
  });

  it('a child killed (SIGKILL) in the middle of saves leaves the previous file loadable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rnnw-kill-'));
    const path = join(dir, 'ckpt.rnnw');
    const child = `
      const lib = await import(${JSON.stringify(new URL('../../dist/index.js', import.meta.url).href)});
      await lib.init();
      const m = new lib.LSTM({ inputSize: 64, hiddenSize: 256, numLayers: 2 });
      for (let i = 0; ; i++) { await lib.save(m, ${JSON.stringify(path)}, { metadata: { i } }); if (i === 0) process.stdout.write('saved\\n'); }
    `;
    for (let round = 0; round < 4; round++) {
      const p = spawn(process.execPath, ['--input-type=module', '-e', child], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve) => p.stdout!.once('data', () => resolve()));
      await new Promise((r) => setTimeout(r, 20 + 37 * round));
      p.kill('SIGKILL');
      await new Promise((r) => p.once('exit', r));
      expect(existsSync(path)).toBe(true);
      const { model, metadata } = await load(path);
      expect(typeof metadata?.i).toBe('number');
      model.dispose();
    }
  });
});

describe('resume', () => {
  it('a checkpoint with optimizer and generator state resumes bit for bit', async () => {
    const data = () => {
      const x = tensor(randArray(4 * 3 * 5, 1), [4, 3, 5]);
      const y = new Tensor(Int32Array.from({ length: 12 }, (_, i) => i % 4), [4, 3]);
      return { x, y };
    };
    const make = () => new Sequential([layers.dropout({ p: 0.2 }), layers.linear({ inFeatures: 5, outFeatures: 4 })], { seed: 9, inputSize: 5 });
    const steps = (m: Sequential, opt: Adam | SGD, n: number) => {
      for (let i = 0; i < n; i++) m.trainStep(data(), { loss: 'crossEntropy', optimizer: opt });
    };
    // uninterrupted: 10 steps
    const a = make();
    const optA = new Adam({ lr: 0.01 });
    steps(a, optA, 10);
    // interrupted after 4, saved, loaded, 6 more
    const b = make();
    const optB = new Adam({ lr: 0.01 });
    steps(b, optB, 4);
    const bytes = serialize(b, { optimizer: optB });
    b.dispose();
    const { model, optimizer } = deserialize(bytes);
    expect(optimizer?.step).toBe(4);
    steps(model as Sequential, optimizer as Adam, 6);
    expect(bits(model.getParameter('1.weight'))).toEqual(bits(a.getParameter('1.weight')));
    a.dispose();
    model.dispose();
  });

  it('an optimizer saved before its first step loads with step 0 and zero moments (it used to be refused)', () => {
    const a = new GRU({ inputSize: 3, hiddenSize: 5, seed: 4 });
    const bytes = serialize(a, { optimizer: new Adam({ lr: 0.01 }) });
    const { model, optimizer } = deserialize(bytes);
    expect(optimizer?.kind).toBe('adam');
    expect(optimizer?.step).toBe(0);
    expect(optimizer?.state().buffers.every((v) => v === 0)).toBe(true);
    a.dispose();
    model.dispose();
  });
});
