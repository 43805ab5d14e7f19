// Self-check of the oracle harness, without the library: ONNX Runtime, tfjs-layers and the f64
// reference take the same PyTorch-layout weights and must agree wherever they overlap. This is what
// proves the gate-order and layout conversions in onnx.ts and tfjs.ts before they judge the library.
import { afterAll, describe, expect, it } from 'vitest';
import { runOnnx, reorderGates } from './onnx';
import { runTfjs, tfjsUnsupported, swapTB } from './tfjs';
import { reference64 } from './reference64';
import {
  caseName, compare, config, maxAbsDiff, randomInput, randomParams, row,
  type OracleInput, type OracleOutput, type RnnConfig, type Row,
} from './spec';

const TOL = 1e-5;
const TIMEOUT = 30_000; // per test; vitest.config's root testTimeout does not reach the projects
const rows: Row[] = [];
afterAll(() => console.table(rows));

interface Case {
  c: RnnConfig;
  T: number;
  B: number;
  inputs?: { lengths?: boolean | number[]; h0?: boolean; c0?: boolean };
}

/** Compares every available pair and records it; returns the largest difference. */
async function crossCheck({ c, T, B, inputs }: Case, seed: number): Promise<number> {
  const p = randomParams(c, seed);
  const inp = randomInput(c, T, B, seed + 1, inputs);
  const name = caseName(c, T, B, inp);
  const ref = reference64(c, p, inp);
  const oracles: [string, OracleOutput][] = [['ort', await runOnnx(c, p, inp)]];
  if (!tfjsUnsupported(c)) oracles.push(['tfjs', await runTfjs(c, p, inp)]);
  let worst = 0;
  const record = (pair: string, a: OracleOutput, b: OracleOutput) => {
    const d = compare(c, inp, a, b);
    rows.push(row(name, pair, d));
    worst = Math.max(worst, d.output, d.hN, d.cN);
  };
  for (const [n, o] of oracles) record(`${n}~f64`, o, ref);
  if (oracles.length === 2) record('ort~tfjs', oracles[0][1], oracles[1][1]);
  return worst;
}

const lstm = (o: Partial<RnnConfig> = {}) => config({ mode: 'lstm', inputSize: 5, hiddenSize: 7, ...o });
const gru = (o: Partial<RnnConfig> = {}) => config({ mode: 'gru', inputSize: 5, hiddenSize: 7, ...o });
const rnn = (o: Partial<RnnConfig> = {}) => config({ mode: 'rnn', inputSize: 5, hiddenSize: 7, ...o });
const ALL = { lengths: [6, 3, 1], h0: true, c0: true };

const CASES: [string, Case][] = [
  // overlap of all three: LSTM without peepholes, GRU Cho form, SimpleRNN, bidirectional merges
  ['lstm uni', { c: lstm(), T: 6, B: 3 }],
  ['lstm uni lens+h0+c0', { c: lstm(), T: 6, B: 3, inputs: ALL }],
  ['lstm bi L2 lens+states', { c: lstm({ bidirectional: true, numLayers: 2 }), T: 6, B: 3, inputs: ALL }],
  ['lstm no bias', { c: lstm({ bias: false, bidirectional: true }), T: 5, B: 2, inputs: { h0: true } }],
  ['gru cho uni', { c: gru({ resetAfter: false }), T: 6, B: 3 }],
  ['gru cho bi L2 lens+h0', { c: gru({ resetAfter: false, bidirectional: true, numLayers: 2 }), T: 6, B: 3, inputs: ALL }],
  ['rnn tanh uni', { c: rnn(), T: 6, B: 3 }],
  ['rnn tanh bi L2 lens+h0', { c: rnn({ bidirectional: true, numLayers: 2 }), T: 6, B: 3, inputs: ALL }],
  ['rnn relu bi lens', { c: rnn({ nonlinearity: 'relu', bidirectional: true }), T: 6, B: 3, inputs: ALL }],
  ['merge sum L2', { c: lstm({ bidirectional: true, numLayers: 2, mergeMode: 'sum' }), T: 6, B: 3, inputs: ALL }],
  ['merge mul L2', { c: gru({ resetAfter: false, bidirectional: true, numLayers: 2, mergeMode: 'mul' }), T: 6, B: 3, inputs: ALL }],
  ['merge ave L2', { c: rnn({ bidirectional: true, numLayers: 2, mergeMode: 'ave' }), T: 6, B: 3, inputs: ALL }],
  // ORT and the f64 reference only (tfjs cannot represent these)
  ['gru reset-after bi L2', { c: gru({ bidirectional: true, numLayers: 2 }), T: 6, B: 3, inputs: ALL }],
  ['lstm peepholes bi', { c: lstm({ peepholes: true, bidirectional: true }), T: 6, B: 3, inputs: ALL }],
  ['lstm clip', { c: lstm({ cellClip: 0.3, bidirectional: true }), T: 6, B: 3, inputs: ALL }],
  ['lstm peepholes+clip L2', { c: lstm({ peepholes: true, cellClip: 0.5, numLayers: 2 }), T: 6, B: 3, inputs: ALL }],
  // one medium case, every layout conversion at a size where indexing slips would show
  ['lstm medium bi L2', { c: lstm({ inputSize: 33, hiddenSize: 64, bidirectional: true, numLayers: 2 }), T: 40, B: 4, inputs: { lengths: true, h0: true, c0: true } }],
  ['gru cho medium', { c: gru({ inputSize: 17, hiddenSize: 48, resetAfter: false, bidirectional: true }), T: 30, B: 3, inputs: { lengths: true, h0: true } }],
];

describe('oracle harness self-check (ORT ~ tfjs ~ f64 reference)', () => {
  it.each(CASES)('%s', async (_n, k) => {
    const worst = await crossCheck(k, 1234);
    expect(worst).toBeLessThanOrEqual(TOL);
  }, TIMEOUT);

  it('the comparison can fail: a gate-order mistake is seen by every oracle', async () => {
    // swap PyTorch's f and g blocks of one LSTM: each oracle must move far from the reference
    const c = lstm({ bidirectional: true });
    const p = randomParams(c, 7);
    const inp = randomInput(c, 6, 3, 8, ALL);
    const ref = reference64(c, p, inp);
    const H = c.hiddenSize;
    const q = { ...p, weight_ih_l0: reorderGates(p.weight_ih_l0, 4, H, [0, 2, 1, 3]) };
    for (const o of [await runOnnx(c, q, inp), await runTfjs(c, q, inp)]) {
      expect(compare(c, inp, o, ref).output).toBeGreaterThan(1e-2);
    }
  });

  it('the options the cases rely on change the result (so agreeing on them means something)', () => {
    const inp = (c: RnnConfig) => randomInput(c, 6, 3, 5, ALL);
    const differ = (a: RnnConfig, b: RnnConfig) => {
      const p = randomParams(a, 9); // the same values for both: b only flips a flag
      return compare(a, inp(a), reference64(a, p, inp(a)), reference64(b, p, inp(a))).output;
    };
    // peepholes vs the same weights without them; clip 0.3 vs none; reset-after vs Cho form
    expect(differ(lstm({ peepholes: true }), lstm({ peepholes: false }))).toBeGreaterThan(1e-3);
    expect(differ(lstm({ cellClip: 0.3 }), lstm())).toBeGreaterThan(1e-3);
    expect(differ(gru(), gru({ resetAfter: false }))).toBeGreaterThan(1e-3);
    expect(differ(rnn({ nonlinearity: 'relu' }), rnn())).toBeGreaterThan(1e-3);
  });

  it('ORT gives PyTorch zeros at padded steps; tfjs does not (so those steps are skipped for it)', async () => {
    const c = lstm({ bidirectional: true });
    const p = randomParams(c, 3);
    const inp: OracleInput = randomInput(c, 5, 2, 4, { lengths: [5, 2] });
    const ort = await runOnnx(c, p, inp);
    const tfo = await runTfjs(c, p, inp);
    const F = 2 * c.hiddenSize;
    const padded = (o: OracleOutput) => Array.from(o.output).slice((2 * 2 + 1) * F, (2 * 2 + 2) * F); // t=2, b=1
    expect(padded(ort).every((v) => v === 0)).toBe(true);
    expect(padded(tfo).some((v) => v !== 0)).toBe(true);
  });

  it('swapTB round-trips', () => {
    const a = Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => i);
    expect(maxAbsDiff(swapTB(swapTB(a, 2, 3, 4), 3, 2, 4), a)).toBe(0);
  });
});
