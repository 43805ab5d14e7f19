// WorkerPool against the single-thread model it replicates, on the built package (dist/), since
// the workers run the built worker entry: forward is bit-identical (rows are independent), a
// pooled training step equals model.trainStep on the whole batch within float rounding over
// several steps, and every failure (validation, a worker that dies, hangs, throws or never
// starts) rejects with a typed error instead of hanging.
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import * as l from '../../dist/index.js';
import { keptPools } from './kept-pools';
import { prng, randArray } from '../model/helpers';

type Model = InstanceType<typeof l.Sequential> | InstanceType<typeof l.LSTM>;

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return m;
}

function ids(n: number, V: number, seed: number, ignore = 0): Int32Array {
  const r = prng(seed);
  return Int32Array.from({ length: n }, () => (r() < ignore ? -1 : Math.floor(r() * V)));
}

const keep = keptPools();
const pool = async (m: Model, opts: l.WorkerPoolOptions = {}): Promise<l.WorkerPool> => keep(await l.WorkerPool.create(m, { workers: 2, ...opts }));

describe('forward: shards concatenated equal the single-thread pass bit for bit', () => {
  it('LSTM, 2 layers, bidirectional, lengths, h0/c0; 7 rows on 3 workers', async () => {
    const T = 6, B = 7, I = 5, H = 9, S = 4;
    const m = new l.LSTM({ inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: true, peepholes: true, seed: 3 });
    const p = await pool(m, { workers: 3 });
    const x = l.tensor(randArray(T * B * I, 1), [T, B, I]);
    const opts = { lengths: [6, 1, 3, 6, 2, 5, 4], h0: randArray(S * B * H, 2, 0.5), c0: randArray(S * B * H, 3, 0.5) };
    const a = m.forward(x, opts);
    const b = await p.forward(x, opts);
    expect(b.output.shape).toEqual(a.output.shape);
    expect(b.hN.shape).toEqual([S, B, H]);
    expect(bits(b.output.data)).toEqual(bits(a.output.data));
    expect(bits(b.hN.data)).toEqual(bits(a.hN.data));
    expect(bits(b.cN!.data)).toEqual(bits(a.cN!.data));
  });

  it('stacked recurrent layers of different kinds and sizes (GRU 6 → LSTM 4) with h0/c0; a linear-only model', async () => {
    const T = 4, B = 5, I = 3;
    const m = new l.Sequential([l.layers.gru({ inputSize: I, hiddenSize: 6 }), l.layers.lstm({ inputSize: 6, hiddenSize: 4 })], { seed: 6 });
    const p = await pool(m);
    const x = l.tensor(randArray(T * B * I, 7), [T, B, I]);
    const opts = { h0: randArray(2 * B * 6, 8, 0.5), c0: randArray(1 * B * 4, 9, 0.5) };
    const a = m.forward(x, opts);
    const b = await p.forward(x, opts);
    expect(b.hN.shape).toEqual(a.hN.shape);
    expect(b.cN!.shape).toEqual(a.cN!.shape);
    expect(bits(b.output.data)).toEqual(bits(a.output.data));
    expect(bits(b.hN.data)).toEqual(bits(a.hN.data));
    expect(bits(b.cN!.data)).toEqual(bits(a.cN!.data));
    const lin = new l.Sequential([l.layers.linear({ inFeatures: I, outFeatures: 2 })], { seed: 1 });
    const pl = await pool(lin);
    const r = await pl.forward(x);
    expect(bits(r.output.data)).toEqual(bits(lin.forward(x).output.data));
    expect(r.hN).toEqual(lin.forward(x).hN);
  });

  it('an int8-quantized model (GRU → LSTM → linear): the workers derive the same int8 weights', async () => {
    const T = 5, B = 6, I = 7;
    const m = new l.Sequential([l.layers.gru({ inputSize: I, hiddenSize: 20 }), l.layers.lstm({ inputSize: 20, hiddenSize: 24 }), l.layers.linear({ inFeatures: 24, outFeatures: 9 })], { seed: 12 });
    const f32 = m.forward(l.tensor(randArray(T * B * I, 13), [T, B, I])).output.data;
    l.quantize(m, { weights: 'int8' });
    const p = await pool(m, { workers: 2 });
    const x = l.tensor(randArray(T * B * I, 13), [T, B, I]);
    const a = m.forward(x);
    expect(bits(a.output.data)).not.toEqual(bits(f32));
    expect(bits((await p.forward(x)).output.data)).toEqual(bits(a.output.data));
    const y = l.tensor(new Float32Array(T * B * 9), [T, B, 9]);
    await expect(p.trainStep({ x, y }, { loss: 'mse', optimizer: new l.Adam({ lr: 1e-3 }) })).rejects.toBeInstanceOf(l.StateError);
    await expect(p.evaluate({ x, y }, { loss: 'mse' })).rejects.toThrow(/int8/);
  });

  it('an int8 model follows the int8 mode init sets on the main thread, task by task (fast, then exact)', async () => {
    const T = 6, B = 4, I = 11;
    const m = new l.Sequential([l.layers.lstm({ inputSize: I, hiddenSize: 40 }), l.layers.linear({ inFeatures: 40, outFeatures: 5 })], { seed: 14 });
    l.quantize(m, { weights: 'int8' });
    const p = await pool(m, { workers: 2 });
    const x = l.tensor(randArray(T * B * I, 15), [T, B, I]);
    const before = (await l.init()).int8;
    try {
      await l.init({ int8: 'fast' });
      const fast = m.forward(x).output.data;
      expect(bits((await p.forward(x)).output.data)).toEqual(bits(fast));
      await l.init({ int8: 'exact' });
      const exact = m.forward(x).output.data;
      expect(bits(exact)).not.toEqual(bits(fast));
      expect(bits((await p.forward(x)).output.data)).toEqual(bits(exact));
    } finally {
      await l.init({ int8: before });
    }
  });

  it('GRU batchFirst, and a wide batch (64 rows, H 33) split across GEMM tiles', async () => {
    for (const [B, H] of [[5, 8], [64, 33]]) {
      const T = 4, I = 6;
      const m = new l.GRU({ inputSize: I, hiddenSize: H, batchFirst: true, seed: B });
      const p = await pool(m);
      const x = l.tensor(randArray(B * T * I, B), [B, T, I]);
      const a = m.forward(x);
      const b = await p.forward(x);
      expect(b.output.shape).toEqual([B, T, H]);
      expect(bits(b.output.data)).toEqual(bits(a.output.data));
      expect(bits(b.hN.data)).toEqual(bits(a.hN.data));
      expect(b.cN).toBeUndefined();
    }
  });

  it('Sequential over token ids (embedding → RNN → linear → softmax); fewer rows than workers', async () => {
    const V = 13, T = 5;
    const m = new l.Sequential([
      l.layers.embedding({ numEmbeddings: V, embeddingDim: 4 }),
      l.layers.rnn({ inputSize: 4, hiddenSize: 6 }),
      l.layers.linear({ inFeatures: 6, outFeatures: V }),
      l.layers.softmax(),
    ], { seed: 5 });
    const p = await pool(m, { workers: 4 });
    for (const B of [1, 3]) {
      const x = new l.Tensor(ids(T * B, V, B), [T, B]);
      const a = m.forward(x);
      const b = await p.forward(x);
      expect(b.output.shape).toEqual([T, B, V]);
      expect(bits(b.output.data)).toEqual(bits(a.output.data));
    }
  });

  it('concurrent calls queue and each gets its own answer; parameter changes reach the workers', async () => {
    const T = 3, B = 4, I = 2;
    const m = new l.RNN({ inputSize: I, hiddenSize: 3, seed: 9 });
    const p = await pool(m);
    const xs = [1, 2, 3].map((s) => l.tensor(randArray(T * B * I, s), [T, B, I]));
    const got = await Promise.all(xs.map((x) => p.forward(x)));
    xs.forEach((x, k) => expect(bits(got[k].output.data)).toEqual(bits(m.forward(x).output.data)));
    m.setParameter('weight_hh_l0', randArray(9, 4));
    expect(bits((await p.forward(xs[0])).output.data)).toEqual(bits(m.forward(xs[0]).output.data));
  });
});

// Trains two models built from the same seed: one with model.trainStep, one through the pool.
async function compareTraining(
  make: () => Model, batch: () => l.Batch, opts: () => Omit<l.StepOptions, 'optimizer'> & { optimizer: l.Optimizer }, workers: number, steps = 4,
): Promise<number> {
  const single = make();
  const pooled = make();
  const p = await pool(pooled, { workers });
  const o1 = opts();
  const o2 = opts();
  let worst = 0;
  for (let s = 0; s < steps; s++) {
    const bt = batch();
    const a = single.trainStep(bt, o1);
    const b = await p.trainStep(bt, o2);
    expect(Math.abs(a.loss - b.loss) / Math.max(1, a.loss)).toBeLessThan(1e-6);
    expect(Math.abs(a.gradNorm - b.gradNorm) / Math.max(1e-3, a.gradNorm)).toBeLessThan(1e-5);
    for (const { name } of single.parameters()) {
      const d = maxRelDiff(pooled.getParameter(name), single.getParameter(name));
      worst = Math.max(worst, d);
      expect(d, `${name} after step ${s + 1}`).toBeLessThan(2e-5);
    }
  }
  // the parameters really moved (the comparison is not between two untouched models)
  const fresh = make();
  const moved = Math.max(...single.parameters().map(({ name }) => maxRelDiff(single.getParameter(name), fresh.getParameter(name))));
  expect(moved).toBeGreaterThan(1e-3);
  return worst;
}

describe('trainStep: reduced shard gradients, one optimizer step = single-thread training', () => {
  it('embedding → linear, crossEntropy with ignored targets and lengths, Adam + clipNorm, 2 and 3 workers', async () => {
    const V = 11, T = 5, B = 7;
    for (const workers of [2, 3]) {
      let seed = 100;
      const worst = await compareTraining(
        () => new l.Sequential([l.layers.embedding({ numEmbeddings: V, embeddingDim: 6 }), l.layers.linear({ inFeatures: 6, outFeatures: 9 })], { seed: 7 }),
        () => ({ x: new l.Tensor(ids(T * B, V, seed++), [T, B]), y: new l.Tensor(ids(T * B, 9, seed++, 0.2), [T, B]), lengths: [5, 2, 4, 1, 5, 3, 5] }),
        () => ({ loss: 'crossEntropy', optimizer: new l.Adam({ lr: 0.05 }), clipNorm: 0.5 }),
        workers,
      );
      expect(worst).toBeLessThan(2e-5);
    }
  });

  it('linear → linear batchFirst, mse with lengths, SGD with momentum', async () => {
    const T = 4, B = 6, I = 3, O = 2;
    let seed = 200;
    await compareTraining(
      () => new l.Sequential([l.layers.linear({ inFeatures: I, outFeatures: 8 }), l.layers.linear({ inFeatures: 8, outFeatures: O })], { seed: 8, batchFirst: true }),
      () => ({ x: l.tensor(randArray(B * T * I, seed++), [B, T, I]), y: l.tensor(randArray(B * T * O, seed++), [B, T, O]), lengths: [4, 1, 2, 4, 3, 4] }),
      () => ({ loss: 'mse', optimizer: new l.SGD({ lr: 0.1, momentum: 0.9 }) }),
      2,
    );
  });

  it('bceWithLogits, RMSProp + clipValue; evaluate equals the single-thread loss', async () => {
    const T = 3, B = 5, I = 4, O = 3;
    let seed = 300;
    const mk = () => new l.Sequential([l.layers.linear({ inFeatures: I, outFeatures: O })], { seed: 9 });
    const batch = () => ({ x: l.tensor(randArray(T * B * I, seed++), [T, B, I]), y: l.tensor(Float32Array.from(randArray(T * B * O, seed++), (v) => (v > 0 ? 1 : 0)), [T, B, O]) });
    await compareTraining(mk, batch, () => ({ loss: 'bceWithLogits', optimizer: new l.RMSProp({ lr: 0.02 }), clipValue: 0.05 }), 2);
    const m = mk();
    const p = await pool(m);
    const bt = batch();
    expect(Math.abs((await p.evaluate(bt, { loss: 'bceWithLogits' })) - m.evaluate(bt, { loss: 'bceWithLogits' }))).toBeLessThan(1e-6);
  });

  it('one-hot → LSTM → linear, crossEntropy with lengths, Adam + clipNorm, 5 steps', async () => {
    const V = 8, T = 6, B = 6, H = 12;
    let seed = 400;
    const oneHot = (y: Int32Array) => {
      const x = new Float32Array(y.length * V);
      y.forEach((v, i) => (x[i * V + v] = 1));
      return x;
    };
    await compareTraining(
      () => new l.Sequential([l.layers.lstm({ inputSize: V, hiddenSize: H }), l.layers.linear({ inFeatures: H, outFeatures: V })], { seed: 10 }),
      () => ({ x: l.tensor(oneHot(ids(T * B, V, seed++)), [T, B, V]), y: new l.Tensor(ids(T * B, V, seed++), [T, B]), lengths: [6, 3, 6, 1, 5, 6] }),
      () => ({ loss: 'crossEntropy', optimizer: new l.Adam({ lr: 0.01 }), clipNorm: 1 }),
      2, 5,
    );
  });
});

describe('errors: typed, before anything is sent, and never a hang', () => {
  const T = 2, B = 3, I = 2;
  const x = l.tensor(randArray(T * B * I, 1), [T, B, I]);

  it('validation happens on the main thread with the library error classes', async () => {
    const m = new l.Sequential([l.layers.linear({ inFeatures: I, outFeatures: 2 })], { seed: 1 });
    const p = await pool(m);
    await expect(p.forward(l.tensor(new Float32Array(T * B * 3), [T, B, 3]))).rejects.toBeInstanceOf(l.ShapeError);
    await expect(p.forward(x, { lengths: [1, 2, 3] })).rejects.toBeInstanceOf(l.ValueError);
    const y = new l.Tensor(new Int32Array([0, 1, 2, 0, 1, 0]), [T, B]);
    await expect(p.trainStep({ x, y }, { loss: 'crossEntropy', optimizer: new l.Adam() })).rejects.toBeInstanceOf(l.ValueError); // class 2 ≥ O
    await expect(p.trainStep({ x, y: new l.Tensor(new Int32Array(6), [T, B]) }, { loss: 'crossEntropy', optimizer: new l.Adam(), tbptt: 1 })).rejects.toThrow(/tbptt/);
    // the pool still works after rejected calls
    expect(bits((await p.forward(x)).output.data)).toEqual(bits(m.forward(x).output.data));
  });

  it('trains with dropout: masks drawn per worker from the model seed, reproducibly', async () => {
    const Tn = 6, Bn = 8, In = 3, H = 8;
    const xs = l.tensor(randArray(Tn * Bn * In, 3), [Tn, Bn, In]);
    const ys = new l.Tensor(ids(Tn * Bn, 3, 4), [Tn, Bn]);
    const run = async (seed: number) => {
      const m = new l.Sequential([l.layers.lstm({ inputSize: In, hiddenSize: H, numLayers: 2, dropout: 0.5 }), l.layers.linear({ inFeatures: H, outFeatures: 3 })], { seed });
      const p = await pool(m);
      const opt = new l.Adam({ lr: 0.01 });
      const losses: number[] = [];
      for (let k = 0; k < 4; k++) losses.push((await p.trainStep({ x: xs, y: ys }, { loss: 'crossEntropy', optimizer: opt })).loss);
      const w = bits(m.getParameter('0.weight_hh_l1'));
      // at the same parameters: evaluate has dropout off, a pooled step (too small to move a
      // weight) draws masks
      const evalLoss = m.evaluate({ x: xs, y: ys }, { loss: 'crossEntropy' });
      const maskedLoss = (await p.trainStep({ x: xs, y: ys }, { loss: 'crossEntropy', optimizer: new l.SGD({ lr: 1e-30 }) })).loss;
      return { losses, evalLoss, maskedLoss, w };
    };
    const a = await run(5), b = await run(5), c = await run(6);
    expect(a.losses).toEqual(b.losses); // same seed, same worker count: bit-identical training
    expect(a.w).toEqual(b.w);
    expect(c.w).not.toEqual(a.w);
    expect(a.losses.every((v) => Number.isFinite(v))).toBe(true);
    expect(a.maskedLoss).not.toBe(a.evalLoss);
  });

  it('a pool disposed after its model (or finalized after it) still returns its training blocks to the heap', async () => {
    const heap = (new l.LSTM({ inputSize: 1, hiddenSize: 1 }) as unknown as { runner: { rt: { heap: { liveElements: number } } } }).runner.rt.heap;
    const base = heap.liveElements;
    const m = new l.LSTM({ inputSize: 4, hiddenSize: 8, seed: 3 });
    const p = await l.WorkerPool.create(m, { workers: 1 });
    const x = l.tensor(randArray(3 * 2 * 4, 5), [3, 2, 4]);
    const y = l.tensor(randArray(3 * 2 * 8, 6), [3, 2, 8]);
    const opt = new l.Adam({ lr: 1e-3 });
    await p.trainStep({ x, y }, { loss: 'mse', optimizer: opt });
    expect(heap.liveElements).toBeGreaterThan(base);
    opt.dispose();
    m.dispose(); // the model first: the pool's gradient block and step guard are still released
    await p.dispose();
    expect(heap.liveElements).toBe(base);
  });

  it('dispose terminates the workers; later calls reject with StateError', async () => {
    const m = new l.Sequential([l.layers.linear({ inFeatures: I, outFeatures: 2 })], { seed: 1 });
    const p = await l.WorkerPool.create(m, { workers: 2 });
    await p.dispose();
    await p.dispose();
    expect(p.size).toBe(0);
    await expect(p.forward(x)).rejects.toBeInstanceOf(l.StateError);
  });

  it('a worker script that cannot load, or never finishes loading, rejects create() with WorkerError', async () => {
    const m = new l.Sequential([l.layers.linear({ inFeatures: I, outFeatures: 2 })], { seed: 1 });
    await expect(l.WorkerPool.create(m, { workers: 1, workerUrl: fixture('missing-worker.mjs') })).rejects.toBeInstanceOf(l.WorkerError);
    await expect(l.WorkerPool.create(m, { workers: 1, workerUrl: fixture('hang-start-worker.mjs'), startTimeout: 500 })).rejects.toThrow(/in time/);
  });

  it('a worker that exits mid-task, or hangs past the timeout, rejects with WorkerError', async () => {
    const m = new l.Sequential([l.layers.linear({ inFeatures: I, outFeatures: 2 })], { seed: 1 });
    const crash = await pool(m, { workerUrl: fixture('crash-worker.mjs') });
    await expect(crash.forward(x)).rejects.toBeInstanceOf(l.WorkerError);
    const hang = await pool(m, { workerUrl: fixture('hang-worker.mjs'), timeout: 300 });
    const t0 = Date.now();
    await expect(hang.forward(x)).rejects.toThrow(l.WorkerError);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('errors raised in a worker come back as the same library class, anything else as WorkerError', async () => {
    const m = new l.Sequential([l.layers.linear({ inFeatures: I, outFeatures: 2 })], { seed: 1 });
    const p = await pool(m, { workerUrl: fixture('throw-worker.mjs') });
    await expect(p.forward(x)).rejects.toThrow(l.ShapeError);
    await expect(p.evaluate({ x, y: new l.Tensor(new Int32Array(6), [T, B]) }, { loss: 'crossEntropy' })).rejects.toThrow(/TypeError: boom/);
    await expect(p.evaluate({ x, y: new l.Tensor(new Int32Array(6), [T, B]) }, { loss: 'crossEntropy' })).rejects.toBeInstanceOf(l.WorkerError);
  });
});
