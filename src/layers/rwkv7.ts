// The rwkv7 layer of a Sequential (`layers.rwkv7`): a stack of RWKV-7 blocks (src/rwkv/stack.ts) as
// a module — its options, width and parameters. It compiles as the graph's rwkv7 node: the model's
// chain graph (src/model/graph-adapter.ts) puts that node in its place with the same stack, and the
// node's emitter (src/graph/rwkv7.ts) writes its forward and backward, so a Sequential holding it
// computes what graph.rwkv7 does, bit for bit. Its state (per block the two token-shift vectors and
// the heads' N×N states) lives in the graph's programs and streams, not in the model's hN / cN.
import type { ParamSpec } from '../params/arena';
import type { Layer } from './module';
import { ShapeError, ValueError, show } from '../errors';
import { checkOptions, keysOf } from '../options';
import { checkLimit } from '../limits';
import { positiveInt as posInt } from '../ir/checks';
import { stackConfig, stackParamSpecs } from '../rwkv/stack';
import type { Rwkv7StackConfig } from '../rwkv/layout';

/** Options of `layers.rwkv7`: the width and shape of a stack of RWKV-7 blocks. */
export interface Rwkv7LayerOptions {
  /** Channels C of the stack: its input and output width (a multiple of headSize). */
  inputSize?: number;
  /** The same width under the RWKV7 model's name (`createRwkv7({ dim })`); give it or inputSize. */
  dim?: number;
  /** Head size N (a positive multiple of 4 dividing the width). */
  headSize: number;
  /** Blocks in the stack. */
  numLayers: number;
  /** Ranks of the decay (w), in-context-rate (a), value-residual (v) and gate (g) low-rank maps. */
  lora: { w: number; a: number; v: number; g: number };
  /** Hidden width of the channel mix (default 4 · the width; a multiple of 4). */
  ffnDim?: number;
}
const RWKV7_KEYS = keysOf<Rwkv7LayerOptions>()('inputSize', 'dim', 'headSize', 'numLayers', 'lora', 'ffnDim');

/** A stack of RWKV-7 blocks as a Sequential layer; its graph node (kind 'rwkv7') does the emitting. */
export class Rwkv7Module implements Layer {
  readonly kind = 'rwkv7';
  readonly inputKind = 'float' as const;
  /** The stack's shape (what the graph's rwkv7 node is built with). */
  readonly stack: Rwkv7StackConfig;
  constructor(o: Rwkv7LayerOptions) {
    checkOptions(o ?? null, RWKV7_KEYS, 'rwkv7 options');
    if (o.inputSize === undefined && o.dim === undefined) throw new ValueError('Expected inputSize (or dim) to be a positive integer, got neither');
    const C = o.inputSize !== undefined ? posInt('inputSize', o.inputSize) : posInt('dim', o.dim);
    if (o.inputSize !== undefined && o.dim !== undefined && o.dim !== C) throw new ValueError(`Expected dim to equal inputSize ${C} (they name one width), got ${show(o.dim)}`);
    const L = posInt('numLayers', o.numLayers);
    const N = o.headSize;
    if (Number.isSafeInteger(N) && N >= 4 && N % 4 === 0 && C % N !== 0) throw new ValueError(`Expected inputSize to be a multiple of headSize ${N}, got ${C}`);
    if (o.ffnDim !== undefined && posInt('ffnDim', o.ffnDim) % 4 !== 0) throw new ValueError(`Expected ffnDim to be a multiple of 4, got ${o.ffnDim}`);
    this.stack = stackConfig(C, { headSize: N, numLayers: L, lora: o.lora, ...(o.ffnDim !== undefined ? { ffnDim: o.ffnDim } : {}) });
    checkLimit('maxParameters', this.paramSpecs().reduce((a, s) => a + s.shape.reduce((p, d) => p * d, 1), 0), `the parameters of rwkv7(inputSize ${C}, numLayers ${L})`);
  }
  /** Channels C: the input and output width. */
  get inputSize(): number {
    return this.stack.dim;
  }
  paramSpecs(): ParamSpec[] {
    return stackParamSpecs(this.stack);
  }
  outFeatures(inFeatures: number): number {
    if (inFeatures !== this.stack.dim) throw new ShapeError(`Expected input features ${this.stack.dim} for rwkv7, got ${inFeatures}`);
    return this.stack.dim;
  }
  config(): Record<string, unknown> {
    const c = this.stack;
    return { type: 'rwkv7', inputSize: c.dim, headSize: c.headSize, numLayers: c.layers, ffnDim: c.ffnDim, lora: { ...c.lora } };
  }
}
