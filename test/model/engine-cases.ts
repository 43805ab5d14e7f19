// The layer kinds and option sets the engine fixtures pin (test/model/engine-fixtures.test.ts) and
// the inputs they are fed; test/model/graph-adapter.test.ts runs the same cases on the graph.
import { LSTM, GRU, RNN, MinGRU, MinLSTM, Sequential, layers, tensor, type Model } from '../../src/index';
import { randArray } from './helpers';

export type Loss = 'mse' | 'crossEntropy';
export interface Case {
  name: string;
  /** The model's seed (its initial parameters). */
  seed: number;
  build: () => Model;
  loss: Loss;
  /** Token ids in [0, vocab) instead of floats. */
  vocab?: number;
  /** Time-major (T, B) unless the model is batchFirst. */
  batchFirst?: boolean;
  /** Feed h0 (and c0) to forward/backward/trainStep. */
  states?: boolean;
  /** Unidirectional: streams. */
  stream: boolean;
  /** Output classes (crossEntropy) or width (mse) of the trained output. */
  out: number;
  /** Also run through a WorkerPool of 2. */
  pool?: boolean;
}

export const I = 3, H = 4, T = 5, B = 2;
export const CASES: Case[] = [
  { name: 'lstm', seed: 11, build: () => new LSTM({ inputSize: I, hiddenSize: H, seed: 11 }), loss: 'mse', states: true, stream: true, out: H },
  { name: 'lstm-peepholes', seed: 12, build: () => new LSTM({ inputSize: I, hiddenSize: H, peepholes: true, cellClip: 0.8, seed: 12 }), loss: 'mse', states: true, stream: true, out: H },
  { name: 'gru', seed: 13, build: () => new GRU({ inputSize: I, hiddenSize: H, seed: 13 }), loss: 'mse', states: true, stream: true, out: H },
  { name: 'gru-cho', seed: 14, build: () => new GRU({ inputSize: I, hiddenSize: H, resetAfter: false, seed: 14 }), loss: 'mse', states: true, stream: true, out: H },
  { name: 'rnn-relu', seed: 15, build: () => new RNN({ inputSize: I, hiddenSize: H, nonlinearity: 'relu', seed: 15 }), loss: 'mse', states: true, stream: true, out: H },
  { name: 'lstm-stacked-bidir', seed: 16, build: () => new LSTM({ inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: true, seed: 16 }), loss: 'mse', states: true, stream: false, out: 2 * H, pool: true },
  { name: 'gru-stacked-dropout', seed: 17, build: () => new GRU({ inputSize: I, hiddenSize: H, numLayers: 2, dropout: 0.3, seed: 17 }), loss: 'mse', stream: true, out: H },
  { name: 'mingru-log', seed: 18, build: () => new MinGRU({ inputSize: I, hiddenSize: H, logSpace: true, seed: 18 }), loss: 'mse', stream: true, out: H },
  { name: 'minlstm', seed: 19, build: () => new MinLSTM({ inputSize: I, hiddenSize: H, seed: 19 }), loss: 'mse', stream: true, out: H },
  {
    name: 'seq-batchfirst-lstm-linear', seed: 21,
    build: () => new Sequential([layers.lstm({ inputSize: I, hiddenSize: H, numLayers: 2 }), layers.linear({ inFeatures: H, outFeatures: 3 })], { batchFirst: true, seed: 21 }),
    loss: 'mse', batchFirst: true, states: true, stream: true, out: 3, pool: true,
  },
  {
    name: 'seq-embedding-gru-logsoftmax', seed: 22,
    build: () => new Sequential([layers.embedding({ numEmbeddings: 7, embeddingDim: 3 }), layers.gru({ inputSize: 3, hiddenSize: H }), layers.dropout({ p: 0.25 }), layers.linear({ inFeatures: H, outFeatures: 7 }), layers.logSoftmax()], { seed: 22 }),
    loss: 'crossEntropy', vocab: 7, stream: true, out: 7,
  },
  {
    name: 'seq-bidir-gru-rnn-dense', seed: 23,
    build: () => new Sequential([layers.gru({ inputSize: I, hiddenSize: H, bidirectional: true }), layers.rnn({ inputSize: 2 * H, hiddenSize: 3 }), layers.dense({ inFeatures: 3, outFeatures: 2 })], { seed: 23 }),
    loss: 'mse', states: true, stream: false, out: 2,
  },
];

// ---- inputs --------------------------------------------------------------------------------------

export function inputs(c: Case, m: Model, Tn: number, Bn: number, seed: number) {
  const r = m.runner;
  const x = c.vocab
    ? tensor(Int32Array.from({ length: Tn * Bn }, (_, i) => (i * 5 + seed) % c.vocab!), c.batchFirst ? [Bn, Tn] : [Tn, Bn])
    : tensor(randArray(Tn * Bn * I, seed), c.batchFirst ? [Bn, Tn, I] : [Tn, Bn, I]);
  const lengths = Int32Array.from({ length: Bn }, (_, b) => Math.max(1, Tn - b * 2));
  const S = r.stateCount('h'), W = r.stateWidth('h');
  const h0 = c.states ? randArray(S * Bn * W, seed + 1, 0.5) : undefined;
  const c0 = c.states && r.stateCount('c') ? randArray(r.stateCount('c') * Bn * r.stateWidth('c'), seed + 2, 0.5) : undefined;
  const y = c.loss === 'crossEntropy'
    ? tensor(Int32Array.from({ length: Tn * Bn }, (_, i) => (i % 4 === 3 ? -1 : (i * 3 + seed) % c.out)), c.batchFirst ? [Bn, Tn] : [Tn, Bn])
    : tensor(randArray(Tn * Bn * c.out, seed + 3), c.batchFirst ? [Bn, Tn, c.out] : [Tn, Bn, c.out]);
  return { x, lengths, h0, c0, y };
}

