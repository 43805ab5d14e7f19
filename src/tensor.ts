// A minimal dense tensor: a JS-owned typed array and a shape. Results handed to users are always
// copies out of wasm memory, so they stay valid after the heap grows or a model is disposed.
import { DTypeError, ShapeError, ValueError, show } from './errors';

/** Dimensions of a tensor, outermost first (time-major sequences are `[T, B, F]`). */
export type Shape = readonly number[];

/**
 * A dense tensor: a JS-owned `Float32Array` (or an `Int32Array` of token ids) and its shape. Results handed
 * out by the library are copies, valid after the wasm heap grows or the model is disposed; the constructor
 * checks the data type and that the shape matches the element count.
 */
export class Tensor<A extends Float32Array | Int32Array = Float32Array> {
  /** The elements, row-major (the last dimension varies fastest). */
  readonly data: A;
  /** The dimensions (frozen). */
  readonly shape: Shape;
  constructor(data: A, shape: Shape) {
    if (!(data instanceof Float32Array) && !(data instanceof Int32Array)) {
      const got = data === null ? 'null' : ArrayBuffer.isView(data) ? (data as object).constructor.name : typeof data;
      throw new DTypeError(`Expected tensor data as a Float32Array or an Int32Array of token ids, got ${got}`);
    }
    if (!Array.isArray(shape)) throw new ShapeError(`Expected shape as an array of dimensions, got ${show(shape)}`);
    const n = shape.reduce((a, b) => a * b, 1);
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new ShapeError(`Expected non-negative integer dimensions, got [${shape.join(', ')}]`);
    }
    if (data.length !== n) {
      throw new ShapeError(`Expected ${n} elements for shape [${shape.join(', ')}], got ${data.length}`);
    }
    this.data = data;
    this.shape = Object.freeze([...shape]);
  }
  /** Number of elements (the product of the shape). */
  get size(): number {
    return this.data.length;
  }
  /** Nested arrays, for printing and small tests. */
  toArray(): unknown {
    const rec = (off: number, dim: number): unknown => {
      if (dim === this.shape.length) return this.data[off];
      const stride = this.shape.slice(dim + 1).reduce((a, b) => a * b, 1);
      return Array.from({ length: this.shape[dim] }, (_, i) => rec(off + i * stride, dim + 1));
    };
    return rec(0, 0);
  }
}

/**
 * A tensor over a Float32Array or an Int32Array of token ids (used as is, not copied), or a float32
 * tensor from a (nested) number array. Without `shape` a typed array is one-dimensional.
 */
export function tensor(data: Int32Array, shape?: Shape): Tensor<Int32Array>;
export function tensor(data: Float32Array | ArrayLike<number> | number[][] | number[][][], shape?: Shape): Tensor;
export function tensor(data: Float32Array | Int32Array | ArrayLike<number> | number[][] | number[][][], shape?: Shape): Tensor | Tensor<Int32Array> {
  if (data instanceof Float32Array) return new Tensor(data, shape ?? [data.length]);
  if (data instanceof Int32Array) return new Tensor(data, shape ?? [data.length]);
  if (ArrayBuffer.isView(data)) {
    throw new DTypeError(`Expected a Float32Array, an Int32Array or a number array for tensor data, got ${data.constructor.name}`);
  }
  if (!Array.isArray(data)) throw new DTypeError(`Expected a Float32Array or a number array for tensor data, got ${data === null ? 'null' : typeof data}`);
  const inferred: number[] = [];
  let cur: unknown = data;
  while (Array.isArray(cur)) {
    inferred.push(cur.length);
    cur = cur[0];
  }
  const flat = (data as unknown[]).flat(Infinity) as number[];
  for (const v of flat) if (typeof v !== 'number') throw new DTypeError(`Expected numbers in tensor data, got ${typeof v}`);
  return new Tensor(Float32Array.from(flat), shape ?? inferred);
}

/** Checks a float input: Float32Array, exact size, no NaN/Inf. */
export function checkFloat(name: string, data: unknown, expected: number, shapeText: string): Float32Array {
  if (!(data instanceof Float32Array)) {
    const got = data === null ? 'null' : ArrayBuffer.isView(data) ? (data as object).constructor.name : typeof data;
    throw new DTypeError(`Expected ${name} to be a Float32Array, got ${got}`);
  }
  if (data.length !== expected) {
    throw new ShapeError(`Expected ${name} to have ${expected} elements (${shapeText}), got ${data.length}`);
  }
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new ValueError(`Expected finite values in ${name}, got ${data[i]} at index ${i}`);
    }
  }
  return data;
}
