// Linear-chain CRF output layer: the negative log-likelihood of gold tag paths with its gradients
// (forward–backward algorithm, log space) and Viterbi decoding; batched, time-major, per-row lengths.
// Dimension letters: T steps, B batch, K tags. Pointers are element offsets (f32, or i32 where noted).
// The score of a tag path y of a row of length L (the readable spec is test/reference/crf.ts):
//   s(y) = start[y_0] + Σ_{t<L} em[t, b, y_t] + Σ_{1≤t<L} trans[y_{t−1}, y_t] + end[y_{L−1}]
//   nll  = log Σ_y exp s(y) − s(gold)
// Vectors run over the K "to" tags of a step (4 lanes, tails as partial vectors with the body's
// formula), the loop over "from" tags is scalar-broadcast: one vexp per (from, to) pair per step
// in the forward algorithm, one more in the backward sweep (beta and pair marginals share it).
// For K ≤ 3 that is one partial vector per from-tag, i.e. in effect scalar code. Every logsumexp
// subtracts the exact maximum first, so finite inputs of any size (±1e4 emissions) stay finite.
import { ldn, stn, lds, sts, hsum, madd } from '../util/simd';
import { vexp } from './activations';

// Rows of K floats rounded up to whole vectors (the per-row scratch vectors).
@inline function k4(K: i32): i32 {
  return (K + 3) & ~3;
}

// Valid steps of row b: lens[b] clamped to [0, T] (lens = 0: every row has T).
@inline function rowLen(lens: usize, b: i32, T: i32): i32 {
  if (lens == 0) return T;
  const L = load<i32>((lens + <usize>b) << 2);
  return L < 0 ? 0 : L > T ? T : L;
}

@inline function ldi(p: usize): i32 {
  return load<i32>(p << 2);
}

// Largest lane of v.
@inline function hmax(v: v128): f32 {
  const s = f32x4.max(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(f32x4.max(s, v128.shuffle<f32>(s, s, 1, 0, 3, 2)), 0);
}

// Largest of x[0..K) (scalar: K per step, against K² for the recursions).
function maxK(x: usize, K: i32): f32 {
  let m = lds(x);
  for (let j = 1; j < K; j++) m = max(m, lds(x + <usize>j));
  return m;
}

// x[j] −= v for j < K.
function subK(x: usize, v: f32, K: i32): void {
  for (let j = 0; j < K; j++) sts(x + <usize>j, lds(x + <usize>j) - v);
}

// out[j] = em_t[j] − emax (returned): an emission row shifted so its largest entry is 0.
function shiftedRow(out: usize, em_t: usize, K: i32): f32 {
  const m = maxK(em_t, K);
  for (let j = 0; j < K; j++) sts(out + <usize>j, lds(em_t + <usize>j) - m);
  return m;
}

// out[j] = e[j] + logsumexp_i(prev[i] + trans[i, j]) for j < K (the forward recursion);
// tmp (K4) receives the sums of exponentials before their logs are added.
function alphaStep(out: usize, prev: usize, e: usize, trans: usize, tmp: usize, K: i32): void {
  const KK = <usize>K;
  for (let j = 0; j < K; j += 4) {
    const n = min(4, K - j);
    const jj = <usize>j;
    let mx = f32x4.splat(-Infinity);
    for (let i = 0; i < K; i++) {
      mx = f32x4.max(mx, f32x4.add(f32x4.splat(lds(prev + <usize>i)), ldn(trans + <usize>i * KK + jj, n)));
    }
    let s = f32x4.splat(0);
    for (let i = 0; i < K; i++) {
      const v = f32x4.add(f32x4.splat(lds(prev + <usize>i)), ldn(trans + <usize>i * KK + jj, n));
      s = f32x4.add(s, vexp(f32x4.sub(v, mx)));
    }
    stn(out + jj, f32x4.add(mx, ldn(e + jj, n)), n);
    stn(tmp + jj, s, n);
  }
  for (let j = 0; j < K; j++) sts(out + <usize>j, lds(out + <usize>j) + Mathf.log(lds(tmp + <usize>j)));
}

// log Σ_j exp(a[j] + c[j]) in f64 (a, c: K floats); the log-partition's last step.
function lseSum(a: usize, c: usize, K: i32): f64 {
  let m: f64 = -Infinity;
  for (let j = 0; j < K; j++) m = max(m, <f64>(lds(a + <usize>j) + lds(c + <usize>j)));
  let s: f64 = 0;
  for (let j = 0; j < K; j++) s += Math.exp(<f64>(lds(a + <usize>j) + lds(c + <usize>j)) - m);
  return m + Math.log(s);
}

// Score of the gold path of one row (L ≥ 1 steps), in f64.
function goldScore(em: usize, tags: usize, trans: usize, start: usize, end: usize, b: i32, L: i32, B: i32, K: i32): f64 {
  let prev = ldi(tags + <usize>b);
  let s: f64 = <f64>lds(start + <usize>prev) + <f64>lds(em + <usize>b * <usize>K + <usize>prev);
  for (let t = 1; t < L; t++) {
    const row = <usize>t * <usize>B + <usize>b;
    const y = ldi(tags + row);
    s += <f64>lds(trans + <usize>prev * <usize>K + <usize>y) + <f64>lds(em + row * <usize>K + <usize>y);
    prev = y;
  }
  return s + <f64>lds(end + <usize>prev);
}

// The forward algorithm of one row, normalised: alpha'[t] = alpha[t] − cA[t] with max_j alpha'[t, j] = 0
// and the offsets cA (L) kept in f64, so f32 rounding is relative to the scores near the best paths,
// not to the whole path score (which grows with T and with the emissions' size). Returns log Z.
function forwardRow(
  alpha: usize, cA: usize, em: usize, trans: usize, start: usize, end: usize, ws: usize,
  b: i32, L: i32, B: i32, K: i32,
): f64 {
  const BK = <usize>B * <usize>K;
  const off = <usize>b * <usize>K;
  const K4 = <usize>k4(K);
  const e = ws + 2 * K4; // shifted emission row
  const tmp = ws + 3 * K4;
  let c = <f64>shiftedRow(e, em + off, K);
  for (let j = 0; j < K; j++) sts(alpha + off + <usize>j, lds(start + <usize>j) + lds(e + <usize>j));
  let m = maxK(alpha + off, K);
  subK(alpha + off, m, K);
  c += <f64>m;
  store<f64>(cA << 2, c);
  for (let t = 1; t < L; t++) {
    const row = <usize>t * BK + off;
    c += <f64>shiftedRow(e, em + row, K);
    alphaStep(alpha + row, alpha + row - BK, e, trans, tmp, K);
    m = maxK(alpha + row, K);
    subK(alpha + row, m, K);
    c += <f64>m;
    store<f64>((cA + 2 * <usize>t) << 2, c);
  }
  return c + lseSum(alpha + <usize>(L - 1) * BK + off, end, K);
}

// The backward sweep of one row: marginals into dem/dstart/dend, pair marginals into dtrans, the
// beta recursion beta[t−1, i] = logsumexp_j(trans[i, j] + em[t, j] + beta[t, j]) on the way, beta
// normalised like alpha (offset cB in f64). ws: 4 vectors of K4 floats (beta, beta of the step
// before, em + beta shifted and padded with -Inf, spare).
function sweepRow(
  dem: usize, dtrans: usize, dstart: usize, dend: usize,
  em: usize, alpha: usize, cA: usize, trans: usize, end: usize, ws: usize,
  b: i32, L: i32, B: i32, K: i32, logZ: f64, scale: f32,
): void {
  const KK = <usize>K;
  const K4 = <usize>k4(K);
  let beta = ws;
  let betaPrev = ws + K4;
  const eb = ws + 2 * K4;
  const mEnd = maxK(end, K);
  for (let j: usize = 0; j < KK; j++) sts(beta + j, lds(end + j) - mEnd);
  let cB = <f64>mEnd;
  const vs = f32x4.splat(scale);
  for (let t = L - 1; t >= 0; t--) {
    const row = (<usize>t * <usize>B + <usize>b) * KK;
    // unary marginals p_t(j) = exp(alpha'[t, j] + beta'[t, j] + cA[t] + cB − log Z), times scale
    const k = f32x4.splat(<f32>(load<f64>((cA + 2 * <usize>t) << 2) + cB - logZ));
    for (let j = 0; j < K; j += 4) {
      const n = min(4, K - j);
      const jj = <usize>j;
      const p = f32x4.mul(vexp(f32x4.add(f32x4.add(ldn(alpha + row + jj, n), ldn(beta + jj, n)), k)), vs);
      if (dem) stn(dem + row + jj, p, n);
      if (dstart && t == 0) stn(dstart + jj, f32x4.add(ldn(dstart + jj, n), p), n);
      if (dend && t == L - 1) stn(dend + jj, f32x4.add(ldn(dend + jj, n), p), n);
    }
    if (t == 0) break;
    // eb[j] = em[t, j] + beta'[t, j] − (emax + mE), max 0; lanes K..K4 hold -Inf so whole vectors add nothing
    const emax = shiftedRow(eb, em + row, K);
    for (let j: usize = 0; j < KK; j++) sts(eb + j, lds(eb + j) + lds(beta + j));
    const mE = maxK(eb, K);
    for (let j: usize = 0; j < K4; j++) sts(eb + j, j < KK ? lds(eb + j) - mE : -Infinity);
    const aPrev = alpha + row - <usize>B * KK; // alpha'[t − 1] of this row
    const kp = <f32>(load<f64>((cA + 2 * <usize>(t - 1)) << 2) + cB + <f64>emax + <f64>mE - logZ);
    for (let i = 0; i < K; i++) {
      const tr = trans + <usize>i * KK;
      // v_j = trans[i, j] + eb[j]: its logsumexp is beta[t − 1, i] up to the offsets
      let mx = f32x4.splat(-Infinity);
      for (let j = 0; j < K; j += 4) {
        mx = f32x4.max(mx, f32x4.add(ldn(tr + <usize>j, min(4, K - j)), v128.load((eb + <usize>j) << 2)));
      }
      const m = hmax(mx);
      // pair marginal p(y_{t−1} = i, y_t = j) = exp(alpha'[t − 1, i] + v_j + kp)
      //                                      = exp(v_j − m)·exp(m + alpha'[t − 1, i] + kp): one vexp per pair
      const w = f32x4.splat(Mathf.exp(m + lds(aPrev + <usize>i) + kp) * scale);
      let s = f32x4.splat(0);
      for (let j = 0; j < K; j += 4) {
        const n = min(4, K - j);
        const e = vexp(f32x4.sub(f32x4.add(ldn(tr + <usize>j, n), v128.load((eb + <usize>j) << 2)), f32x4.splat(m)));
        s = f32x4.add(s, e);
        if (dtrans) {
          const d = dtrans + <usize>i * KK + <usize>j;
          stn(d, madd(e, w, ldn(d, n)), n);
        }
      }
      sts(betaPrev + <usize>i, m + Mathf.log(hsum(s)));
    }
    const mb = maxK(betaPrev, K);
    subK(betaPrev, mb, K);
    cB += <f64>emax + <f64>mE + <f64>mb;
    const sw = beta;
    beta = betaPrev;
    betaPrev = sw;
  }
}

// The gold path's one-hot terms, subtracted (times scale) from the gradients of one row.
function goldGrads(
  dem: usize, dtrans: usize, dstart: usize, dend: usize, tags: usize,
  b: i32, L: i32, B: i32, K: i32, scale: f32,
): void {
  let prev = -1;
  for (let t = 0; t < L; t++) {
    const row = <usize>t * <usize>B + <usize>b;
    const y = ldi(tags + row);
    if (dem) sts(dem + row * <usize>K + <usize>y, lds(dem + row * <usize>K + <usize>y) - scale);
    if (dtrans && t > 0) {
      const d = dtrans + <usize>prev * <usize>K + <usize>y;
      sts(d, lds(d) - scale);
    }
    prev = y;
  }
  if (dstart) sts(dstart + <usize>ldi(tags + <usize>b), lds(dstart + <usize>ldi(tags + <usize>b)) - scale);
  if (dend) sts(dend + <usize>prev, lds(dend + <usize>prev) - scale);
}

// Elements of scratch crf_nll needs (f32 elements): T f64 offsets, the alphas, 4 vectors of K4.
export function crf_nll_scratch_size(T: i32, B: i32, K: i32): i32 {
  return k4(2 * T) + T * B * K + 4 * k4(K);
}

// crf_nll_forward_backward: per-row CRF negative log-likelihood and, optionally, its gradients.
//   dem     (T, B, K)  out   optional (0 = none): (p_t(j) − [gold_t = j])·scale, OVERWRITTEN;
//                            rows of padded steps (t ≥ lens[b]) are 0
//   dtrans  (K, K)     out   optional: += scale·Σ_t (p(y_{t−1} = i, y_t = j) − [gold pair = (i, j)])
//   dstart  (K)        out   optional: += scale·(p_0 − onehot(gold_0))
//   dend    (K)        out   optional: += scale·(p_{L−1} − onehot(gold_{L−1}))
//   em      (T, B, K)  in    emission scores; never read at padded steps (they may hold anything)
//   tags    (T, B) i32 in    gold tags in [0, K) at valid steps (the host checks); padded ones ignored
//   trans   (K, K)     in    transition scores, [from, to]
//   start   (K)        in    score of the first tag
//   end     (K)        in    score of the last tag
//   lens    (B) i32    in    optional (0 = all T); clamped to [0, T]; a row of length 0 adds 0 and no gradient
//   scratch            tmp   crf_nll_scratch_size(T, B, K) floats, 16-byte aligned (f64 offsets, alphas, vectors)
//   scale              f32   gradient scale (1/B for the mean over rows)
//   returns Σ_b nll_b in f64
// Alphas and betas are stored per step minus their row maximum (offsets in f64), so the error is
// relative to the competitive scores, not to |path score|: ±1e4 emissions over 16 steps stay within
// the same f32 tolerance as small ones (test/kernels/crf.test.ts). With all four gradient pointers 0
// only the forward algorithm runs (evaluation). Allocates nothing.
export function crf_nll_forward_backward(
  dem: usize, dtrans: usize, dstart: usize, dend: usize,
  em: usize, tags: usize, trans: usize, start: usize, end: usize, lens: usize, scratch: usize,
  T: i32, B: i32, K: i32, scale: f32,
): f64 {
  const KK = <usize>K;
  const BK = <usize>B * KK;
  const cA = scratch;
  const alpha = scratch + <usize>k4(2 * T);
  const ws = alpha + <usize>T * BK;
  const grads = dem != 0 || dtrans != 0 || dstart != 0 || dend != 0;
  let total: f64 = 0;
  for (let b = 0; b < B; b++) {
    const L = rowLen(lens, b, T);
    const off = <usize>b * KK;
    // padded steps: zero gradient
    if (dem) for (let t = L; t < T; t++) for (let j: usize = 0; j < KK; j++) sts(dem + <usize>t * BK + off + j, 0);
    if (L == 0) continue;
    const logZ = forwardRow(alpha, cA, em, trans, start, end, ws, b, L, B, K);
    total += logZ - goldScore(em, tags, trans, start, end, b, L, B, K);
    if (!grads) continue;
    sweepRow(dem, dtrans, dstart, dend, em, alpha, cA, trans, end, ws, b, L, B, K, logZ, scale);
    goldGrads(dem, dtrans, dstart, dend, tags, b, L, B, K, scale);
  }
  return total;
}

// Elements of scratch crf_viterbi needs: i32 back-pointers, then 3 f32 vectors of K4.
export function crf_viterbi_scratch_size(T: i32, B: i32, K: i32): i32 {
  return T * B * K + 3 * k4(K);
}

// delta_t[j] = e[j] + max_i(prev[i] + trans[i, j]), bp_t[j] = the first i reaching that max.
function viterbiStep(out: usize, bp: usize, prev: usize, e: usize, trans: usize, K: i32): void {
  const KK = <usize>K;
  for (let j = 0; j < K; j += 4) {
    const n = min(4, K - j);
    const jj = <usize>j;
    let mx = f32x4.splat(-Infinity);
    let arg = i32x4.splat(0);
    for (let i = 0; i < K; i++) {
      const v = f32x4.add(f32x4.splat(lds(prev + <usize>i)), ldn(trans + <usize>i * KK + jj, n));
      const better = f32x4.gt(v, mx); // strict: ties keep the smaller i
      arg = v128.bitselect(i32x4.splat(i), arg, better);
      mx = f32x4.max(mx, v);
    }
    stn(out + jj, f32x4.add(mx, ldn(e + jj, n)), n);
    stn(bp + jj, arg, n);
  }
}

// crf_viterbi: the highest-scoring tag path of every row.
//   path    (T, B) i32  out   best tag per step; -1 at padded steps (t ≥ lens[b])
//   score   (B)         out   s(best path); 0 for a row of length 0
//   em      (T, B, K)   in    never read at padded steps
//   trans, start, end   in    as crf_nll_forward_backward
//   lens    (B) i32     in    optional (0 = all T); clamped to [0, T]
//   scratch             tmp   crf_viterbi_scratch_size(T, B, K) elements (back-pointers, 3 vectors)
// delta is kept minus its row maximum (offset in f64), as the alphas. Ties go to the smaller tag
// index (at every step and at the end). Allocates nothing.
export function crf_viterbi(
  path: usize, score: usize, em: usize, trans: usize, start: usize, end: usize, lens: usize, scratch: usize,
  T: i32, B: i32, K: i32,
): void {
  const KK = <usize>K;
  const BK = <usize>B * KK;
  const bp = scratch; // (T, B, K) i32; step 0 unused
  let delta = scratch + <usize>T * BK;
  let next = delta + <usize>k4(K);
  const e = next + <usize>k4(K);
  for (let b = 0; b < B; b++) {
    const L = rowLen(lens, b, T);
    for (let t = L; t < T; t++) store<i32>((path + <usize>t * <usize>B + <usize>b) << 2, -1);
    if (L == 0) {
      sts(score + <usize>b, 0);
      continue;
    }
    const off = <usize>b * KK;
    let c = <f64>shiftedRow(e, em + off, K);
    for (let j: usize = 0; j < KK; j++) sts(delta + j, lds(start + j) + lds(e + j));
    for (let t = 1; t < L; t++) {
      const row = <usize>t * BK + off;
      const m = maxK(delta, K);
      subK(delta, m, K);
      c += <f64>m + <f64>shiftedRow(e, em + row, K);
      viterbiStep(next, bp + row, delta, e, trans, K);
      const sw = delta;
      delta = next;
      next = sw;
    }
    // best last tag, then follow the back-pointers
    let best = 0;
    let bestScore: f32 = lds(delta) + lds(end);
    for (let j = 1; j < K; j++) {
      const s = lds(delta + <usize>j) + lds(end + <usize>j);
      if (s > bestScore) {
        bestScore = s;
        best = j;
      }
    }
    sts(score + <usize>b, <f32>(c + <f64>bestScore));
    for (let t = L - 1; t >= 0; t--) {
      store<i32>((path + <usize>t * <usize>B + <usize>b) << 2, best);
      if (t > 0) best = ldi(bp + (<usize>t * BK + off) + <usize>best);
    }
  }
}
