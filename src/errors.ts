// Typed errors thrown at the public API. Messages read "Expected …, got …" and name the argument.

// Each class states its `name` as a string: a page's minifier renames classes (`ShapeError` would
// read `v`), and workers send errors back by name (src/parallel/protocol.ts).

/** Base class of every error this library throws on purpose. */
export class RnnWasmError extends Error {
  /** `'RnnWasmError'`: the class name as a string, so that it survives a minifier and crosses worker boundaries. */
  override name = 'RnnWasmError';
}
/** A tensor or option has the wrong shape or size. */
export class ShapeError extends RnnWasmError {
  /** `'ShapeError'`: the class name as a string, so that it survives a minifier and crosses worker boundaries. */
  override name = 'ShapeError';
}
/** A value has the wrong type (e.g. a Float64Array where a Float32Array is needed). */
export class DTypeError extends RnnWasmError {
  /** `'DTypeError'`: the class name as a string, so that it survives a minifier and crosses worker boundaries. */
  override name = 'DTypeError';
}
/** An option or argument has an invalid value (NaN, out of range, unknown name). */
export class ValueError extends RnnWasmError {
  /** `'ValueError'`: the class name as a string, so that it survives a minifier and crosses worker boundaries. */
  override name = 'ValueError';
}
/** The wasm runtime was used before `init()` resolved, or after a model was disposed. */
export class StateError extends RnnWasmError {
  /** `'StateError'`: the class name as a string, so that it survives a minifier and crosses worker boundaries. */
  override name = 'StateError';
}
/** A worker failed: it could not start, crashed, timed out, or threw something unexpected. */
export class WorkerError extends RnnWasmError {
  /** `'WorkerError'`: the class name as a string, so that it survives a minifier and crosses worker boundaries. */
  override name = 'WorkerError';
}
/** The wasm memory cannot grow to hold what a call needs (wasm32: 4 GiB at most), or a limit is exceeded. */
export class MemoryError extends RnnWasmError {
  /** `'MemoryError'`: the class name as a string, so that it survives a minifier and crosses worker boundaries. */
  override name = 'MemoryError';
}

/** A short description of a value for error messages (null, arrays and classes by name). */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'object' || typeof v === 'function') {
    // hostile JSON or prototype-less objects: never coerce the value itself (no toString/valueOf call)
    const name = Object.getPrototypeOf(v) === null ? undefined : (v as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === 'string' && name ? name : typeof v;
  }
  if (typeof v === 'string') return `'${v}'`;
  return String(v);
}

/**
 * String(v) for an error message, safe on hostile values: an object whose `toString` is not a
 * function (`{"toString": 1}` from JSON) or one without a prototype (`Object.create(null)`) makes
 * String() throw a TypeError; those are described by describe() instead.
 */
export function show(v: unknown): string {
  try {
    return String(v);
  } catch {
    return describe(v);
  }
}
