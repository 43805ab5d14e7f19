// The model graph's functional API (in the spirit of Keras' functional models): named inputs, and
// node builders that take symbolic values and return symbolic values. A value is a sequence
// (T, B, F) on the time axis of one input (its T and lengths), a per-example vector (B, F), token
// ids (T, B), or attention weights (Tq, B, Tk). Layers reuse the Sequential modules (src/layers/);
// parameters are named `<node name>.<PyTorch name>`.
import type { Module } from '../layers/module';
import type { CellKind } from '../layers/cells';
import { RecurrentCore, type AnyCellOptions, type GRUOptions, type LSTMOptions, type MinGRUOptions, type MinLSTMOptions, type RNNOptions } from '../layers/recurrent';
import { DropoutModule, EmbeddingModule, LinearModule, SoftmaxModule } from '../layers/dense';
import type { ParamSpec } from '../params/arena';
import { ShapeError, ValueError, show } from '../errors';
import { positiveInt as posInt } from '../ir/checks';
import { stackConfig, stackParamSpecs, type Rwkv7NodeOptions } from '../rwkv/stack';
import type { Rwkv7StackConfig } from '../rwkv/layout';

export type ValueKind = 'seq' | 'vec' | 'ids' | 'weights';

/** A symbolic value: one output port of a node. */
export class Sym {
  /** @internal made by the graph.* functions */
  constructor(
    /** @internal the node whose output this is */
    readonly node: GNode,
    /** @internal which output of the node */
    readonly port: number,
    /** @internal sequence, vector, token ids or attention weights */
    readonly kind: ValueKind,
    /** Features per row (ids: 1; weights: the key axis' T, known at compile time). */
    readonly features: number,
    /** @internal the input whose steps and lengths a sequence (or ids, or the query side of weights) follows. */
    readonly axis: InputNode | null,
  ) {}
}

/** How `graph.pool` reduces a sequence's valid steps to a vector: the last one, their mean or their max. */
export type PoolMode = 'last' | 'mean' | 'max';
/** The score of `graph.attention`: Luong `dot` and `general`, Bahdanau `additive`. */
export type AttentionScore = 'dot' | 'general' | 'additive';

/** Every node: its kind, name, inputs, and (for layers) the Sequential module it wraps. */
export class GNode {
  readonly ports: Sym[] = [];
  /** What the arena names of this node's parameters start with (`<name>.`; a Sequential's layer: `<index>.` or nothing, src/model/graph-adapter.ts). */
  paramPrefix: string;
  constructor(
    readonly kind: string,
    readonly name: string,
    readonly inputs: Sym[],
    readonly module: Module | null,
    readonly opts: Record<string, unknown> = {},
  ) {
    this.paramPrefix = `${name}.`;
  }
  port(kind: ValueKind, features: number, axis: InputNode | null): Sym {
    const s = new Sym(this, this.ports.length, kind, features, axis);
    this.ports.push(s);
    return s;
  }
  /** Parameters with node-local names. */
  paramSpecs(): ParamSpec[] {
    if (this.module) return this.module.paramSpecs();
    if (this.kind === 'rwkv7') return stackParamSpecs(this.opts.stack as Rwkv7StackConfig);
    if (this.kind !== 'attention') return [];
    const H = this.inputs[0].features;
    const E = this.inputs[1].features;
    const u = (fan: number) => ({ kind: 'uniform' as const, bound: 1 / Math.sqrt(fan) });
    if (this.opts.score === 'general') return [{ name: 'weight', shape: [H, E], init: u(E) }];
    if (this.opts.score === 'additive') {
      const A = this.opts.attentionSize as number;
      return [
        { name: 'query_weight', shape: [A, H], init: u(H) },
        { name: 'key_weight', shape: [A, E], init: u(E) },
        { name: 'key_bias', shape: [A], init: u(E) },
        { name: 'v', shape: [A], init: u(A) },
      ];
    }
    return [];
  }
}

export class InputNode extends GNode {}

// Node names: given, or <kind>_<n> in creation order. Names are checked for uniqueness when a
// model is built from the graph.
let counter = 0;
function nameOf(kind: string, name: unknown): string {
  if (name === undefined) return `${kind}_${counter++}`;
  if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new ValueError(`Expected a node name of letters, digits and _, got ${show(name)}`);
  }
  return name;
}

function sym(v: unknown, arg: string, kinds: ValueKind[]): Sym {
  if (!(v instanceof Sym)) throw new ValueError(`Expected ${arg} to be a graph value (from graph.input or a node), got ${show(v)}`);
  if (!kinds.includes(v.kind)) throw new ValueError(`Expected ${arg} to be a ${kinds.join(' or ')} value, got a ${v.kind} value`);
  return v;
}


/** Options of `graph.input`: the kind of input and its width. */
export interface InputOptions {
  /** 'float' sequences (T, B, features), 'ids' token-id sequences (T, B), 'vector' per-example (B, features). */
  type: 'float' | 'ids' | 'vector';
  /** Features per step (`'float'`) or per example (`'vector'`). */
  features?: number;
  /** Vocabulary size of `'ids'` inputs: ids are in [0, vocabSize). */
  vocabSize?: number;
}

/** A named input. */
export function input(name: string, o: InputOptions): Sym {
  if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new ValueError(`Expected an input name of letters, digits and _, got ${show(name)}`);
  if (!o || !['float', 'ids', 'vector'].includes(o.type)) throw new ValueError(`Expected input type 'float', 'ids' or 'vector', got ${show(o?.type)}`);
  const n = new InputNode('input', name, [], null, { ...o });
  if (o.type === 'ids') {
    n.opts.vocabSize = posInt('vocabSize', o.vocabSize);
    return n.port('ids', 1, n);
  }
  const F = posInt('features', o.features);
  return o.type === 'float' ? n.port('seq', F, n) : n.port('vec', F, null);
}

/** Token ids → vectors (nn.Embedding). */
export function embedding(x: Sym, o: { embeddingDim: number; numEmbeddings?: number; name?: string }): Sym {
  const s = sym(x, 'x', ['ids']);
  const V = o.numEmbeddings ?? (s.node.opts.vocabSize as number);
  const m = new EmbeddingModule({ numEmbeddings: V, embeddingDim: o?.embeddingDim });
  return new GNode('embedding', nameOf('embedding', o?.name), [s], m).port('seq', m.embeddingDim, s.axis);
}

/** y = x·Wᵀ + b over every step of a sequence, or over vectors. */
export function linear(x: Sym, o: { outFeatures: number; bias?: boolean; name?: string }): Sym {
  const s = sym(x, 'x', ['seq', 'vec']);
  const m = new LinearModule({ inFeatures: s.features, outFeatures: o?.outFeatures, bias: o?.bias });
  return new GNode('linear', nameOf('linear', o?.name), [s], m).port(s.kind, m.outFeatures_, s.axis);
}

function elementwise(kind: string, x: Sym, m: Module | null, name: unknown): Sym {
  const s = sym(x, 'x', ['seq', 'vec']);
  return new GNode(kind, nameOf(kind, name), [s], m).port(s.kind, s.features, s.axis);
}
/** Softmax over the features of every step (or of vectors). */
export const softmax = (x: Sym, o: { name?: string } = {}): Sym => elementwise('softmax', x, new SoftmaxModule('softmax'), o.name);
/** Log-softmax over the features of every step (or of vectors). */
export const logSoftmax = (x: Sym, o: { name?: string } = {}): Sym => elementwise('logSoftmax', x, new SoftmaxModule('logSoftmax'), o.name);
/** Elementwise tanh. */
export const tanh = (x: Sym, o: { name?: string } = {}): Sym => elementwise('tanh', x, null, o.name);
/** Inverted dropout with probability `p` in training; the identity at inference. */
export const dropout = (x: Sym, o: { p: number; name?: string }): Sym => elementwise('dropout', x, new DropoutModule({ p: o?.p }), o?.name);

/** Feature concatenation of sequences on one time axis, or of vectors. */
export function concat(xs: Sym[], o: { name?: string } = {}): Sym {
  if (!Array.isArray(xs) || xs.length < 1) throw new ValueError(`Expected a non-empty array of values to concat, got ${show(xs)}`);
  const ss = xs.map((x, i) => sym(x, `xs[${i}]`, ['seq', 'vec']));
  for (const s of ss) {
    if (s.kind !== ss[0].kind) throw new ValueError(`Expected values of one kind to concat, got ${ss[0].kind} and ${s.kind}`);
    if (s.axis !== ss[0].axis) throw new ShapeError(`Expected sequences on one time axis to concat, got ${ss[0].axis?.name} and ${s.axis?.name}`);
  }
  const F = ss.reduce((a, s) => a + s.features, 0);
  return new GNode('concat', nameOf('concat', o.name), ss, null).port(ss[0].kind, F, ss[0].axis);
}

/** A vector repeated at every step of `like`'s time axis (the captioning form of conditioning). */
export function repeat(v: Sym, like: Sym, o: { name?: string } = {}): Sym {
  const s = sym(v, 'v', ['vec']);
  const l = sym(like, 'like', ['seq', 'ids']);
  return new GNode('repeat', nameOf('repeat', o.name), [s, l], null).port('seq', s.features, l.axis);
}

/** One vector per example from a sequence's valid steps: the last one, their mean or their max. */
export function pool(x: Sym, o: { mode: PoolMode; name?: string }): Sym {
  const s = sym(x, 'x', ['seq']);
  if (!['last', 'mean', 'max'].includes(o?.mode)) throw new ValueError(`Expected pool mode 'last', 'mean' or 'max', got ${show(o?.mode)}`);
  return new GNode('pool', nameOf('pool', o.name), [s], null, { mode: o.mode }).port('vec', s.features, null);
}

/** Graph-only options of a recurrent node: its name and initial states taken from other nodes' vectors. */
export interface RecurrentNodeOptions {
  /** The node's name, the prefix of its parameters (`enc.weight_ih_l0`); default `<kind>_<n>`. */
  name?: string;
  /** Initial states from other values: vectors (B, numLayers·directions·hiddenSize), slot k at columns [kH, (k+1)H). */
  initialState?: { h?: Sym; c?: Sym | undefined };
}
/** Layer options in a graph: inputSize comes from the input value (and graphs are time-major). */
export type NodeOptions<O> = Omit<O, 'inputSize' | 'batchFirst'> & { inputSize?: number } & RecurrentNodeOptions;
/** What a recurrent node returns: the output sequence and the final states hN, cN (B, numLayers·D·H). */
export interface RecurrentSyms {
  /** The output sequence, on the input's time axis. */
  output: Sym;
  /** The final hidden states as one vector per example, `(B, numLayers·D·H)`. */
  hN: Sym;
  /** The final cell states of an LSTM, laid out as `hN`. */
  cN?: Sym;
}

/** A recurrent node of any registered cell kind (src/layers/cells.ts): what graph.lstm, graph.mingru… call. */
export function recurrent(kind: CellKind, x: Sym, o: NodeOptions<AnyCellOptions>): RecurrentSyms {
  const s = sym(x, 'x', ['seq']);
  if (o === null || typeof o !== 'object') throw new ValueError(`Expected ${kind} options, got ${show(o)}`);
  const { name, initialState, ...rest } = o;
  if ((rest as { batchFirst?: unknown }).batchFirst) throw new ValueError('Expected no batchFirst in a graph (graphs are time-major), got batchFirst: true');
  if (rest.inputSize !== undefined && rest.inputSize !== s.features) throw new ShapeError(`Expected inputSize ${s.features} (the input's features) for ${kind}, got ${show(rest.inputSize)}`);
  const core = new RecurrentCore(kind, { ...rest, inputSize: s.features });
  const S = core.numLayers * core.directions;
  const inputs = [s];
  const init: Record<string, number> = {};
  for (const k of ['h', 'c'] as const) {
    const v = initialState?.[k];
    if (v === undefined) continue;
    if (k === 'c' && !core.cell.hasCellState) throw new ValueError(`Expected initialState.c only for lstm, got it for ${kind}`);
    const vs = sym(v, `initialState.${k}`, ['vec']);
    if (vs.features !== S * core.hiddenSize) {
      throw new ShapeError(`Expected initialState.${k} of width numLayers·directions·hiddenSize = ${S * core.hiddenSize}, got ${vs.features}`);
    }
    init[k] = inputs.length;
    inputs.push(vs);
  }
  const n = new GNode(kind, nameOf(kind, name), inputs, core, { init });
  const output = n.port('seq', core.outputSize, s.axis);
  const hN = n.port('vec', S * core.hiddenSize, null);
  const cN = core.cell.hasCellState ? n.port('vec', S * core.hiddenSize, null) : undefined;
  return { output, hN, cN };
}
/** Vanilla RNN node over a sequence: every option of the RNN layer, plus a name and initial states. */
export const rnn = (x: Sym, o: NodeOptions<RNNOptions>): RecurrentSyms => recurrent('rnn', x, o);
/** LSTM node over a sequence: every option of the LSTM layer, plus a name and initial states (h and c). */
export const lstm = (x: Sym, o: NodeOptions<LSTMOptions>): RecurrentSyms => recurrent('lstm', x, o);
/** GRU node over a sequence: every option of the GRU layer, plus a name and an initial state. */
export const gru = (x: Sym, o: NodeOptions<GRUOptions>): RecurrentSyms => recurrent('gru', x, o);
/** minGRU node (no weight_hh; `logSpace` for the paper's log-space variant). */
export const mingru = (x: Sym, o: NodeOptions<MinGRUOptions>): RecurrentSyms => recurrent('mingru', x, o);
/** minLSTM node (no weight_hh, no cell state; `logSpace` for the paper's log-space variant). */
export const minlstm = (x: Sym, o: NodeOptions<MinLSTMOptions>): RecurrentSyms => recurrent('minlstm', x, o);

/**
 * A stack of RWKV-7 blocks over a sequence (ln0, then per block the time mix with its delta-rule state
 * and the channel mix, each after its layer norm, then ln_out): the RWKV7 model between its embedding
 * and its head, whose width is the input's features. Parameters carry the RWKV7 model's names under
 * the node's prefix (`rwkv.blocks.0.att.key.weight`, `rwkv.ln_out.weight`) and its official
 * initialisation; the state starts at zero and is carried by stream(), decoder() and tbptt. With
 * lengths, the outputs past each row's length are 0 (as a cell's).
 */
export function rwkv7(x: Sym, o: Rwkv7NodeOptions): Sym {
  const s = sym(x, 'x', ['seq']);
  if (o === null || typeof o !== 'object') throw new ValueError(`Expected rwkv7 options { headSize, numLayers, lora, ffnDim?, name? }, got ${show(o)}`);
  const stack = stackConfig(s.features, o);
  return new GNode('rwkv7', nameOf('rwkv7', o.name), [s], null, { stack }).port('seq', s.features, s.axis);
}

/**
 * Attention of a query sequence over a memory sequence (masked by the memory input's lengths):
 * Luong 'dot' (H = E) and 'general' (score qᵀ W k), Bahdanau 'additive' (vᵀ tanh(W_q q + W_k k + b)).
 * Returns the context (a sequence on the query's axis, width E) and the weights (Tq, B, Tk).
 */
export function attention(query: Sym, memory: Sym, o: { score: AttentionScore; attentionSize?: number; name?: string }): { context: Sym; weights: Sym } {
  const q = sym(query, 'query', ['seq']);
  const m = sym(memory, 'memory', ['seq']);
  if (q === m) throw new ValueError('Expected a memory other than the query (self-attention is not supported), got the same value');
  if (!['dot', 'general', 'additive'].includes(o?.score)) throw new ValueError(`Expected score 'dot', 'general' or 'additive', got ${show(o?.score)}`);
  if (o.score === 'dot' && q.features !== m.features) throw new ShapeError(`Expected query and memory of one width for dot attention, got ${q.features} and ${m.features}`);
  const opts: Record<string, unknown> = { score: o.score };
  if (o.score === 'additive') opts.attentionSize = o.attentionSize === undefined ? q.features : posInt('attentionSize', o.attentionSize);
  const n = new GNode('attention', nameOf('attention', o.name), [q, m], null, opts);
  return { context: n.port('seq', m.features, q.axis), weights: n.port('weights', 0, q.axis) };
}

/** Every node reachable from the outputs, inputs first, in creation (= topological) order. */
export function collect(outputs: Sym[]): GNode[] {
  const seen = new Set<GNode>();
  const order: GNode[] = [];
  const visit = (n: GNode): void => {
    if (seen.has(n)) return;
    seen.add(n);
    for (const s of n.inputs) visit(s.node);
    // a repeat's `like` and an attention's memory are inputs too: visit() covers every edge
    order.push(n);
  };
  for (const s of outputs) visit(s.node);
  return order;
}
