// Graph backward against central finite differences of an f64 reference composed from the
// references of its parts (reference64 for the recurrent layers, attentionRef, plain loops for
// linear / concat / repeat / pool / tanh): every parameter and every float input's gradient,
// with masks on both time axes and seeded gradients on several outputs (hN included).
import { beforeAll, describe, expect, it } from 'vitest';
import { init, graph, GraphModel, Tensor, ValueError, ShapeError, StateError } from '../../src/index';
import { reference64 } from '../oracle/reference64';
import { attentionRef, type AttentionKind } from '../reference/attention';
import { pool } from '../reference/rows';
import { config, type OracleInput, type Params } from '../oracle/spec';
import { randArray, relErr } from '../model/helpers';

beforeAll(async () => {
  await init();
});

type F64 = Record<string, Float64Array>;
const f64 = (sd: Record<string, Float32Array>): F64 => Object.fromEntries(Object.entries(sd).map(([k, v]) => [k, Float64Array.from(v)]));
/** The parameters of node `node` without its prefix. */
const sub = (p: F64, node: string): Params => Object.fromEntries(Object.entries(p).filter(([k]) => k.startsWith(`${node}.`)).map(([k, v]) => [k.slice(node.length + 1), v])) as unknown as Params;
const oracleIn = (o: Record<string, unknown>): OracleInput => o as unknown as OracleInput;

/** y (rows, O) = x (rows, I)·Wᵀ + b. */
function linear(x: ArrayLike<number>, W: ArrayLike<number>, b: ArrayLike<number> | undefined, rows: number, I: number, O: number): Float64Array {
  const y = new Float64Array(rows * O);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < O; o++) {
      let s = b ? b[o] : 0;
      for (let i = 0; i < I; i++) s += W[o * I + i] * x[r * I + i];
      y[r * O + o] = s;
    }
  }
  return y;
}
/** Row-wise [a | b]. */
function cat(a: ArrayLike<number>, b: ArrayLike<number>, rows: number, Fa: number, Fb: number): Float64Array {
  const y = new Float64Array(rows * (Fa + Fb));
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < Fa; i++) y[r * (Fa + Fb) + i] = a[r * Fa + i];
    for (let i = 0; i < Fb; i++) y[r * (Fa + Fb) + Fa + i] = b[r * Fb + i];
  }
  return y;
}
const dotp = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};
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

describe('graph backward vs central differences of the f64 reference', () => {
  it.each(['dot', 'general', 'additive'] as AttentionKind[])('encoder–decoder with %s attention: LSTM encoder states start the LSTM decoder; tanh(W[ctx; h]) output; seeded dOut and d(enc hN)', (score) => {
    const Tk = 5, Tq = 4, B = 3, I = 3, J = 2, H = 4, O = 3;
    const src = graph.input('src', { type: 'float', features: I });
    const tgt = graph.input('tgt', { type: 'float', features: J });
    const enc = graph.lstm(src, { hiddenSize: H, name: 'enc' });
    const dec = graph.lstm(tgt, { hiddenSize: H, name: 'dec', initialState: { h: enc.hN, c: enc.cN } });
    const att = graph.attention(dec.output, enc.output, { score, attentionSize: 3, name: 'att' });
    const hid = graph.tanh(graph.linear(graph.concat([att.context, dec.output]), { outFeatures: H, bias: false, name: 'wc' }));
    const out = graph.linear(hid, { outFeatures: O, name: 'out' });
    const m = new GraphModel({ inputs: [src, tgt], outputs: { out, encH: enc.hN, weights: att.weights }, seed: 4 });
    const xs = randArray(Tk * B * I, 1), xt = randArray(Tq * B * J, 2);
    const lk = [5, 2, 3], lq = [4, 4, 1];
    const dOut = randArray(Tq * B * O, 3), dEncH = randArray(B * H, 4);
    m.zeroGrad();
    const fwd = m.forward({ src: { data: new Tensor(xs, [Tk, B, I]), lengths: lk }, tgt: { data: new Tensor(xt, [Tq, B, J]), lengths: lq } }, { keep: true });
    expect(fwd.weights.shape).toEqual([Tq, B, Tk]);
    const dx = m.backward({ out: dOut, encH: dEncH });

    const p = f64(m.stateDict());
    const x64 = { src: Float64Array.from(xs), tgt: Float64Array.from(xt) };
    const cfg = (inputSize: number) => config({ mode: 'lstm', inputSize, hiddenSize: H });
    const forward = () => {
      const e = reference64(cfg(I), sub(p, 'enc'), oracleIn({ x: x64.src, T: Tk, B, lengths: Int32Array.from(lk) }));
      const d = reference64(cfg(J), sub(p, 'dec'), oracleIn({ x: x64.tgt, T: Tq, B, lengths: Int32Array.from(lq), h0: e.hN, c0: e.cN }));
      const a = attentionRef({ kind: score, Tq, Tk, B, H, E: H, A: 3, q: d.output, enc: e.output, lens: lk, W: p['att.weight'], Wq: p['att.query_weight'], Wk: p['att.key_weight'], bk: p['att.key_bias'], v: p['att.v'] });
      const h = linear(cat(a.ctx, d.output, Tq * B, H, H), p['wc.weight'], undefined, Tq * B, 2 * H, H).map(Math.tanh);
      return { out: linear(h, p['out.weight'], p['out.bias'], Tq * B, H, O), encH: e.hN, a: a.a };
    };
    const ref = forward();
    expect(relErr(fwd.out.data, ref.out)).toBeLessThan(1e-5);
    expect(relErr(fwd.weights.data, ref.a)).toBeLessThan(1e-5);
    const L = (): number => {
      const r = forward();
      return dotp(dOut, r.out) + dotp(dEncH, r.encH);
    };
    // Σ_j ∂L/∂score_j = 0 in every row (softmax), so the additive key bias's gradient is the small
    // remainder of a cancelling sum: its f32 error relative to its own size is larger (1.6e-4 seen)
    for (const name of Object.keys(p)) expect(relErr(m.gradient(name), fd(p[name], L)), name).toBeLessThan(name === 'att.key_bias' ? 1e-3 : 1e-4);
    expect(relErr(dx.src.data, fd(x64.src, L)), 'dsrc').toBeLessThan(1e-4);
    expect(relErr(dx.tgt.data, fd(x64.tgt, L)), 'dtgt').toBeLessThan(1e-4);
    m.dispose();
  });

  it.each(['last', 'mean', 'max'] as const)('a conditioning vector through a linear as h0 and repeated at every step, GRU (bidirectional), pool %s, two outputs', (mode) => {
    const T = 5, B = 3, I = 2, C = 3, H = 3;
    const x = graph.input('x', { type: 'float', features: I });
    const v = graph.input('v', { type: 'vector', features: C });
    const h0 = graph.linear(v, { outFeatures: 2 * H, name: 'bridge' });
    const rnn = graph.gru(graph.concat([x, graph.repeat(v, x)]), { hiddenSize: H, bidirectional: true, name: 'gru', initialState: { h: h0 } });
    const pooled = graph.pool(rnn.output, { mode, name: 'pool' });
    const cls = graph.linear(pooled, { outFeatures: 2, name: 'cls' });
    const m = new GraphModel({ inputs: [x, v], outputs: { cls, seq: rnn.output }, seed: 8 });
    const xv = randArray(T * B * I, 5), vv = randArray(B * C, 6);
    const lens = [5, 1, 3];
    const dCls = randArray(B * 2, 7), dSeq = randArray(T * B * 2 * H, 8);
    m.zeroGrad();
    m.forward({ x: { data: new Tensor(xv, [T, B, I]), lengths: lens }, v: new Tensor(vv, [B, C]) }, { keep: true });
    const d = m.backward({ cls: new Tensor(dCls, [B, 2]), seq: dSeq });
    const p = f64(m.stateDict());
    const x64 = Float64Array.from(xv), v64 = Float64Array.from(vv);
    const L = (): number => {
      const hb = linear(v64, p['bridge.weight'], p['bridge.bias'], B, C, 2 * H);
      // (B, 2H) → h0 (2, B, H): slot k at columns [kH, (k+1)H)
      const h0s = new Float64Array(2 * B * H);
      for (let k = 0; k < 2; k++) for (let b = 0; b < B; b++) for (let j = 0; j < H; j++) h0s[(k * B + b) * H + j] = hb[b * 2 * H + k * H + j];
      const rep = new Float64Array(T * B * C);
      for (let t = 0; t < T; t++) rep.set(v64, t * B * C);
      const xin = cat(x64, rep, T * B, I, C);
      const r = reference64(config({ mode: 'gru', inputSize: I + C, hiddenSize: H, bidirectional: true }), sub(p, 'gru'), oracleIn({ x: xin, T, B, lengths: Int32Array.from(lens), h0: h0s }));
      const pooled = pool(r.output, lens, T, B, 2 * H, { last: 0, mean: 1, max: 2 }[mode] as 0 | 1 | 2);
      return dotp(dCls, linear(pooled, p['cls.weight'], p['cls.bias'], B, 2 * H, 2)) + dotp(dSeq, r.output);
    };
    for (const name of Object.keys(p)) expect(relErr(m.gradient(name), fd(p[name], L)), name).toBeLessThan(1e-4);
    expect(relErr(d.x.data, fd(x64, L)), 'dx').toBeLessThan(1e-4);
    expect(relErr(d.v.data, fd(v64, L)), 'dv').toBeLessThan(1e-4);
    m.dispose();
  });
});

describe('graph API validation', () => {
  const x = graph.input('x', { type: 'float', features: 2 });
  const l = graph.lstm(x, { hiddenSize: 3, name: 'l' });

  it('rejects bad graphs at build time with typed errors', () => {
    const other = graph.input('y', { type: 'float', features: 3 });
    expect(() => graph.concat([x, other])).toThrow(ShapeError); // different time axes
    expect(() => graph.attention(l.output, l.output, { score: 'dot' })).toThrow(ValueError);
    expect(() => graph.attention(l.output, x, { score: 'dot' })).toThrow(ShapeError); // widths differ
    expect(() => graph.lstm(x, { hiddenSize: 4, initialState: { h: l.hN } })).toThrow(ShapeError);
    expect(() => graph.pool(x, { mode: 'median' as 'max' })).toThrow(ValueError);
    expect(() => new GraphModel({ inputs: [], outputs: { y: l.output } })).toThrow(ValueError); // x missing from inputs
  });

  it('an input no output depends on is still validated and fed (its buffer exists)', () => {
    const unused = graph.input('u', { type: 'vector', features: 2 });
    const m = new GraphModel({ inputs: [x, unused], outputs: { y: l.output } });
    const data = new Tensor(randArray(4 * 2 * 2, 1), [4, 2, 2]);
    expect(() => m.forward({ x: data })).toThrow(ValueError);
    const a = m.forward({ x: data, u: new Tensor(new Float32Array(4).fill(1), [2, 2]) }).y.data;
    expect(m.forward({ x: data, u: new Tensor(new Float32Array(4).fill(-1), [2, 2]) }).y.data).toEqual(a);
    m.dispose();
  });

  it('rejects bad calls and changes nothing', () => {
    const m = new GraphModel({ inputs: [x], outputs: { y: l.output } });
    const data = new Tensor(randArray(4 * 2 * 2, 1), [4, 2, 2]);
    expect(() => m.forward({})).toThrow(ValueError);
    expect(() => m.forward({ x: new Tensor(new Float32Array(12), [2, 2, 3]) })).toThrow(ShapeError);
    expect(() => m.forward({ x: { data, lengths: [5, 1] } })).toThrow(ValueError);
    expect(() => m.backward({ y: new Float32Array(24) })).toThrow(StateError);
    m.zeroGrad();
    m.forward({ x: data }, { keep: true });
    expect(() => m.backward({ y: new Float32Array(5) })).toThrow(ShapeError);
    expect(() => m.backward({ z: new Float32Array(24) })).toThrow(ValueError);
    expect(() => m.trainStep({ inputs: { x: data }, targets: { y: new Tensor(new Int32Array(8), [4, 2]) } }, { losses: { y: 'crossEntropy' }, optimizer: null as never })).toThrow(ValueError);
    expect(Array.from(m.gradient('l.weight_hh_l0')).every((v) => v === 0)).toBe(true);
    m.backward({ y: new Float32Array(24).fill(1) }); // the kept forward survived
    expect(Array.from(m.gradient('l.weight_hh_l0')).some((v) => v !== 0)).toBe(true);
    m.dispose();
  });
});
