// init({ threads: N }): one sequence split across N threads sharing one wasm memory. Every output
// (whole-sequence forward with and without lengths, bidirectional and stacked layers, streaming
// steps, f32 and int8 weights in both activation modes, batch-1 runs whose threads pack their
// rows of W_hh, tails where H is not a multiple of 4) is bit-identical to the same
// model on one thread; the team really ran the programs; closing the team leaves no helper thread
// and programs go on on one thread; without cross-origin isolation init falls back to one thread
// with a note; a bad thread count is a ValueError that leaves the runtime as it was.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { init, closeThreads, LSTM, GRU, RNN, MinGRU, MinLSTM, Sequential, layers, tensor, quantize, SGD, ValueError, WorkerError, type Model } from '../../src/index';
import { OP, ProgramBuilder } from '../../src/ir/program';
import { runtime } from '../../src/wasm/load';
import { randArray } from '../model/helpers';

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

interface Case {
  name: string;
  make: () => Model;
  T: number;
  B: number;
  I: number;
  lengths?: number[];
  stream?: boolean;
}

const CASES: Case[] = [
  { name: 'LSTM I64 H256 batch 1 (W1a shape)', make: () => new LSTM({ inputSize: 64, hiddenSize: 256, seed: 1 }), T: 24, B: 1, I: 64 },
  { name: 'LSTM H37 batch 3 with lengths, peepholes, clip', make: () => new LSTM({ inputSize: 9, hiddenSize: 37, peepholes: true, cellClip: 0.8, seed: 2 }), T: 7, B: 3, I: 9, lengths: [7, 3, 5] },
  { name: 'LSTM 2 layers bidirectional', make: () => new LSTM({ inputSize: 16, hiddenSize: 48, numLayers: 2, bidirectional: true, seed: 3 }), T: 10, B: 2, I: 16, lengths: [10, 6] },
  { name: 'GRU reset-after H130', make: () => new GRU({ inputSize: 20, hiddenSize: 130, seed: 4 }), T: 12, B: 1, I: 20 },
  // batch 1 over ≥ PACK_MIN_T (16) steps: each thread packs its rows of W_hh (assembly/mt/cells.ts)
  { name: 'GRU reset-after H130 batch 1, 20 steps (packed shares)', make: () => new GRU({ inputSize: 20, hiddenSize: 130, seed: 14 }), T: 20, B: 1, I: 20 },
  { name: 'GRU Cho form H66 batch 1, 17 steps (packed shares)', make: () => new GRU({ inputSize: 12, hiddenSize: 66, resetAfter: false, seed: 15 }), T: 17, B: 1, I: 12 },
  { name: 'RNN relu H45 batch 1, 16 steps, bidirectional (packed shares)', make: () => new RNN({ inputSize: 8, hiddenSize: 45, nonlinearity: 'relu', bidirectional: true, seed: 16 }), T: 16, B: 1, I: 8 },
  { name: 'GRU Cho form bidirectional with lengths', make: () => new GRU({ inputSize: 12, hiddenSize: 66, resetAfter: false, bidirectional: true, seed: 5 }), T: 9, B: 3, I: 12, lengths: [9, 1, 4] },
  { name: 'RNN tanh H45', make: () => new RNN({ inputSize: 8, hiddenSize: 45, seed: 6 }), T: 11, B: 2, I: 8, lengths: [11, 8] },
  { name: 'RNN relu 2 layers', make: () => new RNN({ inputSize: 8, hiddenSize: 64, numLayers: 2, nonlinearity: 'relu', seed: 7 }), T: 6, B: 1, I: 8 },
  { name: 'MinGRU 2 layers bidirectional with lengths', make: () => new MinGRU({ inputSize: 10, hiddenSize: 50, numLayers: 2, bidirectional: true, seed: 9 }), T: 9, B: 3, I: 10, lengths: [9, 2, 5] },
  { name: 'MinLSTM log-space H97, streamed step by step', make: () => new MinLSTM({ inputSize: 40, hiddenSize: 97, logSpace: true, seed: 10 }), T: 12, B: 2, I: 40, stream: true },
  {
    name: 'stacked LSTM + GRU + linear, streamed step by step',
    make: () => new Sequential([layers.lstm({ inputSize: 24, hiddenSize: 96, numLayers: 2 }), layers.gru({ inputSize: 96, hiddenSize: 40 }), layers.linear({ inFeatures: 40, outFeatures: 30 })], { seed: 8 }),
    T: 8, B: 2, I: 24, stream: true,
  },
];

// Everything a case produces, as bit patterns: forward outputs and states, then stream steps.
type Int8Run = false | 'exact' | 'fast';
const MODES: Int8Run[] = [false, 'exact', 'fast'];

function outputs(c: Case, int8: Int8Run): number[][] {
  const m = c.make();
  if (int8) quantize(m, { weights: 'int8' });
  const x = randArray(c.T * c.B * c.I, 11);
  const out: number[][] = [];
  const r = m.forward(tensor(x, [c.T, c.B, c.I]), c.lengths ? { lengths: c.lengths } : {});
  out.push(bits(r.output.data));
  const rs = r as { hN?: { data: Float32Array }; cN?: { data: Float32Array } };
  if (rs.hN) out.push(bits(rs.hN.data));
  if (rs.cN) out.push(bits(rs.cN.data));
  if (c.stream) {
    const s = m.stream({ batchSize: c.B });
    const F = c.B * c.I;
    for (let t = 0; t < c.T; t++) out.push(bits(s.step(x.subarray(t * F, (t + 1) * F))));
  }
  m.dispose();
  return out;
}

const ref = new Map<string, number[][]>();
const key = (c: Case, int8: Int8Run) => `${c.name}${int8 ? ` int8 ${int8}` : ''}`;

beforeAll(async () => {
  await init({ threads: 1 });
  for (const q of MODES) {
    if (q) await init({ int8: q });
    for (const c of CASES) ref.set(key(c, q), outputs(c, q));
  }
  // the two modes quantize activations to 11 and to 7 bits: their outputs differ
  expect(ref.get(key(CASES[0], 'fast'))).not.toEqual(ref.get(key(CASES[0], 'exact')));
}, 60_000);

afterAll(async () => {
  await closeThreads();
});

describe.each([2, 3])('%i threads', (n) => {
  beforeAll(async () => {
    const info = await init({ threads: n });
    expect(info).toEqual({ variant: info.variant, int8: 'fast', relaxedDot: info.relaxedDot, threads: n, threadsNote: '' });
  }, 30_000);

  const runs = CASES.flatMap((c) => MODES.map((q) => ({ name: key(c, q), c, q })));
  it.each(runs)('$name: bit-identical to one thread', async ({ c, q }) => {
    if (q) await init({ int8: q });
    const team = runtime().team!;
    const before = team.runs;
    expect(outputs(c, q)).toEqual(ref.get(key(c, q)));
    expect(team.runs).toBeGreaterThan(before); // the programs ran on the team
  });
});

// Training programs run on the team too (their GEMMs split; the recurrent backward stays on
// thread 0): three SGD steps give the same losses and parameters, bit for bit, as on one thread.
// The program starts with a gradient fill put in front of the forward ops, which the team's plan
// must see at the right op boundaries.
function trained(): number[][] {
  const T = 16, B = 4, I = 32, H = 64, O = 8;
  const m = new Sequential([layers.lstm({ inputSize: I, hiddenSize: H }), layers.linear({ inFeatures: H, outFeatures: O })], { seed: 9 });
  const x = tensor(randArray(T * B * I, 21), [T, B, I]);
  const y = tensor(randArray(T * B * O, 22), [T, B, O]);
  const opt = new SGD({ lr: 0.05 });
  const out: number[][] = [];
  for (let s = 0; s < 3; s++) out.push(bits(new Float32Array([m.trainStep({ x, y }, { loss: 'mse', optimizer: opt }).loss])));
  for (const p of m.parameters()) out.push(bits(m.getParameter(p.name) as Float32Array));
  m.dispose();
  return out;
}

describe('training on the team', () => {
  it('three SGD steps on 2 threads equal one thread bit for bit', async () => {
    await init({ threads: 1 });
    const one = trained();
    await init({ threads: 2 });
    const team = runtime().team!;
    const before = team.runs;
    expect(trained()).toEqual(one);
    expect(team.runs).toBeGreaterThan(before);
  }, 60_000);
});

describe('the team', () => {
  it('closeThreads stops every helper; models then run on one thread with the same results', async () => {
    await init({ threads: 2 });
    const rt = runtime();
    const team = rt.team!;
    expect(team.liveHelpers).toBe(1);
    const c = CASES[0];
    const m = c.make();
    await closeThreads();
    expect(team.liveHelpers).toBe(0);
    expect(team.open).toBe(false);
    const runs = team.runs;
    const x = randArray(c.T * c.B * c.I, 11);
    expect(bits(m.forward(tensor(x, [c.T, c.B, c.I])).output.data)).toEqual(ref.get(key(c, false))![0]);
    expect(team.runs).toBe(runs);
    m.dispose();
  });

  it('a helper that traps fails the call with a WorkerError (no hang); the team closes, models go on on one thread', async () => {
    await init({ threads: 2 });
    const rt = runtime();
    const team = rt.team!;
    const N = 256, K = 256; // one row, split by output columns: thread 1 gets rows 128…255
    const b = new ProgramBuilder(rt);
    const y = b.alloc(N), x = b.alloc(K);
    // W placed so that rows 128… lie past the end of memory: only the helper's share traps
    const w = rt.heap.byteLength / 4 - (N / 2) * K;
    b.op(OP.GEMM_NT, y, x, w, 0, 1, N, K, 0);
    const p = b.finish();
    expect(rt.heap.byteLength / 4 - (N / 2) * K).toBe(w); // finishing did not grow the memory
    expect(() => p.run()).toThrow(WorkerError);
    expect(team.open).toBe(false);
    await team.close();
    expect(team.liveHelpers).toBe(0);
    p.dispose();
    const c = CASES[0];
    expect(outputs(c, false)).toEqual(ref.get(key(c, false)));
  });

  it('replacing the runtime with one of other thread count stops the old helpers', async () => {
    await init({ threads: 3 });
    const old = runtime().team!;
    expect(old.liveHelpers).toBe(2);
    await init({ threads: 1 });
    expect(old.liveHelpers).toBe(0);
    expect(runtime().team).toBeUndefined();
  });

  it.each([0, -1, 1.5, 65, Number.NaN, '2'])('threads %s is a ValueError and keeps the runtime', async (bad) => {
    const before = runtime();
    await expect(init({ threads: bad as number })).rejects.toThrow(ValueError);
    await expect(init({ threads: bad as number })).rejects.toThrow(/Expected threads to be an integer from 1 to \d+( \(4 × the \d+ cores this engine reports\))?, got/);
    expect(runtime()).toBe(before);
  });

  it('without cross-origin isolation init falls back to one thread with a note and a warning', async () => {
    const g = globalThis as { crossOriginIsolated?: boolean };
    g.crossOriginIsolated = false;
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const info = await init({ threads: 2 });
      expect(info.threads).toBe(1);
      expect(info.threadsNote).toMatch(/^Expected 2 threads, got 1: the page is not cross-origin isolated/);
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('running on one thread'));
      expect(runtime().team).toBeUndefined();
      const c = CASES[3];
      expect(outputs(c, false)).toEqual(ref.get(key(c, false)));
    } finally {
      delete g.crossOriginIsolated;
      warn.mockRestore();
    }
  });
});
