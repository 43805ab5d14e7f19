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
import { Model, modelFromSpec, type ModelSpec } from '../model/model';
import { withoutInitialisers } from '../model/runner';
import { GraphModel } from '../graph/model';
import type { GraphSpec } from '../graph/spec';
import { Adam, AdamW, RMSProp, SGD, type Optimizer } from '../train/optim';

/** A model file is missing, truncated, corrupt, of another version, or describes something unknown. */
export class FormatError extends RnnWasmError {}

export const FORMAT_VERSION = 1;
const MAGIC = [0x52, 0x4e, 0x4e, 0x57, 0x41, 0x53, 0x4d, 0x00]; // "RNNWASM\0"

export interface SaveOptions {
  /** Tokenizer vocabulary (e.g. the characters of a char model), stored in the header. */
  vocabulary?: string[];
  /** Any JSON-serialisable training metadata (epoch, loss, data set name…). */
  metadata?: Record<string, unknown>;
  /** Store the optimizer's state (moments, step) so training can resume exactly. */
  optimizer?: Optimizer;
}

export interface Loaded {
  model: Model;
  vocabulary?: string[];
  metadata?: Record<string, unknown>;
  /** A rebuilt optimizer with its moments and step, when the file has one. */
  optimizer?: Optimizer;
}

/** What loadGraph / deserializeGraph return. */
export interface LoadedGraph extends Omit<Loaded, 'model'> {
  model: GraphModel;
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
  const json = new TextEncoder().encode(JSON.stringify(header));
  const hlen = Math.ceil(json.length / 4) * 4;
  const total = 16 + hlen + 4 * nParams + 4 * nBufs * nParams + 4;
  const bytes = new Uint8Array(new ArrayBuffer(total));
  const view = new DataView(bytes.buffer);
  bytes.set(MAGIC, 0);
  view.setUint32(8, FORMAT_VERSION, true);
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

/** Parses and validates a model file; rebuilds the model without running initialisers. */
export function deserialize(input: Uint8Array | ArrayBuffer): Loaded {
  return read(input, (spec) => {
    if (spec?.type === 'graph') fail('Expected a layer or Sequential model file, got a graph model (load it with deserializeGraph or loadGraph)');
    return modelFromSpec(spec as ModelSpec);
  });
}

/** Parses and validates a graph model file (GraphModel); as deserialize. */
export function deserializeGraph(input: Uint8Array | ArrayBuffer): LoadedGraph {
  return read(input, (spec) => {
    if (spec?.type !== 'graph') fail(`Expected a graph model file, got a ${String(spec?.type)} model (load it with deserialize or load)`);
    return GraphModel.fromSpec(spec);
  });
}

function read<M extends Model | GraphModel>(input: Uint8Array | ArrayBuffer, build: (spec: ModelSpec | GraphSpec) => M): Omit<Loaded, 'model'> & { model: M } {
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  if (bytes.length < 20) fail(`Expected a model file of at least 20 bytes, got ${bytes.length} (truncated)`);
  for (let i = 0; i < 8; i++) if (bytes[i] !== MAGIC[i]) fail('Expected the magic "RNNWASM\\0" at the start of the file, got other bytes (not a model file)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== FORMAT_VERSION) fail(`Expected format version ${FORMAT_VERSION}, got ${version}`);
  const jlen = view.getUint32(12, true);
  const hlen = Math.ceil(jlen / 4) * 4;
  if (16 + hlen + 4 > bytes.length) fail(`Expected a ${jlen}-byte header within the file, got a file of ${bytes.length} bytes (truncated)`);
  // the checksum is checked before anything in the header is trusted
  const end = bytes.length - 4;
  const stored = view.getUint32(end, true);
  const actual = crc32(bytes.subarray(0, end));
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(16, 16 + jlen)));
  } catch {
    fail(stored !== actual ? 'Expected a checksum match, got a mismatch (the file is corrupt or truncated)' : 'Expected a JSON header, got unreadable bytes (corrupt file)');
  }
  if (stored !== actual) fail(`Expected checksum ${stored.toString(16)}, got ${actual.toString(16)} (the file is corrupt or truncated)`);
  if (!header || header.format !== 'rnn-wasm' || !Array.isArray(header.params)) fail('Expected an rnn-wasm header with params, got something else');
  const nParams = header.params.reduce((a, p) => a + (Array.isArray(p.shape) ? p.shape.reduce((x, y) => x * y, 1) : NaN), 0);
  const nOpt = header.optimizer ? header.optimizer.values : 0;
  if (!Number.isInteger(nParams) || !Number.isInteger(nOpt)) fail('Expected integer parameter shapes in the header, got others');
  const want = 16 + hlen + 4 * nParams + 4 * nOpt + 4;
  if (bytes.length !== want) fail(`Expected ${want} bytes for the parameters the header lists, got ${bytes.length}`);

  let model: M;
  try {
    model = withoutInitialisers(() => build(header.model));
  } catch (e) {
    if (e instanceof FormatError) throw e;
    fail(`Expected a buildable architecture, got: ${(e as Error).message}`);
  }
  try {
    const r = model.runner;
    const entries = r.arena.entries();
    const mine = entries.map((e) => `${e.name}[${e.shape.join(',')}]`).join(' ');
    const theirs = header.params.map((p) => `${p.name}[${p.shape.join(',')}]`).join(' ');
    if (mine !== theirs) fail(`Expected parameters ${mine} for this architecture, got ${theirs}`);
    const arena = new Float32Array(r.arena.size);
    let off = 16 + hlen;
    for (const e of entries) {
      arena.set(getF32(view, off, e.size), e.rel);
      off += 4 * e.size;
    }
    try {
      r.arena.restore(arena);
    } catch (e) {
      fail(`Expected finite parameters in the file, got: ${(e as Error).message}`);
    }
    if (Array.isArray(header.rng) && header.rng.length === 4) r.dropoutRngState = header.rng as [number, number, number, number];
    let optimizer: Optimizer | undefined;
    if (header.optimizer) {
      const { kind, config, step } = header.optimizer;
      const Ctor = ({ sgd: SGD, rmsprop: RMSProp, adam: Adam, adamw: AdamW } as Record<string, new (o: object) => Optimizer>)[kind];
      if (!Ctor) fail(`Expected an optimizer kind among sgd, rmsprop, adam, adamw, got ${kind}`);
      optimizer = new Ctor(config);
      optimizer.bind(r.rt, r.arena);
      const nBufs = nParams ? nOpt / nParams : 0;
      const buffers = new Float32Array(nBufs * r.arena.size);
      for (let k = 0; k < nBufs; k++) {
        for (const e of entries) {
          buffers.set(getF32(view, off, e.size), k * r.arena.size + e.rel);
          off += 4 * e.size;
        }
      }
      optimizer.loadState({ kind, step, buffers });
    }
    return { model, vocabulary: header.vocabulary, metadata: header.metadata, optimizer };
  } catch (e) {
    model.dispose();
    throw e;
  }
}
