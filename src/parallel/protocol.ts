// What the pool and its workers say to each other, and the batch-axis slicing both sides use.
// A task is self-contained: the graph spec (JSON), the parameters (a shared buffer, or a copy when
// SharedArrayBuffer is unavailable) and one shard of the batch (or an application's chunks). Workers
// keep a replica built from the spec and overwrite its parameters at every task, so a replica can
// never be stale.
import { RnnWasmError, ShapeError, DTypeError, ValueError, StateError, WorkerError, show } from '../errors';
import type { Int8Mode, Variant } from '../wasm/load';
import type { LossOption } from '../graph/losses';

export { WorkerError };

/** Sent once per worker (piscina: workerData; Web Worker: the first message). */
export interface WorkerInit {
  module: WebAssembly.Module;
  variant: Variant;
  /** The main thread's int8 activation mode, so a replica's int8 products equal the model's. */
  int8: Int8Mode;
}

/** A float or id array with its shape (plain data: survives structured cloning). */
export interface Arr<A extends Float32Array | Int32Array = Float32Array | Int32Array> {
  data: A;
  shape: number[];
}

interface ModelRef {
  /** JSON of the graph's spec(); the replica is rebuilt when it changes. */
  spec: string;
  /** The whole parameter arena (padding included), arena layout. */
  params: Float32Array;
}

/** Every task carries the main thread's int8 activation mode when it is sent (init({ int8 }) may change it). */
export type Task = TaskBody & { int8?: Int8Mode };

type TaskBody =
  | { kind: 'ping' }
  /** forward: spec is a GraphSpec; inputs are the graph's named inputs, rows of one shard. */
  | (ModelRef & { kind: 'forward'; inputs: Record<string, GraphInput> })
  /**
   * grad: one shard of a training step: its inputs and targets (rows of the shard), the losses,
   * each loss's gradient scale when the pool fixes it (several losses: weight / the batch's count),
   * and, when masks are drawn, the shard's dropout generator state.
   */
  | (ModelRef & { kind: 'grad'; inputs: Record<string, GraphInput>; targets: Record<string, Arr>; losses: Record<string, LossOption>; scales?: number[]; rng?: RngState })
  /**
   * app: a registered application's call (src/parallel/apps.ts): spec is its graph, meta what it is
   * rebuilt from (JSON); each chunk is answered as one in-process call, or with `members` (the other
   * applications of an ensemble, each with its own graph, parameters and meta) as one call of all.
   */
  | (ModelRef & { kind: 'app'; app: string; verb: string; meta: string; chunks: unknown[][]; options: unknown; members?: (ModelRef & { meta: string })[] });

/** One named input of a graph shard: (T, b[, F]) sequences with optional lengths, or (b, F) vectors. */
export interface GraphInput {
  value: Arr;
  lengths?: Int32Array;
}

/** The four 32-bit words of a model's dropout generator (xoshiro128**). */
export type RngState = [number, number, number, number];

export interface ErrorData {
  name: string;
  message: string;
}

export type Reply =
  | { ok: true; kind: 'ping'; variant: Variant }
  /** forward: every output of the graph for the shard's rows. */
  | { ok: true; kind: 'forward'; outputs: Record<string, Arr<Float32Array>> }
  /** grad: each loss's mean over the shard and the gradient (arena layout). */
  | { ok: true; kind: 'grad'; means: number[]; grad: Float32Array }
  /** app: one list of results per chunk, in the chunk's order. */
  | { ok: true; kind: 'app'; results: unknown[][] }
  | { ok: false; error: ErrorData };

const KNOWN: Record<string, new (m: string) => RnnWasmError> = {
  ShapeError, DTypeError, ValueError, StateError, RnnWasmError, WorkerError,
};

/** An error as plain data (class names survive; prototypes do not cross a postMessage). */
export function errorData(e: unknown): ErrorData {
  if (e instanceof Error) return { name: e.name, message: e.message };
  return { name: 'Error', message: String(e) };
}

/** Rebuilds a library error of the same class, or a WorkerError naming the original. */
export function rebuildError(d: ErrorData, where: string): RnnWasmError {
  const C = KNOWN[d.name];
  if (C) return new C(d.message);
  return new WorkerError(`Expected ${where} to finish, got ${d.name}: ${d.message}`);
}

/**
 * A worker's reply, checked before anything reads it: an object with `ok`; a failure with an error
 * { name, message }; a success of the task's kind with its fields of the right types (arrays whose
 * shape matches their data). Anything else — a worker that answers with something malformed — is
 * a WorkerError, never a TypeError in the code that reads the reply.
 */
export function checkReply(r: unknown, kind: Task['kind'], where: string): Extract<Reply, { ok: true }> {
  const bad = (what: string): never => {
    throw new WorkerError(`Expected ${where} to reply ${what}, got ${r === null || typeof r !== 'object' ? show(r) : `{ ${Object.keys(r).slice(0, 8).join(', ')} }`}`);
  };
  if (r === null || typeof r !== 'object' || typeof (r as { ok?: unknown }).ok !== 'boolean') bad('{ ok, … }');
  const o = r as Record<string, unknown>;
  if (o.ok === false) {
    const e = o.error as Record<string, unknown> | null;
    if (e === null || typeof e !== 'object' || typeof e.name !== 'string' || typeof e.message !== 'string') bad('an error { name, message }');
    throw rebuildError(e as unknown as ErrorData, where);
  }
  if (o.kind !== kind) bad(`a '${kind}' result`);
  const isArr = (a: unknown): boolean => {
    if (a === null || typeof a !== 'object') return false;
    const { data, shape } = a as Arr;
    return data instanceof Float32Array && Array.isArray(shape) && shape.every((d) => Number.isInteger(d) && d >= 0) && shape.reduce((x, d) => x * d, 1) === data.length;
  };
  const ok =
    kind === 'ping' ? typeof o.variant === 'string'
    : kind === 'grad' ? Array.isArray(o.means) && o.means.every((v) => typeof v === 'number') && o.grad instanceof Float32Array
    : kind === 'forward' ? o.outputs !== null && typeof o.outputs === 'object' && Object.values(o.outputs).every(isArr)
    : Array.isArray(o.results) && o.results.every((c) => Array.isArray(c));
  if (!ok) bad(`a well-formed '${kind}' result`);
  return o as Extract<Reply, { ok: true }>;
}

// Batch-axis slicing. Every batched array is viewed as (outer, B, inner): time-major sequences
// (T, B, F) have outer = T, inner = F; batch-first (B, T, F) has outer = 1, inner = T·F; states
// (numStates, B, H) have outer = numStates, inner = H; lengths are (1, B, 1).

/** Rows [b0, b1) of a (outer, B, inner) array, as a new (outer, b1−b0, inner) array. */
export function sliceRows<A extends Float32Array | Int32Array>(a: A, outer: number, B: number, inner: number, b0: number, b1: number): A {
  const nb = b1 - b0;
  const out = new (a.constructor as new (n: number) => A)(outer * nb * inner);
  for (let o = 0; o < outer; o++) out.set(a.subarray((o * B + b0) * inner, (o * B + b1) * inner), o * nb * inner);
  return out;
}

/** Writes a (outer, b1−b0, inner) array into rows [b0, b1) of a (outer, B, inner) array. */
export function putRows(dst: Float32Array, src: Float32Array, outer: number, B: number, inner: number, b0: number, b1: number): void {
  const nb = b1 - b0;
  for (let o = 0; o < outer; o++) dst.set(src.subarray(o * nb * inner, (o + 1) * nb * inner), (o * B + b0) * inner);
}

/** Splits B rows into at most n contiguous shards whose sizes differ by at most one. */
export function shards(B: number, n: number): [number, number][] {
  const k = Math.min(B, n);
  const out: [number, number][] = [];
  let b0 = 0;
  for (let i = 0; i < k; i++) {
    const nb = Math.floor(B / k) + (i < B % k ? 1 : 0);
    out.push([b0, b0 + nb]);
    b0 += nb;
  }
  return out;
}
