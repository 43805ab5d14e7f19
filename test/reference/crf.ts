// Linear-chain CRF in plain f64 TypeScript: the readable spec of assembly/kernels/crf.ts.
//
// A CRF over K tags scores a whole tag path y = (y_0 … y_{L−1}) of a sequence of L steps:
//
//   s(y) = start[y_0] + Σ_{t<L} em[t][y_t] + Σ_{1≤t<L} trans[y_{t−1}][y_t] + end[y_{L−1}]
//
// em[t][j] is the emission score of tag j at step t (what the network below produces),
// trans[i][j] the score of moving from tag i to tag j (row = from, column = to), start/end the
// scores of the first and last tag. The model's probability of a path is exp s(y) / Z with the
// partition function Z = Σ_y exp s(y) over all K^L paths. Training minimises the negative
// log-likelihood of the gold path,  nll = log Z − s(gold).
//
// Everything is in log space. A batch is time-major: em (T, B, K), tags (T, B), lengths (B); row b
// uses steps t < lens[b] only, and padded steps have no score and get zero gradient.

/** The CRF's parameters (f64 or f32 arrays, row-major). */
export interface CrfParams {
  K: number;
  trans: ArrayLike<number>; // (K, K) [from, to]
  start: ArrayLike<number>; // (K)
  end: ArrayLike<number>; // (K)
}

/** One sequence: em (L, K) row-major and its length. */
type Em = ArrayLike<number>;

/** log Σ exp(xs), stable: the maximum is taken out first (−Inf for an empty list). */
export function logsumexp(xs: number[]): number {
  const m = Math.max(...xs);
  if (m === -Infinity) return -Infinity;
  let s = 0;
  for (const x of xs) s += Math.exp(x - m);
  return m + Math.log(s);
}

/** s(y): the score of one tag path y over the first y.length steps of em. */
export function pathScore(c: CrfParams, em: Em, y: ArrayLike<number>): number {
  const K = c.K;
  let s = c.start[y[0]] + em[y[0]];
  for (let t = 1; t < y.length; t++) s += c.trans[y[t - 1] * K + y[t]] + em[t * K + y[t]];
  return s + c.end[y[y.length - 1]];
}

/**
 * Forward algorithm: alpha[t][j] = log Σ over paths ending in tag j at step t of exp(score so far).
 *   alpha[0][j] = start[j] + em[0][j]
 *   alpha[t][j] = em[t][j] + logsumexp_i(alpha[t−1][i] + trans[i][j])
 *   log Z      = logsumexp_j(alpha[L−1][j] + end[j])
 */
export function forward(c: CrfParams, em: Em, L: number): { alpha: number[][]; logZ: number } {
  const K = c.K;
  const alpha: number[][] = [];
  alpha.push(Array.from({ length: K }, (_, j) => c.start[j] + em[j]));
  for (let t = 1; t < L; t++) {
    const prev = alpha[t - 1];
    alpha.push(Array.from({ length: K }, (_, j) => em[t * K + j] + logsumexp(prev.map((a, i) => a + c.trans[i * K + j]))));
  }
  const logZ = logsumexp(alpha[L - 1].map((a, j) => a + c.end[j]));
  return { alpha, logZ };
}

/**
 * Backward algorithm: beta[t][i] = log Σ over path continuations from tag i at step t.
 *   beta[L−1][i] = end[i]
 *   beta[t][i]   = logsumexp_j(trans[i][j] + em[t+1][j] + beta[t+1][j])
 * (logsumexp_j(start[j] + em[0][j] + beta[0][j]) is log Z again — a check the tests use.)
 */
export function backward(c: CrfParams, em: Em, L: number): number[][] {
  const K = c.K;
  const beta: number[][] = new Array(L);
  beta[L - 1] = Array.from({ length: K }, (_, i) => c.end[i]);
  for (let t = L - 2; t >= 0; t--) {
    beta[t] = Array.from({ length: K }, (_, i) =>
      logsumexp(Array.from({ length: K }, (_, j) => c.trans[i * K + j] + em[(t + 1) * K + j] + beta[t + 1][j])));
  }
  return beta;
}

export interface CrfGrads {
  nll: number;
  dem: Float64Array; // (L, K)
  dtrans: Float64Array; // (K, K)
  dstart: Float64Array; // (K)
  dend: Float64Array; // (K)
}

/**
 * nll of the gold path and its gradients. The derivative of log Z with respect to any score is the
 * probability that the score's term is on the path (a marginal), and the derivative of s(gold) is
 * 1 where the gold path uses it, so every gradient is "marginal − gold indicator":
 *   d em[t][j]      = p(y_t = j) − [gold_t = j],           p(y_t = j) = exp(alpha[t][j] + beta[t][j] − log Z)
 *   d trans[i][j]   = Σ_{t≥1} p(y_{t−1} = i, y_t = j) − #{t: gold_{t−1} = i, gold_t = j},
 *                     p(y_{t−1} = i, y_t = j) = exp(alpha[t−1][i] + trans[i][j] + em[t][j] + beta[t][j] − log Z)
 *   d start[j]      = p(y_0 = j) − [gold_0 = j]
 *   d end[j]        = p(y_{L−1} = j) − [gold_{L−1} = j]
 */
export function nllGrads(c: CrfParams, em: Em, tags: ArrayLike<number>, L: number): CrfGrads {
  const K = c.K;
  const { alpha, logZ } = forward(c, em, L);
  const beta = backward(c, em, L);
  const dem = new Float64Array(L * K);
  const dtrans = new Float64Array(K * K);
  const dstart = new Float64Array(K);
  const dend = new Float64Array(K);
  for (let t = 0; t < L; t++) {
    for (let j = 0; j < K; j++) dem[t * K + j] = Math.exp(alpha[t][j] + beta[t][j] - logZ);
    dem[t * K + tags[t]] -= 1;
    if (t === 0) for (let j = 0; j < K; j++) dstart[j] = Math.exp(alpha[0][j] + beta[0][j] - logZ);
    if (t === L - 1) for (let j = 0; j < K; j++) dend[j] = Math.exp(alpha[t][j] + beta[t][j] - logZ);
    if (t === 0) continue;
    for (let i = 0; i < K; i++) {
      for (let j = 0; j < K; j++) {
        dtrans[i * K + j] += Math.exp(alpha[t - 1][i] + c.trans[i * K + j] + em[t * K + j] + beta[t][j] - logZ);
      }
    }
    dtrans[tags[t - 1] * K + tags[t]] -= 1;
  }
  dstart[tags[0]] -= 1;
  dend[tags[L - 1]] -= 1;
  const gold = pathScore(c, em, Array.from({ length: L }, (_, t) => tags[t]));
  return { nll: logZ - gold, dem, dtrans, dstart, dend };
}

/**
 * Viterbi: the same recursion as the forward algorithm with max in place of logsumexp, keeping for
 * every (t, j) the best previous tag. Ties go to the smaller tag index (as the kernel does).
 */
export function viterbi(c: CrfParams, em: Em, L: number): { path: number[]; score: number } {
  const K = c.K;
  let delta = Array.from({ length: K }, (_, j) => c.start[j] + em[j]);
  const bp: number[][] = [[]];
  for (let t = 1; t < L; t++) {
    const back: number[] = [];
    delta = Array.from({ length: K }, (_, j) => {
      let best = 0;
      for (let i = 1; i < K; i++) if (delta[i] + c.trans[i * K + j] > delta[best] + c.trans[best * K + j]) best = i;
      back.push(best);
      return em[t * K + j] + delta[best] + c.trans[best * K + j];
    });
    bp.push(back);
  }
  let last = 0;
  for (let j = 1; j < K; j++) if (delta[j] + c.end[j] > delta[last] + c.end[last]) last = j;
  const path = [last];
  for (let t = L - 1; t > 0; t--) path.unshift(bp[t][path[0]]);
  return { path, score: delta[last] + c.end[last] };
}

/** Brute force over all K^L paths (tiny cases only): log Z and the best path with its score. */
export function bruteForce(c: CrfParams, em: Em, L: number): { logZ: number; path: number[]; score: number } {
  const scores: number[] = [];
  let best: number[] = [];
  let bestScore = -Infinity;
  const y = new Array<number>(L).fill(0);
  for (let n = 0; n < c.K ** L; n++) {
    // path number n in base K, most significant digit at step 0 (so ties keep the smaller path)
    for (let t = L - 1, r = n; t >= 0; t--, r = Math.floor(r / c.K)) y[t] = r % c.K;
    const s = pathScore(c, em, y);
    scores.push(s);
    if (s > bestScore) {
      bestScore = s;
      best = [...y];
    }
  }
  return { logZ: logsumexp(scores), path: best, score: bestScore };
}

/** Row b of a time-major (T, B, K) batch as an (L, K) sequence. */
export function rowOf(em: ArrayLike<number>, b: number, L: number, B: number, K: number): Float64Array {
  const out = new Float64Array(L * K);
  for (let t = 0; t < L; t++) for (let j = 0; j < K; j++) out[t * K + j] = em[(t * B + b) * K + j];
  return out;
}

/** Tags of row b of a (T, B) batch. */
export function tagsOf(tags: ArrayLike<number>, b: number, L: number, B: number): number[] {
  return Array.from({ length: L }, (_, t) => tags[t * B + b]);
}

/**
 * A whole batch as the kernel computes it: the nll summed over rows, gradients scaled by `scale`
 * (d em overwritten, zero at padded steps; parameter gradients summed over rows), Viterbi paths
 * (T, B) with −1 at padded steps and their scores. Rows of length 0 add nothing.
 */
export function crfBatch(c: CrfParams, em: ArrayLike<number>, tags: ArrayLike<number>, lens: number[], T: number, scale: number) {
  const K = c.K;
  const B = lens.length;
  let loss = 0;
  const dem = new Float64Array(T * B * K);
  const dtrans = new Float64Array(K * K);
  const dstart = new Float64Array(K);
  const dend = new Float64Array(K);
  const path = new Int32Array(T * B).fill(-1);
  const score = new Float64Array(B);
  lens.forEach((L, b) => {
    if (L === 0) return;
    const e = rowOf(em, b, L, B, K);
    const g = nllGrads(c, e, tagsOf(tags, b, L, B), L);
    loss += g.nll;
    for (let t = 0; t < L; t++) for (let j = 0; j < K; j++) dem[(t * B + b) * K + j] = g.dem[t * K + j] * scale;
    g.dtrans.forEach((v, i) => (dtrans[i] += v * scale));
    g.dstart.forEach((v, i) => (dstart[i] += v * scale));
    g.dend.forEach((v, i) => (dend[i] += v * scale));
    const v = viterbi(c, e, L);
    v.path.forEach((y, t) => (path[t * B + b] = y));
    score[b] = v.score;
  });
  return { loss, dem, dtrans, dstart, dend, path, score };
}
