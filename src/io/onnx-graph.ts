// ONNX export of graph models (GraphModel, src/graph/): every node as standard operators, time-major
// like the graph itself. T and B are symbolic: one dimension `T_<input>` per sequence input, `B`.
//   inputs      float (T,B,F) · ids (T,B) int32 · vector (B,F); with `lengths`, `<input>_lengths`
//               (B) int32 per sequence input (else every step is valid)
//   embedding   Gather(weight, ids)                 linear  MatMul(x, weightᵀ) [→ Add(bias)]
//   recurrent   a node of any cell with an ONNX operator (its descriptor's `interchange`): one RNN/
//               LSTM/GRU node per layer (src/io/onnx-build.ts), sequence_lens = the
//               input's lengths; initial states from vectors (B, L·D·H): per layer Slice → Reshape
//               (B,D,H) → Transpose (D,B,H); hN/cN: Concat of Y_h per layer → Transpose → Reshape (B, L·D·H)
//   concat      Concat(axis −1)      repeat  Unsqueeze(0) → Expand to (T_like, 1, 1)
//   pool        last: Gather of row (len−1)·B + b of the (T·B, F) rows; mean: ReduceSum of x ⊙ mask
//               / len; max: ReduceMax of Where(mask, x, −3.4e38); mask = Range(T) < len (Less)
//   attention   scores by MatMul in batch-major (B,Tq,·): dot q·kᵀ; general q·(k Wᵀ)ᵀ; additive
//               tanh(q W_qᵀ ⊕ (k W_kᵀ + b)) · v; Where(key mask, scores, −1e30) → Softmax → MatMul
//               with the memory; context and weights transposed back to (Tq, B, ·)
//   softmax / logSoftmax (axis −1) · tanh · dropout (the identity at inference)
// Outputs keep the graph's output names (an Identity each). Nodes are emitted from the spec, so a
// node kind without an emitter here is refused by name before anything is written.
import { ONNX_EXPORT_KEYS } from './onnx';
import { DataType } from './onnx-proto';
import { OnnxBuilder, attrInt, attrInts, checkOpset, valueInfo } from './onnx-build';
import type { OnnxExportOptions } from './onnx';
import type { GraphModel } from '../graph/model';
import { graphFromSpec, type GraphSpec } from '../graph/spec';
import { collect, GNode, InputNode, type Sym } from '../graph/nodes';
import type { RecurrentCore } from '../layers/recurrent';
import { CELLS, isCellKind } from '../layers/cells';
import type { EmbeddingModule, LinearModule } from '../layers/dense';
import { transpose2d } from './layout';
import { ValueError, show } from '../errors';
import { checkOptions, keysOf } from '../options';

/** What the node emitters share: the builder, the values so far, parameters, shapes and masks. */
class Ctx {
  readonly val = new Map<Sym, string>();
  private readonly cache = new Map<string, string>();
  constructor(
    readonly ob: OnnxBuilder,
    private readonly params: (name: string) => Float32Array,
    readonly lengths: boolean,
    private readonly batchOf: InputNode,
  ) {}
  v(s: Sym): string {
    return this.val.get(s)!;
  }
  param(n: GNode, name: string): Float32Array {
    return this.params(`${n.name}.${name}`);
  }
  private once(key: string, make: () => string): string {
    let t = this.cache.get(key);
    if (t === undefined) this.cache.set(key, (t = make()));
    return t;
  }
  /** Dimension `dim` of an input as a 1-D [d] (or scalar) int64. */
  dim(n: InputNode, dim: number, scalar = false): string {
    return this.once(`dim:${n.name}:${dim}:${scalar}`, () => {
      const shape = this.once(`shape:${n.name}`, () => this.ob.op('Shape', [n.name]));
      return this.ob.op('Gather', [shape, this.ob.int64([dim], scalar)], [attrInt('axis', 0)], 'dim');
    });
  }
  /** The batch size as a scalar int64. */
  batch(): string {
    return this.dim(this.batchOf, this.batchOf.opts.type === 'vector' ? 0 : 1, true);
  }
  /** The lengths input of a sequence input (B) int32 (only with `lengths`). */
  lens(n: InputNode): string {
    return `${n.name}_lengths`;
  }
  /** (T, B) bool: step t of row b is valid (Range(T) < lengths). */
  mask(n: InputNode): string {
    return this.once(`mask:${n.name}`, () => {
      const ob = this.ob;
      const steps = ob.op('Range', [ob.int64([0], true), this.dim(n, 0, true), ob.int64([1], true)]);
      const lens = ob.op('Cast', [this.lens(n)], [attrInt('to', DataType.INT64)]);
      return ob.op('Less', [ob.op('Unsqueeze', [steps, ob.int64([1])]), ob.op('Unsqueeze', [lens, ob.int64([0])])], [], 'mask');
    });
  }
}

type Emit = (c: Ctx, n: GNode) => string[];

const matmulT = (c: Ctx, x: string, w: Float32Array, O: number, I: number, base: string): string =>
  c.ob.op('MatMul', [x, c.ob.floats(base, [I, O], transpose2d(w, O, I))], [], 'matmul');

const linear: Emit = (c, n) => {
  const m = n.module as LinearModule;
  const y = matmulT(c, c.v(n.inputs[0]), c.param(n, 'weight'), m.outFeatures_, m.inFeatures, `${n.name}.weight_t`);
  return [m.bias ? c.ob.op('Add', [y, c.ob.floats(`${n.name}.bias`, [m.outFeatures_], c.param(n, 'bias'))]) : y];
};

const unary = (op: string, attrs = (): ReturnType<typeof attrInt>[] => []): Emit => (c, n) => [c.ob.op(op, [c.v(n.inputs[0])], attrs())];

const recurrent: Emit = (c, n) => {
  const { ob } = c;
  const core = n.module as RecurrentCore;
  const D = core.directions;
  const H = core.hiddenSize;
  const L = core.numLayers;
  const init = n.opts.init as { h?: number; c?: number };
  // a (B, L·D·H) vector → layer l's (D, B, H) initial state
  const perLayer = (k: 'h' | 'c') => {
    if (init[k] === undefined) return undefined;
    const v = c.v(n.inputs[init[k]!]);
    return (l: number): string => {
      const cols = L === 1 ? v : ob.op('Slice', [v, ob.int64([l * D * H]), ob.int64([(l + 1) * D * H]), ob.int64([1])]);
      const bdh = ob.op('Reshape', [cols, ob.int64([0, D, H])]);
      return ob.op('Transpose', [bdh], [attrInts('perm', [1, 0, 2])], `${n.name}_${k}0`);
    };
  };
  const x = n.inputs[0];
  const rec = ob.recurrent(core, c.v(x), n.name, (name) => c.param(n, name), {
    lengths: c.lengths ? c.lens(x.axis!) : undefined,
    initH: perLayer('h'),
    initC: perLayer('c'),
  });
  // Y_h per layer (D, B, H) → (B, L·D·H), slot l·D + d at columns [(l·D + d)·H, …)
  const final = (parts: string[]): string => {
    const all = parts.length === 1 ? parts[0] : ob.op('Concat', parts, [attrInt('axis', 0)]);
    const bsh = ob.op('Transpose', [all], [attrInts('perm', [1, 0, 2])]);
    return ob.op('Reshape', [bsh, ob.int64([0, -1])], [], `${n.name}_final`);
  };
  return core.cell.hasCellState ? [rec.y, final(rec.yh), final(rec.yc)] : [rec.y, final(rec.yh)];
};

const pool: Emit = (c, n) => {
  const { ob } = c;
  const x = n.inputs[0];
  const xv = c.v(x);
  const mode = n.opts.mode as 'last' | 'mean' | 'max';
  if (!c.lengths) {
    if (mode === 'last') return [ob.op('Gather', [xv, ob.int64([-1], true)], [attrInt('axis', 0)], 'last')];
    return [ob.reduce(mode === 'mean' ? 'ReduceMean' : 'ReduceMax', xv, [0], 0)];
  }
  const axis = x.axis!;
  if (mode === 'last') {
    // row (len − 1)·B + b of the (T·B, F) rows
    const rows = ob.op('Reshape', [xv, ob.int64([-1, x.features])]);
    const lens = ob.op('Cast', [c.lens(axis)], [attrInt('to', DataType.INT64)]);
    const b = ob.op('Range', [ob.int64([0], true), c.batch(), ob.int64([1], true)]);
    const idx = ob.op('Add', [ob.op('Mul', [ob.op('Sub', [lens, ob.int64([1], true)]), c.batch()]), b]);
    return [ob.op('Gather', [rows, idx], [attrInt('axis', 0)], 'last')];
  }
  const m3 = ob.op('Unsqueeze', [c.mask(axis), ob.int64([2])]);
  if (mode === 'max') return [ob.reduce('ReduceMax', ob.op('Where', [m3, xv, ob.float(-3.4e38)]), [0], 0)];
  const sum = ob.reduce('ReduceSum', ob.op('Mul', [xv, ob.op('Cast', [m3], [attrInt('to', DataType.FLOAT)])]), [0], 0);
  const len = ob.op('Unsqueeze', [ob.op('Cast', [c.lens(axis)], [attrInt('to', DataType.FLOAT)]), ob.int64([1])]);
  return [ob.op('Div', [sum, len], [], 'mean')];
};

const attention: Emit = (c, n) => {
  const { ob } = c;
  const [q, m] = n.inputs;
  const H = q.features;
  const E = m.features;
  const score = n.opts.score as 'dot' | 'general' | 'additive';
  const bm = (t: string, perm = [1, 0, 2]): string => ob.op('Transpose', [t], [attrInts('perm', perm)]);
  let s: string; // scores (B, Tq, Tk)
  if (score === 'additive') {
    const A = n.opts.attentionSize as number;
    const qa = matmulT(c, c.v(q), c.param(n, 'query_weight'), A, H, `${n.name}.query_weight_t`);
    const ka = ob.op('Add', [matmulT(c, c.v(m), c.param(n, 'key_weight'), A, E, `${n.name}.key_weight_t`), ob.floats(`${n.name}.key_bias`, [A], c.param(n, 'key_bias'))]);
    // (B, Tq, 1, A) + (B, 1, Tk, A) → tanh → · v (A, 1) → (B, Tq, Tk)
    const sum = ob.op('Add', [ob.op('Unsqueeze', [bm(qa), ob.int64([2])]), ob.op('Unsqueeze', [bm(ka), ob.int64([1])])]);
    const sv = ob.op('MatMul', [ob.op('Tanh', [sum]), ob.floats(`${n.name}.v`, [A, 1], c.param(n, 'v'))]);
    s = ob.op('Squeeze', [sv, ob.int64([3])], [], 'scores');
  } else {
    // general: keys k·Wᵀ (W is (H, E)); dot: the memory itself
    const k = score === 'general' ? matmulT(c, c.v(m), c.param(n, 'weight'), H, E, `${n.name}.weight_t`) : c.v(m);
    s = ob.op('MatMul', [bm(c.v(q)), bm(k, [1, 2, 0])], [], 'scores');
  }
  if (c.lengths) {
    // keys past the memory's length: −1e30 before the softmax, so their weight is exactly 0
    const keys = ob.op('Unsqueeze', [bm(c.mask(m.axis!), [1, 0]), ob.int64([1])]);
    s = ob.op('Where', [keys, s, ob.float(-1e30)], [], 'scores_masked');
  }
  const a = ob.op('Softmax', [s], [attrInt('axis', -1)], 'weights_bm');
  const ctx = ob.op('MatMul', [a, bm(c.v(m))], [], 'context_bm');
  return [bm(ctx), bm(a)];
};

const EMIT: Record<string, Emit> = {
  embedding: (c, n) => {
    const m = n.module as EmbeddingModule;
    const w = c.ob.floats(`${n.name}.weight`, [m.numEmbeddings, m.embeddingDim], c.param(n, 'weight'));
    return [c.ob.op('Gather', [w, c.v(n.inputs[0])], [attrInt('axis', 0)], 'embedded')];
  },
  linear,
  dropout: (c, n) => [c.v(n.inputs[0])],
  softmax: unary('Softmax', () => [attrInt('axis', -1)]),
  logSoftmax: unary('LogSoftmax', () => [attrInt('axis', -1)]),
  tanh: unary('Tanh'),
  concat: (c, n) => [c.ob.op('Concat', n.inputs.map((s) => c.v(s)), [attrInt('axis', -1)])],
  repeat: (c, n) => {
    const { ob } = c;
    const shape = ob.op('Concat', [c.dim(n.inputs[1].axis!, 0), ob.int64([1, 1])], [attrInt('axis', 0)]);
    return [ob.op('Expand', [ob.op('Unsqueeze', [c.v(n.inputs[0]), ob.int64([0])]), shape], [], 'repeat')];
  },
  pool,
  attention,
};

/** The emitter of a node kind: its own, or for a recurrent node the one of every cell with an ONNX operator (src/layers/cells.ts). */
const emitOf = (kind: string): Emit | undefined => (Object.hasOwn(EMIT, kind) ? EMIT[kind] : isCellKind(kind) && CELLS[kind].interchange ? recurrent : undefined);

/** The node kinds with an ONNX form. */
export function onnxGraphKinds(): string[] {
  return ['input', ...Object.keys(EMIT), ...Object.values(CELLS).filter((c) => c.interchange).map((c) => c.kind)];
}

/** The ONNX model of a graph model (called by toOnnx for a GraphModel). */
export function graphToOnnx(model: GraphModel, opts: OnnxExportOptions = {}): Uint8Array {
  checkOptions(opts, ONNX_EXPORT_KEYS, 'toOnnx options');
  const spec = model.spec();
  return specToOnnx(spec, (name) => model.getParameter(name), opts);
}

/** @internal The ONNX model of a graph spec with its parameters (`<node>.<name>`). */
export function specToOnnx(spec: GraphSpec, params: (name: string) => Float32Array, opts: OnnxExportOptions = {}): Uint8Array {
  const opset = checkOpset(opts.opset);
  for (const ns of spec.nodes ?? []) {
    if (ns?.kind !== 'input' && !emitOf(ns?.kind)) {
      throw new ValueError(`Expected node kinds with an ONNX form (${onnxGraphKinds().join(', ')}), got node ${show(ns?.name)} of kind ${show(ns?.kind)}, which has no ONNX operators here`);
    }
  }
  const { inputs, outputs } = graphFromSpec(spec);
  const inNodes = inputs.map((s) => s.node as InputNode);
  const lengths = opts.lengths === true;
  const ob = new OnnxBuilder(opset);
  const c = new Ctx(ob, params, lengths, inNodes[0]);
  const T = (n: InputNode): string => `T_${n.name}`;
  const graphInputs = inNodes.flatMap((n) => {
    const type = n.opts.type as 'float' | 'ids' | 'vector';
    const f = n.ports[0].features;
    const v = [valueInfo(n.name, type === 'ids' ? DataType.INT32 : DataType.FLOAT, type === 'float' ? [T(n), 'B', f] : type === 'ids' ? [T(n), 'B'] : ['B', f])];
    if (lengths && type !== 'vector') v.push(valueInfo(c.lens(n), DataType.INT32, ['B']));
    return v;
  });
  const names = graphInputs.map((v) => v.name!);
  const twice = names.find((x, i) => names.indexOf(x) !== i);
  if (twice) throw new ValueError(`Expected ONNX input names distinct from each lengths input <input>_lengths, got ${twice} twice`);
  for (const n of collect(Object.values(outputs))) {
    if (n instanceof InputNode) c.val.set(n.ports[0], n.name);
    else emitOf(n.kind)!(c, n).forEach((t, i) => c.val.set(n.ports[i], t));
  }
  // outputs under their own names; a name must not be one of the graph's tensors
  const taken = new Set<string>([...names, ...ob.inits.map((t) => t.name!), ...ob.nodes.flatMap((x) => x.output ?? [])]);
  const graphOutputs = Object.entries(outputs).map(([name, s]) => {
    if (taken.has(name)) throw new ValueError(`Expected output names distinct from the ONNX graph's inputs and tensors, got ${name}`);
    taken.add(name);
    ob.nodeOuts('Identity', [c.v(s)], [], [name]);
    const dims = s.kind === 'vec' ? ['B', s.features] : s.kind === 'weights' ? [T(s.axis!), 'B', T(s.node.inputs[1].axis!)] : [T(s.axis!), 'B', s.features];
    return valueInfo(name, DataType.FLOAT, dims);
  });
  return ob.finish(opts.name ?? 'rnn_wasm', graphInputs, graphOutputs);
}
