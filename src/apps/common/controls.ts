// Training controls every application shares: early stopping on a validation metric (restoring
// the best parameters), a TerminateOnNaN-style guard, and the epoch loop that applies them.
import { ValueError } from '../../errors';

/** Options of {@link EarlyStopping}. */
export interface EarlyStoppingOptions {
  /** Epochs without an improvement of at least minDelta before stopping (default 3). */
  patience?: number;
  /** The smallest change that counts as an improvement (default 0). */
  minDelta?: number;
  /** 'max' for accuracy/F1, 'min' for a loss (default 'max'). */
  mode?: 'max' | 'min';
}

/**
 * Tracks a validation metric epoch by epoch and says when it has not improved by `minDelta` for `patience`
 * epochs.
 */
export class EarlyStopping {
  /** Epochs without an improvement before stopping. */
  readonly patience: number;
  /** The smallest change that counts as an improvement. */
  readonly minDelta: number;
  /** Whether higher (`'max'`) or lower (`'min'`) values are better. */
  readonly mode: 'max' | 'min';
  /** The best value so far (NaN before the first). */
  best = NaN;
  /** The epoch of the best value (−1 before the first). */
  bestEpoch = -1;
  private wait = 0;

  constructor(o: EarlyStoppingOptions = {}) {
    if (o === null || typeof o !== 'object') throw new ValueError(`Expected earlyStopping options, got ${String(o)}`);
    this.patience = o.patience ?? 3;
    this.minDelta = o.minDelta ?? 0;
    this.mode = o.mode ?? 'max';
    if (!Number.isInteger(this.patience) || this.patience < 0) throw new ValueError(`Expected patience to be an integer >= 0, got ${String(o.patience)}`);
    if (!(this.minDelta >= 0 && Number.isFinite(this.minDelta))) throw new ValueError(`Expected minDelta to be a finite number >= 0, got ${String(o.minDelta)}`);
    if (this.mode !== 'max' && this.mode !== 'min') throw new ValueError(`Expected mode 'max' or 'min', got ${String(o.mode)}`);
  }

  /** Records an epoch's metric; returns whether it is the best so far. */
  update(value: number, epoch: number): boolean {
    const better = Number.isNaN(this.best) || (this.mode === 'max' ? value > this.best + this.minDelta : value < this.best - this.minDelta);
    if (better && Number.isFinite(value)) {
      this.best = value;
      this.bestEpoch = epoch;
      this.wait = 0;
      return true;
    }
    this.wait++;
    return false;
  }

  /** Whether `patience` epochs have passed without an improvement. */
  get shouldStop(): boolean {
    return this.wait >= this.patience;
  }
}

/** TerminateOnNaN: true (stop) when a loss is NaN or ±Infinity. */
export function isDiverged(loss: number): boolean {
  return !Number.isFinite(loss);
}

/** Whether every value of a state dict (or nested state dicts) is finite. */
export function finiteState(s: unknown): boolean {
  if (s instanceof Float32Array) return s.every(Number.isFinite);
  if (s && typeof s === 'object') return Object.values(s).every(finiteState);
  return true;
}

/** Why epoch training ended: the epochs ran out, early stopping, a non-finite loss, or the abort signal. */
export type StopReason = 'epochs' | 'earlyStopping' | 'nan' | 'aborted';

/** One epoch of `fit`: its mean loss and, with validation data, the validation metric. */
export interface EpochLog {
  /** The epoch, from 0. */
  epoch: number;
  /** Mean training loss of the epoch. */
  loss: number;
  /** The validation metric (accuracy or F1) when validation data was given. */
  metric?: number;
}

/**
 * What the applications' `fit` returns: the per-epoch history, why it stopped and which epoch's parameters
 * the model holds.
 */
export interface LoopResult {
  /** One entry per epoch run. */
  history: EpochLog[];
  /** Why training ended. */
  stopReason: StopReason;
  /** Epoch whose parameters the model holds at the end (best validation epoch with early stopping). */
  bestEpoch: number;
}

/** What {@link trainLoop} drives: the epochs to run and the callbacks of one application's training. */
export interface LoopHooks {
  /** Epochs to run at most. */
  epochs: number;
  /** Runs one epoch's steps; returns its step losses. Returning early after a non-finite loss is expected. */
  epoch(e: number): number[];
  /** Validation metric after an epoch (higher is better unless earlyStopping.mode is 'min'). */
  validate?: () => number;
  /** Early stopping on the validation metric (needs validate). */
  earlyStopping?: EarlyStoppingOptions;
  /** Saves a copy of the parameters (best epoch, or the last finite state on NaN). */
  snapshot(): unknown;
  /** Puts back a copy that snapshot() made. */
  restore(s: unknown): void;
  /** Whether a snapshot's parameters are all finite (a step after the last finite loss can still overflow); default: always. */
  finite?: (s: unknown) => boolean;
  /** Called after every epoch; returning false stops the loop. */
  onEpoch?: (log: EpochLog) => void | boolean;
}

/** The epoch loop: stops on NaN (restoring the last finite parameters), early stopping (restoring the best), or onEpoch returning false. */
export function trainLoop(h: LoopHooks): LoopResult {
  if (!Number.isInteger(h.epochs) || h.epochs < 1) throw new ValueError(`Expected epochs to be an integer >= 1, got ${String(h.epochs)}`);
  const es = h.earlyStopping && h.validate ? new EarlyStopping(h.earlyStopping) : null;
  const history: EpochLog[] = [];
  let good = h.snapshot();
  let goodEpoch = -1;
  let best: unknown = null;
  for (let e = 0; e < h.epochs; e++) {
    const losses = h.epoch(e);
    const loss = losses.reduce((a, b) => a + b, 0) / Math.max(1, losses.length);
    if (isDiverged(loss)) {
      h.restore(best ?? good);
      return { history, stopReason: 'nan', bestEpoch: es && best ? es.bestEpoch : goodEpoch };
    }
    const snap = h.snapshot();
    if (h.finite && !h.finite(snap)) {
      h.restore(best ?? good);
      return { history, stopReason: 'nan', bestEpoch: es && best ? es.bestEpoch : goodEpoch };
    }
    const log: EpochLog = { epoch: e, loss };
    if (h.validate) log.metric = h.validate();
    history.push(log);
    good = snap;
    goodEpoch = e;
    if (es && es.update(log.metric!, e)) best = good;
    if (h.onEpoch?.(log) === false) return { history, stopReason: 'aborted', bestEpoch: e };
    if (es?.shouldStop) {
      h.restore(best);
      return { history, stopReason: 'earlyStopping', bestEpoch: es.bestEpoch };
    }
  }
  if (es && best) {
    h.restore(best);
    return { history, stopReason: 'epochs', bestEpoch: es.bestEpoch };
  }
  return { history, stopReason: 'epochs', bestEpoch: goodEpoch };
}
