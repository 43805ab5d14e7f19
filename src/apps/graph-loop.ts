// The training loop every application shares (CharLM, SequenceClassifier, SequenceLabeler, Seq2Seq,
// ConditionalGenerator, Forecaster): one step per batch of examples, epochs of batches that are a
// function of (seed, epoch) only (so a resumed run draws the same batches) — or, for CharLM's
// windows of one long text, a batch stream whose position the application checkpoints — step / epoch /
// time budgets, validation every so often with early stopping on it (src/apps/common's
// EarlyStopping; the best parameters are restored when it stops the run), the common TerminateOnNaN
// guard (stops before the next step builds on a non-finite loss), progress callbacks, and an
// AbortSignal checked between steps. It stops and resumes at any step, which the CLI's Ctrl-C
// checkpoints need; the async driver yields to the event loop between steps so a SIGINT handler runs.
import type { GraphModel } from '../graph/model';
import type { GraphBatch, LossOption } from '../graph/losses';
import type { Optimizer } from '../train/optim';
import { Rng } from '../params/rng';
import { ValueError } from '../errors';
import { checkKeys } from '../options';
import { positiveInt, positiveNumber, seedValue } from '../ir/checks';
import { EarlyStopping, isDiverged, type EarlyStoppingOptions, type EpochLog, type LoopResult as EpochLoopResult, type StopReason } from './common/controls';

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

/**
 * Options of the graph applications' `train`: the budget of this call (steps, epochs, minutes), the run's
 * settings, validation cadence, early stopping, progress and an abort signal.
 */
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

/** What the graph applications' `train` reports after every step. */
export interface LoopProgress {
  /** Steps taken so far, counting earlier calls and checkpoints. */
  step: number;
  /** The epoch this step belongs to. */
  epoch: number;
  /** The step this call stops at (steps or epochs budget), if any. */
  targetStep?: number;
  /** Training loss of this step. */
  loss: number;
  /** Training examples per second over this call. */
  examplesPerSecond: number;
  /** Time spent in this call. */
  elapsedMs: number;
  /** Estimated remaining time of this call. */
  etaMs: number;
  /** Validation loss, on the steps where it was measured. */
  validationLoss?: number;
}

/** What the graph applications' `train` resolves with. */
export interface LoopResult {
  /** Steps taken in this call. */
  steps: number;
  /** Steps of the whole run, checkpoints included. */
  totalSteps: number;
  /** 'nan': a non-finite training loss (the guard stopped before the next step); 'patience': early stopping (best parameters restored). */
  stopped: 'steps' | 'epochs' | 'time' | 'signal' | 'nan' | 'patience';
  /** Mean training loss over the last 50 steps of this call. */
  trainLoss: number;
  /** Validation loss before this call. */
  initialValidationLoss?: number;
  /** Validation loss after this call. */
  validationLoss?: number;
  /** The best validation loss of the run. */
  bestValidationLoss?: number;
  /** With early stopping: the step whose validation was best (0: before the first step). */
  bestStep?: number;
  /** Time spent in this call. */
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


/** Settings: given over stored (a checkpoint's, which must not change) over defaults. */
export function resolveLoopSettings(given: Partial<LoopSettings>, stored: LoopSettings | undefined, modelSeed: number, defaults: Omit<LoopSettings, 'seed'> = { batchSize: 32, lr: 2e-3, clipNorm: 5 }): LoopSettings {
  if (stored) {
    for (const k of SETTING_KEYS) {
      if (given[k] !== undefined && given[k] !== stored[k]) throw new ValueError(`Expected ${k} ${String(stored[k])} (the checkpoint's, to resume the same run), got ${String(given[k])}`);
    }
    return { ...stored };
  }
  return {
    batchSize: positiveInt('batchSize', given.batchSize ?? defaults.batchSize, 1 << 16),
    lr: positiveNumber('lr', given.lr ?? defaults.lr),
    clipNorm: positiveNumber('clipNorm', given.clipNorm ?? defaults.clipNorm),
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

/**
 * One training step on the batch of these example indices (a streamed loop: an empty list, the step
 * draws its own batch); returns its loss (non-finite: the guard refused the update). A step that
 * returns a promise (a worker pool's) runs only under the async driver.
 */
export type StepFn = (indices: number[]) => number | Promise<number>;

/** The step of an application trained with GraphModel.trainStep (its own losses and one optimizer). */
export function graphStep(model: GraphModel, optimizer: Optimizer, losses: Record<string, LossOption>, clipNorm: number, batch: (indices: number[]) => GraphBatch): StepFn {
  return (indices) => model.trainStep(batch(indices), { losses, optimizer, clipNorm }).loss;
}

export interface TrainLoop {
  settings: LoopSettings;
  /** Steps taken before this call (updated in place after every step). */
  state: { step: number };
  /**
   * Training examples. Without examples and epochBatches the loop is streamed: it has no epochs, and
   * each step draws its own batch from a source whose position the application keeps in its
   * checkpoints (CharLM's windows of one text).
   */
  examples?: number;
  step: StepFn;
  /**
   * The batches of epoch e, a function of (settings.seed, e) only so that a resumed run draws the
   * same ones (default: a seeded permutation cut into batchSize). Every epoch has as many.
   */
  epochBatches?: (epoch: number) => number[][];
  /** Validation metric (null: no validation). */
  validate: (() => number) | null;
  /** A larger validation value is better (accuracy, F1); default: smaller (a loss). */
  higherIsBetter?: boolean;
  /** A copy of the trained parameters and what restores it (early stopping's best). */
  snapshot: () => unknown;
  restore: (s: unknown) => void;
  /** With early stopping, also end a run that its budget stopped with the best parameters (default: only a run that patience stopped). */
  restoreBestAtEnd?: boolean;
  /** Validate before the first step too, as the first candidate for the best (default true). */
  initialValidation?: boolean;
  /** Early stopping counts only improvements larger than this (default 0). */
  minDelta?: number;
}

const now = () => performance.now();
const tick = () => new Promise<void>((r) => setTimeout(r, 0));

/**
 * One run of the loop, a step at a time: next() takes one step (or decides to stop) and returns
 * whether the run goes on; result() ends it. The async driver yields to the event loop between
 * steps (so signals and timers run); the sync driver runs it to the end in one go.
 */
class LoopRun {
  private readonly perEpoch: number;
  private readonly start: number;
  private readonly target: number;
  private readonly evalEvery: number;
  private readonly t0 = now();
  private readonly es: EarlyStopping | null;
  private readonly initial: number | undefined;
  private bestParams: unknown = null;
  private best: number;
  private last: number | undefined;
  private readonly recent: number[] = [];
  private stopped: LoopResult['stopped'];
  private batches: { epoch: number; list: number[][] } | null = null;

  constructor(private readonly ctx: TrainLoop, private readonly run: LoopPlan) {
    this.perEpoch = batchesPerEpoch(ctx);
    if (this.perEpoch < 1) throw new ValueError('Expected at least one training batch per epoch, got none');
    if (this.perEpoch === Infinity && Number.isFinite(run.epochs)) throw new ValueError(`Expected a steps or minutes budget for a streamed loop (it has no epochs), got epochs ${run.epochs}`);
    this.start = ctx.state.step;
    this.target = Math.min(this.start + run.steps, Number.isFinite(run.epochs) ? this.start + run.epochs * this.perEpoch : Infinity);
    this.evalEvery = run.evalEvery || this.perEpoch;
    this.initial = ctx.initialValidation === false ? undefined : ctx.validate?.();
    const mode = ctx.higherIsBetter ? 'max' : 'min';
    this.es = Number.isFinite(run.patience) && ctx.validate ? new EarlyStopping({ patience: run.patience, mode, minDelta: ctx.minDelta }) : null;
    if (this.es && this.initial !== undefined && this.es.update(this.initial, this.start)) this.bestParams = ctx.snapshot();
    this.best = this.initial ?? (ctx.higherIsBetter ? -Infinity : Infinity);
    this.last = this.initial;
    this.stopped = run.steps <= run.epochs * this.perEpoch ? 'steps' : 'epochs';
  }

  /** The example indices of batch `step` (0-based over the whole run). */
  private batchAt(step: number): { epoch: number; indices: number[] } {
    const { ctx } = this;
    if (this.perEpoch === Infinity) return { epoch: 0, indices: [] };
    if (!ctx.epochBatches) return batchIndices(ctx.examples!, ctx.settings.batchSize, ctx.settings.seed, step);
    const epoch = Math.floor(step / this.perEpoch);
    if (this.batches?.epoch !== epoch) this.batches = { epoch, list: ctx.epochBatches(epoch) };
    return { epoch, indices: this.batches.list[step % this.perEpoch] };
  }

  /** The batch of the next step, or null when the run is over (call result()). */
  begin(): { epoch: number; indices: number[] } | null {
    const { ctx, run } = this;
    if (run.signal?.aborted) return this.stop('signal');
    if (ctx.state.step >= this.target) return null;
    if (now() - this.t0 >= run.ms) return this.stop('time');
    return this.batchAt(ctx.state.step);
  }

  /** Records the step just taken (its loss); false when the run is over (call result()). */
  end(epoch: number, loss: number): boolean {
    const { ctx, run } = this;
    const { state } = ctx;
    state.step++;
    this.recent.push(loss);
    if (this.recent.length > 50) this.recent.shift();
    let val: number | undefined;
    if (ctx.validate && (state.step - this.start) % this.evalEvery === 0) {
      val = this.last = ctx.validate();
      this.best = ctx.higherIsBetter ? Math.max(this.best, val) : Math.min(this.best, val);
      if (this.es?.update(val, state.step)) this.bestParams = ctx.snapshot();
    }
    const el = now() - this.t0;
    const done = state.step - this.start;
    const target = this.target;
    run.onProgress?.({
      step: state.step, epoch, targetStep: Number.isFinite(target) ? target : undefined, loss,
      examplesPerSecond: (done * ctx.settings.batchSize) / (el / 1000), elapsedMs: el,
      etaMs: Math.min(Number.isFinite(target) ? ((target - state.step) * el) / done : Infinity, Math.max(0, run.ms - el)),
      validationLoss: val,
    });
    // the guard: a non-finite loss stops the run before another step builds on it
    if (isDiverged(loss)) this.stopped = 'nan';
    else if (this.es?.shouldStop) this.stopped = 'patience';
    else return true;
    return false;
  }

  private stop(why: LoopResult['stopped']): null {
    this.stopped = why;
    return null;
  }

  result(): LoopResult {
    const { ctx } = this;
    const { state } = ctx;
    // early stopping ends with the best parameters (also after a divergence, and with restoreBestAtEnd after
    // the budget); a run stopped by its signal keeps its current parameters: they are the checkpoint's
    const restore = this.bestParams !== null && this.stopped !== 'signal' && (this.stopped === 'patience' || this.stopped === 'nan' || ctx.restoreBestAtEnd === true);
    if (restore) ctx.restore(this.bestParams);
    const final = ctx.validate && (restore || (state.step - this.start) % this.evalEvery !== 0) ? ctx.validate() : this.last;
    const best = ctx.validate ? (ctx.higherIsBetter ? Math.max(this.best, final ?? -Infinity) : Math.min(this.best, final ?? Infinity)) : undefined;
    return {
      steps: state.step - this.start,
      totalSteps: state.step,
      stopped: this.stopped,
      trainLoss: this.recent.length ? this.recent.reduce((a, b) => a + b, 0) / this.recent.length : NaN,
      initialValidationLoss: this.initial,
      validationLoss: final,
      bestValidationLoss: best,
      bestStep: this.es && this.bestParams !== null ? this.es.bestEpoch : undefined,
      elapsedMs: now() - this.t0,
    };
  }
}

/** Runs the loop until a budget, the signal, early stopping or a non-finite loss stops it, yielding to the event loop between steps. */
export async function runLoop(ctx: TrainLoop, run: LoopPlan): Promise<LoopResult> {
  const r = new LoopRun(ctx, run);
  let lastYield = now();
  for (let b = r.begin(); b; b = r.begin()) {
    const loss = ctx.step(b.indices);
    if (!r.end(b.epoch, typeof loss === 'number' ? loss : await loss)) break;
    if (now() - lastYield > 50) {
      await tick(); // let signal handlers and timers run
      lastYield = now();
    }
  }
  return r.result();
}

/** The same loop run to its end without yielding (the synchronous fit() of the classifier and labeler). */
export function runLoopSync(ctx: TrainLoop, run: LoopPlan): LoopResult {
  const r = new LoopRun(ctx, run);
  for (let b = r.begin(); b; b = r.begin()) {
    const loss = ctx.step(b.indices);
    if (typeof loss !== 'number') throw new ValueError('Expected a synchronous training step in a synchronous loop, got one that returns a promise');
    if (!r.end(b.epoch, loss)) break;
  }
  return r.result();
}

/** Batches per epoch: Infinity for a streamed loop (no examples, no epochBatches). */
function batchesPerEpoch(ctx: TrainLoop): number {
  if (ctx.epochBatches) return ctx.epochBatches(0).length;
  return ctx.examples === undefined ? Infinity : Math.ceil(ctx.examples / ctx.settings.batchSize);
}

export interface EpochFitOptions {
  epochs: number;
  /** Early stopping on the validation metric (patience and minDelta in epochs). */
  earlyStopping?: EarlyStoppingOptions;
  /** Called after every epoch; returning false stops training. */
  onEpoch?: (log: EpochLog) => void | boolean;
}

/**
 * The epoch-shaped fit() of the classifier and labeler on the same loop, run synchronously: one
 * validation per epoch, patience in epochs, the best epoch's parameters kept at the end, and a
 * history of per-epoch mean losses. Each call is its own run (state and optimizer are the caller's).
 */
export function fitEpochs(ctx: Omit<TrainLoop, 'higherIsBetter' | 'restoreBestAtEnd' | 'initialValidation' | 'minDelta'>, o: EpochFitOptions): EpochLoopResult {
  if (!Number.isInteger(o.epochs) || o.epochs < 1) throw new ValueError(`Expected epochs to be an integer >= 1, got ${String(o.epochs)}`);
  const es = o.earlyStopping && ctx.validate ? new EarlyStopping(o.earlyStopping) : null; // validates the options
  const history: EpochLog[] = [];
  const ac = new AbortController();
  let sum = 0;
  let n = 0;
  const perEpoch = batchesPerEpoch(ctx);
  const start = ctx.state.step;
  const r = runLoopSync({ ...ctx, higherIsBetter: (es?.mode ?? 'max') === 'max', minDelta: es?.minDelta, restoreBestAtEnd: true, initialValidation: false }, {
    steps: Infinity, epochs: o.epochs, ms: Infinity, evalEvery: 0, patience: es ? es.patience : Infinity, signal: ac.signal,
    onProgress: (p) => {
      sum += p.loss;
      n++;
      if ((p.step - start) % perEpoch !== 0 || !Number.isFinite(p.loss)) return;
      const log: EpochLog = { epoch: (p.step - start) / perEpoch - 1, loss: sum / n };
      if (p.validationLoss !== undefined) log.metric = p.validationLoss;
      sum = n = 0;
      history.push(log);
      if (o.onEpoch?.(log) === false) ac.abort();
    },
  });
  const stopReason: StopReason = r.stopped === 'patience' ? 'earlyStopping' : r.stopped === 'nan' ? 'nan' : r.stopped === 'signal' ? 'aborted' : 'epochs';
  const bestEpoch = r.bestStep !== undefined && r.bestStep > start ? (r.bestStep - start) / perEpoch - 1 : history.length - 1;
  return { history, stopReason, bestEpoch };
}
