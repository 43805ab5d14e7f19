// The library's forward pass against oracles nobody here wrote: ONNX Runtime's RNN/LSTM/GRU
// operators (every feature: peepholes, clip, both GRU forms, sequence_lens, initial states) and
// tfjs-layers (what it can represent: no peepholes/clip, GRU Cho form; masks for lengths). Both
// oracles were first proven against each other and the f64 reference (oracle-harness.test.ts).
// Each case uses the same PyTorch-layout weights for every side, set by name via setParameter.
// Tolerance: max abs difference ≤ 1e-5 on outputs, hN and cN; the observed values are printed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, LSTM, GRU, RNN, tensor } from '../../src/index';
import { runOnnx } from './onnx';
import { runTfjs, tfjsUnsupported } from './tfjs';
import { reference64 } from './reference64';
import {
  caseName, compare, config, dirs, outSize, paramShapes, randomInput, randomParams, row,
  type OracleInput, type OracleOutput, type Params, type RnnConfig, type Row,
} from './spec';

const TOL = 1e-5;
/** f64 reference too when the case is this small (multiply-adds per forward). */
const REF_BUDGET = 2e6;
/** tfjs (a JS loop of small kernels per step) only up to this many multiply-adds … */
const TFJS_BUDGET = 4e7;
/** … and, for GRU, this many recurrent-kernel elements sliced: tfjs's GRU cell splits the
 *  (H, 3H) recurrent kernel by columns at every step, ≈ 0.75 µs per element on the cpu backend
 *  (GRU H512 T24: 12 s; its LSTM at the same size: 0.25 s). */
const TFJS_GRU_SLICE_BUDGET = 1.2e6;
const TIMEOUT = 60_000; // per test; vitest.config's root testTimeout does not reach the projects

const rows: Row[] = [];
afterAll(() => console.table(rows));

/** Runs the library with PyTorch-layout parameters (checking its parameter table against ours). */
function runLibrary(c: RnnConfig, p: Params, inp: OracleInput): OracleOutput {
  const base = {
    inputSize: c.inputSize,
    hiddenSize: c.hiddenSize,
    numLayers: c.numLayers,
    bidirectional: c.bidirectional,
    mergeMode: c.mergeMode,
    batchFirst: false,
    bias: c.bias,
  };
  const m =
    c.mode === 'rnn'
      ? new RNN({ ...base, nonlinearity: c.nonlinearity })
      : c.mode === 'lstm'
        ? new LSTM({ ...base, peepholes: c.peepholes, cellClip: c.cellClip })
        : new GRU({ ...base, resetAfter: c.resetAfter });
  try {
    const mine = paramShapes(c).map((s) => `${s.name} [${s.shape.join(',')}]`).sort();
    const theirs = m.parameters().map((s) => `${s.name} [${s.shape.join(',')}]`).sort();
    expect(theirs).toEqual(mine);
    for (const [name, v] of Object.entries(p)) m.setParameter(name, v);
    const { T, B } = inp;
    const r = m.forward(tensor(inp.x, [T, B, c.inputSize]), { lengths: inp.lengths, h0: inp.h0, c0: inp.c0 });
    const S = [c.numLayers * dirs(c), B, c.hiddenSize];
    expect(r.output.shape).toEqual([T, B, outSize(c)]);
    expect(r.hN.shape).toEqual(S);
    if (c.mode === 'lstm') expect(r.cN?.shape).toEqual(S);
    return { output: r.output.data, hN: r.hN.data, cN: r.cN?.data, paddedOutputsZero: true };
  } finally {
    m.dispose();
  }
}

/** Multiply-adds of one forward pass (for choosing which oracles to run). */
function cost(c: RnnConfig, T: number, B: number): number {
  const G = { rnn: 1, lstm: 4, gru: 3 }[c.mode];
  const H = c.hiddenSize;
  let n = 0;
  for (let l = 0; l < c.numLayers; l++) n += dirs(c) * T * B * G * H * ((l === 0 ? c.inputSize : outSize(c)) + H);
  return n;
}

interface Case {
  c: RnnConfig;
  T: number;
  B: number;
  inputs?: { lengths?: boolean | number[]; h0?: boolean; c0?: boolean };
}

async function check({ c, T, B, inputs }: Case, seed: number, tag = ''): Promise<void> {
  const p = randomParams(c, seed);
  const inp = randomInput(c, T, B, seed + 1, inputs);
  const name = tag + caseName(c, T, B, inp);
  const lib = runLibrary(c, p, inp);
  const diffs: [string, number][] = [];
  const against = (oracle: string, o: OracleOutput) => {
    const d = compare(c, inp, lib, o);
    rows.push(row(name, `lib~${oracle}`, d));
    diffs.push([oracle, Math.max(d.output, d.hN, d.cN)]);
  };
  against('ort', await runOnnx(c, p, inp));
  const n = cost(c, T, B);
  const sliced = c.mode === 'gru' ? T * dirs(c) * c.numLayers * 3 * c.hiddenSize ** 2 : 0;
  if (!tfjsUnsupported(c) && n <= TFJS_BUDGET && sliced <= TFJS_GRU_SLICE_BUDGET) {
    against('tfjs', await runTfjs(c, p, inp));
  }
  if (n <= REF_BUDGET) against('f64', reference64(c, p, inp));
  for (const [oracle, d] of diffs) expect(d, `${name} vs ${oracle}`).toBeLessThanOrEqual(TOL);
}

// ---- the case table -------------------------------------------------------------------------

type Kind = [string, Partial<RnnConfig> & Pick<RnnConfig, 'mode'>];
const KINDS: Kind[] = [
  ['rnn tanh', { mode: 'rnn', nonlinearity: 'tanh' }],
  ['rnn relu', { mode: 'rnn', nonlinearity: 'relu' }],
  ['lstm', { mode: 'lstm' }],
  ['lstm peepholes', { mode: 'lstm', peepholes: true }],
  ['lstm clip', { mode: 'lstm', cellClip: 0.4 }],
  ['lstm peepholes+clip', { mode: 'lstm', peepholes: true, cellClip: 0.7 }],
  ['gru reset-after (lbr=1)', { mode: 'gru', resetAfter: true }],
  ['gru Cho (lbr=0)', { mode: 'gru', resetAfter: false }],
];
const STATES = { h0: true, c0: true };

/** Per kind: uni/bi × 1/2 layers × with/without lengths and initial states, tiny to medium. */
function shapes(k: Kind[1]): [string, Case][] {
  const cfg = (o: Partial<RnnConfig>) => config({ inputSize: 5, hiddenSize: 7, ...k, ...o });
  return [
    ['tiny uni', { c: cfg({ inputSize: 1, hiddenSize: 1 }), T: 1, B: 1 }],
    ['uni L1', { c: cfg({}), T: 6, B: 3 }],
    ['uni L1 lens+states', { c: cfg({}), T: 6, B: 3, inputs: { lengths: [6, 3, 1], ...STATES } }],
    ['uni L2 lens+states', { c: cfg({ numLayers: 2 }), T: 7, B: 4, inputs: { lengths: [7, 1, 4, 6], ...STATES } }],
    ['bi L1', { c: cfg({ bidirectional: true }), T: 6, B: 3 }],
    ['bi L1 lens+states', { c: cfg({ bidirectional: true }), T: 6, B: 3, inputs: { lengths: [2, 6, 5], ...STATES } }],
    ['bi L2 lens+states', { c: cfg({ bidirectional: true, numLayers: 2 }), T: 9, B: 5, inputs: { lengths: true, ...STATES } }],
    ['bi L2 medium lens', { c: cfg({ inputSize: 24, hiddenSize: 40, bidirectional: true, numLayers: 2 }), T: 33, B: 4, inputs: { lengths: true, h0: true } }],
    ['uni L1 H 17 (odd tails)', { c: cfg({ inputSize: 13, hiddenSize: 17 }), T: 12, B: 5, inputs: { lengths: true, ...STATES } }],
  ];
}

const MERGES: [string, Case][] = (['sum', 'mul', 'ave'] as const).flatMap((mergeMode) => [
  [`lstm bi L2 merge ${mergeMode}`, { c: config({ mode: 'lstm', inputSize: 6, hiddenSize: 8, bidirectional: true, numLayers: 2, mergeMode }), T: 8, B: 3, inputs: { lengths: true, ...STATES } }],
  [`gru Cho bi L2 merge ${mergeMode}`, { c: config({ mode: 'gru', resetAfter: false, inputSize: 6, hiddenSize: 8, bidirectional: true, numLayers: 2, mergeMode }), T: 8, B: 3, inputs: { lengths: true, h0: true } }],
] as [string, Case][]);

const OTHER: [string, Case][] = [
  ['lstm no bias bi', { c: config({ mode: 'lstm', inputSize: 5, hiddenSize: 7, bias: false, bidirectional: true }), T: 6, B: 3, inputs: { lengths: true, ...STATES } }],
  ['gru reset-after no bias', { c: config({ mode: 'gru', inputSize: 5, hiddenSize: 7, bias: false }), T: 6, B: 3, inputs: { h0: true } }],
];

// A few large ones: hidden up to 512, T up to 256 (ORT; tfjs where it stays cheap).
const BIG: [string, Case][] = [
  ['lstm H512 T256', { c: config({ mode: 'lstm', inputSize: 64, hiddenSize: 512 }), T: 256, B: 2, inputs: { lengths: [256, 190], ...STATES } }],
  ['gru reset-after bi H256 T128', { c: config({ mode: 'gru', inputSize: 48, hiddenSize: 256, bidirectional: true }), T: 128, B: 3, inputs: { lengths: true, h0: true } }],
  ['rnn tanh H512 T256', { c: config({ mode: 'rnn', inputSize: 32, hiddenSize: 512 }), T: 256, B: 3, inputs: { lengths: true, h0: true } }],
  ['lstm peepholes+clip bi L2 H128', { c: config({ mode: 'lstm', inputSize: 40, hiddenSize: 128, bidirectional: true, numLayers: 2, peepholes: true, cellClip: 1.5 }), T: 64, B: 4, inputs: { lengths: true, ...STATES } }],
  ['lstm bi L2 H256 T128', { c: config({ mode: 'lstm', inputSize: 32, hiddenSize: 256, bidirectional: true, numLayers: 2 }), T: 128, B: 2, inputs: { lengths: true, ...STATES } }],
  ['gru Cho H512 T100 B8', { c: config({ mode: 'gru', resetAfter: false, inputSize: 16, hiddenSize: 512 }), T: 100, B: 8, inputs: { lengths: true, h0: true } }],
  ['lstm H512 T16 (tfjs too)', { c: config({ mode: 'lstm', inputSize: 16, hiddenSize: 512 }), T: 16, B: 2, inputs: { lengths: true, ...STATES } }],
  ['lstm bi L2 H96 T48 (tfjs too)', { c: config({ mode: 'lstm', inputSize: 20, hiddenSize: 96, bidirectional: true, numLayers: 2 }), T: 48, B: 3, inputs: { lengths: true, ...STATES } }],
  ['gru Cho bi H64 T24 (tfjs too)', { c: config({ mode: 'gru', resetAfter: false, inputSize: 20, hiddenSize: 64, bidirectional: true }), T: 24, B: 3, inputs: { lengths: true, h0: true } }],
];

beforeAll(async () => {
  await init();
}, TIMEOUT);

describe('forward vs ONNX Runtime / tfjs-layers / f64 reference', () => {
  describe.each(KINDS)('%s', (_k, kind) => {
    it.each(shapes(kind))('%s', async (_n, k) => check(k, 101), TIMEOUT);
  });
  it.each(MERGES)('%s', async (_n, k) => check(k, 202), TIMEOUT);
  it.each(OTHER)('%s', async (_n, k) => check(k, 303), TIMEOUT);
  it.each(BIG)('%s', async (_n, k) => check(k, 404), TIMEOUT);
});

// The plain-SIMD binary must agree as well (relaxed madd may fuse; plain mul+add must not drift).
describe('plain SIMD variant', () => {
  beforeAll(async () => {
    await init({ variant: 'simd' });
  }, TIMEOUT);
  afterAll(async () => {
    await init({ variant: 'auto' });
  }, TIMEOUT);
  const some: [string, Case][] = KINDS.map(([n, kind]) => [n, shapes(kind)[6][1]]);
  it.each(some)('%s bi L2 lens+states', async (_n, k) => check(k, 505, '[simd] '), TIMEOUT);
});
