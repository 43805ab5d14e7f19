// Step-wise decoding of a graph (what greedy and beam search need): the context part of the graph
// runs once per start; each step runs everything downstream of the step input for every row (every
// hypothesis) in one wasm call, the recurrent states staying in wasm memory between steps;
// reorder() permutes the state rows when a beam search keeps some hypotheses and drops others.
// A one-row decoder reads packed copies of its step weights (src/model/packs.ts), repacked before a
// run whenever the parameters were written since.
import type { Runtime } from '../wasm/load';
import type { Program } from '../ir/program';
import { Tensor } from '../tensor';
import { DTypeError, ShapeError, StateError, ValueError } from '../errors';
import type { InputNode, Sym } from './nodes';
import type { Compiled, Shape } from './compile';
import { valuesScanned, type Parts } from './feed';


/** Repeats every example's rows `k` times (row b → rows b·k … b·k + k − 1): one per hypothesis. */
export function expandRows(parts: Parts, k: number, shape: Shape): Parts {
  if (k === 1) return parts;
  const out: Parts = new Map();
  const B = shape.B;
  for (const [n, v] of parts) {
    const T = shape.T.get(n) ?? 1; // vectors: one "step" of B rows
    const F = v.data.length / (T * B);
    const data = new (v.data.constructor as Float32ArrayConstructor | Int32ArrayConstructor)(v.data.length * k);
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        const row = v.data.subarray((t * B + b) * F, (t * B + b + 1) * F);
        for (let j = 0; j < k; j++) data.set(row, (t * B * k + b * k + j) * F);
      }
    }
    const lengths = v.lengths ? Array.from({ length: B * k }, (_, r) => v.lengths![Math.floor(r / k)]) : undefined;
    out.set(n, { data, lengths });
  }
  return out;
}

/** Widest beam a decoder takes (rows = examples × beam, each with its own recurrent state and workspace). */
export const MAX_BEAM = 1024;

// Releases the programs of a decoder that was garbage-collected while still open.
const decoders = new FinalizationRegistry<() => void>((close) => close());

/**
 * Step-wise decoding of a graph (`GraphModel.decoder`): the graph's recurrent state carried in wasm
 * memory from one step to the next for a fixed number of rows, reordered between steps for beam search.
 */
export class Decoder {
  /** Rows decoded at once (examples × beam). */
  readonly batchSize: number;
  private readonly start: Program;
  private readonly stepProgram: Program;
  // released by close(), the model's dispose() (through `open`) or the finalizer, whichever runs first
  private readonly release: () => void;
  private readonly state = { closed: false };
  /** The context inputs' staging offsets and sizes, by name (what reset(values) may rewrite). */
  private readonly staged = new Map<string, { at: number; size: number; float: boolean }>();

  /**
   * `open` is the model's set of open decoders' release functions (its dispose() closes them);
   * `owner` (the model) is kept alive by the decoder, so its memory stays while the decoder is used.
   */
  constructor(
    private readonly rt: Runtime,
    private readonly c: Compiled,
    private readonly stepInput: InputNode,
    /** Outputs downstream of the step input, with their widths (weights: the memory's steps). */
    private readonly outs: [string, Sym, number][],
    B: number,
    parts: Parts,
    open: Set<() => void>,
    private readonly owner: object,
    /** Called once when the decoder is released (a one-row decoder gives back its packed weight copies). */
    onRelease?: () => void,
    /** Before every run: repack kept packed weight copies if the parameters were written since. */
    private readonly beforeRun?: () => void,
    /** Whether the step reads packed weight copies. */
    readonly packed = false,
  ) {
    this.batchSize = B;
    const start = (this.start = c.pre!.finish());
    const stepProgram = (this.stepProgram = c.b.finish());
    const state = this.state;
    const release = (): void => {
      if (state.closed) return;
      state.closed = true;
      start.dispose();
      stepProgram.dispose();
      open.delete(release);
      onRelease?.();
    };
    this.release = release;
    open.add(release);
    decoders.register(this, release, this);
    const heap = rt.heap;
    for (const [n, v] of parts) {
      this.staged.set(n.name, { at: c.inputs.get(n)!, size: v.data.length, float: v.data instanceof Float32Array });
      if (v.data instanceof Int32Array) heap.i32.set(v.data, c.inputs.get(n)!);
      else heap.f32.set(v.data, c.inputs.get(n)!);
      const lo = c.lens.get(n);
      if (lo) heap.i32.set(Array.from(v.lengths!), lo);
    }
    this.reset();
  }

  /**
   * Restarts: the context part runs again and the recurrent states take their initial values.
   * `values` first replaces what some float context inputs hold (by input name, each as many values
   * as the context gave it, rows repeated for the beam), e.g. new initial states; all are checked
   * before the first is written.
   */
  reset(values?: Record<string, Float32Array>): void {
    this.check();
    if (values !== undefined) {
      if (values === null || typeof values !== 'object') throw new ValueError(`Expected reset values as { input: Float32Array }, got ${values === null ? 'null' : typeof values}`);
      for (const [name, v] of Object.entries(values)) {
        const at = this.staged.get(name);
        if (!at || !at.float) throw new ValueError(`Expected reset values of float context inputs (${[...this.staged].filter(([, a]) => a.float).map(([k]) => k).join(', ') || 'none'}), got ${name}`);
        if (!(v instanceof Float32Array)) throw new DTypeError(`Expected ${name} as a Float32Array, got ${(v as object)?.constructor?.name ?? typeof v}`);
        if (v.length !== at.size) throw new ShapeError(`Expected ${at.size} values for ${name}, got ${v.length}`);
        for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) throw new ValueError(`Expected finite values in ${name}, got ${v[i]} at index ${i}`);
      }
      for (const [name, v] of Object.entries(values)) this.rt.heap.f32.set(v, this.staged.get(name)!.at);
    }
    this.beforeRun?.();
    this.start.run();
  }

  /**
   * One step for every row: x is (B) token ids for an ids input, or (B, F) floats. Returns each
   * output that depends on the step input: (B, F) for sequences, (B, T_memory) for attention weights.
   */
  step(x: Int32Array | Float32Array | ArrayLike<number>): Record<string, Tensor> {
    this.check();
    const B = this.batchSize;
    const heap = this.rt.heap;
    const at = this.c.inputs.get(this.stepInput)!;
    if (this.stepInput.opts.type === 'ids') {
      if (!(x instanceof Int32Array) && !Array.isArray(x)) throw new DTypeError(`Expected token ids as an Int32Array or number array, got ${(x as object)?.constructor?.name ?? typeof x}`);
      if (x.length !== B) throw new ShapeError(`Expected ${B} token ids (one per row), got ${x.length}`);
      const V = this.stepInput.opts.vocabSize as number;
      if (!valuesScanned()) for (let i = 0; i < B; i++) if (!Number.isInteger(x[i]) || x[i] < 0 || x[i] >= V) throw new ValueError(`Expected token ids in [0, ${V}), got ${x[i]} at index ${i}`);
      heap.i32.set(x, at);
    } else {
      const F = this.stepInput.ports[0].features;
      if (!(x instanceof Float32Array)) throw new DTypeError(`Expected a Float32Array of (B, F) = (${B}, ${F}) values, got ${(x as object)?.constructor?.name ?? typeof x}`);
      if (x.length !== B * F) throw new ShapeError(`Expected ${B * F} values (B, F) = (${B}, ${F}), got ${x.length}`);
      if (!valuesScanned()) for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i])) throw new ValueError(`Expected finite values, got ${x[i]} at index ${i}`);
      heap.f32.set(x, at);
    }
    this.beforeRun?.();
    this.stepProgram.run();
    const out: Record<string, Tensor> = {};
    for (const [name, s, F] of this.outs) {
      out[name] = new Tensor(heap.read(this.c.values.get(s)!, B * F), [B, F]);
    }
    return out;
  }

  /** New row r takes old row indices[r]'s recurrent state (indices: B integers in [0, B)). */
  reorder(indices: Int32Array | ArrayLike<number>): void {
    this.check();
    const B = this.batchSize;
    if (!indices || typeof (indices as ArrayLike<number>).length !== 'number' || indices.length !== B) throw new ShapeError(`Expected ${B} row indices, got ${indices?.length}`);
    for (let r = 0; r < B; r++) if (!Number.isInteger(indices[r]) || indices[r] < 0 || indices[r] >= B) throw new ValueError(`Expected row indices in [0, ${B}), got ${indices[r]} at index ${r}`);
    const f32 = this.rt.heap.f32;
    for (const [off, H] of this.c.carried) {
      const old = f32.slice(off, off + B * H);
      for (let r = 0; r < B; r++) f32.set(old.subarray(indices[r] * H, (indices[r] + 1) * H), off + r * H);
    }
  }

  /**
   * @internal The current recurrent state of node `node`'s slots of a kind, (B, H) each in slot
   * order (each step leaves it in the slots' initial blocks, where the next step starts).
   */
  stateOf(node: string, kind: 'h' | 'c'): Float32Array[] {
    this.check();
    const slots = [...this.c.states].find(([n]) => n.name === node)?.[1] ?? [];
    return slots.filter((s) => s.kind === kind).sort((a, b) => a.index - b.index).map((s) => this.rt.heap.read(s.init, this.batchSize * s.H));
  }

  /** Whether the decoder was closed (close(), or its model was disposed or quantized). */
  get closed(): boolean {
    return this.state.closed;
  }

  /** Releases the decoder's programs and memory (once; later calls do nothing). */
  close(): void {
    decoders.unregister(this);
    this.release();
  }

  private check(): void {
    if (this.state.closed) throw new StateError('Expected an open decoder, got one that was closed (or whose model was disposed or quantized)');
  }
}
