// What the classifier and the labeler share: the encoder graph (token ids → embedding → recurrent
// layers), option checks, the feed for a batch of texts, one gradient step through the public
// backward, and the model file (the graph plus the tokenizer, labels and settings in its header).
import * as graph from '../../graph/index';
import { GraphModel } from '../../graph/model';
import { architectureOf, specOf, type GraphParts } from '../../graph/spec';
import { describe } from '../../errors';
import type { Sym } from '../../graph/nodes';
import type { TrainingState } from '../graph-app';
import type { Optimizer } from '../../train/optim';
import { FormatError } from '../../io/format';
import { NonFiniteError } from '../../train/guard';
import { DTypeError, ShapeError, ValueError, show } from '../../errors';
import { Tensor } from '../../tensor';
import { Tokenizer, type TokenizerJSON } from './tokenizer';
import { padIds } from './batches';
import { cellNode, checkCell, type AppCell } from './cells';
import { checkKeys, renameFormer, type FormerSizeNames } from '../../options';

export { renameFormer };

export type { AppCell } from './cells';

export interface EncoderOptions extends FormerSizeNames {
  /** The recurrent cell (default `'lstm'`). */
  cell?: AppCell;
  /** Hidden units per layer and direction (default 64). */
  hiddenSize?: number;
  /** Token embedding width (default 32). */
  embeddingDim?: number;
  /** Stacked recurrent layers (default 1). */
  numLayers?: number;
  /** Read the text both ways (default: false for the classifier, true for the labeler). */
  bidirectional?: boolean;
  /** Dropout on the encoder's outputs in training (default 0). */
  dropout?: number;
  /** Texts longer than this many tokens are cut (default 400). */
  maxLength?: number;
  /** Initialiser seed (default 1). */
  seed?: number;
}

export type EncoderConfig = Required<Omit<EncoderOptions, keyof FormerSizeNames>>;

export { checkKeys };

const ENCODER_KEYS = ['cell', 'hiddenSize', 'embeddingDim', 'numLayers', 'bidirectional', 'dropout', 'maxLength', 'seed'];

function int(name: string, v: number, min: number): number {
  if (!Number.isInteger(v) || v < min) throw new ValueError(`Expected ${name} to be an integer >= ${min}, got ${show(v)}`);
  return v;
}

export function encoderConfig(o: EncoderOptions, bidirectionalDefault: boolean): EncoderConfig {
  const c: EncoderConfig = {
    cell: checkCell(o.cell),
    hiddenSize: int('hiddenSize', o.hiddenSize ?? 64, 1),
    embeddingDim: int('embeddingDim', o.embeddingDim ?? 32, 1),
    numLayers: int('numLayers', o.numLayers ?? 1, 1),
    bidirectional: o.bidirectional ?? bidirectionalDefault,
    dropout: o.dropout ?? 0,
    maxLength: int('maxLength', o.maxLength ?? 400, 1),
    seed: int('seed', o.seed ?? 1, 0),
  };
  if (typeof c.bidirectional !== 'boolean') throw new ValueError(`Expected bidirectional to be a boolean, got ${show(c.bidirectional)}`);
  if (typeof c.dropout !== 'number' || !(c.dropout >= 0 && c.dropout < 1)) throw new ValueError(`Expected dropout in [0, 1), got ${show(c.dropout)}`);
  return c;
}

export function encoderKeys(extra: string[]): string[] {
  return [...ENCODER_KEYS, ...extra];
}

export function checkLabels(labels: unknown, what: string): string[] {
  if (!Array.isArray(labels) || labels.length < 2) throw new ValueError(`Expected ${what} to be an array of at least 2 names, got ${Array.isArray(labels) ? labels.length : show(labels)}`);
  const seen = new Set<string>();
  for (const [i, l] of labels.entries()) {
    if (typeof l !== 'string' || !l.length) throw new ValueError(`Expected ${what}[${i}] to be a non-empty string, got ${JSON.stringify(l)}`);
    if (seen.has(l)) throw new ValueError(`Expected distinct ${what}, got ${l} twice`);
    seen.add(l);
  }
  return [...labels];
}

export function asTokenizer(t: Tokenizer | TokenizerJSON): Tokenizer {
  return t instanceof Tokenizer ? t : Tokenizer.fromJSON(t);
}

/** ids → embedding → recurrent layers (→ dropout): the encoder's per-step output and its final states hN (every layer, both directions). */
export function buildEncoder(vocabSize: number, c: EncoderConfig): { ids: Sym; output: Sym; hN: Sym } {
  const ids = graph.input('ids', { type: 'ids', vocabSize });
  const emb = graph.embedding(ids, { embeddingDim: c.embeddingDim, name: 'emb' });
  const r = cellNode(c.cell, emb, { hiddenSize: c.hiddenSize, numLayers: c.numLayers, bidirectional: c.bidirectional, dropout: c.numLayers > 1 ? c.dropout : 0, seed: c.seed, name: 'rnn' });
  const output = c.dropout > 0 ? graph.dropout(r.output, { p: c.dropout, name: 'drop' }) : r.output;
  const hN = c.dropout > 0 ? graph.dropout(r.hN, { p: c.dropout, name: 'drop_h' }) : r.hN;
  return { ids, output, hN };
}

/** The feed of a batch of encoded texts (each cut to maxLength tokens). */
export function feedOf(seqs: readonly Int32Array[], maxLength: number): { feed: { ids: { data: Tensor<Int32Array>; lengths: number[] } }; lengths: number[] } {
  const { data, lengths } = padIds(seqs.map((s) => (s.length > maxLength ? s.subarray(0, maxLength) : s)));
  return { feed: { ids: { data, lengths } }, lengths };
}

/** One training step through the public backward: forward (kept, with dropout), dOutput from `loss`, backward, clip, step. */
export function gradStep(model: GraphModel, feed: object, output: string, loss: (out: Tensor) => { loss: number; dOut: Float32Array }, opt: Optimizer, clipNorm: number): number {
  model.zeroGrad();
  const out = model.forward(feed as never, { keep: true, training: true })[output];
  const r = loss(out);
  if (!Number.isFinite(r.loss)) return r.loss; // TerminateOnNaN: nothing is stepped
  model.backward({ [output]: r.dOut });
  try {
    model.step(opt, { clipNorm });
  } catch (e) {
    // the step would have made parameters non-finite; it was refused and undone: TerminateOnNaN
    if (e instanceof NonFiniteError) return NaN;
    throw e;
  }
  return r.loss;
}

export interface AppHeader {
  app: string;
  tokenizer: TokenizerJSON;
  labels: string[];
  config: Record<string, unknown>;
  extra?: Record<string, number[]>;
  /** The training loop's state of a checkpoint (settings, step), with the optimizer in the file. */
  training?: TrainingState;
}

/** The metadata of a classifier or labeler file (its optimizer, if any, is stored by the file format). */
export function appMetadata(h: AppHeader): Record<string, unknown> {
  return { ...h } as unknown as Record<string, unknown>;
}

/** The application header of a classifier or labeler file; FormatError when it is not one (the caller releases what it loaded). */
export function appHeader(metadata: Record<string, unknown> | undefined, app: string): AppHeader {
  const h = metadata as unknown as AppHeader | undefined;
  if (!h || h.app !== app) throw new FormatError(`Expected a ${app} model file, got ${typeof h?.app === 'string' ? `a ${h.app} file` : 'a graph file without an application header'}`);
  if (h.config === null || typeof h.config !== 'object' || Array.isArray(h.config)) throw new FormatError(`Expected metadata.config of a ${app} model file to be an object, got ${describe(h.config)}`);
  if (h.training !== undefined && !isTrainingState(h.training)) throw new FormatError('Expected metadata.training as { settings: { batchSize, lr, clipNorm, seed }, step }, got something else');
  return h;
}

function isTrainingState(t: unknown): t is TrainingState {
  if (!t || typeof t !== 'object') return false;
  const { settings, step } = t as Record<string, unknown>;
  if (!Number.isSafeInteger(step) || (step as number) < 0 || !settings || typeof settings !== 'object') return false;
  const s = settings as Record<string, unknown>;
  return Number.isSafeInteger(s.batchSize) && (s.batchSize as number) >= 1 && [s.lr, s.clipNorm].every((v) => typeof v === 'number' && v > 0 && Number.isFinite(v))
    && Number.isInteger(s.seed) && (s.seed as number) >= 0 && (s.seed as number) <= 0xffffffff;
}

/** Throws a ValueError unless `model` is the graph `parts` describe (compared as specs: nothing is built). */
export function checkSameGraph(model: GraphModel, parts: GraphParts, what: string): void {
  if (!(model instanceof GraphModel)) throw new ValueError(`Expected a GraphModel, got ${describe(model)}`);
  if (architectureOf(model.spec()) !== architectureOf(specOf(parts))) throw new ValueError(`Expected the graph ${what} describe (vocabulary size, labels, settings), got another graph`);
}

/** A refused application file's error: a value, shape or type error (bad metadata) becomes a FormatError; others pass. */
export function appFileError(e: unknown, app: string): unknown {
  const bad = e instanceof ValueError || e instanceof ShapeError || e instanceof DTypeError;
  return bad ? new FormatError(`Expected a valid ${app} model file, got: ${e.message}`) : e;
}
