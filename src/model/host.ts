// What a layer or Sequential is below its public API (issue 22: the graph is the only engine): the
// chain graph of its modules (src/model/graph-adapter.ts) and the model-side facts the checks, the
// files, quantize() and the worker pool read — its modules, input layout, state slots, and the
// graph's memory (runtime, parameter arena, dropout generator, int8 copies).
import type { Runtime } from '../wasm/load';
import type { Arena } from '../params/arena';
import type { Layer } from '../layers/module';
import { RecurrentCore } from '../layers/recurrent';
import { EmbeddingModule } from '../layers/dense';
import { Tensor } from '../tensor';
import { checkLimit } from '../limits';
import { checkState, describe } from '../ir/checks';
import { DTypeError, ShapeError, ValueError } from '../errors';
import type { Int8Host, QuantWeight } from './quantize';
import type { ModelGraph } from './graph-adapter';
import type { GraphModel } from '../graph/model';

/** @internal A layer's or Sequential's modules and layouts over the memory of its graph. */
export class ModelHost implements Int8Host {
  /** The graph the model runs on. */
  readonly graph: GraphModel;
  constructor(
    readonly mg: ModelGraph,
    readonly modules: Layer[],
    readonly inFeatures: number,
    readonly batchFirst: boolean,
  ) {
    this.graph = mg.graph;
  }

  get rt(): Runtime {
    return this.graph.runner.rt;
  }
  get arena(): Arena {
    return this.graph.runner.arena;
  }
  /** The dropout generator state (for checkpoints and the pool's shards). */
  get dropoutRngState(): [number, number, number, number] {
    return this.graph.runner.dropoutRngState;
  }
  set dropoutRngState(s: [number, number, number, number]) {
    this.graph.runner.dropoutRngState = s;
  }
  get quantized(): boolean {
    return this.graph.runner.quantized;
  }
  get isDisposed(): boolean {
    return this.graph.runner.isDisposed;
  }
  int8WeightNames(): string[] {
    return this.graph.runner.int8WeightNames();
  }
  setQuantized(q: Map<string, QuantWeight> | null): void {
    this.graph.runner.setQuantized(q);
  }
  /** Floats held by packed weight copies (0 when no plan or stream reads any). */
  get packedFloats(): number {
    return this.graph.packedFloats;
  }
  /** Cached compiled programs (for tests and diagnostics). */
  get cachedPlans(): number {
    return this.graph.cachedPlans;
  }
  /** Drops cached programs (their activations) but keeps parameters. */
  releaseWorkspace(): void {
    this.graph.releaseWorkspace();
  }

  get inputKind(): 'float' | 'ids' {
    return this.modules[0].inputKind;
  }

  /** Vocabulary size of a model whose first module is an embedding (ids in [0, numEmbeddings)). */
  get numEmbeddings(): number {
    const m = this.modules[0];
    if (!(m instanceof EmbeddingModule)) throw new ValueError(`Expected a model starting with an embedding, got ${m.kind}`);
    return m.numEmbeddings;
  }

  /** The recurrent modules that hold state of a kind (h: every recurrent layer; c: LSTMs). */
  private stateModules(kind: 'h' | 'c'): RecurrentCore[] {
    return this.modules.filter((m): m is RecurrentCore => m instanceof RecurrentCore && (kind === 'h' || m.cell.hasCellState));
  }

  /** Number of (layer, direction) state slots of a kind. */
  stateCount(kind: 'h' | 'c' = 'h'): number {
    return this.stateModules(kind).reduce((n, m) => n + m.numLayers * m.directions, 0);
  }

  /**
   * Width of a kind's state tensors (numStates, B, W): the largest hidden size among its layers.
   * When hidden sizes differ, a slot of a smaller layer uses the first H of each row (rest 0).
   */
  stateWidth(kind: 'h' | 'c' = 'h'): number {
    return Math.max(0, ...this.stateModules(kind).map((m) => m.hiddenSize));
  }

  /** Validates optional initial states for a batch of B. */
  checkStates(h0: Float32Array | undefined, c0: Float32Array | undefined, B: number): void {
    if (h0 !== undefined) {
      checkState('h0', h0, this.stateCount('h'), B, this.stateWidth('h'));
      this.checkLogSpaceStates(h0, B);
    }
    if (c0 !== undefined) {
      if (!this.stateCount('c')) throw new ValueError('Expected no c0 for a model without LSTM layers, got c0');
      checkState('c0', c0, this.stateCount('c'), B, this.stateWidth('c'));
    }
  }

  /** The log-space min cells keep log h: their slots of h0 must be >= 0 (log of a negative is NaN). */
  private checkLogSpaceStates(h0: Float32Array, B: number): void {
    const W = this.stateWidth('h');
    let slot = 0;
    for (const m of this.stateModules('h')) {
      const slots = m.numLayers * m.directions;
      if (m.logSpace) {
        for (let i = slot * B * W; i < (slot + slots) * B * W; i++) {
          if (h0[i] < 0) throw new ValueError(`Expected h0 >= 0 in the state slots of a logSpace ${m.kind} layer (slots ${slot}..${slot + slots - 1}), got ${h0[i]} at index ${i}`);
        }
      }
      slot += slots;
    }
  }

  /** (T, B) of an input tensor after checking rank, width, dtype and values. */
  inputDims(x: Tensor<Float32Array> | Tensor<Int32Array>): { T: number; B: number } {
    if (!(x instanceof Tensor)) throw new DTypeError(`Expected input x to be a Tensor (use tensor(data, shape)), got ${describe(x)}`);
    // checked here, at the point of use: a tensor's data may have been swapped after construction
    const n = x.shape.reduce((a, d) => a * d, 1);
    if (!ArrayBuffer.isView(x.data) || (x.data as Float32Array).length !== n) {
      throw new ShapeError(`Expected input x.data to hold ${n} elements for shape [${x.shape.join(', ')}], got ${ArrayBuffer.isView(x.data) ? (x.data as Float32Array).length : describe(x.data)}`);
    }
    const ids = this.inputKind === 'ids';
    const rank = ids ? 2 : 3;
    if (x.shape.length !== rank) {
      const want = ids ? (this.batchFirst ? '(B, T)' : '(T, B)') : this.batchFirst ? '(B, T, F)' : '(T, B, F)';
      throw new ShapeError(`Expected input x of rank ${rank} ${want}, got shape [${x.shape.join(', ')}]`);
    }
    const [d0, d1] = x.shape;
    const T = this.batchFirst ? d1 : d0;
    const B = this.batchFirst ? d0 : d1;
    if (T < 1 || B < 1) throw new ShapeError(`Expected at least one step and one sequence, got shape [${x.shape.join(', ')}]`);
    checkLimit('maxSequenceLength', T, 'input x with a sequence length T');
    if (ids) {
      if (!(x.data instanceof Int32Array)) throw new DTypeError(`Expected token ids as an Int32Array tensor, got ${x.data.constructor.name}`);
      const V = this.numEmbeddings;
      for (let i = 0; i < x.data.length; i++) {
        const v = x.data[i];
        if (v < 0 || v >= V) throw new ValueError(`Expected token ids in [0, ${V}), got ${v} at index ${i}`);
      }
    } else {
      if (!(x.data instanceof Float32Array)) throw new DTypeError(`Expected input x as a Float32Array tensor, got ${x.data.constructor.name}`);
      if (x.shape[2] !== this.inFeatures) {
        throw new ShapeError(`Expected input features ${this.inFeatures}, got ${x.shape[2]} (shape [${x.shape.join(', ')}])`);
      }
      const d = x.data;
      for (let i = 0; i < d.length; i++) {
        if (!Number.isFinite(d[i])) throw new ValueError(`Expected finite values in input x, got ${d[i]} at index ${i}`);
      }
    }
    return { T, B };
  }
}
