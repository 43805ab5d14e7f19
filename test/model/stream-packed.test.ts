// Batch-1 streams read packed copies of the weights (src/model/packs.ts): the step's results are
// bit-identical to a stream that reads the weights in place, for every cell and stack shape; the
// copies follow every write to the parameters (setParameter, loadStateDict, trainStep, fit, the
// public backward's step, quantize); the streams of one model share one set of copies, released with
// the last of them; the option is validated. Whole-sequence inference at batch 1 over at least
// PACK_MIN_T steps keeps packed W_hh copies the same way (the kernel would otherwise pack per call).
import { beforeAll, describe, expect, it } from 'vitest';
import {
  init, LSTM, GRU, Sequential, layers, tensor, quantize, Adam, SGD, StateError, ValueError, type Model,
} from '../../src/index';
import { runtime } from '../../src/wasm/load';
import { randArray } from './helpers';

beforeAll(async () => {
  await init();
});

const bits = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));

/** Steps both streams through the same inputs; every output and the final states equal bit for bit. */
function sameSteps(m: Model, steps: number, seed: number): Float32Array[] {
  const sp = m.stream({ packed: true });
  const su = m.stream({ packed: false });
  expect(sp.packed).toBe(true);
  expect(su.packed).toBe(false);
  const ids = m.runner.inputKind === 'ids';
  const F = m.runner.inFeatures;
  const outs: Float32Array[] = [];
  for (let t = 0; t < steps; t++) {
    const x = ids ? Int32Array.of((t * 7 + seed) % m.runner.numEmbeddings) : randArray(F, seed * 100 + t);
    const a = sp.step(x);
    const b = su.step(x);
    expect(bits(a), `step ${t}`).toEqual(bits(b));
    outs.push(a);
  }
  expect(bits(sp.state().h.data)).toEqual(bits(su.state().h.data));
  const c = su.state().c;
  if (c) expect(bits(sp.state().c!.data)).toEqual(bits(c.data));
  sp.close();
  su.close();
  return outs;
}

describe('packed batch-1 streams', () => {
  const MODELS: [string, () => Model][] = [
    ['LSTM 2 layers H 37 with peepholes', () => new LSTM({ inputSize: 5, hiddenSize: 37, numLayers: 2, peepholes: true, seed: 1 })],
    ['GRU reset-after H 64', () => new GRU({ inputSize: 3, hiddenSize: 64, seed: 2 })],
    ['GRU Cho form H 30', () => new GRU({ inputSize: 3, hiddenSize: 30, resetAfter: false, seed: 3 })],
    ['RNN relu H 19 → linear', () => new Sequential([layers.rnn({ inputSize: 4, hiddenSize: 19, nonlinearity: 'relu' }), layers.linear({ inFeatures: 19, outFeatures: 6 })], { seed: 4 })],
    ['embedding → LSTM 2 layers → linear (a char model)', () => new Sequential([
      layers.embedding({ numEmbeddings: 11, embeddingDim: 8 }), layers.lstm({ inputSize: 8, hiddenSize: 33, numLayers: 2 }),
      layers.linear({ inFeatures: 33, outFeatures: 11 })], { seed: 5 })],
    ['GRU H 6 → LSTM H 2 (mixed sizes)', () => new Sequential([layers.gru({ inputSize: 3, hiddenSize: 6 }), layers.lstm({ inputSize: 6, hiddenSize: 2 })], { seed: 6 })],
  ];

  it.each(MODELS)('%s: 25 steps equal the in-place stream bit for bit, and track forward()', (_, make) => {
    const m = make();
    const outs = sameSteps(m, 25, 3);
    // and the whole-sequence forward of the same inputs (another summation order for the input projection)
    const ids = m.runner.inputKind === 'ids';
    const F = m.runner.inFeatures;
    const xs = ids ? Int32Array.from({ length: 25 }, (_, t) => (t * 7 + 3) % m.runner.numEmbeddings) : new Float32Array(25 * F);
    if (!ids) for (let t = 0; t < 25; t++) (xs as Float32Array).set(randArray(F, 300 + t), t * F);
    const full = m.forward(ids ? tensor(xs as Int32Array, [25, 1]) : tensor(xs as Float32Array, [25, 1, F])).output.data;
    const O = outs[0].length;
    for (let t = 0; t < 25; t++) {
      for (let j = 0; j < O; j++) expect(Math.abs(outs[t][j] - full[t * O + j])).toBeLessThan(1e-5);
    }
    m.dispose();
  });

  it('is the default at batch 1 for f32 weights, and off for larger batches and int8 weights', () => {
    const m = new LSTM({ inputSize: 2, hiddenSize: 8, seed: 1 });
    expect(m.stream().packed).toBe(true);
    expect(m.stream({ batchSize: 1 }).packed).toBe(true);
    expect(m.stream({ batchSize: 2 }).packed).toBe(false);
    quantize(m, { weights: 'int8' });
    expect(m.stream().packed).toBe(false);
    m.dispose();
  });

  it('follows every write to the parameters: setParameter, loadStateDict, trainStep, fit, backward + step; quantize closes the streams', async () => {
    const T = 6, I = 3, H = 8;
    const m = new Sequential([layers.lstm({ inputSize: I, hiddenSize: H, numLayers: 2 }), layers.linear({ inFeatures: H, outFeatures: 2 })], { seed: 7 });
    const sp = m.stream({ packed: true });
    const su = m.stream({ packed: false });
    const probe = (): Float32Array => {
      sp.reset();
      su.reset();
      let a: Float32Array = new Float32Array(0);
      for (let t = 0; t < 4; t++) {
        const x = randArray(I, 900 + t);
        a = sp.step(x);
        expect(bits(a)).toEqual(bits(su.step(x)));
      }
      return a;
    };
    const x = tensor(randArray(T * 2 * I, 11), [T, 2, I]);
    const y = tensor(randArray(T * 2 * 2, 12), [T, 2, 2]);
    const writes: [string, () => unknown][] = [
      ['setParameter', () => m.setParameter('0.weight_hh_l1', randArray(4 * H * H, 13, 0.3))],
      ['loadStateDict', () => {
        const sd = m.stateDict();
        sd['1.weight'] = randArray(2 * H, 14);
        sd['0.weight_ih_l0'] = randArray(4 * H * I, 15);
        m.loadStateDict(sd);
      }],
      ['trainStep', () => m.trainStep({ x, y }, { loss: 'mse', optimizer: new SGD({ lr: 0.5 }) })],
      ['fit', () => m.fit([0, 1, 2].map((i) => ({ x: randArray(T * I, 20 + i), y: randArray(T * 2, 30 + i) })), { loss: 'mse', optimizer: new Adam({ lr: 0.05 }), epochs: 1, batchSize: 2 })],
      ['backward + step', () => {
        m.zeroGrad();
        m.forward(x, { keep: true });
        m.backward({ dOutput: randArray(T * 2 * 2, 16) });
        m.step(new SGD({ lr: 0.5 }));
      }],
    ];
    let before = probe();
    for (const [what, write] of writes) {
      await write();
      const after = probe();
      expect(bits(after), `${what} changed the output`).not.toEqual(bits(before));
      before = after;
    }
    // quantize closes the open streams (their programs read f32 weights); a new stream runs int8
    quantize(m, { weights: 'int8' });
    expect(() => sp.step(randArray(I, 900))).toThrow(/Expected an open stream, got one closed by quantize\(\)/);
    expect(() => su.reset()).toThrow(StateError);
    const sq = m.stream();
    expect(sq.packed).toBe(false);
    let q: Float32Array = new Float32Array(0);
    for (let t = 0; t < 4; t++) q = sq.step(randArray(I, 900 + t));
    expect(bits(q), 'quantize changed the output').not.toEqual(bits(before));
    sp.close();
    su.close();
    m.dispose();
  });

  it('the streams of one model share one set of copies, released with the last; a closed model releases them', () => {
    const heap = runtime().heap;
    const m = new Sequential([layers.lstm({ inputSize: 4, hiddenSize: 40, numLayers: 2 }), layers.linear({ inFeatures: 40, outFeatures: 5 })], { seed: 8 });
    expect(m.runner.packedFloats).toBe(0);
    const a = m.stream();
    const one = m.runner.packedFloats;
    // W_ih and W_hh of both layers and the head, each at least its own size
    expect(one).toBeGreaterThanOrEqual(160 * 4 + 160 * 40 * 3 + 5 * 40);
    const b = m.stream();
    expect(m.runner.packedFloats).toBe(one);
    const live = heap.liveElements;
    a.close();
    expect(m.runner.packedFloats).toBe(one);
    b.close();
    expect(m.runner.packedFloats).toBe(0);
    expect(heap.liveElements).toBeLessThan(live - one + 1);
    m.stream();
    expect(m.runner.packedFloats).toBe(one);
    m.dispose();
    expect(m.runner.packedFloats).toBe(0);
  });

  it('whole-sequence forward at batch 1 from PACK_MIN_T steps keeps packed W_hh: equals the in-place stream bit for bit, follows writes, freed with the plans', () => {
    const I = 3, H = 24, T = 20;
    const m = new Sequential([layers.gru({ inputSize: I, hiddenSize: H, resetAfter: false, numLayers: 2 }), layers.linear({ inFeatures: H, outFeatures: 4 })], { seed: 9 });
    const xs = randArray(T * I, 41);
    const check = (): void => {
      const full = m.forward(tensor(xs, [T, 1, I])).output.data;
      const su = m.stream({ packed: false });
      for (let t = 0; t < T; t++) expect(bits(su.step(xs.subarray(t * I, (t + 1) * I))), `step ${t}`).toEqual(bits(full.subarray(t * 4, (t + 1) * 4)));
      su.close();
    };
    check();
    // W_hh of both layers only (the input projections multiply T rows in place)
    expect(m.runner.packedFloats).toBe(2 * runtime().k.packed_hh_floats(3 * H, H, 1));
    m.setParameter('0.weight_hh_l1', randArray(3 * H * H, 42, 0.4));
    check();
    m.trainStep({ x: tensor(xs, [T, 1, I]), y: tensor(randArray(T * 4, 43), [T, 1, 4]) }, { loss: 'mse', optimizer: new SGD({ lr: 0.3 }) });
    check();
    m.runner.releaseWorkspace();
    expect(m.runner.packedFloats).toBe(0);
    m.forward(tensor(xs.subarray(0, 8 * I), [8, 1, I])); // shorter than PACK_MIN_T: read in place
    expect(m.runner.packedFloats).toBe(0);
    m.dispose();
  });

  it('rejects packed with a batch, with int8 weights, and when not a boolean', () => {
    const m = new GRU({ inputSize: 2, hiddenSize: 4, seed: 1 });
    expect(() => m.stream({ batchSize: 2, packed: true })).toThrow(/packed: true only with batchSize 1/);
    expect(() => m.stream({ packed: 'yes' as never })).toThrow(ValueError);
    expect(() => m.stream({ packed: 'yes' as never })).toThrow(/packed to be a boolean, got yes/);
    quantize(m, { weights: 'int8' });
    expect(() => m.stream({ packed: true })).toThrow(/only for f32 weights/);
    expect(m.runner.packedFloats).toBe(0);
    m.dispose();
  });
});
