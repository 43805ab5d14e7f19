// Feeding a graph: validating every input of a call (dtype, rank, batch, values, lengths) before
// anything is written, writing the parts into a program's staging buffers, output shapes.
import type { Runtime } from '../wasm/load';
import { checkLengths, checkState } from '../ir/checks';
import { Tensor } from '../tensor';
import { DTypeError, ShapeError, ValueError, show } from '../errors';
import type { InputNode, Sym } from './nodes';
import type { Compiled, Shape } from './compile';

/** An input's value: a tensor, or a tensor with per-example lengths (sequence inputs). */
export type FeedValue = Tensor<Float32Array> | Tensor<Int32Array> | { data: Tensor<Float32Array> | Tensor<Int32Array>; lengths?: ArrayLike<number> };
/** A graph model's inputs by name: each a tensor, or a tensor with per-example lengths. */
export type Feed = Record<string, FeedValue>;

// Set while a caller that has already scanned every value of a call runs it on a graph (a layer or
// Sequential checks its inputs and targets in its own layouts, src/model/host.ts and contract.ts):
// the graph checks dtypes and shapes but does not scan the values a second time.
let scanned = false;
/** Runs `call` with the per-value scans of inputs and targets skipped (the caller made them). */
export function withScannedValues<T>(call: () => T): T {
  scanned = true;
  try {
    return call();
  } finally {
    scanned = false;
  }
}
/** Whether the values of the running call were already scanned (withScannedValues). */
export function valuesScanned(): boolean {
  return scanned;
}

/** Validated input data per input node. */
export type Parts = Map<InputNode, { data: Float32Array | Int32Array; lengths?: ArrayLike<number> }>;

/** Validates a feed (every input but `skip`: dtype, shape, values, lengths) before anything is written; returns the shape and the parts. */
export function checkFeed(inputs: Map<string, InputNode>, feed: Feed, skip?: InputNode): { shape: Shape; parts: Parts } {
  if (feed === null || typeof feed !== 'object') throw new ValueError(`Expected inputs as { name: tensor }, got ${show(feed)}`);
  for (const k of Object.keys(feed)) if (!inputs.has(k) || inputs.get(k) === skip) throw new ValueError(`Expected inputs named ${[...inputs.keys()].join(', ')}, got unknown ${k}`);
  const T = new Map<InputNode, number>();
  const lens = new Set<InputNode>();
  const parts = new Map<InputNode, { data: Float32Array | Int32Array; lengths?: ArrayLike<number> }>();
  let B = -1;
  for (const [name, n] of inputs) {
    if (n === skip) continue;
    const v = feed[name];
    if (v === undefined) throw new ValueError(`Expected a value for input ${name}, got none`);
    const t = v instanceof Tensor ? v : v?.data;
    const lengths = v instanceof Tensor ? undefined : v.lengths;
    if (!(t instanceof Tensor)) throw new DTypeError(`Expected input ${name} as a Tensor or { data: Tensor, lengths }, got ${show(t)}`);
    const type = n.opts.type as 'float' | 'ids' | 'vector';
    const rank = type === 'float' ? 3 : 2;
    if (t.shape.length !== rank) throw new ShapeError(`Expected input ${name} of rank ${rank} (${type === 'float' ? '(T, B, F)' : type === 'ids' ? '(T, B)' : '(B, F)'}), got [${t.shape.join(', ')}]`);
    const b = type === 'vector' ? t.shape[0] : t.shape[1];
    if (B >= 0 && b !== B) throw new ShapeError(`Expected one batch size for every input, got ${B} and ${b} (input ${name})`);
    B = b;
    if (b < 1 || (type !== 'vector' && t.shape[0] < 1)) throw new ShapeError(`Expected at least one step and one example in input ${name}, got [${t.shape.join(', ')}]`);
    if (type === 'ids') {
      if (!(t.data instanceof Int32Array)) throw new DTypeError(`Expected input ${name} as an Int32Array tensor of token ids, got ${t.data.constructor.name}`);
      const V = n.opts.vocabSize as number;
      if (!scanned) for (let i = 0; i < t.data.length; i++) if (t.data[i] < 0 || t.data[i] >= V) throw new ValueError(`Expected token ids in [0, ${V}) in input ${name}, got ${t.data[i]} at index ${i}`);
    } else {
      const F = n.ports[0].features;
      if (t.shape[rank - 1] !== F) throw new ShapeError(`Expected ${F} features in input ${name}, got ${t.shape[rank - 1]}`);
      if (!scanned) checkState(`input ${name}`, t.data, 1, 1, t.data.length);
      else if (!(t.data instanceof Float32Array)) throw new DTypeError(`Expected input ${name} as a Float32Array tensor, got ${show(t.data)}`);
    }
    if (type !== 'vector') {
      T.set(n, t.shape[0]);
      const l = checkLengths(lengths, t.shape[0], b);
      if (l) lens.add(n);
      parts.set(n, { data: t.data, lengths: l });
    } else {
      if (lengths !== undefined) throw new ValueError(`Expected no lengths for the vector input ${name}, got lengths`);
      parts.set(n, { data: t.data });
    }
  }
  return { shape: { T, B, lens }, parts };
}

/** Writes validated input parts into a compiled program's staging buffers. */
export function writeParts(rt: Runtime, c: Compiled, parts: Parts): void {
  const heap = rt.heap;
  for (const [n, v] of parts) {
    if (v.data instanceof Int32Array) heap.i32.set(v.data, c.inputs.get(n)!);
    else heap.f32.set(v.data, c.inputs.get(n)!);
    const lo = c.lens.get(n);
    if (lo) heap.i32.set(Array.from(v.lengths!), lo);
  }
}

/** Shape of an output value. */
export function outShape(s: Sym, shape: Shape): number[] {
  if (s.kind === 'vec') return [shape.B, s.features];
  const T = shape.T.get(s.axis!)!;
  if (s.kind === 'weights') return [T, shape.B, shape.T.get(s.node.inputs[1].axis!)!];
  return [T, shape.B, s.features];
}

