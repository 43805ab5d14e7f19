// Hostile and careless model files (issue 13): every architecture and size is checked against the
// limits and the bytes present before any wasm memory is taken, every header field has its type
// checked, and paths that are not regular files are refused before a byte is read.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { init, GRU, LSTM, RNN, Adam, tensor, serialize, deserialize, load, readTfjsFiles, setLimits, resetLimits, getLimits, FormatError, RnnWasmError } from '../../src/index';
import { rewriteModelFile } from './fuzz/readers.mjs';

beforeAll(async () => {
  await init();
});
afterEach(() => {
  resetLimits();
});

/** Wasm memory size (it never shrinks, so any growth during a rejected call is visible). */
function wasmBytes(): number {
  const m = new RNN({ inputSize: 1, hiddenSize: 1 });
  const n = m.runner.rt.heap.byteLength;
  m.dispose();
  return n;
}

/** Expects fn to throw a FormatError matching `re`, quickly and without wasm memory growth. */
function rejectsCleanly(fn: () => unknown, re: RegExp, maxMs = 1000): void {
  const before = wasmBytes();
  const t0 = performance.now();
  expect(fn).toThrow(FormatError);
  expect(fn).toThrow(re);
  expect(performance.now() - t0).toBeLessThan(maxMs);
  expect(wasmBytes()).toBe(before);
}

const gruFile = () => {
  const m = new GRU({ inputSize: 2, hiddenSize: 3 });
  const b = serialize(m);
  m.dispose();
  return b;
};

describe('architectures are checked against limits before anything is built', () => {
  it('numLayers 1e7 in a checksummed 600-byte file: FormatError naming limits.maxLayers, at once', () => {
    const bad = rewriteModelFile(gruFile(), (h) => void (h.model.config.numLayers = 1e7));
    expect(bad.length).toBeLessThan(800);
    rejectsCleanly(() => deserialize(bad), /limits\.maxLayers = 4096, got 10000000/);
  });

  it('a 4 KB file declaring LSTM hiddenSize 15000 fails fast with no wasm memory growth', () => {
    const bad = rewriteModelFile(gruFile(), (h) => {
      h.model = { type: 'lstm', config: { inputSize: 2, hiddenSize: 15000 } };
      h.metadata = { pad: 'x'.repeat(3500) };
    });
    expect(bad.length).toBeGreaterThan(3500);
    expect(bad.length).toBeLessThan(4100);
    rejectsCleanly(() => deserialize(bad), /limits\.maxParameters/);
  });

  it('an architecture under the limits that the file does not hold: refused before allocation', () => {
    // 2000 hidden units: 12 M parameters (48 MB), within maxParameters, but the file holds 63
    const bad = rewriteModelFile(gruFile(), (h) => void (h.model.config.hiddenSize = 2000));
    rejectsCleanly(() => deserialize(bad), /Expected parameters weight_ih_l0\[6000,2\]/);
    // header.params rewritten to match: the byte count is what the file holds, and it is short
    const params = [['weight_ih_l0', [6000, 2]], ['weight_hh_l0', [6000, 2000]], ['bias_ih_l0', [6000]], ['bias_hh_l0', [6000]]].map(([name, shape]) => ({ name, shape }));
    const lying = rewriteModelFile(gruFile(), (h) => {
      h.model.config.hiddenSize = 2000;
      h.params = params;
    });
    rejectsCleanly(() => deserialize(lying), /Expected 48\d+ bytes for the parameters the header lists, got \d{3}/);
  });

  it('a lowered maxParameters refuses a file that the default accepts, naming the limit', () => {
    const ok = gruFile();
    deserialize(ok).model.dispose();
    setLimits({ maxParameters: 10 });
    rejectsCleanly(() => deserialize(ok), /limits\.maxParameters = 10, got 63/);
  });
});

describe('header fields of the wrong type are FormatErrors naming the field', () => {
  const withOptimizer = () => {
    const m = new LSTM({ inputSize: 2, hiddenSize: 2 });
    const opt = new Adam();
    opt.bind(m.runner.rt, m.runner.arena);
    const b = serialize(m, { optimizer: opt });
    opt.dispose();
    m.dispose();
    return b;
  };
  const cases: [string, (h: any) => void, RegExp][] = [
    ['params: [null]', (h) => void (h.params = [null]), /header\.params\[0\]/],
    ['a shape of strings', (h) => void (h.params[0].shape = ['a']), /header\.params\[0\]\.shape/],
    ['model: null', (h) => void (h.model = null), /header\.model/],
    ['a layer config null', (h) => void (h.model = { type: 'sequential', inputSize: 2, layers: [null] }), /layer config object, got null/],
    ['rng of 3 words', (h) => void (h.rng = [1, 2, 3]), /header\.rng/],
    ['rng all zeros', (h) => void (h.rng = [0, 0, 0, 0]), /not all zeros/],
    ['vocabulary of numbers', (h) => void (h.vocabulary = [1, 2]), /header\.vocabulary/],
    ['optimizer kind "__proto__"', (h) => void (h.optimizer.kind = '__proto__'), /optimizer\.kind among sgd, rmsprop, adam, adamw, got "__proto__"/],
    ['optimizer kind "constructor"', (h) => void (h.optimizer.kind = 'constructor'), /optimizer\.kind/],
    ['optimizer step -1', (h) => void (h.optimizer.step = -1), /optimizer\.step to be a non-negative integer, got -1/],
    ['optimizer step "abc"', (h) => void (h.optimizer.step = 'abc'), /optimizer\.step/],
    ['optimizer lr -1', (h) => void (h.optimizer.config.lr = -1), /hyperparameters in header\.optimizer\.config/],
    ['optimizer values off by one', (h) => void (h.optimizer.values -= 1), /optimizer\.values = /],
  ];
  it.each(cases)('%s', (_, edit, re) => {
    rejectsCleanly(() => deserialize(rewriteModelFile(withOptimizer(), edit)), re);
  });

  it('2,000 rejected loads of a file with a mismatched optimizer buffer take no wasm memory', () => {
    const bad = rewriteModelFile(withOptimizer(), (h) => void (h.optimizer.kind = 'sgd'));
    const before = wasmBytes();
    for (let i = 0; i < 2000; i++) expect(() => deserialize(bad)).toThrow(/sgd hyperparameters|optimizer\.values = 0 \(0 buffers of \d+\), got [1-9]\d*/);
    expect(wasmBytes()).toBe(before);
  });

  it('an optimizer saved before its first step (no moments stored) loads with zero moments and trains', () => {
    const m = new LSTM({ inputSize: 2, hiddenSize: 2 });
    const { model, optimizer } = deserialize(serialize(m, { optimizer: new Adam({ lr: 0.05 }) }));
    expect(optimizer!.kind).toBe('adam');
    expect(optimizer!.step).toBe(0);
    expect(Array.from(optimizer!.state().buffers).every((v) => v === 0)).toBe(true);
    expect(optimizer!.state().buffers.length).toBe(2 * model.runner.arena.size);
    const before = model.getParameter('weight_hh_l0');
    const r = model.trainStep({ x: tensor(new Float32Array(4).fill(0.5), [2, 1, 2]), y: tensor(new Float32Array(4).fill(0.3), [2, 1, 2]) }, { loss: 'mse', optimizer: optimizer! });
    expect(Number.isFinite(r.loss)).toBe(true);
    expect(optimizer!.step).toBe(1);
    expect(model.getParameter('weight_hh_l0')).not.toEqual(before);
    optimizer!.dispose();
    model.dispose();
    m.dispose();
  });

  it('a non-finite parameter is refused before the model is built', () => {
    const b = withOptimizer();
    const jlen = new DataView(b.buffer).getUint32(12, true);
    new DataView(b.buffer).setFloat32(16 + Math.ceil(jlen / 4) * 4 + 4, Infinity, true); // weight_ih_l0[1]
    rejectsCleanly(() => deserialize(rewriteModelFile(b, (h) => h)), /finite values in parameter weight_ih_l0, got Infinity at element 1/);
  });

  it('non-finite optimizer moments are refused before the model is built', () => {
    const b = withOptimizer();
    const v = new DataView(b.buffer);
    v.setFloat32(b.length - 8, NaN, true); // the last moment
    const fixed = rewriteModelFile(b, (h) => h);
    rejectsCleanly(() => deserialize(fixed), /finite values in the optimizer moments, got NaN/);
  });
});

describe('load and readTfjsFiles read only regular files within limits.maxFileBytes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rnnw-hard-'));
  it("load('/dev/zero'), a directory and a FIFO are FormatErrors at once", async () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const t0 = performance.now();
    await expect(load('/dev/zero')).rejects.toThrow(/\/dev\/zero to be a regular file, got a device/);
    await expect(load(dir)).rejects.toThrow(/to be a regular file, got a directory/);
    await expect(load(fifo)).rejects.toThrow(/to be a regular file, got a FIFO/);
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('a file over limits.maxFileBytes is refused by its size, before it is read', async () => {
    const p = join(dir, 'm.rnnw');
    writeFileSync(p, gruFile());
    setLimits({ maxFileBytes: 100 });
    await expect(load(p)).rejects.toThrow(/limits\.maxFileBytes = 100 bytes, got \d+/);
    writeFileSync(join(dir, 'model.json'), JSON.stringify({ modelTopology: {}, weightsManifest: [{ paths: ['m.rnnw'], weights: [] }] }));
    await expect(readTfjsFiles(join(dir, 'model.json'))).rejects.toThrow(/weight shard m\.rnnw .* of at most limits\.maxFileBytes = 100 bytes/);
    resetLimits();
    (await load(p)).model.dispose();
  });

  it('readTfjsFiles refuses a device model.json and a shard that is a device (symlink to /dev/zero)', async () => {
    await expect(readTfjsFiles('/dev/zero')).rejects.toThrow(FormatError);
    const d = join(dir, 'tfjs');
    mkdirSync(d);
    symlinkSync('/dev/zero', join(d, 'shard.bin'));
    writeFileSync(join(d, 'model.json'), JSON.stringify({ modelTopology: {}, weightsManifest: [{ paths: ['shard.bin'], weights: [] }] }));
    await expect(readTfjsFiles(join(d, 'model.json'))).rejects.toThrow(/weight shard shard\.bin .* to be a regular file, got a device/);
  });

  it('readTfjsFiles does not follow ../ or absolute manifest paths', async () => {
    const d = join(dir, 'escape');
    mkdirSync(d);
    for (const bad of ['../m.rnnw', '/etc/hostname', 'a/../../m.rnnw', '..\\m.rnnw']) {
      writeFileSync(join(d, 'model.json'), JSON.stringify({ modelTopology: {}, weightsManifest: [{ paths: [bad], weights: [] }] }));
      await expect(readTfjsFiles(join(d, 'model.json')), bad).rejects.toThrow(/inside the directory of model\.json/);
    }
    writeFileSync(join(d, 'model.json'), JSON.stringify({ modelTopology: {}, weightsManifest: [null] }));
    await expect(readTfjsFiles(join(d, 'model.json'))).rejects.toThrow(/weightsManifest/);
  });

  it('every limit error is an RnnWasmError and the defaults are documented values', () => {
    expect(getLimits()).toEqual({ maxParameters: 64 * 2 ** 20, maxSequenceLength: 2 ** 20, maxFileBytes: 2 ** 30, maxLayers: 4096, maxCachedPlans: 16, maxPlanCacheBytes: 512 * 2 ** 20 });
    expect(() => setLimits({ maxLayers: 0 })).toThrow(RnnWasmError);
  });
});
