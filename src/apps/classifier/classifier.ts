// SequenceClassifier (many-to-one): token ids → embedding → recurrent encoder (bidirectional
// optional) → pooling over each text's valid steps ('last' | 'mean' | 'max') → linear → class
// probabilities. Trained with weighted cross-entropy (per-example and per-class weights), early
// stopping on validation accuracy and a TerminateOnNaN guard; the tokenizer and labels travel in
// the model file.
import * as graph from '../../graph/index';
import { GraphModel } from '../../graph/model';
import { Adam } from '../../train/optim';
import { ValueError, ShapeError, show } from '../../errors';
import { Tokenizer, type TokenizerJSON } from '../common/tokenizer';
import { weightedCrossEntropy, softmaxRows, balancedClassWeights, checkWeights } from '../common/losses';
import { lengthBatches } from '../common/batches';
import type { EarlyStoppingOptions, EpochLog, LoopResult } from '../common/controls';
import { appFileError, appHeader, appMetadata, asTokenizer, buildEncoder, checkKeys, checkLabels, renameFormer, checkSameGraph, encoderConfig, encoderKeys, feedOf, gradStep, type EncoderConfig, type EncoderOptions } from '../common/text-model';
import { checkLoop, fitEpochs, resolveLoopSettings, runLoop, type LoopOptions, type LoopResult as TrainResult, type LoopSettings, type StepFn } from '../graph-loop';
import { GraphApp, type TrainingState } from '../graph-app';
import type { Optimizer } from '../../train/optim';
import { deserializeGraph, type SaveOptions } from '../../io/format';
import { loadGraph } from '../../io/files';

/**
 * How a classifier turns a text into one vector: the final states (`last`), or the mean or max over valid
 * steps.
 */
export type Pooling = 'last' | 'mean' | 'max';
/** Which tokens of a text longer than maxLength the model reads. */
export type Truncation = 'head' | 'tail' | 'headTail';

/** Options of a new {@link SequenceClassifier}: the tokenizer, the labels and the encoder. */
export interface ClassifierOptions extends EncoderOptions {
  /** How texts become token ids (stored in the model file). */
  tokenizer: Tokenizer | TokenizerJSON;
  /** The class names; `predict` returns probabilities in this order. */
  labels: string[];
  /** How the text becomes one vector: 'last' (default) the final states hN of every layer and direction (with bidirectional, the reverse direction's after reading the whole text), 'mean' / 'max' over the encoder's outputs at valid steps. */
  pooling?: Pooling;
  /** Of a text longer than maxLength tokens: 'head' (default) keeps the first maxLength, 'tail' the last, 'headTail' the first ⌈maxLength/2⌉ and the last ⌊maxLength/2⌋ (a long e-mail's headers and its closing lines). */
  truncation?: Truncation;
}

/**
 * Options of `SequenceClassifier.fit`: epochs with a fresh Adam, class and sample weights, validation with
 * early stopping, and a per-epoch callback.
 */
export interface ClassifierFitOptions {
  /** Passes over the texts (default 10). */
  epochs?: number;
  /** Texts per batch (default 32). */
  batchSize?: number;
  /** Adam learning rate (default 3e-3). */
  lr?: number;
  /** Global gradient-norm clip (default 5). */
  clipNorm?: number;
  /** One weight per class (in `labels` order), or 'balanced' (n / (K · count)). */
  classWeights?: number[] | 'balanced';
  /** One weight per training example. */
  sampleWeights?: number[];
  /** Held-out texts and labels, scored (accuracy) after every epoch. */
  validation?: { texts: string[]; labels: string[] };
  /** Stop when validation accuracy has not improved for `patience` epochs; the best epoch's parameters are kept. */
  earlyStopping?: EarlyStoppingOptions;
  /** Seed of the batch order (default 1). */
  seed?: number;
  /** Called after every epoch; returning false stops training. */
  onEpoch?: (log: EpochLog) => void | boolean;
}

const KEYS = encoderKeys(['tokenizer', 'labels', 'pooling', 'truncation']);
const FIT_KEYS = ['epochs', 'batchSize', 'lr', 'clipNorm', 'classWeights', 'sampleWeights', 'validation', 'earlyStopping', 'seed', 'onEpoch'];

/** Options of train(): the shared loop's budgets and settings (resumable), and the classifier's data options. */
export interface ClassifierTrainOptions extends LoopOptions {
  /** Weight of each label in the loss, in label order, or 'balanced' (inverse label frequency). */
  classWeights?: number[] | 'balanced';
  /** Weight of each training example in the loss. */
  sampleWeights?: number[];
  /** Validation texts and labels: accuracy, the early-stopping metric (higher is better). */
  validation?: { texts: string[]; labels: string[] };
}
const TRAIN_EXTRA = ['classWeights', 'sampleWeights', 'validation'];
/** Defaults of the run settings (batch 32, Adam lr 3e-3, clip 5). */
const DEFAULTS = { batchSize: 32, lr: 3e-3, clipNorm: 5 };

/**
 * Many-to-one text classification on the model graph: tokens → embedding → RNN/LSTM/GRU → pooling → linear.
 * Its tokenizer, labels and settings are stored in its model file.
 */
export class SequenceClassifier extends GraphApp {
  /** How texts become token ids. */
  readonly tokenizer: Tokenizer;
  /** The class names. */
  readonly labels: readonly string[];
  /** The encoder's settings, pooling and truncation. */
  readonly config: EncoderConfig & { pooling: Pooling; truncation: Truncation };
  /** The network (a graph model). */
  readonly model: GraphModel;
  private readonly index: Map<string, number>;

  constructor(o: ClassifierOptions, model?: GraphModel, restored?: { optimizer?: Optimizer; training?: TrainingState }) {
    super();
    if (!o || typeof o !== 'object') throw new ValueError(`Expected classifier options { tokenizer, labels, … }, got ${show(o)}`);
    o = renameFormer(o, KEYS, 'classifier option');
    checkKeys(o, KEYS, 'classifier option');
    const pooling = o.pooling ?? 'last';
    if (!['last', 'mean', 'max'].includes(pooling)) throw new ValueError(`Expected pooling 'last', 'mean' or 'max', got ${show(pooling)}`);
    const truncation = o.truncation ?? 'head';
    if (!['head', 'tail', 'headTail'].includes(truncation)) throw new ValueError(`Expected truncation 'head', 'tail' or 'headTail', got ${show(truncation)}`);
    this.labels = checkLabels(o.labels, 'labels');
    this.tokenizer = asTokenizer(o.tokenizer);
    this.config = { ...encoderConfig(o, false), pooling, truncation };
    this.index = new Map(this.labels.map((l, i) => [l, i]));
    const { ids, output, hN } = buildEncoder(this.tokenizer.size, this.config);
    // 'last': the final states (with bidirectional, the reverse direction's after reading the whole text)
    const pooled = pooling === 'last' ? hN : graph.pool(output, { mode: pooling, name: 'pool' });
    const logits = graph.linear(pooled, { outFeatures: this.labels.length, name: 'out' });
    const parts = { inputs: [ids], outputs: { logits }, seed: this.config.seed };
    // a given model must be the graph these options describe (tokenizer size, labels, settings)
    if (model) checkSameGraph(model, parts, 'the classifier options');
    this.model = model ?? new GraphModel(parts);
    this.optimizer = restored?.optimizer ?? null;
    this.training = restored?.training ?? null;
  }

  /** Token ids of each text, cut to maxLength as `truncation` says. */
  private encodeAll(texts: readonly string[], what: string): Int32Array[] {
    if (!Array.isArray(texts)) throw new ValueError(`Expected ${what} to be an array of strings, got ${show(texts)}`);
    return texts.map((t, i) => truncate(this.tokenizer.encode(t, `${what}[${i}]`), this.config.maxLength, this.config.truncation));
  }

  private labelIds(labels: readonly string[], n: number, what: string): Int32Array {
    if (!Array.isArray(labels) || labels.length !== n) throw new ShapeError(`Expected ${what} to be an array of ${n} labels, got ${Array.isArray(labels) ? labels.length : String(labels)}`);
    return Int32Array.from(labels, (l, i) => {
      const id = this.index.get(l);
      if (id === undefined) throw new ValueError(`Expected ${what}[${i}] among ${this.labels.join(', ')}, got ${JSON.stringify(l)}`);
      return id;
    });
  }

  /** Class probabilities (one Float32Array of labels.length per text, in `labels` order), batched by similar length. */
  predict(texts: readonly string[], o: { batchSize?: number } = {}): Float32Array[] {
    const seqs = this.encodeAll(texts, 'texts');
    const K = this.labels.length;
    const out: Float32Array[] = new Array(seqs.length);
    for (const batch of lengthBatches(seqs.map((s) => s.length), o.batchSize ?? 64)) {
      const { feed } = feedOf(batch.map((i) => seqs[i]), this.config.maxLength);
      const p = softmaxRows(this.model.forward(feed).logits.data as Float32Array, K);
      batch.forEach((i, b) => (out[i] = p.slice(b * K, b * K + K)));
    }
    return out;
  }

  /** The most probable label of each text. */
  classify(texts: readonly string[]): string[] {
    return this.predict(texts).map((p) => this.labels[argmax(p)]);
  }

  /** Accuracy on labelled texts. */
  evaluate(texts: readonly string[], labels: readonly string[]): { accuracy: number } {
    const y = this.labelIds(labels, texts.length, 'labels');
    const p = this.predict(texts);
    let ok = 0;
    p.forEach((q, i) => (ok += argmax(q) === y[i] ? 1 : 0));
    return { accuracy: ok / Math.max(1, texts.length) };
  }

  /** The data of a run, checked before anything changes, and its step and epoch batches. */
  private runData(texts: readonly string[], labels: readonly string[], o: { classWeights?: number[] | 'balanced'; sampleWeights?: number[]; validation?: { texts: string[]; labels: string[] } }, s: LoopSettings, opt: () => Optimizer) {
    const seqs = this.encodeAll(texts, 'texts');
    const y = this.labelIds(labels, seqs.length, 'labels');
    const K = this.labels.length;
    const cw = o.classWeights === 'balanced' ? balancedClassWeights(y, K) : o.classWeights;
    checkWeights('classWeights', cw, K);
    checkWeights('sampleWeights', o.sampleWeights, seqs.length);
    const v = o.validation;
    if (v) this.labelIds(v.labels, this.encodeAll(v.texts, 'validation.texts').length, 'validation.labels');
    const lengths = seqs.map((q) => q.length);
    const step: StepFn = (batch) => {
      const { feed } = feedOf(batch.map((i) => seqs[i]), this.config.maxLength);
      const targets = Int32Array.from(batch, (i) => y[i]);
      const sw = o.sampleWeights ? batch.map((i) => o.sampleWeights![i]) : undefined;
      return gradStep(this.model, feed, 'logits', (out) => {
        const r = weightedCrossEntropy(out.data as Float32Array, targets, K, { sampleWeights: sw, classWeights: cw });
        return { loss: r.loss, dOut: r.dLogits };
      }, opt(), s.clipNorm);
    };
    return {
      examples: seqs.length,
      step,
      epochBatches: (e: number) => lengthBatches(lengths, s.batchSize, s.seed * 1000 + e),
      validate: v ? () => this.evaluate(v.texts, v.labels).accuracy : null,
      snapshot: () => this.model.stateDict(),
      restore: (p: unknown) => this.model.loadStateDict(p as Record<string, Float32Array>),
    };
  }

  /**
   * Trains with the loop every application shares: step / epoch / time budgets, validation accuracy
   * every `evalEvery` steps (default once per epoch) with early stopping (`patience`), an AbortSignal
   * checked between steps, and the optimizer and training state kept so that a saved checkpoint
   * resumes bit for bit. Every argument is checked before the first step.
   */
  async train(texts: readonly string[], labels: readonly string[], o: ClassifierTrainOptions): Promise<TrainResult> {
    const run = checkLoop(o, TRAIN_EXTRA, 'train');
    const { batchSize, lr, clipNorm, seed } = o;
    const settings = resolveLoopSettings({ batchSize, lr, clipNorm, seed }, this.training?.settings, this.config.seed, DEFAULTS);
    if (this.optimizer && this.optimizer.lr !== settings.lr) throw new ValueError(`Expected lr ${this.optimizer.lr} (the optimizer's), got ${settings.lr}`);
    const data = this.runData(texts, labels, o, settings, () => this.optimizer!);
    // everything is validated: from here on the model changes
    this.training ??= { settings, step: 0 };
    this.optimizer ??= new Adam({ lr: settings.lr });
    return runLoop({ ...data, settings, state: this.training, higherIsBetter: true }, run);
  }

  /**
   * Trains for some epochs in one synchronous call (a fresh Adam each call), on the same loop as
   * train(): validation accuracy after every epoch, early stopping in epochs with the best epoch's
   * parameters kept, a TerminateOnNaN guard. Every argument is checked before the first step.
   */
  fit(texts: readonly string[], labels: readonly string[], o: ClassifierFitOptions = {}): LoopResult {
    checkKeys(o, FIT_KEYS, 'fit option');
    const settings = resolveLoopSettings({ batchSize: o.batchSize, lr: o.lr, clipNorm: o.clipNorm, seed: o.seed ?? 1 }, undefined, 1, DEFAULTS);
    let opt: Adam | null = null;
    const data = this.runData(texts, labels, o, settings, () => (opt ??= new Adam({ lr: settings.lr })));
    return fitEpochs({ ...data, settings, state: { step: 0 } }, { epochs: o.epochs ?? 10, earlyStopping: o.earlyStopping, onEpoch: o.onEpoch });
  }

  protected fileParts(training: TrainingState | undefined): Pick<SaveOptions, 'metadata'> {
    return { metadata: appMetadata({ app: 'classifier', tokenizer: this.tokenizer.toJSON(), labels: [...this.labels], config: { ...this.config }, training }) };
  }

  /** Reads a model file (a path in Node, bytes, or a Blob). */
  static async load(source: string | Uint8Array | ArrayBuffer | Blob): Promise<SequenceClassifier> {
    const l = await loadGraph(source);
    return SequenceClassifier.fromParts(l.model, l.metadata, l.optimizer);
  }

  /** A classifier from the bytes of its model file (with its optimizer and training state when stored). */
  static deserialize(bytes: Uint8Array | ArrayBuffer): SequenceClassifier {
    const l = deserializeGraph(bytes);
    return SequenceClassifier.fromParts(l.model, l.metadata, l.optimizer);
  }

  private static fromParts(model: GraphModel, metadata: Record<string, unknown> | undefined, optimizer?: Optimizer): SequenceClassifier {
    try {
      const h = appHeader(metadata, 'classifier');
      return new SequenceClassifier({ ...(h.config as object), tokenizer: h.tokenizer, labels: h.labels }, model, { optimizer, training: h.training });
    } catch (e) {
      model.dispose();
      optimizer?.dispose();
      throw appFileError(e, 'classifier');
    }
  }
}

/** The tokens of ids a model of maxLength steps reads. */
export function truncate(ids: Int32Array, maxLength: number, how: Truncation): Int32Array {
  if (ids.length <= maxLength) return ids;
  if (how === 'head') return ids.subarray(0, maxLength);
  if (how === 'tail') return ids.subarray(ids.length - maxLength);
  const head = Math.ceil(maxLength / 2);
  const out = new Int32Array(maxLength);
  out.set(ids.subarray(0, head));
  out.set(ids.subarray(ids.length - (maxLength - head)), head);
  return out;
}

export function argmax(p: ArrayLike<number>): number {
  let best = 0;
  for (let k = 1; k < p.length; k++) if (p[k] > p[best]) best = k;
  return best;
}
