// The public CRF class: results against the f64 reference, gradient accumulation, typed errors
// that change nothing, state dicts, and training on a toy task where only the transitions can
// recover the tags (per-step argmax cannot).
import { beforeAll, describe, expect, it } from 'vitest';
import { init, CRF, SGD, Tensor, tensor, ValueError, ShapeError, DTypeError, StateError } from '../../src/index';
import { runtime } from '../../src/wasm/load';
import * as ref from '../reference/crf';
import { prng } from '../model/helpers';

beforeAll(async () => {
  await init();
});

const T = 4, B = 3, K = 3;
const lens = [4, 1, 3];
function batch(seed: number) {
  const r = prng(seed);
  const em = tensor(Float32Array.from({ length: T * B * K }, () => r() * 4 - 2), [T, B, K]);
  const tags = new Tensor(Int32Array.from({ length: T * B }, (_, i) => Math.floor(r() * K) % K), [T, B]);
  tags.data[3 * B + 1] = -1; // padded steps may hold anything
  return { em, tags };
}

describe('CRF class', () => {
  it('nll, backward and decode equal the f64 reference (mean, sum and tokenMean reductions)', () => {
    const crf = new CRF({ numTags: K, seed: 3 });
    const { em, tags } = batch(1);
    const p = { K, trans: crf.getParameter('transitions'), start: crf.getParameter('start'), end: crf.getParameter('end') };
    const want = ref.crfBatch(p, em.data, tags.data, lens, T, 1);
    const steps = 8;
    for (const [red, div] of [['mean', B], ['sum', 1], ['tokenMean', steps]] as const) {
      crf.zeroGrad();
      const loss = crf.nll(em, tags, lens, { reduction: red });
      expect(Math.abs(loss - want.loss / div)).toBeLessThan(1e-5 * (1 + want.loss));
      const dEm = crf.backward();
      expect(dEm.shape).toEqual([T, B, K]);
      for (let i = 0; i < dEm.size; i++) expect(Math.abs(dEm.data[i] - want.dem[i] / div)).toBeLessThan(1e-5);
      const g = crf.gradient('transitions');
      for (let i = 0; i < K * K; i++) expect(Math.abs(g[i] - want.dtrans[i] / div)).toBeLessThan(1e-5);
      crf.gradient('start').forEach((v, i) => expect(Math.abs(v - want.dstart[i] / div)).toBeLessThan(1e-5));
      crf.gradient('end').forEach((v, i) => expect(Math.abs(v - want.dend[i] / div)).toBeLessThan(1e-5));
    }
    const { tags: path, scores } = crf.decode(em, lens);
    expect(Array.from(path.data)).toEqual(Array.from(want.path));
    scores.forEach((s, b) => expect(Math.abs(s - want.score[b])).toBeLessThan(1e-5));
    crf.dispose();
  });

  it('backward accumulates across calls until zeroGrad, and runs once per nll', () => {
    const crf = new CRF({ numTags: K, seed: 4 });
    const { em, tags } = batch(2);
    crf.nll(em, tags, lens);
    crf.backward();
    const once = crf.gradient('end');
    expect(() => crf.backward()).toThrow(StateError);
    crf.nll(em, tags, lens);
    crf.backward();
    crf.gradient('end').forEach((v, i) => expect(v).toBeCloseTo(2 * once[i], 6));
    crf.zeroGrad();
    expect(Array.from(crf.gradient('end'))).toEqual([0, 0, 0]);
    crf.dispose();
  });

  it('rejects bad input with typed errors naming the argument, and a rejected call changes nothing', () => {
    const crf = new CRF({ numTags: K, seed: 5 });
    const { em, tags } = batch(3);
    const loss = crf.nll(em, tags, lens);
    const bad = (f: () => unknown, E: new (...a: never[]) => Error, msg: RegExp) => {
      expect(f).toThrow(E);
      expect(f).toThrow(msg);
    };
    bad(() => crf.nll(tensor(new Float32Array(T * B * 2), [T, B, 2]), tags, lens), ShapeError, /Expected emissions of shape \(T, B, 3\)/);
    bad(() => crf.nll(new Tensor(new Int32Array(T * B * K), [T, B, K]) as never, tags, lens), DTypeError, /emissions to be a float32 Tensor, got Int32Array/);
    bad(() => crf.nll(em, tensor(new Float32Array(T * B), [T, B]) as never, lens), DTypeError, /tags to be an Int32 Tensor/);
    bad(() => crf.nll(em, new Tensor(new Int32Array(T * 2), [T, 2]), lens), ShapeError, /tags of shape \(4, 3\)/);
    const outOfRange = new Tensor(tags.data.slice(), [T, B]);
    outOfRange.data[0] = K;
    bad(() => crf.nll(em, outOfRange, lens), ValueError, /tags in \[0, 3\) at valid steps, got 3 at \[0, 0\]/);
    bad(() => crf.nll(em, tags, [4, 0, 3]), ValueError, /lengths\[1\] to be an integer in \[1, 4\], got 0/);
    bad(() => crf.nll(em, tags, [4, 5, 3]), ValueError, /lengths\[1\]/);
    bad(() => crf.nll(em, tags, [4, 1]), ShapeError, /lengths to have B = 3/);
    const nan = tensor(em.data.slice(), [T, B, K]);
    nan.data[5] = NaN;
    bad(() => crf.nll(nan, tags, lens), ValueError, /finite emissions at valid steps, got NaN at \[0, 1, 2\]/);
    bad(() => crf.decode(nan, lens), ValueError, /finite emissions/);
    bad(() => crf.nll(em, tags, lens, { reduction: 'avg' as never }), ValueError, /reduction 'mean', 'sum' or 'tokenMean', got avg/);
    bad(() => new CRF({ numTags: 0 }), ValueError, /numTags to be a positive integer, got 0/);
    bad(() => crf.loadStateDict({ transitions: new Float32Array(9), start: new Float32Array(3), end: [1, NaN, 2] }), ValueError, /finite values for end/);
    bad(() => crf.loadStateDict({ transitions: new Float32Array(9), start: new Float32Array(3) }), ValueError, /none for end/);
    // NaN at a padded step is never read, so it is accepted
    const padNaN = tensor(em.data.slice(), [T, B, K]);
    padNaN.data[(3 * B + 1) * K] = NaN;
    expect(crf.nll(padNaN, tags, lens)).toBeCloseTo(loss, 6);
    // the last accepted nll's gradients are still pending; parameters unchanged by the rejected loads
    const before = crf.stateDict();
    expect(() => crf.loadStateDict({ ...before, end: new Float32Array(2) })).toThrow(ShapeError);
    expect(crf.stateDict()).toEqual(before);
    expect(crf.backward().shape).toEqual([T, B, K]);
    crf.dispose();
    expect(() => crf.nll(em, tags, lens)).toThrow(StateError);
  });

  it('stateDict / loadStateDict round-trip; parameters() names and shapes; no heap growth over 50 steps of one shape; dispose releases the memory', () => {
    const heap = runtime().heap;
    const live = heap.liveElements;
    const a = new CRF({ numTags: 5, seed: 1 });
    const b = new CRF({ numTags: 5, seed: 2 });
    expect(a.parameters()).toEqual([{ name: 'transitions', shape: [5, 5] }, { name: 'start', shape: [5] }, { name: 'end', shape: [5] }]);
    expect(a.getParameter('transitions').every((v) => Math.abs(v) <= 0.1)).toBe(true);
    expect(b.getParameter('start')).not.toEqual(a.getParameter('start'));
    b.loadStateDict(a.stateDict());
    expect(b.stateDict()).toEqual(a.stateDict());
    const em = tensor(Float32Array.from({ length: 6 * 2 * 5 }, (_, i) => Math.sin(i)), [6, 2, 5]);
    expect(b.decode(em).tags.data).toEqual(a.decode(em).tags.data);
    const gold = new Tensor(new Int32Array(12).fill(1), [6, 2]);
    const opt = new SGD({ lr: 0.1 });
    const trainStep = () => {
      a.zeroGrad();
      a.nll(em, gold, [6, 4]);
      a.backward();
      a.step(opt);
      a.decode(em, [6, 4]);
    };
    trainStep(); // the first call of a shape builds its programs and the optimizer's buffers
    const steady = heap.liveElements;
    for (let i = 0; i < 50; i++) trainStep();
    expect(heap.liveElements).toBe(steady);
    a.dispose();
    b.dispose();
    expect(heap.liveElements).toBe(live);
  });
});

// Toy task: tags alternate (0,1,0,1… or 1,0,1,0…). Each step shows its tag with probability 0.3,
// else a blank symbol. Per-step argmax can only guess at blank steps (≈ 0.3 + 0.7/2 = 65 %); a CRF
// that learns "0 → 1, 1 → 0" recovers every step of a sequence from one revealed step.
describe('CRF training on alternating tags', () => {
  const Tn = 8, Bn = 16, SYM = 3; // symbols: 0 = "tag 0", 1 = "tag 1", 2 = blank
  function sample(r: () => number) {
    const first = r() < 0.5 ? 0 : 1;
    const y = Array.from({ length: Tn }, (_, t) => (first + t) % 2);
    const x = y.map((v) => (r() < 0.3 ? v : 2));
    return { x, y };
  }
  function make(n: number, seed: number) {
    const r = prng(seed);
    return Array.from({ length: n }, () => sample(r));
  }
  // emissions[t, b, :] = table[x_t, :] (a linear layer on one-hot symbols)
  function emissions(table: Float64Array, xs: { x: number[] }[]) {
    const em = new Float32Array(Tn * xs.length * 2);
    xs.forEach((s, b) => s.x.forEach((sym, t) => em.set([table[sym * 2], table[sym * 2 + 1]], (t * xs.length + b) * 2)));
    return tensor(em, [Tn, xs.length, 2]);
  }
  function accuracy(pred: (t: number, b: number) => number, data: { y: number[] }[]) {
    let ok = 0;
    data.forEach((s, b) => s.y.forEach((y, t) => (ok += pred(t, b) === y ? 1 : 0)));
    return ok / (data.length * Tn);
  }

  it('learns the transition structure and beats per-step argmax; with its transitions zeroed it does not', () => {
    const crf = new CRF({ numTags: 2, seed: 7 });
    const opt = new SGD({ lr: 0.5 });
    const table = new Float64Array(SYM * 2);
    const train = make(Bn * 25, 11);
    for (let epoch = 0; epoch < 4; epoch++) {
      for (let i = 0; i < train.length; i += Bn) {
        const part = train.slice(i, i + Bn);
        const tags = new Tensor(new Int32Array(Tn * Bn), [Tn, Bn]);
        part.forEach((s, b) => s.y.forEach((y, t) => (tags.data[t * Bn + b] = y)));
        crf.zeroGrad();
        crf.nll(emissions(table, part), tags);
        const dEm = crf.backward().data;
        crf.step(opt);
        // the emission table's gradient: scatter-add of dEm rows by symbol
        part.forEach((s, b) => s.x.forEach((sym, t) => {
          for (let j = 0; j < 2; j++) table[sym * 2 + j] -= 0.5 * dEm[(t * Bn + b) * 2 + j];
        }));
      }
    }
    const test = make(200, 99);
    const em = emissions(table, test);
    const decoded = crf.decode(em).tags.data;
    const crfAcc = accuracy((t, b) => decoded[t * test.length + b], test);
    const argmaxAcc = accuracy((t, b) => (em.data[(t * test.length + b) * 2 + 1] > em.data[(t * test.length + b) * 2] ? 1 : 0), test);
    // 0.7^8 ≈ 6 % of sequences show no tag at all; those are right half the time
    expect(crfAcc).toBeGreaterThan(0.93);
    expect(argmaxAcc).toBeLessThan(0.75);
    const tr = crf.getParameter('transitions'); // [from, to]
    expect(tr[0 * 2 + 1] - tr[0 * 2 + 0]).toBeGreaterThan(1);
    expect(tr[1 * 2 + 0] - tr[1 * 2 + 1]).toBeGreaterThan(1);
    // the same emissions without the learned transitions decode no better than argmax
    crf.setParameter('transitions', new Float32Array(4));
    const flat = crf.decode(em).tags.data;
    expect(accuracy((t, b) => flat[t * test.length + b], test)).toBeLessThan(0.75);
    crf.dispose();
  });
});
