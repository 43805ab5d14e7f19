// Option keys of every public entry point, and the one check they all call before any side effect:
// an unknown or misspelt key (`num_layers`, `learning_rate`, `batchfirst`) is a ValueError that names
// the key and suggests the allowed key it most likely meant. Values are checked by each entry point.
// Each key list is tied to its options type at compile time (`keysOf`): adding a field to an
// interface without listing it here does not compile, so the lists cannot drift from the types.
import type { RecurrentInit, RNNOptions, LSTMOptions, GRUOptions } from './layers/recurrent';
import type { EmbeddingOptions, LinearOptions } from './layers/dense';
import type { RunOptions } from './model/runner';
import type { StreamOptions } from './model/stream';
import type { BackwardGradients, KeepOptions } from './train/backward';
import type { GraphStepOptions } from './graph/model';
import type { StepOptions } from './train/trainer';
import type { FitOptions } from './train/fit';
import type { SGDOptions, RMSPropOptions, AdamOptions } from './train/optim';
import type { SaveOptions } from './io/format';
import type { ConvertOptions } from './io/convert';
import type { OnnxExportOptions } from './io/onnx';
import type { TorchImportOptions, TorchModuleSpec } from './io/torch';
import type { WorkerPoolOptions } from './parallel/pool';
import type { InitOptions } from './wasm/load';
import type { SequentialOptions } from './model/model';
import type { CRFOptions } from './layers/crf';
import { ValueError } from './errors';

type Missing<T, K extends readonly string[]> = Exclude<keyof T & string, K[number]>;
/** The keys of options type T, all of them (a missing one is a compile error naming it). */
const keysOf =
  <T>() =>
  <const K extends readonly (keyof T & string)[]>(...keys: K & ([Missing<T, K>] extends [never] ? unknown : { missing: Missing<T, K> })): K =>
    keys;

const RECURRENT = keysOf<RNNOptions & LSTMOptions & GRUOptions>()(
  'inputSize', 'hiddenSize', 'numLayers', 'bidirectional', 'mergeMode', 'batchFirst', 'bias', 'seed', 'dropout', 'init',
  'nonlinearity', 'peepholes', 'cellClip', 'resetAfter',
);
const STEP = keysOf<StepOptions>()('loss', 'optimizer', 'clipNorm', 'clipValue', 'tbptt', 'onNonFinite');

/** Allowed keys per entry point (the argument name used in messages is the caller's). */
export const OPTION_KEYS = {
  recurrent: RECURRENT,
  recurrentInit: keysOf<RecurrentInit>()('weightIh', 'weightHh', 'bias', 'forgetBias'),
  linear: keysOf<LinearOptions>()('inFeatures', 'outFeatures', 'bias'),
  embedding: keysOf<EmbeddingOptions>()('numEmbeddings', 'embeddingDim'),
  dropout: keysOf<{ p: number }>()('p'),
  sequential: keysOf<SequentialOptions>()('inputSize', 'batchFirst', 'seed'),
  forward: keysOf<RunOptions>()('lengths', 'h0', 'c0'),
  forwardKeep: keysOf<KeepOptions>()('lengths', 'h0', 'c0', 'keep', 'training'),
  backward: keysOf<BackwardGradients>()('dOutput', 'dhN', 'dcN'),
  applyStep: keysOf<{ clipNorm?: number; clipValue?: number }>()('clipNorm', 'clipValue'),
  graphForward: keysOf<{ keep?: boolean; training?: boolean }>()('keep', 'training'),
  graphStep: keysOf<GraphStepOptions>()('losses', 'optimizer', 'clipNorm', 'clipValue'),
  graphDecoder: keysOf<{ step: string; context: unknown; beam?: number }>()('step', 'context', 'beam'),
  stream: keysOf<StreamOptions>()('batchSize', 'packed'),
  step: STEP,
  fit: keysOf<FitOptions>()(...STEP, 'epochs', 'batchSize', 'shuffle', 'seed', 'validationData', 'onBatchEnd', 'onEpochEnd', 'signal'),
  evaluate: keysOf<{ loss: unknown; training?: boolean }>()('loss', 'training'),
  poolEvaluate: keysOf<{ loss: unknown }>()('loss'),
  evaluateDataset: keysOf<{ loss: unknown; batchSize?: number }>()('loss', 'batchSize'),
  sgd: keysOf<SGDOptions>()('lr', 'momentum', 'dampening', 'nesterov', 'weightDecay', 'schedule'),
  rmsprop: keysOf<RMSPropOptions>()('lr', 'alpha', 'eps', 'momentum', 'weightDecay', 'schedule'),
  adam: keysOf<AdamOptions>()('lr', 'beta1', 'beta2', 'eps', 'weightDecay', 'schedule'),
  save: keysOf<SaveOptions>()('vocabulary', 'metadata', 'optimizer'),
  convert: keysOf<ConvertOptions>()('from', 'to', 'architecture', 'onnx', 'metadata'),
  onnxExport: keysOf<OnnxExportOptions>()('opset', 'lengths', 'name'),
  torchImport: keysOf<TorchImportOptions>()('prefixes'),
  workerPool: keysOf<WorkerPoolOptions>()('workers', 'timeout', 'startTimeout', 'workerUrl'),
  init: keysOf<InitOptions>()('variant', 'threads'),
  predict: keysOf<{ lengths?: unknown }>()('lengths'),
  crf: keysOf<CRFOptions>()('numTags', 'seed'),
  crfNll: keysOf<{ reduction?: unknown }>()('reduction'),
  // PyTorch's own vocabulary, per module type of an importTorch architecture
  torchRecurrent: keysOf<TorchSpec<'RNN' | 'LSTM' | 'GRU'>>()(
    'type', 'name', 'input_size', 'hidden_size', 'num_layers', 'bias', 'batch_first', 'bidirectional', 'dropout', 'nonlinearity', 'proj_size',
  ),
  torchLinear: keysOf<TorchSpec<'Linear'>>()('type', 'name', 'in_features', 'out_features', 'bias'),
  torchEmbedding: keysOf<TorchSpec<'Embedding'>>()('type', 'name', 'num_embeddings', 'embedding_dim', 'padding_idx'),
  torchDropout: keysOf<TorchSpec<'Dropout'>>()('type', 'name', 'p'),
  torchSoftmax: keysOf<TorchSpec<'Softmax' | 'LogSoftmax'>>()('type', 'name', 'dim'),
} as const satisfies Record<string, readonly string[]>;
type TorchSpec<T extends TorchModuleSpec['type']> = Extract<TorchModuleSpec, { type: T }>;

// Names users bring from PyTorch, Keras or TF.js whose spelling is not close to ours.
const ALIASES: Record<string, string> = {
  learningrate: 'lr',
  units: 'hiddenSize',
  hidden: 'hiddenSize',
  layers: 'numLayers',
  epsilon: 'eps',
  rho: 'alpha',
  numworkers: 'workers',
  threads: 'workers',
  decay: 'weightDecay',
  mode: 'mergeMode',
};

const norm = (s: string) => s.toLowerCase().replace(/[\s_-]/g, '');

/** Edit distance counting insertions, deletions, substitutions and swaps of neighbours (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The allowed key `key` most likely meant, or undefined when none is close. */
export function suggestKey(key: string, allowed: readonly string[]): string | undefined {
  const k = norm(key);
  const same = allowed.find((a) => norm(a) === k);
  if (same) return same;
  const alias = ALIASES[k];
  if (alias && allowed.includes(alias)) return alias;
  const longer = k.length >= 3 ? allowed.find((a) => norm(a).startsWith(k)) : undefined; // an abbreviation
  if (longer) return longer;
  let best: string | undefined;
  let bestD = Infinity;
  for (const a of allowed) {
    const d = editDistance(k, norm(a));
    if (d < bestD) [best, bestD] = [a, d];
  }
  // a typo, not another word: at most one edit per three letters (and at least one)
  return bestD <= Math.max(1, Math.floor(k.length / 3)) ? best : undefined;
}

/**
 * Throws a ValueError when `obj` is not an options object (undefined is allowed: every option
 * defaulted) or has a key outside `allowed`. `argName` names the argument in the message.
 */
export function checkOptions(obj: unknown, allowed: readonly string[], argName: string): void {
  if (obj === undefined) return;
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    const got = obj === null ? 'null' : Array.isArray(obj) ? 'an array' : typeof obj;
    throw new ValueError(`Expected ${argName} to be an options object, got ${got}`);
  }
  for (const key of Object.keys(obj)) {
    if (allowed.includes(key)) continue;
    const s = suggestKey(key, allowed);
    throw new ValueError(
      `Expected only known keys in ${argName} (${allowed.join(', ')}), got '${key}'` + (s ? `; did you mean '${s}'?` : ''),
    );
  }
}
