// tensor() and new Tensor() over Int32Array token ids, as docs/guides/inference.md promises, and through every
// place ids are consumed: forward, trainStep/evaluate targets and ids, and the stream.
import { beforeAll, describe, expect, it } from 'vitest';
import { init, Sequential, layers, tensor, Tensor, Adam, DTypeError, ShapeError } from '../../src/index';

beforeAll(async () => {
  await init();
});

const lm = () =>
  new Sequential([
    layers.embedding({ numEmbeddings: 7, embeddingDim: 4 }),
    layers.gru({ inputSize: 4, hiddenSize: 8 }),
    layers.linear({ inFeatures: 8, outFeatures: 7 }),
  ], { seed: 3 });

describe('Int32Array tensors', () => {
  it('tensor(Int32Array, shape) keeps the ids (no float conversion, no copy) and its shape', () => {
    const ids = new Int32Array([1, 2, 3, 4, 5, 6]);
    const t = tensor(ids, [3, 2]);
    expect(t.data).toBe(ids);
    expect(t.data).toBeInstanceOf(Int32Array);
    expect(t.shape).toEqual([3, 2]);
    expect(tensor(ids).shape).toEqual([6]);
    expect(new Tensor(ids, [2, 3]).toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
  });

  it('tensor(ids) and new Tensor(ids) give the same forward output, equal to the stream fed step by step', () => {
    const m = lm();
    const ids = new Int32Array([0, 3, 6, 1, 2, 5]); // (T=3, B=2)
    const a = m.forward(tensor(ids, [3, 2])).output;
    const b = m.forward(new Tensor(ids, [3, 2])).output;
    expect(a.shape).toEqual([3, 2, 7]);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    const s = m.stream({ batchSize: 2 });
    for (let t = 0; t < 3; t++) {
      const step = s.step(ids.subarray(2 * t, 2 * t + 2));
      expect(Array.from(step)).toEqual(Array.from(a.data.subarray(t * 14, (t + 1) * 14)));
    }
    s.close();
    m.dispose();
  });

  it('trainStep takes ids built with tensor() for x and y and lowers the loss', () => {
    const m = lm();
    const x = tensor(new Int32Array([0, 1, 2, 3, 4, 5]), [6, 1]);
    const y = tensor(new Int32Array([1, 2, 3, 4, 5, 6]), [6, 1]);
    const before = m.evaluate({ x, y }, { loss: 'crossEntropy' });
    expect(before).toBeGreaterThan(1.5); // ≈ ln 7 at initialisation
    const optimizer = new Adam({ lr: 0.05 });
    for (let i = 0; i < 40; i++) m.trainStep({ x, y }, { loss: 'crossEntropy', optimizer });
    expect(m.evaluate({ x, y }, { loss: 'crossEntropy' })).toBeLessThan(0.2);
    m.dispose();
  });

  it('rejects other typed arrays and a shape that does not match, naming what it got', () => {
    expect(() => tensor(new Float64Array(4) as never)).toThrow(DTypeError);
    expect(() => tensor(new Float64Array(4) as never)).toThrow(/got Float64Array/);
    expect(() => new Tensor(new Uint8Array(4) as never, [4])).toThrow(/Expected tensor data as a Float32Array or an Int32Array of token ids, got Uint8Array/);
    expect(() => new Tensor([1, 2] as never, [2])).toThrow(DTypeError);
    expect(() => tensor(new Int32Array(6), [4, 2])).toThrow(ShapeError);
  });
});
