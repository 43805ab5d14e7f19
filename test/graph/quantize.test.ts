// quantize(graphModel, { weights: 'int8' }): the recurrent and linear nodes' weights get int8 copies
// (attention's stays f32); step-wise decoding (beam rows included) gives the int8 forward's outputs
// bit for bit; the graph file carries the marker (format version 2) and a rebuilt model computes
// the same bits; a quantized graph is inference only (every training entry point and every
// parameter write throws a StateError and changes nothing).
import { beforeAll, describe, expect, it } from 'vitest';
import * as lib from '../../src/index';
import { buildModel, prng } from '../../scripts/reverse-task.mjs';
import { FORMAT_VERSION_INT8 } from '../../src/io/format';

const { Tensor, StateError, quantize, serialize, deserializeGraph, Adam } = lib;

beforeAll(async () => {
  await lib.init();
});

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
const V = 12, Ts = 6, Tt = 5, B = 2;
function context(): { src: { data: lib.Tensor<Int32Array>; lengths: number[] } } {
  const r = prng(3);
  return { src: { data: new Tensor(Int32Array.from({ length: Ts * B }, () => Math.floor(r() * 10)), [Ts, B]), lengths: [6, 4] } };
}
const tgt = (() => {
  const r = prng(7);
  return Int32Array.from({ length: Tt * B }, () => Math.floor(r() * V));
})();
const feed = () => ({ ...context(), tgt: new Tensor(tgt, [Tt, B]) });
const maxAbs = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe('int8 graph models', () => {
  it('the recurrent and linear weights become s·q; attention and embeddings keep their f32 values', () => {
    const m = buildModel(lib, { attention: true, hidden: 16, embed: 8, seed: 2 });
    const before = m.stateDict();
    const f32 = m.forward(feed()).logits.data as Float32Array;
    expect(quantize(m, { weights: 'int8' })).toBe(m);
    expect(m.quantized).toBe('int8');
    expect(m.spec().quantized).toBe('int8');
    const after = m.stateDict();
    const changed = Object.keys(after).filter((k) => bits(after[k]).join() !== bits(before[k]).join()).sort();
    // exactly the weights the int8 kernels read (biases, embeddings and the attention matrix untouched)
    expect(changed).toEqual(Object.keys(after).filter((k) => /\.(weight_(ih|hh)_l\d+(_reverse)?|weight)$/.test(k) && !/^(att|src_emb|tgt_emb)\./.test(k)).sort());
    expect(changed.length).toBeGreaterThanOrEqual(3);
    const q8 = m.forward(feed()).logits.data as Float32Array;
    const d = maxAbs(q8, f32);
    expect(d).toBeGreaterThan(0);
    expect(d).toBeLessThanOrEqual(5e-3); // 7.8e-4 measured 2026-12-07 (logits)
    m.dispose();
  });

  it('decoder steps (beam 1 and beam rows) equal the int8 forward bit for bit; decoders open at quantize() are closed; a reloaded file computes the same', () => {
    const m = buildModel(lib, { attention: true, hidden: 16, embed: 8, seed: 2 });
    const f32 = m.forward(feed()).logits.data as Float32Array;
    const open = m.decoder({ step: 'tgt', context: context() }); // its context ran on the f32 weights
    quantize(m, { weights: 'int8' });
    expect(() => open.step(tgt.subarray(0, B))).toThrow(/closed \(or whose model was disposed or quantized\)/);
    const full = m.forward(feed()).logits.data as Float32Array;
    const dec = m.decoder({ step: 'tgt', context: context() });
    const k = 3;
    const beam = m.decoder({ step: 'tgt', context: context(), beam: k });
    for (let t = 0; t < Tt; t++) {
      const want = full.subarray(t * B * V, (t + 1) * B * V);
      expect(bits(dec.step(tgt.subarray(t * B, (t + 1) * B)).logits.data as Float32Array)).toEqual(bits(want));
      // every hypothesis row of an example computes what the example's row does alone
      const rows = beam.step(Int32Array.from({ length: B * k }, (_, r) => tgt[t * B + Math.floor(r / k)])).logits.data as Float32Array;
      for (let r = 0; r < B * k; r++) expect(bits(rows.subarray(r * V, (r + 1) * V))).toEqual(bits(want.subarray(Math.floor(r / k) * V, (Math.floor(r / k) + 1) * V)));
    }
    const bytes = serialize(m);
    expect(new DataView(bytes.buffer).getUint32(8, true)).toBe(FORMAT_VERSION_INT8);
    const back = deserializeGraph(bytes).model;
    expect(back.quantized).toBe('int8');
    expect(bits(back.forward(feed()).logits.data as Float32Array)).toEqual(bits(full));
    // an f32 file of the same graph loads as f32
    const plain = buildModel(lib, { attention: true, hidden: 16, embed: 8, seed: 2 });
    const p2 = deserializeGraph(serialize(plain)).model;
    expect(p2.quantized).toBe(null);
    expect(bits(p2.forward(feed()).logits.data as Float32Array)).toEqual(bits(f32));
    for (const x of [m, back, plain, p2]) x.dispose();
  });

  it('is inference only: training, evaluate, kept forwards and parameter writes throw a StateError and change nothing', () => {
    const m = buildModel(lib, { attention: false, hidden: 8, embed: 4, seed: 1 });
    quantize(m, { weights: 'int8' });
    const before = m.stateDict();
    const out = m.forward(feed()).logits.data as Float32Array;
    const batch = { inputs: feed(), targets: { logits: new Tensor(tgt, [Tt, B]) } };
    const opt = new Adam({ lr: 0.1 });
    const calls: [string, () => unknown][] = [
      ['trainStep', () => m.trainStep(batch, { losses: { logits: 'crossEntropy' }, optimizer: opt })],
      ['evaluate', () => m.evaluate(batch, { losses: { logits: 'crossEntropy' } })],
      ['forward keep', () => m.forward(feed(), { keep: true })],
      ['backward', () => m.backward({ logits: new Float32Array(Tt * B * V) })],
      ['zeroGrad', () => m.zeroGrad()],
      ['step', () => m.step(opt)],
      ['setParameter', () => m.setParameter(m.parameters()[0].name, new Float32Array(m.getParameter(m.parameters()[0].name).length))],
      ['loadStateDict', () => m.loadStateDict(before)],
    ];
    for (const [name, call] of calls) expect(call, name).toThrow(StateError);
    expect(() => m.trainStep(batch, { losses: { logits: 'crossEntropy' }, optimizer: opt })).toThrow(/Expected a model with f32 weights for training, got one quantized to int8/);
    expect(m.stateDict()).toEqual(before);
    expect(bits(m.forward(feed()).logits.data as Float32Array)).toEqual(bits(out));
    m.dispose();
    expect(() => quantize(m, { weights: 'int8' })).toThrow(StateError);
  });
});
