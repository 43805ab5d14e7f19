// Models: a standalone recurrent layer (RNN, LSTM, GRU, MinGRU, MinLSTM) or a Sequential stack. Both own one
// parameter arena and compile to programs; the API is PyTorch-shaped (parameters by name).
import { runtime } from '../wasm/load';
import { Runner, checkOptionsObject, describe, type RunOptions, type RunResult } from './runner';
import { Stream, type StreamOptions } from './stream';
import type { Module } from '../layers/module';
import { CELLS, isCellKind } from '../layers/cells';
import { RecurrentCore, type GRUOptions, type LSTMOptions, type MinGRUOptions, type MinLSTMOptions, type RNNOptions } from '../layers/recurrent';
import type { CellKind } from '../layers/cells';
import { DropoutModule, EmbeddingModule, LinearModule, SoftmaxModule, type EmbeddingOptions, type LinearOptions } from '../layers/dense';
import { Tensor } from '../tensor';
import { ShapeError, StateError, ValueError, show } from '../errors';
import { checkOptions, keysOf } from '../options';
import { checkLimit } from '../limits';
import { fit, evaluateDataset, checkExamples, FIT_KEYS, type Example, type FitOptions, type History, type ModelLike } from './fit';
import { checkLoss } from './contract';
import { Trainer, STEP_KEYS, type Batch, type LossKind, type StepOptions, type StepResult } from './trainer';
import { Tape, type BackwardGradients, type BackwardResult, type KeepOptions } from './backward';
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

/** What a model holds in wasm memory: released by dispose(), or when the model is garbage-collected. */
interface Resources {
  runner: Runner;
  trainer: Trainer | null;
  tape: Tape | null;
}
function release(res: Resources): void {
  if (res.tape && !res.runner.isDisposed) res.tape.dispose();
  res.tape = null;
  if (res.trainer && !res.runner.isDisposed) res.trainer.dispose();
  res.trainer = null;
  res.runner.dispose();
}
// The safety net for models that are never disposed: their wasm blocks go back to the heap.
const models = new FinalizationRegistry<Resources>(release);

/**
 * What every layer and `Sequential` is: forward, streams, training steps, the public backward, parameters and
 * `dispose()`.
 */
export abstract class Model {
  /** @internal the compiled graph, parameter arena and plans (used by io/ and train/). */
  readonly runner: Runner;
  private readonly res: Resources;
  protected constructor(runner: Runner) {
    this.runner = runner;
    this.res = { runner, trainer: null, tape: null };
    models.register(this, this.res, this);
  }

  private getTape(): Tape {
    if (!this.res.tape) this.res.tape = new Tape(this.runner, this.getTrainer().grad);
    return this.res.tape;
  }

  /**
   * Backpropagates outside gradients through the last forward(x, { keep: true }): dOutput (shaped
   * like its output), dhN, dcN (shaped like its hN, cN), each optional (zeros). Every parameter's
   * gradient is ADDED to the gradient arena (read with gradient(name); reset with zeroGrad()).
   * Returns dx (float inputs), dh0, dc0. One kept forward allows one backward.
   */
  backward(grads: BackwardGradients): BackwardResult {
    return this.getTape().backward(grads);
  }

  /** Sets every accumulated parameter gradient to 0. */
  zeroGrad(): void {
    this.getTape().zeroGrad();
  }

  /**
   * One optimizer step on the accumulated gradients (after optional global-norm and value
   * clipping, as trainStep does); returns the pre-clip global gradient norm. Gradients are kept:
   * call zeroGrad() before the next accumulation.
   */
  step(optimizer: Optimizer, opts: { clipNorm?: number; clipValue?: number } = {}): number {
    return this.getTape().step(optimizer, opts);
  }

  private getTrainer(): Trainer {
    if (this.runner.isDisposed) throw new StateError('Expected a live model, got one whose memory was released by dispose()');
    this.checkNotQuantized('training');
    if (!this.res.trainer) this.res.trainer = new Trainer(this.runner);
    return this.res.trainer;
  }

  /**
   * One training step: forward, loss, backward (BPTT inside wasm), global-norm clip, optimizer.
   * With `tbptt: k` the batch is processed in chunks of k steps (one update per chunk), states
   * carried across chunks without backpropagating through the boundary.
   */
  trainStep(batch: Batch, opts: StepOptions): StepResult {
    checkOptions(opts ?? null, STEP_KEYS, 'trainStep options');
    return this.getTrainer().step(batch, opts);
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
    let out = r.inFeatures;
    for (const mod of r.modules) {
      if (mod.kind === 'softmax' || mod.kind === 'logSoftmax') break;
      out = mod.outFeatures(out);
    }
    return {
      inputKind: r.inputKind,
      inFeatures: r.inFeatures,
      outFeatures: out,
      batchFirst: r.batchFirst,
      trainStep: (b, o) => this.getTrainer().step(b, o), // fit's options were checked by fit()
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
    return this.getTrainer().evaluate(batch, opts.loss, opts.training === true);
  }

  /**
   * Gradients of the loss w.r.t. the initial states (h0, and c0 for LSTM) of the last
   * evaluate/trainStep chunk, (numStates, B, H): how much the first step still matters.
   */
  initialStateGradients(): { dh0: Tensor; dc0?: Tensor } {
    return this.getTrainer().stateGradients();
  }

  /** Gradient of a parameter: from the last evaluate (exact), or the last trainStep (after clipping). */
  gradient(name: string): Float32Array {
    return this.getTrainer().gradient(name);
  }

  /**
   * Runs the whole sequence (one wasm call). With `keep: true` the activations are kept for
   * backward() (and `training: true` draws dropout masks as a training step does).
   */
  forward(x: Tensor<Float32Array> | Tensor<Int32Array>, opts: KeepOptions = {}): RunResult {
    checkOptions(opts, FORWARD_KEEP_KEYS, 'forward options');
    opts ??= {};
    if (opts.keep !== undefined && typeof opts.keep !== 'boolean') throw new ValueError(`Expected keep to be a boolean, got ${show(opts.keep)}`);
    if (opts.keep) {
      if (this.runner.isDisposed) throw new StateError('Expected a live model, got one whose memory was released by dispose()');
      return this.getTape().forward(x, opts);
    }
    if (opts.training !== undefined) throw new ValueError(`Expected training only together with keep: true, got training: ${show(opts.training)}`);
    return this.runner.run(x, opts);
  }

  /**
   * Opens a streaming session: one time step of the whole stack per `step()` call. At batch 1 the
   * step reads packed copies of the weights (see StreamOptions.packed).
   */
  stream(opts: StreamOptions = {}): Stream {
    checkOptions(opts, STREAM_KEYS, 'stream options');
    if (this.runner.isDisposed) throw new StateError('Expected a live model, got one whose memory was released by dispose()');
    return new Stream(this.runner, opts?.batchSize ?? 1, this, opts?.packed);
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
    return this.runner.arena.get(name);
  }
  /** Overwrites one parameter (validated: dtype, size, finite values). */
  setParameter(name: string, values: Float32Array | ArrayLike<number>): void {
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
    models.unregister(this);
    release(this.res);
  }
}

abstract class RecurrentModel extends Model {
  /** @internal the layer itself: cell, layout and kernels (what Sequential and the graph build from too). */
  readonly core: RecurrentCore;
  protected constructor(core: RecurrentCore, seed?: number) {
    super(new Runner(runtime(), [core], core.inputSize, core.batchFirst, false, seed));
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
  rnn: (o: RNNOptions): Module => new RecurrentCore('rnn', o),
  /** An LSTM layer. */
  lstm: (o: LSTMOptions): Module => new RecurrentCore('lstm', o),
  /** A GRU layer. */
  gru: (o: GRUOptions): Module => new RecurrentCore('gru', o),
  /** A minGRU layer. */
  minGRU: (o: MinGRUOptions): Module => new RecurrentCore('mingru', o),
  /** A minLSTM layer. */
  minLSTM: (o: MinLSTMOptions): Module => new RecurrentCore('minlstm', o),
  /** A linear layer over every step (or over vectors). */
  linear: (o: LinearOptions): Module => new LinearModule(o),
  /** The same as `linear` (the Keras name). */
  dense: (o: LinearOptions): Module => new LinearModule(o),
  /** An embedding of token ids; first layer only (the input is then `(T, B)` Int32 ids). */
  embedding: (o: EmbeddingOptions): Module => new EmbeddingModule(o),
  /** Inverted dropout with probability `p` in training; the identity at inference. */
  dropout: (o: { p: number }): Module => new DropoutModule(o),
  /** Softmax over the features (folded into a crossEntropy loss in training). */
  softmax: (): Module => new SoftmaxModule('softmax'),
  /** Log-softmax over the features (folded into a crossEntropy loss in training). */
  logSoftmax: (): Module => new SoftmaxModule('logSoftmax'),
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
  readonly layers: readonly Module[];
  constructor(mods: Module[], opts: SequentialOptions = {}) {
    checkOptions(opts, SEQUENTIAL_KEYS, 'Sequential options');
    opts = opts ?? {};
    if (!Array.isArray(mods) || mods.length === 0) throw new ValueError(`Expected a non-empty array of layers, got ${show(mods)}`);
    mods.forEach((m, i) => {
      if (!m || typeof (m as Module).emit !== 'function') throw new ValueError(`Expected layers[${i}] from layers.*(), got ${show(m)}`);
      if (i > 0 && m.inputKind === 'ids') throw new ValueError(`Expected embedding only as the first layer, got it at index ${i}`);
      if (m instanceof RecurrentCore && m.batchFirst) throw new ValueError(`Expected batchFirst on the Sequential options, not on layers[${i}]`);
    });
    const first = mods[0];
    let inF =
      first.inputKind === 'ids'
        ? 1
        : first instanceof LinearModule
          ? first.inFeatures
          : first instanceof RecurrentCore
            ? first.inputSize
            : NaN;
    if (opts.inputSize !== undefined) {
      if (!Number.isInteger(opts.inputSize) || opts.inputSize < 1) throw new ValueError(`Expected inputSize to be a positive integer, got ${show(opts.inputSize)}`);
      if (!Number.isNaN(inF) && inF !== opts.inputSize) throw new ShapeError(`Expected inputSize ${inF} to match the first layer, got ${opts.inputSize}`);
      inF = opts.inputSize;
    }
    if (Number.isNaN(inF)) throw new ValueError(`Expected the inputSize option for a first layer of kind ${first.kind}, got none`);
    super(new Runner(runtime(), mods, inF, opts.batchFirst ?? false, true, opts.seed));
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
export function layerFromConfig(c: Record<string, unknown>): Module {
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
    case 'softmax':
    case 'logSoftmax':
      return new SoftmaxModule(type);
    default:
      throw new ValueError(`Expected a known layer type (rnn, lstm, gru, mingru, minlstm, linear, embedding, dropout, softmax, logSoftmax), got ${show(type)}`);
  }
}

/**
 * The layers a spec describes, built as plain objects (nothing allocated in wasm), and whether
 * they form a Sequential (parameter names prefixed `0.`, `1.`, …). Loaders size-check these
 * before building the model.
 */
export function modulesFromSpec(spec: ModelSpec): { modules: Module[]; sequential: boolean } {
  if (!spec || typeof spec !== 'object') throw new ValueError(`Expected a model spec object, got ${show(spec)}`);
  // spec.quantized is applied by the caller once the parameters are in (io/format.ts, parallel/replica.ts)
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
