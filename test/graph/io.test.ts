// Graph models in model files: the spec round-trips, parameters and optimizer state come back bit
// for bit (training resumes exactly), and each loader refuses the other kind of file by name.
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as lib from '../../src/index';
import { batchOf, buildModel, makeStrings, prng } from '../../scripts/reverse-task.mjs';

beforeAll(async () => {
  await lib.init();
});

const bits = (a: Float32Array): number[] => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe('graph model files', () => {
  it('serialize → deserializeGraph: same spec, bit-identical outputs, and training resumes bit for bit (Adam state restored)', () => {
    const rand = prng(1);
    const strs = makeStrings(rand, 64, 3, 7);
    const batches = [0, 1, 2, 3, 4].map((i) => batchOf(lib, strs.slice(i * 8, i * 8 + 8)));
    const m = buildModel(lib, { attention: true, hidden: 12, embed: 6, seed: 5 });
    const opt = new lib.Adam({ lr: 1e-2 });
    const step = (model: lib.GraphModel, o: lib.Optimizer, b: (typeof batches)[0]) =>
      model.trainStep(b as never, { losses: { logits: 'crossEntropy' }, optimizer: o, clipNorm: 1 }).loss;
    step(m, opt, batches[0]);
    step(m, opt, batches[1]);
    const bytes = lib.serialize(m, { optimizer: opt, metadata: { steps: 2 } });
    const loaded = lib.deserializeGraph(bytes);
    const m2 = loaded.model;
    expect(m2.spec()).toEqual(m.spec());
    expect(loaded.metadata).toEqual({ steps: 2 });
    expect(m2.parameters()).toEqual(m.parameters());
    const feed = batches[4].inputs as lib.Feed;
    expect(bits(m2.forward(feed).logits.data)).toEqual(bits(m.forward(feed).logits.data));
    for (const b of batches.slice(2, 4)) expect(step(m2, loaded.optimizer!, b)).toBe(step(m, opt, b));
    for (const { name } of m.parameters()) expect(bits(m2.getParameter(name)), name).toEqual(bits(m.getParameter(name)));
    // a rebuilt spec with fresh parameters gives different outputs (the comparison can fail)
    const fresh = lib.GraphModel.fromSpec(m.spec(), { seed: 99 });
    expect(bits(fresh.forward(feed).logits.data)).not.toEqual(bits(m.forward(feed).logits.data));
    for (const x of [m, m2, fresh]) x.dispose();
  });

  it('save / loadGraph through a path; each loader refuses the other kind of file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rnnw-graph-'));
    try {
      const m = buildModel(lib, { attention: false, hidden: 8, embed: 4, seed: 2 });
      const path = join(dir, 'g.rnnw');
      await lib.save(m, path);
      const { model } = await lib.loadGraph(path);
      for (const { name } of m.parameters()) expect(bits(model.getParameter(name))).toEqual(bits(m.getParameter(name)));
      await expect(lib.load(path)).rejects.toThrow(lib.FormatError);
      const seq = new lib.Sequential([lib.layers.lstm({ inputSize: 2, hiddenSize: 3 })]);
      expect(() => lib.deserializeGraph(lib.serialize(seq))).toThrow(lib.FormatError);
      for (const x of [m, model, seq]) x.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
