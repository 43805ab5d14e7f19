// fit / evaluateDataset: epochs over a list of variable-length examples. Examples are grouped into
// batches (shuffled with a seeded RNG), padded to the longest sequence of the batch and masked
// with per-sequence lengths, then fed to trainStep. Yields to the event loop between batches so an
// AbortSignal (or a UI) can interrupt.
import { STEP_KEYS } from './contract';
import type { Batch, LossKind, StepOptions, StepResult } from './contract';
import { Tensor } from '../tensor';
import { Rng } from '../params/rng';
import { DTypeError, ShapeError, ValueError } from '../errors';
import { checkLimit } from '../limits';

import { keysOf } from '../options';

/**
 * One training example. `x`: (len, F) floats or (len) Int32 token ids. `y`: for crossEntropy,
 * (len) Int32 class ids (−1 = no label at that step), or a single id for many-to-one (the label
 * goes to the last step); for mse/bceWithLogits, (len, O) floats.
 */
export interface Example {
  /** Inputs: `(len, F)` floats or `(len)` Int32 token ids. */
  x: Float32Array | Int32Array;
  /**
   * Targets: `(len)` Int32 class ids (−1 = none) or one id for many-to-one, for crossEntropy; `(len, O)`
   * floats for mse and bceWithLogits.
   */
  y: Int32Array | Float32Array;
}

/**
 * Options of `fit`: a training step's options plus epochs, batching, shuffling, validation data, callbacks
 * and an abort signal.
 */
export interface FitOptions extends StepOptions {
  /** Passes over the examples (default 1). */
  epochs?: number;
  /** Examples per batch (default 32). */
  batchSize?: number;
  /** Shuffle example order each epoch (default true), with `seed`. */
  shuffle?: boolean;
  /** Seed of the shuffle. */
  seed?: number;
  /** Examples scored after every epoch (dropout off). */
  validationData?: Example[];
  /** Called after every batch with its loss and gradient norm. */
  onBatchEnd?: (info: { epoch: number; batch: number; loss: number; gradNorm: number }) => void;
  /** Called after every epoch with its mean loss and the validation loss (when validation data is given). */
  onEpochEnd?: (info: { epoch: number; loss: number; valLoss?: number }) => void;
  /** Stops training between batches; fit then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Option keys of fit. */
export const FIT_KEYS = keysOf<FitOptions>()(...STEP_KEYS, 'epochs', 'batchSize', 'shuffle', 'seed', 'validationData', 'onBatchEnd', 'onEpochEnd', 'signal');

/** What `fit` resolves with: each epoch's mean training loss and validation loss. */
export interface History {
  /** Mean training loss of each epoch. */
  loss: number[];
  /** Validation loss of each epoch (empty without validation data). */
  valLoss: number[];
}

export interface ModelLike {
  readonly inputKind: 'float' | 'ids';
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly batchFirst: boolean;
  trainStep(batch: Batch, o: StepOptions): StepResult;
  evaluate(batch: Batch, o: { loss: LossKind }): number;
}

/** Pads and masks examples [from, to) of `order` into one time-major (or batchFirst) batch. */
export function makeBatch(m: ModelLike, examples: Example[], order: number[], loss: LossKind): Batch {
  const B = order.length;
  const F = m.inFeatures;
  const O = m.outFeatures;
  const ids = m.inputKind === 'ids';
  const lens = order.map((i) => (ids ? examples[i].x.length : examples[i].x.length / F));
  const T = Math.max(...lens);
  const bf = m.batchFirst;
  // element offset of (t, b) in the batch layout
  const at = (t: number, b: number) => (bf ? b * T + t : t * B + b);
  const x = ids ? new Int32Array(T * B) : new Float32Array(T * B * F);
  const ce = loss === 'crossEntropy';
  const y = ce ? new Int32Array(T * B).fill(-1) : new Float32Array(T * B * O);
  order.forEach((i, b) => {
    const ex = examples[i];
    const len = lens[b];
    for (let t = 0; t < len; t++) {
      if (ids) x[at(t, b)] = ex.x[t];
      else (x as Float32Array).set((ex.x as Float32Array).subarray(t * F, (t + 1) * F), at(t, b) * F);
    }
    if (ce) {
      if (ex.y.length === 1 && len > 1) y[at(len - 1, b)] = ex.y[0];
      else for (let t = 0; t < len; t++) y[at(t, b)] = ex.y[t];
    } else {
      for (let t = 0; t < len; t++) (y as Float32Array).set((ex.y as Float32Array).subarray(t * O, (t + 1) * O), at(t, b) * O);
    }
  });
  const lead = bf ? [B, T] : [T, B];
  return {
    x: ids ? new Tensor(x as Int32Array, lead) : new Tensor(x as Float32Array, [...lead, F]),
    y: ce ? new Tensor(y as Int32Array, lead) : new Tensor(y as Float32Array, [...lead, O]),
    lengths: lens,
  };
}

/** Checks every example's types and sizes, naming the first bad one. */
export function checkExamples(m: ModelLike, examples: Example[], loss: LossKind, name: string): void {
  if (!Array.isArray(examples) || examples.length === 0) throw new ValueError(`Expected ${name} to be a non-empty array of { x, y } examples, got ${String(examples)}`);
  const F = m.inFeatures;
  const O = m.outFeatures;
  examples.forEach((ex, i) => {
    if (!ex || typeof ex !== 'object') throw new ValueError(`Expected ${name}[${i}] to be { x, y }, got ${String(ex)}`);
    const ids = m.inputKind === 'ids';
    if (ids ? !(ex.x instanceof Int32Array) : !(ex.x instanceof Float32Array)) {
      throw new DTypeError(`Expected ${name}[${i}].x as ${ids ? 'an Int32Array of token ids' : 'a Float32Array'}, got ${(ex.x as object)?.constructor?.name}`);
    }
    const len = ids ? ex.x.length : ex.x.length / F;
    if (!Number.isInteger(len) || len < 1) throw new ShapeError(`Expected ${name}[${i}].x to hold a whole number ≥ 1 of steps of ${F} features, got ${ex.x.length} values`);
    checkLimit('maxSequenceLength', len, `${name}[${i}].x with a sequence length`);
    if (loss === 'crossEntropy') {
      if (!(ex.y instanceof Int32Array)) throw new DTypeError(`Expected ${name}[${i}].y as an Int32Array of class ids, got ${(ex.y as object)?.constructor?.name}`);
      if (ex.y.length !== len && ex.y.length !== 1) throw new ShapeError(`Expected ${name}[${i}].y to have ${len} ids (one per step) or 1 (many-to-one), got ${ex.y.length}`);
    } else {
      if (!(ex.y instanceof Float32Array)) throw new DTypeError(`Expected ${name}[${i}].y as a Float32Array, got ${(ex.y as object)?.constructor?.name}`);
      if (ex.y.length !== len * O) throw new ShapeError(`Expected ${name}[${i}].y to have ${len}·${O} = ${len * O} values, got ${ex.y.length}`);
    }
  });
}

const yieldToEventLoop = (): Promise<void> =>
  new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));

/** Mean loss over a dataset (token-weighted by batch). */
export function evaluateDataset(m: ModelLike, examples: Example[], loss: LossKind, batchSize: number): number {
  let sum = 0;
  let n = 0;
  for (let s = 0; s < examples.length; s += batchSize) {
    const order = Array.from({ length: Math.min(batchSize, examples.length - s) }, (_, k) => s + k);
    const l = m.evaluate(makeBatch(m, examples, order, loss), { loss });
    sum += l * order.length;
    n += order.length;
  }
  return sum / n;
}

export async function fit(m: ModelLike, data: Example[], o: FitOptions): Promise<History> {
  if (o === null || typeof o !== 'object') throw new ValueError(`Expected fit options { loss, optimizer, … }, got ${o === null ? 'null' : typeof o}`);
  for (const k of ['onBatchEnd', 'onEpochEnd'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'function') throw new ValueError(`Expected ${k} to be a function, got ${typeof o[k]}`);
  }
  if (o.shuffle !== undefined && typeof o.shuffle !== 'boolean') throw new ValueError(`Expected shuffle to be a boolean, got ${String(o.shuffle)}`);
  if (o.seed !== undefined && !Number.isSafeInteger(o.seed)) throw new ValueError(`Expected seed to be an integer, got ${String(o.seed)}`);
  if (o.signal !== undefined && typeof (o.signal as AbortSignal)?.throwIfAborted !== 'function') throw new ValueError(`Expected signal to be an AbortSignal, got ${String(o.signal)}`);
  const epochs = o.epochs ?? 1;
  const batchSize = o.batchSize ?? 32;
  if (!Number.isInteger(epochs) || epochs < 1) throw new ValueError(`Expected epochs to be a positive integer, got ${String(epochs)}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ValueError(`Expected batchSize to be a positive integer, got ${String(batchSize)}`);
  checkExamples(m, data, o.loss, 'data');
  if (o.validationData !== undefined) checkExamples(m, o.validationData, o.loss, 'validationData');
  const rng = new Rng(o.seed ?? 0x5eed);
  const history: History = { loss: [], valLoss: [] };
  const order = data.map((_, i) => i);
  let lastYield = Date.now();
  for (let epoch = 0; epoch < epochs; epoch++) {
    if (o.shuffle ?? true) {
      for (let i = order.length - 1; i > 0; i--) {
        const j = rng.nextU32() % (i + 1);
        [order[i], order[j]] = [order[j], order[i]];
      }
    }
    let sum = 0;
    let n = 0;
    for (let s = 0, bi = 0; s < order.length; s += batchSize, bi++) {
      o.signal?.throwIfAborted();
      const idx = order.slice(s, s + batchSize);
      const r = m.trainStep(makeBatch(m, data, idx, o.loss), o);
      sum += r.loss * idx.length;
      n += idx.length;
      o.onBatchEnd?.({ epoch, batch: bi, loss: r.loss, gradNorm: r.gradNorm });
      if (Date.now() - lastYield > 15) {
        await yieldToEventLoop();
        lastYield = Date.now();
      }
    }
    o.signal?.throwIfAborted();
    history.loss.push(sum / n);
    let valLoss: number | undefined;
    if (o.validationData) {
      valLoss = evaluateDataset(m, o.validationData, o.loss, batchSize);
      history.valLoss.push(valLoss);
    }
    o.onEpochEnd?.({ epoch, loss: sum / n, valLoss });
    await yieldToEventLoop();
    lastYield = Date.now();
  }
  return history;
}
