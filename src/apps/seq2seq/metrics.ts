// Scores of predicted token sequences against references: exact match and token error rate
// (Levenshtein distance over tokens / reference length). A prediction may be checked against
// several acceptable references (pronunciation variants): the closest one counts.

/** Levenshtein distance between two token sequences. */
export function editDistance(a: ArrayLike<unknown>, b: ArrayLike<unknown>): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/** What {@link scoreSequences} returns. */
export interface SequenceScores {
  /** Fraction of predictions equal to one of their references. */
  exactMatch: number;
  /** Σ edit distance to the closest reference / Σ that reference's length. */
  tokenErrorRate: number;
  /** Predictions scored. */
  count: number;
}

/** Scores predictions[i] against refs[i] (one reference or several acceptable ones). */
export function scoreSequences(predictions: readonly (readonly unknown[])[], refs: readonly (readonly (readonly unknown[])[])[]): SequenceScores {
  let exact = 0;
  let errors = 0;
  let length = 0;
  predictions.forEach((p, i) => {
    let best = Infinity;
    let bestLen = 0;
    for (const r of refs[i]) {
      const d = editDistance(p, r);
      if (d < best || (d === best && r.length > bestLen)) [best, bestLen] = [d, r.length];
    }
    if (best === 0) exact++;
    errors += best;
    length += bestLen;
  });
  return { exactMatch: predictions.length ? exact / predictions.length : 0, tokenErrorRate: length ? errors / length : 0, count: predictions.length };
}
