// Token accuracy and precision / recall / F1 of one tag, over predicted and gold tag-id sequences.
/** Token accuracy, and precision, recall and F1 of one tag. */
export interface TagScores {
  /** Fraction of tokens tagged right. */
  accuracy: number;
  /** Of the tokens predicted with the tag, the fraction that have it. */
  precision: number;
  /** Of the tokens that have the tag, the fraction predicted with it. */
  recall: number;
  /** Harmonic mean of precision and recall. */
  f1: number;
}

/**
 * Token accuracy and the precision, recall and F1 of the tag id `positive`, over predicted and gold tag-id
 * sequences.
 */
export function tagScores(pred: readonly Int32Array[], gold: readonly Int32Array[], positive: number): TagScores {
  let ok = 0, n = 0, tp = 0, fp = 0, fn = 0;
  gold.forEach((g, i) => {
    const p = pred[i];
    for (let t = 0; t < g.length; t++) {
      const q = t < p.length ? p[t] : -1;
      n++;
      if (q === g[t]) ok++;
      if (positive < 0) continue;
      if (q === positive && g[t] === positive) tp++;
      else if (q === positive) fp++;
      else if (g[t] === positive) fn++;
    }
  });
  const precision = tp + fp ? tp / (tp + fp) : 0;
  const recall = tp + fn ? tp / (tp + fn) : 0;
  return { accuracy: n ? ok / n : 0, precision, recall, f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0 };
}
