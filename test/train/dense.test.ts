// Training plumbing on non-recurrent models (linear, embedding) and the loss kernels: gradients
// against central finite differences of the loss computed by the library itself in f32 (so the
// step is large), and losses against f64 formulas.
import { beforeAll, describe, expect, it } from 'vitest';
import { init, Sequential, layers, tensor, Tensor, SGD, Adam, ValueError, ShapeError, DTypeError } from '../../src/index';
import { randArray, prng, relErr } from '../model/helpers';

beforeAll(async () => {
  await init();
});

/** Central differences of model.evaluate wrt every element of parameter `name`. */
function numericGrad(m: Sequential, name: string, loss: () => number, eps = 1e-2): Float32Array {
  const p = m.getParameter(name);
  const g = new Float32Array(p.length);
  for (let i = 0; i < p.length; i++) {
    const v = p[i];
    p[i] = v + eps;
    m.setParameter(name, p);
    const lp = loss();
    p[i] = v - eps;
    m.setParameter(name, p);
    const lm = loss();
    p[i] = v;
    m.setParameter(name, p);
    g[i] = (lp - lm) / (2 * eps);
  }
  return g;
}

describe('losses through a linear model', () => {
  const T = 3, B = 2, I = 4, O = 5;
  const x = tensor(randArray(T * B * I, 1), [T, B, I]);

  it('crossEntropy: mean over counted steps, ignore index −1, gradient matches finite differences', () => {
    const m = new Sequential([layers.linear({ inFeatures: I, outFeatures: O })], { seed: 2 });
    const y = new Tensor(new Int32Array([0, 4, -1, 2, 3, 1]), [T, B]);
    const L = m.evaluate({ x, y }, { loss: 'crossEntropy' });
    // f64 formula from the forward logits
    const logits = m.forward(x).output.data;
    let sum = 0, n = 0;
    for (let r = 0; r < T * B; r++) {
      const t = y.data[r];
      if (t < 0) continue;
      const row = Array.from(logits.subarray(r * O, (r + 1) * O));
      const mx = Math.max(...row);
      const lse = mx + Math.log(row.reduce((a, v) => a + Math.exp(v - mx), 0));
      sum += lse - row[t];
      n++;
    }
    expect(Math.abs(L - sum / n)).toBeLessThan(1e-6);
    for (const name of ['0.weight', '0.bias']) {
      m.evaluate({ x, y }, { loss: 'crossEntropy' });
      const g = m.gradient(name);
      const num = numericGrad(m, name, () => m.evaluate({ x, y }, { loss: 'crossEntropy' }));
      expect(relErr(g, num)).toBeLessThan(2e-3);
    }
    m.dispose();
  });

  it('mse and bceWithLogits match f64 formulas and finite differences; lengths mask steps', () => {
    for (const loss of ['mse', 'bceWithLogits'] as const) {
      const m = new Sequential([layers.linear({ inFeatures: I, outFeatures: O })], { seed: 3 });
      const r = prng(9);
      const yv = new Float32Array(T * B * O).map(() => (loss === 'mse' ? r() * 2 - 1 : r()));
      const y = tensor(yv, [T, B, O]);
      const lengths = [3, 1];
      const L = m.evaluate({ x, y, lengths }, { loss });
      const out = m.forward(x).output.data;
      let sum = 0, n = 0;
      for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) {
        if (t >= lengths[b]) continue;
        for (let o = 0; o < O; o++) {
          const i = (t * B + b) * O + o;
          const z = out[i], tt = yv[i];
          sum += loss === 'mse' ? (z - tt) ** 2 : Math.max(z, 0) - z * tt + Math.log1p(Math.exp(-Math.abs(z)));
          n++;
        }
      }
      expect(Math.abs(L - sum / n)).toBeLessThan(1e-6);
      m.evaluate({ x, y, lengths }, { loss });
      const g = m.gradient('0.weight');
      const num = numericGrad(m, '0.weight', () => m.evaluate({ x, y, lengths }, { loss }));
      expect(relErr(g, num)).toBeLessThan(2e-3);
      m.dispose();
    }
  });

  it('embedding gradient is a scatter-add over repeated ids', () => {
    const m = new Sequential([layers.embedding({ numEmbeddings: 4, embeddingDim: 3 }), layers.linear({ inFeatures: 3, outFeatures: 4 })], { seed: 4 });
    const ids = new Tensor(new Int32Array([1, 1, 2, 1]), [2, 2]);
    const y = new Tensor(new Int32Array([0, 1, 2, 3]), [2, 2]);
    const loss = () => m.evaluate({ x: ids, y }, { loss: 'crossEntropy' });
    loss();
    const g = m.gradient('0.weight');
    expect(Array.from(g.subarray(0, 3))).toEqual([0, 0, 0]); // id 0 unused
    expect(Array.from(g.subarray(9, 12))).toEqual([0, 0, 0]); // id 3 unused
    const num = numericGrad(m, '0.weight', loss);
    expect(relErr(g, num)).toBeLessThan(2e-3);
    m.dispose();
  });
});

describe('optimizer steps', () => {
  it('SGD: p ← p − lr·g exactly; the loss goes down; Adam too', () => {
    const I = 3, O = 2, T = 4, B = 2;
    const x = tensor(randArray(T * B * I, 5), [T, B, I]);
    const y = tensor(randArray(T * B * O, 6), [T, B, O]);
    const m = new Sequential([layers.linear({ inFeatures: I, outFeatures: O })], { seed: 5 });
    const w0 = m.getParameter('0.weight');
    m.evaluate({ x, y }, { loss: 'mse' });
    const g = m.gradient('0.weight');
    const sgd = new SGD({ lr: 0.1 });
    const r = m.trainStep({ x, y }, { loss: 'mse', optimizer: sgd });
    const w1 = m.getParameter('0.weight');
    for (let i = 0; i < w0.length; i++) expect(w1[i]).toBeCloseTo(w0[i] - 0.1 * g[i], 6);
    expect(r.gradNorm).toBeGreaterThan(0);
    let last = r.loss;
    for (let i = 0; i < 50; i++) last = m.trainStep({ x, y }, { loss: 'mse', optimizer: sgd }).loss;
    expect(last).toBeLessThan(r.loss * 0.8);
    const m2 = new Sequential([layers.linear({ inFeatures: I, outFeatures: O })], { seed: 5 });
    const adam = new Adam({ lr: 0.05 });
    const a0 = m2.trainStep({ x, y }, { loss: 'mse', optimizer: adam }).loss;
    let a1 = a0;
    for (let i = 0; i < 50; i++) a1 = m2.trainStep({ x, y }, { loss: 'mse', optimizer: adam }).loss;
    expect(a1).toBeLessThan(a0 * 0.8);
    m.dispose();
    m2.dispose();
  });

  it('clipNorm rescales to the norm and reports the pre-clip norm', () => {
    const m = new Sequential([layers.linear({ inFeatures: 3, outFeatures: 2 })], { seed: 7 });
    const x = tensor(randArray(6, 1, 10), [1, 2, 3]);
    const y = tensor(new Float32Array(4).fill(50), [1, 2, 2]);
    m.evaluate({ x, y }, { loss: 'mse' });
    const full = Math.hypot(...m.gradient('0.weight'), ...m.gradient('0.bias'));
    const r = m.trainStep({ x, y }, { loss: 'mse', optimizer: new SGD({ lr: 0 + 1e-9 }), clipNorm: 1 });
    expect(r.gradNorm).toBeCloseTo(full, 2);
    const after = Math.hypot(...m.gradient('0.weight'), ...m.gradient('0.bias'));
    expect(after).toBeCloseTo(1, 4);
    m.dispose();
  });

  it('rejects bad batches and options with typed errors and leaves parameters unchanged', () => {
    const m = new Sequential([layers.linear({ inFeatures: 3, outFeatures: 2 })], { seed: 8 });
    const x = tensor(randArray(6, 1), [1, 2, 3]);
    const before = m.getParameter('0.weight');
    const opt = new SGD({ lr: 0.1 });
    expect(() => m.trainStep({ x, y: new Tensor(new Int32Array([0, 2]), [1, 2]) }, { loss: 'crossEntropy', optimizer: opt })).toThrow(/class ids in \[0, 2\)/);
    expect(() => m.trainStep({ x, y: tensor(new Float32Array(3), [1, 3, 1]) }, { loss: 'mse', optimizer: opt })).toThrow(ShapeError);
    expect(() => m.trainStep({ x, y: tensor(new Float32Array(4), [1, 2, 2]) }, { loss: 'crossEntropy', optimizer: opt })).toThrow(DTypeError);
    expect(() => m.trainStep({ x, y: tensor(new Float32Array(4), [1, 2, 2]) }, { loss: 'hinge' as never, optimizer: opt })).toThrow(ValueError);
    expect(() => new SGD({ lr: -1 })).toThrow(/lr/);
    expect(m.getParameter('0.weight')).toEqual(before);
    m.dispose();
  });
});
