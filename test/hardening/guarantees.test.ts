// Issue 13, items 4, 5 and 7 (API side): a rejected call changes nothing; NaN never reaches the
// weights silently; one model's streams, tensors and options stay isolated.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  init, LSTM, GRU, Sequential, layers, tensor, Tensor, Adam, SGD, RMSProp, schedules,
  ValueError, ShapeError, NonFiniteError, validateOptimizerState, MemoryError, StateError,
} from '../../src/index';
import { runtime } from '../../src/wasm/load';
import { buildProgram, type ProgramBuilder } from '../../src/ir/program';
import { clipAndStep, paramsFinite } from '../../src/train/guard';
import { randArray } from '../model/helpers';
import { expectSame, expectThrow, snapshot } from './helpers';

beforeAll(async () => {
  await init();
});

const I = 3, H = 8, O = 2;
const dropoutNet = (seed = 1) =>
  new Sequential([layers.lstm({ inputSize: I, hiddenSize: H, numLayers: 2, dropout: 0.5 }), layers.linear({ inFeatures: H, outFeatures: O })], { seed });

// mse batch of T steps whose targets from step `hugeFrom` on are 3e38: those steps' gradients overflow
function mseBatch(T: number, B: number, hugeFrom = T) {
  const y = new Float32Array(T * B * O);
  for (let t = hugeFrom; t < T; t++) y.fill(3e38, t * B * O, (t + 1) * B * O);
  return { x: tensor(randArray(T * B * I, 7), [T, B, I]), y: new Tensor(y, [T, B, O]) };
}

describe('a rejected trainStep changes nothing', () => {
  it('tbptt: a later chunk that fails undoes the earlier chunks’ updates, optimizer steps and dropout draws', () => {
    const m = dropoutNet();
    const opt = new Adam({ lr: 0.01 });
    m.trainStep(mseBatch(4, 2), { loss: 'mse', optimizer: opt }); // bind and take one normal step
    const before = snapshot(m, opt);
    expectThrow(() => m.trainStep(mseBatch(4, 2, 2), { loss: 'mse', optimizer: opt, tbptt: 2 }), NonFiniteError, /finite loss, got Infinity in the chunk at step 2/);
    // the chunk plans it compiled stay cached (bounded); everything else is as before
    const failedOnce = snapshot(m, opt);
    expectSame(before, failedOnce, '', { live: false });
    expect(opt.step).toBe(1);
    // skip: same restoration, reported; repeating grows nothing
    const r = m.trainStep(mseBatch(4, 2, 2), { loss: 'mse', optimizer: opt, tbptt: 2, onNonFinite: 'skip' });
    expect(r.skipped).toBe(true);
    expectSame(failedOnce, snapshot(m, opt));
    // and the model still trains normally afterwards
    const ok = m.trainStep(mseBatch(4, 2), { loss: 'mse', optimizer: opt, tbptt: 2 });
    expect(ok.skipped).toBe(false);
    expect(opt.step).toBe(3);
    m.dispose();
  });

  it('a loss or gradient made non-finite by huge (finite) weights: NonFiniteError, nothing updated', () => {
    const m = dropoutNet();
    const opt = new SGD({ lr: 0.1 });
    m.setParameter('1.weight', new Float32Array(O * H).fill(3e38));
    const before = snapshot(m);
    const b = mseBatch(3, 2);
    expectThrow(() => m.trainStep(b, { loss: 'mse', optimizer: opt }), NonFiniteError, /finite (loss|gradients)/);
    expectSame(before, snapshot(m), '', { live: false });
    expect(opt.step).toBe(0);
    m.dispose();
  });

  it('a NaN or Inf gradient is refused before the optimizer touches a parameter (clipAndStep)', () => {
    const m = dropoutNet();
    const opt = new SGD({ lr: 0.1, momentum: 0.9 });
    const rt = runtime();
    opt.bind(rt, m.runner.arena);
    const n = m.runner.arena.size;
    const grad = rt.heap.alloc(n);
    for (const bad of [NaN, Infinity, -Infinity]) {
      rt.heap.f32.fill(0.5, grad, grad + n);
      rt.heap.f32[grad + 7] = bad;
      const before = snapshot(m, opt);
      expectThrow(() => clipAndStep(rt.k, grad, n, { optimizer: opt, clipNorm: 1 }, () => paramsFinite(m.runner)), NonFiniteError, /finite gradients/);
      expectSame(before, snapshot(m, opt));
    }
    rt.heap.release(grad);
    m.dispose();
    opt.dispose();
  });

  it('the parameter check tells real NaN/Inf from a sum of squares that overflows on large finite values', () => {
    const m = dropoutNet();
    const heap = runtime().heap;
    expect(paramsFinite(m.runner)).toBe(true);
    m.setParameter('1.weight', new Float32Array(O * H).fill(3e38)); // Σ x² overflows, every value finite
    expect(paramsFinite(m.runner)).toBe(true);
    heap.f32[m.runner.arena.offsetOf('1.bias') + 1] = NaN;
    expect(paramsFinite(m.runner)).toBe(false);
    heap.f32[m.runner.arena.offsetOf('1.bias') + 1] = -Infinity;
    expect(paramsFinite(m.runner)).toBe(false);
    m.dispose();
  });

  it('validation failures (bad targets, options, lengths) leave parameters, optimizer, generator and heap as they were', () => {
    const m = dropoutNet();
    const opt = new Adam({ lr: 0.01 });
    m.trainStep(mseBatch(4, 2), { loss: 'mse', optimizer: opt });
    const before = snapshot(m, opt);
    const good = mseBatch(4, 2);
    expectThrow(() => m.trainStep({ ...good, lengths: [4, 5] }, { loss: 'mse', optimizer: opt, tbptt: 2 }), ValueError, /lengths\[1\]/);
    expectThrow(() => m.trainStep(good, { loss: 'mse', optimizer: opt, clipNorm: -1 }), ValueError, /clipNorm/);
    expectThrow(() => m.trainStep(good, { loss: 'mse', optimizer: opt, onNonFinite: 'ignore' as never }), ValueError, /onNonFinite/);
    expectSame(before, snapshot(m, opt));
    m.dispose();
  });

  it('a model with a mid-stack softmax: 2,000 rejected steps leave the live heap unchanged', () => {
    const m = new Sequential([layers.linear({ inFeatures: I, outFeatures: 4 }), layers.softmax(), layers.linear({ inFeatures: 4, outFeatures: O })], { seed: 1 });
    const heap = runtime().heap;
    const opt = new SGD({ lr: 0.1 });
    const b = { x: tensor(randArray(2 * 1 * I, 1), [2, 1, I]), y: new Tensor(new Int32Array([0, 1]), [2, 1]) };
    const live = heap.liveElements, bytes = heap.byteLength;
    for (let i = 0; i < 2000; i++) expect(() => m.trainStep(b, { loss: 'crossEntropy', optimizer: opt })).toThrow(/softmax only at the end/);
    expect(heap.liveElements).toBe(live);
    expect(heap.byteLength).toBe(bytes);
    expect(opt.isBoundTo(m.runner.arena)).toBe(false);
    m.dispose();
  });

  it('a refused step does not bind a fresh optimizer', () => {
    const m = dropoutNet();
    const opt = new Adam();
    expectThrow(() => m.trainStep({ x: tensor(randArray(2 * I, 1), [2, 1, I]), y: new Tensor(new Float32Array(2 * 1 * 5), [2, 1, 5]) }, { loss: 'mse', optimizer: opt }), ShapeError, /targets y/);
    expect(opt.isBoundTo(m.runner.arena)).toBe(false);
    expect(opt.state().buffers.length).toBe(0);
    // optimizer.dispose() releases its moments at once
    const live = runtime().heap.liveElements;
    m.trainStep(mseBatch(2, 1), { loss: 'mse', optimizer: opt });
    const bound = runtime().heap.liveElements;
    opt.dispose();
    expect(bound - runtime().heap.liveElements).toBe(2 * m.runner.arena.size);
    expect(live).toBeLessThan(bound);
    m.dispose();
  });
});

describe('NaN and Inf never reach the weights silently', () => {
  it('Adam with lr 3e38: the step throws NonFiniteError and restores, or skips with skipped: true', () => {
    const m = dropoutNet();
    const opt = new Adam({ lr: 3e38 });
    const b = mseBatch(3, 2);
    const before = snapshot(m, opt);
    expectThrow(() => m.trainStep(b, { loss: 'mse', optimizer: opt }), NonFiniteError, /finite parameters after the adam update/);
    expect(m.runner.arena.snapshot().every(Number.isFinite)).toBe(true);
    // the optimizer was bound by this call and is unbound again (its state is empty, as before)
    const after = snapshot(m, opt);
    expectSame(before, after, '', { live: false });
    expect(opt.isBoundTo(m.runner.arena)).toBe(false);
    expect(() => m.trainStep(b, { loss: 'mse', optimizer: opt })).toThrow(NonFiniteError);
    expectSame(after, snapshot(m, opt)); // a repeated failure takes no more memory
    const r = m.trainStep(b, { loss: 'mse', optimizer: opt, onNonFinite: 'skip' });
    expect(r).toMatchObject({ skipped: true });
    expect(snapshot(m).params).toEqual(before.params);
    expect(opt.step).toBe(0);
    m.dispose();
  });

  it('schedules: bad arguments are refused when made; NaN, Inf or negative rates at run time before the update', () => {
    expectThrow(() => schedules.cosine(0), ValueError, /total/);
    expectThrow(() => schedules.cosine(10, -1), ValueError, /minLr/);
    expectThrow(() => schedules.step(0), ValueError, /stepSize/);
    expectThrow(() => schedules.exponential(NaN), ValueError, /gamma/);
    expectThrow(() => schedules.warmup(-1), ValueError, /warmup/);
    expectThrow(() => new SGD({ lr: -0.1 }), ValueError, /lr/);
    const m = dropoutNet();
    const b = mseBatch(3, 2);
    for (const bad of [NaN, Infinity, -0.01]) {
      const opt = new SGD({ lr: 0.1, schedule: (t) => (t === 1 ? bad : 0.1) });
      m.trainStep(b, { loss: 'mse', optimizer: opt }); // step 0 is fine
      const before = snapshot(m, opt);
      expectThrow(() => m.trainStep(b, { loss: 'mse', optimizer: opt }), ValueError, /learning rate/);
      expectSame(before, snapshot(m, opt));
      // with tbptt the rate of every chunk's update is checked before the first one
      const opt2 = new SGD({ lr: 0.1, schedule: (t) => (t === 1 ? bad : 0.1) });
      const before2 = snapshot(m);
      expectThrow(() => m.trainStep(b, { loss: 'mse', optimizer: opt2, tbptt: 1 }), ValueError, /step 1/);
      expect(snapshot(m)).toEqual(before2);
      expect(opt2.step).toBe(0);
    }
    m.dispose();
  });

  it('optimizer state with a bad step, non-finite or negative second moments is refused before anything is written', () => {
    const m = dropoutNet();
    const opt = new Adam({ lr: 0.01 });
    m.trainStep(mseBatch(3, 2), { loss: 'mse', optimizer: opt });
    const good = opt.state();
    const before = snapshot(m, opt);
    const n = good.buffers.length;
    const bufWith = (i: number, v: number) => {
      const b = good.buffers.slice();
      b[i] = v;
      return b;
    };
    expectThrow(() => opt.loadState({ ...good, step: -1 }), ValueError, /step/);
    expectThrow(() => opt.loadState({ ...good, step: 'abc' as never }), ValueError, /step/);
    expectThrow(() => opt.loadState({ ...good, step: 1.5 }), ValueError, /step/);
    expectThrow(() => opt.loadState({ ...good, buffers: bufWith(0, NaN) }), ValueError, /finite optimizer state/);
    expectThrow(() => opt.loadState({ ...good, buffers: bufWith(n - 1, Infinity) }), ValueError, /finite optimizer state/);
    expectThrow(() => opt.loadState({ ...good, buffers: bufWith(n - 1, -1) }), ValueError, /second moments/);
    expectThrow(() => opt.loadState({ ...good, kind: '__proto__' }), ValueError, /kind/);
    expectThrow(() => opt.loadState({ ...good, buffers: good.buffers.subarray(1) }), ValueError, /values/);
    expectSame(before, snapshot(m, opt));
    // the exported validator (used by the file reader)
    expect(() => validateOptimizerState({ kind: 'rmsprop', step: 0, buffers: new Float32Array([-1, 2]) }, { nbufs: 1 })).toThrow(/second moments/);
    expect(() => validateOptimizerState({ kind: 'sgd', step: 3, buffers: new Float32Array([-1, 2]) }, { nbufs: 1 })).not.toThrow();
    expect(() => new RMSProp({ lr: 0.1 }).loadState({ kind: 'adam', step: 0, buffers: new Float32Array(0) })).toThrow(/kind rmsprop/);
    m.dispose();
  });
});

describe('architecture sizes', () => {
  it('a recurrent layer counts its parameters arithmetically, equal to its parameter table', () => {
    const configs: [typeof LSTM, Record<string, unknown>][] = [
      [LSTM, { inputSize: 3, hiddenSize: 5 }],
      [LSTM, { inputSize: 3, hiddenSize: 5, numLayers: 3, bidirectional: true, peepholes: true }],
      [LSTM, { inputSize: 7, hiddenSize: 2, numLayers: 2, bidirectional: true, mergeMode: 'sum', bias: false }],
      [GRU as never, { inputSize: 4, hiddenSize: 6, numLayers: 2 }],
    ];
    for (const [Ctor, o] of configs) {
      const m = new Ctor(o as never);
      expect(m.core.parameterCount).toBe(m.numParameters);
      m.dispose();
    }
  });
});

describe('isolation and plain values', () => {
  it('a Tensor whose data was swapped after construction is refused at the copy, and nothing is written', () => {
    const a = new LSTM({ inputSize: I, hiddenSize: H, seed: 1 });
    const b = new LSTM({ inputSize: I, hiddenSize: H, seed: 2 });
    const x = tensor(randArray(2 * 1 * I, 1), [2, 1, I]);
    a.forward(x);
    const bBefore = snapshot(b);
    (x as { data: Float32Array }).data = randArray(4096, 3);
    expectThrow(() => a.forward(x), ShapeError, /x\.data to hold 6 elements/);
    expectSame(bBefore, snapshot(b));
    a.dispose();
    b.dispose();
  });

  it('two open streams of one model with the same batch size keep separate states', () => {
    const m = new GRU({ inputSize: I, hiddenSize: H, seed: 4 });
    const s1 = m.stream({ batchSize: 1 });
    const step = randArray(I, 5);
    const a1 = s1.step(step);
    const a2 = s1.step(step);
    const s2 = m.stream({ batchSize: 1 }); // opening the second does not reset the first
    const b1 = s2.step(step);
    expect(Array.from(b1)).toEqual(Array.from(a1));
    const a3 = s1.step(step);
    const ref = m.stream({ batchSize: 1 });
    ref.step(step);
    ref.step(step);
    expect(Array.from(a2)).not.toEqual(Array.from(a1));
    expect(Array.from(a3)).toEqual(Array.from(ref.step(step)));
    // close releases the stream's plan
    const live = runtime().heap.liveElements;
    s1.close();
    expect(runtime().heap.liveElements).toBeLessThan(live);
    expect(() => s1.step(step)).toThrow(StateError);
    s2.close();
    ref.close();
    m.dispose();
  });

  it('evaluate with an unknown or missing loss is a ValueError naming loss', () => {
    const m = dropoutNet();
    const b = mseBatch(2, 1);
    expectThrow(() => m.evaluate(b, { loss: 'hinge' as never }), ValueError, /loss/);
    expectThrow(() => m.evaluate(b, {} as never), ValueError, /loss/);
    expectThrow(() => m.evaluate(b, null as never), ValueError, /evaluate options/);
    m.dispose();
  });

  it('a dropout generator state of all zeros is refused (it would never change again)', () => {
    const m = dropoutNet();
    const before = m.runner.dropoutRngState;
    expectThrow(() => { m.runner.dropoutRngState = [0, 0, 0, 0]; }, ValueError, /not all zero/);
    expectThrow(() => { m.runner.dropoutRngState = [1, 2, 3] as never; }, ValueError, /four 32-bit integers/);
    expect(m.runner.dropoutRngState).toEqual(before);
    m.dispose();
  });

  it("batchFirst: 'no' and seed: NaN are ValueErrors, not true and 0", () => {
    const heap = runtime().heap;
    const live = heap.liveElements;
    expectThrow(() => new LSTM({ inputSize: 2, hiddenSize: 2, batchFirst: 'no' as never }), ValueError, /batchFirst/);
    expectThrow(() => new Sequential([layers.linear({ inFeatures: 2, outFeatures: 2 })], { batchFirst: 'no' as never }), ValueError, /batchFirst/);
    expectThrow(() => new LSTM({ inputSize: 2, hiddenSize: 2, seed: NaN }), ValueError, /seed/);
    expectThrow(() => new Sequential([layers.linear({ inFeatures: 2, outFeatures: 2 })], { seed: 1.5 }), ValueError, /seed/);
    expect(heap.liveElements).toBe(live);
  });

  it('a plan that does not fit in wasm memory fails with MemoryError and keeps nothing', () => {
    const m = new LSTM({ inputSize: 1, hiddenSize: 1024, seed: 1 });
    const heap = runtime().heap;
    const live = heap.liveElements, bytes = heap.byteLength;
    const x = tensor(new Float32Array(1_000_000), [1_000_000, 1, 1]); // gates alone: 16 GB
    // measured before anything is allocated: the memory does not even grow
    expectThrow(() => m.forward(x), MemoryError, /plan of T = 1000000, B = 1 to fit in wasm memory/);
    expect(heap.liveElements).toBe(live);
    expect(heap.byteLength).toBe(bytes);
    m.dispose();
  });

  it('a program build that fails half-way releases every buffer it took and reports MemoryError', () => {
    const rt = runtime();
    const live = rt.heap.liveElements;
    let calls = 0;
    const fill = (b: ProgramBuilder) => {
      b.alloc(1000);
      b.alloc(5000);
      if (++calls === 2) throw new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded'); // the real build
      return b.finish();
    };
    expectThrow(() => buildProgram(rt, 'a test program', fill), MemoryError, /wasm memory for a test program/);
    expect(rt.heap.liveElements).toBe(live);
  });
});
