// The parameter arena: every parameter of a model in one contiguous heap block, named and shaped
// as in PyTorch. Gradients and optimizer moments (training) use the same layout at other bases, so
// zeroing, clipping and the optimizer step are one flat kernel each.
import type { Runtime } from '../wasm/load';
import type { Rng } from './rng';
import { ShapeError, StateError, ValueError, DTypeError, describe } from '../errors';

/** How a parameter is initialised. */
export type Init =
  | { kind: 'uniform'; bound: number }
  | { kind: 'normal'; std: number }
  | { kind: 'zeros' }
  | { kind: 'const'; value: number }
  /** each of `blocks` stacked square (n×n) row blocks is a random orthogonal matrix × gain */
  | { kind: 'orthogonal'; blocks: number; gain: number }
  /** equal consecutive slices, each with its own initialiser (e.g. LSTM gates' biases) */
  | { kind: 'slices'; parts: Init[] };

export interface ParamSpec {
  name: string;
  shape: number[];
  init: Init;
}

export interface ParamEntry {
  readonly name: string;
  readonly shape: readonly number[];
  /** Element offset of this parameter relative to the arena base. */
  readonly rel: number;
  readonly size: number;
}

const ALIGN = 4;

export class Arena {
  readonly rt: Runtime;
  /** Element offset of the arena in the heap. */
  readonly base: number;
  /** Total elements including alignment padding. */
  readonly size: number;
  private readonly byName = new Map<string, ParamEntry>();
  private disposed = false;
  private writes = 0;

  constructor(rt: Runtime, specs: ParamSpec[]) {
    this.rt = rt;
    let rel = 0;
    for (const s of specs) {
      if (this.byName.has(s.name)) throw new ValueError(`Expected unique parameter names, got ${s.name} twice`);
      const size = s.shape.reduce((a, b) => a * b, 1);
      this.byName.set(s.name, { name: s.name, shape: Object.freeze([...s.shape]), rel, size });
      rel += Math.ceil(size / ALIGN) * ALIGN;
    }
    this.size = rel;
    this.base = rt.heap.alloc(Math.max(rel, ALIGN));
    this.specs = specs;
  }
  private readonly specs: ParamSpec[];

  /**
   * Counts writes to the parameters: every write through this class, the optimizer step, a
   * failed call's rollback and a replica's refresh call markWritten(). Copies derived from the
   * values (a stream's packed weights, src/model/packs.ts) are stale when it has moved.
   */
  get version(): number {
    return this.writes;
  }
  /** Records that the parameters' memory was written outside set/restore/initialize. */
  markWritten(): void {
    this.writes++;
  }

  /** Absolute heap offset of a parameter (0 if the name is absent and `optional`). */
  offsetOf(name: string): number {
    return this.base + this.entry(name).rel;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  entry(name: string): ParamEntry {
    this.check();
    const e = this.byName.get(name);
    if (!e) throw new ValueError(`Expected a parameter name among [${[...this.byName.keys()].join(', ')}], got ${name}`);
    return e;
  }

  entries(): ParamEntry[] {
    this.check();
    return [...this.byName.values()];
  }

  /** A copy of one parameter's values. */
  get(name: string): Float32Array {
    const e = this.entry(name);
    return this.rt.heap.read(this.base + e.rel, e.size);
  }

  /** Overwrites one parameter; validates dtype, size and finiteness before touching memory. */
  set(name: string, values: Float32Array | ArrayLike<number>): void {
    const e = this.validate(name, values);
    this.rt.heap.write(this.base + e.rel, values);
    this.markWritten();
  }

  /** Throws a typed error unless `values` can be written to parameter `name`. */
  validate(name: string, values: Float32Array | ArrayLike<number>): ParamEntry {
    const e = this.entry(name);
    if (values === null || typeof values !== 'object' || typeof values.length !== 'number') {
      throw new DTypeError(`Expected ${name} as a Float32Array or number array, got ${describe(values)}`);
    }
    if (ArrayBuffer.isView(values) && !(values instanceof Float32Array)) {
      throw new DTypeError(`Expected ${name} as a Float32Array or number array, got ${(values as object).constructor.name}`);
    }
    if (values.length !== e.size) {
      throw new ShapeError(`Expected ${name} to have ${e.size} elements (shape [${e.shape.join(', ')}]), got ${values.length}`);
    }
    // checked as stored: 1e39 is a finite number but Infinity in float32
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (typeof v !== 'number' || !Number.isFinite(Math.fround(v))) throw new ValueError(`Expected finite values for ${name} (as float32: |v| ≤ 3.4028235e38), got ${describe(v)} at index ${i}`);
    }
    return e;
  }

  /** The whole arena as a copy (padding included), e.g. for checkpoints. */
  snapshot(): Float32Array {
    this.check();
    return this.rt.heap.read(this.base, this.size);
  }

  /** Overwrites the whole arena from a snapshot of the same size (validated: finite values). */
  restore(values: Float32Array): void {
    this.check();
    if (values.length !== this.size) throw new ShapeError(`Expected an arena snapshot of ${this.size} values, got ${values.length}`);
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i])) throw new ValueError(`Expected finite parameter values, got ${values[i]} at arena index ${i}`);
    }
    this.rt.heap.write(this.base, values);
    this.markWritten();
  }

  /** Fills every parameter from its initialiser using the given RNG (deterministic order). */
  initialize(rng: Rng): void {
    this.check();
    for (const s of this.specs) {
      const e = this.byName.get(s.name)!;
      const values = new Float32Array(e.size);
      fillInit(values, s.init, e.shape, rng);
      this.rt.heap.write(this.base + e.rel, values);
    }
    this.markWritten();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.rt.heap.release(this.base);
  }

  private check(): void {
    if (this.disposed) throw new StateError('Expected a live model, got one whose memory was released by dispose()');
  }
}

/** Fills `out` (a parameter of `shape`) from an initialiser, drawing from rng in a fixed order. */
export function fillInit(out: Float32Array, init: Init, shape: readonly number[], rng: Rng): void {
  const n = out.length;
  switch (init.kind) {
    case 'uniform':
      for (let i = 0; i < n; i++) out[i] = (rng.uniform() * 2 - 1) * init.bound;
      return;
    case 'normal':
      for (let i = 0; i < n; i++) out[i] = rng.normal() * init.std;
      return;
    case 'const':
      out.fill(init.value);
      return;
    case 'zeros':
      out.fill(0);
      return;
    case 'slices': {
      const k = init.parts.length;
      const len = n / k;
      init.parts.forEach((p, j) => fillInit(out.subarray(j * len, (j + 1) * len), p, [len], rng));
      return;
    }
    case 'orthogonal': {
      const cols = shape[shape.length - 1];
      const rows = n / cols;
      const bs = rows / init.blocks;
      for (let blk = 0; blk < init.blocks; blk++) orthogonal(out.subarray(blk * bs * cols, (blk + 1) * bs * cols), bs, cols, init.gain, rng);
      return;
    }
  }
}

// A random (r × c) matrix with orthonormal rows (r ≤ c) or columns (r > c): Gram–Schmidt (run
// twice for stability) on a Gaussian matrix, as the QR-based orthogonal initialisers do.
function orthogonal(out: Float32Array, r: number, c: number, gain: number, rng: Rng): void {
  const tall = r > c;
  const m = tall ? c : r; // vectors to orthonormalise
  const len = tall ? r : c; // their length
  const v = Array.from({ length: m }, () => Float64Array.from({ length: len }, () => rng.normal()));
  for (let i = 0; i < m; i++) {
    for (let pass = 0; pass < 2; pass++) {
      for (let j = 0; j < i; j++) {
        let d = 0;
        for (let k = 0; k < len; k++) d += v[i][k] * v[j][k];
        for (let k = 0; k < len; k++) v[i][k] -= d * v[j][k];
      }
    }
    let nrm = 0;
    for (let k = 0; k < len; k++) nrm += v[i][k] * v[i][k];
    nrm = Math.sqrt(nrm) || 1;
    for (let k = 0; k < len; k++) v[i][k] /= nrm;
  }
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[i * c + j] = gain * (tall ? v[j][i] : v[i][j]);
}
