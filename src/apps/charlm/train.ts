// CharLM's training on the applications' shared loop (../graph-loop.ts): a streamed loop whose
// steps each draw the next batch of windows of the training text and take one trainStep (or one
// WorkerPool step) on it; budgets, periodic validation, early stopping, the non-finite guard,
// progress callbacks and the AbortSignal are the shared loop's. Everything a resumed run needs
// (step count, batch order, optimizer) is kept on the CharLM and written into its checkpoints.
import type { Model } from '../../model/model';
import type { Optimizer } from '../../train/optim';
import { WorkerPool } from '../../parallel/pool';
import { ValueError } from '../../errors';
import { Batches, type BatchOrderState } from './batches';
import { checkKeys, positiveInt, type TrainSettings } from './options';
import { runLoop as runSharedLoop, type LoopPlan } from '../graph-loop';

/**
 * Options of `CharLM.train`: the budget of this call (steps and/or minutes), the run's settings, validation,
 * workers, progress and an abort signal.
 */
export interface TrainOptions extends Partial<TrainSettings> {
  /** Batches (training steps) to run in this call. At least one of steps and minutes is needed. */
  steps?: number;
  /** Wall-clock budget of this call in minutes. */
  minutes?: number;
  /** Held-out text: a fraction of the text taken from its end (default 0.1), or a separate text. */
  validation?: number | string;
  /** Characters of the held-out text scored at each validation (default 20 000; 0 = all). */
  validationChars?: number;
  /** Validate every this many steps of this call (default: only before and after). */
  evalEvery?: number;
  /** Early stopping: stop after this many validations (every evalEvery steps) without a new best and restore the best parameters (default: never). */
  patience?: number;
  /** Worker threads for each step (WorkerPool, data parallel over the batch); default 1 (this thread). */
  workers?: number;
  /** Called after every step. */
  onProgress?: (p: TrainProgress) => void;
  /** Stops training between steps; train() then resolves with stopped 'signal'. */
  signal?: AbortSignal;
}

/** What `CharLM.train` reports after every step. */
export interface TrainProgress {
  /** Steps taken so far, counting earlier calls and checkpoints. */
  step: number;
  /** The step count this call stops at (steps budget), if any. */
  targetStep?: number;
  /** Training loss of this step (mean cross-entropy, nats) and as bits per character. */
  loss: number;
  /** The same loss in bits per character. */
  bitsPerChar: number;
  /** Training characters per second over this call. */
  charsPerSecond: number;
  /** Time spent in this call. */
  elapsedMs: number;
  /** Estimated remaining time of this call. */
  etaMs: number;
  /** Validation bits per character, on the steps where it was measured. */
  validationBitsPerChar?: number;
}

/** What `CharLM.train` resolves with. */
export interface TrainResult {
  /** Steps taken in this call, and in total. */
  steps: number;
  /** Steps of the whole run, checkpoints included. */
  totalSteps: number;
  /** What ended this call: the steps or time budget, the abort signal, a non-finite training loss ('nan'), or early stopping ('patience': best parameters restored). */
  stopped: 'steps' | 'time' | 'signal' | 'nan' | 'patience';
  /** Mean training bits per character over the last 50 steps of this call. */
  trainBitsPerChar: number;
  /** Validation bits per character before and after this call (absent without validation). */
  initialValidationBitsPerChar?: number;
  /** Validation bits per character after this call. */
  validationBitsPerChar?: number;
  /** With early stopping: the best validation bits per character. */
  bestValidationBitsPerChar?: number;
  /** With early stopping: the step of the best validation bits per character. */
  bestStep?: number;
  /** Time spent in this call. */
  elapsedMs: number;
}

/** What a CharLM keeps between train() calls and in checkpoints. */
/** A CharLM run's state kept in checkpoints: a resumed run continues it bit for bit. */
export interface TrainingState {
  /** The run's settings (a resumed run keeps them). */
  settings: TrainSettings;
  /** Steps taken so far. */
  step: number;
  /** Where the batch order stands. */
  order: BatchOrderState;
}

export const TRAIN_KEYS = ['steps', 'minutes', 'validation', 'validationChars', 'evalEvery', 'patience', 'workers', 'onProgress', 'signal', 'seqLen', 'batchSize', 'tbptt', 'order', 'lr', 'clipNorm', 'seed'];

/** Validated budgets and hooks of one train() call. */
export interface RunPlan extends Omit<LoopPlan, 'onProgress' | 'epochs'> {
  validation: number | string;
  validationChars: number;
  workers: number;
  onProgress?: (p: TrainProgress) => void;
}

export function checkRun(o: TrainOptions): RunPlan {
  if (!o || typeof o !== 'object') throw new ValueError(`Expected train options as an object, got ${String(o)}`);
  checkKeys(o, TRAIN_KEYS, 'train option');
  if (o.steps === undefined && o.minutes === undefined) throw new ValueError('Expected a budget: steps or minutes, got neither');
  if (o.steps !== undefined && !(Number.isInteger(o.steps) && o.steps >= 0)) throw new ValueError(`Expected steps to be a non-negative integer, got ${String(o.steps)}`);
  if (o.minutes !== undefined && !(typeof o.minutes === 'number' && o.minutes >= 0 && Number.isFinite(o.minutes))) throw new ValueError(`Expected minutes to be a finite number ≥ 0, got ${String(o.minutes)}`);
  const v = o.validation ?? 0.1;
  if (typeof v === 'number' ? !(v >= 0 && v < 1) : typeof v !== 'string') throw new ValueError(`Expected validation to be a fraction in [0, 1) or a text, got ${String(o.validation)}`);
  const vc = o.validationChars ?? 20_000;
  if (!(Number.isInteger(vc) && vc >= 0)) throw new ValueError(`Expected validationChars to be a non-negative integer, got ${String(o.validationChars)}`);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw new ValueError(`Expected onProgress to be a function, got ${typeof o.onProgress}`);
  if (o.signal !== undefined && !(typeof o.signal === 'object' && o.signal !== null && 'aborted' in o.signal)) throw new ValueError(`Expected signal to be an AbortSignal, got ${String(o.signal)}`);
  if (o.patience !== undefined && o.evalEvery === undefined) throw new ValueError(`Expected evalEvery with patience (early stopping counts validations), got patience ${String(o.patience)} alone`);
  return {
    steps: o.steps ?? Infinity,
    ms: o.minutes === undefined ? Infinity : o.minutes * 60_000,
    validation: v,
    validationChars: vc,
    evalEvery: o.evalEvery === undefined ? 0 : positiveInt('evalEvery', o.evalEvery),
    patience: o.patience === undefined ? Infinity : positiveInt('patience', o.patience),
    workers: o.workers === undefined ? 1 : positiveInt('workers', o.workers, 256),
    onProgress: o.onProgress,
    signal: o.signal,
  };
}

/** The training and validation id sequences of a call. */
export function splitText(ids: Int32Array, validation: number | string, encode: (s: string, arg: string) => Int32Array): { train: Int32Array; valid: Int32Array | null } {
  if (typeof validation === 'string') return { train: ids, valid: validation.length > 1 ? encode(validation, 'validation') : null };
  if (validation === 0) return { train: ids, valid: null };
  const cut = Math.floor(ids.length * (1 - validation));
  return { train: ids.subarray(0, cut), valid: ids.length - cut > 1 ? ids.subarray(cut) : null };
}

export interface LoopContext {
  model: Model;
  optimizer: Optimizer;
  state: TrainingState;
  batches: Batches;
  /** Validation bits per character (null: no validation). */
  validate: (() => number) | null;
}

/** Runs the shared loop, a batch of the stream per step; updates ctx.state (step, batch order) after every step. */
export async function runLoop(ctx: LoopContext, run: RunPlan): Promise<TrainResult> {
  const { model, optimizer, state, batches } = ctx;
  const s = state.settings;
  const stepOpts = { loss: 'crossEntropy' as const, optimizer, clipNorm: s.clipNorm, tbptt: s.tbptt < s.seqLen ? s.tbptt : undefined };
  if (run.workers > 1 && stepOpts.tbptt !== undefined) throw new ValueError(`Expected tbptt = seqLen with workers > 1 (the pool trains whole windows), got tbptt ${s.tbptt} < seqLen ${s.seqLen}`);
  const pool = run.workers > 1 ? await WorkerPool.create(model, { workers: run.workers }) : null;
  const taken = (r: { loss: number }) => {
    state.order = batches.state();
    return r.loss;
  };
  try {
    const r = await runSharedLoop({
      settings: s, state, validate: ctx.validate,
      // streamed: no examples; each step draws the next batch of windows
      step: () => {
        const batch = batches.next();
        return pool ? pool.trainStep(batch, stepOpts).then(taken) : taken(model.trainStep(batch, stepOpts));
      },
      snapshot: () => model.stateDict(),
      restore: (sd) => model.loadStateDict(sd as Record<string, Float32Array>),
    }, {
      ...run, epochs: Infinity,
      onProgress: run.onProgress && ((p) => run.onProgress!({
        step: p.step, targetStep: p.targetStep, loss: p.loss, bitsPerChar: p.loss / Math.LN2,
        charsPerSecond: p.examplesPerSecond * s.seqLen, elapsedMs: p.elapsedMs, etaMs: p.etaMs, validationBitsPerChar: p.validationLoss,
      })),
    });
    return {
      steps: r.steps, totalSteps: r.totalSteps, stopped: r.stopped as TrainResult['stopped'], trainBitsPerChar: r.trainLoss / Math.LN2,
      initialValidationBitsPerChar: r.initialValidationLoss, validationBitsPerChar: r.validationLoss,
      ...(r.bestStep === undefined ? {} : { bestValidationBitsPerChar: r.bestValidationLoss, bestStep: r.bestStep }),
      elapsedMs: r.elapsedMs,
    };
  } finally {
    await pool?.dispose();
  }
}
