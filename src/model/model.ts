// Models: a standalone recurrent layer (RNN, LSTM, GRU, MinGRU, MinLSTM) or a Sequential stack. Both are
// thin builders over the graph (issue 22: one engine): the chain graph of their modules
// (src/model/graph-adapter.ts) owns the parameter arena and compiles the programs, and the model
// translates its own layouts (batch-first tensors, (numStates, B, H) states, one loss on its output)
// at the boundary. The API is PyTorch-shaped (parameters by name).
import { Stream, type StreamOptions } from './stream';
import type { Layer, Module } from '../layers/module';
import { CELLS, isCellKind } from '../layers/cells';
import { RecurrentCore, type GRUOptions, type LSTMOptions, type MinGRUOptions, type MinLSTMOptions, type RNNOptions } from '../layers/recurrent';
import type { CellKind } from '../layers/cells';
import { DropoutModule, EmbeddingModule, LinearModule, SoftmaxModule, type EmbeddingOptions, type LinearOptions } from '../layers/dense';
import { Rwkv7Module, type Rwkv7LayerOptions } from '../layers/rwkv7';
import { Tensor } from '../tensor';
import { DTypeError, ShapeError, StateError, ValueError, show } from '../errors';
import { APPLY_STEP_KEYS, checkOptions, keysOf } from '../options';
import { checkLimit } from '../limits';
import { checkLengths, checkOptionsObject, checkState, describe } from '../ir/checks';
import { DEFAULT_SEED } from '../params/rng';
import { fit, evaluateDataset, checkExamples, FIT_KEYS, type Example, type FitOptions, type History, type ModelLike } from './fit';
import {
  checkBatch, checkLoss, checkStepOptions, BACKWARD_KEYS, STEP_KEYS,
  type BackwardGradients, type BackwardResult, type Batch, type KeepOptions, type LossKind, type RunResult, type StepOptions, type StepResult,
} from './contract';
import { ModelHost } from './host';
import { checkTrainable, gatherSlots, gatherStates, modelBatch, modelFeed, modelGraph, modelResult, scatterStates, swap01, timeMajor, type ModelGraph } from './graph-adapter';
import { withScannedValues } from '../graph/feed';
import type { Optimizer } from '../train/optim';

const FORWARD_KEEP_KEYS = keysOf<KeepOptions>()('lengths', 'h0', 'c0', 'keep', 'training');
const EVALUATE_KEYS = keysOf<{ loss: unknown; training?: boolean }>()('loss', 'training');
const EVALUATE_DATASET_KEYS = keysOf<{ loss: unknown; batchSize?: number }>()('loss', 'batchSize');
const STREAM_KEYS = keysOf<StreamOptions>()('batchSize', 'packed');
const SEQUENTIAL_KEYS = keysOf<SequentialOptions>()('inputSize', 'batchFirst', 'seed');

/** Name and shape of one parameter. */
export interface ParameterInfo {
  /** PyTorch-style name (`weight_ih_l0`; `1.weight_ih_l0` in a Sequential). */
  name: string;
  /** Its dimensions (`(G·H, I)` for `weight_ih_l{k}`). */
  shape: readonly number[];
}

/** A model's architecture as plain JSON (what a model file stores). */
export type ModelSpec = (
  | { type: 'sequential'; inputSize: number; batchFirst: boolean; layers: Record<string, unknown>[] }
  | { type: CellKind; config: Record<string, unknown> }
) & {
  /** 'int8': the weights were quantized (src/model/quantize.ts); the int8 copies are derived from the parameters. */
  quantized?: 'int8';
};

/** The chain graph of a layer's or Sequential's modules, checked before anything is allocated. */
function buildHost(modules: Layer[], inFeatures: number, batchFirst: boolean, prefixed: boolean, seed: number | undefined): ModelHost {
  // every check before the first allocation: a refused model takes no memory
  if (typeof batchFirst !== 'boolean') throw new ValueError(`Expected batchFirst to be a boolean, got ${describe(batchFirst)}`);
  if (seed !== undefined && (typeof seed !== 'number' || !Number.isSafeInteger(seed))) throw new ValueError(`Expected seed to be an integer, got ${describe(seed)}`);
  // shape propagation: every module validates its input width
  let f = inFeatures;
  for (const m of modules) f = m.outFeatures(f);
  const total = modules.reduce((a, m) => a + m.paramSpecs().reduce((x, s) => x + s.shape.reduce((p, d) => p * d, 1), 0), 0);
  checkLimit('maxParameters', total, 'a model with parameters');
  return new ModelHost(modelGraph(modules, inFeatures, batchFirst, prefixed, seed ?? DEFAULT_SEED), modules, inFeatures, batchFirst);
}

/**
 * What every layer and `Sequential` is: forward, streams, training steps, the public backward, parameters and
 * `dispose()`.
 */
export abstract class Model {
  /** @internal the model's graph and layouts (used by io/, train/ and the worker pool). */
  readonly runner: ModelHost;
  /** @internal whether the last kept forward is still waiting for its backward, and its batch. */
  private kept: { B: number; T: number } | null = null;
  /** Rows of the last evaluate/trainStep run (for its initial-state gradients). */
  private lastRows = 0;
  protected constructor(modules: Layer[], inFeatures: number, batchFirst: boolean, prefixed: boolean, seed?: number) {
    this.runner = buildHost(modules, inFeatures, batchFirst, prefixed, seed);
  }

  private get mg(): ModelGraph {
    return this.runner.mg;
  }

  private live(): void {
    if (this.runner.isDisposed) throw new StateError('Expected a live model, got one whose memory was released by dispose()');
  }

  /**
   * Backpropagates outside gradients through the last forward(x, { keep: true }): dOutput (shaped
   * like its output), dhN, dcN (shaped like its hN, cN), each optional (zeros). Every parameter's
   * gradient is ADDED to the gradient arena (read with gradient(name); reset with zeroGrad()).
   * Returns dx (float inputs), dh0, dc0. One kept forward allows one backward.
   */
  backward(grads: BackwardGradients): BackwardResult {
    this.live();
    this.checkNotQuantized('training');
    const k = this.kept;
    if (!k) throw new StateError('Expected forward(x, { keep: true }) before backward(), got no kept forward (each kept forward allows one backward)');
    const r = this.runner;
    if (grads === null || typeof grads !== 'object' || Array.isArray(grads)) throw new ValueError(`Expected a gradients object { dOutput?, dhN?, dcN? }, got ${describe(grads)}`);
    checkOptions(grads, BACKWARD_KEYS, 'backward gradients');
    const { T, B } = k;
    const O = this.trainedOut(false);
    // validate everything before the first write
    let dOut: Float32Array | undefined;
    if (grads.dOutput !== undefined) {
      const want = r.batchFirst ? [B, T, O] : [T, B, O];
      dOut = grads.dOutput instanceof Tensor ? grads.dOutput.data as Float32Array : grads.dOutput;
      if (!(dOut instanceof Float32Array)) throw new DTypeError(`Expected dOutput as a Float32Array or float Tensor, got ${(grads.dOutput as object)?.constructor?.name ?? typeof grads.dOutput}`);
      if (grads.dOutput instanceof Tensor && grads.dOutput.shape.join() !== want.join()) {
        throw new ShapeError(`Expected dOutput of shape [${want.join(', ')}], got [${grads.dOutput.shape.join(', ')}]`);
      }
      checkState('dOutput', dOut, want[0], want[1], want[2]);
    }
    if (grads.dhN !== undefined) {
      if (!r.stateCount('h')) throw new ValueError('Expected no dhN for a model without recurrent layers, got dhN');
      checkState('dhN', grads.dhN, r.stateCount('h'), B, r.stateWidth('h'));
    }
    if (grads.dcN !== undefined) {
      if (!r.stateCount('c')) throw new ValueError('Expected no dcN for a model without LSTM layers, got dcN');
      checkState('dcN', grads.dcN, r.stateCount('c'), B, r.stateWidth('c'));
    }
    const mg = this.mg;
    const seeds: Record<string, Float32Array> = {
      ...scatterStates(mg, 'h', B, grads.dhN, (p) => p.output),
      ...scatterStates(mg, 'c', B, grads.dcN, (p) => p.output),
    };
    if (dOut) seeds.output = timeMajor(mg, dOut, T, B, O);
    this.kept = null;
    let d: Record<string, Tensor>;
    try {
      d = withScannedValues(() => mg.graph.backward(seeds));
    } catch (e) {
      if (e instanceof StateError && /parameters written since/.test(e.message)) {
        throw new StateError('Expected backward() on the activations of the last kept forward, got parameters written since that forward (setParameter, loadStateDict, a training or optimizer step): run forward(x, { keep: true }) again');
      }
      throw e;
    }
    const out: BackwardResult = {};
    if (r.inputKind === 'float') {
      const F = r.inFeatures;
      const dx = d.x.data as Float32Array;
      out.dx = new Tensor(r.batchFirst ? (T > 1 ? swap01(dx, T, B, F) : dx) : dx, r.batchFirst ? [B, T, F] : [T, B, F]);
    }
    const dh0 = gatherStates(mg, 'h', B, (p) => d[p.input].data as Float32Array);
    const dc0 = gatherStates(mg, 'c', B, (p) => d[p.input].data as Float32Array);
    if (dh0) out.dh0 = dh0;
    if (dc0) out.dc0 = dc0;
    return out;
  }

  /** Sets every accumulated parameter gradient to 0. */
  zeroGrad(): void {
    this.live();
    this.checkNotQuantized('training');
    this.mg.graph.zeroGrad();
  }

  /**
   * One optimizer step on the accumulated gradients (after optional global-norm and value
   * clipping, as trainStep does); returns the pre-clip global gradient norm. Gradients are kept:
   * call zeroGrad() before the next accumulation.
   */
  step(optimizer: Optimizer, opts: { clipNorm?: number; clipValue?: number } = {}): number {
    this.live();
    this.checkNotQuantized('training');
    if (!optimizer || typeof (optimizer as Optimizer).apply !== 'function') throw new ValueError(`Expected an optimizer (new Adam(), SGD, …), got ${show(optimizer)}`);
    checkOptions(opts, APPLY_STEP_KEYS, 'step options');
    return this.mg.graph.step(optimizer, opts ?? {});
  }

  /** Width of what the loss (training) or the output (forward) reads: a trailing softmax is folded into the loss. */
  private trainedOut(trained: boolean): number {
    let f = this.runner.inFeatures;
    for (const m of this.runner.modules) {
      if (trained && (m.kind === 'softmax' || m.kind === 'logSoftmax')) break;
      f = m.outFeatures(f);
    }
    return f;
  }

  /**
   * One training step: forward, loss, backward (BPTT inside wasm), global-norm clip, optimizer.
   * With `tbptt: k` the batch is processed in chunks of k steps (one update per chunk), states
   * carried across chunks without backpropagating through the boundary.
   */
  trainStep(batch: Batch, opts: StepOptions): StepResult {
    checkOptions(opts ?? null, STEP_KEYS, 'trainStep options');
    return this.step_(batch, opts);
  }

  private step_(batch: Batch, o: StepOptions): StepResult {
    this.live();
    this.checkNotQuantized('training');
    checkTrainable(this.runner.modules);
    // the whole call is checked before its first side effect: options, the learning rate of
    // every chunk's update, the batch (every chunk reads a slice of it)
    if (o === null || typeof o !== 'object') throw new ValueError(`Expected step options { loss, optimizer }, got ${o === null ? 'null' : typeof o}`);
    const r = this.runner;
    const { T, B, lengths, O } = checkBatch(r, batch, o.loss);
    // tbptt is compared with T only once it is a number (checkStepOptions names a bad one)
    const k = typeof o.tbptt === 'number' && o.tbptt && o.tbptt < T ? o.tbptt : T;
    checkStepOptions(o, r.arena, Math.ceil(T / k));
    const res = withScannedValues(() => this.mg.graph.trainStep(modelBatch(this.mg, batch, T, B, lengths, O, o.loss), {
      losses: { [this.mg.trained]: o.loss }, optimizer: o.optimizer, clipNorm: o.clipNorm, clipValue: o.clipValue,
      tbptt: k < T ? k : undefined, onNonFinite: o.onNonFinite,
    }));
    this.lastRows = B;
    return { loss: res.loss, gradNorm: res.gradNorm, skipped: res.skipped };
  }

  /** Trains on variable-length examples for some epochs (batched, padded, masked, shuffled). */
  fit(data: Example[], opts: FitOptions): Promise<History> {
    try {
      checkOptions(opts ?? null, FIT_KEYS, 'fit options');
    } catch (e) {
      return Promise.reject(e);
    }
    return fit(this.fitView(), data, opts);
  }

  /** Mean loss over a list of examples, batched like fit. */
  evaluateDataset(data: Example[], opts: { loss: LossKind; batchSize?: number }): number {
    checkOptions(opts ?? null, EVALUATE_DATASET_KEYS, 'evaluateDataset options');
    checkLoss(opts.loss);
    const batchSize = opts.batchSize ?? 32;
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new ValueError(`Expected batchSize to be a positive integer, got ${describe(opts.batchSize)}`);
    const v = this.fitView();
    checkExamples(v, data, opts.loss, 'data');
    return evaluateDataset(v, data, opts.loss, batchSize);
  }

  private fitView(): ModelLike {
    const r = this.runner;
    return {
      inputKind: r.inputKind,
      inFeatures: r.inFeatures,
      outFeatures: this.trainedOut(true),
      batchFirst: r.batchFirst,
      trainStep: (b, o) => this.step_(b, o), // fit's options were checked by fit()
      evaluate: (b, o) => this.evaluate(b, o),
    };
  }

  /**
   * Mean loss of a batch; parameters are not changed. Dropout is off (PyTorch's eval mode) unless
   * `training: true`, which draws masks as a training step does (and advances the dropout RNG).
   * The gradients of the loss stay readable through gradient() and initialStateGradients().
   */
  evaluate(batch: Batch, opts: { loss: LossKind; training?: boolean }): number {
    checkOptions(opts ?? null, EVALUATE_KEYS, 'evaluate options');
    if (opts.training !== undefined && typeof opts.training !== 'boolean') throw new ValueError(`Expected training to be a boolean, got ${describe(opts.training)}`);
    this.live();
    this.checkNotQuantized('training');
    checkTrainable(this.runner.modules);
    checkLoss(opts.loss);
    const { T, B, lengths, O } = checkBatch(this.runner, batch, opts.loss);
    const res = withScannedValues(() => this.mg.graph.evaluate(modelBatch(this.mg, batch, T, B, lengths, O, opts.loss), { losses: { [this.mg.trained]: opts.loss }, training: opts.training === true }));
    this.lastRows = B;
    return res.loss;
  }

  /**
   * Gradients of the loss w.r.t. the initial states (h0, and c0 for LSTM) of the last
   * evaluate/trainStep chunk, (numStates, B, H): how much the first step still matters.
   */
  initialStateGradients(): { dh0: Tensor; dc0?: Tensor } {
    this.live();
    this.checkNotQuantized('training');
    const g = this.mg.graph;
    const blocks = (kind: 'h' | 'c') => (p: { node: string }) => g.initialStateGradients(p.node, kind) ?? [];
    if (!this.lastRows || !g.hasTrainingRun) throw new ValueError('Expected a trainStep or evaluate before asking for state gradients, got none');
    return { dh0: gatherSlots(this.mg, 'h', this.lastRows, blocks('h'))!, dc0: gatherSlots(this.mg, 'c', this.lastRows, blocks('c')) };
  }

  /** Gradient of a parameter: from the last evaluate (exact), or the last trainStep (after clipping). */
  gradient(name: string): Float32Array {
    this.live();
    this.checkNotQuantized('training');
    return this.mg.graph.gradient(name);
  }

  /**
   * Runs the whole sequence (one wasm call). With `keep: true` the activations are kept for
   * backward() (and `training: true` draws dropout masks as a training step does).
   */
  forward(x: Tensor<Float32Array> | Tensor<Int32Array>, opts: KeepOptions = {}): RunResult {
    checkOptions(opts, FORWARD_KEEP_KEYS, 'forward options');
    opts ??= {};
    if (opts.keep !== undefined && typeof opts.keep !== 'boolean') throw new ValueError(`Expected keep to be a boolean, got ${show(opts.keep)}`);
    if (!opts.keep && opts.training !== undefined) throw new ValueError(`Expected training only together with keep: true, got training: ${show(opts.training)}`);
    if (opts.training !== undefined && typeof opts.training !== 'boolean') throw new ValueError(`Expected training to be a boolean, got ${show(opts.training)}`);
    this.live();
    if (opts.keep) this.checkNotQuantized('training');
    checkOptionsObject(opts, 'forward options');
    const r = this.runner;
    const { T, B } = r.inputDims(x);
    const lengths = checkLengths(opts.lengths, T, B);
    r.checkStates(opts.h0, opts.c0, B);
    const outs = withScannedValues(() => this.mg.graph.forward(modelFeed(this.mg, x, T, B, lengths, opts.h0, opts.c0), opts.keep ? { keep: true, training: opts.training === true } : {}));
    this.kept = opts.keep ? { T, B } : this.kept;
    return modelResult(this.mg, outs, T, B);
  }

  /**
   * Opens a streaming session: one time step of the whole stack per `step()` call. At batch 1 the
   * step reads packed copies of the weights (see StreamOptions.packed).
   */
  stream(opts: StreamOptions = {}): Stream {
    checkOptions(opts, STREAM_KEYS, 'stream options');
    this.live();
    return new Stream(this.runner, opts?.batchSize ?? 1, opts?.packed);
  }

  /** Parameter names and shapes, in arena order (PyTorch names). */
  parameters(): ParameterInfo[] {
    return this.runner.arena.entries().map((e) => ({ name: e.name, shape: e.shape }));
  }
  /** Total number of scalar parameters. */
  get numParameters(): number {
    return this.runner.arena.entries().reduce((a, e) => a + e.size, 0);
  }
  /** A copy of one parameter. */
  getParameter(name: string): Float32Array {
    this.live();
    return this.runner.arena.get(name);
  }
  /** Overwrites one parameter (validated: dtype, size, finite values). */
  setParameter(name: string, values: Float32Array | ArrayLike<number>): void {
    this.live();
    this.checkNotQuantized('setParameter');
    this.runner.arena.set(name, values);
  }
  /** Every parameter as name → copy (a PyTorch-style state dict). */
  stateDict(): Record<string, Float32Array> {
    const out: Record<string, Float32Array> = {};
    for (const e of this.runner.arena.entries()) out[e.name] = this.runner.arena.get(e.name);
    return out;
  }
  /** Loads a state dict: every name must exist and match; nothing is written unless all are valid. */
  loadStateDict(sd: Record<string, Float32Array | ArrayLike<number>>): void {
    this.live();
    this.checkNotQuantized('loadStateDict');
    if (sd === null || typeof sd !== 'object' || Array.isArray(sd) || ArrayBuffer.isView(sd)) {
      throw new ValueError(`Expected a state dict (an object of name → values), got ${describe(sd)}`);
    }
    const names = new Set(this.runner.arena.entries().map((e) => e.name));
    for (const k of Object.keys(sd)) if (!names.has(k)) throw new ValueError(`Expected parameter names of this model, got unknown ${k}`);
    for (const n of names) if (!Object.prototype.hasOwnProperty.call(sd, n)) throw new ValueError(`Expected a value for every parameter, got none for ${n}`);
    // all-or-nothing: validate every tensor before the first write
    for (const e of this.runner.arena.entries()) this.runner.arena.validate(e.name, sd[e.name]);
    for (const e of this.runner.arena.entries()) this.runner.arena.set(e.name, sd[e.name]);
  }
  /** The architecture as plain JSON; `modelFromSpec` rebuilds an equal model. */
  abstract spec(): ModelSpec;

  /** 'int8' after quantize(model, { weights: 'int8' }), else null. */
  get quantized(): 'int8' | null {
    return this.runner.quantized ? 'int8' : null;
  }
  /** The spec with the quantization marker (what files and worker replicas rebuild from). */
  protected withQuant<S extends ModelSpec>(s: S): S {
    return this.runner.quantized ? { ...s, quantized: 'int8' } : s;
  }
  private checkNotQuantized(what: string): void {
    if (this.runner.quantized) throw new StateError(`Expected a model with f32 weights for ${what}, got one quantized to int8 (inference only)`);
  }

  /** Releases this model's wasm memory (parameters and cached activations) for reuse. */
  dispose(): void {
    this.kept = null;
    this.mg.graph.dispose();
  }
}

abstract class RecurrentModel extends Model {
  /** @internal the layer itself: cell, layout and kernels (what Sequential and the graph build from too). */
  readonly core: RecurrentCore;
  protected constructor(core: RecurrentCore, seed?: number) {
    super([core], core.inputSize, core.batchFirst, false, seed);
    this.core = core;
  }
  /** Input features I. */
  get inputSize(): number {
    return this.core.inputSize;
  }
  /** Hidden units H of each layer and direction. */
  get hiddenSize(): number {
    return this.core.hiddenSize;
  }
  /** Stacked layers. */
  get numLayers(): number {
    return this.core.numLayers;
  }
  /** Whether each layer has a reverse direction. */
  get bidirectional(): boolean {
    return this.core.bidirectional;
  }
  /** The options that rebuild this layer (what its model file stores). */
  config(): Record<string, unknown> {
    return this.core.config();
  }
  spec(): ModelSpec {
    return this.withQuant({ type: this.core.kind, config: this.core.config() });
  }
}

/** Vanilla (Elman) RNN: h_t = f(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), f = tanh or relu. */
export class RNN extends RecurrentModel {
  constructor(o: RNNOptions) {
    super(new RecurrentCore('rnn', o), o?.seed);
  }
}
/** LSTM, gate order i,f,g,o; optional peepholes and cell clip. */
export class LSTM extends RecurrentModel {
  constructor(o: LSTMOptions) {
    super(new RecurrentCore('lstm', o), o?.seed);
  }
}
/** GRU, gate order r,z,n; `resetAfter` picks the PyTorch (true, default) or Cho et al. form. */
export class GRU extends RecurrentModel {
  constructor(o: GRUOptions) {
    super(new RecurrentCore('gru', o), o?.seed);
  }
}

/** minGRU (Feng et al. 2024): z = σ(W_z x + b_z), h = (1 − z)⊙h_{t-1} + z⊙(W_h x + b_h); no weight_hh,
 *  gate order z,h. `logSpace` picks the paper's log-space variant. */
export class MinGRU extends RecurrentModel {
  constructor(o: MinGRUOptions) {
    super(new RecurrentCore('mingru', o), o?.seed);
  }
}
/** minLSTM (Feng et al. 2024): f, i = σ(W x + b), h = f/(f+i)⊙h_{t-1} + i/(f+i)⊙(W_h x + b_h); no
 *  weight_hh and no cell state, gate order f,i,h. `logSpace` picks the paper's log-space variant. */
export class MinLSTM extends RecurrentModel {
  constructor(o: MinLSTMOptions) {
    super(new RecurrentCore('minlstm', o), o?.seed);
  }
}

/** The standalone model class of each cell kind (what modelFromSpec rebuilds). */
const MODEL_CLASSES: Record<CellKind, new (o: never) => RecurrentModel> = { rnn: RNN, lstm: LSTM, gru: GRU, mingru: MinGRU, minlstm: MinLSTM };

/** Layer factories for Sequential. */
export const layers = {
  /** A vanilla RNN layer. */
  rnn: (o: RNNOptions): Layer => new RecurrentCore('rnn', o),
  /** An LSTM layer. */
  lstm: (o: LSTMOptions): Layer => new RecurrentCore('lstm', o),
  /** A GRU layer. */
  gru: (o: GRUOptions): Layer => new RecurrentCore('gru', o),
  /** A minGRU layer. */
  minGRU: (o: MinGRUOptions): Layer => new RecurrentCore('mingru', o),
  /** A minLSTM layer. */
  minLSTM: (o: MinLSTMOptions): Layer => new RecurrentCore('minlstm', o),
  /**
   * A stack of RWKV-7 blocks (ln0, per block the time mix with its delta-rule state and the channel
   * mix, then ln_out) of width `inputSize` (or `dim`), as the graph's `graph.rwkv7` node: parameters
   * `<index>.blocks.0.att.key.weight`, … under the RWKV7 model's names with its official
   * initialisation. Every run starts from the zero state; streams, tbptt chunks and the worker pool
   * carry it inside the graph's programs. It adds no slots to the model's `hN` / `cN` (nor takes `h0`
   * / `c0`): those describe the recurrent cells only.
   */
  rwkv7: (o: Rwkv7LayerOptions): Layer => new Rwkv7Module(o),
  /** A linear layer over every step (or over vectors). */
  linear: (o: LinearOptions): Layer => new LinearModule(o),
  /** The same as `linear` (the Keras name). */
  dense: (o: LinearOptions): Layer => new LinearModule(o),
  /** An embedding of token ids; first layer only (the input is then `(T, B)` Int32 ids). */
  embedding: (o: EmbeddingOptions): Layer => new EmbeddingModule(o),
  /** Inverted dropout with probability `p` in training; the identity at inference. */
  dropout: (o: { p: number }): Layer => new DropoutModule(o),
  /** Softmax over the features (folded into a crossEntropy loss in training). */
  softmax: (): Layer => new SoftmaxModule('softmax'),
  /** Log-softmax over the features (folded into a crossEntropy loss in training). */
  logSoftmax: (): Layer => new SoftmaxModule('logSoftmax'),
};

/** Options of a {@link Sequential} stack. */
export interface SequentialOptions {
  /** Input features; needed when the first layer does not fix it (dropout, softmax). */
  inputSize?: number;
  /** Inputs/outputs (B, T, …) instead of time-major (T, B, …) (default false). */
  batchFirst?: boolean;
  /** Initialiser seed of every layer (and of the dropout generator). */
  seed?: number;
}

/**
 * A stack of layers; shapes are propagated (and checked) at construction. Parameter names are
 * prefixed with the layer index as in PyTorch's nn.Sequential (`1.weight_ih_l0`).
 */
export class Sequential extends Model {
  /** The layers, in order. */
  readonly layers: readonly Layer[];
  constructor(mods: Layer[], opts: SequentialOptions = {}) {
    checkOptions(opts, SEQUENTIAL_KEYS, 'Sequential options');
    opts = opts ?? {};
    if (!Array.isArray(mods) || mods.length === 0) throw new ValueError(`Expected a non-empty array of layers, got ${show(mods)}`);
    mods.forEach((m, i) => {
      if (!m || (typeof (m as Module).emit !== 'function' && !(m instanceof Rwkv7Module))) throw new ValueError(`Expected layers[${i}] from layers.*(), got ${show(m)}`);
      if (i > 0 && m.inputKind === 'ids') throw new ValueError(`Expected embedding only as the first layer, got it at index ${i}`);
      if (m instanceof RecurrentCore && m.batchFirst) throw new ValueError(`Expected batchFirst on the Sequential options, not on layers[${i}]`);
    });
    const first = mods[0];
    let inF =
      first.inputKind === 'ids'
        ? 1
        : first instanceof LinearModule
          ? first.inFeatures
          : first instanceof RecurrentCore || first instanceof Rwkv7Module
            ? first.inputSize
            : NaN;
    if (opts.inputSize !== undefined) {
      if (!Number.isInteger(opts.inputSize) || opts.inputSize < 1) throw new ValueError(`Expected inputSize to be a positive integer, got ${show(opts.inputSize)}`);
      if (!Number.isNaN(inF) && inF !== opts.inputSize) throw new ShapeError(`Expected inputSize ${inF} to match the first layer, got ${opts.inputSize}`);
      inF = opts.inputSize;
    }
    if (Number.isNaN(inF)) throw new ValueError(`Expected the inputSize option for a first layer of kind ${first.kind}, got none`);
    super(mods, inF, opts.batchFirst ?? false, true, opts.seed);
    this.layers = mods;
  }
  /** Output width of the whole stack. */
  get outFeatures(): number {
    let f = this.runner.inFeatures;
    for (const m of this.layers) f = m.outFeatures(f);
    return f;
  }
  /** Each layer's options, in order. */
  config(): Record<string, unknown>[] {
    return this.layers.map((m) => m.config());
  }
  spec(): ModelSpec {
    return this.withQuant({ type: 'sequential', inputSize: this.runner.inFeatures, batchFirst: this.runner.batchFirst, layers: this.config() });
  }
}

/** Builds one layer from its config() object; throws ValueError naming an unknown type. */
export function layerFromConfig(c: Record<string, unknown>): Layer {
  if (!c || typeof c !== 'object' || Array.isArray(c)) throw new ValueError(`Expected a layer config object, got ${c === null ? 'null' : typeof c}`);
  const { type, ...o } = c as { type: string } & Record<string, unknown>;
  if (isCellKind(type)) {
    // a config lists only its own cell's options; drop any other cell's (older files wrote them all)
    const opts = { ...o } as Record<string, unknown>;
    const own: readonly string[] = CELLS[type].optionKeys;
    for (const cell of Object.values(CELLS)) for (const k of cell.optionKeys) if (!own.includes(k)) delete opts[k];
    return new RecurrentCore(type, opts as never);
  }
  switch (type) {
    case 'linear':
      return new LinearModule(o as never);
    case 'embedding':
      return new EmbeddingModule(o as never);
    case 'dropout':
      return new DropoutModule(o as never);
    case 'rwkv7':
      return new Rwkv7Module(o as never);
    case 'softmax':
    case 'logSoftmax':
      return new SoftmaxModule(type);
    default:
      throw new ValueError(`Expected a known layer type (rnn, lstm, gru, mingru, minlstm, rwkv7, linear, embedding, dropout, softmax, logSoftmax), got ${show(type)}`);
  }
}

/**
 * The layers a spec describes, built as plain objects (nothing allocated in wasm), and whether
 * they form a Sequential (parameter names prefixed `0.`, `1.`, …). Loaders size-check these
 * before building the model.
 */
export function modulesFromSpec(spec: ModelSpec): { modules: Layer[]; sequential: boolean } {
  if (!spec || typeof spec !== 'object') throw new ValueError(`Expected a model spec object, got ${show(spec)}`);
  // spec.quantized is applied by the caller once the parameters are in (io/format.ts)
  if (spec.quantized !== undefined && spec.quantized !== 'int8') throw new ValueError(`Expected spec.quantized to be 'int8' or absent, got ${show(spec.quantized)}`);
  if (spec.type === 'sequential') {
    if (!Array.isArray(spec.layers)) throw new ValueError('Expected spec.layers to be an array, got none');
    checkLimit('maxLayers', spec.layers.length, 'the layers of spec.layers');
    return { modules: spec.layers.map(layerFromConfig), sequential: true };
  }
  if (isCellKind(spec.type)) {
    if (!spec.config || typeof spec.config !== 'object') throw new ValueError(`Expected spec.config to be an object, got ${show(spec.config)}`);
    return { modules: [layerFromConfig({ ...spec.config, type: spec.type })], sequential: false };
  }
  throw new ValueError(`Expected a model type (sequential, rnn, lstm, gru, mingru, minlstm), got ${show((spec as { type: unknown }).type)}`);
}

/** Rebuilds a model from its spec (initialisers run unless wrapped in withoutInitialisers). */
export function modelFromSpec(spec: ModelSpec): Model {
  const { modules, sequential } = modulesFromSpec(spec);
  if (sequential) {
    const s = spec as Extract<ModelSpec, { type: 'sequential' }>;
    return new Sequential(modules, { inputSize: s.inputSize, batchFirst: s.batchFirst });
  }
  const core = modules[0] as RecurrentCore;
  const Ctor = MODEL_CLASSES[core.kind];
  const { type: _type, ...o } = core.config(); // config() names its layer type; the options do not
  return new Ctor(o as never);
}
