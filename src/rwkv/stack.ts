// A stack of RWKV-7 blocks without the embedding and the head: what the graph's rwkv7 node holds
// (src/graph/rwkv7.ts). Its options, its parameters under the RWKV7 model's official names and
// shapes (ln0, every block, ln_out; so an RWKV7 state_dict loads under the node's prefix) with the
// official initialisers, and the low-rank factors that the kernels read transposed.
import { checkLimit } from '../limits';
import type { ParamSpec } from '../params/arena';
import { ShapeError, ValueError, show } from '../errors';
import { checkOptions, keysOf } from '../options';
import { checkConfig, layoutOf, type Rwkv7StackConfig } from './layout';
import { officialInit } from './official-init';

/** Options of `graph.rwkv7`: the block stack's shape (its width is the input's features). */
export interface Rwkv7NodeOptions {
  /** Head size N (a multiple of 4 dividing the input's features). */
  headSize: number;
  /** Blocks in the stack. */
  numLayers: number;
  /** Ranks of the decay (w), in-context-rate (a), value-residual (v) and gate (g) low-rank maps. */
  lora: { w: number; a: number; v: number; g: number };
  /** Hidden width of the channel mix (default 4 · the input's features). */
  ffnDim?: number;
  /** The node's name, the prefix of its parameters (`rwkv.blocks.0.att.key.weight`); default `rwkv7_<n>`. */
  name?: string;
}
const NODE_KEYS = keysOf<Rwkv7NodeOptions>()('headSize', 'numLayers', 'lora', 'ffnDim', 'name');

/** The shape of a stack for an input of `dim` features from the node's options (ValueError naming a bad one). */
export function stackConfig(dim: number, o: Rwkv7NodeOptions): Rwkv7StackConfig {
  checkOptions(o ?? null, NODE_KEYS, 'rwkv7 options');
  if (o.lora === null || typeof o.lora !== 'object') throw new ValueError(`Expected lora to be { w, a, v, g } ranks, got ${show(o.lora)}`);
  checkOptions(o.lora, ['w', 'a', 'v', 'g'], 'lora');
  const c: Rwkv7StackConfig = {
    dim, headSize: o.headSize, layers: o.numLayers, ffnDim: o.ffnDim ?? 4 * dim,
    lora: { w: o.lora.w, a: o.lora.a, v: o.lora.v, g: o.lora.g },
  };
  if (!Number.isSafeInteger(o.numLayers) || o.numLayers < 1) throw new ValueError(`Expected numLayers to be a positive integer, got ${show(o.numLayers)}`);
  checkLimit('maxLayers', o.numLayers, 'numLayers');
  if (!Number.isSafeInteger(o.headSize) || o.headSize < 4 || o.headSize % 4 !== 0) throw new ValueError(`Expected headSize to be a positive multiple of 4, got ${show(o.headSize)}`);
  if (dim % o.headSize !== 0) throw new ShapeError(`Expected the input's features to be a multiple of headSize ${o.headSize}, got ${dim}`);
  checkConfig({ ...c, vocabSize: 1 });
  return c;
}

/** The node's parameters: official names and shapes, official initialisers, in state_dict order. */
export function stackParamSpecs(c: Rwkv7StackConfig): ParamSpec[] {
  return layoutOf({ ...c, vocabSize: 1 }).entries
    .filter((e) => e.name !== 'emb.weight' && e.name !== 'head.weight')
    .map((e) => ({ name: e.name, shape: [...e.shape], init: officialInit(c, e.name) }));
}

/** The low-rank factors (official (C, D) / (D, C)) the kernels read transposed, with their official shapes. */
export function transposedParams(c: Rwkv7StackConfig): { name: string; rows: number; cols: number }[] {
  return layoutOf({ ...c, vocabSize: 1 }).entries.filter((e) => e.transposed).map((e) => ({ name: e.name, rows: e.shape[0], cols: e.shape[1] }));
}

/**
 * The weights a quantized graph replaces with int8 copies (official names): each block's r/k/v/output
 * projections and channel-mix key/value, stored as gemm_nt reads them. The low-rank factors, which
 * the node reads through transposed copies, stay f32.
 */
export function stackInt8Names(c: Rwkv7StackConfig): string[] {
  const names: string[] = [];
  for (let l = 0; l < c.layers; l++) {
    for (const m of ['receptance', 'key', 'value', 'output']) names.push(`blocks.${l}.att.${m}.weight`);
    names.push(`blocks.${l}.ffn.key.weight`, `blocks.${l}.ffn.value.weight`);
  }
  return names;
}
