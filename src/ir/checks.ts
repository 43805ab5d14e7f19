// Value checks shared by the public entry points (forward, streams, training, the pool): lengths,
// initial states, options objects and generator states, each throwing a typed error whose message
// reads "Expected …, got …" and names the argument.
import { DTypeError, ShapeError, ValueError, describe, show } from '../errors';
export { describe } from '../errors';

/** Validates lengths: B integers in [1, T]. Returns them or undefined (all full length). */
export function checkLengths(lengths: Int32Array | ArrayLike<number> | undefined, T: number, B: number): ArrayLike<number> | undefined {
  if (lengths === undefined) return undefined;
  if (lengths === null || typeof (lengths as ArrayLike<number>).length !== 'number') {
    throw new DTypeError(`Expected lengths as an Int32Array or number array, got ${show(lengths)}`);
  }
  if (lengths.length !== B) throw new ShapeError(`Expected lengths to have B = ${B} entries, got ${lengths.length}`);
  for (let b = 0; b < B; b++) {
    const v = lengths[b];
    if (!Number.isInteger(v) || v < 1 || v > T) throw new ValueError(`Expected lengths[${b}] to be an integer in [1, ${T}], got ${v}`);
  }
  return lengths;
}

/** Checks an initial state (numStates, B, H): dtype, size, finite values. */
export function checkState(name: string, s: unknown, ns: number, B: number, H: number): void {
  if (!(s instanceof Float32Array)) throw new DTypeError(`Expected ${name} to be a Float32Array, got ${s === null ? 'null' : typeof s}`);
  if (ns === 0) throw new ValueError(`Expected no ${name} for a model without recurrent layers, got ${name}`);
  if (s.length !== ns * B * H) throw new ShapeError(`Expected ${name} of shape (${ns}, ${B}, ${H}) = ${ns * B * H} elements, got ${s.length}`);
  for (let i = 0; i < s.length; i++) {
    if (!Number.isFinite(s[i])) throw new ValueError(`Expected finite values in ${name}, got ${s[i]} at index ${i}`);
  }
}

/** Throws a ValueError unless `opts` is undefined or a plain options object. */
export function checkOptionsObject(opts: unknown, what: string): void {
  if (opts !== undefined && (opts === null || typeof opts !== 'object' || Array.isArray(opts))) {
    throw new ValueError(`Expected ${what} to be an object, got ${describe(opts)}`);
  }
}

/** A generator state: four u32 words, not all zero (xoshiro never leaves the all-zero state). */
export function checkRngState(s: unknown, what: string): void {
  if (!Array.isArray(s) || s.length !== 4 || !s.every((v) => typeof v === 'number' && Number.isInteger(v) && v >= -0x80000000 && v <= 0xffffffff)) {
    throw new ValueError(`Expected ${what} to be four 32-bit integers, got ${Array.isArray(s) ? `[${s.join(', ')}]` : describe(s)}`);
  }
  if (s.every((v) => v === 0)) throw new ValueError(`Expected ${what} not all zero (the generator would never change again), got [0, 0, 0, 0]`);
}

/**
 * An integer in [1, max] (every size, count and budget of the public API); a ValueError naming the
 * argument otherwise.
 */
export function positiveInt(name: string, v: unknown, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1 || v > max) {
    throw new ValueError(`Expected ${name} to be ${max === Number.MAX_SAFE_INTEGER ? 'a positive integer' : `an integer in [1, ${max}]`}, got ${show(v)}`);
  }
  return v;
}

/** A generator seed: an integer in [0, 2^32). */
export function seedValue(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new ValueError(`Expected ${name} to be an integer in [0, 2^32), got ${show(v)}`);
  return v;
}

/** A finite number > 0 (learning rates, clip norms). */
export function positiveNumber(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new ValueError(`Expected ${name} to be a positive finite number, got ${show(v)}`);
  return v;
}
