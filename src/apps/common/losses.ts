// Softmax cross-entropy with per-row (per-step) sample weights and per-class weights, computed on
// the logits a forward pass returned; its gradient seeds the model's public backward. The loss is
//   L = Σ_r w_r · c_{y_r} · (−log softmax(z_r)[y_r]) / Σ_r w_r · c_{y_r}
// over rows whose target is not −1 (ignored), as PyTorch's weighted CrossEntropyLoss ('mean').
import { ShapeError, ValueError, show } from '../../errors';

/** Per-row and per-class weights of a weighted cross-entropy. */
export interface Weights {
  /** One weight ≥ 0 per row (per step for sequence outputs, time-major (T, B)). */
  sampleWeights?: ArrayLike<number>;
  /** One weight ≥ 0 per class. */
  classWeights?: ArrayLike<number>;
}

export function checkWeights(name: string, w: ArrayLike<number> | undefined, n: number): void {
  if (w === undefined) return;
  if (w === null || typeof w !== 'object' || typeof w.length !== 'number') throw new ValueError(`Expected ${name} to be an array of numbers, got ${show(w)}`);
  if (w.length !== n) throw new ShapeError(`Expected ${name} of length ${n}, got ${w.length}`);
  for (let i = 0; i < n; i++) if (!(typeof w[i] === 'number' && Number.isFinite(w[i]) && w[i] >= 0)) throw new ValueError(`Expected ${name}[${i}] to be a finite number >= 0, got ${show(w[i])}`);
}

/** Loss and dL/dlogits for logits (rows, K) and targets (rows) in [0, K) or −1. */
export function weightedCrossEntropy(logits: Float32Array, targets: Int32Array, K: number, w: Weights = {}): { loss: number; dLogits: Float32Array; correct: number; counted: number } {
  const rows = targets.length;
  if (logits.length !== rows * K) throw new ShapeError(`Expected logits of ${rows}×${K} values, got ${logits.length}`);
  checkWeights('sampleWeights', w.sampleWeights, rows);
  checkWeights('classWeights', w.classWeights, K);
  const d = new Float32Array(rows * K);
  let total = 0;
  let norm = 0;
  let correct = 0;
  let counted = 0;
  for (let r = 0; r < rows; r++) {
    const y = targets[r];
    if (y < 0) continue;
    if (y >= K) throw new ValueError(`Expected targets in [0, ${K}) or −1, got ${y} at row ${r}`);
    const o = r * K;
    let m = -Infinity;
    let arg = 0;
    for (let k = 0; k < K; k++) if (logits[o + k] > m) (m = logits[o + k]), (arg = k);
    let s = 0;
    for (let k = 0; k < K; k++) s += Math.exp(logits[o + k] - m);
    const wr = (w.sampleWeights ? w.sampleWeights[r] : 1) * (w.classWeights ? w.classWeights[y] : 1);
    counted++;
    if (arg === y) correct++;
    if (wr === 0) continue;
    total += wr * (Math.log(s) + m - logits[o + y]);
    norm += wr;
    for (let k = 0; k < K; k++) d[o + k] = (wr * Math.exp(logits[o + k] - m)) / s;
    d[o + y] -= wr;
  }
  if (norm > 0) for (let i = 0; i < d.length; i++) d[i] /= norm;
  return { loss: norm > 0 ? total / norm : 0, dLogits: d, correct, counted };
}

/** Row-wise softmax of logits (rows, K), in place on a copy. */
export function softmaxRows(logits: Float32Array, K: number): Float32Array {
  const p = new Float32Array(logits.length);
  for (let o = 0; o < logits.length; o += K) {
    let m = -Infinity;
    for (let k = 0; k < K; k++) m = Math.max(m, logits[o + k]);
    let s = 0;
    for (let k = 0; k < K; k++) s += p[o + k] = Math.exp(logits[o + k] - m);
    for (let k = 0; k < K; k++) p[o + k] /= s;
  }
  return p;
}

/** Per-class weights inversely proportional to class frequency (n / (K · count)), 0 for absent classes. */
export function balancedClassWeights(labels: ArrayLike<number>, K: number): Float32Array {
  const counts = new Float64Array(K);
  let n = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] >= 0) counts[labels[i]]++, n++;
  return Float32Array.from(counts, (c) => (c > 0 ? n / (K * c) : 0));
}
