// The protobuf wire format of the ONNX messages rnn-wasm reads and writes (onnx.proto, IR 3–10),
// and nothing else: a reader and a writer of varints, fixed32/64 and length-delimited fields,
// driven by one field table per message. Field names are onnx.proto's in camelCase (as protobufjs
// and onnx-proto name them). Unknown fields are skipped, as protobuf requires; repeated numbers are
// read packed or unpacked and written packed. int64 values are JS numbers (exact below 2^53: dims,
// versions, attribute ints). Sub-graph attributes (If/Loop bodies) are among the skipped fields:
// the importer refuses those operators by name anyway.
// Why hand-written: a generic protobuf library (protobufjs, with its dependencies, @types/node
// and a postinstall script) for a handful of messages cost every consumer more than this file.

export interface OperatorSetIdProto { domain?: string; version?: number }
export interface DimensionProto { dimValue?: number; dimParam?: string; denotation?: string }
export interface TypeProto { tensorType?: { elemType?: number; shape?: { dim?: DimensionProto[] } }; denotation?: string }
export interface ValueInfoProto { name?: string; type?: TypeProto; docString?: string }
export interface StringStringEntryProto { key?: string; value?: string }
export interface TensorProto {
  dims?: number[]; dataType?: number; floatData?: number[]; int32Data?: number[]; stringData?: Uint8Array[];
  int64Data?: number[]; name?: string; docString?: string; rawData?: Uint8Array; externalData?: StringStringEntryProto[];
  dataLocation?: number; doubleData?: number[]; uint64Data?: number[];
}
export interface AttributeProto {
  name?: string; refAttrName?: string; docString?: string; type?: number; f?: number; i?: number; s?: Uint8Array;
  t?: TensorProto; floats?: number[]; ints?: number[]; strings?: Uint8Array[]; tensors?: TensorProto[];
}
export interface NodeProto { input?: string[]; output?: string[]; name?: string; opType?: string; domain?: string; attribute?: AttributeProto[]; docString?: string }
export interface GraphProto {
  node?: NodeProto[]; name?: string; initializer?: TensorProto[]; docString?: string;
  input?: ValueInfoProto[]; output?: ValueInfoProto[]; valueInfo?: ValueInfoProto[];
}
export interface ModelProto {
  irVersion?: number; opsetImport?: OperatorSetIdProto[]; producerName?: string; producerVersion?: string; domain?: string;
  modelVersion?: number; docString?: string; graph?: GraphProto; metadataProps?: StringStringEntryProto[];
}

/** TensorProto.DataType values used here. */
export const DataType = { UNDEFINED: 0, FLOAT: 1, INT32: 6, INT64: 7, FLOAT16: 10, DOUBLE: 11 } as const;
/** AttributeProto.AttributeType. */
export const AttributeType = { UNDEFINED: 0, FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8, TENSORS: 9 } as const;
/** TensorProto.DataLocation. */
export const DataLocation = { DEFAULT: 0, EXTERNAL: 1 } as const;

// ─────────────── field tables: [field number, name, kind, repeated] ───────────────
type Scalar = 'int64' | 'int32' | 'uint64' | 'float' | 'double' | 'string' | 'bytes';
type Field = readonly [number, string, Scalar | Schema, boolean?];
type Schema = readonly Field[];
const R = true;

const OPSET_ID: Schema = [[1, 'domain', 'string'], [2, 'version', 'int64']];
const SSE: Schema = [[1, 'key', 'string'], [2, 'value', 'string']];
const DIMENSION: Schema = [[1, 'dimValue', 'int64'], [2, 'dimParam', 'string'], [3, 'denotation', 'string']];
const TYPE: Schema = [[1, 'tensorType', [[1, 'elemType', 'int32'], [2, 'shape', [[1, 'dim', DIMENSION, R]]]]], [6, 'denotation', 'string']];
const VALUE_INFO: Schema = [[1, 'name', 'string'], [2, 'type', TYPE], [3, 'docString', 'string']];
const TENSOR: Schema = [
  [1, 'dims', 'int64', R], [2, 'dataType', 'int32'], [4, 'floatData', 'float', R], [5, 'int32Data', 'int32', R],
  [6, 'stringData', 'bytes', R], [7, 'int64Data', 'int64', R], [8, 'name', 'string'], [12, 'docString', 'string'],
  [9, 'rawData', 'bytes'], [13, 'externalData', SSE, R], [14, 'dataLocation', 'int32'], [10, 'doubleData', 'double', R],
  [11, 'uint64Data', 'uint64', R],
];
const ATTRIBUTE: Schema = [
  [1, 'name', 'string'], [21, 'refAttrName', 'string'], [13, 'docString', 'string'], [20, 'type', 'int32'],
  [2, 'f', 'float'], [3, 'i', 'int64'], [4, 's', 'bytes'], [5, 't', TENSOR], [7, 'floats', 'float', R],
  [8, 'ints', 'int64', R], [9, 'strings', 'bytes', R], [10, 'tensors', TENSOR, R],
];
const NODE: Schema = [
  [1, 'input', 'string', R], [2, 'output', 'string', R], [3, 'name', 'string'], [4, 'opType', 'string'],
  [7, 'domain', 'string'], [5, 'attribute', ATTRIBUTE, R], [6, 'docString', 'string'],
];
const GRAPH: Schema = [
  [1, 'node', NODE, R], [2, 'name', 'string'], [5, 'initializer', TENSOR, R], [10, 'docString', 'string'],
  [11, 'input', VALUE_INFO, R], [12, 'output', VALUE_INFO, R], [13, 'valueInfo', VALUE_INFO, R],
];
const MODEL: Schema = [
  [1, 'irVersion', 'int64'], [8, 'opsetImport', OPSET_ID, R], [2, 'producerName', 'string'], [3, 'producerVersion', 'string'],
  [4, 'domain', 'string'], [5, 'modelVersion', 'int64'], [6, 'docString', 'string'], [7, 'graph', GRAPH],
  [14, 'metadataProps', SSE, R],
];

const WIRE: Record<Scalar, number> = { int64: 0, int32: 0, uint64: 0, float: 5, double: 1, string: 2, bytes: 2 };
const utf8 = new TextDecoder();
const enc = new TextEncoder();

// ───────────────────────────── reading ─────────────────────────────

class Reader {
  private readonly view: DataView;
  constructor(private readonly buf: Uint8Array, public pos: number, private readonly end: number) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  get done(): boolean {
    return this.pos >= this.end;
  }
  private need(n: number): void {
    if (this.pos + n > this.end) throw new Error(`truncated field at byte ${this.pos} (${n} bytes needed, ${this.end - this.pos} left)`);
  }
  /** A varint as a JS number: two's-complement int64 (exact below 2^53), or uint64 when `unsigned`. */
  varint(unsigned = false): number {
    let lo = 0;
    let hi = 0;
    for (let i = 0, shift = 0; i < 10; i++, shift += 7) {
      this.need(1);
      const b = this.buf[this.pos++];
      if (shift < 28) lo |= (b & 0x7f) << shift;
      else if (shift === 28) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >> 4;
      } else hi |= (b & 0x7f) << (shift - 32);
      if (!(b & 0x80)) return (unsigned ? hi >>> 0 : hi | 0) * 4294967296 + (lo >>> 0);
    }
    throw new Error(`varint longer than 10 bytes at byte ${this.pos}`);
  }
  bytes(): Uint8Array {
    const n = this.varint();
    if (n < 0) throw new Error(`negative length at byte ${this.pos}`);
    this.need(n);
    this.pos += n;
    // a plain view (not a Buffer subclass), no copy: decoders copy what they keep
    return new Uint8Array(this.buf.buffer, this.buf.byteOffset + this.pos - n, n);
  }
  scalar(kind: Scalar): number | string | Uint8Array {
    switch (kind) {
      case 'float':
        this.need(4);
        this.pos += 4;
        return this.view.getFloat32(this.pos - 4, true);
      case 'double':
        this.need(8);
        this.pos += 8;
        return this.view.getFloat64(this.pos - 8, true);
      case 'string':
        return utf8.decode(this.bytes());
      case 'bytes':
        return this.bytes();
      default:
        return this.varint(kind === 'uint64');
    }
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) (this.need(8), (this.pos += 8));
    else if (wire === 2) this.bytes();
    else if (wire === 5) (this.need(4), (this.pos += 4));
    else throw new Error(`unsupported wire type ${wire} at byte ${this.pos}`);
  }
}

function readMessage(r: Reader, schema: Schema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  while (!r.done) {
    const tag = r.varint(true);
    const num = Math.floor(tag / 8);
    const wire = tag & 7;
    const f = schema.find((x) => x[0] === num);
    if (!f) {
      r.skip(wire);
      continue;
    }
    const [, name, kind, rep] = f;
    let value: unknown;
    if (typeof kind !== 'string') {
      if (wire !== 2) throw new Error(`field ${name}: expected a message (wire type 2), got wire type ${wire}`);
      const body = r.bytes();
      value = readMessage(new Reader(body, 0, body.length), kind);
    } else if (rep && wire === 2 && WIRE[kind] !== 2) {
      // packed repeated numbers
      const body = r.bytes();
      const sub = new Reader(body, 0, body.length);
      const arr = (out[name] ??= []) as unknown[];
      while (!sub.done) arr.push(sub.scalar(kind));
      continue;
    } else {
      if (wire !== WIRE[kind]) throw new Error(`field ${name}: expected wire type ${WIRE[kind]}, got ${wire}`);
      value = r.scalar(kind);
    }
    if (rep) ((out[name] ??= []) as unknown[]).push(value);
    else out[name] = value;
  }
  return out;
}

/** Decodes ModelProto bytes; throws an Error saying where the bytes stop making sense. */
export function decodeModel(bytes: Uint8Array): ModelProto {
  return readMessage(new Reader(bytes, 0, bytes.length), MODEL) as ModelProto;
}

// ───────────────────────────── writing ─────────────────────────────

class Writer {
  private buf = new Uint8Array(256);
  private pos = 0;
  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }
  varint(v: number): void {
    this.room(10);
    if (v < 0) {
      // negative int32/int64: ten bytes of two's complement, as protobuf requires
      let b = BigInt.asUintN(64, BigInt(v));
      for (let i = 0; i < 9; i++, b >>= 7n) this.buf[this.pos++] = Number(b & 0x7fn) | 0x80;
      this.buf[this.pos++] = Number(b & 1n);
      return;
    }
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
  }
  raw(b: Uint8Array): void {
    this.varint(b.length);
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  fixed(kind: 'float' | 'double', v: number): void {
    const n = kind === 'float' ? 4 : 8;
    this.room(n);
    const dv = new DataView(this.buf.buffer, this.pos, n);
    if (kind === 'float') dv.setFloat32(0, v, true);
    else dv.setFloat64(0, v, true);
    this.pos += n;
  }
  scalar(kind: Scalar, v: unknown): void {
    if (kind === 'float' || kind === 'double') this.fixed(kind, Number(v));
    else if (kind === 'string') this.raw(enc.encode(String(v)));
    else if (kind === 'bytes') this.raw(v as Uint8Array);
    else this.varint(Number(v));
  }
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

function writeMessage(w: Writer, msg: Record<string, unknown>, schema: Schema): void {
  for (const [num, name, kind, rep] of schema) {
    const v = msg[name];
    if (v === undefined || v === null) continue;
    const values = rep ? (v as unknown[]) : [v];
    if (typeof kind !== 'string') {
      for (const m of values) {
        const sub = new Writer();
        writeMessage(sub, m as Record<string, unknown>, kind);
        w.varint(num * 8 + 2);
        w.raw(sub.finish());
      }
    } else if (rep && WIRE[kind] !== 2) {
      if (values.length === 0) continue;
      const sub = new Writer();
      for (const x of values) sub.scalar(kind, x);
      w.varint(num * 8 + 2);
      w.raw(sub.finish());
    } else {
      for (const x of values) {
        w.varint(num * 8 + WIRE[kind]);
        w.scalar(kind, x);
      }
    }
  }
}

/** Encodes a ModelProto. */
export function encodeModel(m: ModelProto): Uint8Array {
  const w = new Writer();
  writeMessage(w, m as Record<string, unknown>, MODEL);
  return w.finish();
}
