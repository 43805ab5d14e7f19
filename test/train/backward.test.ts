// The public backward pass: forward(x, { keep: true }) then backward({ dOutput, dhN, dcN }) against
// central finite differences of the f64 reference (test/oracle/reference64.ts) for the loss
// L = Σ dOutput⊙output + Σ dhN⊙hN + Σ dcN⊙cN with arbitrary seeded upstream gradients: every
// parameter, dx, dh0 and dc0, with masks, both directions, stacked layers, batchFirst. Then the
// accumulation contract (until zeroGrad), the optimizer step, and rejected calls.
import { beforeAll, describe, expect, it } from 'vitest';
import { init, GRU, LSTM, RNN, Sequential, layers, tensor, Tensor, SGD, ShapeError, StateError, ValueError, DTypeError } from '../../src/index';
import { reference64 } from '../oracle/reference64';
import { config, dirs, outSize, randomInput, randomParams, type OracleInput, type Params, type RnnConfig } from '../oracle/spec';
import { randArray, relErr } from '../model/helpers';

beforeAll(async () => {
  await init();
});

type F64 = Record<string, Float64Array>;

/** L of the f64 reference for parameters p and inputs (all f64 so that ±1e-6 perturbations are exact). */
function refLoss(c: RnnConfig, p: F64, inp: { x: Float64Array; h0?: Float64Array; c0?: Float64Array; T: number; B: number; lengths?: Int32Array }, up: { dOut: Float32Array; dhN: Float32Array; dcN?: Float32Array }): number {
  const o = reference64(c, p as unknown as Params, inp as unknown as OracleInput);
  let s = 0;
  for (let i = 0; i < o.output.length; i++) s += up.dOut[i] * o.output[i];
  for (let i = 0; i < o.hN.length; i++) s += up.dhN[i] * o.hN[i];
  if (o.cN && up.dcN) for (let i = 0; i < o.cN.length; i++) s += up.dcN[i] * o.cN[i];
  return s;
}

/** Central differences of L w.r.t. every entry of v (in place, restored). */
function fd(v: Float64Array, L: () => number): Float64Array {
  const g = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const keep = v[i];
    v[i] = keep + 1e-6;
    const lp = L();
    v[i] = keep - 1e-6;
    const lm = L();
    v[i] = keep;
    g[i] = (lp - lm) / 2e-6;
  }
  return g;
}

/** (T, B, F) ↔ (B, T, F). */
function swapTB(a: Float32Array, T: number, B: number, F: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) out.set(a.subarray((t * B + b) * F, (t * B + b + 1) * F), (b * T + t) * F);
  return out;
}

const CASES: { name: string; c: RnnConfig; T: number; B: number; batchFirst?: boolean }[] = [
  { name: 'LSTM 2 layers bidirectional, peepholes', c: config({ mode: 'lstm', inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, peepholes: true }), T: 5, B: 3 },
  { name: 'GRU bidirectional (sum merge), Cho form', c: config({ mode: 'gru', inputSize: 2, hiddenSize: 5, bidirectional: true, mergeMode: 'sum', resetAfter: false }), T: 4, B: 3 },
  { name: 'RNN relu 2 layers, batchFirst', c: config({ mode: 'rnn', inputSize: 3, hiddenSize: 3, numLayers: 2, nonlinearity: 'relu' }), T: 6, B: 2, batchFirst: true },
];

describe('backward({ dOutput, dhN, dcN }) vs central differences of the f64 reference', () => {
  it.each(CASES)('$name: every parameter, dx, dh0, dc0 (masks, seeded upstream gradients)', ({ c, T, B, batchFirst }) => {
    const p = randomParams(c, 11);
    const inp = randomInput(c, T, B, 12, { lengths: true, h0: true, c0: true });
    const S = c.numLayers * dirs(c) * B * c.hiddenSize;
    const up = { dOut: randArray(T * B * outSize(c), 13), dhN: randArray(S, 14), dcN: c.mode === 'lstm' ? randArray(S, 15) : undefined };
    const opts = {
      inputSize: c.inputSize, hiddenSize: c.hiddenSize, numLayers: c.numLayers, bidirectional: c.bidirectional,
      mergeMode: c.mergeMode, batchFirst: batchFirst ?? false,
    };
    const m = c.mode === 'lstm' ? new LSTM({ ...opts, peepholes: c.peepholes }) : c.mode === 'gru' ? new GRU({ ...opts, resetAfter: c.resetAfter }) : new RNN({ ...opts, nonlinearity: c.nonlinearity });
    m.loadStateDict(p);
    const F = outSize(c);
    const x = batchFirst ? tensor(swapTB(inp.x, T, B, c.inputSize), [B, T, c.inputSize]) : tensor(inp.x, [T, B, c.inputSize]);
    m.zeroGrad();
    const fwd = m.forward(x, { keep: true, lengths: inp.lengths, h0: inp.h0, c0: inp.c0 });
    const ref = reference64(c, p, inp);
    const outTM = batchFirst ? swapTB(fwd.output.data, B, T, F) : fwd.output.data;
    expect(relErr(outTM, ref.output)).toBeLessThan(1e-5);
    const dOutput = batchFirst ? new Tensor(swapTB(up.dOut, T, B, F), [B, T, F]) : new Tensor(up.dOut, [T, B, F]);
    const g = m.backward({ dOutput, dhN: up.dhN, dcN: up.dcN });

    // f64 copies of everything the loss depends on
    const p64: F64 = Object.fromEntries(Object.entries(p).map(([k, v]) => [k, Float64Array.from(v)]));
    const in64 = { ...inp, x: Float64Array.from(inp.x), h0: Float64Array.from(inp.h0!), c0: inp.c0 ? Float64Array.from(inp.c0) : undefined };
    const L = (): number => refLoss(c, p64, in64, up);
    for (const name of Object.keys(p64)) expect(relErr(m.gradient(name), fd(p64[name], L)), name).toBeLessThan(1e-4);
    const dx = batchFirst ? swapTB(g.dx!.data, B, T, c.inputSize) : g.dx!.data;
    expect(relErr(dx, fd(in64.x, L)), 'dx').toBeLessThan(1e-4);
    expect(relErr(g.dh0!.data, fd(in64.h0, L)), 'dh0').toBeLessThan(1e-4);
    if (in64.c0) expect(relErr(g.dc0!.data, fd(in64.c0, L)), 'dc0').toBeLessThan(1e-4);
    else expect(g.dc0).toBeUndefined();
    m.dispose();
  });

  it('a whole Sequential (embedding → LSTM → linear → logSoftmax): dOutput through the log-softmax', () => {
    const V = 5, E = 3, H = 4, O = 3, T = 4, B = 2;
    const net = new Sequential([
      layers.embedding({ numEmbeddings: V, embeddingDim: E }),
      layers.lstm({ inputSize: E, hiddenSize: H }),
      layers.linear({ inFeatures: H, outFeatures: O }),
      layers.logSoftmax(),
    ], { seed: 3 });
    const ids = new Int32Array([0, 4, 2, 1, 3, 3, 1, 0]);
    const lengths = [4, 2];
    const dOut = randArray(T * B * O, 21);
    const dhN = randArray(B * H, 22);
    net.zeroGrad();
    net.forward(new Tensor(ids, [T, B]), { keep: true, lengths });
    const g = net.backward({ dOutput: dOut, dhN });
    expect(g.dx).toBeUndefined(); // token ids have no gradient
    // f64 composition: table lookup → reference64 → x·Wᵀ + b → log-softmax
    const c = config({ mode: 'lstm', inputSize: E, hiddenSize: H });
    const sd = net.stateDict();
    const p64: F64 = Object.fromEntries(Object.entries(sd).map(([k, v]) => [k, Float64Array.from(v)]));
    const L = (): number => {
      const x = new Float64Array(T * B * E);
      for (let i = 0; i < T * B; i++) for (let e = 0; e < E; e++) x[i * E + e] = p64['0.weight'][ids[i] * E + e];
      const rp: F64 = {};
      for (const k of Object.keys(p64)) if (k.startsWith('1.')) rp[k.slice(2)] = p64[k];
      const r = reference64(c, rp as unknown as Params, { x, T, B, lengths: Int32Array.from(lengths) } as unknown as OracleInput);
      let s = 0;
      for (let i = 0; i < T * B; i++) {
        const z = Array.from({ length: O }, (_, o) => {
          let v = p64['2.bias'][o];
          for (let h = 0; h < H; h++) v += p64['2.weight'][o * H + h] * r.output[i * H + h];
          return v;
        });
        const mx = Math.max(...z);
        const lse = mx + Math.log(z.reduce((a, v) => a + Math.exp(v - mx), 0));
        for (let o = 0; o < O; o++) s += dOut[i * O + o] * (z[o] - lse);
      }
      for (let i = 0; i < B * H; i++) s += dhN[i] * r.hN[i];
      return s;
    };
    for (const name of Object.keys(p64)) expect(relErr(net.gradient(name), fd(p64[name], L)), name).toBeLessThan(1e-4);
    net.dispose();
  });
});

describe('gradient accumulation, optimizer step, rejected calls', () => {
  const make = () => new LSTM({ inputSize: 2, hiddenSize: 3, seed: 5 });
  const x = tensor(randArray(4 * 2 * 2, 31), [4, 2, 2]);
  const dOutput = randArray(4 * 2 * 3, 32);

  it('gradients add up over backward calls until zeroGrad, and equal evaluate()\'s for the same upstream gradient', () => {
    const m = make();
    m.zeroGrad();
    m.forward(x, { keep: true });
    m.backward({ dOutput });
    const g1 = m.gradient('weight_hh_l0');
    m.forward(x, { keep: true });
    m.backward({ dOutput });
    const g2 = m.gradient('weight_hh_l0');
    for (let i = 0; i < g1.length; i++) expect(g2[i]).toBeCloseTo(2 * g1[i], 6);
    m.zeroGrad();
    expect(Array.from(m.gradient('weight_hh_l0')).every((v) => v === 0)).toBe(true);
    // MSE's gradient is 2(y − t)/n: seeding that as dOutput reproduces evaluate()'s gradient (to f32 rounding)
    const target = randArray(4 * 2 * 3, 33);
    const y = m.forward(x, { keep: true }).output.data;
    const seed = y.map((v, i) => Math.fround(Math.fround(2 * (v - target[i])) * Math.fround(1 / y.length)));
    m.backward({ dOutput: seed });
    const mine = m.gradient('weight_ih_l0');
    m.evaluate({ x, y: tensor(target, [4, 2, 3]) }, { loss: 'mse' });
    expect(relErr(mine, m.gradient('weight_ih_l0'))).toBeLessThan(1e-6);
    m.dispose();
  });

  it('step(optimizer) steps the optimizer on the accumulated gradients (SGD: p − lr·g) and returns the norm', () => {
    const m = make();
    m.zeroGrad();
    m.forward(x, { keep: true });
    m.backward({ dOutput });
    const before = m.getParameter('weight_ih_l0');
    const g = m.gradient('weight_ih_l0');
    const norm = m.step(new SGD({ lr: 0.5 }));
    const after = m.getParameter('weight_ih_l0');
    for (let i = 0; i < g.length; i++) expect(after[i]).toBeCloseTo(before[i] - 0.5 * g[i], 6);
    expect(norm).toBeGreaterThan(0);
    m.dispose();
  });

  it('rejects bad calls with typed errors and changes nothing', () => {
    const m = make();
    expect(() => m.backward({ dOutput })).toThrow(StateError); // no kept forward
    m.zeroGrad();
    m.forward(x, { keep: true });
    const g0 = m.gradient('weight_hh_l0');
    expect(() => m.backward({ dOutput: new Float32Array(5) })).toThrow(ShapeError);
    expect(() => m.backward({ dOutput: new Float64Array(24) as unknown as Float32Array })).toThrow(DTypeError);
    expect(() => m.backward({ dOutput: new Tensor(dOutput, [2, 4, 3]) })).toThrow(ShapeError);
    const nan = dOutput.slice();
    nan[3] = NaN;
    expect(() => m.backward({ dOutput: nan })).toThrow(ValueError);
    expect(() => m.backward({ dOutput, dcN: new Float32Array(7) })).toThrow(ShapeError);
    expect(() => m.backward({ dOutput, dhN: new Float32Array(5) })).toThrow(ShapeError);
    expect(() => m.forward(x, { training: true })).toThrow(ValueError);
    expect(() => m.forward(x, { keep: 1 as unknown as boolean })).toThrow(ValueError);
    expect(() => m.step(new SGD({ lr: 0.1 }), { clipNorm: -1 })).toThrow(ValueError);
    expect(Array.from(m.gradient('weight_hh_l0'))).toEqual(Array.from(g0)); // nothing accumulated
    m.backward({ dOutput }); // the kept forward survived the rejected calls
    expect(() => m.backward({ dOutput })).toThrow(StateError); // one backward per kept forward
    m.dispose();
  });
});
