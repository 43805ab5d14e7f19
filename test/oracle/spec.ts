// The oracle harness's common ground: one layer configuration type, PyTorch-layout parameters
// (names, shapes, gate orders) written out independently of src/, a seeded PRNG, test inputs, and
// the comparison that every oracle test uses. Every oracle (ONNX Runtime, tfjs-layers, the f64
// reference, the library) takes the SAME `Params` and `OracleInput` and returns an `OracleOutput`.
//
// Letters: T steps, B batch, I input, H hidden, G gates (RNN 1, GRU 3, LSTM 4), L layers,
// D directions (1 or 2).
//
// PyTorch layout, per layer l and direction (suffix `_l{l}` or `_l{l}_reverse`):
//   weight_ih (G*H, I_l)  weight_hh (G*H, H)  bias_ih (G*H)  bias_hh (G*H)  weight_peep (3H: p_i,p_f,p_o)
//   gate blocks of G*H rows: LSTM i,f,g,o; GRU r,z,n; RNN one block.
//   I_0 = inputSize; I_l = D*H for concat, H for merge modes sum/mul/ave (Keras-style per-layer merge).
// Sequences are time-major: x (T, B, I), output (T, B, outH), hN/cN (L*D, B, H) in order l0, l0_reverse, l1…

export type Mode = 'rnn' | 'lstm' | 'gru';
export type MergeMode = 'concat' | 'sum' | 'mul' | 'ave';

export interface RnnConfig {
  mode: Mode;
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  bidirectional: boolean;
  mergeMode: MergeMode;
  bias: boolean;
  /** rnn only */
  nonlinearity: 'tanh' | 'relu';
  /** lstm only: p_i, p_f see c_{t-1}, p_o sees c_t (ONNX) */
  peepholes: boolean;
  /** lstm only: clip gate pre-activations to [-clip, clip] as onnxruntime does; 0 = none */
  cellClip: number;
  /** gru only: true = PyTorch form (ONNX linear_before_reset=1), false = Cho form (=0) */
  resetAfter: boolean;
}

export type Params = Record<string, Float32Array>;

export interface OracleInput {
  x: Float32Array; // (T, B, I)
  T: number;
  B: number;
  lengths?: Int32Array; // (B), each in [1, T]
  h0?: Float32Array; // (L*D, B, H)
  c0?: Float32Array; // (L*D, B, H), lstm only
}

export interface OracleOutput {
  output: ArrayLike<number>; // (T, B, outH)
  hN: ArrayLike<number>; // (L*D, B, H)
  cN?: ArrayLike<number>; // lstm only
  /** false when padded steps (t >= lengths[b]) hold something other than PyTorch's 0 (tfjs masking) */
  paddedOutputsZero: boolean;
}

export const GATES: Record<Mode, number> = { rnn: 1, lstm: 4, gru: 3 };

/** A full configuration from the fields that differ from the defaults. */
export function config(c: Partial<RnnConfig> & Pick<RnnConfig, 'mode' | 'inputSize' | 'hiddenSize'>): RnnConfig {
  return {
    numLayers: 1,
    bidirectional: false,
    mergeMode: 'concat',
    bias: true,
    nonlinearity: 'tanh',
    peepholes: false,
    cellClip: 0,
    resetAfter: true,
    ...c,
  };
}

export const dirs = (c: RnnConfig): number => (c.bidirectional ? 2 : 1);
/** Width of one layer's output (and of the next layer's input). */
export const outSize = (c: RnnConfig): number =>
  c.bidirectional && c.mergeMode === 'concat' ? 2 * c.hiddenSize : c.hiddenSize;
export const layerInput = (c: RnnConfig, l: number): number => (l === 0 ? c.inputSize : outSize(c));
export const suffix = (l: number, d: number): string => `_l${l}${d ? '_reverse' : ''}`;

/** PyTorch names and shapes, in PyTorch's order. */
export function paramShapes(c: RnnConfig): { name: string; shape: number[] }[] {
  const H = c.hiddenSize;
  const GH = GATES[c.mode] * H;
  const out: { name: string; shape: number[] }[] = [];
  for (let l = 0; l < c.numLayers; l++) {
    for (let d = 0; d < dirs(c); d++) {
      const s = suffix(l, d);
      out.push({ name: `weight_ih${s}`, shape: [GH, layerInput(c, l)] });
      out.push({ name: `weight_hh${s}`, shape: [GH, H] });
      if (c.bias) {
        out.push({ name: `bias_ih${s}`, shape: [GH] });
        out.push({ name: `bias_hh${s}`, shape: [GH] });
      }
      if (c.mode === 'lstm' && c.peepholes) out.push({ name: `weight_peep${s}`, shape: [3 * H] });
    }
  }
  return out;
}

/** mulberry32: a tiny seeded PRNG, uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n floats uniform in [-scale, scale). */
export function uniform(rand: () => number, n: number, scale: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (rand() * 2 - 1) * scale;
  return a;
}

/** Every parameter U(-1/sqrt(H), 1/sqrt(H)), PyTorch's initialisation, from a seed. */
export function randomParams(c: RnnConfig, seed: number): Params {
  const rand = mulberry32(seed);
  const k = 1 / Math.sqrt(c.hiddenSize);
  const p: Params = {};
  for (const { name, shape } of paramShapes(c)) p[name] = uniform(rand, shape.reduce((a, b) => a * b, 1), k);
  return p;
}

/** x U(-1,1); optional lengths (row 0 always full, others in [1, T]) and initial states U(-0.5,0.5). */
export function randomInput(
  c: RnnConfig,
  T: number,
  B: number,
  seed: number,
  o: { lengths?: boolean | number[]; h0?: boolean; c0?: boolean } = {},
): OracleInput {
  const rand = mulberry32(seed ^ 0x9e3779b9);
  const inp: OracleInput = { x: uniform(rand, T * B * c.inputSize, 1), T, B };
  if (Array.isArray(o.lengths)) inp.lengths = Int32Array.from(o.lengths);
  else if (o.lengths) inp.lengths = Int32Array.from({ length: B }, (_, b) => (b === 0 ? T : 1 + Math.floor(rand() * T)));
  const S = c.numLayers * dirs(c) * B * c.hiddenSize;
  if (o.h0) inp.h0 = uniform(rand, S, 0.5);
  if (o.c0 && c.mode === 'lstm') inp.c0 = uniform(rand, S, 0.5);
  return inp;
}

export interface Diff {
  output: number;
  hN: number;
  cN: number; // 0 when neither has a cell state
}

/**
 * Max |a - b| of outputs and final states. Padded outputs (t >= lengths[b]) are compared only when
 * both sides promise PyTorch's zeros; otherwise only valid steps count.
 */
export function compare(c: RnnConfig, inp: OracleInput, a: OracleOutput, b: OracleOutput): Diff {
  const { T, B } = inp;
  const F = outSize(c);
  const S = c.numLayers * dirs(c) * B * c.hiddenSize;
  check('output', a.output, b.output, T * B * F);
  check('hN', a.hN, b.hN, S);
  const padded = a.paddedOutputsZero && b.paddedOutputsZero;
  let dOut = 0;
  for (let t = 0; t < T; t++) {
    for (let r = 0; r < B; r++) {
      if (!padded && inp.lengths && t >= inp.lengths[r]) continue;
      const o = (t * B + r) * F;
      for (let j = 0; j < F; j++) dOut = Math.max(dOut, absDiff(a.output[o + j], b.output[o + j]));
    }
  }
  let dC = 0;
  if (c.mode === 'lstm') {
    if (!a.cN || !b.cN) throw new Error('Expected cN from both oracles for an LSTM');
    check('cN', a.cN, b.cN, S);
    dC = maxAbsDiff(a.cN, b.cN);
  }
  return { output: dOut, hN: maxAbsDiff(a.hN, b.hN), cN: dC };
}

/** |a - b|, NaN counted as an infinite difference so that it can never pass a tolerance. */
function absDiff(a: number, b: number): number {
  const d = Math.abs(a - b);
  return Number.isNaN(d) ? Infinity : d;
}
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`Expected equal lengths, got ${a.length} and ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, absDiff(a[i], b[i]));
  return m;
}
function check(name: string, a: ArrayLike<number>, b: ArrayLike<number>, n: number): void {
  if (a.length !== n || b.length !== n) throw new Error(`Expected ${name} of ${n} elements, got ${a.length} and ${b.length}`);
}

/** Short name of a configuration for the results table. */
export function caseName(c: RnnConfig, T: number, B: number, inp?: OracleInput): string {
  const kind =
    c.mode === 'rnn'
      ? `rnn-${c.nonlinearity}`
      : c.mode === 'gru'
        ? `gru-${c.resetAfter ? 'ra' : 'cho'}`
        : `lstm${c.peepholes ? '-peep' : ''}${c.cellClip > 0 ? `-clip${c.cellClip}` : ''}`;
  const d = c.bidirectional ? `bi-${c.mergeMode}` : 'uni';
  const extras = [inp?.lengths ? 'lens' : '', inp?.h0 ? 'h0' : '', inp?.c0 ? 'c0' : '', c.bias ? '' : 'nobias'].filter(Boolean).join('+');
  return `${kind} ${d} L${c.numLayers} I${c.inputSize} H${c.hiddenSize} T${T} B${B}${extras ? ' ' + extras : ''}`;
}

/** One row of the results table. */
export interface Row {
  case: string;
  pair: string;
  output: string;
  hN: string;
  cN: string;
}
export function row(name: string, pair: string, d: Diff): Row {
  const f = (v: number) => v.toExponential(1);
  return { case: name, pair, output: f(d.output), hN: f(d.hN), cN: d.cN ? f(d.cN) : '-' };
}
