// Seq2Seq training: shuffled batches of similar lengths, teacher forcing (one wasm call per step),
// a validation score by greedy decoding after every `evalEvery` steps (or every epoch), early
// stopping after `patience` evaluations without improvement, and the best parameters restored.
import { ValueError } from '../../errors';
import { Rng } from '../../params/rng';
import { schedules } from '../../train/optim';
import { checkKeys, posInt } from './config';
import { trainBatch } from './batch';
import { scoreSequences } from './metrics';
import type { Pair, Seq2Seq } from './seq2seq';

export type ValidationMetric = 'exactMatch' | 'tokenErrorRate';

export interface FitOptions {
  epochs?: number;
  batchSize?: number;
  lr?: number;
  /** Learning-rate factor per epoch (applied smoothly, per step: lr · lrDecay^(step / steps per epoch)); default 1. */
  lrDecay?: number;
  clipNorm?: number;
  /** Held-out pairs, or the fraction of `pairs` held out (the last ones after a seeded shuffle); default 0.1. */
  validation?: readonly Pair[] | number;
  /** Score only the first n validation pairs (default all). */
  validationSize?: number;
  metric?: ValidationMetric;
  /** Evaluations without improvement before stopping (default 3). */
  patience?: number;
  /** Evaluate every n steps (default once per epoch). */
  evalEvery?: number;
  /** Stop after this many seconds of training (checked between steps). */
  maxSeconds?: number;
  /** Batches' worth of pairs sorted by length together (larger: less padding, less mixing of lengths); default 50. */
  lengthPool?: number;
  /** Stop after this many training steps (a budget that does not depend on the machine's speed). */
  maxSteps?: number;
  seed?: number;
  onProgress?: (p: FitProgress) => void;
}

export interface FitProgress {
  step: number;
  epoch: number;
  loss: number;
  exactMatch: number;
  tokenErrorRate: number;
  seconds: number;
}

export interface FitResult {
  steps: number;
  epochs: number;
  seconds: number;
  /** The validation scores of the kept (best) parameters. */
  best: FitProgress | null;
  history: FitProgress[];
  stoppedEarly: boolean;
}

const FIT_KEYS = ['epochs', 'batchSize', 'lr', 'lrDecay', 'clipNorm', 'validation', 'validationSize', 'metric', 'patience', 'evalEvery', 'maxSeconds', 'maxSteps', 'lengthPool', 'seed', 'onProgress'];

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
    maxSteps: o.maxSteps === undefined ? Infinity : posInt('maxSteps', o.maxSteps, 2 ** 40),
    seed: seedOf(o.seed),
    metric,
    validation: v,
  };
}

function seedOf(v: unknown): number {
  if (v === undefined) return 1;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new ValueError(`Expected seed to be an integer in [0, 2^32), got ${String(v)}`);
  return v;
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

export async function fitLoop(m: Seq2Seq, pairs: readonly Pair[], o: FitOptions): Promise<FitResult> {
  const s = checkFit(o);
  const rng = new Rng(s.seed);
  let train = [...pairs];
  let valid: readonly Pair[] = [];
  if (Array.isArray(s.validation)) valid = s.validation as readonly Pair[];
  else if ((s.validation as number) > 0) {
    shuffle(train, rng);
    const k = Math.max(1, Math.round(train.length * (s.validation as number)));
    valid = train.slice(train.length - k);
    train = train.slice(0, train.length - k);
  }
  const { srcs, tgts } = m.encodePairs(train, 'pairs');
  const v = valid.length ? m.encodePairs(valid.slice(0, s.validationSize), 'validation') : null;
  const perEpoch = batchCount(train.length, s.batchSize, s.lengthPool);
  const schedule = s.lrDecay === 1 ? undefined : schedules.exponential(s.lrDecay ** (1 / perEpoch));
  const opt = m.newOptimizer(s.lr, schedule); // everything is validated: from here on the model changes
  const srcLen = srcs.map((x) => x.length);
  const tgtLen = tgts.map((x) => x.length);
  const t0 = performance.now();
  const history: FitProgress[] = [];
  let best: FitProgress | null = null;
  let bestParams: Record<string, Float32Array> | null = null;
  let bad = 0;
  let step = 0;
  let epoch = 0;
  let lossSum = 0;
  let lossN = 0;
  let stop = false;
  const seconds = () => (performance.now() - t0) / 1000;
  const evaluate = () => {
    const p: FitProgress = { step, epoch, loss: lossN ? lossSum / lossN : NaN, exactMatch: NaN, tokenErrorRate: NaN, seconds: seconds() };
    lossSum = lossN = 0;
    if (v) {
      const pred = m.greedyIds(v.srcs);
      const sc = scoreSequences(pred.map((x) => Array.from(x)), v.tgts.map((t) => [Array.from(t)]));
      p.exactMatch = sc.exactMatch;
      p.tokenErrorRate = sc.tokenErrorRate;
      const better = !best || (s.metric === 'exactMatch' ? p.exactMatch > best.exactMatch : p.tokenErrorRate < best.tokenErrorRate);
      if (better) {
        best = p;
        bestParams = m.model.stateDict();
        bad = 0;
      } else if (++bad >= s.patience) stop = true;
    }
    history.push(p);
    o.onProgress?.(p);
  };
  for (epoch = 1; epoch <= s.epochs && !stop; epoch++) {
    for (const b of epochBatches(train.length, srcLen, tgtLen, s.batchSize, s.lengthPool, rng)) {
      const r = m.model.trainStep(trainBatch(b.map((i) => srcs[i]), b.map((i) => tgts[i])), { losses: { logits: 'crossEntropy' }, optimizer: opt, clipNorm: s.clipNorm });
      step++;
      lossSum += r.loss;
      lossN++;
      if (s.evalEvery && step % s.evalEvery === 0) evaluate();
      if (stop || seconds() > s.maxSeconds || step >= s.maxSteps) {
        stop = true;
        break;
      }
      if (step % 20 === 0) await new Promise((res) => setTimeout(res, 0));
    }
    if (!s.evalEvery || lossN > 0) evaluate();
  }
  if (bestParams) m.model.loadStateDict(bestParams);
  return { steps: step, epochs: Math.min(epoch - 1, s.epochs), seconds: seconds(), best, history, stoppedEarly: stop && bad >= s.patience };
}
