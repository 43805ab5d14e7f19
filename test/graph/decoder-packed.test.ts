// One-row graph decoders read packed copies of their step weights (src/model/packs.ts), as batch-1
// Sequential streams do: every step equals, bit for bit, the same row decoded beside another (two
// rows read the weights in place); with the weights themselves poisoned with NaN behind the
// arena's back, the one-row decoder still gives those bits (it reads the copies); a write through
// the API repacks; the copies live while a one-row decoder is open; quantized models read int8 instead.
import { beforeAll, describe, expect, it } from 'vitest';
import * as lib from '../../src/index';
import { buildModel, prng } from '../../scripts/reverse-task.mjs';

const { Tensor, quantize, graph: g } = lib;

beforeAll(async () => {
  await lib.init();
});

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
const Ts = 7, Tt = 20;
const src = (B: number) => {
  const r = prng(3);
  const one = Int32Array.from({ length: Ts }, () => Math.floor(r() * 10));
  // B copies of the same source: row 0 of a two-row decoder is the one-row decoder's row
  return { src: { data: new Tensor(Int32Array.from({ length: Ts * B }, (_, i) => one[Math.floor(i / B)]), [Ts, B]), lengths: Array(B).fill(Ts) } };
};
const tokens = Int32Array.from({ length: Tt }, (_, t) => (t * 5 + 3) % 12);

/** A GRU (Cho form) decoder over an RNN encoder, with a linear bridge: the other cells and a packed linear. */
function gruModel(): lib.GraphModel {
  const s = g.input('src', { type: 'ids', vocabSize: 12 });
  const t = g.input('tgt', { type: 'ids', vocabSize: 12 });
  const enc = g.rnn(g.embedding(s, { embeddingDim: 6, name: 'se' }), { hiddenSize: 10, name: 'enc' });
  const h0 = g.tanh(g.linear(enc.hN, { outFeatures: 30, name: 'bridge' }));
  const dec = g.gru(g.embedding(t, { embeddingDim: 5, name: 'te' }), { hiddenSize: 30, resetAfter: false, numLayers: 1, initialState: { h: h0 }, name: 'dec' });
  const logits = g.linear(g.linear(dec.output, { outFeatures: 9, name: 'mid' }), { outFeatures: 12, name: 'out' });
  return new lib.GraphModel({ inputs: [s, t], outputs: { logits }, seed: 4 });
}

const MODELS: [string, () => lib.GraphModel, string[]][] = [
  ['LSTM decoder with general attention (the reverse task)', () => buildModel(lib, { attention: true, hidden: 37, embed: 8, seed: 2 }), ['dec.weight_ih_l0', 'dec.weight_hh_l0', 'attn_state.weight', 'out.weight']],
  ['GRU Cho-form decoder, two linear layers on top', gruModel, ['dec.weight_ih_l0', 'dec.weight_hh_l0', 'mid.weight', 'out.weight']],
];

/** The logits of every step of row 0 in a decoder of B rows (all rows fed the same tokens). */
function run(d: ReturnType<lib.GraphModel['decoder']>, B: number, from = 0, to = Tt): Float32Array[] {
  const out: Float32Array[] = [];
  for (let t = from; t < to; t++) {
    const l = d.step(new Int32Array(B).fill(tokens[t])).logits;
    out.push(l.data.slice(0, l.shape[1]) as Float32Array);
  }
  return out;
}

describe('packed one-row decoders', () => {
  it.each(MODELS)('%s: bit-identical to the weights read in place; poisoned weights are not read; writes repack', (_name, make, stepWeights) => {
    const m = make();
    expect(m.packedFloats).toBe(0);
    const two = m.decoder({ step: 'tgt', context: src(2) });
    expect(m.packedFloats).toBe(0); // two rows read the weights in place
    const want = run(two, 2);
    const one = m.decoder({ step: 'tgt', context: src(1) });
    expect(m.packedFloats).toBeGreaterThan(0);
    const half = Tt / 2;
    run(one, 1, 0, half).forEach((x, t) => expect(bits(x), `step ${t}`).toEqual(bits(want[t])));
    // poison the step weights in place, behind the arena's write counter: the copies are what is read
    const f32 = m.runner.rt.heap.f32;
    const saved = stepWeights.map((n) => m.getParameter(n));
    for (const n of stepWeights) f32.fill(NaN, m.runner.arena.offsetOf(n), m.runner.arena.offsetOf(n) + saved[stepWeights.indexOf(n)].length);
    run(one, 1, half).forEach((x, t) => expect(bits(x), `step ${half + t}`).toEqual(bits(want[half + t])));
    // the harness can fail: a two-row decoder reads the poisoned weights
    two.reset();
    expect(run(two, 2, 0, 1)[0].some(Number.isNaN)).toBe(true);
    // writing through the API repacks: new weights reach the one-row decoder, which again equals two rows
    stepWeights.forEach((n, i) => m.setParameter(n, saved[i].map((v) => v * 0.5)));
    one.reset();
    two.reset();
    const after = run(two, 2);
    expect(bits(after[3])).not.toEqual(bits(want[3]));
    run(one, 1).forEach((x, t) => expect(bits(x), `after write, step ${t}`).toEqual(bits(after[t])));
    // the copies go with the last one-row decoder
    const another = m.decoder({ step: 'tgt', context: src(1) });
    one.close();
    expect(m.packedFloats).toBeGreaterThan(0);
    another.close();
    expect(m.packedFloats).toBe(0);
    two.close();
    m.dispose();
  });

  it('quantized models read their int8 copies instead (no packed copies); quantize() drops open decoders\' copies', () => {
    const m = buildModel(lib, { attention: true, hidden: 16, embed: 8, seed: 2 });
    m.decoder({ step: 'tgt', context: src(1) });
    expect(m.packedFloats).toBeGreaterThan(0);
    quantize(m, { weights: 'int8' });
    expect(m.packedFloats).toBe(0);
    const one = m.decoder({ step: 'tgt', context: src(1) });
    expect(m.packedFloats).toBe(0);
    const two = m.decoder({ step: 'tgt', context: src(2) });
    run(one, 1).forEach((x, t) => expect(bits(x)).toEqual(bits(run(two, 2, t, t + 1)[0])));
    m.dispose();
  });
});
