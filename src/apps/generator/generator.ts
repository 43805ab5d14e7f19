// ConditionalGenerator: one-to-many character generation from a conditioning vector (a class such
// as a gender, or any vector), built on the model graph: ids → embedding ⊕ repeat(v) → RNN/LSTM/GRU
// (initial state tanh(W v + b)) → linear over the vocabulary. Trained with teacher forcing on
// (text, condition) pairs, each text framed by a newline (start) and ended by one (stop); sampled
// step by step with the graph's decoder (all requested texts as rows of one wasm call per step)
// and CharLM's sampling (temperature, top-k, top-p, seed). Vocabulary, classes, architecture and
// the training state travel in the model file.
import { cellNode } from '../common/cells';
import { CELLS } from '../../layers/cells';
import * as g from '../../graph/nodes';
import { GraphModel } from '../../graph/model';
import { architectureOf, specOf, type GraphParts } from '../../graph/spec';
import { Adam, type Optimizer } from '../../train/optim';
import { deserializeGraph, FormatError, isObject, type SaveOptions } from '../../io/format';
import { loadGraph } from '../../io/files';
import { Tensor } from '../../tensor';
import { ValueError, show, describe } from '../../errors';
import { Rng } from '../../params/rng';
import { Vocabulary } from '../charlm/vocab';
import { checkKeys, positiveInt, seedValue } from '../charlm/options';
import { checkSampling, pick, type SamplingOptions } from '../charlm/sampling';
import { checkLoop, graphStep, resolveLoopSettings, runLoop, type LoopOptions, type LoopResult } from '../graph-loop';
import { GraphApp, type TrainingState } from '../graph-app';
import { checkGeneratorConfig, conditionVector, type GeneratorConfig, type GeneratorOptions } from './options';
import { checkGuidance, guidedLogits, type GuidanceOptions } from './guidance';

/** A training example: a text (no newlines) and its condition (a class name or a vector). */
export interface ConditionalExample {
  /** The text (no newlines). */
  text: string;
  /** Its condition: a class name, or a vector of `conditionSize` numbers. */
  condition: string | ArrayLike<number>;
}

/** Options of `ConditionalGenerator.train`: the shared training loop's options and held-out examples. */
export interface GeneratorTrainOptions extends LoopOptions {
  /** Held-out examples: a fraction taken from the end of the list (default 0), or a separate list. */
  validation?: number | ConditionalExample[];
}

/**
 * Options of `ConditionalGenerator.generate`: the condition, how many texts, their length, sampling and
 * guidance.
 */
export interface GenerateOptions extends SamplingOptions, GuidanceOptions {
  /** The condition: a class name or a vector. */
  condition: string | ArrayLike<number>;
  /** Texts to produce (default 1), all decoded together. */
  count?: number;
  /** At most this many characters per text (default 40). */
  maxLength?: number;
  /** Seed of the draws (default 0). */
  seed?: number;
}

const FILE_VERSION = 1;
const STOP = '\n';
const TRAIN_EXTRA = ['validation'];

/**
 * One-to-many text generation from a condition (a class name or a vector) on the model graph: the condition
 * sets the initial state and/or joins the input at every step; sampling as CharLM's, with optional
 * contrastive guidance. Vocabulary, classes and architecture travel in its model file.
 */
export class ConditionalGenerator extends GraphApp {
  /** The architecture. */
  readonly config: Readonly<GeneratorConfig>;
  /** The characters it writes. */
  readonly vocabulary: Vocabulary;
  /** The network (a graph model). */
  readonly model: GraphModel;

  /** A new generator over a vocabulary (the characters of the texts to learn; a newline is added). */
  constructor(o: GeneratorOptions & { vocabulary: string | readonly string[] }, restored?: { model: GraphModel; optimizer?: Optimizer; training?: TrainingState }) {
    super();
    this.config = Object.freeze(checkGeneratorConfig(o, ['vocabulary']));
    const voc = o.vocabulary;
    if (typeof voc === 'string') {
      if (voc.length === 0) throw new ValueError('Expected vocabulary to be a non-empty string of characters, got an empty string');
      this.vocabulary = Vocabulary.fromText(voc.includes(STOP) ? voc : voc + STOP, 'error');
    } else this.vocabulary = new Vocabulary(voc, 'error');
    if (!this.vocabulary.tokens.includes(STOP)) throw new ValueError('Expected a newline (the stop token) in the vocabulary, got none');
    this.model = restored?.model ?? buildGraph(this.config, this.vocabulary.size);
    this.optimizer = restored?.optimizer ?? null;
    this.training = restored?.training ?? null;
  }

  /** A new generator whose vocabulary is the characters of the examples' texts. */
  static fromExamples(examples: readonly ConditionalExample[], o: GeneratorOptions): ConditionalGenerator {
    if (!Array.isArray(examples) || examples.length === 0) throw new ValueError(`Expected a non-empty array of examples, got ${show(examples)}`);
    return new ConditionalGenerator({ ...o, vocabulary: examples.map((e, i) => textOf(e, `examples[${i}]`)).join('') });
  }

  /** Teacher-forced training; validation loss is mean cross-entropy per character (nats), stop included. */
  async train(examples: readonly ConditionalExample[], o: GeneratorTrainOptions): Promise<LoopResult> {
    const run = checkLoop(o, TRAIN_EXTRA, 'train');
    const { batchSize, lr, clipNorm, seed } = o;
    const settings = resolveLoopSettings({ batchSize, lr, clipNorm, seed }, this.training?.settings, this.config.seed);
    if (this.optimizer && this.optimizer.lr !== settings.lr) throw new ValueError(`Expected lr ${this.optimizer.lr} (the optimizer's), got ${settings.lr}`);
    const all = this.encodeAll(examples, 'examples');
    // a held-out fraction decides the training examples: a resumed run keeps the checkpoint's
    const stored = this.training?.validation;
    const v = o.validation ?? stored ?? 0;
    let train = all;
    let valid: Encoded[] = [];
    if (typeof v === 'number') {
      if (!(v >= 0 && v < 1)) throw new ValueError(`Expected validation to be a fraction in [0, 1) or a list of examples, got ${v}`);
      if (stored !== undefined && v !== stored) throw new ValueError(`Expected validation ${stored} (the checkpoint's, to resume the same run), got ${v}`);
      const cut = Math.ceil(all.length * (1 - v));
      [train, valid] = [all.slice(0, cut), all.slice(cut)];
    } else valid = this.encodeAll(v, 'validation');
    // everything is validated: from here on the model changes
    this.training ??= { settings, step: 0, validation: typeof v === 'number' ? v : undefined };
    this.optimizer ??= new Adam({ lr: settings.lr });
    return runLoop({
      settings, state: this.training, examples: train.length,
      step: graphStep(this.model, this.optimizer, { logits: 'crossEntropy' }, settings.clipNorm, (idx) => this.batch(idx.map((i) => train[i]))),
      validate: valid.length ? () => this.lossOf(valid, settings.batchSize) : null,
      snapshot: () => this.model.stateDict(),
      restore: (s) => this.model.loadStateDict(s as Record<string, Float32Array>),
    }, run);
  }

  /** Mean cross-entropy per character (nats, the stop included) of texts under their conditions. */
  loss(examples: readonly ConditionalExample[]): number {
    return this.lossOf(this.encodeAll(examples, 'examples'), 64);
  }

  /**
   * `count` texts sampled under one condition (temperature 1 unless given; the same seed gives the
   * same texts); with `guidance` > 0, steered away from a contrast condition (see GuidanceOptions).
   */
  generate(o: GenerateOptions): string[] {
    if (!o || typeof o !== 'object') throw new ValueError(`Expected generate options as an object, got ${show(o)}`);
    checkKeys(o, ['condition', 'count', 'maxLength', 'seed', 'temperature', 'topK', 'topP', 'greedy', 'guidance', 'contrast'], 'generate option');
    const v = conditionVector(this.config, o.condition, 'condition');
    const count = o.count === undefined ? 1 : positiveInt('count', o.count, 1 << 16);
    const maxLength = o.maxLength === undefined ? 40 : positiveInt('maxLength', o.maxLength, 1 << 16);
    const sampling = checkSampling(o, { greedy: false });
    const guidance = checkGuidance(this.config, o, v);
    const rng = new Rng(seedValue('seed', o.seed ?? 0));
    // the asked rows, then one block of `count` rows per contrast condition
    const blocks = [v, ...guidance.contrasts];
    const rows = count * blocks.length;
    const cond = new Float32Array(rows * v.length);
    blocks.forEach((c, b) => {
      for (let r = 0; r < count; r++) cond.set(c, (b * count + r) * v.length);
    });
    const d = this.model.decoder({ step: 'x', context: { cond: new Tensor(cond, [rows, v.length]) } });
    try {
      const stop = this.vocabulary.tokens.indexOf(STOP);
      const V = this.vocabulary.size;
      const texts = new Array<string>(count).fill('');
      const done = new Array<boolean>(count).fill(false);
      const guided = new Float64Array(V);
      const mix = new Float64Array(V);
      let ids = new Int32Array(rows).fill(stop);
      for (let t = 0; t < maxLength && done.includes(false); t++) {
        const logits = d.step(ids).logits.data;
        ids = new Int32Array(rows).fill(stop);
        for (let r = 0; r < count; r++) {
          if (done[r]) continue;
          const scores = guidance.scale > 0 ? guidedLogits(logits, count, V, r, guidance, guided, mix) : logits.subarray(r * V, (r + 1) * V);
          const id = pick(scores, sampling, rng);
          if (id === stop) done[r] = true;
          else {
            texts[r] += this.vocabulary.tokens[id];
            for (let b = 0; b < blocks.length; b++) ids[b * count + r] = id;
          }
        }
      }
      return texts;
    } finally {
      d.close();
    }
  }

  /** A generator from the bytes of its model file. */
  static deserialize(bytes: Uint8Array | ArrayBuffer): ConditionalGenerator {
    return fromLoaded(deserializeGraph(bytes));
  }

  /** A generator from a model file (a path in Node, or bytes, or a Blob). */
  static async load(source: string | Uint8Array | ArrayBuffer | Blob): Promise<ConditionalGenerator> {
    return fromLoaded(await loadGraph(source));
  }

  /** The file holds the vocabulary, classes and architecture beside the graph. */
  protected fileParts(training: TrainingState | undefined): Pick<SaveOptions, 'metadata' | 'vocabulary'> {
    const generator: Record<string, unknown> = { version: FILE_VERSION, config: this.config };
    if (training) generator.training = training;
    return { vocabulary: [...this.vocabulary.tokens], metadata: { generator } };
  }

  private encodeAll(examples: readonly ConditionalExample[], arg: string): Encoded[] {
    if (!Array.isArray(examples) || examples.length === 0) throw new ValueError(`Expected ${arg} to be a non-empty array of { text, condition }, got ${show(examples)}`);
    return examples.map((e, i) => ({ ids: this.vocabulary.encode(textOf(e, `${arg}[${i}]`), `${arg}[${i}].text`), cond: conditionVector(this.config, e.condition, `${arg}[${i}].condition`) }));
  }

  /** Inputs: the stop id then the text; targets: the text then the stop id (time-major, −1 past each length). */
  private batch(ex: Encoded[]): { inputs: Record<string, Tensor<Float32Array> | { data: Tensor<Int32Array>; lengths: number[] }>; targets: Record<string, Tensor<Int32Array>> } {
    const B = ex.length;
    const T = Math.max(...ex.map((e) => e.ids.length)) + 1;
    const stop = this.vocabulary.tokens.indexOf(STOP);
    const x = new Int32Array(T * B).fill(stop);
    const y = new Int32Array(T * B).fill(-1);
    const K = this.config.conditionSize;
    const cond = new Float32Array(B * K);
    ex.forEach((e, b) => {
      for (let t = 0; t < e.ids.length; t++) {
        x[(t + 1) * B + b] = e.ids[t];
        y[t * B + b] = e.ids[t];
      }
      y[e.ids.length * B + b] = stop;
      cond.set(e.cond, b * K);
    });
    return {
      inputs: { x: { data: new Tensor(x, [T, B]), lengths: ex.map((e) => e.ids.length + 1) }, cond: new Tensor(cond, [B, K]) },
      targets: { logits: new Tensor(y, [T, B]) },
    };
  }

  private lossOf(ex: Encoded[], batchSize: number): number {
    let sum = 0;
    let n = 0;
    for (let i = 0; i < ex.length; i += batchSize) {
      const part = ex.slice(i, i + batchSize);
      const chars = part.reduce((a, e) => a + e.ids.length + 1, 0);
      sum += this.model.evaluate(this.batch(part), { losses: { logits: 'crossEntropy' } }).loss * chars;
      n += chars;
    }
    return sum / n;
  }
}

interface Encoded {
  ids: Int32Array;
  cond: Float32Array;
}

function textOf(e: ConditionalExample, arg: string): string {
  if (!e || typeof e !== 'object' || typeof e.text !== 'string' || e.text.length === 0) throw new ValueError(`Expected ${arg} to be { text: non-empty string, condition }, got ${JSON.stringify(e)}`);
  if (e.text.includes(STOP)) throw new ValueError(`Expected ${arg}.text without newlines (the stop token), got ${JSON.stringify(e.text)}`);
  return e.text;
}

/** ids ⊕ repeat(v) → recurrent stack with h0 (c0) = tanh(W v + b) → logits over the vocabulary. */
function buildGraph(c: GeneratorConfig, V: number): GraphModel {
  return new GraphModel(graphParts(c, V));
}
function graphParts(c: GeneratorConfig, V: number): GraphParts {
  const cond = g.input('cond', { type: 'vector', features: c.conditionSize });
  const x = g.input('x', { type: 'ids', vocabSize: V });
  const e = g.embedding(x, { embeddingDim: c.embeddingDim, name: 'emb' });
  const inp = c.conditioning === 'state' ? e : g.concat([e, g.repeat(cond, e, { name: 'cond_steps' })], { name: 'cond_input' });
  const S = c.numLayers * c.hiddenSize;
  const state = (k: 'h' | 'c') => g.tanh(g.linear(cond, { outFeatures: S, name: `init_${k}` }), { name: `init_${k}_tanh` });
  const initialState = c.conditioning === 'input' ? undefined : { h: state('h'), c: CELLS[c.cell].hasCellState ? state('c') : undefined };
  const rec = { hiddenSize: c.hiddenSize, numLayers: c.numLayers, name: 'rnn', initialState };
  const r = cellNode(c.cell, inp, rec, { forgetBias: true });
  const logits = g.linear(r.output, { outFeatures: V, name: 'out' });
  return { inputs: [cond, x], outputs: { logits }, seed: c.seed };
}

function fromLoaded(l: { model: GraphModel; vocabulary?: string[]; metadata?: Record<string, unknown>; optimizer?: Optimizer }): ConditionalGenerator {
  try {
    const meta = l.metadata?.generator as { version?: number; config?: GeneratorConfig; training?: TrainingState } | undefined;
    if (!meta || meta.version !== FILE_VERSION || !isObject(meta.config)) throw new FormatError(`Expected a conditional generator file (metadata.generator version ${FILE_VERSION}), got ${meta ? `version ${show(meta.version)} and config ${describe(meta.config)}` : 'a model without it'}`);
    if (!Array.isArray(l.vocabulary)) throw new FormatError('Expected a vocabulary in the generator file, got none');
    const { classes, ...rest } = meta.config;
    const gen = new ConditionalGenerator({ ...rest, classes: classes ?? undefined, vocabulary: l.vocabulary }, { model: l.model, optimizer: l.optimizer, training: meta.training });
    // compared as specs: no second model is built from the metadata (the int8 marker aside)
    const same = architectureOf(specOf(graphParts(gen.config, gen.vocabulary.size))) === architectureOf(l.model.spec());
    if (!same) throw new FormatError('Expected the graph metadata.generator describes, got another graph');
    return gen;
  } catch (e) {
    l.optimizer?.dispose();
    l.model.dispose();
    if (e instanceof ValueError) throw new FormatError(`Expected a valid generator file, got: ${e.message}`);
    throw e;
  }
}
