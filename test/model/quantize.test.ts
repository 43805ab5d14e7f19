// quantize(model, { weights: 'int8' }): accuracy against the f32 model it came from (max abs
// output difference per cell and shape, declared in one table), bit-identity of everything that
// must agree (streaming and whole-sequence forward, one row alone and in a batch, a model rebuilt
// from its file), the file's version rule, and validation (a rejected call changes nothing; a
// quantized model refuses training and parameter writes).
import { beforeAll, describe, expect, it } from 'vitest';
import {
  init, LSTM, GRU, RNN, Sequential, layers, tensor, quantize, serialize, deserialize, FormatError,
  ValueError, StateError, Adam,
} from '../../src/index';
import { crc32 } from '../../src/io/format';
import { maxAbsDiff, randArray } from './helpers';

beforeAll(async () => {
  await init();
});

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

// max abs output difference int8 vs f32 allowed (inputs uniform in [-1, 1), PyTorch init), in the
// exact and in the fast activation mode (init({ int8 })); measured beside each (exact 2026-11-30,
// fast 2026-12-07; the int8 products give the same bits in both binaries)
type Ctor = typeof LSTM | typeof GRU | typeof RNN;
const ACCURACY: [string, Ctor, Record<string, unknown>, number, number][] = [
  ['lstm I64 H256 (W1)', LSTM, { inputSize: 64, hiddenSize: 256 }, 3e-3, 5e-3], // 9.9e-4, 1.8e-3
  ['lstm 2 layers I32 H128 bidirectional', LSTM, { inputSize: 32, hiddenSize: 128, numLayers: 2, bidirectional: true }, 3e-3, 3e-3], // 4.7e-4, 1.1e-3
  ['gru reset-after I64 H256 (W3)', GRU, { inputSize: 64, hiddenSize: 256 }, 5e-3, 1e-2], // 1.8e-3, 4.0e-3
  ['gru Cho I64 H256', GRU, { inputSize: 64, hiddenSize: 256, resetAfter: false }, 5e-3, 1e-2], // 1.8e-3, 3.8e-3
  ['rnn tanh I16 H64', RNN, { inputSize: 16, hiddenSize: 64 }, 1e-2, 2e-2], // 3.4e-3, 9.1e-3
];

describe('int8 weights', () => {
  it.each(ACCURACY)('%s: output within its bound of the f32 model in both activation modes', async (_name, Ctor, o, tol, fastTol) => {
    const m = new Ctor({ ...o, seed: 5 } as never);
    const T = 32, B = 3, I = o.inputSize as number;
    const x = tensor(randArray(T * B * I, 11), [T, B, I]);
    const f32 = m.forward(x);
    quantize(m, { weights: 'int8' });
    const before = (await init()).int8;
    try {
      const outs: Float32Array[] = [];
      for (const [mode, bound] of [['exact', tol], ['fast', fastTol]] as const) {
        await init({ int8: mode });
        const q8 = m.forward(x);
        const d = maxAbsDiff(q8.output.data, f32.output.data);
        expect(d).toBeGreaterThan(0); // the int8 path ran
        expect(d, mode).toBeLessThanOrEqual(bound);
        expect(maxAbsDiff(q8.hN.data, f32.hN.data), mode).toBeLessThanOrEqual(bound);
        outs.push(q8.output.data.slice());
      }
      expect(bits(outs[0])).not.toEqual(bits(outs[1]));
    } finally {
      await init({ int8: before });
      m.dispose();
    }
  });

  it('streaming steps, single rows and a reloaded file give the whole-batch int8 output bit for bit', () => {
    const m = new Sequential([layers.lstm({ inputSize: 20, hiddenSize: 48, numLayers: 2 }), layers.linear({ inFeatures: 48, outFeatures: 30 })], { seed: 9 });
    quantize(m, { weights: 'int8' });
    const T = 12, B = 4, F = 20, O = 30;
    const xs = randArray(T * B * F, 3);
    const whole = m.forward(tensor(xs, [T, B, F])).output.data;
    const s = m.stream({ batchSize: B });
    for (let t = 0; t < T; t++) expect(bits(s.step(xs.subarray(t * B * F, (t + 1) * B * F)))).toEqual(bits(whole.subarray(t * B * O, (t + 1) * B * O)));
    // row 2 alone
    const row = new Float32Array(T * F);
    for (let t = 0; t < T; t++) row.set(xs.subarray((t * B + 2) * F, (t * B + 3) * F), t * F);
    const alone = m.forward(tensor(row, [T, 1, F])).output.data;
    for (let t = 0; t < T; t++) expect(bits(alone.subarray(t * O, (t + 1) * O))).toEqual(bits(whole.subarray((t * B + 2) * O, (t * B + 3) * O)));
    // through the file
    const back = deserialize(serialize(m)).model;
    expect(back.quantized).toBe('int8');
    expect(bits(back.forward(tensor(xs, [T, B, F])).output.data)).toEqual(bits(whole));
    back.dispose();
    m.dispose();
  });

  it('the parameters become the dequantized weights: s·q with at most 255 levels per row', () => {
    const m = new LSTM({ inputSize: 10, hiddenSize: 16, seed: 2 });
    const before = m.getParameter('weight_hh_l0');
    quantize(m, { weights: 'int8' });
    const after = m.getParameter('weight_hh_l0');
    for (let n = 0; n < 64; n++) {
      const r = after.subarray(n * 16, (n + 1) * 16);
      const s = Math.max(...Array.from(before.subarray(n * 16, (n + 1) * 16), Math.abs)) / 127;
      for (let k = 0; k < 16; k++) {
        expect(Math.abs(r[k] - before[n * 16 + k])).toBeLessThanOrEqual(s / 2 + 1e-7);
        expect(Math.abs(r[k] / s - Math.round(r[k] / s))).toBeLessThan(1e-3);
      }
    }
    m.dispose();
  });

  it('files of int8 models carry version 2; other version/kind pairs are a FormatError', () => {
    const m = new GRU({ inputSize: 5, hiddenSize: 8, seed: 1 });
    expect(new DataView(serialize(m).buffer).getUint32(8, true)).toBe(1);
    quantize(m, { weights: 'int8' });
    const bytes = serialize(m);
    expect(new DataView(bytes.buffer).getUint32(8, true)).toBe(2);
    for (const v of [1, 3, 99]) {
      const b = bytes.slice();
      const view = new DataView(b.buffer);
      view.setUint32(8, v, true);
      view.setUint32(b.length - 4, crc32(b.subarray(0, b.length - 4)), true);
      expect(() => deserialize(b), `version ${v}`).toThrow(FormatError);
      expect(() => deserialize(b)).toThrow(/format version/);
    }
    m.dispose();
  });

  it('rejects bad options and a disposed model, changing nothing; a quantized model refuses training and writes', () => {
    const m = new LSTM({ inputSize: 4, hiddenSize: 8, seed: 1 });
    const w = m.getParameter('weight_ih_l0');
    expect(() => quantize(m, { weights: 'int4' } as never)).toThrow(ValueError);
    expect(() => quantize(m, { weights: 'int8', scale: 'tensor' } as never)).toThrow(/scale/);
    expect(() => quantize(m, undefined as never)).toThrow(ValueError);
    expect(() => quantize({} as never, { weights: 'int8' })).toThrow(ValueError);
    expect(m.quantized).toBe(null);
    expect(bits(m.getParameter('weight_ih_l0'))).toEqual(bits(w));
    expect(() => quantize(new Sequential([layers.embedding({ numEmbeddings: 4, embeddingDim: 3 })]), { weights: 'int8' })).toThrow(/recurrent or linear/);
    quantize(m, { weights: 'int8' });
    expect(quantize(m, { weights: 'int8' })).toBe(m); // again: unchanged
    const batch = { x: tensor(new Float32Array(2 * 1 * 4), [2, 1, 4]), y: tensor(new Float32Array(2 * 1 * 8), [2, 1, 8]) };
    expect(() => m.trainStep(batch, { loss: 'mse', optimizer: new Adam({ lr: 1e-3 }) })).toThrow(StateError);
    expect(() => m.setParameter('weight_ih_l0', w)).toThrow(StateError);
    expect(() => m.loadStateDict(m.stateDict())).toThrow(/int8/);
    m.dispose();
    expect(() => quantize(m, { weights: 'int8' })).toThrow(StateError);
  });
});
