// Text in and out of an RWKV7 with a vocabulary: sampling (temperature, top-k, top-p, seeded), greedy or
// sampled completion with stop strings, and bits per character of a text. The prompt is one
// whole-sequence call, each new token one streaming step (one wasm call for the whole stack).
import { Rng } from '../params/rng';
import { StateError, ValueError, show } from '../errors';
import { checkOptions, keysOf } from '../options';
import { argmax, type RWKV7 } from './model';
import type { Rwkv7Tokenizer } from './tokenizer';

/** How the next token is drawn from an RWKV7's logits. */
export interface Rwkv7SamplingOptions {
  /** Softmax temperature; 0 picks the most likely token (default 1 for sample, greedy for complete). */
  temperature?: number;
  /** Draw among the k most likely tokens. */
  topK?: number;
  /** Draw among the most likely tokens up to this total probability. */
  topP?: number;
  /** Seed of the draws (the same seed gives the same text). Default 0. */
  seed?: number;
}
/** Options of {@link sampleRwkv7}. */
export interface Rwkv7SampleOptions extends Rwkv7SamplingOptions {
  /** Tokens to generate (characters for a character model). */
  length: number;
  /** Text the model reads first (not part of the result). */
  prompt?: string;
}
/** Options of {@link completeRwkv7}. */
export interface Rwkv7CompleteOptions extends Rwkv7SamplingOptions {
  /** At most this many tokens. Default 100. */
  maxLength?: number;
  /** Stop before the first of these strings. */
  until?: string[];
}
const SAMPLE_KEYS = keysOf<Rwkv7SampleOptions>()('length', 'prompt', 'temperature', 'topK', 'topP', 'seed');
const COMPLETE_KEYS = keysOf<Rwkv7CompleteOptions>()('maxLength', 'until', 'temperature', 'topK', 'topP', 'seed');

function tokenizerOf(m: RWKV7): Rwkv7Tokenizer {
  if (!m.tokenizer) throw new StateError('Expected an RWKV7 with a vocabulary (importRwkv7 with { vocab }, or a model saved with one), got none');
  return m.tokenizer;
}

function checkSampling(o: Rwkv7SamplingOptions, greedy: boolean): { temperature: number; topK: number; topP: number; rng: Rng } {
  const t = o.temperature ?? (greedy ? 0 : 1);
  if (typeof t !== 'number' || !(t >= 0) || !Number.isFinite(t)) throw new ValueError(`Expected temperature to be a finite number ≥ 0, got ${show(o.temperature)}`);
  if (o.topK !== undefined && !(Number.isSafeInteger(o.topK) && o.topK >= 1)) throw new ValueError(`Expected topK to be a positive integer, got ${show(o.topK)}`);
  if (o.topP !== undefined && !(typeof o.topP === 'number' && o.topP > 0 && o.topP <= 1)) throw new ValueError(`Expected topP in (0, 1], got ${show(o.topP)}`);
  if (o.seed !== undefined && !Number.isSafeInteger(o.seed)) throw new ValueError(`Expected seed to be an integer, got ${show(o.seed)}`);
  // a top-k or top-p without a temperature draws at temperature 1
  const temperature = o.temperature === undefined && (o.topK !== undefined || o.topP !== undefined) ? 1 : t;
  return { temperature, topK: o.topK ?? 0, topP: o.topP ?? 1, rng: new Rng(o.seed ?? 0) };
}

/** One token from logits: argmax at temperature 0, else a draw from the filtered softmax. */
function pick(logits: Float32Array, s: { temperature: number; topK: number; topP: number; rng: Rng }): number {
  if (s.temperature === 0) return argmax(logits);
  const order = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a] || a - b);
  const mx = logits[order[0]];
  const p = order.map((i) => Math.exp((logits[i] - mx) / s.temperature));
  let keep = s.topK > 0 ? Math.min(s.topK, p.length) : p.length;
  const total = p.reduce((a, b) => a + b, 0);
  if (s.topP < 1) {
    let acc = 0;
    for (let i = 0; i < keep; i++) {
      acc += p[i] / total;
      if (acc >= s.topP) {
        keep = i + 1;
        break;
      }
    }
  }
  let z = 0;
  for (let i = 0; i < keep; i++) z += p[i];
  let u = s.rng.uniform() * z;
  for (let i = 0; i < keep; i++) {
    u -= p[i];
    if (u < 0) return order[i];
  }
  return order[keep - 1];
}

/** Generates `length` tokens after `prompt` and returns their text. */
export function sampleRwkv7(m: RWKV7, opts: Rwkv7SampleOptions): string {
  checkOptions(opts, SAMPLE_KEYS, 'sample options');
  if (!Number.isSafeInteger(opts?.length) || opts.length < 1) throw new ValueError(`Expected length to be a positive integer, got ${show(opts?.length)}`);
  const tok = tokenizerOf(m);
  const s = checkSampling(opts, false);
  return generate(m, tok, opts.prompt ?? '', opts.length, s, []);
}

/** Continues `prompt` (greedy unless a temperature, top-k or top-p is given), stopping before `until`. */
export function completeRwkv7(m: RWKV7, prompt: string, opts: Rwkv7CompleteOptions = {}): string {
  checkOptions(opts, COMPLETE_KEYS, 'complete options');
  if (typeof prompt !== 'string' || prompt.length === 0) throw new ValueError(`Expected a non-empty prompt string, got ${show(prompt)}`);
  const n = opts.maxLength ?? 100;
  if (!Number.isSafeInteger(n) || n < 1) throw new ValueError(`Expected maxLength to be a positive integer, got ${show(opts.maxLength)}`);
  const until = opts.until ?? [];
  if (!Array.isArray(until) || until.some((u) => typeof u !== 'string' || u === '')) throw new ValueError(`Expected until to be an array of non-empty strings, got ${show(opts.until)}`);
  return generate(m, tokenizerOf(m), prompt, n, checkSampling(opts, true), until);
}

function generate(m: RWKV7, tok: Rwkv7Tokenizer, prompt: string, n: number, s: ReturnType<typeof checkSampling>, until: string[]): string {
  const V = m.config.vocabSize;
  const st = m.stream();
  try {
    // an empty prompt starts from token 0 (the World vocabulary's end of text; a char model's first character)
    const ids = prompt === '' ? [0] : tok.encode(prompt);
    const all = st.run(ids);
    let logits = all.subarray(all.length - V);
    const out: number[] = [];
    let text = '';
    for (let i = 0; i < n; i++) {
      const id = pick(logits, s);
      out.push(id);
      text = tok.decode(out);
      const cut = until.map((u) => text.indexOf(u)).filter((k) => k >= 0);
      if (cut.length) return text.slice(0, Math.min(...cut));
      if (i + 1 < n) logits = st.step(id);
    }
    return text;
  } finally {
    st.dispose();
  }
}

/**
 * Bits per character of `text`: −log₂ of each token's probability given the text before it (the
 * first token is read, not scored), summed and divided by the characters of the scored tokens.
 * Runs in chunks of `chunk` tokens, the state carried between them.
 */
export function bitsPerCharRwkv7(m: RWKV7, text: string, chunk = 512): number {
  const tok = tokenizerOf(m);
  const ids = tok.encode(text);
  if (ids.length < 2) throw new ValueError(`Expected a text of at least 2 tokens to score, got ${ids.length}`);
  const V = m.config.vocabSize;
  const st = m.stream();
  let bits = 0;
  try {
    for (let at = 0; at < ids.length - 1; at += chunk) {
      const part = ids.slice(at, Math.min(at + chunk, ids.length - 1));
      const logits = st.run(part);
      for (let t = 0; t < part.length; t++) {
        const row = logits.subarray(t * V, (t + 1) * V);
        let mx = -Infinity;
        for (let i = 0; i < V; i++) mx = Math.max(mx, row[i]);
        let z = 0;
        for (let i = 0; i < V; i++) z += Math.exp(row[i] - mx);
        bits += (Math.log(z) + mx - row[ids[at + t + 1]]) / Math.LN2;
      }
    }
  } finally {
    st.dispose();
  }
  return bits / [...tok.decode(ids.slice(1))].length;
}
