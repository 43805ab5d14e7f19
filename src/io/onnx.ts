// ONNX export (opset 14+) of our models, and import of ONNX graphs built from RNN/LSTM/GRU nodes.
// Graph models (GraphModel) are exported by src/io/onnx-graph.ts; toOnnx takes both.
//
// Export of a Sequential (dimensions T and B are symbolic, so one file serves every shape):
//   input (T,B,I) f32 or (T,B) i32 ids  [(B,…) with batchFirst → Transpose to time-major]
//   embedding  Gather(weight, ids)           linear  MatMul(x, weightᵀ) [→ Add(bias)]
//   recurrent  per layer one RNN/LSTM/GRU node (W, R, B = [b_ih | b_hh], sequence_lens?, P),
//              then Y (T,D,B,H) → (T,B,·): D=1 Squeeze(1); concat Transpose(0,2,1,3) + Reshape(0,0,-1);
//              sum/mul/ave Split(1) → Add|Mul (→ Mul 0.5) → Squeeze(1)
//   softmax / logSoftmax over axis −1; dropout is the identity and is left out
//   outputs  output · h_n (L·D,B,H) · c_n per recurrent layer (suffixed _k when there are several)
//
// Import walks the graph's one data path from its input to its first output, tracking the meaning
// of each axis (T, B, F; D and H after a recurrent node) through Transpose/Reshape/Squeeze, and
// rebuilds the chain as a Sequential. Recurrent weights are converted from ONNX gate orders
// (LSTM i,o,f,c; GRU z,r,h) to ours. A `reverse` node becomes a bidirectional layer whose forward
// direction has zero weights, merged by sum: that direction's output is exactly 0 for every cell.
import { DataLocation, DataType, decodeModel, type AttributeProto, type ModelProto, type NodeProto, type TensorProto } from './onnx-proto';
import { OnnxBuilder, attrInt, attrInts, checkOpset, valueInfo } from './onnx-build';
import { graphToOnnx } from './onnx-graph';
import { GraphModel } from '../graph/model';
import { Model, Sequential, layers } from '../model/model';
import { withoutInitialisers } from '../params/initialisers';
import { RecurrentCore } from '../layers/recurrent';
import { cellByInterchangeName, CELLS, interchangeNames, type CellKind } from '../layers/cells';
import { EmbeddingModule, LinearModule, SoftmaxModule, DropoutModule } from '../layers/dense';
import type { Layer } from '../layers/module';
import { ValueError, show } from '../errors';
import { checkOptions, keysOf } from '../options';
import { FormatError } from './format';
import { getLimits } from '../limits';
import { plannedParameters } from './architecture';
import { f16ToF32, inverseOrder, reorderRows, swapPeepholes, transpose2d } from './layout';

/** Option keys of toOnnx (and convert's onnx options). */
export const ONNX_EXPORT_KEYS = keysOf<OnnxExportOptions>()('opset', 'lengths', 'name');

// ───────────────────────────── export ─────────────────────────────

/** Options of {@link toOnnx}. */
export interface OnnxExportOptions {
  /** Opset version, 14 to 21 (default 14). */
  opset?: number;
  /**
   * Sequential: add a `sequence_lens` (B) int32 input feeding every recurrent node. Graph models:
   * add a `<input>_lengths` (B) int32 input per sequence input (default false: every step valid).
   */
  lengths?: boolean;
  /** Graph name (default 'rnn_wasm'). */
  name?: string;
}

/**
 * The ONNX model (ModelProto bytes) of a Sequential, a standalone RNN/LSTM/GRU, or a GraphModel
 * (src/io/onnx-graph.ts).
 */
export function toOnnx(model: Model | GraphModel, opts: OnnxExportOptions = {}): Uint8Array {
  if (model instanceof GraphModel) return graphToOnnx(model, opts);
  checkOptions(opts, ONNX_EXPORT_KEYS, 'toOnnx options');
  if (!(model instanceof Model)) throw new ValueError(`Expected a model (Sequential, RNN/LSTM/GRU or GraphModel), got ${show(model)}`);
  const ob = new OnnxBuilder(checkOpset(opts.opset));
  const r = model.runner;
  const prefix = (i: number) => (model instanceof Sequential ? `${i}.` : '');
  const ids = r.inputKind === 'ids';
  const bf = r.batchFirst;
  const inputDims: (number | string)[] = ids ? (bf ? ['B', 'T'] : ['T', 'B']) : bf ? ['B', 'T', r.inFeatures] : ['T', 'B', r.inFeatures];
  const inputs = [valueInfo('input', ids ? DataType.INT32 : DataType.FLOAT, inputDims)];
  if (opts.lengths) inputs.push(valueInfo('sequence_lens', DataType.INT32, ['B']));
  let x = 'input';
  if (bf) x = ob.op('Transpose', [x], [attrInts('perm', ids ? [1, 0] : [1, 0, 2])], 'input_tm');
  const stateOutputs: { name: string; parts: string[]; dims: number; H: number }[] = [];
  const nRec = r.modules.filter((m) => m instanceof RecurrentCore).length;
  let features = r.inFeatures;
  r.modules.forEach((m, i) => {
    const p = (n: string) => model.getParameter(prefix(i) + n);
    if (m instanceof EmbeddingModule) {
      const w = ob.floats('embedding_weight', [m.numEmbeddings, m.embeddingDim], p('weight'));
      x = ob.op('Gather', [w, x], [attrInt('axis', 0)], 'embedded');
    } else if (m instanceof LinearModule) {
      x = ob.op('MatMul', [x, ob.floats('linear_weight_t', [m.inFeatures, m.outFeatures_], transpose2d(p('weight'), m.outFeatures_, m.inFeatures))], [], 'linear');
      if (m.bias) x = ob.op('Add', [x, ob.floats('linear_bias', [m.outFeatures_], p('bias'))], [], 'linear_b');
    } else if (m instanceof SoftmaxModule) {
      x = ob.op(m.kind === 'softmax' ? 'Softmax' : 'LogSoftmax', [x], [attrInt('axis', -1)], m.kind);
    } else if (m instanceof DropoutModule) {
      // the identity at inference
    } else if (m instanceof RecurrentCore) {
      const rec = ob.recurrent(m, x, String(i), p, { lengths: opts.lengths ? 'sequence_lens' : undefined });
      x = rec.y;
      const sfx = nRec === 1 ? '' : `_${i}`;
      stateOutputs.push({ name: `h_n${sfx}`, parts: rec.yh, dims: m.numLayers * m.directions, H: m.hiddenSize });
      if (m.cell.hasCellState) stateOutputs.push({ name: `c_n${sfx}`, parts: rec.yc, dims: m.numLayers * m.directions, H: m.hiddenSize });
    } else {
      const cells = Object.values(CELLS).filter((c) => c.interchange).map((c) => c.kind);
      throw new ValueError(`Expected layers ONNX export knows (embedding, linear, ${cells.join(', ')}, softmax, logSoftmax, dropout), got ${m.kind}`);
    }
    features = m.outFeatures(features);
  });
  if (bf) ob.nodeOuts('Transpose', [x], [attrInts('perm', [1, 0, 2])], ['output']);
  else ob.nodeOuts('Identity', [x], [], ['output']);
  const outputs = [valueInfo('output', DataType.FLOAT, bf ? ['B', 'T', features] : ['T', 'B', features])];
  for (const s of stateOutputs) {
    if (s.parts.length === 1) ob.nodeOuts('Identity', s.parts, [], [s.name]);
    else ob.nodeOuts('Concat', s.parts, [attrInt('axis', 0)], [s.name]);
    outputs.push(valueInfo(s.name, DataType.FLOAT, [s.dims, 'B', s.H]));
  }
  return ob.finish(opts.name ?? 'rnn_wasm', inputs, outputs);
}

// ───────────────────────────── import ─────────────────────────────

/** What {@link fromOnnx} returns: the rebuilt model and how its graph's inputs and outputs map onto it. */
export interface OnnxImport {
  /** The rebuilt model (time-major, or batchFirst when the graph's input is (B, T, …)). */
  model: Model;
  /** Name of the graph input that carries the sequence (floats or token ids). */
  input: string;
  /** Name of the graph input feeding every recurrent node's sequence_lens; pass it as `lengths`. */
  lengthsInput?: string;
  /** True when the graph's output is flattened to (T·B, O) (same data order as our (T, B, O)). */
  flatOutput: boolean;
  /** Graph outputs after the first that were not imported (the recurrent nodes' final states). */
  ignoredOutputs: string[];
}

interface Const {
  dims: number[];
  data: Float32Array | number[];
}

function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v && typeof (v as { toNumber?: unknown }).toNumber === 'function') return (v as { toNumber(): number }).toNumber();
  return Number(v);
}

function bad(msg: string): never {
  throw new FormatError(msg);
}

/** Decodes a TensorProto to floats (FLOAT, FLOAT16, DOUBLE) or integers (INT32, INT64). */
function decodeTensor(t: TensorProto): Const {
  const dims = (t.dims ?? []).map(num);
  const T = DataType;
  const name = t.name ?? '(unnamed)';
  // sizes are checked before an array is made: dims non-negative, elements within limits.maxParameters
  if (!dims.every((d) => Number.isSafeInteger(d) && d >= 0)) bad(`Expected tensor ${name}'s dims to be non-negative integers, got [${dims.join(', ')}]`);
  const n = dims.reduce((a, b) => a * b, 1);
  if (n > getLimits().maxParameters) bad(`Expected tensor ${name} of at most limits.maxParameters = ${getLimits().maxParameters} elements, got [${dims.join(', ')}]`);
  if (t.dataLocation === DataLocation.EXTERNAL) bad(`Expected tensor ${name} stored inside the model, got external data`);
  const raw = t.rawData && t.rawData.length ? t.rawData : null;
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : null;
  const need = (bytes: number) => {
    if (view && view.byteLength !== n * bytes) bad(`Expected ${n * bytes} raw bytes for tensor ${name} [${dims.join(', ')}], got ${view.byteLength}`);
  };
  const out = (arr: ArrayLike<number>, len: number) => {
    if (len !== n) bad(`Expected ${n} values for tensor ${name} [${dims.join(', ')}], got ${len}`);
    return arr;
  };
  switch (t.dataType) {
    case T.FLOAT: {
      need(4);
      const d = new Float32Array(n);
      if (view) for (let i = 0; i < n; i++) d[i] = view.getFloat32(4 * i, true);
      else d.set(out(t.floatData ?? [], (t.floatData ?? []).length));
      return { dims, data: d };
    }
    case T.DOUBLE: {
      need(8);
      const d = new Float32Array(n);
      if (view) for (let i = 0; i < n; i++) d[i] = view.getFloat64(8 * i, true);
      else d.set(out(t.doubleData ?? [], (t.doubleData ?? []).length));
      return { dims, data: d };
    }
    case T.FLOAT16: {
      need(2);
      const d = new Float32Array(n);
      const src = t.int32Data ?? [];
      if (!view) out(src, src.length);
      for (let i = 0; i < n; i++) d[i] = f16ToF32(view ? view.getUint16(2 * i, true) : src[i]);
      return { dims, data: d };
    }
    case T.INT64: {
      need(8);
      if (view) return { dims, data: Array.from({ length: n }, (_, i) => Number(view.getBigInt64(8 * i, true))) };
      const src = (t.int64Data ?? []).map(num);
      return { dims, data: Array.from(out(src, src.length)) };
    }
    case T.INT32: {
      need(4);
      if (view) return { dims, data: Array.from({ length: n }, (_, i) => view.getInt32(4 * i, true)) };
      const src = t.int32Data ?? [];
      return { dims, data: Array.from(out(src, src.length)) };
    }
    default:
      bad(`Expected tensor ${name} of type FLOAT, FLOAT16, DOUBLE, INT32 or INT64, got data type ${t.dataType}`);
  }
}

type Desc =
  | { kind: 'embedding'; V: number; E: number; weight: Float32Array }
  | { kind: 'linear'; I: number; O: number; weight: Float32Array; bias?: Float32Array; out: string }
  | { kind: 'softmax' | 'logSoftmax' }
  | { kind: 'rec'; cell: CellKind; opts: Record<string, unknown>; params: Record<string, Float32Array> };

interface Cur {
  name: string;
  /** Meaning of each axis: 's0'/'s1' (graph input's first two axes, later T and B), F, D, H, or 'x*y' (flattened). */
  axes: string[];
  D?: number;
  H?: number;
  /** Index of the recurrent desc whose (T,D,B,H) output this is. */
  rec?: number;
  merge?: 'sum' | 'mul' | 'ave';
  /** After Split on D: the two halves. */
  split?: [string, string];
}

/** The operators the importer reads (the recurrent ones: every registered cell's). */
const supported = (): string =>
  `${interchangeNames('onnx').join(', ')}, MatMul, Gemm, Add, Gather, Softmax, LogSoftmax, Squeeze, Transpose, Reshape, Split, Mul, Div, Identity, Dropout, Constant ` +
  '(and Shape → Gather/Concat/Unsqueeze/Slice → ConstantOfShape/Expand building zero initial states)';

/** Imports an ONNX model whose data path is a chain of the supported operators. */
export function fromOnnx(bytes: Uint8Array | ArrayBuffer): OnnxImport {
  const u8 = bytes instanceof Uint8Array ? bytes : bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : null;
  if (!u8) throw new ValueError(`Expected ONNX bytes (Uint8Array or ArrayBuffer), got ${show(bytes)}`);
  let mp: ModelProto;
  try {
    mp = decodeModel(u8);
  } catch (e) {
    bad(`Expected an ONNX ModelProto, got undecodable bytes (${(e as Error).message})`);
  }
  const g = mp.graph;
  if (!g || !g.node) bad('Expected an ONNX model with a graph, got none');
  const opsetEntry = (mp.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  const opset = opsetEntry ? num(opsetEntry.version) : 0;
  if (opset < 7) bad(`Expected an ai.onnx opset import of version 7 or later, got ${opset || 'none'}`);

  const consts = new Map<string, Const>();
  for (const t of g.initializer ?? []) consts.set(t.name ?? '', decodeTensor(t));
  const constOf = (name: string, what: string): Const => {
    const c = consts.get(name);
    if (!c) bad(`Expected ${what} (${name}) to be a constant (initializer or Constant node), got a computed tensor`);
    return c;
  };
  const floats = (c: Const, what: string): Float32Array => {
    if (!(c.data instanceof Float32Array)) bad(`Expected ${what} to be a float tensor, got integers`);
    return c.data;
  };
  const ints = (c: Const): number[] => Array.from(c.data);

  // graph inputs that are not initializers; sequence_lens candidates are RNN nodes' 5th inputs
  const realInputs = (g.input ?? []).filter((v) => !consts.has(v.name ?? ''));
  const lensNames = new Set<string>();
  for (const n of g.node) if (cellByInterchangeName('onnx', n.opType) && n.input && n.input[4]) lensNames.add(n.input[4]);
  const dataInputs = realInputs.filter((v) => !lensNames.has(v.name ?? ''));
  if (dataInputs.length !== 1) bad(`Expected exactly one data input to the graph, got ${dataInputs.length} (${dataInputs.map((v) => v.name).join(', ')})`);
  const inputVi = dataInputs[0];
  const inputName = inputVi.name ?? '';
  const tt = inputVi.type?.tensorType;
  const elem = tt?.elemType ?? DataType.FLOAT;
  const isIds = elem === DataType.INT32 || elem === DataType.INT64;
  if (!isIds && elem !== DataType.FLOAT) bad(`Expected the graph input ${inputName} to be float32 or int32/int64 ids, got element type ${elem}`);
  const inDims = (tt?.shape?.dim ?? []).map((d) => (d.dimValue != null && num(d.dimValue) > 0 ? num(d.dimValue) : -1));
  const rank = inDims.length || (isIds ? 2 : 3);
  if (rank !== (isIds ? 2 : 3)) bad(`Expected the input ${inputName} to have rank ${isIds ? 2 : 3} (${isIds ? 'steps × batch ids' : 'steps × batch × features'}), got rank ${rank}`);
  let cur: Cur = { name: inputName, axes: isIds ? ['s0', 's1'] : ['s0', 's1', 'F'] };
  let features = isIds ? 1 : inDims[2] ?? -1;
  let timeAxis: 's0' | 's1' | undefined;
  let lengthsInput: string | undefined;
  let lensUse: boolean | undefined;
  const descs: Desc[] = [];
  const side = new Set<string>(); // recurrent final states and what is computed from them
  const past = new Set<string>(); // main-path tensors already consumed
  const shapeOf = new Set<string>(); // tensors computed from shapes only
  const zeros = new Set<string>(); // all-zero tensors of computed shape

  const attrs = (n: NodeProto) => {
    const m = new Map<string, AttributeProto>();
    for (const a of n.attribute ?? []) m.set(a.name ?? '', a);
    return m;
  };
  const str = (a?: AttributeProto) => (a?.s ? new TextDecoder().decode(a.s) : undefined);
  const axisNorm = (a: number, r: number) => (a < 0 ? a + r : a);

  for (const node of g.node) {
    const op = node.opType ?? '';
    const ins = node.input ?? [];
    const outs = node.output ?? [];
    const where = `node ${node.name || outs[0] || op} (${op})`;
    if (node.domain && node.domain !== 'ai.onnx') bad(`Expected operators of the default ONNX domain, got ${op} from ${node.domain} at ${where}`);
    const A = attrs(node);
    if (op === 'Constant') {
      const v = A.get('value');
      if (v?.t) consts.set(outs[0], decodeTensor(v.t));
      else if (A.has('value_float')) consts.set(outs[0], { dims: [], data: new Float32Array([A.get('value_float')!.f ?? 0]) });
      else if (A.has('value_floats')) consts.set(outs[0], { dims: [A.get('value_floats')!.floats!.length], data: Float32Array.from(A.get('value_floats')!.floats!) });
      else if (A.has('value_int')) consts.set(outs[0], { dims: [], data: [num(A.get('value_int')!.i)] });
      else if (A.has('value_ints')) consts.set(outs[0], { dims: [A.get('value_ints')!.ints!.length], data: A.get('value_ints')!.ints!.map(num) });
      else bad(`Expected a Constant with value, value_float(s) or value_int(s), got another form at ${where}`);
      continue;
    }
    // shapes read off the data path, and zero tensors built from them (exporters' dynamic h0 = 0)
    if (op === 'Shape') {
      shapeOf.add(outs[0]);
      continue;
    }
    const known = (i: string) => !i || consts.has(i) || shapeOf.has(i) || zeros.has(i);
    if (ins.every(known) && ins.some((i) => shapeOf.has(i) || zeros.has(i))) {
      if (op === 'ConstantOfShape') {
        const v = A.get('value')?.t;
        if (v && Array.from(decodeTensor(v).data).some((x) => x !== 0)) bad(`Expected ConstantOfShape of zeros (initial states) at ${where}, got a nonzero value`);
        zeros.add(outs[0]);
      } else if (zeros.has(ins[0]) && ['Expand', 'Slice', 'Gather', 'Squeeze', 'Unsqueeze', 'Reshape', 'Identity', 'Split', 'Cast', 'Tile'].includes(op)) {
        outs.forEach((o) => zeros.add(o));
      } else if (['Gather', 'Unsqueeze', 'Squeeze', 'Concat', 'Slice', 'Cast', 'Reshape', 'Mul', 'Add', 'Sub', 'Div', 'Identity'].includes(op)) {
        outs.forEach((o) => shapeOf.add(o));
      } else if (op === 'Expand' && consts.has(ins[0]) && Array.from(consts.get(ins[0])!.data).every((x) => x === 0)) {
        zeros.add(outs[0]);
      } else bad(`Expected shape arithmetic (Gather, Unsqueeze, Concat, Slice, Cast, ConstantOfShape, Expand) on tensor shapes, got ${where}`);
      continue;
    }
    const usesCur = ins.includes(cur.name) || (cur.split !== undefined && ins.some((i) => cur.split!.includes(i)));
    if (!usesCur) {
      if (ins.some((i) => side.has(i))) {
        outs.forEach((o) => side.add(o));
        continue;
      }
      const stale = ins.find((i) => past.has(i));
      if (stale) bad(`Expected the graph to be one chain, got ${where} branching off ${stale}`);
      bad(`Expected ${where} to be folded into constants or to follow the data path, got an operator on other inputs (supported: ${supported()})`);
    }
    past.add(cur.name);
    const setCur = (c: Omit<Cur, 'name'>, name = outs[0]) => {
      cur = { ...c, name };
    };
    const r = cur.axes.length;
    // a recurrent operator is any cell's of the registry (src/layers/cells.ts `interchange.onnx`)
    const recCell = cellByInterchangeName('onnx', op);
    switch (recCell ? 'recurrent' : op) {
      case 'Identity':
      case 'Dropout':
        setCur({ ...cur });
        outs.slice(1).forEach((o) => o && side.add(o));
        break;
      case 'Transpose': {
        const perm = A.get('perm')?.ints?.map(num) ?? [...cur.axes.keys()].reverse();
        if (perm.length !== r || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) bad(`Expected a permutation of ${r} axes at ${where}, got [${perm.join(', ')}]`);
        setCur({ ...cur, axes: perm.map((p) => cur.axes[p]) });
        break;
      }
      case 'Squeeze': {
        const ax = (opset >= 13 ? (ins[1] ? ints(constOf(ins[1], 'Squeeze axes')) : []) : (A.get('axes')?.ints ?? []).map(num)).map((a) => axisNorm(a, r));
        if (ax.length !== 1 || cur.axes[ax[0]] !== 'D' || cur.D !== 1) bad(`Expected Squeeze of the direction axis (of size 1) after a recurrent node, got axes [${ax.join(', ')}] of (${cur.axes.join(', ')}) at ${where}`);
        if (cur.merge) (descs[cur.rec!] as Extract<Desc, { kind: 'rec' }>).opts.mergeMode = cur.merge;
        features = cur.H!;
        setCur({ axes: cur.axes.map((a) => (a === 'H' ? 'F' : a)).filter((a) => a !== 'D') });
        break;
      }
      case 'Split': {
        const axis = axisNorm(num(A.get('axis')?.i ?? 0), r);
        const sizes = opset >= 13 ? (ins[1] ? ints(constOf(ins[1], 'Split sizes')) : [1, 1]) : (A.get('split')?.ints ?? [1, 1]).map(num);
        if (cur.axes[axis] !== 'D' || cur.D !== 2 || outs.length !== 2 || sizes.join() !== '1,1') bad(`Expected Split of a bidirectional node's direction axis into two, got axis ${axis} of (${cur.axes.join(', ')}) at ${where}`);
        setCur({ ...cur, split: [outs[0], outs[1]] });
        break;
      }
      case 'Add':
      case 'Mul':
      case 'Div': {
        if (cur.split) {
          if (op === 'Div' || !cur.split.every((s) => ins.includes(s))) bad(`Expected Add or Mul of the two directions after Split, got ${where}`);
          setCur({ axes: cur.axes, D: 1, H: cur.H, rec: cur.rec, merge: op === 'Add' ? 'sum' : 'mul' });
          break;
        }
        const other = ins.find((i) => i !== cur.name)!;
        const c = constOf(other, `the other operand of ${op}`);
        const v = floats(c, `the other operand of ${op}`);
        if (op !== 'Add') {
          // (fwd + bwd) · 0.5 or / 2 is Keras's 'ave'
          const ave = cur.merge === 'sum' && v.length === 1 && (op === 'Mul' ? v[0] === 0.5 : v[0] === 2);
          if (!ave) bad(`Expected ${op} only as the 'ave' merge of two directions, got ${where}`);
          setCur({ ...cur, merge: 'ave' });
          break;
        }
        const last = descs[descs.length - 1];
        if (!last || last.kind !== 'linear' || last.out !== cur.name || last.bias) bad(`Expected Add of a constant only as the bias right after MatMul, got ${where}`);
        if (v.length !== last.O) bad(`Expected a bias of ${last.O} values at ${where}, got ${v.length}`);
        last.bias = v;
        last.out = outs[0];
        setCur({ ...cur });
        break;
      }
      case 'MatMul':
      case 'Gemm': {
        if (ins[0] !== cur.name) bad(`Expected the data path as the first operand of ${where}, got it second`);
        if (cur.axes[r - 1] !== 'F') bad(`Expected ${op} over the feature axis, got axes (${cur.axes.join(', ')}) at ${where}`);
        const w = constOf(ins[1], `${op} weight`);
        const wf = floats(w, `${op} weight`);
        if (w.dims.length !== 2) bad(`Expected a 2-D ${op} weight at ${where}, got [${w.dims.join(', ')}]`);
        let weight: Float32Array;
        let I: number;
        let O: number;
        let bias: Float32Array | undefined;
        if (op === 'MatMul') {
          [I, O] = w.dims;
          weight = transpose2d(wf, I, O);
        } else {
          if (r !== 2) bad(`Expected Gemm on a 2-D (rows × features) input, got rank ${r} at ${where}`);
          if (num(A.get('transA')?.i ?? 0) !== 0) bad(`Expected Gemm with transA 0, got 1 at ${where}`);
          const transB = num(A.get('transB')?.i ?? 0) !== 0;
          const alpha = A.get('alpha')?.f ?? 1;
          const beta = A.get('beta')?.f ?? 1;
          if (transB) [O, I] = w.dims;
          else [I, O] = w.dims;
          weight = transB ? wf.slice() : transpose2d(wf, I, O);
          if (alpha !== 1) for (let i = 0; i < weight.length; i++) weight[i] *= alpha;
          if (ins[2]) {
            const c = floats(constOf(ins[2], 'Gemm bias'), 'Gemm bias');
            if (c.length !== O) bad(`Expected a Gemm bias of ${O} values at ${where}, got ${c.length}`);
            bias = c.map((x) => x * beta);
          }
        }
        if (features !== -1 && I !== features) bad(`Expected a ${op} weight with ${features} input rows at ${where}, got ${I}`);
        descs.push({ kind: 'linear', I, O, weight, bias, out: outs[0] });
        features = O;
        setCur({ axes: cur.axes });
        break;
      }
      case 'Gather': {
        const axis = num(A.get('axis')?.i ?? 0);
        if (ins[1] !== cur.name || !isIds || descs.length || axis !== 0) bad(`Expected Gather only as an embedding lookup (constant table, axis 0) on the input ids, got ${where}`);
        const w = constOf(ins[0], 'embedding table');
        if (w.dims.length !== 2) bad(`Expected a 2-D embedding table at ${where}, got [${w.dims.join(', ')}]`);
        descs.push({ kind: 'embedding', V: w.dims[0], E: w.dims[1], weight: floats(w, 'embedding table') });
        features = w.dims[1];
        setCur({ axes: [...cur.axes, 'F'] });
        break;
      }
      case 'Softmax':
      case 'LogSoftmax': {
        const axis = axisNorm(num(A.get('axis')?.i ?? (opset >= 13 ? -1 : 1)), r);
        if (axis !== r - 1 || cur.axes[r - 1] !== 'F') bad(`Expected ${op} over the last (feature) axis, got axis ${axis} of (${cur.axes.join(', ')}) at ${where}`);
        descs.push({ kind: op === 'Softmax' ? 'softmax' : 'logSoftmax' });
        setCur({ axes: cur.axes });
        break;
      }
      case 'Reshape': {
        const shape = ints(constOf(ins[1], 'Reshape shape'));
        const ax = cur.axes;
        if (r === 4 && ax[2] === 'D' && ax[3] === 'H' && shape.length === 3 && (shape[2] === -1 || shape[2] === cur.D! * cur.H!) && shape.slice(0, 2).every((s) => s !== -1 || shape[2] !== -1)) {
          // (·,·,D,H) → (·,·,D·H): both directions concatenated
          features = cur.D! * cur.H!;
          if (num(A.get('allowzero')?.i ?? 0) !== 0 && shape.slice(0, 2).includes(0)) bad(`Expected Reshape without allowzero at ${where}, got allowzero 1`);
          setCur({ axes: [ax[0], ax[1], 'F'] });
        } else if (r === 3 && ax[2] === 'F' && shape.length === 2 && (shape[1] === features || (shape[1] === -1 && shape[0] !== -1 && shape[0] !== 0))) {
          setCur({ axes: [`${ax[0]}*${ax[1]}`, 'F'] });
        } else if (r === 2 && ax[0].includes('*') && shape.length === 3 && (shape[2] === features || shape[2] === -1)) {
          const [a, b] = ax[0].split('*');
          setCur({ axes: [a, b, 'F'] });
        } else {
          bad(`Expected Reshape to merge directions (·,·,D,H)→(·,·,D·H) or to flatten/unflatten the steps, got shape [${shape.join(', ')}] for axes (${ax.join(', ')}) at ${where}`);
        }
        break;
      }
      case 'recurrent': {
        const cell = recCell!.kind;
        const io = recCell!.interchange!;
        if (ins[0] !== cur.name || r !== 3 || cur.axes[2] !== 'F') bad(`Expected ${where} to take the (steps, batch, features) sequence as X, got axes (${cur.axes.join(', ')})`);
        const layout = num(A.get('layout')?.i ?? 0);
        if (layout !== 0) bad(`Expected layout 0 (time-major) at ${where}, got ${layout}`);
        // the first recurrent node fixes which input axis is time
        const [a0, a1] = cur.axes as ['s0' | 's1', 's0' | 's1', string];
        if (!timeAxis) timeAxis = a0;
        else if (timeAxis !== a0) bad(`Expected every recurrent node to see the same time axis, got a transposed input at ${where}`);
        const G = recCell!.gates;
        const H = num(A.get('hidden_size')?.i ?? 0);
        const dir = str(A.get('direction')) ?? 'forward';
        if (!['forward', 'reverse', 'bidirectional'].includes(dir)) bad(`Expected direction forward, reverse or bidirectional at ${where}, got ${dir}`);
        const D = dir === 'bidirectional' ? 2 : 1;
        const W = constOf(ins[1], `${op} W`);
        const R = constOf(ins[2], `${op} R`);
        const I = W.dims[2];
        if (W.dims.length !== 3 || W.dims[0] !== D || W.dims[1] !== G * H) bad(`Expected ${op} W of shape [${D}, ${G * H}, I] at ${where}, got [${W.dims.join(', ')}]`);
        if (R.dims.join() !== [D, G * H, H].join()) bad(`Expected ${op} R of shape [${D}, ${G * H}, ${H}] at ${where}, got [${R.dims.join(', ')}]`);
        if (features !== -1 && I !== features) bad(`Expected ${op} W with input size ${features} at ${where}, got ${I}`);
        const Bc = ins[3] ? constOf(ins[3], `${op} B`) : undefined;
        if (Bc && Bc.dims.join() !== [D, 2 * G * H].join()) bad(`Expected ${op} B of shape [${D}, ${2 * G * H}] at ${where}, got [${Bc.dims.join(', ')}]`);
        const hasLens = !!ins[4];
        if (lensUse === undefined) lensUse = hasLens;
        if (lensUse !== hasLens || (hasLens && lengthsInput && lengthsInput !== ins[4])) bad(`Expected every recurrent node to use the same sequence_lens input (or none), got a different one at ${where}`);
        if (hasLens) {
          if (consts.has(ins[4])) bad(`Expected sequence_lens to be a graph input at ${where}, got a constant`);
          lengthsInput = ins[4];
        }
        for (const [k, what] of [[5, 'initial_h'], [6, 'initial_c']] as const) {
          if (!ins[k]) continue;
          if (zeros.has(ins[k])) continue;
          const c = consts.get(ins[k]);
          if (!c || Array.from(c.data).some((v) => v !== 0)) bad(`Expected ${what} absent or all zeros at ${where}, got ${c ? 'a nonzero constant' : 'a computed or input tensor'}`);
        }
        const withPeepholes = recCell!.optionKeys.includes('peepholes');
        const Pc = withPeepholes && ins[7] ? constOf(ins[7], `${op} P`) : undefined;
        if (Pc && Pc.dims.join() !== [D, 3 * H].join()) bad(`Expected ${op} P of shape [${D}, ${3 * H}] at ${where}, got [${Pc.dims.join(', ')}]`);
        // activations: one of the cell's choices (the first is ONNX's default), the same in both directions
        const acts = (A.get('activations')?.strings ?? []).map((s) => new TextDecoder().decode(s).toLowerCase());
        let chosen = io.activations[0];
        if (acts.length) {
          const per = acts.length / D;
          const first = acts.slice(0, per).join();
          const found = io.activations.find((a) => a.acts.join() === first);
          if (found) chosen = found;
          if (!found || acts.join() !== Array(D).fill(found.acts).flat().join()) bad(`Expected activations ${io.activations.map((a) => `[${a.acts.join(', ')}]`).join(' or ')} per direction at ${where}, got [${acts.join(', ')}]`);
        }
        if (A.has('activation_alpha') || A.has('activation_beta')) bad(`Expected no activation_alpha/beta at ${where}, got them`);
        const clip = A.has('clip') ? A.get('clip')!.f ?? 0 : 0;
        if (clip && !recCell!.optionKeys.includes('cellClip')) {
          const clipped = Object.values(CELLS).filter((c) => c.interchange && c.optionKeys.includes('cellClip')).map((c) => c.interchange!.onnx);
          bad(`Expected clip only on ${clipped.join(' or ')} (our cellClip), got clip ${clip} on ${op} at ${where}`);
        }
        const own = io.fromOnnx({ int: (name) => num(A.get(name)?.i ?? 0), peepholes: !!Pc, clip, where }, bad);
        // per direction, converted to our gate order
        const order = inverseOrder(io.onnxFromOurs);
        const wf = floats(W, `${op} W`);
        const rf = floats(R, `${op} R`);
        const bf = Bc ? floats(Bc, `${op} B`) : undefined;
        const pf = Pc ? floats(Pc, `${op} P`) : undefined;
        const params: Record<string, Float32Array> = {};
        const ourD = dir === 'forward' ? 1 : 2;
        for (let d = 0; d < ourD; d++) {
          const sf = `_l0${d ? '_reverse' : ''}`;
          // the onnx direction feeding our direction d (reverse: our forward direction stays zero)
          const od = dir === 'reverse' ? (d === 1 ? 0 : -1) : d;
          const sl = (a: Float32Array, len: number) => (od < 0 ? new Float32Array(len) : a.subarray(od * len, (od + 1) * len));
          params[`weight_ih${sf}`] = reorderRows(sl(wf, G * H * I), G, H, order);
          params[`weight_hh${sf}`] = reorderRows(sl(rf, G * H * H), G, H, order);
          if (bf) {
            const b = sl(bf, 2 * G * H);
            params[`bias_ih${sf}`] = reorderRows(b.subarray(0, G * H), G, H, order);
            params[`bias_hh${sf}`] = reorderRows(b.subarray(G * H), G, H, order);
          }
          if (pf) params[`weight_peep${sf}`] = swapPeepholes(sl(pf, 3 * H), H);
        }
        const opts: Record<string, unknown> = { inputSize: I, hiddenSize: H, bidirectional: ourD === 2, bias: !!bf, mergeMode: dir === 'reverse' ? 'sum' : 'concat' };
        Object.assign(opts, chosen.cfg, own);
        descs.push({ kind: 'rec', cell, opts, params });
        features = -1;
        outs.slice(1).forEach((o) => o && side.add(o));
        if (!outs[0]) bad(`Expected ${where}'s output Y to continue the data path, got only final states used (many-to-one heads are not supported)`);
        setCur({ axes: [a0, 'D', a1, 'H'], D, H, rec: descs.length - 1 });
        break;
      }
      default:
        bad(`Expected operators among ${supported()}, got unsupported operator ${op} at ${where}`);
    }
  }
  if (cur.split || cur.axes.includes('D')) bad(`Expected the recurrent output to be reshaped to (steps, batch, features), got axes (${cur.axes.join(', ')}) at the end`);
  const outputs = (g.output ?? []).map((o) => o.name ?? '');
  if (outputs[0] !== cur.name) bad(`Expected the first graph output to be the end of the data path ${cur.name}, got ${outputs[0] ?? 'none'}`);
  const ignoredOutputs = outputs.slice(1);
  for (const o of ignoredOutputs) if (!side.has(o)) bad(`Expected extra graph outputs to be recurrent final states, got ${o}`);
  if (!descs.length) bad('Expected at least one layer in the graph, got none');

  // time-major unless the first recurrent node saw the input's second axis as time
  const batchFirst = timeAxis === 's1';
  const flat = cur.axes.length === 2;
  const outAxes = flat ? cur.axes[0].split('*') : cur.axes.slice(0, 2);
  // our models return the input's layout: (T, B, ·) or (B, T, ·)
  if (outAxes.join() !== 's0,s1') bad(`Expected the output's leading axes in the input's order, got them swapped (${batchFirst ? 'input batch-first, output time-major' : 'input time-major, output batch-first'})`);

  const mods: Layer[] = [];
  const values: Record<string, Float32Array> = {};
  try {
    descs.forEach((d, i) => addLayer(d, i));
    plannedParameters(mods, true);
    for (const [k, v] of Object.entries(values)) {
      const at = v.findIndex((x) => !Number.isFinite(x));
      if (at >= 0) bad(`Expected finite values in ${k}, got ${v[at]} at element ${at}`);
    }
  } catch (e) {
    bad(`Expected layers we can build from the graph, got: ${(e as Error).message}`);
  }
  function addLayer(d: Desc, i: number): void {
    const put = (n: string, v: Float32Array) => (values[`${i}.${n}`] = v);
    if (d.kind === 'embedding') {
      mods.push(layers.embedding({ numEmbeddings: d.V, embeddingDim: d.E }));
      put('weight', d.weight);
    } else if (d.kind === 'linear') {
      mods.push(layers.linear({ inFeatures: d.I, outFeatures: d.O, bias: !!d.bias }));
      put('weight', d.weight);
      if (d.bias) put('bias', d.bias);
    } else if (d.kind === 'softmax') mods.push(layers.softmax());
    else if (d.kind === 'logSoftmax') mods.push(layers.logSoftmax());
    else if (d.kind === 'rec') {
      mods.push(new RecurrentCore(d.cell, d.opts as never));
      for (const [n, v] of Object.entries(d.params)) put(n, v);
    }
  }
  let model: Model;
  try {
    model = withoutInitialisers(() => new Sequential(mods, { batchFirst, inputSize: isIds ? undefined : inDims[2] > 0 ? inDims[2] : undefined }));
  } catch (e) {
    bad(`Expected a chain of layers that fit together, got: ${(e as Error).message}`);
  }
  try {
    model.loadStateDict(values);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { model, input: inputName, lengthsInput, flatOutput: flat, ignoredOutputs };
}
