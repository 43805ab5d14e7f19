// Writing ONNX graphs (opset 14–21): a builder that names tensors, adds nodes and initialisers,
// caches constants, and emits one of our recurrent modules as one RNN/LSTM/GRU node per layer.
// Shared by the Sequential export (src/io/onnx.ts) and the graph export (src/io/onnx-graph.ts).
//
// A recurrent module, per layer l (weights converted to ONNX gate orders LSTM i,o,f,c; GRU z,r,h):
//   RNN/LSTM/GRU(x, W, R, B = [b_ih | b_hh], sequence_lens?, initial_h?, initial_c?, P?)
//   Y (T,D,B,H) → (T,B,·): D=1 Squeeze(1); concat Transpose(0,2,1,3) + Reshape(0,0,-1);
//   sum/mul/ave Split(1) → Add|Mul (→ Mul 0.5) → Squeeze(1). Y_h, Y_c (D,B,H) are returned per layer.
// Dropout between stacked layers is the identity at inference and is left out.
import { AttributeType, DataType, encodeModel, type AttributeProto, type NodeProto, type TensorProto, type ValueInfoProto } from './onnx-proto';
import type { RecurrentCore } from '../layers/recurrent';
import { ValueError, show } from '../errors';
import { concat, reorderRows, swapPeepholes } from './layout';
import { CELLS } from '../layers/cells';

const enc = new TextEncoder();

export const attrInt = (name: string, i: number): AttributeProto => ({ name, type: AttributeType.INT, i });
export const attrFloat = (name: string, f: number): AttributeProto => ({ name, type: AttributeType.FLOAT, f });
export const attrString = (name: string, s: string): AttributeProto => ({ name, type: AttributeType.STRING, s: enc.encode(s) });
export const attrStrings = (name: string, ss: string[]): AttributeProto => ({ name, type: AttributeType.STRINGS, strings: ss.map((s) => enc.encode(s)) });
export const attrInts = (name: string, ints: number[]): AttributeProto => ({ name, type: AttributeType.INTS, ints });

export function floatTensor(name: string, dims: number[], data: Float32Array): TensorProto {
  const bytes = new Uint8Array(data.byteLength);
  const v = new DataView(bytes.buffer);
  for (let i = 0; i < data.length; i++) v.setFloat32(4 * i, data[i], true);
  return { name, dims, dataType: DataType.FLOAT, rawData: bytes };
}

export function valueInfo(name: string, elemType: number, dims: (number | string)[]): ValueInfoProto {
  return { name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } } };
}

/** Checks the opset option (an integer in [14, 21], default 14). */
export function checkOpset(opset: unknown): number {
  const v = opset ?? 14;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 14 || v > 21) throw new ValueError(`Expected opset an integer in [14, 21], got ${show(opset)}`);
  return v;
}

/** What recurrent() returns: the (T, B, out) sequence and each layer's final states (D, B, H). */
export interface RecurrentOut {
  y: string;
  yh: string[];
  yc: string[];
}

export class OnnxBuilder {
  readonly nodes: NodeProto[] = [];
  readonly inits: TensorProto[] = [];
  private readonly consts = new Set<string>();
  private uid = 0;
  constructor(readonly opset: number) {}

  /** A tensor name not used before (`base_n`). */
  fresh(base: string): string {
    return `${base}_${this.uid++}`;
  }

  /** Adds a node; returns its outputs (`outs` names, or fresh ones). */
  nodeOuts(opType: string, input: string[], attribute: AttributeProto[], outs: string[], name?: string): string[] {
    this.nodes.push({ opType, name, input, output: outs, attribute: attribute.length ? attribute : undefined });
    return outs;
  }

  /** Adds a one-output node; returns its output's (fresh) name. */
  op(opType: string, input: string[], attribute: AttributeProto[] = [], base = opType.toLowerCase()): string {
    return this.nodeOuts(opType, input, attribute, [this.fresh(base)])[0];
  }

  /** A float initialiser (a fresh name from `base`). */
  floats(base: string, dims: number[], data: Float32Array): string {
    const name = this.fresh(base);
    this.inits.push(floatTensor(name, dims, data));
    return name;
  }

  /** A cached constant: int64 (1-D, or a scalar with `scalar`), float scalar. */
  int64(values: number[], scalar = false): string {
    const key = `i64${scalar ? 's' : ''}_${values.join('_').replace(/-/g, 'm')}`;
    if (!this.consts.has(key)) {
      this.consts.add(key);
      this.inits.push({ name: key, dims: scalar ? [] : [values.length], dataType: DataType.INT64, int64Data: values });
    }
    return key;
  }
  float(v: number): string {
    const key = `f32_${show(v).replace(/-/g, 'm').replace(/\./g, 'p')}`;
    if (!this.consts.has(key)) {
      this.consts.add(key);
      this.inits.push(floatTensor(key, [], new Float32Array([v])));
    }
    return key;
  }

  /** ReduceSum / ReduceMax / ReduceMean over `axes` (axes an input from opset 13 for ReduceSum, 18 for the others). */
  reduce(op: 'ReduceSum' | 'ReduceMax' | 'ReduceMean', x: string, axes: number[], keepdims: 0 | 1): string {
    const asInput = op === 'ReduceSum' || this.opset >= 18;
    return asInput
      ? this.op(op, [x, this.int64(axes)], [attrInt('keepdims', keepdims)])
      : this.op(op, [x], [attrInts('axes', axes), attrInt('keepdims', keepdims)]);
  }

  /**
   * One recurrent node per layer of `m` over x (T, B, I): the ONNX operator, gate order, activations
   * and attributes of its cell's descriptor (`interchange`). `param(name)` reads our parameter
   * (`weight_ih_l0`…); `initH(l)` / `initC(l)` give layer l's initial states (D, B, H) or ''.
   */
  recurrent(m: RecurrentCore, x: string, tag: string, param: (name: string) => Float32Array, o: { lengths?: string; initH?: (l: number) => string; initC?: (l: number) => string } = {}): RecurrentOut {
    const kind = m.kind;
    const cell = m.cell;
    const io = cell.interchange;
    if (!io) {
      const known = Object.values(CELLS).filter((c) => c.interchange).map((c) => c.kind);
      throw new ValueError(`Expected ${known.slice(0, -1).join(', ')} or ${known[known.length - 1]} layers for ONNX export (ONNX has no ${kind} operator), got ${kind}`);
    }
    const H = m.hiddenSize;
    const G = cell.gates;
    const D = m.directions;
    const order = io.onnxFromOurs;
    const yh: string[] = [];
    const yc: string[] = [];
    for (let l = 0; l < m.numLayers; l++) {
      const I = m.layerInput(l);
      const W: Float32Array[] = [];
      const R: Float32Array[] = [];
      const Bs: Float32Array[] = [];
      const P: Float32Array[] = [];
      for (let d = 0; d < D; d++) {
        const sf = `_l${l}${d ? '_reverse' : ''}`;
        W.push(reorderRows(param(`weight_ih${sf}`), G, H, order));
        R.push(reorderRows(param(`weight_hh${sf}`), G, H, order));
        if (m.bias) Bs.push(reorderRows(param(`bias_ih${sf}`), G, H, order), reorderRows(param(`bias_hh${sf}`), G, H, order));
        if (m.peepholes) P.push(swapPeepholes(param(`weight_peep${sf}`), H));
      }
      const t = `${tag}/l${l}`;
      this.inits.push(floatTensor(`${t}/W`, [D, G * H, I], concat(W, Float32Array)));
      this.inits.push(floatTensor(`${t}/R`, [D, G * H, H], concat(R, Float32Array)));
      if (m.bias) this.inits.push(floatTensor(`${t}/B`, [D, 2 * G * H], concat(Bs, Float32Array)));
      if (P.length) this.inits.push(floatTensor(`${t}/P`, [D, 3 * H], concat(P, Float32Array)));
      const ins = [x, `${t}/W`, `${t}/R`, m.bias ? `${t}/B` : '', o.lengths ?? '', o.initH?.(l) ?? ''];
      ins.push(cell.hasCellState ? o.initC?.(l) ?? '' : '', P.length ? `${t}/P` : '');
      while (ins[ins.length - 1] === '') ins.pop();
      const y = `${t}/Y`;
      const outs = [y, `${t}/Y_h`];
      yh.push(`${t}/Y_h`);
      if (cell.hasCellState) {
        outs.push(`${t}/Y_c`);
        yc.push(`${t}/Y_c`);
      }
      // the activations that stand for this layer's settings, in ONNX's spelling (Tanh, Sigmoid, Relu)
      const choice = io.activations.find((a) => Object.entries(a.cfg).every(([k, v]) => m[k as keyof typeof a.cfg] === v)) ?? io.activations[0];
      const acts = choice.acts.map((a) => a[0].toUpperCase() + a.slice(1));
      const attribute = [
        attrInt('hidden_size', H),
        attrString('direction', D === 2 ? 'bidirectional' : 'forward'),
        attrStrings('activations', D === 2 ? [...acts, ...acts] : acts),
        attrInt('layout', 0),
      ];
      for (const a of io.onnxAttributes(m)) attribute.push(a.float !== undefined ? attrFloat(a.name, a.float) : attrInt(a.name, a.int!));
      this.nodeOuts(io.onnx, ins, attribute, outs, `${t}/${io.onnx}`);
      x = this.mergeDirections(m, y);
    }
    return { y: x, yh, yc };
  }

  /** Y (T, D, B, H) → (T, B, out) by the module's merge mode. */
  private mergeDirections(m: RecurrentCore, y: string): string {
    if (m.directions === 1) return this.op('Squeeze', [y, this.int64([1])], [], 'seq');
    if (m.mergeMode === 'concat') {
      const t = this.op('Transpose', [y], [attrInts('perm', [0, 2, 1, 3])]);
      return this.op('Reshape', [t, this.int64([0, 0, -1])], [], 'seq');
    }
    const [f, b] = this.nodeOuts('Split', [y, this.int64([1, 1])], [attrInt('axis', 1)], [`${y}_f`, `${y}_b`]);
    let merged = this.op(m.mergeMode === 'mul' ? 'Mul' : 'Add', [f, b]);
    if (m.mergeMode === 'ave') merged = this.op('Mul', [merged, this.float(0.5)]);
    return this.op('Squeeze', [merged, this.int64([1])], [], 'seq');
  }

  /** The ModelProto bytes (IR version from the opset). */
  finish(name: string, input: ValueInfoProto[], output: ValueInfoProto[]): Uint8Array {
    const irVersion = this.opset <= 18 ? 8 : this.opset <= 20 ? 9 : 10;
    return encodeModel({
      irVersion,
      producerName: 'rnn-wasm',
      opsetImport: [{ domain: '', version: this.opset }],
      graph: { name, node: this.nodes, initializer: this.inits, input, output },
    });
  }
}
