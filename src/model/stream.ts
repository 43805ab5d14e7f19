// The streaming step API of a layer or Sequential: one time step for the whole stack per call, the
// recurrent state kept in wasm memory between calls — a stream of the model's graph
// (GraphModel.stream, src/graph/decoder.ts) in the model's own layouts: (B, F) steps in, (B, O)
// out, states as (numStates, B, H) tensors. Each step is one write, one run_program call and one
// read. Every stream owns its programs (two streams of one model never share a state); close()
// releases them, and a stream dropped without close() is released when it is garbage-collected.
// quantize() closes the model's open streams (their programs read the f32 weights in place).
// At batch 1 the step reads packed copies of the weights (src/model/packs.ts), refreshed before a
// step whenever the parameters were written since they were packed.
import type { Decoder } from '../graph/decoder';
import { withScannedValues } from '../graph/feed';
import type { ModelHost } from './host';
import { gatherSlots, stateFeed } from './graph-adapter';
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

/**
 * Steps a unidirectional model one time step at a time, keeping its own recurrent state between calls (from
 * `model.stream()`); each `step` is one wasm call for the whole stack. `close()` releases its memory.
 */
export class Stream {
  /** Sequences stepped together (B). */
  readonly batchSize: number;
  /** Whether the step reads packed weight copies (StreamOptions.packed). */
  readonly packed: boolean;
  /** Width of one step's output per sequence. */
  readonly outFeatures: number;
  private readonly dec: Decoder;
  private closed = false;

  /** @internal made by `model.stream()`. */
  constructor(private readonly host: ModelHost, batchSize: number, packed?: boolean) {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new ValueError(`Expected batchSize to be a positive integer, got ${show(batchSize)}`);
    if (packed !== undefined && typeof packed !== 'boolean') throw new ValueError(`Expected packed to be a boolean, got ${show(packed)}`);
    if (packed && batchSize !== 1) throw new ValueError(`Expected packed: true only with batchSize 1 (one row reads the packed copies), got batchSize ${batchSize}`);
    if (packed && host.quantized) throw new ValueError('Expected packed: true only for f32 weights, got a model quantized to int8 (its weights are read in place)');
    for (const m of host.modules) {
      if (m instanceof RecurrentCore && m.bidirectional) {
        throw new ValueError('Expected only unidirectional recurrent layers for streaming, got a bidirectional layer (its reverse pass needs the whole sequence)');
      }
    }
    const mg = host.mg;
    // the graph's state inputs are the stream's context; without any, the rows are the stream's own
    this.dec = mg.states.length
      ? mg.graph.stream({ context: stateFeed(mg, batchSize), packed })
      : mg.graph.stream({ batchSize, packed });
    this.batchSize = batchSize;
    this.packed = this.dec.packed;
    this.outFeatures = host.modules.reduce((f, m) => m.outFeatures(f), host.inFeatures);
  }

  /**
   * Feeds one step: x is (B, F) floats (or (B) token ids for a model starting with an embedding).
   * Returns the (B, outFeatures) output of this step (a copy).
   */
  step(x: Float32Array | Int32Array | ArrayLike<number>): Float32Array {
    this.check();
    const B = this.batchSize;
    if (this.host.inputKind === 'ids') {
      if (!(x instanceof Int32Array) && !(Array.isArray(x))) throw new DTypeError(`Expected token ids as an Int32Array or number array, got ${(x as object)?.constructor?.name}`);
      if (x.length !== B) throw new ShapeError(`Expected ${B} token ids (one per sequence), got ${x.length}`);
      const V = this.host.numEmbeddings;
      for (let i = 0; i < B; i++) {
        const v = x[i];
        if (!Number.isInteger(v) || v < 0 || v >= V) throw new ValueError(`Expected token ids in [0, ${V}), got ${v} at index ${i}`);
      }
    } else {
      const F = this.host.inFeatures;
      if (!(x instanceof Float32Array)) throw new DTypeError(`Expected a step input as a Float32Array (B·F = ${B * F}), got ${(x as object)?.constructor?.name}`);
      if (x.length !== B * F) throw new ShapeError(`Expected a step input of (${B}, ${F}) = ${B * F} elements, got ${x.length}`);
      for (let i = 0; i < x.length; i++) {
        if (!Number.isFinite(x[i])) throw new ValueError(`Expected finite values in the step input, got ${x[i]} at index ${i}`);
      }
    }
    return withScannedValues(() => this.dec.step(x)).output.data as Float32Array;
  }

  /** Resets the state to zeros, or to the given (numStates, B, H) initial states. */
  reset(h0?: Float32Array, c0?: Float32Array): void {
    this.check();
    this.host.checkStates(h0, c0, this.batchSize);
    const mg = this.host.mg;
    const feed = stateFeed(mg, this.batchSize, h0, c0);
    this.dec.reset(Object.fromEntries(Object.entries(feed).map(([k, t]) => [k, t.data as Float32Array])));
  }

  /** The current state, as (numStates, B, H) tensors. */
  state(): { h: Tensor; c?: Tensor } {
    this.check();
    const { mg } = this.host;
    const B = this.batchSize;
    return { h: gatherSlots(mg, 'h', B, (p) => this.dec.stateOf(p.node, 'h'))!, c: gatherSlots(mg, 'c', B, (p) => this.dec.stateOf(p.node, 'c')) };
  }

  /** Ends this stream and releases its buffers. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.dec.close();
  }

  private check(): void {
    if (this.closed) throw new StateError('Expected an open stream, got one that was closed');
    if (this.host.isDisposed) throw new StateError('Expected a live model, got one whose memory was released by dispose()');
    if (this.dec.closed) throw new StateError('Expected an open stream, got one closed by quantize() (its programs read the f32 weights): open a new stream');
  }
}
