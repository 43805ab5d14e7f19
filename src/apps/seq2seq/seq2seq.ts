// Seq2Seq: an encoder–decoder (optionally with attention) on the public graph API, with token
// vocabularies that travel in the model file, teacher-forced training (one wasm call per step),
// validation with early stopping, greedy and beam-search decoding (n-best, attention weights),
// and teacher-forced log-probabilities of given outputs.
import { GraphModel } from '../../graph/model';
import { architectureOf } from '../../graph/spec';
import { Adam, type Optimizer, type Schedule } from '../../train/optim';
import { serialize, deserializeGraph, FormatError, isObject, type LoadedGraph } from '../../io/format';
import { save as saveFile, loadGraph } from '../../io/files';
import { ValueError, show, describe } from '../../errors';
import { buildGraph, graphParts, checkConfig, checkKeys, posInt, type Seq2SeqConfig, type Seq2SeqOptions } from './config';
import { TokenVocab } from './vocab';
import { specOf } from '../../graph/spec';
import { trainBatch, logSoftmaxRow, chunksByLength } from './batch';
import { greedyChunk, searchChunk, type Hypothesis, type SearchSettings } from './search';
import { checkTraining, fitLoop, type FitOptions, type FitResult, type Seq2SeqTraining } from './fit';

/** A training pair: a source text and its target text. */
export type Pair = readonly [string, string];

/**
 * Options of `Seq2Seq.translate`: beam width, n-best lists, length normalisation, output length and batch
 * size.
 */
export interface TranslateOptions {
  /** Beam width (1: greedy decoding). */
  beam?: number;
  /** Hypotheses returned per input (≤ beam). */
  nbest?: number;
  /** Length normalisation exponent (0: none). */
  alpha?: number;
  /** Maximum output tokens (at most 65536; default 2 × source tokens + 10, at most DEFAULT_MAX_OUTPUT = 512). */
  maxLength?: number;
  /** Inputs decoded together (each step is one wasm call for all their hypotheses). */
  batchSize?: number;
}

/**
 * The translation of one input: the best output (text, tokens, normalised score, log-probability), the n-best
 * list and its attention weights.
 */
export interface Translation {
  /** The output text (tokens joined: nothing between characters, a space between words). */
  text: string;
  /** The output tokens, without `</s>`. */
  tokens: string[];
  /** The length-normalised score the search ranks by: log p / ((5 + n) / 6)^alpha. */
  score: number;
  /** Σ log p of the tokens and `</s>` (natural log). */
  logProb: number;
  /** The best `nbest` hypotheses, best first. */
  nbest: { text: string; tokens: string[]; score: number; logProb: number }[];
  /** Attention weights of the chosen output: a row per output token (then </s>), each over the source tokens. */
  attention: number[][];
}

const FILE_VERSION = 1;
/**
 * The default cap on output tokens when translate() is given no maxLength: 2 × source tokens + 10,
 * but never more than this (a 5,000-character source decoded 10,010 steps: 15.5 s and 870 MiB).
 */
export const DEFAULT_MAX_OUTPUT = 512;

const TRANSLATE_KEYS = ['beam', 'nbest', 'alpha', 'maxLength', 'batchSize'];

/**
 * An encoder–decoder on the model graph, with optional attention, trained with teacher forcing and decoded
 * greedily or by beam search (also as an ensemble of models). Both vocabularies and the architecture travel
 * in its model file.
 */
export class Seq2Seq {
  /** The architecture. */
  readonly config: Readonly<Seq2SeqConfig>;
  /** The source vocabulary. */
  readonly source: TokenVocab;
  /** The target vocabulary. */
  readonly target: TokenVocab;
  /** The network (a graph model). */
  readonly model: GraphModel;
  /** @internal */
  optimizer: Optimizer | null = null;
  /** @internal the training loop's state (kept in checkpoints with the optimizer; fit() resumes it). */
  training: Seq2SeqTraining | null = null;

  /** Training steps taken so far (kept in checkpoints). */
  get step(): number {
    return this.training?.step ?? 0;
  }

  constructor(o: Seq2SeqOptions & { source: TokenVocab; target: TokenVocab }, model?: GraphModel) {
    if (o === null || typeof o !== 'object') throw new ValueError(`Expected Seq2Seq options as an object, got ${show(o)}`);
    const { source, target, ...rest } = o;
    if (!(source instanceof TokenVocab) || !(target instanceof TokenVocab)) throw new ValueError('Expected source and target vocabularies (TokenVocab), got something else');
    this.config = Object.freeze(checkConfig({ ...rest, sourceTokens: source.mode, targetTokens: target.mode }));
    this.source = source;
    this.target = target;
    this.model = model ?? buildGraph(this.config, source.size, target.size);
  }

  /** A new model whose vocabularies are the tokens of the training pairs. */
  static fromPairs(pairs: readonly Pair[], o: Seq2SeqOptions = {}): Seq2Seq {
    checkPairs(pairs, 'pairs');
    const c = checkConfig(o);
    return new Seq2Seq({
      ...o,
      source: TokenVocab.fromTexts(c.sourceTokens, pairs.map((p) => p[0])),
      target: TokenVocab.fromTexts(c.targetTokens, pairs.map((p) => p[1])),
    });
  }

  /** Teacher-forced training with validation and early stopping; the best parameters are kept. */
  async fit(pairs: readonly Pair[], o: FitOptions = {}): Promise<FitResult> {
    checkPairs(pairs, 'pairs');
    return fitLoop(this, pairs, o);
  }

  /** @internal encoded pairs (sources and targets as ids). */
  encodePairs(pairs: readonly Pair[], arg: string): { srcs: Int32Array[]; tgts: Int32Array[] } {
    checkPairs(pairs, arg);
    const srcs = pairs.map((p, i) => this.encodeSource(p[0], `${arg}[${i}][0]`));
    const tgts = pairs.map((p) => this.target.encode(p[1]));
    return { srcs, tgts };
  }

  /** @internal source ids (at least one token). */
  encodeSource(text: string, arg: string): Int32Array {
    const ids = this.source.encode(text, arg);
    if (ids.length === 0) throw new ValueError(`Expected ${arg} to have at least one token, got none`);
    return ids;
  }

  /** Σ log p(target tokens and </s> | source) of each pair, by teacher forcing (natural log). */
  logProb(pairs: readonly Pair[]): number[] {
    const { srcs, tgts } = this.encodePairs(pairs, 'pairs');
    return this.logProbIds(srcs, tgts);
  }

  /** @internal logProb of id sequences (sources non-empty; targets without </s>). */
  logProbIds(srcs: readonly Int32Array[], tgts: readonly Int32Array[]): number[] {
    const out = new Array<number>(srcs.length);
    for (const chunk of chunksByLength(srcs.map((s) => s.length), 64)) {
      const batch = trainBatch(chunk.map((i) => srcs[i]), chunk.map((i) => tgts[i]));
      const logits = this.model.forward(batch.inputs).logits;
      const [, B, V] = logits.shape;
      const y = batch.targets.logits.data as Int32Array;
      chunk.forEach((i, b) => {
        let s = 0;
        for (let t = 0; t <= tgts[i].length; t++) s += logSoftmaxRow(logits.data as Float32Array, t * B + b, V)[y[t * B + b]];
        out[i] = s;
      });
    }
    return out;
  }

  /** Decodes each text (greedy at beam 1, else beam search); results in input order. */
  translate(texts: readonly string[], o: TranslateOptions = {}): Translation[] {
    return this.decodeWith([this.model], texts, o);
  }

  /**
   * Decodes with several models of the same source and target vocabularies as one (an ensemble):
   * every step averages their log-probabilities; greedy and beam search, n-best lists, scores and
   * options as translate(); the attention weights are the first model's. Models trained alike
   * from different seeds make fewer errors together than any one of them.
   */
  static translateEnsemble(members: readonly Seq2Seq[], texts: readonly string[], o: TranslateOptions = {}): Translation[] {
    checkEnsemble(members);
    return members[0].decodeWith(members.map((m) => m.model), texts, o);
  }

  private decodeWith(models: readonly GraphModel[], texts: readonly string[], o: TranslateOptions): Translation[] {
    if (!Array.isArray(texts)) throw new ValueError(`Expected texts to be an array of strings, got ${typeof texts}`);
    const s = this.searchSettings(o);
    const srcs = texts.map((t, i) => this.encodeSource(t, `texts[${i}]`));
    const out = new Array<Translation>(texts.length);
    for (const chunk of chunksByLength(srcs.map((x) => x.length), posInt('batchSize', o.batchSize ?? 64, 1 << 16))) {
      const part = chunk.map((i) => srcs[i]);
      const res = s.beam === 1 ? greedyChunk(models, part, s) : searchChunk(models, part, s);
      chunk.forEach((i, k) => {
        const nbest = res[k].nbest.map((h) => this.hyp(h));
        out[i] = { ...nbest[0], nbest, attention: res[k].weights.map((w) => Array.from(w)) };
      });
    }
    return out;
  }

  /** @internal the target ids of the best greedy output of each source (validation). */
  greedyIds(srcs: readonly Int32Array[]): Int32Array[] {
    const s = this.searchSettings({});
    const out = new Array<Int32Array>(srcs.length);
    for (const chunk of chunksByLength(srcs.map((x) => x.length), 128)) {
      greedyChunk([this.model], chunk.map((i) => srcs[i]), s).forEach((r, k) => (out[chunk[k]] = r.nbest[0].ids));
    }
    return out;
  }

  private hyp(h: Hypothesis): { text: string; tokens: string[]; score: number; logProb: number } {
    const tokens = Array.from(h.ids, (id) => this.target.tokens[id]);
    return { text: this.target.decode(h.ids), tokens, score: h.score, logProb: h.logProb };
  }

  /** @internal validated decoding settings (the worker pool checks a call with it before sending). */
  searchSettings(o: TranslateOptions): SearchSettings {
    if (o === null || typeof o !== 'object') throw new ValueError(`Expected translate options as an object, got ${show(o)}`);
    checkKeys(o, TRANSLATE_KEYS, 'translate option');
    const beam = o.beam === undefined ? 1 : posInt('beam', o.beam, 1024);
    const nbest = o.nbest === undefined ? 1 : posInt('nbest', o.nbest, 1024);
    if (nbest > beam) throw new ValueError(`Expected nbest ≤ beam (${beam}), got ${nbest}`);
    const alpha = o.alpha ?? 0;
    if (typeof alpha !== 'number' || !Number.isFinite(alpha) || alpha < 0) throw new ValueError(`Expected alpha to be a finite number ≥ 0, got ${show(o.alpha)}`);
    const ml = o.maxLength === undefined ? undefined : posInt('maxLength', o.maxLength, 1 << 16);
    return { beam, nbest, alpha, maxLength: (n) => ml ?? Math.min(2 * n + 10, DEFAULT_MAX_OUTPUT) };
  }

  /** The model file: architecture, parameters, both vocabularies (and the optimizer unless `optimizer: false`). */
  serialize(o: { optimizer?: boolean } = {}): Uint8Array<ArrayBuffer> {
    return serialize(this.model, this.saveOptions(o));
  }

  /** Writes the model file (Node), with the optimizer and training state unless `optimizer: false`. */
  async save(path: string, o: { optimizer?: boolean } = {}): Promise<void> {
    await saveFile(this.model, path, this.saveOptions(o));
  }

  private saveOptions(o: { optimizer?: boolean }) {
    if (o === null || typeof o !== 'object') throw new ValueError(`Expected save options as an object, got ${show(o)}`);
    checkKeys(o, ['optimizer'], 'save option');
    const withOpt = o.optimizer !== false && this.optimizer !== null;
    const seq2seq = { version: FILE_VERSION, config: this.config, source: [...this.source.tokens], target: [...this.target.tokens], ...(withOpt && this.training ? { training: this.training } : {}) };
    return { metadata: { seq2seq }, optimizer: withOpt ? this.optimizer! : undefined };
  }

  /** A Seq2Seq from the bytes of its model file. */
  static deserialize(bytes: Uint8Array | ArrayBuffer): Seq2Seq {
    return seq2seqFromLoaded(deserializeGraph(bytes));
  }

  /** Loads from a path (Node), bytes, an ArrayBuffer or a Blob. */
  static async load(source: string | Uint8Array | ArrayBuffer | Blob): Promise<Seq2Seq> {
    return seq2seqFromLoaded(await loadGraph(source));
  }

  /** Releases the model's and its optimizer's wasm memory. */
  dispose(): void {
    this.optimizer?.dispose();
    this.model.dispose();
  }

  /**
   * @internal The optimizer of a fit: a new Adam, the one an earlier fit left, or a checkpoint's
   * (`resuming`: it takes the run's learning-rate schedule, which a file does not store).
   */
  optimizerFor(lr: number, schedule: Schedule | undefined, resuming: boolean): Optimizer {
    if (this.optimizer && this.optimizer.lr !== lr) throw new ValueError(`Expected lr ${this.optimizer.lr} (the optimizer's, from an earlier fit or the file), got ${lr}`);
    if (this.optimizer && schedule && !resuming) throw new ValueError('Expected no lrDecay when fit continues with an existing optimizer (from an earlier fit or the file), got one');
    if (this.optimizer && schedule && !this.optimizer.schedule) {
      const next = new Adam({ lr, schedule });
      const { rt, arena } = this.model.runner;
      next.bind(rt, arena);
      try {
        next.loadState(this.optimizer.state());
      } catch (e) {
        next.dispose(); // the checkpoint's optimizer stays as it was
        throw e;
      }
      this.optimizer.dispose();
      this.optimizer = next;
    }
    this.optimizer ??= new Adam({ lr, schedule });
    return this.optimizer;
  }
}

/** Throws a ValueError unless `members` is a non-empty array of Seq2Seq models with the same vocabularies. */
export function checkEnsemble(members: readonly Seq2Seq[]): void {
  if (!Array.isArray(members) || members.length === 0 || !members.every((m) => m instanceof Seq2Seq)) {
    throw new ValueError(`Expected members to be a non-empty array of Seq2Seq models, got ${Array.isArray(members) ? `${members.length} items${members.length ? ' that are not all Seq2Seq' : ''}` : typeof members}`);
  }
  const [first] = members;
  members.forEach((m, i) => {
    for (const side of ['source', 'target'] as const) {
      if (m[side].mode !== first[side].mode || m[side].tokens.join('\u0000') !== first[side].tokens.join('\u0000')) {
        throw new ValueError(`Expected every member to have the first one's ${side} vocabulary, got another in members[${i}]`);
      }
    }
  });
}

function checkPairs(pairs: readonly Pair[], arg: string): void {
  if (!Array.isArray(pairs) || pairs.length === 0) throw new ValueError(`Expected ${arg} to be a non-empty array of [source, target] strings, got ${Array.isArray(pairs) ? 'an empty array' : typeof pairs}`);
  pairs.forEach((p, i) => {
    if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== 'string' || typeof p[1] !== 'string') throw new ValueError(`Expected ${arg}[${i}] to be [source, target] strings, got ${JSON.stringify(p)}`);
  });
}

/** A Seq2Seq from a parsed graph model file (FormatError, and everything released, unless it is one). */
export function seq2seqFromLoaded(l: LoadedGraph): Seq2Seq {
  try {
    const meta = l.metadata?.seq2seq as { version?: number; config?: Seq2SeqConfig; source?: string[]; target?: string[] } | undefined;
    if (!meta || meta.version !== FILE_VERSION || !isObject(meta.config)) throw new FormatError(`Expected a seq2seq model file (metadata.seq2seq version ${FILE_VERSION}), got ${meta ? `version ${show(meta.version)} and config ${describe(meta.config)}` : 'a model without it'}`);
    const { sourceTokens, targetTokens, ...rest } = meta.config;
    const s = new Seq2Seq({ ...rest, source: new TokenVocab(sourceTokens, meta.source ?? []), target: new TokenVocab(targetTokens, meta.target ?? []) }, l.model);
    const want = buildSpec(s);
    if (architectureOf(l.model.spec()) !== want) throw new FormatError('Expected the graph that metadata.seq2seq describes, got another graph');
    const training = (meta as { training?: unknown }).training;
    if (training !== undefined) {
      checkTraining(training);
      if (!l.optimizer) throw new FormatError('Expected the optimizer beside metadata.seq2seq.training (a checkpoint), got none');
    }
    s.optimizer = l.optimizer ?? null;
    s.training = (training as Seq2SeqTraining | undefined) ?? null;
    return s;
  } catch (e) {
    l.optimizer?.dispose();
    l.model.dispose();
    if (e instanceof ValueError) throw new FormatError(`Expected a valid seq2seq model file, got: ${e.message}`);
    throw e;
  }
}

/** The architecture (architectureOf) of the graph a Seq2Seq of this config and these vocabularies builds (no model is built: no wasm memory). */
function buildSpec(s: Seq2Seq): string {
  return architectureOf(specOf(graphParts(s.config, s.source.size, s.target.size)));
}
