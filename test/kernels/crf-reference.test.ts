// The f64 CRF reference (test/reference/crf.ts) checked against definitions nobody can get wrong:
// brute-force enumeration of all K^T paths (partition function, best path) and central finite
// differences of the nll (every gradient).
import { describe, expect, it } from 'vitest';
import * as ref from '../reference/crf';

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return (s / 4294967296) * 2 - 1;
  };
}

function randomCase(K: number, L: number, seed: number, amp = 2) {
  const r = rng(seed);
  const c = {
    K,
    trans: Float64Array.from({ length: K * K }, () => r() * amp),
    start: Float64Array.from({ length: K }, () => r() * amp),
    end: Float64Array.from({ length: K }, () => r() * amp),
  };
  const em = Float64Array.from({ length: L * K }, () => r() * amp);
  const tags = Array.from({ length: L }, () => Math.floor(((r() + 1) / 2) * K) % K);
  return { c, em, tags };
}

const TINY: [number, number][] = [[1, 1], [1, 4], [2, 1], [2, 5], [3, 3], [3, 4], [4, 2], [4, 4], [5, 3]];

describe('CRF f64 reference', () => {
  it.each(TINY)('K=%i, T=%i: forward-algorithm log Z and Viterbi equal brute force over all K^T paths', (K, L) => {
    for (let seed = 1; seed <= 4; seed++) {
      const { c, em } = randomCase(K, L, seed * 31 + K * 7 + L);
      const bf = ref.bruteForce(c, em, L);
      const { logZ } = ref.forward(c, em, L);
      expect(Math.abs(logZ - bf.logZ)).toBeLessThan(1e-12 * (1 + Math.abs(bf.logZ)));
      const v = ref.viterbi(c, em, L);
      expect(v.path).toEqual(bf.path);
      expect(Math.abs(v.score - bf.score)).toBeLessThan(1e-12 * (1 + Math.abs(bf.score)));
      // the backward algorithm closes the loop: logsumexp_j(start + em[0] + beta[0]) = log Z
      const beta = ref.backward(c, em, L);
      const z2 = ref.logsumexp(Array.from({ length: K }, (_, j) => c.start[j] + em[j] + beta[0][j]));
      expect(Math.abs(z2 - bf.logZ)).toBeLessThan(1e-12 * (1 + Math.abs(bf.logZ)));
    }
  });

  it('Viterbi breaks exact ties toward the smaller tag index, as brute force in path order does', () => {
    const c = { K: 3, trans: new Float64Array(9), start: new Float64Array(3), end: new Float64Array(3) };
    const em = new Float64Array(4 * 3); // all paths score 0
    expect(ref.viterbi(c, em, 4).path).toEqual([0, 0, 0, 0]);
    expect(ref.bruteForce(c, em, 4).path).toEqual([0, 0, 0, 0]);
  });

  it('the model is a distribution: exp(s(y) − log Z) sums to 1 over all paths, and nll ≥ 0', () => {
    const { c, em } = randomCase(3, 4, 5);
    const { logZ } = ref.forward(c, em, 4);
    let total = 0;
    for (let n = 0; n < 81; n++) {
      const y = [Math.floor(n / 27) % 3, Math.floor(n / 9) % 3, Math.floor(n / 3) % 3, n % 3];
      total += Math.exp(ref.pathScore(c, em, y) - logZ);
      expect(ref.nllGrads(c, em, y, 4).nll).toBeGreaterThanOrEqual(0);
    }
    expect(Math.abs(total - 1)).toBeLessThan(1e-12);
  });

  it.each([[1, 3], [2, 1], [2, 4], [3, 5], [5, 3], [4, 6]])(
    'K=%i, T=%i: forward-backward gradients equal central finite differences of the nll',
    (K, L) => {
      const { c, em, tags } = randomCase(K, L, 97 + K * L);
      const g = ref.nllGrads(c, em, tags, L);
      const h = 1e-5;
      // perturb one entry of one array, recompute the nll, restore
      const fd = (arr: Float64Array, i: number): number => {
        const v = arr[i];
        arr[i] = v + h;
        const up = ref.nllGrads(c, em, tags, L).nll;
        arr[i] = v - h;
        const dn = ref.nllGrads(c, em, tags, L).nll;
        arr[i] = v;
        return (up - dn) / (2 * h);
      };
      const pairs: [Float64Array, Float64Array][] = [[em, g.dem], [c.trans, g.dtrans], [c.start, g.dstart], [c.end, g.dend]];
      let maxErr = 0;
      for (const [arr, grad] of pairs) {
        for (let i = 0; i < arr.length; i++) maxErr = Math.max(maxErr, Math.abs(fd(arr, i) - grad[i]));
      }
      expect(maxErr).toBeLessThan(1e-8);
      // each step's emission gradient sums to 0 (marginals sum to 1, minus one gold indicator)
      for (let t = 0; t < L; t++) {
        let s = 0;
        for (let j = 0; j < K; j++) s += g.dem[t * K + j];
        expect(Math.abs(s)).toBeLessThan(1e-12);
      }
    },
  );

  it('finite differences would catch a wrong gradient (the check can fail)', () => {
    const { c, em, tags } = randomCase(3, 4, 11);
    const g = ref.nllGrads(c, em, tags, 4);
    const h = 1e-5;
    const v = c.trans[4];
    c.trans[4] = v + h;
    const up = ref.nllGrads(c, em, tags, 4).nll;
    c.trans[4] = v - h;
    const dn = ref.nllGrads(c, em, tags, 4).nll;
    c.trans[4] = v;
    // the gradient of the wrong transition entry (the transpose) differs measurably
    expect(Math.abs((up - dn) / (2 * h) - g.dtrans[4])).toBeLessThan(1e-8);
    expect(Math.abs((up - dn) / (2 * h) - g.dtrans[4 - 1])).toBeGreaterThan(1e-4);
  });
});
