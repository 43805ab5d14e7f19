// Step-wise decoding of a graph: feeding the decoder input one step at a time gives exactly the
// teacher-forced forward's outputs (logits and attention weights) step by step; with a beam, the
// context rows are repeated per hypothesis and reorder() moves the recurrent states with them.
import { beforeAll, describe, expect, it } from 'vitest';
import * as lib from '../../src/index';
import { buildModel, prng } from '../../scripts/reverse-task.mjs';

const { Tensor, ShapeError, ValueError, StateError } = lib;

beforeAll(async () => {
  await lib.init();
});

const V = 12, Ts = 6, Tt = 5, B = 2;
function context(): { src: { data: lib.Tensor<Int32Array>; lengths: number[] } } {
  const r = prng(3);
  return { src: { data: new Tensor(Int32Array.from({ length: Ts * B }, () => Math.floor(r() * 10)), [Ts, B]), lengths: [6, 4] } };
}
const tokens = (seed: number, n: number): Int32Array => {
  const r = prng(seed);
  return Int32Array.from({ length: n }, () => Math.floor(r() * V));
};

describe('GraphModel.decoder', () => {
  it('steps equal the teacher-forced forward bit for bit (logits and attention weights, masked context)', () => {
    const m = buildModel(lib, { attention: true, hidden: 16, embed: 8, seed: 2 });
    const tgt = tokens(7, Tt * B);
    const full = m.forward({ ...context(), tgt: new Tensor(tgt, [Tt, B]) });
    const dec = m.decoder({ step: 'tgt', context: context() });
    expect(dec.batchSize).toBe(B);
    for (let t = 0; t < Tt; t++) {
      const o = dec.step(tgt.subarray(t * B, (t + 1) * B));
      expect(o.logits.shape).toEqual([B, V]);
      expect(o.weights.shape).toEqual([B, Ts]);
      expect(o.logits.data).toEqual(full.logits.data.subarray(t * B * V, (t + 1) * B * V));
      expect(o.weights.data).toEqual(full.weights.data.subarray(t * B * Ts, (t + 1) * B * Ts));
    }
    // reset starts again from the encoder's states
    dec.reset();
    expect(dec.step(tgt.subarray(0, B)).logits.data).toEqual(full.logits.data.subarray(0, B * V));
    m.dispose();
  });

  it('beam rows share their example\'s context, and reorder() carries the recurrent states with the kept hypotheses', () => {
    const m = buildModel(lib, { attention: true, hidden: 16, embed: 8, seed: 2 });
    const k = 3;
    const a = m.decoder({ step: 'tgt', context: context(), beam: k });
    expect(a.batchSize).toBe(B * k);
    const s0 = tokens(11, B * k), s1 = tokens(12, B * k), s2 = tokens(13, B * k);
    a.step(s0);
    a.step(s1);
    const idx = Int32Array.from([2, 2, 0, 4, 3, 3]); // within each example's rows
    a.reorder(idx);
    const got = a.step(s2).logits.data;
    // the same histories fed in the reordered order from the start
    const b = m.decoder({ step: 'tgt', context: context(), beam: k });
    b.step(Int32Array.from(idx, (i) => s0[i]));
    b.step(Int32Array.from(idx, (i) => s1[i]));
    expect(got).toEqual(b.step(s2).logits.data);
    // without the reorder the result differs (the test can fail)
    const c = m.decoder({ step: 'tgt', context: context(), beam: k });
    c.step(s0);
    c.step(s1);
    expect(c.step(s2).logits.data).not.toEqual(got);
    // a beam row decodes as its example does with beam 1
    const one = m.decoder({ step: 'tgt', context: context() });
    const first = one.step(Int32Array.from([s0[0], s0[k]])).logits.data;
    const d = m.decoder({ step: 'tgt', context: context(), beam: k });
    const all = d.step(s0).logits.data;
    expect(all.subarray(0, V)).toEqual(first.subarray(0, V));
    expect(all.subarray(k * V, (k + 1) * V)).toEqual(first.subarray(V, 2 * V));
    m.dispose();
  });

  it('rejects bad calls with typed errors; closing (or disposing the model) ends the decoder', () => {
    const m = buildModel(lib, { attention: false, hidden: 8, embed: 4, seed: 1 });
    expect(() => m.decoder({ step: 'nope', context: context() })).toThrow(ValueError);
    expect(() => m.decoder({ step: 'tgt', context: {} })).toThrow(ValueError);
    expect(() => m.decoder({ step: 'tgt', context: context(), beam: 0 })).toThrow(ValueError);
    const d = m.decoder({ step: 'tgt', context: context() });
    expect(() => d.step(new Int32Array(3))).toThrow(ShapeError);
    expect(() => d.step(Int32Array.from([0, 12]))).toThrow(ValueError);
    expect(() => d.reorder([0, 2])).toThrow(ValueError);
    expect(() => d.reorder([0])).toThrow(ShapeError);
    d.close();
    expect(() => d.step(Int32Array.from([0, 1]))).toThrow(StateError);
    const e = m.decoder({ step: 'tgt', context: context() });
    m.dispose();
    expect(() => e.step(Int32Array.from([0, 1]))).toThrow(StateError);
  });
});
