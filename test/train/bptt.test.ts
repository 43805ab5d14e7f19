// Recurrent training end to end: full-model gradients against central finite differences (a
// stacked, bidirectional model with masks and h0/c0), truncated BPTT semantics, bit-identical
// reproducibility, and a heap that does not grow across 1,000 steps of one shape.
import { beforeAll, describe, expect, it } from 'vitest';
import { init, Sequential, layers, tensor, Tensor, Adam, SGD, type Layer } from '../../src/index';
import { runtime } from '../../src/wasm/load';
import { randArray, relErr } from '../model/helpers';

beforeAll(async () => {
  await init();
});

type Cell = 'rnn' | 'lstm' | 'gru' | 'gru-cho' | 'lstm-peep-clip';
function rec(c: Cell, inputSize: number, hiddenSize: number, extra: Record<string, unknown> = {}): Layer {
  const o = { inputSize, hiddenSize, ...extra };
  switch (c) {
    case 'rnn': return layers.rnn(o);
    case 'lstm': return layers.lstm(o);
    case 'lstm-peep-clip': return layers.lstm({ ...o, peepholes: true, cellClip: 1.5 });
    case 'gru': return layers.gru(o);
    case 'gru-cho': return layers.gru({ ...o, resetAfter: false });
  }
}

describe.each(['rnn', 'lstm', 'lstm-peep-clip', 'gru', 'gru-cho'] as Cell[])('%s: full-model gradients vs finite differences', (c) => {
  it('2 layers, bidirectional, masks, h0/c0', () => {
    const T = 5, B = 3, I = 3, H = 4, O = 3;
    const m = new Sequential([rec(c, I, H, { numLayers: 2, bidirectional: true }), layers.linear({ inFeatures: 2 * H, outFeatures: O })], { seed: 21 });
    // weights large enough that gradients are not tiny; the clip bites at a few gates, whose
    // kinks an f32 central difference must not straddle (the kernel test covers clipping in f64)
    for (const p of m.parameters()) m.setParameter(p.name, randArray(p.shape.reduce((a, b) => a * b, 1), p.name.length * 7 + 1, 0.6));
    const x = tensor(randArray(T * B * I, 2), [T, B, I]);
    const y = tensor(randArray(T * B * O, 3), [T, B, O]);
    const lengths = [5, 2, 4];
    const h0 = randArray(4 * B * H, 4, 0.5);
    const c0 = c.startsWith('lstm') ? randArray(4 * B * H, 5, 0.5) : undefined;
    const batch = { x, y, lengths, h0, c0 };
    const loss = () => m.evaluate(batch, { loss: 'mse' });
    loss();
    const eps = 1e-2;
    for (const p of m.parameters()) {
      loss();
      const g = m.gradient(p.name);
      const v = m.getParameter(p.name);
      const num = new Float32Array(v.length);
      for (let i = 0; i < v.length; i++) {
        const keep = v[i];
        v[i] = keep + eps; m.setParameter(p.name, v); const lp = loss();
        v[i] = keep - eps; m.setParameter(p.name, v); const lm = loss();
        v[i] = keep; m.setParameter(p.name, v);
        num[i] = (lp - lm) / (2 * eps);
      }
      expect(relErr(g, num), p.name).toBeLessThan(c === 'lstm-peep-clip' ? 2e-2 : 5e-3);
    }
    // gradients w.r.t. the initial states
    loss();
    const sg = m.initialStateGradients();
    for (const [name, s, gs] of [['h0', h0, sg.dh0.data], ['c0', c0, sg.dc0?.data]] as const) {
      if (!s) continue;
      const num = new Float32Array(s.length);
      for (let i = 0; i < s.length; i++) {
        const keep = s[i];
        s[i] = keep + eps; const lp = loss();
        s[i] = keep - eps; const lm = loss();
        s[i] = keep;
        num[i] = (lp - lm) / (2 * eps);
      }
      expect(relErr(gs!, num), name).toBeLessThan(c === 'lstm-peep-clip' ? 2e-2 : 5e-3);
    }
    m.dispose();
  });
});

describe('truncated BPTT', () => {
  const T = 12, B = 2, I = 3, H = 5, O = 2;
  const x = tensor(randArray(T * B * I, 7), [T, B, I]);
  const y = tensor(randArray(T * B * O, 8), [T, B, O]);
  const make = () => new Sequential([layers.lstm({ inputSize: I, hiddenSize: H }), layers.linear({ inFeatures: H, outFeatures: O })], { seed: 5 });

  it('tbptt ≥ T equals full BPTT; tbptt = k makes ceil(T/k) updates carrying the state', () => {
    const a = make(), b = make();
    const ra = a.trainStep({ x, y }, { loss: 'mse', optimizer: new SGD({ lr: 0.1 }) });
    const rb = b.trainStep({ x, y }, { loss: 'mse', optimizer: new SGD({ lr: 0.1 }), tbptt: 12 });
    expect(rb.loss).toBe(ra.loss);
    expect(b.getParameter('0.weight_hh_l0')).toEqual(a.getParameter('0.weight_hh_l0'));
    // k = 4: three updates; the loss reported is the mean over all steps, the first chunk's loss
    // equals the loss of a model trained on the first 4 steps alone
    const c = make();
    const opt = new SGD({ lr: 0.1 });
    c.trainStep({ x, y }, { loss: 'mse', optimizer: opt, tbptt: 4 });
    expect(opt.step).toBe(3);
    chunkedLossEqualsFullLoss();
    a.dispose(); b.dispose(); c.dispose();
  });

  function chunkedLossEqualsFullLoss() {
    // the chunked forward carries the state: with a learning rate too small to change any float32
    // weight, the mean loss over the three chunks equals the full-sequence loss
    const m = make();
    const l = m.trainStep({ x, y }, { loss: 'mse', optimizer: new SGD({ lr: 1e-30 }), tbptt: 4 }).loss;
    const ref = m.evaluate({ x, y }, { loss: 'mse' });
    expect(Math.abs(l - ref)).toBeLessThan(1e-6);
    m.dispose();
  }
});

describe('reproducibility and memory', () => {
  it('same seed ⇒ bit-identical recurrent training (with dropout)', () => {
    const run = () => {
      const m = new Sequential([layers.gru({ inputSize: 4, hiddenSize: 8, numLayers: 2, dropout: 0.3 }), layers.linear({ inFeatures: 8, outFeatures: 3 })], { seed: 3 });
      const x = tensor(randArray(6 * 2 * 4, 1), [6, 2, 4]);
      const y = new Tensor(Int32Array.from({ length: 12 }, (_, i) => i % 3), [6, 2]);
      const opt = new Adam({ lr: 0.01 });
      for (let i = 0; i < 20; i++) m.trainStep({ x, y, lengths: [6, 3] }, { loss: 'crossEntropy', optimizer: opt, clipNorm: 1 });
      const w = m.getParameter('0.weight_hh_l1');
      m.dispose();
      return Array.from(new Uint32Array(w.buffer));
    };
    expect(run()).toEqual(run());
  });

  it('the heap does not grow across 1,000 training steps of one shape', () => {
    const heap = runtime().heap;
    const m = new Sequential([layers.lstm({ inputSize: 4, hiddenSize: 16 }), layers.linear({ inFeatures: 16, outFeatures: 4 })], { seed: 1 });
    const x = tensor(randArray(8 * 4 * 4, 1), [8, 4, 4]);
    const y = new Tensor(Int32Array.from({ length: 32 }, (_, i) => i % 4), [8, 4]);
    const opt = new Adam({ lr: 1e-3 });
    m.trainStep({ x, y }, { loss: 'crossEntropy', optimizer: opt });
    const bytes = heap.byteLength, live = heap.liveElements;
    for (let i = 0; i < 1000; i++) m.trainStep({ x, y }, { loss: 'crossEntropy', optimizer: opt });
    expect(heap.byteLength).toBe(bytes);
    expect(heap.liveElements).toBe(live);
    m.dispose();
  });
});
