// fit: batching with padding and masks, shuffling, validation, callbacks, cancellation.
import { beforeAll, describe, expect, it } from 'vitest';
import { init, Sequential, layers, Adam, SGD, type Example, ShapeError, DTypeError } from '../../src/index';
import { prng } from '../model/helpers';

beforeAll(async () => {
  await init();
});

// y = 2·x0 − x1 per step, sequences of length 1..6
function regression(n: number, seed: number): Example[] {
  const r = prng(seed);
  return Array.from({ length: n }, () => {
    const len = 1 + Math.floor(r() * 6);
    const x = new Float32Array(len * 2).map(() => r() * 2 - 1);
    const y = new Float32Array(len);
    for (let t = 0; t < len; t++) y[t] = 2 * x[2 * t] - x[2 * t + 1];
    return { x, y };
  });
}

describe('fit', () => {
  it('learns a per-step regression over variable-length examples and reports history', async () => {
    const m = new Sequential([layers.linear({ inFeatures: 2, outFeatures: 1 })], { seed: 1 });
    const data = regression(64, 1);
    const val = regression(16, 2);
    const batches: number[] = [];
    const epochs: number[] = [];
    const h = await m.fit(data, {
      loss: 'mse', optimizer: new Adam({ lr: 0.05 }), epochs: 30, batchSize: 8, validationData: val,
      onBatchEnd: (i) => batches.push(i.loss), onEpochEnd: (i) => epochs.push(i.epoch),
    });
    expect(h.loss).toHaveLength(30);
    expect(h.valLoss).toHaveLength(30);
    expect(batches).toHaveLength(30 * 8);
    expect(epochs).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(h.valLoss[29]).toBeLessThan(1e-3);
    expect(Math.abs(m.getParameter('0.weight')[0] - 2)).toBeLessThan(0.05);
    expect(m.evaluateDataset(val, { loss: 'mse' })).toBeCloseTo(h.valLoss[29], 6);
    m.dispose();
  });

  it('padding never leaks into the loss: one padded batch equals the token-weighted mean of separate ones', () => {
    const m = new Sequential([layers.linear({ inFeatures: 2, outFeatures: 1 })], { seed: 2 });
    const data = regression(5, 3);
    const together = m.evaluateDataset(data, { loss: 'mse', batchSize: 5 });
    let sum = 0, n = 0;
    for (const ex of data) {
      sum += m.evaluateDataset([ex], { loss: 'mse' }) * ex.y.length;
      n += ex.y.length;
    }
    // evaluateDataset weights batches by example count; with batchSize 5 there is one batch whose
    // loss is already the mean over all valid steps
    expect(together).toBeCloseTo(sum / n, 6);
    m.dispose();
  });

  it('many-to-one crossEntropy puts a single label at the last step of each sequence', async () => {
    // class = whether the LAST input step's first feature is positive
    const r = prng(4);
    const data: Example[] = Array.from({ length: 64 }, () => {
      const len = 1 + Math.floor(r() * 5);
      const x = new Float32Array(len * 2).map(() => r() * 2 - 1);
      return { x, y: Int32Array.of(x[(len - 1) * 2] > 0 ? 1 : 0) };
    });
    const m = new Sequential([layers.linear({ inFeatures: 2, outFeatures: 2 })], { seed: 3 });
    const h = await m.fit(data, { loss: 'crossEntropy', optimizer: new Adam({ lr: 0.1 }), epochs: 40, batchSize: 16 });
    expect(h.loss[39]).toBeLessThan(0.25);
    m.dispose();
  });

  it('stops between batches when the signal aborts, rejecting with its reason', async () => {
    const m = new Sequential([layers.linear({ inFeatures: 2, outFeatures: 1 })], { seed: 5 });
    const ac = new AbortController();
    let seen = 0;
    const p = m.fit(regression(32, 5), {
      loss: 'mse', optimizer: new SGD({ lr: 0.01 }), epochs: 1000, batchSize: 4, signal: ac.signal,
      onBatchEnd: () => { if (++seen === 10) ac.abort(new Error('stop requested')); },
    });
    await expect(p).rejects.toThrow('stop requested');
    expect(seen).toBe(10);
    m.dispose();
  });

  it('rejects malformed examples with typed errors naming the example', async () => {
    const m = new Sequential([layers.linear({ inFeatures: 2, outFeatures: 1 })], { seed: 6 });
    const opt = new SGD({ lr: 0.01 });
    await expect(m.fit([{ x: new Float32Array(3), y: new Float32Array(1) }], { loss: 'mse', optimizer: opt })).rejects.toThrow(ShapeError);
    await expect(m.fit([{ x: new Float64Array(2) as never, y: new Float32Array(1) }], { loss: 'mse', optimizer: opt })).rejects.toThrow(/data\[0\]\.x/);
    await expect(m.fit([{ x: new Float32Array(2), y: new Float32Array(1) }], { loss: 'crossEntropy', optimizer: opt })).rejects.toThrow(DTypeError);
    m.dispose();
  });

  it('same seed and binary give bit-identical training', async () => {
    const run = async () => {
      const m = new Sequential([layers.linear({ inFeatures: 2, outFeatures: 1 })], { seed: 9 });
      await m.fit(regression(40, 7), { loss: 'mse', optimizer: new Adam({ lr: 0.01 }), epochs: 3, batchSize: 7, seed: 11 });
      const w = m.getParameter('0.weight');
      m.dispose();
      return w;
    };
    const a = await run();
    const b = await run();
    expect(Array.from(new Uint32Array(a.buffer))).toEqual(Array.from(new Uint32Array(b.buffer)));
  });
});
