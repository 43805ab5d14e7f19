// Initialisers (PyTorch uniform, Glorot, orthogonal, LSTM forget bias) and dropout.
import { beforeAll, describe, expect, it } from 'vitest';
import { init, LSTM, GRU, Sequential, layers, tensor, SGD, ValueError } from '../../src/index';
import { randArray } from '../model/helpers';

beforeAll(async () => {
  await init();
});

describe('initialisers', () => {
  it('orthogonal recurrent weights: every gate block W·Wᵀ = I', () => {
    const H = 16;
    const m = new GRU({ inputSize: 3, hiddenSize: H, init: { weightHh: 'orthogonal' }, seed: 4 });
    const w = m.getParameter('weight_hh_l0');
    for (let g = 0; g < 3; g++) {
      let err = 0;
      for (let i = 0; i < H; i++) for (let j = 0; j < H; j++) {
        let d = 0;
        for (let k = 0; k < H; k++) d += w[(g * H + i) * H + k] * w[(g * H + j) * H + k];
        err = Math.max(err, Math.abs(d - (i === j ? 1 : 0)));
      }
      expect(err).toBeLessThan(1e-5);
    }
    m.dispose();
  });

  it('glorot bound sqrt(6/(fan_in+fan_out)), zero biases and the LSTM forget bias', () => {
    const H = 8, I = 5;
    const m = new LSTM({ inputSize: I, hiddenSize: H, init: { weightIh: 'glorot', bias: 'zeros', forgetBias: 1 } });
    const w = m.getParameter('weight_ih_l0');
    const bound = Math.sqrt(6 / (I + 4 * H));
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(bound * 0.8);
    const bi = m.getParameter('bias_ih_l0'), bh = m.getParameter('bias_hh_l0');
    expect(Array.from(bi)).toEqual([...Array(H).fill(0), ...Array(H).fill(1), ...Array(2 * H).fill(0)]);
    expect(Array.from(bh).every((v) => v === 0)).toBe(true);
    expect(() => new GRU({ inputSize: 1, hiddenSize: 2, init: { forgetBias: 1 } })).toThrow(/forgetBias only for lstm/);
    expect(() => new LSTM({ inputSize: 1, hiddenSize: 2, init: { weightHh: 'he' as never } })).toThrow(ValueError);
    m.dispose();
  });
});

describe('dropout', () => {
  it('drops about p of the features in training steps, scales the rest, and is the identity in inference and evaluate', () => {
    const F = 200, T = 5, B = 4;
    const m = new Sequential([layers.dropout({ p: 0.3 }), layers.linear({ inFeatures: F, outFeatures: 1, bias: false })], { seed: 1, inputSize: F });
    m.setParameter('1.weight', new Float32Array(F).fill(1));
    const x = tensor(new Float32Array(T * B * F).fill(1), [T, B, F]);
    // inference: identity → every output is F
    expect(Array.from(m.forward(x).output.data).every((v) => Math.abs(v - F) < 1e-3)).toBe(true);
    // training: d loss/d w_j for mse against 0 is mean over rows of 2·out·mask_j; with all-ones
    // inputs the gradient's zero pattern is exactly the dropped positions summed over rows, so check
    // the mean output instead: E[out] = F and kept values are 1/(1−p)
    const y = tensor(new Float32Array(T * B), [T, B, 1]);
    // evaluate: dropout off, out = F exactly
    expect(m.evaluate({ x, y }, { loss: 'mse' })).toBeCloseTo(F * F, 0);
    // training steps (a learning rate too small to move any weight): a new mask each step
    const opt = new SGD({ lr: 1e-30 });
    const l1 = m.trainStep({ x, y }, { loss: 'mse', optimizer: opt }).loss;
    const l2 = m.trainStep({ x, y }, { loss: 'mse', optimizer: opt }).loss;
    expect(l1).not.toBe(l2);
    // mean of out² ≈ F²·(1 + p/((1−p)F)) ≈ F² within sampling noise
    expect(Math.sqrt(l1) / F).toBeGreaterThan(0.9);
    expect(Math.sqrt(l1) / F).toBeLessThan(1.1);
    m.dispose();
  });

  it('is reproducible from the model seed and rejects p outside [0, 1)', () => {
    const run = () => {
      const m = new Sequential([layers.dropout({ p: 0.5 }), layers.linear({ inFeatures: 6, outFeatures: 2 })], { seed: 7, inputSize: 6 });
      const x = tensor(randArray(3 * 2 * 6, 1), [3, 2, 6]);
      const y = tensor(randArray(3 * 2 * 2, 2), [3, 2, 2]);
      const opt = new SGD({ lr: 0.1 });
      for (let i = 0; i < 5; i++) m.trainStep({ x, y }, { loss: 'mse', optimizer: opt });
      const w = m.getParameter('1.weight');
      m.dispose();
      return Array.from(w);
    };
    expect(run()).toEqual(run());
    expect(() => layers.dropout({ p: 1 })).toThrow(/dropout p in \[0, 1\)/);
    expect(() => new LSTM({ inputSize: 2, hiddenSize: 2, dropout: -0.1 })).toThrow(/dropout in \[0, 1\)/);
  });
});
