// The streaming step API: one time step for the whole stack per call, the recurrent state kept in
// wasm memory between calls. Each step is one write, one run_program call and one read.
// Every stream owns its plan (so two streams of one model never share a state); close() releases
// it, and a stream that is dropped without close() is released when it is garbage-collected.
// At batch 1 the plan reads packed copies of the weights (src/model/packs.ts), refreshed before a
// step whenever the parameters were written since they were packed.
import type { Plan, Runner } from './runner';
import { Tensor } from '../tensor';
import { RecurrentCore } from '../layers/recurrent';
import { DTypeError, ShapeError, StateError, ValueError, show } from '../errors';

/** Options of a model's `stream()`. */
export interface StreamOptions {
  /** Sequences stepped together (default 1). */
  batchSize?: number;
  /**
   * Read packed (row-interleaved) copies of the f32 weights, shared by the model's packing streams
   * and batch-1 plans: the batch-1 step is bound by how fast the weights arrive, and the packed
   * layout arrives faster. The copies take as much memory as the weights they copy, are repacked
   * before a step after any write to the parameters, and are released with the last stream or plan
   * that reads them (close(), releaseWorkspace(), dispose()). Results are
   * bit-identical either way. Default: true at batch 1 for a model with f32 weights on one thread;
   * `true` needs batch 1 and f32 weights.
   */
  packed?: boolean;
}

// Releases the plan of a stream that was garbage-collected while still open.
const streams = new FinalizationRegistry<{ runner: Runner; plan: Plan }>(({ runner, plan }) => {
  if (!runner.isDisposed) runner.closeStreamPlan(plan);
});

/**
 * Steps a unidirectional model one time step at a time, keeping its own recurrent state between calls (from
 * `model.stream()`); each `step` is one wasm call for the whole stack. `close()` releases its memory.
 */
export class Stream {
  /** Sequences stepped together (B). */
  readonly batchSize: number;
  /** Whether the step reads packed weight copies (StreamOptions.packed). */
  readonly packed: boolean;
  private readonly plan: Plan;
  private closed = false;

  /** @internal made by `model.stream()`; `owner` (the model) is kept alive by the stream, so its memory stays while the stream is used. */
  constructor(private readonly runner: Runner, batchSize: number, private readonly owner?: object, packed?: boolean) {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new ValueError(`Expected batchSize to be a positive integer, got ${show(batchSize)}`);
    if (packed !== undefined && typeof packed !== 'boolean') throw new ValueError(`Expected packed to be a boolean, got ${show(packed)}`);
    if (packed && batchSize !== 1) throw new ValueError(`Expected packed: true only with batchSize 1 (one row reads the packed copies), got batchSize ${batchSize}`);
    if (packed && runner.quantized) throw new ValueError('Expected packed: true only for f32 weights, got a model quantized to int8 (its weights are read in place)');
    for (const m of runner.modules) {
      if (m instanceof RecurrentCore && m.bidirectional) {
        throw new ValueError('Expected only unidirectional recurrent layers for streaming, got a bidirectional layer (its reverse pass needs the whole sequence)');
      }
    }
    this.batchSize = batchSize;
    this.packed = packed ?? (batchSize === 1 && runner.packable);
    this.plan = runner.openStreamPlan(batchSize, this.packed);
    streams.register(this, { runner, plan: this.plan }, this);
  }

  /** Width of one step's output per sequence. */
  get outFeatures(): number {
    return this.plan.outFeatures;
  }

  /**
   * Feeds one step: x is (B, F) floats (or (B) token ids for a model starting with an embedding).
   * Returns the (B, outFeatures) output of this step (a copy).
   */
  step(x: Float32Array | Int32Array | ArrayLike<number>): Float32Array {
    this.check();
    const B = this.batchSize;
    const rt = this.runner.rt;
    if (this.runner.inputKind === 'ids') {
      if (!(x instanceof Int32Array) && !(Array.isArray(x))) throw new DTypeError(`Expected token ids as an Int32Array or number array, got ${(x as object)?.constructor?.name}`);
      if (x.length !== B) throw new ShapeError(`Expected ${B} token ids (one per sequence), got ${x.length}`);
      const V = this.runner.numEmbeddings;
      for (let i = 0; i < B; i++) {
        const v = x[i];
        if (!Number.isInteger(v) || v < 0 || v >= V) throw new ValueError(`Expected token ids in [0, ${V}), got ${v} at index ${i}`);
      }
      rt.heap.i32.set(x as ArrayLike<number>, this.plan.input);
    } else {
      const F = this.runner.inFeatures;
      if (!(x instanceof Float32Array)) throw new DTypeError(`Expected a step input as a Float32Array (B·F = ${B * F}), got ${(x as object)?.constructor?.name}`);
      if (x.length !== B * F) throw new ShapeError(`Expected a step input of (${B}, ${F}) = ${B * F} elements, got ${x.length}`);
      for (let i = 0; i < x.length; i++) {
        if (!Number.isFinite(x[i])) throw new ValueError(`Expected finite values in the step input, got ${x[i]} at index ${i}`);
      }
      rt.heap.f32.set(x, this.plan.input);
    }
    if (this.plan.packs) this.runner.refreshPacks();
    this.plan.program.run();
    return rt.heap.read(this.plan.output, B * this.plan.outFeatures);
  }

  /** Resets the state to zeros, or to the given (numStates, B, H) initial states. */
  reset(h0?: Float32Array, c0?: Float32Array): void {
    this.check();
    this.runner.checkStates(h0, c0, this.batchSize);
    this.runner.writeStates(this.plan, h0, c0);
  }

  /** The current state, as (numStates, B, H) tensors. */
  state(): { h: Tensor; c?: Tensor } {
    this.check();
    // after a step the final slot has been copied back into the initial slot
    return { h: this.runner.gatherStates(this.plan, 'h', (s) => s.init)!, c: this.runner.gatherStates(this.plan, 'c', (s) => s.init) };
  }

  /** Ends this stream and releases its buffers. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    streams.unregister(this);
    if (!this.runner.isDisposed) this.runner.closeStreamPlan(this.plan);
  }

  private check(): void {
    if (this.closed) throw new StateError('Expected an open stream, got one that was closed');
    if (this.runner.isDisposed) throw new StateError('Expected a live model, got one whose memory was released by dispose()');
  }
}
