// Model-level behaviour that needs no outside oracle: packed-sequence semantics against running
// each sequence alone, streaming against whole-sequence forward, batchFirst against time-major,
// merge modes against concat, states in/out, parameter access, validation and dispose.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  init, LSTM, GRU, RNN, Sequential, layers, tensor, Tensor,
  ShapeError, DTypeError, ValueError, StateError,
} from '../../src/index';
import { runtime } from '../../src/wasm/load';
import { maxAbsDiff, randArray } from './helpers';

beforeAll(async () => {
  await init();
});

type Ctor = typeof LSTM | typeof GRU | typeof RNN;
const CELLS: [string, Ctor, Record<string, unknown>][] = [
  ['rnn tanh', RNN, {}],
  ['rnn relu', RNN, { nonlinearity: 'relu' }],
  ['lstm', LSTM, {}],
  ['lstm peepholes+clip', LSTM, { peepholes: true, cellClip: 0.8 }],
  ['gru resetAfter', GRU, {}],
  ['gru Cho', GRU, { resetAfter: false }],
];

/** Slice sequence b of a time-major (T,B,F) array, first `len` steps, as (len,1,F). */
function sliceSeq(x: Float32Array, T: number, B: number, F: number, b: number, len: number): Float32Array {
  const out = new Float32Array(len * F);
  for (let t = 0; t < len; t++) out.set(x.subarray((t * B + b) * F, (t * B + b + 1) * F), t * F);
  return out;
}

describe.each(CELLS)('%s layer', (_name, Cell, extra) => {
  const I = 5, H = 7, T = 6, B = 3;
  const make = (o: Record<string, unknown> = {}) => new (Cell as unknown as new (o: object) => LSTM)({ inputSize: I, hiddenSize: H, seed: 11, ...extra, ...o });

  it('packed semantics: a padded batch equals each sequence run alone at its own length', () => {
    for (const bidirectional of [false, true]) {
      const m = make({ numLayers: 2, bidirectional });
      const x = randArray(T * B * I, 1);
      const lengths = [T, 2, 1];
      const r = m.forward(tensor(x, [T, B, I]), { lengths });
      const D = bidirectional ? 2 : 1;
      for (let b = 0; b < B; b++) {
        const len = lengths[b];
        const alone = m.forward(tensor(sliceSeq(x, T, B, I, b, len), [len, 1, I]));
        // valid outputs match; padded outputs are exactly 0
        for (let t = 0; t < T; t++) {
          const got = r.output.data.subarray((t * B + b) * D * H, (t * B + b + 1) * D * H);
          if (t < len) expect(maxAbsDiff(got, alone.output.data.subarray(t * D * H, (t + 1) * D * H))).toBeLessThan(1e-6);
          else expect(Array.from(got).every((v) => v === 0)).toBe(true);
        }
        // final states are the states at each row's last valid step
        for (let s = 0; s < 2 * D; s++) {
          const got = r.hN.data.subarray((s * B + b) * H, (s * B + b + 1) * H);
          expect(maxAbsDiff(got, alone.hN.data.subarray(s * H, (s + 1) * H))).toBeLessThan(1e-6);
        }
      }
      m.dispose();
    }
  });

  it('streaming one step at a time equals the whole-sequence forward, and carries state', () => {
    const m = make({ numLayers: 2 });
    const x = randArray(T * B * I, 2);
    const h0 = randArray(2 * B * H, 3, 0.5);
    const c0 = Cell === LSTM ? randArray(2 * B * H, 4, 0.5) : undefined;
    const full = m.forward(tensor(x, [T, B, I]), { h0, c0 });
    const s = m.stream({ batchSize: B });
    s.reset(h0, c0);
    for (let t = 0; t < T; t++) {
      const y = s.step(x.subarray(t * B * I, (t + 1) * B * I));
      expect(maxAbsDiff(y, full.output.data.subarray(t * B * H, (t + 1) * B * H))).toBeLessThan(1e-6);
    }
    expect(maxAbsDiff(s.state().h.data, full.hN.data)).toBeLessThan(1e-6);
    if (c0) expect(maxAbsDiff(s.state().c!.data, full.cN!.data)).toBeLessThan(1e-6);
    s.reset();
    expect(Array.from(s.state().h.data).every((v) => v === 0)).toBe(true);
    m.dispose();
  });

  it('batchFirst gives the transposed result of time-major', () => {
    const a = make();
    const b = make({ batchFirst: true });
    b.loadStateDict(a.stateDict());
    const x = randArray(T * B * I, 5);
    const xb = new Float32Array(T * B * I);
    for (let t = 0; t < T; t++) for (let s = 0; s < B; s++) xb.set(x.subarray((t * B + s) * I, (t * B + s + 1) * I), (s * T + t) * I);
    const ra = a.forward(tensor(x, [T, B, I]));
    const rb = b.forward(tensor(xb, [B, T, I]));
    expect(rb.output.shape).toEqual([B, T, H]);
    for (let t = 0; t < T; t++) for (let s = 0; s < B; s++) {
      expect(maxAbsDiff(rb.output.data.subarray((s * T + t) * H, (s * T + t + 1) * H), ra.output.data.subarray((t * B + s) * H, (t * B + s + 1) * H))).toBe(0);
    }
    expect(maxAbsDiff(ra.hN.data, rb.hN.data)).toBe(0);
    a.dispose();
    b.dispose();
  });

  it('bidirectional merge modes sum/mul/ave combine the concat halves', () => {
    const cat = make({ bidirectional: true });
    const x = randArray(T * B * I, 6);
    const rc = cat.forward(tensor(x, [T, B, I])).output.data;
    for (const mode of ['sum', 'mul', 'ave'] as const) {
      const m = make({ bidirectional: true, mergeMode: mode });
      m.loadStateDict(cat.stateDict());
      const r = m.forward(tensor(x, [T, B, I])).output.data;
      expect(r.length).toBe(T * B * H);
      let err = 0;
      for (let row = 0; row < T * B; row++) for (let j = 0; j < H; j++) {
        const f = rc[row * 2 * H + j], g = rc[row * 2 * H + H + j];
        const want = mode === 'sum' ? f + g : mode === 'mul' ? f * g : (f + g) / 2;
        err = Math.max(err, Math.abs(r[row * H + j] - want));
      }
      expect(err).toBeLessThan(1e-6);
      m.dispose();
    }
    cat.dispose();
  });
});

describe('parameters', () => {
  it('use PyTorch names, shapes and order, and round-trip by name', () => {
    const m = new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true });
    const names = m.parameters().map((p) => `${p.name}:${p.shape.join('x')}`);
    expect(names.slice(0, 5)).toEqual(['weight_ih_l0:16x3', 'weight_hh_l0:16x4', 'bias_ih_l0:16', 'bias_hh_l0:16', 'weight_ih_l0_reverse:16x3']);
    expect(names).toContain('weight_ih_l1:16x8');
    expect(names).toContain('bias_hh_l1_reverse:16');
    expect(m.numParameters).toBe(2 * (16 * 3 + 16 * 4 + 32) + 2 * (16 * 8 + 16 * 4 + 32));
    const v = randArray(16 * 4, 9);
    m.setParameter('weight_hh_l1_reverse', v);
    expect(m.getParameter('weight_hh_l1_reverse')).toEqual(v);
    m.dispose();
  });

  it('default init is U(-1/sqrt(H), 1/sqrt(H)) and deterministic per seed', () => {
    const a = new GRU({ inputSize: 3, hiddenSize: 16, seed: 1 });
    const b = new GRU({ inputSize: 3, hiddenSize: 16, seed: 1 });
    const c = new GRU({ inputSize: 3, hiddenSize: 16, seed: 2 });
    const w = a.getParameter('weight_hh_l0');
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(0.25);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.2);
    expect(b.getParameter('weight_hh_l0')).toEqual(w);
    expect(c.getParameter('weight_hh_l0')).not.toEqual(w);
    for (const m of [a, b, c]) m.dispose();
  });

  it('bias: false has no bias parameters and still runs', () => {
    const m = new RNN({ inputSize: 2, hiddenSize: 3, bias: false });
    expect(m.parameters().map((p) => p.name)).toEqual(['weight_ih_l0', 'weight_hh_l0']);
    const r = m.forward(tensor(randArray(8, 1), [4, 1, 2]));
    expect(r.output.shape).toEqual([4, 1, 3]);
    m.dispose();
  });

  it('rejects a wrong-sized or non-finite parameter without changing the model', () => {
    const m = new LSTM({ inputSize: 2, hiddenSize: 2 });
    const before = m.getParameter('weight_ih_l0');
    expect(() => m.setParameter('weight_ih_l0', new Float32Array(3))).toThrow(ShapeError);
    expect(() => m.setParameter('weight_ih_l0', new Float32Array(16).fill(NaN))).toThrow(ValueError);
    expect(() => m.setParameter('weight_ih_l0', new Float64Array(16) as unknown as Float32Array)).toThrow(DTypeError);
    expect(() => m.setParameter('nope', new Float32Array(16))).toThrow(/parameter name/);
    const sd = m.stateDict();
    sd.bias_hh_l0 = new Float32Array(1);
    expect(() => m.loadStateDict(sd)).toThrow(ShapeError);
    expect(m.getParameter('weight_ih_l0')).toEqual(before);
    m.dispose();
  });
});

describe('Sequential', () => {
  it('propagates shapes and runs embedding → lstm → linear → softmax', () => {
    const V = 11, T = 5, B = 2;
    const m = new Sequential([
      layers.embedding({ numEmbeddings: V, embeddingDim: 6 }),
      layers.lstm({ inputSize: 6, hiddenSize: 8 }),
      layers.linear({ inFeatures: 8, outFeatures: V }),
      layers.softmax(),
    ]);
    expect(m.outFeatures).toBe(V);
    expect(m.parameters().map((p) => p.name)).toEqual([
      '0.weight', '1.weight_ih_l0', '1.weight_hh_l0', '1.bias_ih_l0', '1.bias_hh_l0', '2.weight', '2.bias',
    ]);
    const ids = new Int32Array([0, 1, 2, 3, 4, 5, 6, 7, 8, 10]);
    const r = m.forward(new Tensor(ids, [T, B]));
    expect(r.output.shape).toEqual([T, B, V]);
    for (let row = 0; row < T * B; row++) {
      const p = r.output.data.subarray(row * V, (row + 1) * V);
      expect(Math.abs(p.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-5);
    }
    // streaming the same ids reproduces the per-step distributions
    const s = m.stream({ batchSize: B });
    for (let t = 0; t < T; t++) {
      const y = s.step(ids.subarray(t * B, (t + 1) * B));
      expect(maxAbsDiff(y, r.output.data.subarray(t * B * V, (t + 1) * B * V))).toBeLessThan(1e-6);
    }
    expect(() => m.forward(new Tensor(new Int32Array([0, 11]), [1, 2]))).toThrow(/token ids in \[0, 11\)/);
    m.dispose();
  });

  it('stacks recurrent layers of different kinds and sizes: states per kind, padded to the widest', () => {
    // GRU (H=6) → LSTM (H=2): hN has both slots, the LSTM's in the first 2 columns; cN only the LSTM's
    const T = 5, B = 2, I = 3;
    const m = new Sequential([layers.gru({ inputSize: I, hiddenSize: 6 }), layers.lstm({ inputSize: 6, hiddenSize: 2 })], { seed: 4 });
    const g = new GRU({ inputSize: I, hiddenSize: 6 });
    const l = new LSTM({ inputSize: 6, hiddenSize: 2 });
    for (const p of g.parameters()) g.setParameter(p.name, m.getParameter(`0.${p.name}`));
    for (const p of l.parameters()) l.setParameter(p.name, m.getParameter(`1.${p.name}`));
    const x = tensor(randArray(T * B * I, 5), [T, B, I]);
    const h0 = randArray(2 * B * 6, 6, 0.5);
    for (let b = 0; b < B; b++) h0.fill(0, (B + b) * 6 + 2, (B + b + 1) * 6); // padding of the narrow slot
    const c0 = randArray(B * 2, 7, 0.5);
    const lengths = [5, 3];
    const r = m.forward(x, { lengths, h0, c0 });
    const rg = g.forward(x, { lengths, h0: h0.slice(0, B * 6) });
    const narrow = new Float32Array(B * 2);
    for (let b = 0; b < B; b++) narrow.set(h0.subarray((B + b) * 6, (B + b) * 6 + 2), b * 2);
    const rl = l.forward(rg.output, { lengths, h0: narrow, c0 });
    expect(r.hN.shape).toEqual([2, B, 6]);
    expect(r.cN!.shape).toEqual([1, B, 2]);
    expect(maxAbsDiff(r.output.data, rl.output.data)).toBe(0);
    expect(maxAbsDiff(r.hN.data.subarray(0, B * 6), rg.hN.data)).toBe(0);
    for (let b = 0; b < B; b++) {
      expect(Array.from(r.hN.data.subarray((B + b) * 6, (B + b) * 6 + 2))).toEqual(Array.from(rl.hN.data.subarray(b * 2, b * 2 + 2)));
      expect(Array.from(r.hN.data.subarray((B + b) * 6 + 2, (B + b + 1) * 6))).toEqual([0, 0, 0, 0]);
    }
    expect(Array.from(r.cN!.data)).toEqual(Array.from(rl.cN!.data));
    // the same layout for training's state gradients and the stream's state
    m.evaluate({ x, y: tensor(randArray(T * B * 2, 8), [T, B, 2]), lengths, h0, c0 }, { loss: 'mse' });
    const sg = m.initialStateGradients();
    expect(sg.dh0.shape).toEqual([2, B, 6]);
    expect(sg.dc0!.shape).toEqual([1, B, 2]);
    const st = m.stream({ batchSize: B });
    st.step(x.data.slice(0, B * I));
    expect(st.state().h.shape).toEqual([2, B, 6]);
    expect(st.state().c!.shape).toEqual([1, B, 2]);
    expect(() => m.forward(x, { c0: new Float32Array(2 * B * 6) })).toThrow(ShapeError);
    for (const d of [m, g, l]) d.dispose();
  });

  it('rejects mismatched layer widths at construction', () => {
    expect(() => new Sequential([layers.gru({ inputSize: 4, hiddenSize: 8 }), layers.linear({ inFeatures: 9, outFeatures: 2 })])).toThrow(ShapeError);
    expect(() => new Sequential([layers.linear({ inFeatures: 2, outFeatures: 2 }), layers.embedding({ numEmbeddings: 3, embeddingDim: 2 })])).toThrow(/first layer/);
  });

  it('logSoftmax equals log of softmax', () => {
    const base = [layers.rnn({ inputSize: 3, hiddenSize: 4 }), layers.linear({ inFeatures: 4, outFeatures: 5 })];
    const a = new Sequential([...base, layers.softmax()], { seed: 3 });
    const b = new Sequential([layers.rnn({ inputSize: 3, hiddenSize: 4 }), layers.linear({ inFeatures: 4, outFeatures: 5 }), layers.logSoftmax()], { seed: 3 });
    const x = tensor(randArray(2 * 3 * 3, 4), [2, 3, 3]);
    const pa = a.forward(x).output.data, pb = b.forward(x).output.data;
    expect(maxAbsDiff(pa.map(Math.log), pb)).toBeLessThan(1e-5);
    a.dispose();
    b.dispose();
  });
});

describe('validation and lifecycle', () => {
  const m0 = () => new LSTM({ inputSize: 3, hiddenSize: 4 });

  it('names the problem in typed errors', () => {
    const m = m0();
    expect(() => m.forward(tensor(randArray(6, 1), [2, 3]))).toThrow(ShapeError);
    expect(() => m.forward(tensor(randArray(8, 1), [2, 1, 4]))).toThrow(/input features 3/);
    const bad = randArray(6, 1);
    bad[4] = NaN;
    expect(() => m.forward(tensor(bad, [2, 1, 3]))).toThrow(/finite values in input x, got NaN at index 4/);
    expect(() => m.forward(tensor(randArray(6, 1), [2, 1, 3]), { lengths: [3] })).toThrow(/lengths\[0\] to be an integer in \[1, 2\]/);
    expect(() => m.forward(tensor(randArray(6, 1), [2, 1, 3]), { lengths: [1, 1] })).toThrow(ShapeError);
    expect(() => m.forward(tensor(randArray(6, 1), [2, 1, 3]), { h0: new Float32Array(3) })).toThrow(/h0 of shape \(1, 1, 4\)/);
    expect(() => new LSTM({ inputSize: 0, hiddenSize: 4 })).toThrow(/inputSize to be a positive integer/);
    expect(() => new GRU({ inputSize: 1, hiddenSize: 4, peepholes: true } as never)).toThrow(ValueError);
    expect(() => new LSTM({ inputSize: 1, hiddenSize: 4, bidirectional: true }).stream()).toThrow(/unidirectional/);
    m.dispose();
  });

  it('dispose releases memory for reuse and later use throws StateError', () => {
    const heap = runtime().heap;
    const m = m0();
    m.forward(tensor(randArray(30, 1), [10, 1, 3]));
    const live = heap.liveElements;
    m.dispose();
    expect(heap.liveElements).toBeLessThan(live);
    expect(() => m.forward(tensor(randArray(3, 1), [1, 1, 3]))).toThrow(StateError);
    expect(() => m.getParameter('weight_ih_l0')).toThrow(StateError);
  });

  it('repeated forwards of one shape do not grow the heap; results survive memory growth', () => {
    const heap = runtime().heap;
    const m = new GRU({ inputSize: 8, hiddenSize: 16 });
    const x = tensor(randArray(20 * 2 * 8, 2), [20, 2, 8]);
    const first = m.forward(x).output;
    const live = heap.liveElements;
    for (let i = 0; i < 50; i++) m.forward(x);
    expect(heap.liveElements).toBe(live);
    // force growth with a big model; earlier results are JS-owned copies and later runs still agree
    const big = new LSTM({ inputSize: 512, hiddenSize: 512, numLayers: 2 });
    const again = m.forward(x).output;
    expect(maxAbsDiff(first.data, again.data)).toBe(0);
    big.dispose();
    m.dispose();
  });
});
