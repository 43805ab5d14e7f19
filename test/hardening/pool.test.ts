// WorkerPool.trainStep keeps the promise a model's trainStep makes: a refused call has not bound
// the optimizer, a crashed worker does not advance the dropout generator, and a step whose update
// turns parameters non-finite is undone (or skipped and reported). Runs on dist/ (the workers run
// the built worker entry).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import * as l from '../../dist/index.js';
import { randArray } from '../model/helpers';

const fixture = (name: string) => fileURLToPath(new URL(`../parallel/fixtures/${name}`, import.meta.url));
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
const pools: l.WorkerPool[] = [];

beforeAll(async () => {
  await l.init();
});
afterAll(async () => {
  await Promise.all(pools.map((p) => p.dispose()));
});

const T = 3, B = 4, I = 2, H = 6, O = 3;
const net = () => new l.Sequential([l.layers.lstm({ inputSize: I, hiddenSize: H, numLayers: 2, dropout: 0.5 }), l.layers.linear({ inFeatures: H, outFeatures: O })], { seed: 3 });
const batch = () => ({ x: l.tensor(randArray(T * B * I, 1), [T, B, I]), y: new l.Tensor(new Int32Array(T * B).map((_, i) => i % O), [T, B]) });
const state = (m: ReturnType<typeof net>) => ({ params: bits(m.runner.arena.snapshot()), rng: m.runner.dropoutRngState });

describe('WorkerPool.trainStep: a rejected call changes nothing', () => {
  it('a refused call (bad targets, bad options) has not bound the optimizer nor moved the generator', async () => {
    const m = net();
    const p = await l.WorkerPool.create(m, { workers: 2 });
    pools.push(p);
    const opt = new l.Adam({ lr: 0.01 });
    const before = state(m);
    const bad = { ...batch(), y: new l.Tensor(new Int32Array(T * B).fill(O), [T, B]) };
    await expect(p.trainStep(bad, { loss: 'crossEntropy', optimizer: opt })).rejects.toThrow(/class ids in \[0, 3\)/);
    await expect(p.trainStep(batch(), { loss: 'crossEntropy', optimizer: opt, clipValue: NaN })).rejects.toBeInstanceOf(l.ValueError);
    expect(opt.isBoundTo(m.runner.arena)).toBe(false);
    expect(state(m)).toEqual(before);
    m.dispose();
  });

  it('a worker that crashes mid-step: WorkerError, the dropout generator and parameters unchanged, optimizer unbound', async () => {
    const m = net();
    const p = await l.WorkerPool.create(m, { workers: 2, workerUrl: fixture('crash-worker.mjs') });
    pools.push(p);
    const opt = new l.Adam({ lr: 0.01 });
    const before = state(m);
    await expect(p.trainStep(batch(), { loss: 'crossEntropy', optimizer: opt })).rejects.toBeInstanceOf(l.WorkerError);
    expect(state(m)).toEqual(before);
    expect(opt.isBoundTo(m.runner.arena)).toBe(false);
    m.dispose();
  });

  it('Adam with lr 3e38 through the pool: NonFiniteError and everything restored, or skipped: true', async () => {
    const m = net();
    const p = await l.WorkerPool.create(m, { workers: 2 });
    pools.push(p);
    const opt = new l.Adam({ lr: 3e38 });
    const before = state(m);
    await expect(p.trainStep(batch(), { loss: 'crossEntropy', optimizer: opt })).rejects.toBeInstanceOf(l.NonFiniteError);
    expect(state(m)).toEqual(before);
    expect(opt.step).toBe(0);
    const r = await p.trainStep(batch(), { loss: 'crossEntropy', optimizer: opt, onNonFinite: 'skip' });
    expect(r.skipped).toBe(true);
    expect(state(m)).toEqual(before);
    // a sane optimizer then trains as usual
    const ok = await p.trainStep(batch(), { loss: 'crossEntropy', optimizer: new l.Adam({ lr: 0.01 }) });
    expect(ok.skipped).toBe(false);
    expect(state(m).params).not.toEqual(before.params);
    m.dispose();
  });
});
