// Oracle 1: ONNX Runtime's CPU RNN/LSTM/GRU operators. Builds an ONNX model in memory (onnx-proto's
// protobufjs messages, opset 14) from PyTorch-layout parameters and runs it with onnxruntime-node.
//
// Graph (time-major, layout = 0, the only layout ORT's CPU kernels accept):
//   inputs  X (T,B,I) f32 · sequence_lens (B) i32? · initial_h (L*D,B,H)? · initial_c (L*D,B,H)?
//   per layer l:  [initial_h → Split(axis 0) → h0_l]  op(X_l, W_l, R_l, B_l, seq, h0_l, c0_l, P_l)
//                 Y_l (T,D,B,H) → X_{l+1} (T,B,outH):
//                   D=1          Squeeze(axis 1)
//                   D=2 concat   Transpose(0,2,1,3) → Reshape (T,B,2H)
//                   D=2 merge    Split(axis 1) → Add | Mul | Add·0.5 → Squeeze(axis 1)
//   outputs Y (T,B,outH) · Y_h = Concat_l(Y_h_l) (L*D,B,H) · Y_c likewise (LSTM)
//
// Layout conversion from PyTorch (per direction; ONNX stacks directions on a leading axis):
//   W (D, G*H, I), R (D, G*H, H): the same rows, gate blocks reordered
//     LSTM PyTorch i,f,g,o → ONNX i,o,f,c      GRU PyTorch r,z,n → ONNX z,r,h      RNN as is
//   B (D, 2*G*H) = [b_ih | b_hh], each reordered likewise (zeros when bias = false)
//   P (D, 3H): PyTorch-style p_i,p_f,p_o → ONNX p_i,p_o,p_f
//   GRU resetAfter ↔ linear_before_reset 1; Cho form ↔ 0.  LSTM cellClip ↔ clip.
import { createRequire } from 'node:module';
import * as ort from 'onnxruntime-node';
import type { onnx as proto } from 'onnx-proto';
import { GATES, dirs, layerInput, outSize, suffix, type OracleInput, type OracleOutput, type Params, type RnnConfig } from './spec';

const require = createRequire(import.meta.url);
// onnx-proto is CommonJS whose exports Node's ESM loader cannot name statically.
const { onnx } = require('onnx-proto') as { onnx: typeof proto };

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT32 = onnx.TensorProto.DataType.INT32;
const INT64 = onnx.TensorProto.DataType.INT64;
const AT = onnx.AttributeProto.AttributeType;

/** ONNX gate block k holds PyTorch gate block ORDER[k]. */
const ONNX_ORDER: Record<RnnConfig['mode'], number[]> = {
  rnn: [0],
  lstm: [0, 3, 1, 2], // i,o,f,c ← i,f,g,o
  gru: [1, 0, 2], // z,r,h ← r,z,n
};

/** Reorders the gate blocks of a (G*H, cols) row-major matrix (cols = 1 for a bias). */
export function reorderGates(a: Float32Array, G: number, H: number, order: number[]): Float32Array {
  const cols = a.length / (G * H);
  const out = new Float32Array(a.length);
  for (let k = 0; k < G; k++) out.set(a.subarray(order[k] * H * cols, (order[k] + 1) * H * cols), k * H * cols);
  return out;
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function floatTensor(name: string, dims: number[], data: Float32Array): proto.ITensorProto {
  const bytes = new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  return { name, dims, dataType: FLOAT, rawData: bytes };
}
function int64Tensor(name: string, values: number[]): proto.ITensorProto {
  return { name, dims: [values.length], dataType: INT64, int64Data: values };
}
function valueInfo(name: string, elemType: number, dims: number[]): proto.IValueInfoProto {
  return { name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } };
}
const enc = new TextEncoder();
function attrInt(name: string, i: number): proto.IAttributeProto {
  return { name, type: AT.INT, i };
}
function attrFloat(name: string, f: number): proto.IAttributeProto {
  return { name, type: AT.FLOAT, f };
}
function attrString(name: string, s: string): proto.IAttributeProto {
  return { name, type: AT.STRING, s: enc.encode(s) };
}
function attrStrings(name: string, ss: string[]): proto.IAttributeProto {
  return { name, type: AT.STRINGS, strings: ss.map((s) => enc.encode(s)) };
}
function attrInts(name: string, ints: number[]): proto.IAttributeProto {
  return { name, type: AT.INTS, ints };
}

export interface OnnxModelShape {
  T: number;
  B: number;
  lengths: boolean;
  h0: boolean;
  c0: boolean;
}

/** Serialised ONNX model (ModelProto bytes) of the whole stack for one input shape. */
export function buildOnnxModel(c: RnnConfig, p: Params, s: OnnxModelShape): Uint8Array {
  const { T, B } = s;
  const H = c.hiddenSize;
  const G = GATES[c.mode];
  const D = dirs(c);
  const L = c.numLayers;
  const order = ONNX_ORDER[c.mode];
  const op = c.mode === 'rnn' ? 'RNN' : c.mode === 'lstm' ? 'LSTM' : 'GRU';
  const isLstm = c.mode === 'lstm';

  const nodes: proto.INodeProto[] = [];
  const inits: proto.ITensorProto[] = [];
  const inputs: proto.IValueInfoProto[] = [valueInfo('X', FLOAT, [T, B, c.inputSize])];
  if (s.lengths) inputs.push(valueInfo('sequence_lens', INT32, [B]));
  if (s.h0) inputs.push(valueInfo('initial_h', FLOAT, [L * D, B, H]));
  if (s.c0 && isLstm) inputs.push(valueInfo('initial_c', FLOAT, [L * D, B, H]));
  // small constants, added on first use (ORT warns about unused initializers)
  const constants = new Set<string>();
  const constant = (name: 'axis1' | 'shape_TB_' | 'half'): string => {
    if (!constants.has(name)) {
      constants.add(name);
      if (name === 'axis1') inits.push(int64Tensor(name, [1]));
      else if (name === 'shape_TB_') inits.push(int64Tensor(name, [0, 0, -1])); // Reshape: 0 keeps T, B
      else inits.push(floatTensor(name, [], new Float32Array([0.5])));
    }
    return name;
  };

  // split the stacked initial states into one (D,B,H) input per layer
  const layerState = (name: 'initial_h' | 'initial_c', present: boolean): string[] => {
    if (!present) return Array(L).fill('');
    if (L === 1) return [name];
    const outs = Array.from({ length: L }, (_, l) => `${name}_l${l}`);
    nodes.push({ opType: 'Split', input: [name], output: outs, attribute: [attrInt('axis', 0)] });
    return outs;
  };
  const h0s = layerState('initial_h', s.h0);
  const c0s = layerState('initial_c', s.c0 && isLstm);

  let x = 'X';
  const yh: string[] = [];
  const yc: string[] = [];
  for (let l = 0; l < L; l++) {
    const I = layerInput(c, l);
    const W: Float32Array[] = [];
    const R: Float32Array[] = [];
    const Bs: Float32Array[] = [];
    const P: Float32Array[] = [];
    for (let d = 0; d < D; d++) {
      const sf = suffix(l, d);
      W.push(reorderGates(p[`weight_ih${sf}`], G, H, order));
      R.push(reorderGates(p[`weight_hh${sf}`], G, H, order));
      if (c.bias) {
        Bs.push(reorderGates(p[`bias_ih${sf}`], G, H, order));
        Bs.push(reorderGates(p[`bias_hh${sf}`], G, H, order));
      }
      if (isLstm && c.peepholes) {
        const pp = p[`weight_peep${sf}`]; // p_i, p_f, p_o
        P.push(concat([pp.subarray(0, H), pp.subarray(2 * H, 3 * H), pp.subarray(H, 2 * H)]));
      }
    }
    inits.push(floatTensor(`W_l${l}`, [D, G * H, I], concat(W)));
    inits.push(floatTensor(`R_l${l}`, [D, G * H, H], concat(R)));
    if (c.bias) inits.push(floatTensor(`B_l${l}`, [D, 2 * G * H], concat(Bs)));
    if (P.length) inits.push(floatTensor(`P_l${l}`, [D, 3 * H], concat(P)));

    const ins = [x, `W_l${l}`, `R_l${l}`, c.bias ? `B_l${l}` : '', s.lengths ? 'sequence_lens' : '', h0s[l]];
    if (isLstm) ins.push(c0s[l], P.length ? `P_l${l}` : '');
    while (ins[ins.length - 1] === '') ins.pop();
    const outs = [`Y_l${l}`, `Y_h_l${l}`];
    if (isLstm) outs.push(`Y_c_l${l}`);
    yh.push(`Y_h_l${l}`);
    if (isLstm) yc.push(`Y_c_l${l}`);

    const acts =
      c.mode === 'rnn'
        ? [c.nonlinearity === 'relu' ? 'Relu' : 'Tanh']
        : c.mode === 'lstm'
          ? ['Sigmoid', 'Tanh', 'Tanh']
          : ['Sigmoid', 'Tanh'];
    const attribute = [
      attrInt('hidden_size', H),
      attrString('direction', D === 2 ? 'bidirectional' : 'forward'),
      attrStrings('activations', D === 2 ? [...acts, ...acts] : acts),
      attrInt('layout', 0),
    ];
    if (c.mode === 'gru') attribute.push(attrInt('linear_before_reset', c.resetAfter ? 1 : 0));
    if (isLstm) attribute.push(attrInt('input_forget', 0));
    if (isLstm && c.cellClip > 0) attribute.push(attrFloat('clip', c.cellClip));
    nodes.push({ opType: op, name: `${op}_l${l}`, input: ins, output: outs, attribute });

    // Y_l (T,D,B,H) → (T,B,outH)
    const next = l === L - 1 ? 'Y' : `X_l${l + 1}`;
    const y = `Y_l${l}`;
    if (D === 1) {
      nodes.push({ opType: 'Squeeze', input: [y, constant('axis1')], output: [next] });
    } else if (c.mergeMode === 'concat') {
      nodes.push({ opType: 'Transpose', input: [y], output: [`${y}_t`], attribute: [attrInts('perm', [0, 2, 1, 3])] });
      nodes.push({ opType: 'Reshape', input: [`${y}_t`, constant('shape_TB_')], output: [next] });
    } else {
      nodes.push({ opType: 'Split', input: [y], output: [`${y}_f`, `${y}_b`], attribute: [attrInt('axis', 1)] });
      const m = `${y}_m`;
      if (c.mergeMode === 'mul') nodes.push({ opType: 'Mul', input: [`${y}_f`, `${y}_b`], output: [m] });
      else nodes.push({ opType: 'Add', input: [`${y}_f`, `${y}_b`], output: [m] });
      let merged = m;
      if (c.mergeMode === 'ave') {
        merged = `${y}_ave`;
        nodes.push({ opType: 'Mul', input: [m, constant('half')], output: [merged] });
      }
      nodes.push({ opType: 'Squeeze', input: [merged, constant('axis1')], output: [next] });
    }
    x = next;
  }
  const stateOut = (name: string, parts: string[]) =>
    parts.length === 1
      ? nodes.push({ opType: 'Identity', input: parts, output: [name] })
      : nodes.push({ opType: 'Concat', input: parts, output: [name], attribute: [attrInt('axis', 0)] });
  stateOut('Y_h', yh);
  if (isLstm) stateOut('Y_c', yc);

  const outputs = [valueInfo('Y', FLOAT, [T, B, outSize(c)]), valueInfo('Y_h', FLOAT, [L * D, B, H])];
  if (isLstm) outputs.push(valueInfo('Y_c', FLOAT, [L * D, B, H]));

  const model: proto.IModelProto = {
    irVersion: 8,
    producerName: 'rnn-wasm-oracle',
    opsetImport: [{ domain: '', version: 14 }],
    graph: { name: 'rnn_oracle', node: nodes, initializer: inits, input: inputs, output: outputs },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

/** Runs the stack in onnxruntime-node (one intra-op thread: deterministic and fair on 2 cores). */
export async function runOnnx(c: RnnConfig, p: Params, inp: OracleInput): Promise<OracleOutput> {
  const { T, B } = inp;
  const H = c.hiddenSize;
  const S = [c.numLayers * dirs(c), B, H];
  const bytes = buildOnnxModel(c, p, {
    T,
    B,
    lengths: !!inp.lengths,
    h0: !!inp.h0,
    c0: !!inp.c0 && c.mode === 'lstm',
  });
  const session = await ort.InferenceSession.create(bytes, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'disabled',
  });
  try {
    const feeds: Record<string, ort.Tensor> = { X: new ort.Tensor('float32', inp.x, [T, B, c.inputSize]) };
    if (inp.lengths) feeds.sequence_lens = new ort.Tensor('int32', inp.lengths, [B]);
    if (inp.h0) feeds.initial_h = new ort.Tensor('float32', inp.h0, S);
    if (inp.c0 && c.mode === 'lstm') feeds.initial_c = new ort.Tensor('float32', inp.c0, S);
    const r = await session.run(feeds);
    return {
      output: r.Y.data as Float32Array,
      hN: r.Y_h.data as Float32Array,
      cN: c.mode === 'lstm' ? (r.Y_c.data as Float32Array) : undefined,
      paddedOutputsZero: true,
    };
  } finally {
    await session.release();
  }
}
