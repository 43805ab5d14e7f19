// The streaming step API: one time step for the whole stack per call, the recurrent state kept in
// wasm memory between calls. Each step is one write, one run_program call and one read.
// Every stream owns its plan (so two streams of one model never share a state); close() releases
// it, and a stream that is dropped without close() is released when it is garbage-collected.
import type { Plan, Runner } from './runner';
import { Tensor } from '../tensor';
import { RecurrentCore } from '../layers/recurrent';
import { DTypeError, ShapeError, StateError, ValueError } from '../errors';

// Releases the plan of a stream that was garbage-collected while still open.
const streams = new FinalizationRegistry<{ runner: Runner; plan: Plan }>(({ runner, plan }) => {
  if (!runner.isDisposed) runner.closeStreamPlan(plan);
});

export class Stream {
  readonly batchSize: number;
  private readonly plan: Plan;
  private closed = false;

  /** `owner` (the model) is kept alive by the stream, so its memory stays while the stream is used. */
  constructor(private readonly runner: Runner, batchSize: number, private readonly owner?: object) {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new ValueError(`Expected batchSize to be a positive integer, got ${batchSize}`);
    for (const m of runner.modules) {
      if (m instanceof RecurrentCore && m.bidirectional) {
        throw new ValueError('Expected only unidirectional recurrent layers for streaming, got a bidirectional layer (its reverse pass needs the whole sequence)');
      }
    }
    this.batchSize = batchSize;
    this.plan = runner.openStreamPlan(batchSize);
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
