// SequenceLabeler (synced many-to-many): one tag per token. Token ids → embedding → recurrent
// encoder (bidirectional by default) → linear emission scores (T, B, K), then either a per-step
// softmax (weighted cross-entropy: per-step and per-class weights) or a linear-chain CRF whose
// transition scores are learned jointly with the network: the CRF's negative log-likelihood and
// d loss / d emissions come from one wasm call (CRF.nll), which seeds the network's backward.
// Decoding is per-step argmax or Viterbi (one wasm call per batch).
import * as graph from '../../graph/index';
import { GraphModel } from '../../graph/model';
import { CRF } from '../../layers/crf';
import { Adam, type Optimizer } from '../../train/optim';
import { NonFiniteError } from '../../train/guard';
import { Tensor } from '../../tensor';
import { ShapeError, ValueError, show } from '../../errors';
import { describe } from '../../errors';
import { Tokenizer, type TokenizerJSON } from '../common/tokenizer';
import { weightedCrossEntropy, balancedClassWeights, checkWeights } from '../common/losses';
import { lengthBatches } from '../common/batches';
import type { EarlyStoppingOptions, EpochLog, LoopResult } from '../common/controls';
import { appFileError, appHeader, appMetadata, asTokenizer, buildEncoder, checkKeys, checkLabels, renameFormer, checkSameGraph, encoderConfig, encoderKeys, feedOf, gradStep, type EncoderConfig, type EncoderOptions } from '../common/text-model';
import { checkLoop, fitEpochs, resolveLoopSettings, runLoop, type LoopOptions, type LoopResult as TrainResult, type LoopSettings, type StepFn } from '../graph-loop';
import { GraphApp, type TrainingState } from '../graph-app';
import { deserializeGraph, FormatError, type SaveOptions } from '../../io/format';
import { loadGraph } from '../../io/files';
import { tagScores, type TagScores } from './metrics';

/**
 * Options of a new {@link SequenceLabeler}: the tokenizer, the tags, the encoder and an optional CRF output.
 */
export interface LabelerOptions extends EncoderOptions {
  /** How texts become token ids (stored in the model file). */
  tokenizer: Tokenizer | TokenizerJSON;
  /** The tag names. */
  tags: string[];
  /** A linear-chain CRF output layer (default false: per-step softmax). */
  crf?: boolean;
}

/** A training example of the labeler: a text and one tag per token. */
export interface LabeledText {
  /** The text. */
  text: string;
  /** One tag per token of text (per character with a character tokenizer). */
  tags: string[];
}

/**
 * Options of `SequenceLabeler.fit`: epochs with a fresh Adam, class and sample weights, validation (F1 of
 * `positiveTag`, else accuracy) with early stopping, and a per-epoch callback.
 */
export interface LabelerFitOptions {
  /** Passes over the examples (default 10). */
  epochs?: number;
  /** Examples per batch (default 32). */
  batchSize?: number;
  /** Adam learning rate (default 3e-3). */
  lr?: number;
  /** Global gradient-norm clip (default 5). */
  clipNorm?: number;
  /** Softmax output only: one weight per tag, or 'balanced'. */
  classWeights?: number[] | 'balanced';
  /** Softmax output only: one weight per token of every example. */
  sampleWeights?: number[][];
  /** Held-out examples, scored after every epoch. */
  validation?: LabeledText[];
  /** The tag whose F1 is the validation metric (default: token accuracy). */
  positiveTag?: string;
  /**
   * Stop when the validation metric has not improved for `patience` epochs; the best epoch's parameters are
   * kept.
   */
  earlyStopping?: EarlyStoppingOptions;
  /** Seed of the batch order (default 1). */
  seed?: number;
  /** Called after every epoch; returning `false` stops training. */
  onEpoch?: (log: EpochLog) => void | boolean;
}

const KEYS = encoderKeys(['tokenizer', 'tags', 'crf']);
const FIT_KEYS = ['epochs', 'batchSize', 'lr', 'clipNorm', 'classWeights', 'sampleWeights', 'validation', 'positiveTag', 'earlyStopping', 'seed', 'onEpoch'];

/** Options of train(): the shared loop's budgets and settings (resumable), and the labeler's data options. */
export interface LabelerTrainOptions extends LoopOptions {
  /** Weight of each tag in the loss, in tag order, or 'balanced' (inverse tag frequency). */
  classWeights?: number[] | 'balanced';
  /** Weight of each token of each training text in the loss. */
  sampleWeights?: number[][];
  /** Validation texts: token accuracy, or the F1 of positiveTag (higher is better). */
  validation?: LabeledText[];
  /** The tag whose F1 is the validation metric (default: token accuracy). */
  positiveTag?: string;
}
const TRAIN_EXTRA = ['classWeights', 'sampleWeights', 'validation', 'positiveTag'];
/** Defaults of the run settings (batch 32, Adam lr 3e-3, clip 5). */
const DEFAULTS = { batchSize: 32, lr: 3e-3, clipNorm: 5 };

/**
 * Many-to-many tagging on the model graph (one tag per token): tokens → embedding → (bidirectional)
 * RNN/LSTM/GRU → linear, with a softmax or a linear-chain CRF output. Long texts are tagged in overlapping
 * windows. Tokenizer, tags and settings are stored in its model file.
 */
export class SequenceLabeler extends GraphApp {
  /** How texts become token ids. */
  readonly tokenizer: Tokenizer;
  /** The tag names. */
  readonly tags: readonly string[];
  /** The encoder's settings and whether the output is a CRF. */
  readonly config: EncoderConfig & { crf: boolean };
  /** The network up to the emission scores (a graph model). */
  readonly model: GraphModel;
  /** The CRF output layer (null with a softmax output). */
  readonly crf: CRF | null;
  private readonly index: Map<string, number>;
  /** The CRF's own Adam (train() runs; kept in checkpoints beside the network's). */
  private crfOptimizer: Adam | null = null;

  constructor(o: LabelerOptions, restored?: { model: GraphModel; crf?: Record<string, number[]>; optimizer?: Optimizer; training?: TrainingState; crfOptimizer?: { step: number; buffers: number[] } }) {
    super();
    if (!o || typeof o !== 'object') throw new ValueError(`Expected labeler options { tokenizer, tags, … }, got ${show(o)}`);
    o = renameFormer(o, KEYS, 'labeler option');
    checkKeys(o, KEYS, 'labeler option');
    if (o.crf !== undefined && typeof o.crf !== 'boolean') throw new ValueError(`Expected crf to be a boolean, got ${show(o.crf)}`);
    this.tags = checkLabels(o.tags, 'tags');
    this.tokenizer = asTokenizer(o.tokenizer);
    this.config = { ...encoderConfig(o, true), crf: o.crf ?? false };
    this.index = new Map(this.tags.map((l, i) => [l, i]));
    const { ids, output } = buildEncoder(this.tokenizer.size, this.config);
    const emissions = graph.linear(output, { outFeatures: this.tags.length, name: 'out' });
    const parts = { inputs: [ids], outputs: { emissions }, seed: this.config.seed };
    if (restored) {
      // the given model must be the graph these options describe; a restored CRF comes with its parameters
      checkSameGraph(restored.model, parts, 'the labeler options');
      if (restored.crf !== undefined && (!this.config.crf || restored.crf === null || typeof restored.crf !== 'object')) {
        throw new ValueError(`Expected CRF parameters only with crf: true, as an object, got ${this.config.crf ? describe(restored.crf) : 'some with crf: false'}`);
      }
    }
    this.model = restored ? restored.model : new GraphModel(parts);
    this.crf = this.config.crf ? new CRF({ numTags: this.tags.length, seed: this.config.seed }) : null;
    try {
      if (this.crf && restored?.crf) this.crf.loadStateDict(restored.crf);
      const co = restored?.crfOptimizer;
      if (co !== undefined) {
        if (!this.crf || !restored?.training) throw new FormatError('Expected crfOptimizer only in a CRF labeler checkpoint, got one elsewhere');
        if (!co || typeof co !== 'object' || !Array.isArray(co.buffers)) throw new FormatError('Expected crfOptimizer as { step, buffers }, got something else');
        const opt = new Adam({ lr: restored.training.settings.lr });
        this.crf.loadOptimizerState(opt, { kind: 'adam', step: co.step, buffers: Float32Array.from(co.buffers) });
        this.crfOptimizer = opt;
      }
    } catch (e) {
      this.crf?.dispose();
      throw e;
    }
    this.optimizer = restored?.optimizer ?? null;
    this.training = restored?.training ?? null;
  }

  private encode(texts: readonly string[], what: string): Int32Array[] {
    if (!Array.isArray(texts)) throw new ValueError(`Expected ${what} to be an array of strings, got ${show(texts)}`);
    return texts.map((t, i) => this.tokenizer.encode(t, `${what}[${i}]`));
  }

  private examples(ex: readonly LabeledText[], what: string, training = false): { seqs: Int32Array[]; ys: Int32Array[] } {
    if (!Array.isArray(ex)) throw new ValueError(`Expected ${what} to be an array of { text, tags }, got ${show(ex)}`);
    const seqs = this.encode(ex.map((e, i) => {
      if (!e || typeof e !== 'object') throw new ValueError(`Expected ${what}[${i}] as { text, tags }, got ${show(e)}`);
      return e.text;
    }), what);
    const ys = ex.map((e, i) => {
      if (!Array.isArray(e.tags) || e.tags.length !== seqs[i].length) throw new ShapeError(`Expected ${what}[${i}].tags to have one tag per token (${seqs[i].length}), got ${Array.isArray(e.tags) ? e.tags.length : String(e.tags)}`);
      if (training && seqs[i].length > this.config.maxLength) throw new ShapeError(`Expected ${what}[${i}] of at most maxLength ${this.config.maxLength} tokens, got ${seqs[i].length}`);
      return Int32Array.from(e.tags as string[], (t: string, j: number) => {
        const id = this.index.get(t);
        if (id === undefined) throw new ValueError(`Expected ${what}[${i}].tags[${j}] among ${this.tags.join(', ')}, got ${JSON.stringify(t)}`);
        return id;
      });
    });
    return { seqs, ys };
  }

  /**
   * Tag ids per token of each text (Viterbi with a CRF, per-step argmax without), batched by similar
   * length. A text longer than maxLength is tagged in windows of maxLength tokens; consecutive windows
   * share `overlap` tokens (default 0), and in a shared stretch each token takes its tag from the
   * window where it sits farther from the edge (the first half from the earlier window), so tokens
   * near a cut still see context on both sides.
   */
  predictIds(seqs: readonly Int32Array[], batchSize = 64, overlap = 0): Int32Array[] {
    const L = this.config.maxLength;
    if (!Number.isInteger(overlap) || overlap < 0 || overlap >= L) throw new ValueError(`Expected overlap to be an integer in [0, maxLength ${L}), got ${show(overlap)}`);
    const half = Math.floor(overlap / 2);
    const pieces: Int32Array[] = [];
    const where: { owner: number; at: number; from: number; to: number }[] = [];
    seqs.forEach((s, i) => {
      for (let o = 0; ; o += L - overlap) {
        const last = o + L >= s.length;
        pieces.push(s.subarray(o, o + L));
        where.push({ owner: i, at: o, from: o === 0 ? 0 : half, to: last ? L : L - (overlap - half) });
        if (last) break;
      }
    });
    const K = this.tags.length;
    const out = seqs.map((s) => new Int32Array(s.length));
    for (const batch of lengthBatches(pieces.map((s) => s.length), batchSize)) {
      const { feed, lengths } = feedOf(batch.map((i) => pieces[i]), L);
      const em = this.model.forward(feed).emissions;
      const B = batch.length;
      const path = this.crf ? this.crf.decode(em, lengths).tags.data : argmaxSteps(em.data as Float32Array, K);
      batch.forEach((i, b) => {
        const w = where[i];
        for (let t = w.from; t < Math.min(w.to, pieces[i].length); t++) out[w.owner][w.at + t] = path[t * B + b];
      });
    }
    return out;
  }

  /** One tag per token of each text. */
  predict(texts: readonly string[], o: { batchSize?: number; overlap?: number } = {}): string[][] {
    checkKeys(o, ['batchSize', 'overlap'], 'predict option');
    return this.predictIds(this.encode(texts, 'texts'), o.batchSize, o.overlap).map((p) => Array.from(p, (k) => this.tags[k]));
  }

  /** Token accuracy, and precision/recall/F1 of `positiveTag` when given; `overlap` as in predictIds. */
  evaluate(ex: readonly LabeledText[], o: { positiveTag?: string; overlap?: number } = {}): TagScores {
    checkKeys(o, ['positiveTag', 'overlap'], 'evaluate option');
    const { seqs, ys } = this.examples(ex, 'examples');
    const pos = o.positiveTag === undefined ? -1 : this.index.get(o.positiveTag);
    if (pos === undefined) throw new ValueError(`Expected positiveTag among ${this.tags.join(', ')}, got ${JSON.stringify(o.positiveTag)}`);
    return tagScores(this.predictIds(seqs, 64, o.overlap), ys, pos);
  }

  /** The data of a run, checked before anything changes, and its step and epoch batches. */
  private runData(ex: readonly LabeledText[], o: { classWeights?: number[] | 'balanced'; sampleWeights?: number[][]; validation?: LabeledText[]; positiveTag?: string }, s: LoopSettings, opts: () => { net: Optimizer; crf: Adam }) {
    const { seqs, ys } = this.examples(ex, 'examples', true);
    const K = this.tags.length;
    if (this.crf && (o.classWeights !== undefined || o.sampleWeights !== undefined)) throw new ValueError('Expected no classWeights or sampleWeights with crf: true (the CRF loss is per sequence), got some');
    let cw: ArrayLike<number> | undefined;
    if (o.classWeights === 'balanced') {
      const all = new Int32Array(ys.reduce((a, y) => a + y.length, 0));
      let k = 0;
      for (const y of ys) all.set(y, k), (k += y.length);
      cw = balancedClassWeights(all, K);
    } else cw = o.classWeights;
    checkWeights('classWeights', cw, K);
    if (o.sampleWeights !== undefined) {
      if (!Array.isArray(o.sampleWeights) || o.sampleWeights.length !== seqs.length) throw new ShapeError(`Expected sampleWeights as one array per example (${seqs.length}), got ${Array.isArray(o.sampleWeights) ? o.sampleWeights.length : String(o.sampleWeights)}`);
      o.sampleWeights.forEach((w, i) => checkWeights(`sampleWeights[${i}]`, w, seqs[i].length));
    }
    const pos = o.positiveTag === undefined ? -1 : this.index.get(o.positiveTag);
    if (pos === undefined) throw new ValueError(`Expected positiveTag among ${this.tags.join(', ')}, got ${JSON.stringify(o.positiveTag)}`);
    const val = o.validation ? this.examples(o.validation, 'validation') : null;
    const lengths = seqs.map((q) => q.length);
    const step: StepFn = (batch) => {
      const { net, crf } = opts();
      const { feed, lengths: lens } = feedOf(batch.map((i) => seqs[i]), this.config.maxLength);
      const T = Math.max(...lens);
      const B = batch.length;
      const targets = new Int32Array(T * B).fill(-1);
      const sw = o.sampleWeights ? new Float32Array(T * B) : undefined;
      batch.forEach((i, b) => ys[i].forEach((y, t) => {
        targets[t * B + b] = y;
        if (sw) sw[t * B + b] = o.sampleWeights![i][t];
      }));
      const l = gradStep(this.model, feed, 'emissions', (em) => (this.crf ? this.crfLoss(em, targets, lens) : this.softmaxLoss(em, targets, K, sw, cw)), net, s.clipNorm);
      return this.crf && Number.isFinite(l) && Number.isNaN(crfStep(this.crf, crf)) ? NaN : l;
    };
    return {
      examples: seqs.length,
      step,
      epochBatches: (e: number) => lengthBatches(lengths, s.batchSize, s.seed * 1000 + e),
      validate: val ? () => tagScores(this.predictIds(val.seqs), val.ys, pos)[pos >= 0 ? 'f1' : 'accuracy'] : null,
      snapshot: () => ({ m: this.model.stateDict(), c: this.crf?.stateDict() }),
      restore: (p: unknown) => {
        const v = p as { m: Record<string, Float32Array>; c?: Record<string, Float32Array> };
        this.model.loadStateDict(v.m);
        if (v.c) this.crf!.loadStateDict(v.c);
      },
    };
  }

  /**
   * Trains with the loop every application shares: step / epoch / time budgets, validation (token
   * accuracy or positiveTag's F1) every `evalEvery` steps (default once per epoch) with early
   * stopping (`patience`), an AbortSignal checked between steps, and the optimizers (the network's
   * and the CRF's) and training state kept so that a saved checkpoint resumes bit for bit.
   */
  async train(ex: readonly LabeledText[], o: LabelerTrainOptions): Promise<TrainResult> {
    const run = checkLoop(o, TRAIN_EXTRA, 'train');
    const { batchSize, lr, clipNorm, seed } = o;
    const settings = resolveLoopSettings({ batchSize, lr, clipNorm, seed }, this.training?.settings, this.config.seed, DEFAULTS);
    if (this.optimizer && this.optimizer.lr !== settings.lr) throw new ValueError(`Expected lr ${this.optimizer.lr} (the optimizer's), got ${settings.lr}`);
    const data = this.runData(ex, o, settings, () => ({ net: this.optimizer!, crf: this.crfOptimizer! }));
    // everything is validated: from here on the model changes
    this.training ??= { settings, step: 0 };
    this.optimizer ??= new Adam({ lr: settings.lr });
    this.crfOptimizer ??= new Adam({ lr: settings.lr });
    return runLoop({ ...data, settings, state: this.training, higherIsBetter: true }, run);
  }

  /**
   * Trains for some epochs in one synchronous call (fresh Adam optimizers each call), on the same
   * loop as train(): validation after every epoch, early stopping in epochs with the best epoch's
   * parameters kept, a TerminateOnNaN guard.
   */
  fit(ex: readonly LabeledText[], o: LabelerFitOptions = {}): LoopResult {
    checkKeys(o, FIT_KEYS, 'fit option');
    const settings = resolveLoopSettings({ batchSize: o.batchSize, lr: o.lr, clipNorm: o.clipNorm, seed: o.seed ?? 1 }, undefined, 1, DEFAULTS);
    let opts: { net: Adam; crf: Adam } | null = null;
    const data = this.runData(ex, o, settings, () => (opts ??= { net: new Adam({ lr: settings.lr }), crf: new Adam({ lr: settings.lr }) }));
    return fitEpochs({ ...data, settings, state: { step: 0 } }, { epochs: o.epochs ?? 10, earlyStopping: o.earlyStopping, onEpoch: o.onEpoch });
  }

  private softmaxLoss(em: Tensor, targets: Int32Array, K: number, sw?: Float32Array, cw?: ArrayLike<number>): { loss: number; dOut: Float32Array } {
    const r = weightedCrossEntropy(em.data as Float32Array, targets, K, { sampleWeights: sw, classWeights: cw });
    return { loss: r.loss, dOut: r.dLogits };
  }

  private crfLoss(em: Tensor, targets: Int32Array, lengths: number[]): { loss: number; dOut: Float32Array } {
    const crf = this.crf!;
    crf.zeroGrad();
    const loss = crf.nll(em, new Tensor(targets, [em.shape[0], em.shape[1]]), lengths, { reduction: 'tokenMean' });
    return { loss, dOut: crf.backward().data as Float32Array };
  }

  protected fileParts(training: TrainingState | undefined): Pick<SaveOptions, 'metadata'> {
    const extra = this.crf ? Object.fromEntries(Object.entries(this.crf.stateDict()).map(([k, v]) => [k, Array.from(v)])) : undefined;
    const co = training && this.crfOptimizer ? this.crfOptimizer.state() : null;
    const crfOptimizer = co ? { step: co.step, buffers: Array.from(co.buffers) } : undefined;
    return { metadata: { ...appMetadata({ app: 'labeler', tokenizer: this.tokenizer.toJSON(), labels: [...this.tags], config: { ...this.config }, extra, training }), crfOptimizer } };
  }

  /** A labeler from the bytes of its model file (with its CRF, optimizers and training state when stored). */
  static deserialize(bytes: Uint8Array | ArrayBuffer): SequenceLabeler {
    const l = deserializeGraph(bytes);
    return SequenceLabeler.fromParts(l.model, l.metadata, l.optimizer);
  }

  /** Reads a model file (a path in Node, bytes, or a Blob). */
  static async load(source: string | Uint8Array | ArrayBuffer | Blob): Promise<SequenceLabeler> {
    const l = await loadGraph(source);
    return SequenceLabeler.fromParts(l.model, l.metadata, l.optimizer);
  }

  private static fromParts(model: GraphModel, metadata: Record<string, unknown> | undefined, optimizer?: Optimizer): SequenceLabeler {
    try {
      const h = appHeader(metadata, 'labeler');
      if ((h.config as { crf?: unknown }).crf === true && h.extra === undefined) throw new ValueError('Expected the CRF parameters (metadata.extra) in a labeler file with crf: true, got none');
      const crfOptimizer = (metadata as { crfOptimizer?: { step: number; buffers: number[] } }).crfOptimizer;
      return new SequenceLabeler({ ...(h.config as object), tokenizer: h.tokenizer, tags: h.labels }, { model, crf: h.extra, optimizer, training: h.training, crfOptimizer });
    } catch (e) {
      model.dispose();
      optimizer?.dispose();
      throw appFileError(e, 'labeler');
    }
  }

  /** Releases the model's, the CRF's and their optimizers' wasm memory. */
  override dispose(): void {
    super.dispose();
    this.crfOptimizer?.dispose();
    this.crf?.dispose();
  }
}

/** The CRF's optimizer step; a step that would make its parameters non-finite is refused (NaN: TerminateOnNaN). */
function crfStep(crf: CRF, opt: Adam): number {
  try {
    crf.step(opt);
    return 0;
  } catch (e) {
    if (e instanceof NonFiniteError) return NaN;
    throw e;
  }
}

function argmaxSteps(em: Float32Array, K: number): Int32Array {
  const out = new Int32Array(em.length / K);
  for (let r = 0; r < out.length; r++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (em[r * K + k] > em[r * K + best]) best = k;
    out[r] = best;
  }
  return out;
}
