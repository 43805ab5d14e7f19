// Choosing the next character from one step's V logits: greedy (argmax), or a draw from
// softmax(logits / temperature) restricted to the topK most likely tokens and then to the smallest
// set whose probability reaches topP (nucleus sampling). This runs once per produced character
// over V numbers, in f64; the model step that made the logits is one wasm call.
import { ValueError, show } from '../../errors';
import type { Rng } from '../../params/rng';

/** How the next character is drawn from the model's distribution: temperature, top-k, top-p or greedy. */
export interface SamplingOptions {
  /** Softmax temperature (default 1); 0 is greedy. */
  temperature?: number;
  /** Keep only the k most likely characters (default: all). */
  topK?: number;
  /** Keep the smallest set of most likely characters whose probability reaches p, in (0, 1] (default 1). */
  topP?: number;
  /** Always take the most likely character (default false). */
  greedy?: boolean;
}

export interface Sampling {
  greedy: boolean;
  temperature: number;
  topK: number;
  topP: number;
}

/** Validates sampling options (named in errors); nothing else is read from `o`. */
export function checkSampling(o: SamplingOptions, defaults: { greedy: boolean }): Sampling {
  const t = o.temperature ?? 1;
  if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) throw new ValueError(`Expected temperature to be a finite number ≥ 0, got ${show(o.temperature)}`);
  const k = o.topK ?? 0;
  if (o.topK !== undefined && !(Number.isInteger(k) && k >= 1)) throw new ValueError(`Expected topK to be a positive integer, got ${show(o.topK)}`);
  const p = o.topP ?? 1;
  if (typeof p !== 'number' || !(p > 0 && p <= 1)) throw new ValueError(`Expected topP to be a number in (0, 1], got ${show(o.topP)}`);
  if (o.greedy !== undefined && typeof o.greedy !== 'boolean') throw new ValueError(`Expected greedy to be a boolean, got ${show(o.greedy)}`);
  // an explicit temperature, topK or topP asks for sampling unless greedy is set explicitly
  const asksSampling = o.temperature !== undefined || o.topK !== undefined || o.topP !== undefined;
  const greedy = o.greedy ?? (asksSampling ? false : defaults.greedy);
  return { greedy: greedy || t === 0, temperature: t, topK: k, topP: p };
}

/** The index of the largest logit, skipping `exclude` (−1: none). Ties go to the lower index. */
export function argmax(logits: ArrayLike<number>, exclude = -1): number {
  let best = -1;
  for (let j = 0; j < logits.length; j++) {
    if (j === exclude) continue;
    if (best < 0 || logits[j] > logits[best]) best = j;
  }
  return best;
}

/**
 * The candidate tokens and their unnormalised probabilities after temperature, topK and topP
 * (most likely first). `exclude` (e.g. `<unk>`, which is no character) is never a candidate.
 */
export function candidates(logits: ArrayLike<number>, s: Sampling, exclude = -1): { ids: number[]; weights: number[] } {
  const ids: number[] = [];
  for (let j = 0; j < logits.length; j++) if (j !== exclude) ids.push(j);
  // most likely first; equal logits keep index order, so the result does not depend on sort stability
  ids.sort((a, b) => logits[b] - logits[a] || a - b);
  if (s.topK > 0 && s.topK < ids.length) ids.length = s.topK;
  const top = logits[ids[0]] / s.temperature;
  let weights = ids.map((j) => Math.exp(logits[j] / s.temperature - top));
  if (s.topP < 1) {
    const z = weights.reduce((a, b) => a + b, 0);
    let cum = 0;
    let keep = 0;
    while (keep < weights.length && cum < s.topP * z) cum += weights[keep++];
    ids.length = keep;
    weights = weights.slice(0, keep);
  }
  return { ids, weights };
}

/** Picks the next token id from one step's logits. */
export function pick(logits: ArrayLike<number>, s: Sampling, rng: Rng, exclude = -1): number {
  if (s.greedy) return argmax(logits, exclude);
  const { ids, weights } = candidates(logits, s, exclude);
  const z = weights.reduce((a, b) => a + b, 0);
  let u = rng.uniform() * z;
  for (let i = 0; i < ids.length; i++) {
    u -= weights[i];
    if (u < 0) return ids[i];
  }
  return ids[ids.length - 1];
}
