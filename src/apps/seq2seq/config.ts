// The architecture of a Seq2Seq model (what its file stores) and the graph built from it:
// src ids → embedding → encoder of any registered cell (bidirectional optional) → final states bridged to
// the decoder through linear + tanh; tgt ids (<s> + target) → embedding → decoder started from
// the bridge; with attention: Luong/Bahdanau attention over the encoder outputs, the attentional
// state tanh(W_c [context; h]), then the logits over the target vocabulary.
import * as g from '../../graph/nodes';
import { GraphModel } from '../../graph/model';
import type { GraphParts } from '../../graph/spec';
import { ValueError, show } from '../../errors';
import type { TokenMode } from './vocab';
import { cellNode, checkCell, type AppCell } from '../common/cells';
import { checkKeys, renameFormer, type FormerSizeNames } from '../../options';
import { positiveInt } from '../../ir/checks';

/** The recurrent cell of the encoder and the decoder. */
export type Seq2SeqCell = AppCell;
/**
 * The attention of the decoder over the encoder outputs: Luong `dot` or `general`, Bahdanau `additive`, or
 * none.
 */
export type Seq2SeqAttention = 'none' | 'dot' | 'general' | 'additive';

/** A Seq2Seq model's architecture (stored in its model file). */
export interface Seq2SeqConfig {
  /** The recurrent cell of the encoder and the decoder (default `'lstm'`). */
  cell: Seq2SeqCell;
  /** Hidden size of each encoder direction (default 64); the decoder's is hiddenSize × directions. */
  hiddenSize: number;
  /** Width of both token embeddings (default 32). */
  embeddingDim: number;
  /** A bidirectional encoder (default false). */
  bidirectional: boolean;
  /** The decoder's attention (default `'general'`). */
  attention: Seq2SeqAttention;
  /** How sources are cut into tokens (default `'chars'`). */
  sourceTokens: TokenMode;
  /** How targets are cut into tokens (default `'chars'`). */
  targetTokens: TokenMode;
  /** Dropout probability in training on the embeddings, the encoder outputs and the decoder's top state (0: none). */
  dropout: number;
  /** Initialiser seed (default 1). */
  seed: number;
}

/** Options of a new {@link Seq2Seq}: any part of its architecture (the rest takes its default). */
export type Seq2SeqOptions = Partial<Seq2SeqConfig> & Omit<FormerSizeNames, 'layers'>;

export { checkKeys };
/** An integer in [1, max] (default 2^20: sizes of a seq2seq model and its runs). */
export const posInt = (name: string, v: unknown, max = 1 << 20): number => positiveInt(name, v, max);

export const CONFIG_KEYS = ['cell', 'hiddenSize', 'embeddingDim', 'bidirectional', 'attention', 'sourceTokens', 'targetTokens', 'dropout', 'seed'] as const;

function oneOf<T extends string>(name: string, v: unknown, allowed: readonly T[], d: T): T {
  if (v === undefined) return d;
  if (!allowed.includes(v as T)) throw new ValueError(`Expected ${name} to be one of ${allowed.join(', ')}, got ${show(v)}`);
  return v as T;
}

export function checkConfig(given: Seq2SeqOptions): Seq2SeqConfig {
  if (given === null || typeof given !== 'object') throw new ValueError(`Expected Seq2Seq options as an object, got ${show(given)}`);
  const o = renameFormer(given, CONFIG_KEYS, 'Seq2Seq option');
  checkKeys(o, CONFIG_KEYS, 'Seq2Seq option');
  if (o.bidirectional !== undefined && typeof o.bidirectional !== 'boolean') throw new ValueError(`Expected bidirectional to be a boolean, got ${show(o.bidirectional)}`);
  const seed = o.seed ?? 1;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new ValueError(`Expected seed to be an integer in [0, 2^32), got ${show(o.seed)}`);
  const dropout = o.dropout ?? 0;
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) throw new ValueError(`Expected dropout to be a number in [0, 1), got ${show(o.dropout)}`);
  return {
    cell: checkCell(o.cell),
    hiddenSize: o.hiddenSize === undefined ? 64 : posInt('hiddenSize', o.hiddenSize, 4096),
    embeddingDim: o.embeddingDim === undefined ? 32 : posInt('embeddingDim', o.embeddingDim, 4096),
    bidirectional: o.bidirectional ?? false,
    attention: oneOf('attention', o.attention, ['none', 'dot', 'general', 'additive'], 'general'),
    sourceTokens: oneOf('sourceTokens', o.sourceTokens, ['chars', 'words'], 'chars'),
    targetTokens: oneOf('targetTokens', o.targetTokens, ['chars', 'words'], 'chars'),
    dropout,
    seed,
  };
}

/** The encoder–decoder graph for a config and the two vocabulary sizes. */
export function buildGraph(c: Seq2SeqConfig, srcV: number, tgtV: number): GraphModel {
  return new GraphModel(graphParts(c, srcV, tgtV));
}

/** The graph's values (no wasm memory: a file's metadata is compared through specOf before anything is built). */
export function graphParts(c: Seq2SeqConfig, srcV: number, tgtV: number): GraphParts {
  const D = c.bidirectional ? 2 : 1;
  const Hd = c.hiddenSize * D;
  const rec = (x: g.Sym, o: Record<string, unknown>) => cellNode(c.cell, x, o as never);
  // dropout (training only) where G2P and translation models usually put it: on the embeddings, the
  // encoder outputs attention reads, and the state the output layer reads; none inside the recurrences
  const drop = (x: g.Sym, name: string): g.Sym => (c.dropout > 0 ? g.dropout(x, { p: c.dropout, name }) : x);
  const src = g.input('src', { type: 'ids', vocabSize: srcV });
  const tgt = g.input('tgt', { type: 'ids', vocabSize: tgtV });
  const enc = rec(drop(g.embedding(src, { embeddingDim: c.embeddingDim, name: 'src_emb' }), 'src_drop'), { hiddenSize: c.hiddenSize, bidirectional: c.bidirectional, name: 'enc' });
  const bridge = (s: g.Sym, name: string) => g.tanh(g.linear(s, { outFeatures: Hd, name }), { name: `${name}_tanh` });
  const init = { h: bridge(enc.hN, 'bridge_h'), c: enc.cN ? bridge(enc.cN, 'bridge_c') : undefined };
  const dec = rec(drop(g.embedding(tgt, { embeddingDim: c.embeddingDim, name: 'tgt_emb' }), 'tgt_drop'), { hiddenSize: Hd, name: 'dec', initialState: init });
  let top = dec.output;
  const outputs: Record<string, g.Sym> = {};
  if (c.attention !== 'none') {
    const att = g.attention(dec.output, drop(enc.output, 'enc_drop'), { score: c.attention, name: 'att' });
    top = g.tanh(g.linear(g.concat([att.context, dec.output], { name: 'attn_cat' }), { outFeatures: Hd, bias: false, name: 'attn_state' }), { name: 'attn_tanh' });
    outputs.weights = att.weights;
  }
  outputs.logits = g.linear(drop(top, 'top_drop'), { outFeatures: tgtV, name: 'out' });
  return { inputs: [src, tgt], outputs, seed: c.seed };
}
