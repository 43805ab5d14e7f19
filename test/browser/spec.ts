// A forward pass described by plain data, run the same way in Node and in Chromium.
export interface ForwardSpec {
  variant: 'simd' | 'relaxed';
  cell: 'rnn' | 'lstm' | 'gru' | 'mingru' | 'minlstm';
  T: number;
  B: number;
  I: number;
  H: number;
  numLayers: number;
  bidirectional: boolean;
  lengths?: number[];
  seed: number;
  /** Quantize the model to int8 and run in this activation mode. */
  int8?: 'exact' | 'fast';
}

type Lib = typeof import('../../dist/index.js');

/** Runs the spec with a library instance; returns output and hN as plain arrays. */
export async function forwardSpec(lib: Lib, s: ForwardSpec): Promise<{ variant: string; int8: string; relaxedDot: boolean; output: number[]; hN: number[] }> {
  const { variant, int8, relaxedDot } = await lib.init({ variant: s.variant, int8: s.int8 ?? 'auto' });
  const Ctor = { rnn: lib.RNN, lstm: lib.LSTM, gru: lib.GRU, mingru: lib.MinGRU, minlstm: lib.MinLSTM }[s.cell];
  const m = new Ctor({ inputSize: s.I, hiddenSize: s.H, numLayers: s.numLayers, bidirectional: s.bidirectional, seed: s.seed });
  if (s.int8) lib.quantize(m, { weights: 'int8' });
  const x = new Float32Array(s.T * s.B * s.I);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.37 + s.seed);
  const r = m.forward(lib.tensor(x, [s.T, s.B, s.I]), { lengths: s.lengths });
  m.dispose();
  return { variant, int8, relaxedDot, output: Array.from(r.output.data), hN: Array.from(r.hN.data) };
}

/** A few training steps described by plain data (cell → linear, cross-entropy, Adam, clipNorm). */
export interface TrainSpec {
  variant: 'simd' | 'relaxed';
  cell: 'rnn' | 'lstm' | 'gru' | 'mingru' | 'minlstm';
  T: number;
  B: number;
  I: number;
  H: number;
  V: number;
  steps: number;
  dropout: number;
  lengths?: number[];
  seed: number;
}

/** Trains per the spec; returns the losses and every parameter after training as plain arrays. */
export async function trainSpec(lib: Lib, s: TrainSpec): Promise<{ variant: string; losses: number[]; params: number[] }> {
  const { variant } = await lib.init({ variant: s.variant });
  const Ctor = { rnn: lib.layers.rnn, lstm: lib.layers.lstm, gru: lib.layers.gru, mingru: lib.layers.minGRU, minlstm: lib.layers.minLSTM }[s.cell];
  const m = new lib.Sequential(
    [Ctor({ inputSize: s.I, hiddenSize: s.H, numLayers: 2, dropout: s.dropout }), lib.layers.linear({ inFeatures: s.H, outFeatures: s.V })],
    { seed: s.seed },
  );
  const x = new Float32Array(s.T * s.B * s.I);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.37 + s.seed);
  const y = Int32Array.from({ length: s.T * s.B }, (_, i) => (i * 5 + s.seed) % s.V);
  const batch = { x: lib.tensor(x, [s.T, s.B, s.I]), y: new lib.Tensor(y, [s.T, s.B]), lengths: s.lengths };
  const optimizer = new lib.Adam({ lr: 0.01 });
  const losses: number[] = [];
  for (let k = 0; k < s.steps; k++) losses.push(m.trainStep(batch, { loss: 'crossEntropy', optimizer, clipNorm: 1 }).loss);
  const params = m.parameters().flatMap((p) => Array.from(m.getParameter(p.name)));
  m.dispose();
  return { variant, losses, params };
}

/** An encoder–decoder graph with attention (scripts/reverse-task.mjs) trained for a few steps, then decoded step-wise. */
export interface GraphSpecRun {
  variant: 'simd' | 'relaxed';
  steps: number;
  seed: number;
}

/** Trains the graph per the spec; returns losses, parameters and the first decoding steps' logits. */
export async function graphTrainSpec(lib: Lib, s: GraphSpecRun): Promise<{ variant: string; losses: number[]; params: number[]; logits: number[] }> {
  const { variant } = await lib.init({ variant: s.variant });
  const task = await import('../../scripts/reverse-task.mjs');
  const m = task.buildModel(lib, { attention: true, hidden: 12, embed: 6, seed: s.seed });
  const strs = task.makeStrings(task.prng(s.seed), 8, 3, 7);
  const batch = task.batchOf(lib, strs);
  const optimizer = new lib.Adam({ lr: 0.01 });
  const losses: number[] = [];
  for (let k = 0; k < s.steps; k++) losses.push(m.trainStep(batch as never, { losses: { logits: 'crossEntropy' }, optimizer: optimizer as never, clipNorm: 1 }).loss);
  const params = m.parameters().flatMap((p) => Array.from(m.getParameter(p.name)));
  const dec = m.decoder({ step: 'tgt', context: { src: batch.inputs.src as never } });
  const logits: number[] = [];
  let x = new Int32Array(strs.length).fill(task.BOS);
  for (let t = 0; t < 4; t++) {
    const l = dec.step(x).logits.data;
    logits.push(...l);
    x = Int32Array.from({ length: strs.length }, (_, b) => (t + b) % 10);
  }
  m.dispose();
  return { variant, losses, params, logits };
}
