// Seq2Seq training on the shared step loop: shuffled batches of similar lengths, teacher forcing (one
// wasm call per step), a validation score by greedy decoding after every `evalEvery` steps (or every
// epoch), early stopping after `patience` evaluations without improvement, the best parameters
// restored, and a training state that a checkpoint resumes.
import { ValueError } from '../../errors';
import { Rng } from '../../params/rng';
import { schedules } from '../../train/optim';
import { checkKeys, posInt } from './config';
import { resolveLoopSettings, runLoop, type LoopResult, type LoopSettings } from '../graph-loop';
import { trainBatch } from './batch';
import { scoreSequences } from './metrics';
import type { Pair, Seq2Seq } from './seq2seq';
import { seedValue } from '../../ir/checks';

/**
 * The validation metric of `Seq2Seq.fit`: exact match (higher is better) or token error rate (lower is
 * better).
 */
export type ValidationMetric = 'exactMatch' | 'tokenErrorRate';

/**
 * Options of `Seq2Seq.fit`: epochs, batching, learning rate and its decay, validation by greedy decoding with
 * early stopping, budgets, progress and an abort signal.
 */
export interface FitOptions {
  /** Passes over the training pairs (default 10). */
  epochs?: number;
  /** Pairs per batch (default 64). */
  batchSize?: number;
  /** Adam learning rate (default 3e-3). */
  lr?: number;
  /** Learning-rate factor per epoch (applied smoothly, per step: lr · lrDecay^(step / steps per epoch)); default 1. */
  lrDecay?: number;
  /** Global gradient-norm clip (default 5). */
  clipNorm?: number;
  /** Held-out pairs, or the fraction of `pairs` held out (the last ones after a seeded shuffle); default 0.1. */
  validation?: readonly Pair[] | number;
  /** Score only the first n validation pairs (default all). */
  validationSize?: number;
  /** The validation metric early stopping watches (default `'exactMatch'`). */
  metric?: ValidationMetric;
  /** Evaluations without improvement before stopping (default 3). */
  patience?: number;
  /** Evaluate every n steps (default once per epoch). */
  evalEvery?: number;
  /** Stop after this many seconds of training (checked between steps). */
  maxSeconds?: number;
  /** Batches' worth of pairs sorted by length together (larger: less padding, less mixing of lengths); default 50. */
  lengthPool?: number;
  /** Stop after this many training steps of this call (a budget that does not depend on the machine's speed; 0: none). */
  maxSteps?: number;
  /** Seed of the shuffle and the held-out split. */
  seed?: number;
  /** Called after every evaluation. */
  onProgress?: (p: FitProgress) => void;
  /** Stops between steps (the result then says stopped: 'signal'); the model keeps its training state for a checkpoint. */
  signal?: AbortSignal;
}

/** One evaluation of `Seq2Seq.fit`: the step, the epoch, the training loss and the validation scores. */
export interface FitProgress {
  /** Steps taken so far. */
  step: number;
  /** The epoch. */
  epoch: number;
  /** Mean training loss since the last evaluation. */
  loss: number;
  /** Validation exact match (greedy decoding). */
  exactMatch: number;
  /** Validation token error rate (greedy decoding). */
  tokenErrorRate: number;
  /** Training time so far. */
  seconds: number;
}

/** What `Seq2Seq.fit` resolves with. */
export interface FitResult {
  /** Steps of this call. */
  steps: number;
  /** Steps of the whole run (a resumed run counts the checkpoint's). */
  totalSteps: number;
  /** What ended this call (see the shared loop's LoopResult). */
  stopped: LoopResult['stopped'];
  /** Mean training loss over the last 50 steps of this call. */
  trainLoss: number;
  /** Epochs run (the last one may be partial). */
  epochs: number;
  /** Time spent. */
  seconds: number;
  /** The best validation scores of this call (the kept parameters when early stopping ended it). */
  best: FitProgress | null;
  /** Every evaluation, in order. */
  history: FitProgress[];
  /** Whether early stopping ended the call (the best parameters are then kept). */
  stoppedEarly: boolean;
}

const FIT_KEYS = ['epochs', 'batchSize', 'lr', 'lrDecay', 'clipNorm', 'validation', 'validationSize', 'metric', 'patience', 'evalEvery', 'maxSeconds', 'maxSteps', 'lengthPool', 'seed', 'onProgress', 'signal'];

function checkFit(o: FitOptions) {
  if (o === null || typeof o !== 'object') throw new ValueError(`Expected fit options as an object, got ${String(o)}`);
  checkKeys(o, FIT_KEYS, 'fit option');
  const num = (name: string, v: unknown, d: number, lo: number, hi: number): number => {
    if (v === undefined) return d;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= lo || v > hi) throw new ValueError(`Expected ${name} in (${lo}, ${hi}], got ${String(v)}`);
    return v;
  };
  const metric = o.metric ?? 'exactMatch';
  if (metric !== 'exactMatch' && metric !== 'tokenErrorRate') throw new ValueError(`Expected metric 'exactMatch' or 'tokenErrorRate', got ${String(metric)}`);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw new ValueError(`Expected onProgress to be a function, got ${typeof o.onProgress}`);
  if (o.signal !== undefined && !(typeof o.signal === 'object' && o.signal !== null && 'aborted' in o.signal)) throw new ValueError(`Expected signal to be an AbortSignal, got ${typeof o.signal}`);
  const v = o.validation ?? 0.1;
  if (typeof v === 'number' && !(v >= 0 && v < 1)) throw new ValueError(`Expected validation as a fraction in [0, 1) or an array of pairs, got ${v}`);
  return {
    epochs: o.epochs === undefined ? 10 : posInt('epochs', o.epochs, 1 << 20),
    batchSize: o.batchSize === undefined ? 64 : posInt('batchSize', o.batchSize, 1 << 16),
    lr: num('lr', o.lr, 3e-3, 0, 10),
    lrDecay: num('lrDecay', o.lrDecay, 1, 0, 1),
    clipNorm: num('clipNorm', o.clipNorm, 5, 0, Infinity),
    validationSize: o.validationSize === undefined ? Infinity : posInt('validationSize', o.validationSize, 1 << 30),
    patience: o.patience === undefined ? 3 : posInt('patience', o.patience, 1 << 20),
    evalEvery: o.evalEvery === undefined ? 0 : posInt('evalEvery', o.evalEvery, 1 << 30),
    maxSeconds: num('maxSeconds', o.maxSeconds, Infinity, 0, Infinity),
    lengthPool: o.lengthPool === undefined ? 50 : posInt('lengthPool', o.lengthPool, 1 << 20),
    maxSteps: o.maxSteps === undefined ? Infinity : o.maxSteps === 0 ? 0 : posInt('maxSteps', o.maxSteps, 2 ** 40),
    seed: o.seed === undefined ? 1 : seedValue('seed', o.seed),
    metric,
    validation: v,
  };
}


function shuffle<T>(xs: T[], rng: Rng): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}

/** The number of batches epochBatches makes of n items. */
function batchCount(n: number, size: number, poolBatches: number): number {
  const pool = size * poolBatches;
  return Math.floor(n / pool) * poolBatches + Math.ceil((n % pool) / size);
}

/**
 * @internal Batches of similar lengths: shuffled, then each pool of `poolBatches` batches sorted by source
 * length and then target length (so both the encoder's and the decoder's padding stay small), the
 * batch order shuffled.
 */
export function epochBatches(n: number, srcLen: readonly number[], tgtLen: readonly number[], size: number, poolBatches: number, rng: Rng): number[][] {
  const idx = shuffle(Array.from({ length: n }, (_, i) => i), rng);
  const out: number[][] = [];
  const pool = size * poolBatches;
  for (let p = 0; p < n; p += pool) {
    const part = idx.slice(p, p + pool).sort((a, b) => srcLen[a] - srcLen[b] || tgtLen[a] - tgtLen[b]);
    for (let i = 0; i < part.length; i += size) out.push(part.slice(i, i + size));
  }
  return shuffle(out, rng);
}

/** The training state of a Seq2Seq checkpoint: the loop's settings and step, and what else shapes the run. */
export interface Seq2SeqTraining {
  settings: LoopSettings;
  step: number;
  /** The held-out fraction (null: a separate validation list). */
  validation: number | null;
  lrDecay: number;
  lengthPool: number;
}

/** Throws a FormatError-worthy ValueError unless `t` is a Seq2Seq training state. */
export function checkTraining(t: unknown): asserts t is Seq2SeqTraining {
  const ok = (v: unknown, lo: number, hi: number) => typeof v === 'number' && Number.isFinite(v) && v >= lo && v <= hi;
  const x = t as Record<string, unknown> | null;
  const st = x?.settings as Record<string, unknown> | undefined;
  if (!x || typeof x !== 'object' || !st || typeof st !== 'object' || !Number.isSafeInteger(x.step) || (x.step as number) < 0
    || !Number.isSafeInteger(st.batchSize) || !ok(st.batchSize, 1, 1 << 16) || !ok(st.lr, Number.MIN_VALUE, 10) || !ok(st.clipNorm, Number.MIN_VALUE, Infinity)
    || !Number.isInteger(st.seed) || !ok(st.seed, 0, 0xffffffff) || !(x.validation === null || ok(x.validation, 0, 0.999999))
    || !ok(x.lrDecay, Number.MIN_VALUE, 1) || !Number.isSafeInteger(x.lengthPool) || !ok(x.lengthPool, 1, 1 << 20)) {
    throw new ValueError('Expected metadata.seq2seq.training as { settings: { batchSize, lr, clipNorm, seed }, step, validation, lrDecay, lengthPool }, got something else');
  }
}

/**
 * Training on the loop every application shares (src/apps/graph-loop.ts): epochs of length-pooled
 * batches that are a function of (seed, epoch), validation by greedy decoding every `evalEvery`
 * steps (default once per epoch) with early stopping (which restores the best parameters), an AbortSignal
 * checked between steps, and (through m.training and the optimizer) a checkpoint that resumes the
 * same run bit for bit.
 */
export async function fitLoop(m: Seq2Seq, pairs: readonly Pair[], o: FitOptions): Promise<FitResult> {
  const s = checkFit(o);
  const stored = m.training;
  const settings = resolveLoopSettings({ batchSize: o.batchSize, lr: o.lr, clipNorm: o.clipNorm, seed: o.seed }, stored?.settings, 1, { batchSize: 64, lr: 3e-3, clipNorm: 5 });
  const fraction = Array.isArray(s.validation) ? null : (s.validation as number);
  if (stored) {
    const same = (name: string, given: unknown, was: unknown) => {
      if (given !== undefined && given !== was) throw new ValueError(`Expected ${name} ${String(was)} (the checkpoint's, to resume the same run), got ${String(given)}`);
    };
    same('lrDecay', o.lrDecay, stored.lrDecay);
    same('lengthPool', o.lengthPool, stored.lengthPool);
    if (!Array.isArray(o.validation)) same('validation', o.validation, stored.validation);
  }
  const lrDecay = stored?.lrDecay ?? s.lrDecay;
  const lengthPool = stored?.lengthPool ?? s.lengthPool;
  const frac = stored && !Array.isArray(o.validation) ? stored.validation : fraction;
  let train = [...pairs];
  let valid: readonly Pair[] = [];
  if (Array.isArray(s.validation)) valid = s.validation as readonly Pair[];
  else if (frac !== null && frac > 0) {
    shuffle(train, new Rng(settings.seed));
    const k = Math.max(1, Math.round(train.length * frac));
    valid = train.slice(train.length - k);
    train = train.slice(0, train.length - k);
  }
  const { srcs, tgts } = m.encodePairs(train, 'pairs');
  const v = valid.length ? m.encodePairs(valid.slice(0, s.validationSize), 'validation') : null;
  const perEpoch = batchCount(train.length, settings.batchSize, lengthPool);
  const schedule = lrDecay === 1 ? undefined : schedules.exponential(lrDecay ** (1 / perEpoch));
  // everything is validated: from here on the model changes
  const opt = m.optimizerFor(settings.lr, schedule, stored !== null);
  m.training ??= { settings, step: 0, validation: frac, lrDecay, lengthPool };
  const state = m.training;
  const srcLen = srcs.map((x) => x.length);
  const tgtLen = tgts.map((x) => x.length);
  const start = state.step;
  const evalEvery = s.evalEvery || perEpoch;
  const history: FitProgress[] = [];
  let scores = { exactMatch: NaN, tokenErrorRate: NaN };
  let lossSum = 0;
  let lossN = 0;
  const t0 = performance.now();
  const seconds = () => (performance.now() - t0) / 1000;
  const higher = s.metric === 'exactMatch';
  const r = await runLoop({
    settings, state, examples: train.length,
    step: (b) => {
      const loss = m.model.trainStep(trainBatch(b.map((i) => srcs[i]), b.map((i) => tgts[i])), { losses: { logits: 'crossEntropy' }, optimizer: opt, clipNorm: settings.clipNorm }).loss;
      lossSum += loss;
      lossN++;
      return loss;
    },
    epochBatches: (e) => epochBatches(train.length, srcLen, tgtLen, settings.batchSize, lengthPool, new Rng((settings.seed + Math.imul(e + 1, 0x9e3779b1)) >>> 0)),
    validate: v ? () => {
      const pred = m.greedyIds(v.srcs);
      scores = scoreSequences(pred.map((x) => Array.from(x)), v.tgts.map((t) => [Array.from(t)]));
      return higher ? scores.exactMatch : scores.tokenErrorRate;
    } : null,
    higherIsBetter: higher,
    snapshot: () => m.model.stateDict(),
    restore: (p) => m.model.loadStateDict(p as Record<string, Float32Array>),
    initialValidation: false,
  }, {
    steps: s.maxSteps, epochs: s.epochs, ms: s.maxSeconds * 1000, evalEvery, patience: v ? s.patience : Infinity, signal: o.signal,
    onProgress: (p) => {
      if ((p.step - start) % evalEvery !== 0) return;
      const entry: FitProgress = { step: p.step, epoch: Math.floor((p.step - 1) / perEpoch) + 1, loss: lossN ? lossSum / lossN : NaN, exactMatch: v ? scores.exactMatch : NaN, tokenErrorRate: v ? scores.tokenErrorRate : NaN, seconds: seconds() };
      lossSum = lossN = 0;
      history.push(entry);
      o.onProgress?.(entry);
    },
  });
  let best: FitProgress | null = null;
  if (v) for (const h of history) if (!best || (higher ? h.exactMatch > best.exactMatch : h.tokenErrorRate < best.tokenErrorRate)) best = h;
  return {
    steps: r.steps, totalSteps: r.totalSteps, epochs: Math.min(s.epochs, Math.ceil(r.steps / perEpoch)), seconds: seconds(), best, history,
    stoppedEarly: r.stopped === 'patience', stopped: r.stopped, trainLoss: r.trainLoss,
  };
}
