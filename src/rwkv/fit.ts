// Trains an RWKV7 with a vocabulary as a language model on a text: random windows of seqLen + 1
// tokens, batches of `batch` windows, Adam with global-norm clipping, until a step or time budget.
import { Rng } from '../params/rng';
import { Adam } from '../train/optim';
import { ValueError, show } from '../errors';
import { checkOptions, keysOf } from '../options';
import type { RWKV7 } from './model';
import { Rwkv7Trainer } from './train';
import { bitsPerCharRwkv7 } from './generate';

/** Options of {@link fitRwkv7}: the budget, the batches, Adam's settings, validation and progress. */
export interface Rwkv7FitOptions {
  /** Steps to take (at least one of steps and minutes). */
  steps?: number;
  /** Stop after this many minutes. */
  minutes?: number;
  /** Tokens per window (default 64). */
  seqLen?: number;
  /** Windows per batch (default 16). */
  batch?: number;
  /** Adam learning rate (default 0.002). */
  lr?: number;
  /** Global gradient-norm clip (default 1). */
  clipNorm?: number;
  /** Seed of the window draws (default 1). */
  seed?: number;
  /** Held-out text scored before and after training (bits per character). */
  validation?: string;
  /** Called after every step. */
  onProgress?: (p: { step: number; loss: number; elapsedMs: number }) => void;
}
const FIT_KEYS = keysOf<Rwkv7FitOptions>()('steps', 'minutes', 'seqLen', 'batch', 'lr', 'clipNorm', 'seed', 'validation', 'onProgress');

/** What {@link fitRwkv7} did. */
export interface Rwkv7FitResult {
  /** Steps taken. */
  steps: number;
  /** Mean loss (nats per token) of the last step. */
  loss: number;
  /** Time spent. */
  elapsedMs: number;
  /** Validation bits per character before training (with `validation`). */
  initialValidationBitsPerChar?: number;
  /** Validation bits per character after training (with `validation`). */
  validationBitsPerChar?: number;
}

/**
 * Trains an RWKV7 that has a vocabulary as a language model on `text`: random windows of seqLen + 1
 * tokens, batches of `batch` windows, Adam with global-norm clipping, until the step or time budget.
 */
export function fitRwkv7(m: RWKV7, text: string, opts: Rwkv7FitOptions): Rwkv7FitResult {
  checkOptions(opts, FIT_KEYS, 'fit options');
  if (!m.tokenizer) throw new ValueError('Expected an RWKV7 with a vocabulary to train on text, got none');
  const { steps, minutes } = opts;
  if (steps === undefined && minutes === undefined) throw new ValueError('Expected a budget: steps or minutes, got neither');
  if (steps !== undefined && !(Number.isSafeInteger(steps) && steps >= 0)) throw new ValueError(`Expected steps to be a non-negative integer, got ${show(steps)}`);
  if (minutes !== undefined && !(typeof minutes === 'number' && minutes >= 0)) throw new ValueError(`Expected minutes ≥ 0, got ${show(minutes)}`);
  const T = opts.seqLen ?? 64;
  const B = opts.batch ?? 16;
  const ids = m.tokenizer.encode(text);
  if (ids.length < T + 2) throw new ValueError(`Expected a training text of at least ${T + 2} tokens (seqLen ${T} + 2), got ${ids.length}`);
  const rng = new Rng(opts.seed ?? 1);
  const trainer = new Rwkv7Trainer(m, T, B);
  const opt = new Adam({ lr: opts.lr ?? 0.002 });
  const t0 = performance.now();
  const result: Rwkv7FitResult = { steps: 0, loss: NaN, elapsedMs: 0 };
  try {
    if (opts.validation) result.initialValidationBitsPerChar = bitsPerCharRwkv7(m, opts.validation);
    const deadline = minutes === undefined ? Infinity : t0 + minutes * 60_000;
    while ((steps === undefined || result.steps < steps) && performance.now() < deadline) {
      const starts = Array.from({ length: B }, () => Math.floor(rng.uniform() * (ids.length - T - 1)));
      const batch = { inputs: starts.map((p) => ids.slice(p, p + T)), targets: starts.map((p) => ids.slice(p + 1, p + T + 1)) };
      result.loss = trainer.step(batch, opt, { clipNorm: opts.clipNorm ?? 1 });
      result.steps++;
      opts.onProgress?.({ step: result.steps, loss: result.loss, elapsedMs: performance.now() - t0 });
    }
    if (opts.validation) result.validationBitsPerChar = bitsPerCharRwkv7(m, opts.validation);
  } finally {
    trainer.dispose();
    opt.dispose();
  }
  result.elapsedMs = performance.now() - t0;
  return result;
}
