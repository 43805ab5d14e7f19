// CharLM: a character-level language model on the public layer API — embedding → RNN/LSTM/GRU
// stack → linear over the vocabulary — with training over a long text (truncated BPTT), seeded
// sampling (temperature, top-k, top-p), completion, streaming generation and bits per character.
// The vocabulary, the architecture and (in checkpoints) the training state travel in the model file.
import { cellLayer } from '../common/cells';
import { Sequential, layers, type Model } from '../../model/model';
import { Adam, type Optimizer } from '../../train/optim';
import { serialize, deserialize, FormatError, type SaveOptions } from '../../io/format';
import { save as saveFile, load as loadFile } from '../../io/files';
import { Tensor } from '../../tensor';
import { ValueError, show } from '../../errors';
import { runtime, type Runtime } from '../../wasm/load';
import { Vocabulary, type UnknownPolicy } from './vocab';
import { checkConfig, checkKeys, positiveInt, resolveSettings, seedValue, type CharLMConfig, type CharLMOptions, type TrainSettings } from './options';
import { checkSampling, type SamplingOptions } from './sampling';
import { CharStream } from './generate';
import { Batches } from './batches';
import { checkRun, runLoop, splitText, type TrainOptions, type TrainResult, type TrainingState } from './train';

/** Options of `CharLM.sample`: how many characters, after which prompt, and how to draw them. */
export interface SampleOptions extends SamplingOptions {
  /** Characters to produce (default 200). */
  length?: number;
  /** Text read before sampling (not part of the result). */
  prompt?: string;
  /** Seed of the draws (default 0): the same seed gives the same text. */
  seed?: number;
}

/**
 * Options of `CharLM.complete`: greedy unless a temperature, topK or topP is given; stops at `maxLength` or
 * before any `until` string.
 */
export interface CompleteOptions extends SamplingOptions {
  /** At most this many characters (default 100). */
  maxLength?: number;
  /** Stop after any of these strings; the stop string is cut off the result. */
  until?: string | string[];
  /** Seed of the draws when sampling (default 0). */
  seed?: number;
}

/** Options of `CharLM.generator`: the text read first, the sampling settings and the seed. */
export interface GeneratorOptions extends SamplingOptions {
  /** Text read before the first character is produced. */
  prompt?: string;
  /** Seed of the draws (default 0). */
  seed?: number;
}

const FILE_VERSION = 1;
const SAMPLE_KEYS = ['temperature', 'topK', 'topP', 'greedy', 'seed'];

/**
 * A character-level language model: a vocabulary built from text, embedding → RNN/LSTM/GRU stack → linear,
 * resumable training over one long text, seeded sampling, completion, streaming generation and bits per
 * character. The vocabulary, the architecture and the training state travel inside its model file.
 */
export class CharLM {
  /** The model's characters and their ids. */
  readonly vocabulary: Vocabulary;
  /** The architecture. */
  readonly config: Readonly<CharLMConfig>;
  /** The network: embedding → recurrent stack → linear (logits over the vocabulary). */
  readonly model: Sequential;
  private optimizer: Optimizer | null;
  private training: TrainingState | null;

  /** A new model over a vocabulary (a text's characters, or a token list as stored in files). */
  constructor(o: CharLMOptions & { vocabulary: string | readonly string[] }, restored?: { model: Sequential; optimizer?: Optimizer; training?: TrainingState }) {
    const cfg = checkConfig(o);
    const voc = o.vocabulary;
    this.vocabulary = typeof voc === 'string' ? Vocabulary.fromText(voc, cfg.unknown) : new Vocabulary(voc, cfg.unknown);
    const { unknown: _u, ...config } = cfg;
    this.config = Object.freeze(config);
    this.model = restored?.model ?? buildModel(this.config, this.vocabulary.size);
    this.optimizer = restored?.optimizer ?? null;
    this.training = restored?.training ?? null;
  }

  /** A new model whose vocabulary is the distinct characters of text. */
  static fromText(text: string, o: CharLMOptions = {}): CharLM {
    if (!o || typeof o !== 'object') throw new ValueError(`Expected CharLM options as an object, got ${show(o)}`);
    return new CharLM({ ...o, vocabulary: text });
  }

  /** What happens to characters outside the vocabulary: `'unk'` maps them to `<unk>`, `'error'` throws. */
  get unknown(): UnknownPolicy {
    return this.vocabulary.unknown;
  }
  /** Training steps taken so far (kept in checkpoints). */
  get step(): number {
    return this.training?.step ?? 0;
  }
  /** The training settings in force (after the first train() or a loaded checkpoint). */
  get trainSettings(): Readonly<TrainSettings> | undefined {
    return this.training?.settings;
  }

  /**
   * Trains on text for a budget of steps and/or minutes. The last `validation` fraction of the
   * text (or a separate text) is held out and scored before and after (bits per character).
   * A later call, or one on a loaded checkpoint, continues the same run: optimizer moments, step
   * count and batch order carry on, and settings that shape the run may not change.
   */
  async train(text: string, o: TrainOptions): Promise<TrainResult> {
    const run = checkRun(o);
    const settings = resolveSettings(pick(o), this.training?.settings, this.config.seed);
    if (this.optimizer && this.optimizer.lr !== settings.lr) throw new ValueError(`Expected lr ${this.optimizer.lr} (the optimizer's), got ${settings.lr}`);
    const ids = this.vocabulary.encode(text, 'text');
    const { train, valid } = splitText(ids, run.validation, (s, arg) => this.vocabulary.encode(s, arg));
    const state: TrainingState = this.training ? { ...this.training, settings } : { settings, step: 0, order: { rng: [0, 0, 0, 0], cursor: 0 } };
    const batches = new Batches(train, settings, this.training?.order);
    // everything is validated: from here on the model changes
    state.order = batches.state();
    this.training = state;
    this.optimizer ??= new Adam({ lr: settings.lr });
    const vIds = valid && run.validationChars ? valid.subarray(0, run.validationChars) : valid;
    const validate = vIds ? () => this.bitsPerCharOfIds(vIds) : null;
    return runLoop({ model: this.model, optimizer: this.optimizer, state, batches, validate }, run);
  }

  /** Mean bits per character of predicting each character of text from the ones before it (zero initial state). */
  bitsPerChar(text: string): number {
    const ids = this.vocabulary.encode(text, 'text');
    if (ids.length < 2) throw new ValueError(`Expected text of at least 2 characters, got ${ids.length}`);
    return this.bitsPerCharOfIds(ids);
  }

  private bitsPerCharOfIds(ids: Int32Array): number {
    const W = 256; // characters per forward call; the state is carried across calls
    const V = this.vocabulary.size;
    let h0: Float32Array | undefined;
    let c0: Float32Array | undefined;
    let nats = 0;
    const n = ids.length - 1;
    const rt = runtime();
    const rows = Math.min(W, n) * V;
    const x = rt.heap.alloc(2 * rows); // logits, then their log-softmax (one block for the whole text)
    try {
      for (let t0 = 0; t0 < n; t0 += W) {
        const T = Math.min(W, n - t0);
        const r = this.model.forward(new Tensor(ids.slice(t0, t0 + T), [T, 1]), { h0, c0 });
        nats += natsOf(rt, x, x + rows, r.output.data, T, V, ids.subarray(t0 + 1, t0 + T + 1));
        h0 = r.hN.data;
        c0 = r.cN?.data;
      }
    } finally {
      rt.heap.release(x);
    }
    return nats / n / Math.LN2;
  }

  /** A stream that reads `prompt` and then produces characters one at a time, keeping its state between calls. */
  generator(o: GeneratorOptions = {}): CharStream {
    if (!o || typeof o !== 'object') throw new ValueError(`Expected generator options as an object, got ${show(o)}`);
    checkKeys(o, [...SAMPLE_KEYS, 'prompt'], 'generator option');
    const sampling = checkSampling(o, { greedy: false });
    const seed = seedValue('seed', o.seed ?? 0);
    const prompt = o.prompt ?? '';
    if (typeof prompt !== 'string') throw new ValueError(`Expected prompt to be a string, got ${typeof prompt}`);
    this.vocabulary.encode(prompt, 'prompt'); // unknown characters are rejected before anything runs
    const g = new CharStream(this.model, this.vocabulary, sampling, seed);
    g.feed(prompt);
    return g;
  }

  /** `length` characters sampled after `prompt` (temperature 1 by default; reproducible for a seed). */
  sample(o: SampleOptions = {}): string {
    if (!o || typeof o !== 'object') throw new ValueError(`Expected sample options as an object, got ${show(o)}`);
    checkKeys(o, [...SAMPLE_KEYS, 'prompt', 'length'], 'sample option');
    const length = o.length === undefined ? 200 : positiveInt('length', o.length, 1 << 24);
    const { length: _l, ...rest } = o;
    const g = this.generator(rest);
    try {
      return g.take(length);
    } finally {
      g.close();
    }
  }

  /** The continuation of prompt: greedy by default, sampled when a temperature, topK or topP is given. */
  complete(prompt: string, o: CompleteOptions = {}): string {
    if (typeof prompt !== 'string') throw new ValueError(`Expected prompt to be a string, got ${typeof prompt}`);
    if (!o || typeof o !== 'object') throw new ValueError(`Expected complete options as an object, got ${show(o)}`);
    checkKeys(o, [...SAMPLE_KEYS, 'maxLength', 'until'], 'complete option');
    const maxLength = o.maxLength === undefined ? 100 : positiveInt('maxLength', o.maxLength, 1 << 24);
    const until = o.until === undefined ? [] : Array.isArray(o.until) ? o.until : [o.until];
    until.forEach((u, i) => {
      if (typeof u !== 'string' || u.length === 0) throw new ValueError(`Expected until[${i}] to be a non-empty string, got ${JSON.stringify(u)}`);
    });
    const sampling = checkSampling(o, { greedy: true });
    const seed = seedValue('seed', o.seed ?? 0);
    this.vocabulary.encode(prompt, 'prompt');
    const g = new CharStream(this.model, this.vocabulary, sampling, seed);
    try {
      g.feed(prompt);
      return g.take(maxLength, until);
    } finally {
      g.close();
    }
  }

  /** The model file: vocabulary, architecture and (unless `optimizer: false`) the training state to resume from. */
  serialize(o: { optimizer?: boolean } = {}): Uint8Array<ArrayBuffer> {
    return serialize(this.model, this.saveOptions(o));
  }

  /** Saves to a path (Node; atomic: temporary file, fsync, rename). */
  async save(path: string, o: { optimizer?: boolean } = {}): Promise<void> {
    await saveFile(this.model, path, this.saveOptions(o));
  }

  private saveOptions(o: { optimizer?: boolean }): SaveOptions {
    if (!o || typeof o !== 'object') throw new ValueError(`Expected save options as an object, got ${show(o)}`);
    checkKeys(o, ['optimizer'], 'save option');
    const withOpt = o.optimizer !== false;
    const charlm: Record<string, unknown> = { version: FILE_VERSION, unknown: this.unknown, config: this.config };
    if (withOpt && this.training) charlm.training = this.training;
    return { vocabulary: [...this.vocabulary.tokens], metadata: { charlm }, optimizer: withOpt && this.optimizer ? this.optimizer : undefined };
  }

  /** Rebuilds a CharLM from a model file's bytes. */
  static deserialize(bytes: Uint8Array | ArrayBuffer): CharLM {
    return fromLoaded(deserialize(bytes));
  }

  /** Loads from a path (Node), bytes, an ArrayBuffer or a Blob. */
  static async load(source: string | Uint8Array | ArrayBuffer | Blob): Promise<CharLM> {
    return fromLoaded(await loadFile(source));
  }

  /** Releases the model's and its optimizer's wasm memory. */
  dispose(): void {
    this.optimizer?.dispose();
    this.model.dispose();
  }
}

function buildModel(c: CharLMConfig, V: number): Sequential {
  const rec = { inputSize: c.embeddingDim, hiddenSize: c.hiddenSize, numLayers: c.numLayers, dropout: c.dropout };
  return new Sequential(
    [
      layers.embedding({ numEmbeddings: V, embeddingDim: c.embeddingDim }),
      cellLayer(c.cell, rec, { forgetBias: true }),
      layers.linear({ inFeatures: c.hiddenSize, outFeatures: V }),
    ],
    { seed: c.seed },
  );
}

function pick(o: TrainOptions): Partial<TrainSettings> {
  const { seqLen, batchSize, tbptt, order, lr, clipNorm, seed } = o;
  return { seqLen, batchSize, tbptt, order, lr, clipNorm, seed };
}

/** log softmax(out[off … off+V))[k], in f64. */
/**
 * −Σ_t log softmax(row t of out)[targets[t]] in nats over T rows of V logits, through the wasm buffers
 * x (logits) and y (log-softmax) of at least T·V elements each. The log-softmax runs
 * in wasm, whose arithmetic is the same in every engine; Math.exp and Math.log are not (Node's and
 * Chromium's V8 differ in the last bit), and bits per character must match wherever the model runs.
 */
function natsOf(rt: Runtime, x: number, y: number, out: Float32Array, T: number, V: number, targets: Int32Array): number {
  rt.heap.f32.set(out.subarray(0, T * V), x);
  rt.k.log_softmax_rows(y, x, T, V);
  const f = rt.heap.f32;
  let nats = 0;
  for (let t = 0; t < T; t++) nats -= f[y + t * V + targets[t]];
  return nats;
}

function fromLoaded(l: { model: Model; vocabulary?: string[]; metadata?: Record<string, unknown>; optimizer?: Optimizer }): CharLM {
  try {
    const meta = l.metadata?.charlm as { version?: number; unknown?: UnknownPolicy; config?: CharLMConfig; training?: TrainingState } | undefined;
    if (!meta || meta.version !== FILE_VERSION || !meta.config) throw new FormatError(`Expected a character model file (metadata.charlm version ${FILE_VERSION}), got ${meta ? `version ${show(meta.version)}` : 'a model without it'}`);
    if (!(l.model instanceof Sequential) || !Array.isArray(l.vocabulary)) throw new FormatError('Expected a Sequential model with a vocabulary, got another model');
    if (meta.training) checkTrainingState(meta.training, meta.config.seed);
    const lm = new CharLM({ ...meta.config, unknown: meta.unknown, vocabulary: l.vocabulary }, { model: l.model, optimizer: l.optimizer, training: meta.training });
    const want = expectedLayers(lm.config, lm.vocabulary.size);
    if (layersOf(l.model) !== want) throw new FormatError(`Expected layers ${want} (from metadata.charlm), got ${layersOf(l.model)}`);
    return lm;
  } catch (e) {
    l.optimizer?.dispose();
    l.model.dispose();
    if (e instanceof ValueError) throw new FormatError(`Expected a valid character model file, got: ${e.message}`);
    throw e;
  }
}

/** A checkpoint's training state must hold valid settings, a step count and a batch order. */
function checkTrainingState(t: TrainingState, seed: number): void {
  const s = t.settings;
  if (!s || typeof s !== 'object') throw new FormatError('Expected training settings in metadata.charlm.training, got none');
  const valid = resolveSettings(s, undefined, seed);
  for (const k of Object.keys(valid) as (keyof TrainSettings)[]) {
    if (valid[k] !== s[k]) throw new FormatError(`Expected training setting ${k} in the file, got ${show(s[k])}`);
  }
  if (!(Number.isInteger(t.step) && t.step >= 0)) throw new FormatError(`Expected a step count ≥ 0 in the file, got ${show(t.step)}`);
  const o = t.order;
  if (!o || !Array.isArray(o.rng) || o.rng.length !== 4 || !o.rng.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff) || !(Number.isInteger(o.cursor) && o.cursor >= 0)) {
    throw new FormatError(`Expected a batch order { rng: 4 words, cursor } in the file, got ${JSON.stringify(o)}`);
  }
}

/** The layers CharLM builds for a config (what a file's architecture must be). */
function expectedLayers(c: CharLMConfig, V: number): string {
  const rec = { type: c.cell, inputSize: c.embeddingDim, hiddenSize: c.hiddenSize, numLayers: c.numLayers, bidirectional: false };
  return JSON.stringify([{ type: 'embedding', numEmbeddings: V, embeddingDim: c.embeddingDim }, rec, { type: 'linear', inFeatures: c.hiddenSize, outFeatures: V }]);
}

function layersOf(m: Sequential): string {
  return JSON.stringify(
    m.config().map((l, i) => (i === 1 ? { type: l.type, inputSize: l.inputSize, hiddenSize: l.hiddenSize, numLayers: l.numLayers, bidirectional: l.bidirectional } : i === 2 ? { type: l.type, inFeatures: l.inFeatures, outFeatures: l.outFeatures } : l)),
  );
}
