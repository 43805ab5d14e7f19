// Batches of token-id sequences of different lengths: grouped by similar length (little padding),
// padded with <pad> (id 0) into time-major (T, B) tensors with per-sequence lengths.
import { Rng } from '../../params/rng';
import { Tensor } from '../../tensor';
import { ValueError, show } from '../../errors';
import { PAD_ID } from './tokenizer';

/** Indices grouped into batches of at most `batchSize`, neighbours in length; `seed` shuffles ties and the batch order. */
export function lengthBatches(lengths: ArrayLike<number>, batchSize: number, seed?: number): number[][] {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ValueError(`Expected batchSize to be an integer >= 1, got ${show(batchSize)}`);
  const idx = Array.from({ length: lengths.length }, (_, i) => i);
  const rng = seed === undefined ? null : new Rng(seed);
  if (rng) shuffle(idx, rng);
  idx.sort((a, b) => lengths[a] - lengths[b]); // stable: ties keep the shuffled order
  const out: number[][] = [];
  for (let i = 0; i < idx.length; i += batchSize) out.push(idx.slice(i, i + batchSize));
  if (rng) shuffle(out, rng);
  return out;
}

export function shuffle<T>(a: T[], rng: Rng): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** Time-major (T, B) ids padded with <pad>, T the longest sequence (at least 1); lengths at least 1. */
export function padIds(seqs: readonly Int32Array[]): { data: Tensor<Int32Array>; lengths: number[] } {
  const B = seqs.length;
  const lengths = seqs.map((s) => Math.max(1, s.length));
  const T = Math.max(1, ...lengths);
  const data = new Int32Array(T * B).fill(PAD_ID);
  seqs.forEach((s, b) => {
    for (let t = 0; t < s.length; t++) data[t * B + b] = s[t];
  });
  return { data: new Tensor(data, [T, B]), lengths };
}

/** Deterministic split of n items: a seeded permutation, the last `fraction` held out. */
export function splitIndices(n: number, fraction: number, seed: number): { train: number[]; test: number[] } {
  if (!(fraction > 0 && fraction < 1)) throw new ValueError(`Expected a held-out fraction in (0, 1), got ${show(fraction)}`);
  const idx = shuffle(Array.from({ length: n }, (_, i) => i), new Rng(seed));
  const cut = n - Math.round(n * fraction);
  return { train: idx.slice(0, cut), test: idx.slice(cut) };
}
