// Optimizers and schedules against f64 transcriptions of torch.optim's update rules. Each step
// reads the gradient the model computes for a fixed batch (evaluate + gradient), applies the
// reference update to the parameters read before the step, and compares with what trainStep left
// in the arena. Several steps, so that momentum and moment buffers (and bias correction) count.
import { beforeAll, describe, expect, it } from 'vitest';
import { init, Sequential, layers, tensor, SGD, RMSProp, Adam, AdamW, schedules, type Optimizer } from '../../src/index';
import { randArray } from '../model/helpers';

beforeAll(async () => {
  await init();
});

/** A reference optimizer: updates p (f64) in place from gradient g at step t (0-based). */
type Ref = (p: Float64Array, g: Float64Array, t: number) => void;

function sgdRef(lr: (t: number) => number, momentum = 0, dampening = 0, nesterov = false, wd = 0): Ref {
  let buf: Float64Array | undefined;
  return (p, g, t) => {
    const d = g.map((v, i) => v + wd * p[i]);
    if (momentum > 0) {
      buf = t === 0 ? Float64Array.from(d) : buf!.map((b, i) => momentum * b + (1 - dampening) * d[i]);
      const step = nesterov ? d.map((v, i) => v + momentum * buf![i]) : buf;
      for (let i = 0; i < p.length; i++) p[i] -= lr(t) * step[i];
    } else for (let i = 0; i < p.length; i++) p[i] -= lr(t) * d[i];
  };
}

function rmspropRef(lr: number, alpha: number, eps: number, momentum = 0, wd = 0): Ref {
  let sq: Float64Array | undefined;
  let buf: Float64Array | undefined;
  return (p, g) => {
    const d = g.map((v, i) => v + wd * p[i]);
    sq = (sq ?? new Float64Array(p.length)).map((s, i) => alpha * s + (1 - alpha) * d[i] * d[i]);
    const step = d.map((v, i) => v / (Math.sqrt(sq![i]) + eps));
    if (momentum > 0) buf = (buf ?? new Float64Array(p.length)).map((b, i) => momentum * b + step[i]);
    for (let i = 0; i < p.length; i++) p[i] -= lr * (momentum > 0 ? buf![i] : step[i]);
  };
}

function adamRef(lr: (t: number) => number, b1: number, b2: number, eps: number, wd: number, decoupled: boolean): Ref {
  let m: Float64Array | undefined;
  let v: Float64Array | undefined;
  return (p, g, t) => {
    const a = lr(t);
    if (decoupled) for (let i = 0; i < p.length; i++) p[i] *= 1 - a * wd;
    const d = decoupled ? g : g.map((x, i) => x + wd * p[i]);
    m = (m ?? new Float64Array(p.length)).map((x, i) => b1 * x + (1 - b1) * d[i]);
    v = (v ?? new Float64Array(p.length)).map((x, i) => b2 * x + (1 - b2) * d[i] * d[i]);
    const bc1 = 1 - b1 ** (t + 1), bc2 = 1 - b2 ** (t + 1);
    for (let i = 0; i < p.length; i++) p[i] -= (a * (m[i] / bc1)) / (Math.sqrt(v[i] / bc2) + eps);
  };
}

const constant = (lr: number) => () => lr;

const CASES: { name: string; make: () => Optimizer; ref: () => Ref }[] = [
  { name: 'SGD', make: () => new SGD({ lr: 0.1 }), ref: () => sgdRef(constant(0.1)) },
  { name: 'SGD momentum + dampening + weight decay', make: () => new SGD({ lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 0.01 }), ref: () => sgdRef(constant(0.05), 0.9, 0.1, false, 0.01) },
  { name: 'SGD Nesterov', make: () => new SGD({ lr: 0.05, momentum: 0.8, nesterov: true }), ref: () => sgdRef(constant(0.05), 0.8, 0, true) },
  { name: 'RMSProp', make: () => new RMSProp({ lr: 0.01, alpha: 0.9, eps: 1e-6 }), ref: () => rmspropRef(0.01, 0.9, 1e-6) },
  { name: 'RMSProp momentum + weight decay', make: () => new RMSProp({ lr: 0.01, alpha: 0.95, eps: 1e-6, momentum: 0.5, weightDecay: 0.02 }), ref: () => rmspropRef(0.01, 0.95, 1e-6, 0.5, 0.02) },
  { name: 'Adam + L2', make: () => new Adam({ lr: 0.01, beta1: 0.8, beta2: 0.99, eps: 1e-7, weightDecay: 0.01 }), ref: () => adamRef(constant(0.01), 0.8, 0.99, 1e-7, 0.01, false) },
  { name: 'AdamW', make: () => new AdamW({ lr: 0.01, weightDecay: 0.1 }), ref: () => adamRef(constant(0.01), 0.9, 0.999, 1e-8, 0.1, true) },
  {
    name: 'SGD with a step schedule',
    make: () => new SGD({ lr: 0.1, schedule: schedules.step(2, 0.5) }),
    ref: () => sgdRef((t) => 0.1 * 0.5 ** Math.floor(t / 2)),
  },
  {
    name: 'Adam with warmup then cosine',
    make: () => new Adam({ lr: 0.02, schedule: schedules.warmup(2, schedules.cosine(3, 0.001)) }),
    ref: () => adamRef((t) => (t < 2 ? (0.02 * (t + 1)) / 2 : 0.001 + ((0.02 - 0.001) * (1 + Math.cos((Math.PI * Math.min(t - 2, 3)) / 3))) / 2), 0.9, 0.999, 1e-8, 0, false),
  },
];

describe('optimizers follow torch.optim update rules (f64 reference, 6 steps)', () => {
  it.each(CASES)('$name', ({ make, ref }) => {
    const T = 4, B = 3, I = 3, H = 5, O = 2;
    const m = new Sequential([layers.gru({ inputSize: I, hiddenSize: H }), layers.linear({ inFeatures: H, outFeatures: O })], { seed: 9 });
    const batch = { x: tensor(randArray(T * B * I, 1), [T, B, I]), y: tensor(randArray(T * B * O, 2), [T, B, O]) };
    const opt = make();
    const names = m.parameters().map((p) => p.name);
    const refs = new Map(names.map((n) => [n, ref()]));
    for (let t = 0; t < 6; t++) {
      m.evaluate(batch, { loss: 'mse' });
      const expected = new Map<string, Float64Array>();
      for (const n of names) {
        const p = Float64Array.from(m.getParameter(n));
        refs.get(n)!(p, Float64Array.from(m.gradient(n)), t);
        expected.set(n, p);
      }
      m.trainStep(batch, { loss: 'mse', optimizer: opt });
      for (const n of names) {
        const got = m.getParameter(n);
        const want = expected.get(n)!;
        let e = 0;
        for (let i = 0; i < want.length; i++) e = Math.max(e, Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i])));
        expect(e, `${n} after step ${t + 1}`).toBeLessThan(2e-6);
      }
    }
    expect(opt.step).toBe(6);
    m.dispose();
  });
});
