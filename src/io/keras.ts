// Keras / TensorFlow.js layers models: model.json (`modelTopology` + `weightsManifest`) with its
// weight shards, or the artifacts a tfjs save handler receives (`modelTopology`, `weightSpecs`,
// `weightData`). Sequential models of InputLayer, Masking, Embedding, SimpleRNN, LSTM, GRU,
// Bidirectional, Dense, TimeDistributed(Dense), Activation and Dropout.
//
// Keras is batch-first, so the imported model is a batchFirst Sequential. Per recurrent layer:
//   kernel (I, G·H) → weight_ih (G·H, I), recurrent_kernel (H, G·H) → weight_hh, gate blocks
//   LSTM i,f,c,o = ours i,f,g,o; GRU z,r,h → ours r,z,n.
//   One bias (G·H) → bias_ih, bias_hh = 0 (SimpleRNN, LSTM, GRU reset_after=False = our Cho form);
//   GRU reset_after=True: bias (2, G·H) = [input; recurrent] → bias_ih, bias_hh (our default form).
// Masking / Embedding(mask_zero) become per-row lengths (trailing padding only) and our packed
// semantics; a recurrent layer with return_sequences=False (only the last one, followed only by
// Dense/Activation/Dropout) makes `predict` return one vector per sequence: the forward direction
// at each row's last valid step and the backward direction at step 0, merged, then the head.
import { Sequential, layers } from '../model/model';
import { withoutInitialisers } from '../params/initialisers';
import type { Layer } from '../layers/module';
import type { MergeMode } from '../layers/recurrent';
import { cellByInterchangeName, interchangeNames, isCellKind } from '../layers/cells';
import { RecurrentCore } from '../layers/recurrent';
import { Tensor, tensor } from '../tensor';
import { ShapeError, ValueError, show } from '../errors';
import { checkOptions, keysOf } from '../options';
import { FormatError, checkJsonValues } from './format';
import { topologyLayers, type KLayer } from './keras-topology';
import { plannedParameters } from './architecture';
import { concat, expectShape, f16ToF32, kernelToRows, transpose2d } from './layout';

export const PREDICT_KEYS = keysOf<{ lengths?: unknown }>()('lengths');

/** One entry of a weights manifest (tfjs `WeightsManifestEntry`). */
export interface KerasWeightSpec {
  /** The weight's name in the model (`lstm/kernel`, …). */
  name: string;
  /** Its dimensions. */
  shape: number[];
  /** Its stored dtype (`float32`). */
  dtype: string;
  /** tfjs' weight quantization, when the weights were saved quantized (dequantized on import). */
  quantization?: { dtype: 'uint8' | 'uint16' | 'float16'; scale?: number; min?: number };
}

/** What a tfjs save handler receives (`tf.io.withSaveHandler`), or model.json plus its shards. */
export type KerasSource =
  | { modelTopology: unknown; weightSpecs: KerasWeightSpec[]; weightData: ArrayBuffer | ArrayBuffer[] | Uint8Array }
  | {
      /** model.json, parsed or as text. */
      modelJson: unknown;
      /** The shards: by path as listed in the manifest, in manifest order, or already concatenated. */
      weights: Record<string, ArrayBuffer | Uint8Array> | (ArrayBuffer | Uint8Array)[] | ArrayBuffer | Uint8Array;
    };

/** How padding is recognised in the input. */
export type KerasMask = { kind: 'value'; value: number } | { kind: 'ids'; value: 0 };

/**
 * A Keras / TF.js layers model converted by {@link importKeras}: the recurrent model, the layers after it
 * when the model is many-to-one, and `predict`.
 */
export class KerasImport {
  /**
   * The per-step model (batchFirst). With return_sequences=False it ends at the last recurrent
   * layer (bidirectional outputs concatenated); `head` holds the layers after it.
   */
  readonly model: Sequential;
  /** The layers after the last recurrent one of a many-to-one model (applied to its last step), else null. */
  readonly head: Sequential | null;
  /** False when the last recurrent layer has return_sequences=False: predict gives (B, O). */
  readonly returnSequences: boolean;
  /**
   * How padded steps are recognised in `predict`'s input (from `Masking` or `Embedding(mask_zero)`), else
   * null.
   */
  readonly mask: KerasMask | null;
  /** Merge of the last layer's two directions when returnSequences is false (null: one direction). */
  private readonly lastMerge: MergeMode | null;
  private readonly lastH: number;

  /** @internal */
  constructor(model: Sequential, head: Sequential | null, returnSequences: boolean, mask: KerasMask | null, lastMerge: MergeMode | null, lastH: number) {
    this.model = model;
    this.head = head;
    this.returnSequences = returnSequences;
    this.mask = mask;
    this.lastMerge = lastMerge;
    this.lastH = lastH;
  }

  /**
   * Per-row lengths from the model's mask (Masking's mask_value, or id 0 with mask_zero), or
   * undefined without one. Masked steps must all be at the end of a row: ValueError otherwise.
   */
  lengths(x: Tensor<Float32Array> | Tensor<Int32Array>): Int32Array | undefined {
    const m = this.mask;
    if (!m) return undefined;
    const [B, T] = x.shape;
    const F = m.kind === 'ids' ? 1 : x.shape[2];
    if (x.shape.length !== (m.kind === 'ids' ? 2 : 3)) throw new ShapeError(`Expected x of rank ${m.kind === 'ids' ? 2 : 3} (batch, steps${m.kind === 'ids' ? '' : ', features'}), got [${x.shape.join(', ')}]`);
    const lens = new Int32Array(B);
    for (let b = 0; b < B; b++) {
      let len = 0;
      for (let t = 0; t < T; t++) {
        let masked = true;
        for (let j = 0; j < F && masked; j++) masked = x.data[(b * T + t) * F + j] === m.value;
        if (!masked) {
          if (len !== t) throw new ValueError(`Expected padding (value ${m.value}) only at the end of each sequence, got row ${b} unmasked at step ${t} after masked step ${len}`);
          len = t + 1;
        }
      }
      if (len === 0) throw new ValueError(`Expected at least one unmasked step in every row, got none in row ${b}`);
      lens[b] = len;
    }
    return lens;
  }

  /**
   * Keras's predict: (B, T, O) per step, or (B, O) when returnSequences is false. Lengths come
   * from the mask unless given.
   */
  predict(x: Tensor<Float32Array> | Tensor<Int32Array>, opts: { lengths?: Int32Array | ArrayLike<number> } = {}): Tensor {
    checkOptions(opts, PREDICT_KEYS, 'predict options');
    const lengths = opts.lengths ?? this.lengths(x);
    const out = this.model.forward(x, lengths ? { lengths } : {}).output;
    if (this.returnSequences) return out;
    // the last layer's final outputs: forward at each row's last step, backward at step 0
    const [B, T, F] = out.shape;
    const H = this.lastH;
    const W = this.lastMerge === 'concat' ? 2 * H : H;
    const vec = new Float32Array(B * W);
    for (let b = 0; b < B; b++) {
      const last = lengths ? lengths[b] - 1 : T - 1;
      const fwd = out.data.subarray((b * T + last) * F, (b * T + last) * F + H);
      if (!this.lastMerge) {
        vec.set(fwd, b * W);
        continue;
      }
      const bwd = out.data.subarray(b * T * F + H, b * T * F + 2 * H);
      for (let j = 0; j < H; j++) {
        const f = fwd[j];
        const r = bwd[j];
        if (this.lastMerge === 'concat') {
          vec[b * W + j] = f;
          vec[b * W + H + j] = r;
        } else vec[b * W + j] = this.lastMerge === 'sum' ? f + r : this.lastMerge === 'mul' ? f * r : (f + r) / 2;
      }
    }
    if (!this.head) return tensor(vec, [B, W]);
    const y = this.head.forward(tensor(vec, [1, B, W])).output;
    return tensor(y.data, [B, y.shape[2]]);
  }

  /** Releases the imported models' wasm memory. */
  dispose(): void {
    this.model.dispose();
    this.head?.dispose();
  }
}

function bad(msg: string): never {
  throw new FormatError(msg);
}

const QUANT_BYTES: ReadonlyMap<string, number> = new Map([['uint8', 1], ['uint16', 2], ['float16', 2]]);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Checks one manifest entry: a name, a shape of non-negative integers, a known dtype or quantization. */
function checkSpec(s: KerasWeightSpec, i: number): number {
  if (!s || typeof s !== 'object' || typeof s.name !== 'string') bad(`Expected weight spec ${i} to be {name, shape, dtype}, got ${JSON.stringify(s)?.slice(0, 100)}`);
  if (!Array.isArray(s.shape) || !s.shape.every(isCount)) bad(`Expected weight ${s.name}'s shape to be non-negative integers, got ${JSON.stringify(s.shape)?.slice(0, 100)}`);
  const q = s.quantization;
  if (q !== undefined) {
    if (!q || typeof q !== 'object' || !QUANT_BYTES.has(q.dtype)) bad(`Expected weight ${s.name}'s quantization dtype uint8, uint16 or float16, got ${JSON.stringify(q)?.slice(0, 100)}`);
    for (const k of ['scale', 'min'] as const) {
      if (q[k] !== undefined && (typeof q[k] !== 'number' || !Number.isFinite(q[k]))) bad(`Expected weight ${s.name}'s quantization ${k} to be a finite number, got ${show(q[k])}`);
    }
    return QUANT_BYTES.get(q.dtype)!;
  }
  if (s.dtype !== 'float32' && s.dtype !== 'int32') bad(`Expected weight ${s.name} of dtype float32 (or quantized uint8/uint16/float16), got ${show(s.dtype)}`);
  return 4;
}

/** Decodes the concatenated weight data described by specs into float32 tensors. */
function decodeWeights(specs: KerasWeightSpec[], data: Uint8Array): { name: string; shape: number[]; data: Float32Array }[] {
  if (!Array.isArray(specs)) bad(`Expected the weight specs to be a list, got ${show(specs)}`);
  // every size against the bytes present before any array is allocated
  const sizes = specs.map(checkSpec);
  let total = 0;
  specs.forEach((s, i) => {
    total += s.shape.reduce((a, b) => a * b, 1) * sizes[i];
    if (total > data.length) bad(`Expected at least ${total} bytes of weight data up to ${s.name}, got ${data.length} (missing or truncated shard)`);
  });
  if (total !== data.length) bad(`Expected ${total} bytes of weight data for the manifest, got ${data.length}`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let off = 0;
  return specs.map((s, k) => {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const bytes = sizes[k];
    const q = s.quantization;
    const d = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const p = off + i * bytes;
      if (!q) d[i] = s.dtype === 'int32' ? view.getInt32(p, true) : view.getFloat32(p, true);
      else if (q.dtype === 'float16') d[i] = f16ToF32(view.getUint16(p, true));
      else d[i] = (q.dtype === 'uint8' ? view.getUint8(p) : view.getUint16(p, true)) * (q.scale ?? 1) + (q.min ?? 0);
    }
    off += n * bytes;
    const at = d.findIndex((v) => !Number.isFinite(v));
    if (at >= 0) bad(`Expected finite values in weight ${s.name}, got ${d[at]} at element ${at}`);
    return { name: s.name, shape: [...s.shape], data: d };
  });
}

const toU8 = (b: ArrayBuffer | Uint8Array): Uint8Array => (b instanceof Uint8Array ? b : new Uint8Array(b));

const isBytes = (b: unknown): b is ArrayBuffer | Uint8Array => b instanceof ArrayBuffer || b instanceof Uint8Array;

/** Topology, weight specs and the concatenated weight bytes of either source form. */
function unpack(src: KerasSource): { topology: Record<string, unknown>; specs: KerasWeightSpec[]; data: Uint8Array } {
  if (!src || typeof src !== 'object') throw new ValueError(`Expected tfjs artifacts or { modelJson, weights }, got ${show(src)}`);
  if ('weightSpecs' in src) {
    const wd = src.weightData;
    if (!(isBytes(wd) || (Array.isArray(wd) && wd.every(isBytes)))) throw new ValueError(`Expected weightData to be an ArrayBuffer, a Uint8Array or a list of them, got ${show(wd)}`);
    const data = Array.isArray(wd) ? concat(wd.map(toU8), Uint8Array) : toU8(wd);
    checkJsonValues([src.modelTopology, src.weightSpecs], 'the model topology and weight specs');
    return { topology: src.modelTopology as Record<string, unknown>, specs: src.weightSpecs, data };
  }
  let json = src.modelJson as Record<string, unknown>;
  if (typeof json === 'string') {
    try {
      json = JSON.parse(json);
    } catch {
      bad('Expected model.json to be JSON, got unparsable text');
    }
  }
  checkJsonValues(json, 'model.json');
  const manifest = json?.weightsManifest as { paths: string[]; weights: KerasWeightSpec[] }[] | undefined;
  if (!json?.modelTopology || !Array.isArray(manifest)) bad('Expected model.json with modelTopology and weightsManifest, got neither');
  manifest.forEach((g, i) => {
    const ok = g && typeof g === 'object' && Array.isArray(g.paths) && g.paths.every((p) => typeof p === 'string') && Array.isArray(g.weights);
    if (!ok) bad(`Expected weightsManifest[${i}] to be { paths: string[], weights: [...] }, got ${JSON.stringify(g)?.slice(0, 100)}`);
  });
  const paths = manifest.flatMap((g) => g.paths);
  const w = src.weights;
  let data: Uint8Array;
  if (isBytes(w)) data = toU8(w);
  else if (Array.isArray(w)) {
    if (w.length !== paths.length) bad(`Expected ${paths.length} weight shards (${paths.join(', ')}), got ${w.length}`);
    if (!w.every(isBytes)) throw new ValueError('Expected every weight shard to be an ArrayBuffer or a Uint8Array, got another value');
    data = concat(w.map(toU8), Uint8Array);
  } else {
    if (!w || typeof w !== 'object') throw new ValueError(`Expected weights as bytes, a list of shards or path → shard, got ${show(w)}`);
    const missing = paths.filter((p) => !Object.prototype.hasOwnProperty.call(w, p) || !isBytes(w[p]));
    if (missing.length) bad(`Expected weight shards ${missing.join(', ')}, got none`);
    data = concat(paths.map((p) => toU8(w[p])), Uint8Array);
  }
  return { topology: json.modelTopology as Record<string, unknown>, specs: manifest.flatMap((g) => g.weights), data };
}

/** Imports a Keras / TF.js layers Sequential model. */
export function importKeras(src: KerasSource): KerasImport {
  const { topology, specs, data } = unpack(src);
  let top = topology as Record<string, unknown>;
  const version = String(top?.keras_version ?? '');
  if (top?.model_config) top = top.model_config as Record<string, unknown>;
  const cls = String(top?.class_name);
  if (!['Sequential', 'Model', 'Functional'].includes(cls)) bad(`Expected a Sequential or functional (Model) topology, got class_name ${cls}`);
  const klayers = topologyLayers(top, cls);
  const weights = decodeWeights(specs, data);
  const isTfjs = version.startsWith('tfjs');

  // weights of each layer: by `name/` prefix when the names follow Keras's scheme, else in order
  const named = klayers.every((l) => !layerHasWeights(l) || weights.some((w) => w.name.startsWith(`${l.config.name}/`)));
  let cursor = 0;
  const used = new Set<number>();
  const weightsOf = (l: KLayer, count: number) => {
    let ws: { name: string; shape: number[]; data: Float32Array }[];
    if (named) {
      ws = [];
      weights.forEach((w, i) => {
        if (!used.has(i) && w.name.startsWith(`${l.config.name}/`)) {
          used.add(i);
          ws.push(w);
        }
      });
    } else {
      ws = weights.slice(cursor, cursor + count);
      cursor += count;
    }
    if (ws.length !== count) bad(`Expected ${count} weights for layer ${l.config.name} (${l.class_name}), got ${ws.length}`);
    return ws;
  };
  const pick = (ws: { name: string; shape: number[]; data: Float32Array }[], key: string, i: number) =>
    ws.find((w) => w.name.replace(/:0$/, '').split('/').pop() === key) ?? ws[i];

  const mods: Layer[] = [];
  const values: Record<string, Float32Array> = {};
  let features = -1;
  let ids = false;
  let mask: KerasMask | null = null;
  let returnSequences = true;
  let bodyEnd = -1; // index in mods of the last recurrent layer when returnSequences is false
  let lastMerge: MergeMode | null = null;
  let lastH = 0;
  const inputShape = (c: Record<string, unknown>) => (c.batch_input_shape ?? c.batch_shape) as (number | null)[] | undefined;

  klayers.forEach((l, li) => {
    const c = l.config;
    const where = `layer ${li} ${show(c.name ?? '')} (${l.class_name})`;
    try {
      readLayer(l, c, where);
    } catch (e) {
      // an option our layers refuse is, coming from a file, a bad file
      if (e instanceof ValueError || e instanceof ShapeError) bad(`Expected ${where} to be a layer we can build, got: ${e.message}`);
      throw e;
    }
  });
  function readLayer(l: KLayer, c: KLayer['config'], where: string): void {
    const shp = inputShape(c);
    if (shp && features === -1 && !ids && l.class_name !== 'Embedding') features = Number(shp[shp.length - 1] ?? -1);
    const afterLast = !returnSequences;
    if (afterLast && !['Dense', 'TimeDistributed', 'Activation', 'Dropout'].includes(l.class_name)) {
      bad(`Expected only Dense, Activation or Dropout after a recurrent layer with return_sequences=False, got ${where}`);
    }
    const p = (n: string, v: Float32Array) => (values[`${mods.length - 1}.${n}`] = v);
    const activation = (a: unknown) => {
      if (a === undefined || a === null || a === 'linear') return;
      if (a === 'softmax') return void mods.push(layers.softmax());
      bad(`Expected activation linear or softmax on ${where}, got ${show(a)}`);
    };
    // a recurrent layer is any cell's of the registry (src/layers/cells.ts `interchange.keras`), alone or in Bidirectional
    const recurrentLayer = l.class_name === 'Bidirectional' || cellByInterchangeName('keras', l.class_name) !== undefined;
    switch (recurrentLayer ? 'recurrent' : l.class_name) {
      case 'InputLayer':
        break;
      case 'Masking':
        if (mods.length || mask) bad(`Expected Masking before every other layer, got it at ${where}`);
        mask = { kind: 'value', value: Number(c.mask_value ?? 0) };
        break;
      case 'Dropout':
      case 'SpatialDropout1D':
        mods.push(layers.dropout({ p: Number(c.rate ?? 0) }));
        break;
      case 'Activation':
        activation(c.activation);
        break;
      case 'Embedding': {
        if (mods.length) bad(`Expected Embedding as the first layer, got it at ${where}`);
        const V = Number(c.input_dim);
        const E = Number(c.output_dim);
        const [w] = weightsOf(l, 1);
        expectShape(`${where} embeddings`, w.shape, [V, E]);
        mods.push(layers.embedding({ numEmbeddings: V, embeddingDim: E }));
        p('weight', w.data);
        ids = true;
        features = E;
        if (c.mask_zero) mask = { kind: 'ids', value: 0 };
        break;
      }
      case 'Dense':
      case 'TimeDistributed': {
        const inner = l.class_name === 'TimeDistributed' ? (c.layer as KLayer) : l;
        if (inner?.class_name !== 'Dense') bad(`Expected TimeDistributed(Dense), got TimeDistributed(${show(inner?.class_name)}) at ${where}`);
        const ic = inner.config;
        const O = Number(ic.units);
        const bias = ic.use_bias !== false;
        const ws = weightsOf(l, bias ? 2 : 1);
        const k = pick(ws, 'kernel', 0);
        if (features === -1) features = k.shape[0];
        expectShape(`${where} kernel`, k.shape, [features, O]);
        mods.push(layers.linear({ inFeatures: features, outFeatures: O, bias }));
        p('weight', transpose2d(k.data, features, O));
        if (bias) {
          const b = pick(ws, 'bias', 1);
          expectShape(`${where} bias`, b.shape, [O]);
          p('bias', b.data);
        }
        features = O;
        activation(ic.activation);
        break;
      }
      case 'recurrent': {
        const bidi = l.class_name === 'Bidirectional';
        const inner = bidi ? (c.layer as KLayer) : l;
        const cell = cellByInterchangeName('keras', inner?.class_name);
        if (!cell) bad(`Expected Bidirectional(${interchangeNames('keras').join(' | ')}), got Bidirectional(${show(inner?.class_name)}) at ${where}`);
        const kind = cell.kind;
        const io = cell.interchange!;
        const ic = inner.config;
        const shp2 = inputShape(ic);
        if (features === -1 && shp2) features = Number(shp2[shp2.length - 1]);
        if (features === -1) bad(`Expected the input feature size before ${where}, got no batch_input_shape`);
        const H = Number(ic.units);
        const G = cell.gates;
        // options our cells cannot honour are refused, never ignored; `activation` is the candidate's (the last ONNX activation)
        const act = ic.activation ?? 'tanh';
        const choice = io.activations.find((a) => a.acts[a.acts.length - 1] === act);
        if (!choice) bad(`Expected activation ${io.activations.map((a) => a.acts[a.acts.length - 1]).join(' or ')} on ${where}, got ${show(act)}`);
        // a gated cell's gates: recurrent_activation
        if (cell.gates > 1) {
          const ra = ic.recurrent_activation ?? (isTfjs ? 'hard_sigmoid' : 'sigmoid');
          if (ra !== 'sigmoid') bad(`Expected recurrent_activation sigmoid on ${where}, got ${show(ra)}`);
        }
        for (const k of ['go_backwards', 'stateful', 'return_state', 'time_major'] as const) if (ic[k]) bad(`Expected ${k}=False on ${where}, got True`);
        const mergeMode = bidi ? (c.merge_mode === undefined ? 'concat' : c.merge_mode) : null;
        if (bidi && !['concat', 'sum', 'mul', 'ave'].includes(String(mergeMode))) bad(`Expected merge_mode concat, sum, mul or ave on ${where}, got ${show(mergeMode)}`);
        const bias = ic.use_bias !== false;
        const per = bias ? 3 : 2;
        const ws = weightsOf(l, per * (bidi ? 2 : 1));
        const dirWeights = bidi
          ? [ws.filter((w) => /\/forward/.test(w.name)), ws.filter((w) => /\/backward/.test(w.name))]
          : [ws];
        if (bidi && (dirWeights[0].length !== per || dirWeights[1].length !== per)) {
          dirWeights[0] = ws.slice(0, per);
          dirWeights[1] = ws.slice(per);
        }
        const I = features;
        const order = io.oursFromKeras;
        const opts: Record<string, unknown> = { inputSize: I, hiddenSize: H, bidirectional: bidi, bias, ...choice.cfg, ...io.fromKeras(ic, isTfjs) };
        if (bidi) opts.mergeMode = mergeMode;
        const biasRows = io.kerasBiasRows(opts);
        const rs = ic.return_sequences === true;
        if (!rs) {
          // the body ends here with both directions kept apart; predict merges them
          returnSequences = false;
          lastMerge = bidi ? (mergeMode as MergeMode) : null;
          lastH = H;
          if (bidi) opts.mergeMode = 'concat';
        }
        mods.push(new RecurrentCore(kind, opts as never));
        dirWeights.forEach((dw, d) => {
          const sf = `_l0${d ? '_reverse' : ''}`;
          const k = pick(dw, 'kernel', 0);
          const rk = pick(dw, 'recurrent_kernel', 1);
          expectShape(`${where} kernel`, k.shape, [I, G * H]);
          expectShape(`${where} recurrent_kernel`, rk.shape, [H, G * H]);
          p(`weight_ih${sf}`, kernelToRows(k.data, I, G, H, order));
          p(`weight_hh${sf}`, kernelToRows(rk.data, H, G, H, order));
          if (!bias) return;
          const b = pick(dw, 'bias', 2);
          if (biasRows === 2) {
            expectShape(`${where} bias (reset_after=True: input and recurrent)`, b.shape, [2, G * H]);
            p(`bias_ih${sf}`, kernelToRows(b.data.subarray(0, G * H), 1, G, H, order));
            p(`bias_hh${sf}`, kernelToRows(b.data.subarray(G * H), 1, G, H, order));
          } else {
            expectShape(`${where} bias`, b.shape, [G * H]);
            p(`bias_ih${sf}`, kernelToRows(b.data, 1, G, H, order));
            p(`bias_hh${sf}`, new Float32Array(G * H));
          }
        });
        features = bidi && mergeMode === 'concat' ? 2 * H : H;
        if (!rs) bodyEnd = mods.length - 1;
        break;
      }
      default:
        bad(`Expected layers among InputLayer, Masking, Embedding, ${interchangeNames('keras').join(', ')}, Bidirectional, Dense, TimeDistributed(Dense), Activation, Dropout, got unsupported ${where}`);
    }
  }
  if (named) {
    const unused = weights.filter((_, i) => !used.has(i)).map((w) => w.name);
    if (unused.length) bad(`Expected every weight to belong to a layer, got unused ${unused.join(', ')}`);
  } else if (cursor !== weights.length) bad(`Expected ${cursor} weights for these layers, got ${weights.length}`);
  if (!mods.length) bad('Expected at least one layer with an effect, got none');
  if (mask && !mods.some((m) => isCellKind(m.kind))) bad('Expected a recurrent layer after Masking, got none');

  // split the body (per step) and the head (after return_sequences=False)
  const bodyMods = bodyEnd >= 0 ? mods.slice(0, bodyEnd + 1) : mods;
  const headMods = bodyEnd >= 0 ? mods.slice(bodyEnd + 1) : [];
  const slice = (from: number, to: number) => {
    const out: Record<string, Float32Array> = {};
    for (const [k, v] of Object.entries(values)) {
      const i = Number(k.slice(0, k.indexOf('.')));
      if (i >= from && i < to) out[`${i - from}${k.slice(k.indexOf('.'))}`] = v;
    }
    return out;
  };
  let body: Sequential | undefined;
  let head: Sequential | null = null;
  try {
    // limits before the first allocation
    plannedParameters(mods, true);
    body = withoutInitialisers(() => new Sequential(bodyMods, { batchFirst: true }));
    body.loadStateDict(slice(0, bodyMods.length));
    if (headMods.some((m) => m.paramSpecs().length) || headMods.some((m) => m.kind === 'softmax')) {
      const width = lastMerge === 'concat' ? 2 * lastH : lastH;
      head = withoutInitialisers(() => new Sequential(headMods, { inputSize: width }));
      head.loadStateDict(slice(bodyMods.length, mods.length));
    }
  } catch (e) {
    body?.dispose();
    head?.dispose();
    if (e instanceof FormatError) throw e;
    bad(`Expected layers that fit together, got: ${(e as Error).message}`);
  }
  return new KerasImport(body!, head, returnSequences, mask, lastMerge, lastH);
}

function layerHasWeights(l: KLayer): boolean {
  return ['Embedding', 'Dense', 'TimeDistributed', 'Bidirectional'].includes(l.class_name) || cellByInterchangeName('keras', l.class_name) !== undefined;
}
