// safetensors (https://huggingface.co/docs/safetensors): the format PyTorch state_dicts are shared in.
//   offset 0   u64 LE N, the header length
//   8          N bytes of UTF-8 JSON: { name: { dtype, shape, data_offsets: [begin, end] }, …,
//              "__metadata__"?: { string: string } }, padded with spaces
//   8 + N      the data buffer; offsets are relative to it, every byte belongs to exactly one tensor
// Reading validates all of that and converts F16/BF16/F64 to float32; writing emits F32.
import { FormatError, checkJsonValues } from './format';
import { ValueError, show } from '../errors';
import { f16ToF32 } from './layout';
import type { Model } from '../model/model';

/**
 * The dtypes a safetensors header may name (F32 is read as is; F16, BF16 and F64 are converted to float32;
 * the others are refused).
 */
export type SafetensorsDType =
  | 'BOOL' | 'U8' | 'I8' | 'F8_E5M2' | 'F8_E4M3' | 'I16' | 'U16' | 'F16' | 'BF16' | 'I32' | 'U32' | 'F32' | 'F64' | 'I64' | 'U64';

const DTYPE_BYTES: Record<SafetensorsDType, number> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, I16: 2, U16: 2, F16: 2, BF16: 2, I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8,
};
/** The header may not exceed this (as the reference implementation). */
const MAX_HEADER = 100_000_000;

/** One tensor as stored: its dtype, shape and raw little-endian bytes (a view into the file). */
export interface RawTensor {
  /** Its dtype. */
  dtype: SafetensorsDType;
  /** Its dimensions. */
  shape: number[];
  /** Its raw little-endian bytes (a view into the file). */
  bytes: Uint8Array;
}

/** A float32 tensor: row-major data and its shape. */
export interface NamedTensor {
  /** The elements, row-major. */
  data: Float32Array;
  /** Its dimensions. */
  shape: number[];
}

function fail(msg: string): never {
  throw new FormatError(msg);
}

/** Parses and validates a safetensors file; tensors in header order, bytes not yet converted. */
export function parseSafetensors(input: Uint8Array | ArrayBuffer): { tensors: Map<string, RawTensor>; metadata?: Record<string, string> } {
  const bytes = input instanceof Uint8Array ? input : input instanceof ArrayBuffer ? new Uint8Array(input) : null;
  if (!bytes) throw new ValueError(`Expected safetensors bytes (Uint8Array or ArrayBuffer), got ${show(input)}`);
  if (bytes.length < 8) fail(`Expected a safetensors file of at least 8 bytes, got ${bytes.length} (truncated)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
  if (n > MAX_HEADER) fail(`Expected a safetensors header of at most ${MAX_HEADER} bytes, got ${n}`);
  if (8 + n > bytes.length) fail(`Expected a ${n}-byte safetensors header within the file, got a file of ${bytes.length} bytes (truncated)`);
  let header: Record<string, unknown>;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
    if (!text.startsWith('{')) throw new Error('no object');
    header = JSON.parse(text);
  } catch {
    fail('Expected a JSON object as the safetensors header, got unreadable bytes');
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) fail('Expected a JSON object as the safetensors header, got another value');
  checkJsonValues(header, 'the safetensors header');
  const dataLen = bytes.length - 8 - n;
  const data = bytes.subarray(8 + n);
  let metadata: Record<string, string> | undefined;
  const spans: { name: string; begin: number; end: number }[] = [];
  const tensors = new Map<string, RawTensor>();
  for (const [name, v] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!v || typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((s) => typeof s !== 'string')) {
        fail('Expected __metadata__ to map strings to strings, got another value');
      }
      metadata = v as Record<string, string>;
      continue;
    }
    const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!e || typeof e !== 'object') fail(`Expected an entry {dtype, shape, data_offsets} for tensor ${name}, got ${JSON.stringify(v)}`);
    if (typeof e.dtype !== 'string' || !Object.hasOwn(DTYPE_BYTES, e.dtype)) fail(`Expected a safetensors dtype for tensor ${name}, got ${JSON.stringify(e.dtype)}`);
    const dtype = e.dtype as SafetensorsDType;
    if (!Array.isArray(e.shape) || e.shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
      fail(`Expected a shape of non-negative integers for tensor ${name}, got ${JSON.stringify(e.shape)}`);
    }
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((x) => Number.isSafeInteger(x) && x >= 0) || off[0] > off[1]) {
      fail(`Expected data_offsets [begin, end] with 0 <= begin <= end for tensor ${name}, got ${JSON.stringify(off)}`);
    }
    const [begin, end] = off as [number, number];
    if (end > dataLen) fail(`Expected tensor ${name}'s data_offsets within the ${dataLen}-byte data buffer, got end ${end} (truncated or corrupt)`);
    const shape = e.shape as number[];
    const want = shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype];
    if (end - begin !== want) fail(`Expected ${want} bytes for tensor ${name} (${dtype} [${shape.join(', ')}]), got data_offsets spanning ${end - begin}`);
    spans.push({ name, begin, end });
    tensors.set(name, { dtype, shape, bytes: data.subarray(begin, end) });
  }
  // the data buffer is covered exactly: no holes, no overlaps
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  for (const s of spans) {
    if (s.begin !== pos) fail(s.begin < pos ? `Expected non-overlapping tensors, got ${s.name} overlapping the previous one at byte ${s.begin}` : `Expected tensors to cover the data buffer without holes, got a hole at bytes [${pos}, ${s.begin})`);
    pos = s.end;
  }
  if (pos !== dataLen) fail(`Expected the data buffer to end with the last tensor at byte ${pos}, got ${dataLen - pos} extra bytes`);
  return { tensors, metadata };
}

/** Converts a stored float tensor (F32, F16, BF16, F64) to float32; FormatError for other dtypes. */
export function toFloat32(name: string, t: RawTensor): Float32Array {
  const b = t.bytes;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const n = t.shape.reduce((a, c) => a * c, 1);
  const out = new Float32Array(n);
  switch (t.dtype) {
    case 'F32':
      for (let i = 0; i < n; i++) out[i] = v.getFloat32(4 * i, true);
      return out;
    case 'F64':
      for (let i = 0; i < n; i++) out[i] = v.getFloat64(8 * i, true);
      return out;
    case 'F16':
      for (let i = 0; i < n; i++) out[i] = f16ToF32(v.getUint16(2 * i, true));
      return out;
    case 'BF16': {
      // bfloat16 is the top half of a float32
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) u[i] = v.getUint16(2 * i, true) << 16;
      return out;
    }
    default:
      fail(`Expected a float tensor (F32, F16, BF16 or F64) for ${name}, got ${t.dtype}`);
  }
}

/** Reads a safetensors file into float32 tensors (header order) and its metadata. */
export function readSafetensors(input: Uint8Array | ArrayBuffer): { tensors: Record<string, NamedTensor>; metadata?: Record<string, string> } {
  const { tensors, metadata } = parseSafetensors(input);
  // no prototype: a tensor named __proto__ or constructor is an ordinary key
  const out: Record<string, NamedTensor> = Object.create(null);
  for (const [name, t] of tensors) out[name] = { data: toFloat32(name, t), shape: [...t.shape] };
  return { tensors: out, metadata };
}

/** Writes float32 tensors (in the given order) as a safetensors file; 1-D when given a bare array. */
export function writeSafetensors(tensors: Record<string, NamedTensor | Float32Array>, metadata?: Record<string, string>): Uint8Array<ArrayBuffer> {
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    if (!metadata || typeof metadata !== 'object' || Object.values(metadata).some((s) => typeof s !== 'string')) {
      throw new ValueError(`Expected metadata to map strings to strings, got ${JSON.stringify(metadata)}`);
    }
    header.__metadata__ = metadata;
  }
  const list: { data: Float32Array; shape: number[] }[] = [];
  let off = 0;
  for (const [name, v] of Object.entries(tensors)) {
    if (name === '__metadata__') throw new ValueError('Expected tensor names other than __metadata__, got __metadata__');
    const t = v instanceof Float32Array ? { data: v, shape: [v.length] } : v;
    if (!t || !(t.data instanceof Float32Array)) throw new ValueError(`Expected a Float32Array for tensor ${name}, got ${show(t?.data ?? t)}`);
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size !== t.data.length) throw new ValueError(`Expected ${size} elements for tensor ${name} of shape [${t.shape.join(', ')}], got ${t.data.length}`);
    header[name] = { dtype: 'F32', shape: [...t.shape], data_offsets: [off, off + 4 * size] };
    list.push(t);
    off += 4 * size;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const n = Math.ceil(json.length / 8) * 8; // keeps the data 8-byte aligned
  const bytes = new Uint8Array(new ArrayBuffer(8 + n + off));
  const view = new DataView(bytes.buffer);
  view.setUint32(0, n, true);
  bytes.set(json, 8);
  bytes.fill(0x20, 8 + json.length, 8 + n);
  let p = 8 + n;
  for (const t of list) {
    for (let i = 0; i < t.data.length; i++) view.setFloat32(p + 4 * i, t.data[i], true);
    p += 4 * t.data.length;
  }
  return bytes;
}

/** A model's parameters as a safetensors file (PyTorch names; a Sequential's keys are `0.weight`, …). */
export function modelToSafetensors(model: Model, metadata?: Record<string, string>): Uint8Array<ArrayBuffer> {
  const out: Record<string, NamedTensor> = {};
  for (const p of model.parameters()) out[p.name] = { data: model.getParameter(p.name), shape: [...p.shape] };
  return writeSafetensors(out, metadata);
}
