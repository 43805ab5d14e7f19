// Trains an RWKV7 with a vocabulary as a language model on a text, on the applications' shared loop
// (src/apps/graph-loop.ts: budgets, validation every so often with early stopping, the non-finite
// guard, progress, an AbortSignal checked between steps, yielding to the event loop so a SIGINT
// handler or a worker's stop message runs). Each step draws seeded random windows of seqLen + 1
// tokens, takes forward and backward (Rwkv7Trainer) and one Adam update with global-norm clipping.
// The run — settings, step count, the window generator's words and Adam's moments — stays on the
// model (model.run) and goes into its file (file.ts), so a later call or a resumed file continues
// it bit for bit.
import { Rng } from '../params/rng';
import { Adam } from '../train/optim';
import { ValueError, show } from '../errors';
import { checkOptions, keysOf } from '../options';
import { positiveInt, positiveNumber, seedValue } from '../ir/checks';
import { checkLoop, runLoop, type LoopPlan } from '../apps/graph-loop';
import type { RWKV7 } from './model';
import { Rwkv7Trainer } from './train';
import { bitsPerCharRwkv7 } from './generate';

/** The settings that shape a run (kept with the model and in its file; a continued run keeps them). */
export interface Rwkv7TrainSettings {
  /** Tokens per window. */
  seqLen: number;
  /** Windows per batch. */
  batch: number;
  /** Adam learning rate. */
  lr: number;
  /** Global gradient-norm clip. */
  clipNorm: number;
  /** Seed of the window draws. */
  seed: number;
}
const DEFAULTS: Rwkv7TrainSettings = { seqLen: 64, batch: 16, lr: 0.002, clipNorm: 1, seed: 1 };
const SETTING_KEYS = Object.keys(DEFAULTS) as (keyof Rwkv7TrainSettings)[];

/**
 * @internal A run in progress, kept on the model between fitRwkv7 calls and in its file: the settings,
 * the steps taken, the window generator's state (xoshiro128** words) and the optimizer.
 */
export interface Rwkv7Run {
  settings: Rwkv7TrainSettings;
  step: number;
  rng: [number, number, number, number];
  optimizer: Adam;
}

/** Options of {@link fitRwkv7}: the budget of this call, the run's settings, validation, progress and an abort signal. */
export interface Rwkv7FitOptions extends Partial<Rwkv7TrainSettings> {
  /** Steps to take in this call (at least one of steps and minutes). */
  steps?: number;
  /** Stop after this many minutes of this call. */
  minutes?: number;
  /** Held-out text scored before and after training (bits per character), and every evalEvery steps. */
  validation?: string;
  /** With validation: score it every this many steps. */
  evalEvery?: number;
  /** With evalEvery: stop after this many validations without a new best and restore the best parameters. */
  patience?: number;
  /** Called after every step. */
  onProgress?: (p: Rwkv7FitProgress) => void;
  /** Stops between steps; the call then resolves with stopped 'signal' (the run continues with the next call). */
  signal?: AbortSignal;
}
const FIT_KEYS = keysOf<Rwkv7FitOptions>()('steps', 'minutes', 'seqLen', 'batch', 'lr', 'clipNorm', 'seed', 'validation', 'evalEvery', 'patience', 'onProgress', 'signal');

/** What {@link fitRwkv7} reports after every step. */
export interface Rwkv7FitProgress {
  /** Steps of the whole run so far (earlier calls and files included). */
  step: number;
  /** The step this call stops at (steps budget), if any. */
  targetStep?: number;
  /** Mean loss of this step (nats per token). */
  loss: number;
  /** Training tokens per second over this call. */
  tokensPerSecond: number;
  /** Time spent in this call. */
  elapsedMs: number;
  /** Estimated remaining time of this call. */
  etaMs: number;
  /** Validation bits per character, on the steps where it was measured. */
  validationBitsPerChar?: number;
}

/** What {@link fitRwkv7} did. */
export interface Rwkv7FitResult {
  /** Steps taken in this call. */
  steps: number;
  /** Steps of the whole run (earlier calls and files included). */
  totalSteps: number;
  /** What ended this call: the budget, the signal, a non-finite loss ('nan', no update from it), or early stopping ('patience': best parameters restored). */
  stopped: 'steps' | 'time' | 'signal' | 'nan' | 'patience';
  /** Mean loss (nats per token) of the last 50 steps of this call. */
  loss: number;
  /** Time spent. */
  elapsedMs: number;
  /** Validation bits per character before training (with `validation`). */
  initialValidationBitsPerChar?: number;
  /** Validation bits per character after training (with `validation`). */
  validationBitsPerChar?: number;
}

/** The run settings: a new run's from the options over the defaults; a continued run's must not change. */
function settingsOf(m: RWKV7, o: Rwkv7FitOptions): Rwkv7TrainSettings {
  const stored = m.run?.settings;
  if (stored) {
    for (const k of SETTING_KEYS) {
      if (o[k] !== undefined && o[k] !== stored[k]) throw new ValueError(`Expected ${k} ${stored[k]} (the model's run, to continue it), got ${show(o[k])}`);
    }
    return stored;
  }
  return {
    seqLen: positiveInt('seqLen', o.seqLen ?? DEFAULTS.seqLen),
    batch: positiveInt('batch', o.batch ?? DEFAULTS.batch, 1 << 16),
    lr: positiveNumber('lr', o.lr ?? DEFAULTS.lr),
    clipNorm: positiveNumber('clipNorm', o.clipNorm ?? DEFAULTS.clipNorm),
    seed: seedValue('seed', o.seed ?? DEFAULTS.seed),
  };
}

/**
 * Trains an RWKV7 that has a vocabulary as a language model on `text`: random windows of seqLen + 1
 * tokens, batches of `batch` windows, Adam with global-norm clipping, until the step or time budget,
 * the signal, early stopping or a non-finite loss. It yields to the event loop between steps. The run
 * stays on the model: a second call (or a call on the model read back from its file) continues it
 * with the same window order and optimizer moments, exactly as one longer call would have.
 */
export async function fitRwkv7(m: RWKV7, text: string, opts: Rwkv7FitOptions): Promise<Rwkv7FitResult> {
  checkOptions(opts, FIT_KEYS, 'fit options');
  if (!m.tokenizer) throw new ValueError('Expected an RWKV7 with a vocabulary to train on text, got none');
  if (typeof text !== 'string') throw new ValueError(`Expected the training text as a string, got ${show(text)}`);
  const { validation, onProgress, ...loopOpts } = opts;
  const plan: LoopPlan = checkLoop(loopOpts, ['seqLen', 'batch', 'lr', 'clipNorm', 'seed'], 'fit');
  if (onProgress !== undefined && typeof onProgress !== 'function') throw new ValueError(`Expected onProgress to be a function, got ${typeof onProgress}`);
  if (validation !== undefined && typeof validation !== 'string') throw new ValueError(`Expected validation to be a text, got ${show(validation)}`);
  if (plan.evalEvery > 0 && !validation) throw new ValueError(`Expected a validation text with evalEvery, got evalEvery ${opts.evalEvery} without one`);
  if (plan.patience !== Infinity && plan.evalEvery === 0) throw new ValueError(`Expected evalEvery with patience (early stopping counts validations), got patience ${opts.patience} alone`);
  const s = settingsOf(m, opts);
  const T = s.seqLen;
  const B = s.batch;
  const ids = m.tokenizer.encode(text);
  if (ids.length < T + 2) throw new ValueError(`Expected a training text of at least ${T + 2} tokens (seqLen ${T} + 2), got ${ids.length}`);
  const trainer = new Rwkv7Trainer(m, T, B);
  let run = m.run;
  if (!run) {
    const optimizer = new Adam({ lr: s.lr });
    optimizer.bind(m.rt, m.arena);
    run = m.run = { settings: s, step: 0, rng: new Rng(s.seed).state, optimizer };
  }
  const rng = new Rng(0);
  rng.state = run.rng;
  const r = run;
  try {
    const res = await runLoop({
      settings: { batchSize: B, lr: s.lr, clipNorm: s.clipNorm, seed: s.seed },
      state: r,
      // streamed: no epochs; each step draws its own windows and keeps the generator's state on the run
      step: () => {
        const starts = Array.from({ length: B }, () => Math.floor(rng.uniform() * (ids.length - T - 1)));
        r.rng = rng.state;
        const loss = trainer.lossAndGradients({ inputs: starts.map((p) => ids.slice(p, p + T)), targets: starts.map((p) => ids.slice(p + 1, p + T + 1)) });
        // the guard: a non-finite loss updates nothing, and the loop stops on it
        if (Number.isFinite(loss)) trainer.update(r.optimizer, s.clipNorm);
        return loss;
      },
      validate: validation && validation.length > 1 ? () => bitsPerCharRwkv7(m, validation) : null,
      snapshot: () => m.arena.snapshot(),
      restore: (p) => m.arena.restore(p as Float32Array),
    }, {
      ...plan,
      onProgress: onProgress && ((p) => onProgress({
        step: p.step, targetStep: p.targetStep, loss: p.loss, tokensPerSecond: p.examplesPerSecond * T,
        elapsedMs: p.elapsedMs, etaMs: p.etaMs, validationBitsPerChar: p.validationLoss,
      })),
    });
    return {
      steps: res.steps, totalSteps: res.totalSteps, stopped: res.stopped as Rwkv7FitResult['stopped'], loss: res.trainLoss, elapsedMs: res.elapsedMs,
      ...(res.initialValidationLoss === undefined ? {} : { initialValidationBitsPerChar: res.initialValidationLoss, validationBitsPerChar: res.validationLoss }),
    };
  } finally {
    trainer.dispose();
  }
}
