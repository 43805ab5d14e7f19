// The training loop the graph-based applications (ConditionalGenerator, Forecaster) share: one
// GraphModel.trainStep per batch of examples, epochs of a seeded permutation (so a resumed run
// draws the same batches: the order is a function of seed, epoch and step only), step / epoch /
// time budgets, validation every so often with early stopping on it (src/apps/common's
// EarlyStopping; the best parameters are restored when it stops the run), the common TerminateOnNaN
// guard (stops before the next step builds on a non-finite loss), progress callbacks, and an
// AbortSignal checked between steps. Unlike common's epoch loop it stops and resumes at any step,
// which the CLI's Ctrl-C checkpoints need.
import type { GraphModel } from '../graph/model';
import type { GraphBatch, LossOption } from '../graph/losses';
import type { Optimizer } from '../train/optim';
import { Rng } from '../params/rng';
import { ValueError } from '../errors';
import { checkKeys, positiveInt, seedValue } from './charlm/options';
import { EarlyStopping, isDiverged } from './common/controls';

/** Settings that shape a run (kept in checkpoints; a resumed run may not change them). */
export interface LoopSettings {
  /** Examples per batch (default 32). */
  batchSize: number;
  /** Adam learning rate (default 2e-3). */
  lr: number;
  /** Global gradient-norm clip (default 5). */
  clipNorm: number;
  /** Seed of the example order (default: the model's seed). */
  seed: number;
}

export interface LoopOptions extends Partial<LoopSettings> {
  /** Training steps (batches) in this call. At least one of steps, epochs and minutes is needed. */
  steps?: number;
  /** Passes over the training examples in this call. */
  epochs?: number;
  /** Wall-clock budget of this call in minutes. */
  minutes?: number;
  /** Validate every this many steps (default: once per epoch, and at the end). */
  evalEvery?: number;
  /** Early stopping: stop after this many validations without a new best validation loss and restore the best parameters (default: never). */
  patience?: number;
  /** Called after every step. */
  onProgress?: (p: LoopProgress) => void;
  /** Stops between steps; the call then resolves with stopped 'signal'. */
  signal?: AbortSignal;
}

export interface LoopProgress {
  step: number;
  epoch: number;
  /** The step this call stops at (steps or epochs budget), if any. */
  targetStep?: number;
  loss: number;
  examplesPerSecond: number;
  elapsedMs: number;
  etaMs: number;
  /** Validation loss, on the steps where it was measured. */
  validationLoss?: number;
}

export interface LoopResult {
  steps: number;
  totalSteps: number;
  /** 'nan': a non-finite training loss (the guard stopped before the next step); 'patience': early stopping (best parameters restored). */
  stopped: 'steps' | 'epochs' | 'time' | 'signal' | 'nan' | 'patience';
  /** Mean training loss over the last 50 steps of this call. */
  trainLoss: number;
  initialValidationLoss?: number;
  validationLoss?: number;
  bestValidationLoss?: number;
  elapsedMs: number;
}

export const LOOP_KEYS = ['steps', 'epochs', 'minutes', 'evalEvery', 'patience', 'onProgress', 'signal', 'batchSize', 'lr', 'clipNorm', 'seed'];
const SETTING_KEYS: (keyof LoopSettings)[] = ['batchSize', 'lr', 'clipNorm', 'seed'];

export interface LoopPlan {
  steps: number;
  epochs: number;
  ms: number;
  evalEvery: number;
  patience: number;
  onProgress?: (p: LoopProgress) => void;
  signal?: AbortSignal;
}

/** Validates the budgets and hooks of a call (`extra`: the application's own keys). */
export function checkLoop(o: LoopOptions, extra: readonly string[], what: string): LoopPlan {
  if (!o || typeof o !== 'object') throw new ValueError(`Expected ${what} options as an object, got ${String(o)}`);
  checkKeys(o, [...LOOP_KEYS, ...extra], `${what} option`);
  if (o.steps === undefined && o.epochs === undefined && o.minutes === undefined) throw new ValueError('Expected a budget: steps, epochs or minutes, got none');
  for (const k of ['steps', 'epochs'] as const) {
    const v = o[k];
    if (v !== undefined && !(Number.isInteger(v) && v >= 0)) throw new ValueError(`Expected ${k} to be a non-negative integer, got ${String(v)}`);
  }
  if (o.minutes !== undefined && !(typeof o.minutes === 'number' && o.minutes >= 0 && Number.isFinite(o.minutes))) throw new ValueError(`Expected minutes to be a finite number ≥ 0, got ${String(o.minutes)}`);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw new ValueError(`Expected onProgress to be a function, got ${typeof o.onProgress}`);
  if (o.signal !== undefined && !(typeof o.signal === 'object' && o.signal !== null && 'aborted' in o.signal)) throw new ValueError(`Expected signal to be an AbortSignal, got ${String(o.signal)}`);
  return {
    steps: o.steps ?? Infinity,
    epochs: o.epochs ?? Infinity,
    ms: o.minutes === undefined ? Infinity : o.minutes * 60_000,
    evalEvery: o.evalEvery === undefined ? 0 : positiveInt('evalEvery', o.evalEvery),
    patience: o.patience === undefined ? Infinity : positiveInt('patience', o.patience),
    onProgress: o.onProgress,
    signal: o.signal,
  };
}

function positiveNumber(name: string, v: unknown): number {
  if (!(typeof v === 'number' && Number.isFinite(v) && v > 0)) throw new ValueError(`Expected ${name} to be a positive finite number, got ${String(v)}`);
  return v;
}

/** Settings: given over stored (a checkpoint's, which must not change) over defaults. */
export function resolveLoopSettings(given: Partial<LoopSettings>, stored: LoopSettings | undefined, modelSeed: number): LoopSettings {
  if (stored) {
    for (const k of SETTING_KEYS) {
      if (given[k] !== undefined && given[k] !== stored[k]) throw new ValueError(`Expected ${k} ${String(stored[k])} (the checkpoint's, to resume the same run), got ${String(given[k])}`);
    }
    return { ...stored };
  }
  return {
    batchSize: positiveInt('batchSize', given.batchSize ?? 32, 1 << 16),
    lr: positiveNumber('lr', given.lr ?? 2e-3),
    clipNorm: positiveNumber('clipNorm', given.clipNorm ?? 5),
    seed: seedValue('seed', given.seed ?? modelSeed),
  };
}

/** The examples of batch `step` (0-based over the whole run): epoch e is a permutation seeded by (seed, e). */
export function batchIndices(n: number, batchSize: number, seed: number, step: number): { epoch: number; indices: number[] } {
  const perEpoch = Math.ceil(n / batchSize);
  const epoch = Math.floor(step / perEpoch);
  const b = step % perEpoch;
  const rng = new Rng((seed + Math.imul(epoch + 1, 0x9e3779b1)) >>> 0);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.nextU32() % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return { epoch, indices: order.slice(b * batchSize, Math.min(n, (b + 1) * batchSize)) };
}

export interface GraphLoop {
  model: GraphModel;
  optimizer: Optimizer;
  losses: Record<string, LossOption>;
  settings: LoopSettings;
  /** Steps taken before this call (updated in place after every step). */
  state: { step: number };
  examples: number;
  /** The batch of these example indices. */
  batch: (indices: number[]) => GraphBatch;
  /** Validation loss (null: no validation). */
  validate: (() => number) | null;
}

const now = () => performance.now();
const tick = () => new Promise<void>((r) => setTimeout(r, 0));

/** Runs the loop until a budget, the signal, early stopping or a non-finite loss stops it. */
export async function runGraphLoop(ctx: GraphLoop, run: LoopPlan): Promise<LoopResult> {
  const { model, optimizer, settings: s, state } = ctx;
  const perEpoch = Math.ceil(ctx.examples / s.batchSize);
  const start = state.step;
  const target = Math.min(start + run.steps, Number.isFinite(run.epochs) ? start + run.epochs * perEpoch : Infinity);
  const evalEvery = run.evalEvery || perEpoch;
  const t0 = now();
  let lastYield = t0;
  const initial = ctx.validate?.();
  const es = Number.isFinite(run.patience) && ctx.validate ? new EarlyStopping({ patience: run.patience, mode: 'min' }) : null;
  let bestParams: Record<string, Float32Array> | null = null;
  if (es && es.update(initial!, 0)) bestParams = model.stateDict();
  let best = initial ?? Infinity;
  let last = initial;
  const recent: number[] = [];
  let stopped: LoopResult['stopped'] = run.steps <= run.epochs * perEpoch ? 'steps' : 'epochs';
  for (;;) {
    if (run.signal?.aborted) { stopped = 'signal'; break; }
    if (state.step >= target) break;
    if (now() - t0 >= run.ms) { stopped = 'time'; break; }
    const { epoch, indices } = batchIndices(ctx.examples, s.batchSize, s.seed, state.step);
    const r = model.trainStep(ctx.batch(indices), { losses: ctx.losses, optimizer, clipNorm: s.clipNorm });
    state.step++;
    recent.push(r.loss);
    if (recent.length > 50) recent.shift();
    let val: number | undefined;
    if (ctx.validate && (state.step - start) % evalEvery === 0) {
      val = last = ctx.validate();
      best = Math.min(best, val);
      if (es?.update(val, state.step)) bestParams = model.stateDict();
    }
    const el = now() - t0;
    const done = state.step - start;
    run.onProgress?.({
      step: state.step, epoch, targetStep: Number.isFinite(target) ? target : undefined, loss: r.loss,
      examplesPerSecond: (done * s.batchSize) / (el / 1000), elapsedMs: el,
      etaMs: Math.min(Number.isFinite(target) ? ((target - state.step) * el) / done : Infinity, Math.max(0, run.ms - el)),
      validationLoss: val,
    });
    // the guard: a non-finite loss stops the run before another step builds on it
    if (isDiverged(r.loss)) { stopped = 'nan'; break; }
    if (es?.shouldStop) {
      stopped = 'patience';
      if (bestParams) model.loadStateDict(bestParams);
      break;
    }
    if (now() - lastYield > 50) {
      await tick(); // let signal handlers and timers run
      lastYield = now();
    }
  }
  const final = ctx.validate && (stopped === 'patience' || (state.step - start) % evalEvery !== 0) ? ctx.validate() : last;
  return {
    steps: state.step - start,
    totalSteps: state.step,
    stopped,
    trainLoss: recent.length ? recent.reduce((a, b) => a + b, 0) / recent.length : NaN,
    initialValidationLoss: initial,
    validationLoss: final,
    bestValidationLoss: ctx.validate ? Math.min(best, final ?? Infinity) : undefined,
    elapsedMs: now() - t0,
  };
}
