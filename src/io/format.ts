// The model file: one self-describing binary.
//   offset 0   magic "RNNWASM\0" (8 bytes)
//   8          u32 LE format version (FORMAT_VERSION)
//   12         u32 LE header length L (bytes of UTF-8 JSON)
//   16         header JSON, then spaces up to a multiple of 4 bytes
//   …          parameters: f32 LE, every parameter in header order, no padding
//   …          optimizer moment buffers (f32 LE), when the header has `optimizer`
//   end − 4    u32 LE CRC-32 of every byte before it
// The header carries the architecture, parameter names/shapes (PyTorch names and gate orders),
// optional vocabulary and metadata, the optimizer's kind/hyperparameters/step and the dropout
// generator state — everything needed to resume training bit for bit.
import { RnnWasmError, ValueError } from '../errors';
import { checkOptions, keysOf } from '../options';
import { Model, modelFromSpec, modulesFromSpec, type ModelSpec } from '../model/model';
import { describeParameters, plannedParameters, type PlannedParameter } from './architecture';
import { withoutInitialisers } from '../params/initialisers';
import { applyInt8 } from '../model/quantize';
import { GraphModel } from '../graph/model';
import { graphFromSpec, type GraphSpec } from '../graph/spec';
import { collect } from '../graph/nodes';
import { Adam, AdamW, RMSProp, SGD, type Optimizer } from '../train/optim';

const SAVE_KEYS = keysOf<SaveOptions>()('vocabulary', 'metadata', 'optimizer');

/** A model file is missing, truncated, corrupt, of another version, or describes something unknown. */
export class FormatError extends RnnWasmError {
  /** `'FormatError'`: the class name as a string, so that it survives a minifier and crosses worker boundaries. */
  override name = 'FormatError';
}

/** Version of the model file format written for f32 models (files of int8 models are version 2). */
export const FORMAT_VERSION = 1;
/** Version of files of int8-quantized models (their header's model spec has quantized: 'int8'):
 * a reader of version 1 only rejects them instead of running their dequantized weights as f32. */
export const FORMAT_VERSION_INT8 = 2;
const MAGIC = [0x52, 0x4e, 0x4e, 0x57, 0x41, 0x53, 0x4d, 0x00]; // "RNNWASM\0"

/** What `save` / `serialize` store beside the model: a vocabulary, metadata and the optimizer's state. */
export interface SaveOptions {
  /** Tokenizer vocabulary (e.g. the characters of a char model), stored in the header. */
  vocabulary?: string[];
  /** Any JSON-serialisable training metadata (epoch, loss, data set name…). */
  metadata?: Record<string, unknown>;
  /** Store the optimizer's state (moments, step) so training can resume exactly. */
  optimizer?: Optimizer;
}

/** What `load` / `deserialize` return: the model and what was stored with it. */
export interface Loaded {
  /** The model, with the file's parameters. */
  model: Model;
  /** The vocabulary stored with it. */
  vocabulary?: string[];
  /** The metadata stored with it. */
  metadata?: Record<string, unknown>;
  /** A rebuilt optimizer with its moments and step, when the file has one. */
  optimizer?: Optimizer;
}

interface Header {
  format: 'rnn-wasm';
  model: ModelSpec | GraphSpec;
  params: { name: string; shape: number[] }[];
  rng: number[];
  vocabulary?: string[];
  metadata?: Record<string, unknown>;
  optimizer?: { kind: string; config: Record<string, unknown>; step: number; values: number };
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3, as zip/png) of bytes. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Writes f32 values little-endian into bytes at byte offset off. */
function putF32(view: DataView, off: number, values: Float32Array): void {
  if (LITTLE) new Uint8Array(view.buffer, view.byteOffset + off, values.length * 4).set(new Uint8Array(values.buffer, values.byteOffset, values.length * 4));
  else for (let i = 0; i < values.length; i++) view.setFloat32(off + 4 * i, values[i], true);
}
function getF32(view: DataView, off: number, n: number): Float32Array {
  const out = new Float32Array(n);
  if (LITTLE) new Uint8Array(out.buffer).set(new Uint8Array(view.buffer, view.byteOffset + off, n * 4));
  else for (let i = 0; i < n; i++) out[i] = view.getFloat32(off + 4 * i, true);
  return out;
}

function optimizerConfig(o: Optimizer): Record<string, unknown> {
  const c: Record<string, unknown> = { lr: o.lr, weightDecay: o.weightDecay };
  for (const k of ['momentum', 'dampening', 'nesterov', 'alpha', 'eps', 'beta1', 'beta2'] as const) {
    const v = (o as unknown as Record<string, unknown>)[k];
    if (v !== undefined) c[k] = v;
  }
  return c;
}

/** Serialises a model (and optionally its optimizer) into the file format. */
export function serialize(model: Model | GraphModel, opts: SaveOptions = {}): Uint8Array<ArrayBuffer> {
  checkOptions(opts, SAVE_KEYS, 'save options');
  const r = model.runner;
  const entries = r.arena.entries();
  const params = entries.map((e) => ({ name: e.name, shape: [...e.shape] }));
  const nParams = entries.reduce((a, e) => a + e.size, 0);
  let optState: ReturnType<Optimizer['state']> | undefined;
  if (opts.optimizer) {
    optState = opts.optimizer.state();
    if (optState.buffers.length && optState.buffers.length % r.arena.size !== 0) {
      throw new ValueError('Expected the optimizer of this model, got one bound to another model');
    }
  }
  // optimizer buffers are stored compactly too: per buffer, every parameter without padding
  const nBufs = optState ? optState.buffers.length / r.arena.size || 0 : 0;
  const header: Header = {
    format: 'rnn-wasm',
    model: model.spec(),
    params,
    rng: r.dropoutRngState,
    vocabulary: opts.vocabulary,
    metadata: opts.metadata,
    optimizer: opts.optimizer
      ? { kind: opts.optimizer.kind, config: optimizerConfig(opts.optimizer), step: opts.optimizer.step, values: nBufs * nParams }
      : undefined,
  };
  const text = JSON.stringify(header);
  // what the reader would refuse is refused here, so no file is written that cannot be read back
  try {
    checkJsonValues(JSON.parse(text), 'save options (metadata, vocabulary)');
  } catch (e) {
    throw new ValueError((e as Error).message);
  }
  const json = new TextEncoder().encode(text);
  const hlen = Math.ceil(json.length / 4) * 4;
  const total = 16 + hlen + 4 * nParams + 4 * nBufs * nParams + 4;
  const bytes = new Uint8Array(new ArrayBuffer(total));
  const view = new DataView(bytes.buffer);
  bytes.set(MAGIC, 0);
  view.setUint32(8, (header.model as ModelSpec).quantized ? FORMAT_VERSION_INT8 : FORMAT_VERSION, true);
  view.setUint32(12, json.length, true);
  bytes.set(json, 16);
  bytes.fill(0x20, 16 + json.length, 16 + hlen);
  let off = 16 + hlen;
  for (const e of entries) {
    putF32(view, off, r.arena.get(e.name));
    off += 4 * e.size;
  }
  for (let k = 0; k < nBufs; k++) {
    const buf = optState!.buffers.subarray(k * r.arena.size, (k + 1) * r.arena.size);
    for (const e of entries) {
      putF32(view, off, buf.subarray(e.rel, e.rel + e.size));
      off += 4 * e.size;
    }
  }
  view.setUint32(off, crc32(bytes.subarray(0, off)), true);
  return bytes;
}

function fail(msg: string): never {
  throw new FormatError(msg);
}

/** The header JSON may not exceed this (as the safetensors reference implementation's limit). */
export const MAX_HEADER_BYTES = 100_000_000;

const OPTIMIZERS: ReadonlyMap<string, new (o: object) => Optimizer> = new Map<string, new (o: object) => Optimizer>([
  ['sgd', SGD],
  ['rmsprop', RMSProp],
  ['adam', Adam],
  ['adamw', AdamW],
]);

/** A JSON object (not null, not an array). */
export const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const show = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v).slice(0, 80) : v === null || typeof v !== 'object' ? String(v) : Array.isArray(v) ? 'an array' : 'an object');

/** Checks the type of every header field a loader reads; FormatError naming the first bad one. */
function checkHeader(h: unknown): Header {
  if (!isObject(h) || h.format !== 'rnn-wasm') fail(`Expected an rnn-wasm header object, got ${show(h)}`);
  if (!Array.isArray(h.params)) fail(`Expected header.params to be an array, got ${show(h.params)}`);
  h.params.forEach((p, i) => {
    if (!isObject(p) || typeof p.name !== 'string') fail(`Expected header.params[${i}] to be {name, shape}, got ${show(p)}`);
    if (!Array.isArray(p.shape) || !p.shape.every(isCount)) fail(`Expected header.params[${i}].shape (${p.name}) to be non-negative integers, got ${show(p.shape)}`);
  });
  if (!isObject(h.model)) fail(`Expected header.model to be an architecture object, got ${show(h.model)}`);
  if (h.rng !== undefined) {
    const ok = Array.isArray(h.rng) && h.rng.length === 4 && h.rng.every((w) => isCount(w) && w < 2 ** 32);
    if (!ok) fail(`Expected header.rng to be 4 unsigned 32-bit integers, got ${show(h.rng)}`);
    if ((h.rng as number[]).every((w) => w === 0)) fail('Expected header.rng to be a generator state (not all zeros), got [0, 0, 0, 0]');
  }
  if (h.vocabulary !== undefined && (!Array.isArray(h.vocabulary) || !h.vocabulary.every((t) => typeof t === 'string'))) {
    fail(`Expected header.vocabulary to be an array of strings, got ${show(h.vocabulary)}`);
  }
  if (h.metadata !== undefined && !isObject(h.metadata)) fail(`Expected header.metadata to be an object, got ${show(h.metadata)}`);
  const o = h.optimizer;
  if (o !== undefined) {
    if (!isObject(o)) fail(`Expected header.optimizer to be an object, got ${show(o)}`);
    if (typeof o.kind !== 'string' || !OPTIMIZERS.has(o.kind)) fail(`Expected header.optimizer.kind among ${[...OPTIMIZERS.keys()].join(', ')}, got ${show(o.kind)}`);
    if (!isObject(o.config)) fail(`Expected header.optimizer.config to be an object, got ${show(o.config)}`);
    if (!isCount(o.step)) fail(`Expected header.optimizer.step to be a non-negative integer, got ${show(o.step)}`);
    if (!isCount(o.values)) fail(`Expected header.optimizer.values to be a non-negative integer, got ${show(o.values)}`);
  }
  return h as unknown as Header;
}

/** f32 values of `n` elements at byte offset `off`, all finite, or a FormatError naming `what`. */
function finiteF32(view: DataView, off: number, n: number, what: string): Float32Array {
  const a = getF32(view, off, n);
  for (let i = 0; i < n; i++) if (!Number.isFinite(a[i])) fail(`Expected finite values in ${what}, got ${a[i]} at element ${i}`);
  return a;
}

/**
 * Throws a FormatError when parsed JSON holds an object with its own `toString` or `valueOf`
 * (`{"toString": 1}`): such a value throws a TypeError wherever it is turned into a string or a
 * number, so every reader of JSON from outside (model file headers with their application
 * metadata, Keras model.json, safetensors headers) refuses it right after parsing. Iterative: a
 * deeply nested document cannot overflow the stack.
 */
export function checkJsonValues(root: unknown, what: string): void {
  const stack = [root];
  while (stack.length) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') continue;
    for (const k of ['toString', 'valueOf']) {
      if (Object.prototype.hasOwnProperty.call(v, k)) throw new FormatError(`Expected ${what} without a key named ${k} (it would stand in for Object.prototype.${k}), got one`);
    }
    for (const x of Object.values(v)) if (x !== null && typeof x === 'object') stack.push(x);
  }
}

/** The header and its checksum-verified bytes: magic, version, lengths, checksum, JSON, field types. */
function readHeader(bytes: Uint8Array): { header: Header; view: DataView; hlen: number } {
  if (bytes.length < 20) fail(`Expected a model file of at least 20 bytes, got ${bytes.length} (truncated)`);
  for (let i = 0; i < 8; i++) if (bytes[i] !== MAGIC[i]) fail('Expected the magic "RNNWASM\\0" at the start of the file, got other bytes (not a model file)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== FORMAT_VERSION && version !== FORMAT_VERSION_INT8) fail(`Expected format version ${FORMAT_VERSION} (or ${FORMAT_VERSION_INT8} for an int8 model), got ${version}`);
  const jlen = view.getUint32(12, true);
  if (jlen > MAX_HEADER_BYTES) fail(`Expected a header of at most ${MAX_HEADER_BYTES} bytes, got ${jlen}`);
  const hlen = Math.ceil(jlen / 4) * 4;
  if (16 + hlen + 4 > bytes.length) fail(`Expected a ${jlen}-byte header within the file, got a file of ${bytes.length} bytes (truncated)`);
  // the checksum is checked before anything in the header is trusted
  const end = bytes.length - 4;
  const stored = view.getUint32(end, true);
  const actual = crc32(bytes.subarray(0, end));
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(16, 16 + jlen)));
  } catch {
    fail(stored !== actual ? 'Expected a checksum match, got a mismatch (the file is corrupt or truncated)' : 'Expected a JSON header, got unreadable bytes (corrupt file)');
  }
  // the version must match the header's kind of model (an int8 model's file is version 2); only an
  // error message depends on the header before its checksum is known
  const int8 = (header as { model?: { quantized?: unknown } } | null)?.model?.quantized === 'int8';
  if (int8 !== (version === FORMAT_VERSION_INT8)) {
    fail(`Expected format version ${int8 ? FORMAT_VERSION_INT8 : FORMAT_VERSION} for a model ${int8 ? 'with' : 'without'} int8 weights, got ${version}`);
  }
  if (stored !== actual) fail(`Expected checksum ${stored.toString(16)}, got ${actual.toString(16)} (the file is corrupt or truncated)`);
  checkJsonValues(header, 'the file header (model spec and metadata)');
  return { header: checkHeader(header), view, hlen };
}

/**
 * Parses and validates a model file; rebuilds the model without running initialisers. Everything
 * (field types, the architecture against limits.maxLayers/maxParameters, its parameter list
 * against the header's, every size against the bytes present, values finite, the optimizer) is
 * checked before the first wasm allocation.
 */
export function deserialize(input: Uint8Array | ArrayBuffer): Loaded {
  return readModel(input, false) as Loaded;
}

/** Whether bytes are a valid model file holding a graph model (what deserializeGraph reads). */
export function isGraphFile(bytes: Uint8Array): boolean {
  try {
    return (readHeader(bytes).header.model as { type?: unknown }).type === 'graph';
  } catch {
    return false;
  }
}

/** What loadGraph / deserializeGraph return. */
export interface LoadedGraph extends Omit<Loaded, 'model'> {
  /** The graph model, with the file's parameters. */
  model: GraphModel;
}

/** Parses and validates a graph model file (GraphModel), as deserialize does a layer model file. */
export function deserializeGraph(input: Uint8Array | ArrayBuffer): LoadedGraph {
  return readModel(input, true) as unknown as LoadedGraph;
}

/** A graph spec's parameters in arena order, from plain objects (no wasm memory). */
function graphPlanned(spec: GraphSpec): PlannedParameter[] {
  const { outputs } = graphFromSpec(spec);
  const out: PlannedParameter[] = [];
  for (const n of collect(Object.values(outputs))) {
    for (const p of n.paramSpecs()) out.push({ name: `${n.name}.${p.name}`, shape: p.shape, size: p.shape.reduce((a, b) => a * b, 1) } as PlannedParameter);
  }
  return out;
}

function readModel(input: Uint8Array | ArrayBuffer, graph: boolean): { model: Model | GraphModel } & Omit<Loaded, 'model'> {
  const bytes = input instanceof Uint8Array ? input : input instanceof ArrayBuffer ? new Uint8Array(input) : null;
  if (!bytes) throw new ValueError(`Expected model file bytes (Uint8Array or ArrayBuffer), got ${show(input)}`);
  const { header, view, hlen } = readHeader(bytes);
  // the architecture as plain objects: its parameter list, before any wasm memory is taken
  let planned: PlannedParameter[];
  try {
    const isGraph = (header.model as { type?: unknown }).type === 'graph';
    if (isGraph !== graph) {
      fail(graph ? `Expected a graph model file, got a ${show((header.model as { type?: unknown }).type)} model (load it with deserialize or load)` : 'Expected a layer or Sequential model file, got a graph model (load it with deserializeGraph or loadGraph)');
    }
    if (graph) planned = graphPlanned(header.model as GraphSpec);
    else {
      const { modules, sequential } = modulesFromSpec(header.model as ModelSpec);
      planned = plannedParameters(modules, sequential);
    }
  } catch (e) {
    fail(`Expected a buildable architecture, got: ${(e as Error).message}`);
  }
  const mine = describeParameters(planned);
  if (mine !== describeParameters(header.params)) fail(`Expected parameters ${mine} for this architecture, got ${describeParameters(header.params)}`);
  const nParams = planned.reduce((a, p) => a + p.size, 0);
  let optimizer: Optimizer | undefined;
  const h = header.optimizer;
  if (h) {
    try {
      optimizer = new (OPTIMIZERS.get(h.kind)!)(h.config);
    } catch (e) {
      fail(`Expected valid ${h.kind} hyperparameters in header.optimizer.config, got: ${(e as Error).message}`);
    }
    // 0: an optimizer saved before its first step (its moments are zeros, as a fresh bind makes them)
    if (h.values !== 0 && h.values !== optimizer.numBuffers * nParams) {
      const n = optimizer.numBuffers * nParams;
      fail(`Expected header.optimizer.values = ${n} (${optimizer.numBuffers} buffers of ${nParams}${n ? ', or 0 before the first step' : ''}), got ${h.values}`);
    }
  }
  const nOpt = h ? h.values : 0;
  const want = 16 + hlen + 4 * nParams + 4 * nOpt + 4;
  if (bytes.length !== want) fail(`Expected ${want} bytes for the parameters the header lists, got ${bytes.length}`);
  // values into plain (garbage-collected) arrays first: nothing in wasm until all are valid
  let off = 16 + hlen;
  const values = planned.map((p) => {
    const a = finiteF32(view, off, p.size, `parameter ${p.name}`);
    off += 4 * p.size;
    return a;
  });
  const moments = finiteF32(view, off, nOpt, 'the optimizer moments');
  return build(header, planned, values, moments, optimizer, graph);
}

/** Builds the validated model, fills it, and binds the optimizer; frees everything on failure. */
function build(header: Header, planned: PlannedParameter[], values: Float32Array[], moments: Float32Array, optimizer: Optimizer | undefined, graph: boolean): { model: Model | GraphModel } & Omit<Loaded, 'model'> {
  let model: Model | GraphModel;
  try {
    model = withoutInitialisers(() => (graph ? GraphModel.fromSpec(header.model as GraphSpec) : modelFromSpec(header.model as ModelSpec)));
  } catch (e) {
    fail(`Expected a buildable architecture, got: ${(e as Error).message}`);
  }
  try {
    const r = model.runner;
    const arena = new Float32Array(r.arena.size);
    planned.forEach((p, i) => arena.set(values[i], r.arena.entry(p.name).rel));
    r.arena.restore(arena);
    // the int8 copies, derived from the stored (dequantized) parameters
    if ((header.model as ModelSpec | GraphSpec).quantized === 'int8') applyInt8(r);
    if (header.rng) r.dropoutRngState = header.rng as [number, number, number, number];
    if (optimizer) {
      // moments are stored compactly per buffer; the arena pads each parameter
      const buffers = new Float32Array(optimizer.numBuffers * r.arena.size);
      let src = 0;
      for (let k = 0; k < optimizer.numBuffers; k++) {
        for (const p of planned) {
          buffers.set(moments.subarray(src, src + p.size), k * r.arena.size + r.arena.entry(p.name).rel);
          src += p.size;
        }
      }
      optimizer.bind(r.rt, r.arena);
      optimizer.loadState({ kind: optimizer.kind, step: header.optimizer!.step, buffers });
    }
    return { model, vocabulary: header.vocabulary, metadata: header.metadata, optimizer };
  } catch (e) {
    optimizer?.dispose();
    model.dispose();
    throw e;
  }
}
