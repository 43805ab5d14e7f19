// The contract of a layer's or Sequential's calls, in one place for the model and the WorkerPool:
// the types of forward, backward and training in the model's own layouts, and the checks of the
// loss name, the step options (clipping, tbptt, onNonFinite, the optimizer and the learning rates
// its schedule gives for every update the call will make) and the batch (inputs, lengths, initial
// states, targets). Everything is checked before the first side effect of a call.
import type { Layer } from '../layers/module';
import { checkLengths, checkOptionsObject, describe } from '../ir/checks';
import type { Arena } from '../params/arena';
import { Optimizer } from '../train/optim';
import { Tensor } from '../tensor';
import { DTypeError, ShapeError, ValueError } from '../errors';
import { keysOf } from '../options';

/** Options of `forward`: per-sequence lengths and initial states. */
export interface RunOptions {
  /** Per-sequence lengths (B), each in [1, T]; steps beyond are padding. */
  lengths?: Int32Array | ArrayLike<number>;
  /** Initial hidden states, (numStates, B, H) where numStates = Σ layers·directions. */
  h0?: Float32Array;
  /** Initial cell states for LSTM layers, same shape as h0. */
  c0?: Float32Array;
}

/** Option keys of forward (a model's, and the worker pool's). */
export const RUN_KEYS = keysOf<RunOptions>()('lengths', 'h0', 'c0');

/** What `forward` returns: the output sequence and the final states (`cN` for LSTMs). */
export interface RunResult {
  /**
   * The output sequence: `(T, B, D·H)` with concatenated directions, else `(T, B, H)` (`(B, T, …)` when
   * batchFirst); 0 past each sequence's length.
   */
  output: Tensor;
  /**
   * Final hidden states `(numLayers·D, B, H)`, index `layer·D + direction`: each sequence's state at its last
   * valid step. They describe the recurrent cells only (undefined without any): an rwkv7 layer adds no
   * slots here, its state lives in the model's programs and streams.
   */
  hN: Tensor;
  /** Final cell states of an LSTM, laid out as `hN`. */
  cN?: Tensor;
}

/**
 * The losses: `crossEntropy` (softmax fused, Int32 class targets, −1 ignored), `mse` and `bceWithLogits`
 * (float targets shaped like the output).
 */
export type LossKind = 'crossEntropy' | 'mse' | 'bceWithLogits';

/**
 * One padded batch for `trainStep` and `evaluate`: inputs, targets, and optional lengths and initial states.
 */
export interface Batch {
  /** (T, B, F) floats or (T, B) Int32 token ids ((B, T, …) when the model is batchFirst). */
  x: Tensor<Float32Array> | Tensor<Int32Array>;
  /**
   * crossEntropy: (T, B) Int32 class ids, −1 = ignore (padding, or steps without a label);
   * mse / bceWithLogits: (T, B, O) floats.
   */
  y: Tensor<Int32Array> | Tensor<Float32Array>;
  /** Per-sequence lengths; steps past a sequence's length contribute nothing. */
  lengths?: ArrayLike<number>;
  /** Initial hidden states (numStates, B, H); zeros when absent. */
  h0?: Float32Array;
  /** Initial cell states of LSTM layers, same shape. */
  c0?: Float32Array;
}

/**
 * Options of a training step: the loss, the optimizer, clipping, truncated BPTT and what to do with a non-
 * finite loss.
 */
export interface StepOptions {
  /** The loss (a trailing softmax or logSoftmax layer is folded into `crossEntropy`). */
  loss: LossKind;
  /** The optimizer that takes the step (bound to the model on first use). */
  optimizer: Optimizer;
  /** Rescale gradients so their global L2 norm is at most this. */
  clipNorm?: number;
  /** Clamp every gradient to [−clipValue, clipValue] (after clipNorm). */
  clipValue?: number;
  /** Truncated BPTT: chunks of this many steps, states carried across chunks. */
  tbptt?: number;
  /**
   * When a gradient or an updated parameter is NaN/±Inf: 'throw' (default) restores the model,
   * optimizer and dropout generator to before the call and throws a NonFiniteError (a
   * ValueError); 'skip' restores them and returns `skipped: true`.
   */
  onNonFinite?: 'throw' | 'skip';
}

/** Option keys of trainStep (layers, Sequential and the worker pool). */
export const STEP_KEYS = keysOf<StepOptions>()('loss', 'optimizer', 'clipNorm', 'clipValue', 'tbptt', 'onNonFinite');

/** What a training step returns. */
export interface StepResult {
  /** Mean loss over the counted steps (or elements). */
  loss: number;
  /** Global L2 norm of the gradients before clipping (last chunk for tbptt). */
  gradNorm: number;
  /** True when the update was skipped (onNonFinite: 'skip'); nothing changed. */
  skipped: boolean;
}

/** Options of `forward`: a run's options plus keeping the activations for `backward()`. */
export interface KeepOptions extends RunOptions {
  /** Keep the activations for backward() (required for backward). */
  keep?: boolean;
  /** Draw dropout masks as a training step does (default false: dropout is the identity). */
  training?: boolean;
}

/** The upstream gradients `backward()` takes, each optional and shaped like `forward`'s results. */
export interface BackwardGradients {
  /** dL/d(output), in the output's layout ((T, B, O), or (B, T, O) when batchFirst); zeros when absent. */
  dOutput?: Tensor | Float32Array;
  /** dL/d(hN), (numStates, B, H) as forward's hN; zeros when absent. */
  dhN?: Float32Array;
  /** dL/d(cN) of the LSTM layers, as forward's cN; zeros when absent. */
  dcN?: Float32Array;
}

export const BACKWARD_KEYS = keysOf<BackwardGradients>()('dOutput', 'dhN', 'dcN');

/** What `backward()` returns: the gradients of the inputs and of the initial states. */
export interface BackwardResult {
  /** dL/dx in the input's layout (float inputs only; token ids have no gradient). */
  dx?: Tensor;
  /** dL/dh0, (numStates, B, H). */
  dh0?: Tensor;
  /** dL/dc0 of the LSTM layers. */
  dc0?: Tensor;
}

/** What the batch checks read of a model (a layer's or Sequential's ModelHost, src/model/host.ts). */
export interface CheckedModel {
  readonly inFeatures: number;
  readonly batchFirst: boolean;
  readonly modules: readonly Layer[];
  inputDims(x: Tensor<Float32Array> | Tensor<Int32Array>): { T: number; B: number };
  checkStates(h0: Float32Array | undefined, c0: Float32Array | undefined, B: number): void;
}

const LOSSES: readonly LossKind[] = ['crossEntropy', 'mse', 'bceWithLogits'];

/** Throws a ValueError unless `loss` names a loss. */
export function checkLoss(loss: unknown): asserts loss is LossKind {
  if (!LOSSES.includes(loss as LossKind)) throw new ValueError(`Expected loss 'crossEntropy', 'mse' or 'bceWithLogits', got ${describe(loss)}`);
}

/**
 * Checks the step options of a call that makes `updates` optimizer steps on `arena`: every value,
 * that the optimizer may be bound to this arena, and the learning rate of each of those steps.
 */
export function checkStepOptions(o: StepOptions, arena: Arena, updates: number): void {
  if (o === null || typeof o !== 'object') throw new ValueError(`Expected step options { loss, optimizer }, got ${describe(o)}`);
  checkLoss(o.loss);
  if (!(o.optimizer instanceof Optimizer)) throw new ValueError(`Expected an optimizer (new Adam(), SGD, …), got ${describe(o.optimizer)}`);
  for (const k of ['clipNorm', 'clipValue'] as const) {
    const v = o[k];
    if (v !== undefined && !(typeof v === 'number' && v > 0 && Number.isFinite(v))) throw new ValueError(`Expected ${k} to be a positive number, got ${describe(v)}`);
  }
  if (o.tbptt !== undefined && !(Number.isInteger(o.tbptt) && o.tbptt >= 1)) throw new ValueError(`Expected tbptt to be a positive integer, got ${describe(o.tbptt)}`);
  if (o.onNonFinite !== undefined && o.onNonFinite !== 'throw' && o.onNonFinite !== 'skip') {
    throw new ValueError(`Expected onNonFinite 'throw' or 'skip', got ${describe(o.onNonFinite)}`);
  }
  o.optimizer.checkBindable(arena);
  for (let i = 0; i < updates; i++) o.optimizer.checkedLr(o.optimizer.step + i);
}

/** Output width of the trained graph (a trailing softmax/logSoftmax is folded into the loss). */
export function trainedWidth(r: CheckedModel): number {
  let f = r.inFeatures;
  for (const mod of r.modules) {
    if (mod.kind === 'softmax' || mod.kind === 'logSoftmax') break;
    f = mod.outFeatures(f);
  }
  return f;
}

/** Checks a batch for a loss; returns its (T, B), lengths and output width. */
export function checkBatch(r: CheckedModel, batch: Batch, loss: LossKind): { T: number; B: number; lengths?: ArrayLike<number>; O: number } {
  checkLoss(loss);
  if (batch === null || typeof batch !== 'object') throw new ValueError(`Expected a batch { x, y, lengths? }, got ${describe(batch)}`);
  checkOptionsObject(batch, 'batch');
  const { T, B } = r.inputDims(batch.x);
  const lengths = checkLengths(batch.lengths, T, B);
  r.checkStates(batch.h0, batch.c0, B);
  const O = trainedWidth(r);
  const y = batch.y;
  if (!(y instanceof Tensor)) throw new DTypeError(`Expected targets y as a Tensor, got ${describe(y)}`);
  const lead = r.batchFirst ? [B, T] : [T, B];
  const shape = loss === 'crossEntropy' ? lead : [...lead, O];
  const ce = loss === 'crossEntropy';
  if (ce ? !(y.data instanceof Int32Array) : !(y.data instanceof Float32Array)) {
    throw new DTypeError(ce ? `Expected crossEntropy targets y as an Int32Array tensor of class ids, got ${describe(y.data)}` : `Expected ${loss} targets y as a Float32Array tensor, got ${describe(y.data)}`);
  }
  if (y.shape.length !== shape.length || y.shape.some((d, i) => d !== shape[i])) {
    throw new ShapeError(`Expected targets y of shape [${shape.join(', ')}], got [${y.shape.join(', ')}]`);
  }
  const n = shape.reduce((a, d) => a * d, 1);
  if (ce) {
    if (y.data.length !== n) throw new ShapeError(`Expected targets y.data to hold ${n} elements, got ${y.data.length}`);
    for (let i = 0; i < n; i++) {
      const v = y.data[i];
      if (v < -1 || v >= O) throw new ValueError(`Expected class ids in [0, ${O}) or −1 (ignore) in targets y, got ${v} at index ${i}`);
    }
  } else {
    if (y.data.length !== n) throw new ShapeError(`Expected targets y.data to hold ${n} elements, got ${y.data.length}`);
    for (let i = 0; i < n; i++) if (!Number.isFinite(y.data[i])) throw new ValueError(`Expected finite targets y, got ${y.data[i]} at index ${i}`);
  }
  return { T, B, lengths, O };
}
