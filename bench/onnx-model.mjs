// ONNX models of the benchmark workloads, built in memory with onnx-proto from PyTorch-layout
// parameters (the approach of test/oracle/onnx.ts, reduced to unidirectional stacks with optional
// state inputs/outputs and a linear head). Opset 14, time-major (layout 0).
//   inputs  X (T,B,I) · [h0 (L,B,H) · c0 (L,B,H)]       (state inputs when `state`)
//   per layer l: [h0 → Split → h0_l]  LSTM|GRU(X_l, W_l, R_l, B_l, '', h0_l, c0_l) → Y_l (T,1,B,H) → Squeeze → X_{l+1}
//   head: MatMul(X_L, Wᵀ (H,O)) + b → logits (T,B,O)
//   outputs Y (T,B,H|O) · [hN (L,B,H) · cN (L,B,H)]
// Gate blocks: LSTM PyTorch i,f,g,o → ONNX i,o,f,c; GRU r,z,n → z,r,h (linear_before_reset = 1 for
// PyTorch's reset-after form, 0 for the Cho form). B_l = [b_ih | b_hh], each reordered the same way.
import { createRequire } from 'node:module';
import { oneHot, sampleCheckIds, transpose } from './common.mjs';

const require = createRequire(import.meta.url);
const { onnx } = require('onnx-proto');
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;
const INT8 = onnx.TensorProto.DataType.INT8;
const AT = onnx.AttributeProto.AttributeType;
const enc = new TextEncoder();

const ORDER = { lstm: [0, 3, 1, 2], gru: [1, 0, 2] };

export function reorderGates(a, G, order) {
  const blk = a.length / G;
  const out = new Float32Array(a.length);
  for (let k = 0; k < G; k++) out.set(a.subarray(order[k] * blk, (order[k] + 1) * blk), k * blk);
  return out;
}
const tensor = (name, dims, data) => ({ name, dims, dataType: FLOAT, rawData: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) });
const i8 = (name, dims, q) => ({ name, dims, dataType: INT8, rawData: new Uint8Array(q.buffer, q.byteOffset, q.length) });
const i64 = (name, values) => ({ name, dims: [values.length], dataType: INT64, int64Data: values });
const info = (name, dims) => ({ name, type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });
const attrI = (name, i) => ({ name, type: AT.INT, i });
const attrS = (name, s) => ({ name, type: AT.STRING, s: enc.encode(s) });
const attrSs = (name, ss) => ({ name, type: AT.STRINGS, strings: ss.map((s) => enc.encode(s)) });

// Per-row symmetric int8 of w (N, K) (as rnn-wasm's quantize), stored transposed (K, N) with the
// row scales as per-column scales.
function quantizeT(w, N, K) {
  const q = new Int8Array(K * N), s = new Float32Array(N);
  for (let n = 0; n < N; n++) {
    let mx = 0;
    for (let k = 0; k < K; k++) mx = Math.max(mx, Math.abs(w[n * K + k]));
    s[n] = mx / 127;
    for (let k = 0; k < K; k++) q[k * N + n] = mx ? Math.round(w[n * K + k] / s[n]) : 0;
  }
  return { q, s };
}

/**
 * cfg: { cell: 'lstm'|'gru', I, H, L, T, B, state: bool, head?: { O }, resetAfter?: bool (GRU: false → Cho form),
 *        int8?: bool (LSTM: com.microsoft DynamicQuantizeLSTM with int8 W, R and one scale per gate row) }
 * params: PyTorch names (weight_ih_l0 …; with `prefix` '0.' for a Sequential; head '1.weight', '1.bias').
 */
export function buildOnnx(cfg, params, prefix = '') {
  const { cell, I, H, L, T, B, state, head, resetAfter } = cfg;
  const G = cell === 'lstm' ? 4 : 3;
  const order = ORDER[cell];
  const lstm = cell === 'lstm';
  const nodes = [], inits = [i64('axis1', [1])];
  const inputs = [info('X', [T, B, I])];
  const outputs = [];
  const split = (name) => {
    if (!state) return Array(L).fill('');
    inputs.push(info(name, [L, B, H]));
    if (L === 1) return [name];
    const outs = Array.from({ length: L }, (_, l) => `${name}_l${l}`);
    nodes.push({ opType: 'Split', input: [name], output: outs, attribute: [attrI('axis', 0)] });
    return outs;
  };
  const h0 = split('h0');
  const c0 = lstm ? split('c0') : [];
  let x = 'X';
  const hN = [], cN = [];
  for (let l = 0; l < L; l++) {
    const In = l === 0 ? I : H;
    const p = (n) => params[`${prefix}${n}_l${l}`];
    if (cfg.int8 && lstm) {
      // DynamicQuantizeLSTM: W (1, In, 4H) and R (1, H, 4H) int8 (transposed), per-column scales, zero points 0
      for (const [n, w, K] of [['W', p('weight_ih'), In], ['R', p('weight_hh'), H]]) {
        const { q, s } = quantizeT(reorderGates(w, G, order), G * H, K);
        inits.push(i8(`${n}${l}`, [1, K, G * H], q), tensor(`${n}s${l}`, [1, G * H], s), i8(`${n}z${l}`, [1, G * H], new Int8Array(G * H)));
      }
    } else {
      inits.push(tensor(`W${l}`, [1, G * H, In], reorderGates(p('weight_ih'), G, order)));
      inits.push(tensor(`R${l}`, [1, G * H, H], reorderGates(p('weight_hh'), G, order)));
    }
    const b = new Float32Array(2 * G * H);
    b.set(reorderGates(p('bias_ih'), G, order), 0);
    b.set(reorderGates(p('bias_hh'), G, order), G * H);
    inits.push(tensor(`B${l}`, [1, 2 * G * H], b));
    const ins = [x, `W${l}`, `R${l}`, `B${l}`, '', h0[l]];
    if (lstm) ins.push(c0[l]);
    while (ins[ins.length - 1] === '') ins.pop();
    const outs = [`Y${l}`, `hN${l}`];
    if (lstm) outs.push(`cN${l}`);
    hN.push(`hN${l}`);
    if (lstm) cN.push(`cN${l}`);
    const attribute = [attrI('hidden_size', H), attrS('direction', 'forward'), attrI('layout', 0),
      attrSs('activations', lstm ? ['Sigmoid', 'Tanh', 'Tanh'] : ['Sigmoid', 'Tanh'])];
    if (!lstm) attribute.push(attrI('linear_before_reset', resetAfter === false ? 0 : 1));
    if (cfg.int8 && lstm) {
      while (ins.length < 8) ins.push(''); // sequence_lens, initial_h, initial_c, P before the scales
      ins.push(`Ws${l}`, `Wz${l}`, `Rs${l}`, `Rz${l}`);
      // the contrib op has no `layout` attribute (time-major only)
      nodes.push({ opType: 'DynamicQuantizeLSTM', domain: 'com.microsoft', input: ins, output: outs, attribute: attribute.filter((a) => a.name !== 'layout') });
    } else nodes.push({ opType: lstm ? 'LSTM' : 'GRU', input: ins, output: outs, attribute });
    const next = l === L - 1 && !head ? 'Y' : `X${l + 1}`;
    nodes.push({ opType: 'Squeeze', input: [`Y${l}`, 'axis1'], output: [next] });
    x = next;
  }
  let yDim = H;
  if (head) {
    const O = head.O;
    inits.push(tensor('Wo', [H, O], transpose(params[`${head.prefix}weight`], O, H)));
    inits.push(tensor('bo', [O], params[`${head.prefix}bias`]));
    nodes.push({ opType: 'MatMul', input: [x, 'Wo'], output: ['XWo'] });
    nodes.push({ opType: 'Add', input: ['XWo', 'bo'], output: ['Y'] });
    yDim = O;
  }
  outputs.push(info('Y', [T, B, yDim]));
  if (state) {
    const cat = (name, parts) => nodes.push(parts.length === 1
      ? { opType: 'Identity', input: parts, output: [name] }
      : { opType: 'Concat', input: parts, output: [name], attribute: [attrI('axis', 0)] });
    cat('hN', hN);
    outputs.push(info('hN', [L, B, H]));
    if (lstm) {
      cat('cN', cN);
      outputs.push(info('cN', [L, B, H]));
    }
  }
  const model = {
    irVersion: 8, producerName: 'rnn-wasm-bench', opsetImport: [{ domain: '', version: 14 }, ...(cfg.int8 ? [{ domain: 'com.microsoft', version: 1 }] : [])],
    graph: { name: 'bench', node: nodes, initializer: inits, input: inputs, output: outputs },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

/**
 * W5's correctness check on an ONNX Runtime session of the one-step stacked LSTM + head: the logits
 * of every step of the check sequence (sampleCheckIds), fed one-hot from the zero state.
 */
export async function w5CheckOutput(s, w, zeros, F) {
  const ids = sampleCheckIds(w);
  const out = new Float32Array(w.steps * w.V);
  let h = zeros, c = zeros;
  for (let t = 0; t < w.steps; t++) {
    const r = await s.run({ X: F(oneHot(ids.subarray(t, t + 1), w.V), [1, 1, w.V]), h0: h, c0: c });
    h = r.hN;
    c = r.cN;
    out.set(r.Y.data, t * w.V);
  }
  return out;
}
