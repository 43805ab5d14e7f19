// Contrastive guidance for a ConditionalGenerator (classifier-free guidance, Ho & Salimans 2022, as
// used for language models by Sanchez et al. 2023): each step draws the next character from
//   g = (1 + w) · log p(· | condition) − w · log p(· | contrast)
// which sharpens what sets the asked condition apart from the contrast (w = 0: plain sampling). The
// contrast is a condition the caller names, or, for a generator over named classes, every other
// class: p(· | contrast) is then the mean of their next-character distributions. The contrast
// conditions are extra rows of the same decoder batch, fed the same characters, so a guided step is
// still one wasm call.
import { ValueError, show } from '../../errors';
import { conditionVector, type GeneratorConfig } from './options';

/** Contrastive (classifier-free) guidance: draw from (1 + w)·log p(· | condition) − w·log p(· | contrast). */
export interface GuidanceOptions {
  /** Guidance weight w ≥ 0 (default 0: sample from p(· | condition) alone). */
  guidance?: number;
  /** The condition steered away from (needs guidance > 0); default for named classes: all other classes. */
  contrast?: string | ArrayLike<number>;
}

export interface Guidance {
  scale: number;
  /** Conditioning vectors of the contrast (one, or the other classes); empty when scale is 0. */
  contrasts: Float32Array[];
}

const MAX_SCALE = 100;

/** Validates guidance options against the generator's conditions (named in errors). */
export function checkGuidance(c: GeneratorConfig, o: GuidanceOptions, condition: Float32Array): Guidance {
  const w = o.guidance ?? 0;
  if (typeof w !== 'number' || !Number.isFinite(w) || w < 0 || w > MAX_SCALE) throw new ValueError(`Expected guidance to be a number in [0, ${MAX_SCALE}], got ${show(o.guidance)}`);
  if (w === 0) {
    if (o.contrast !== undefined) throw new ValueError('Expected guidance > 0 with a contrast condition, got guidance 0');
    return { scale: 0, contrasts: [] };
  }
  if (o.contrast !== undefined) return { scale: w, contrasts: [conditionVector(c, o.contrast, 'contrast')] };
  if (!c.classes) throw new ValueError('Expected a contrast condition (a vector) with guidance on a vector-conditioned generator, got none');
  const asked = condition.indexOf(1);
  const others = c.classes.map((_, k) => k).filter((k) => k !== asked);
  if (others.length === 0) throw new ValueError(`Expected a contrast condition with guidance on a generator of one class, got none (its only class is ${JSON.stringify(c.classes[0])})`);
  return { scale: w, contrasts: others.map((k) => conditionVector(c, c.classes![k], 'contrast')) };
}

/**
 * Guided logits of row r (of `rows` asked rows) into `out`, for guidance > 0: the decoder's logits
 * hold the asked rows first, then each contrast's block of `rows` rows, V per row. `mix` (V numbers)
 * is the caller's scratch for the contrast distribution, so a decoding step allocates nothing.
 */
export function guidedLogits(logits: Float32Array, rows: number, V: number, r: number, g: Guidance, out: Float64Array, mix: Float64Array): Float64Array {
  const asked = logSoftmax(logits, r * V, V, out);
  const k = g.contrasts.length;
  mix.fill(0);
  for (let b = 1; b <= k; b++) {
    const o = (b * rows + r) * V;
    let top = -Infinity;
    for (let j = 0; j < V; j++) top = Math.max(top, logits[o + j]);
    let z = 0;
    for (let j = 0; j < V; j++) z += Math.exp(logits[o + j] - top);
    for (let j = 0; j < V; j++) mix[j] += Math.exp(logits[o + j] - top) / z / k;
  }
  // a contrast probability that underflowed to 0 counts as the smallest double (a finite logit)
  for (let j = 0; j < V; j++) out[j] = (1 + g.scale) * asked[j] - g.scale * Math.log(Math.max(mix[j], Number.MIN_VALUE));
  return out;
}

/** log softmax of V logits starting at `o`, in f64, into `out`. */
function logSoftmax(logits: Float32Array, o: number, V: number, out: Float64Array): Float64Array {
  let top = -Infinity;
  for (let j = 0; j < V; j++) top = Math.max(top, logits[o + j]);
  let z = 0;
  for (let j = 0; j < V; j++) z += Math.exp(logits[o + j] - top);
  const lz = top + Math.log(z);
  for (let j = 0; j < V; j++) out[j] = logits[o + j] - lz;
  return out;
}
