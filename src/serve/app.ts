// One application model behind the batch tools and `serve`: which kind a model file holds, and a
// runner that answers a list of texts with one JSON-ready result per text. The runner is what
// every worker thread of the batch tools and of the server holds; it names no transport.
// Kinds and their verbs (the HTTP endpoint in brackets):
//   classifier  predict → { label, probs }                     [/v1/classify]
//   labeler     predict → { tokens, tags }                      [/v1/label]
//   seq2seq     translate → { output, score, logProb, … }       [/v1/translate]
//   generator   generate → { texts } per request                [/v1/generate]
//   charlm      complete → { completion } per prompt            [/v1/complete]
//   forecaster  (no text endpoint)
import type { SequenceClassifier } from '../apps/classifier/index';
import type { SequenceLabeler } from '../apps/labeler/index';
import type { Seq2Seq } from '../apps/seq2seq/index';
import type { ConditionalGenerator, GenerateOptions } from '../apps/generator/index';
import type { CharLM, CompleteOptions } from '../apps/charlm/index';
import type { Forecaster } from '../apps/forecaster/index';
import type { FormatError } from '../io/format';
import { ValueError } from '../errors';

/** The application kinds a model file can hold, as the server names them. */
export type AppKind = 'classifier' | 'labeler' | 'seq2seq' | 'generator' | 'charlm' | 'forecaster';

/** The endpoint of each kind that has one. */
export const ENDPOINTS: Partial<Record<AppKind, string>> = { classifier: 'classify', labeler: 'label', seq2seq: 'translate', generator: 'generate', charlm: 'complete' };

/** Options of the translate verb the batch tools and the server pass through. */
export interface TranslateVerbOptions {
  /** Beam width (1: greedy). */
  beam?: number;
  /** Hypotheses returned per text. */
  nbest?: number;
  /** Length normalisation exponent of the score. */
  alpha?: number;
  /** Output tokens at most. */
  maxLength?: number;
  /** Texts decoded together. */
  batchSize?: number;
  /** Include the attention weights of each output. */
  attention?: boolean;
}

/** The library's application classes (passed in by the worker, which loads the library bundle). */
interface Lib {
  SequenceClassifier: typeof SequenceClassifier;
  SequenceLabeler: typeof SequenceLabeler;
  Seq2Seq: typeof Seq2Seq;
  ConditionalGenerator: typeof ConditionalGenerator;
  CharLM: typeof CharLM;
  Forecaster: typeof Forecaster;
  FormatError: typeof FormatError;
}

/** The kind of application a model file holds (FormatError naming what was found otherwise). */
export function detectKind(lib: Lib, bytes: Uint8Array): AppKind {
  const tries: [AppKind, (b: Uint8Array) => { dispose(): void }][] = [
    ['classifier', (b) => lib.SequenceClassifier.deserialize(b)],
    ['labeler', (b) => lib.SequenceLabeler.deserialize(b)],
    ['seq2seq', (b) => lib.Seq2Seq.deserialize(b)],
    ['generator', (b) => lib.ConditionalGenerator.deserialize(b)],
    ['charlm', (b) => lib.CharLM.deserialize(b)],
    ['forecaster', (b) => lib.Forecaster.deserialize(b)],
  ];
  const seen: string[] = [];
  for (const [kind, load] of tries) {
    try {
      load(bytes).dispose();
      return kind;
    } catch (e) {
      seen.push((e as Error).message);
    }
  }
  throw new lib.FormatError(`Expected an application model file (classifier, labeler, seq2seq, generator, charlm or forecaster), got none of them (${seen[0]})`);
}

/** A loaded application: answers texts (one result per text) and disposes its model(s). */
export interface AppRunner {
  kind: AppKind;
  /** Texts → results; `opts` are the verb's per-call options (generate/complete). */
  run(texts: readonly string[], opts?: Record<string, unknown>): object[];
  /** Whether a text has something to run on (seq2seq: at least one source token); else the error message. */
  check(text: string): string | null;
  dispose(): void;
}

/** Loads one model (or several seq2seq members, an ensemble) of `kind` into a runner. */
export function loadApp(lib: Lib, kind: AppKind, models: readonly Uint8Array[], t: TranslateVerbOptions = {}): AppRunner {
  if (kind === 'classifier') {
    const m = lib.SequenceClassifier.deserialize(models[0]);
    return {
      kind, check: () => null, dispose: () => m.dispose(),
      run: (texts) => m.predict(texts).map((p) => {
        let best = 0;
        for (let k = 1; k < p.length; k++) if (p[k] > p[best]) best = k;
        return { label: m.labels[best], probs: Object.fromEntries(m.labels.map((l, k) => [l, +p[k].toFixed(6)])) };
      }),
    };
  }
  if (kind === 'labeler') {
    const m = lib.SequenceLabeler.deserialize(models[0]);
    return {
      kind, check: () => null, dispose: () => m.dispose(),
      run: (texts) => {
        const tags = m.predict(texts);
        return texts.map((s, i) => ({ tokens: m.tokenizer.split(s), tags: tags[i] }));
      },
    };
  }
  if (kind === 'seq2seq') {
    const members = models.map((b) => lib.Seq2Seq.deserialize(b));
    const opts = { beam: t.beam ?? 1, nbest: t.nbest ?? 1, alpha: t.alpha ?? 0, maxLength: t.maxLength, batchSize: t.batchSize ?? 64 };
    return {
      kind,
      check: (s) => (members[0].source.split(s).length === 0 ? 'at least one source token' : null),
      dispose: () => members.forEach((m) => m.dispose()),
      run: (texts) => (members.length > 1 ? lib.Seq2Seq.translateEnsemble(members, texts, opts) : members[0].translate(texts, opts)).map((r) => {
        const o: Record<string, unknown> = { output: r.text, score: r.score, logProb: r.logProb };
        if (opts.nbest > 1) o.nbest = r.nbest.map((h) => ({ output: h.text, score: h.score, logProb: h.logProb }));
        if (t.attention) o.attention = r.attention;
        return o;
      }),
    };
  }
  if (kind === 'generator') {
    const m = lib.ConditionalGenerator.deserialize(models[0]);
    // one "text" per request: the JSON of its generate options ({ condition, count, … })
    return { kind, check: () => null, dispose: () => m.dispose(), run: (reqs) => reqs.map((r) => ({ texts: m.generate(JSON.parse(r) as GenerateOptions) })) };
  }
  if (kind === 'charlm') {
    const m = lib.CharLM.deserialize(models[0]);
    return { kind, check: () => null, dispose: () => m.dispose(), run: (prompts, o) => prompts.map((p) => ({ completion: m.complete(p, (o ?? {}) as CompleteOptions) })) };
  }
  throw new ValueError(`Expected a model kind with a text verb (classifier, labeler, seq2seq, generator, charlm), got ${kind}`);
}
