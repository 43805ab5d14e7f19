// Greedy and beam-search decoding of a Seq2Seq graph with the graph's step-wise decoder: the
// encoder runs once per chunk of inputs; each step runs the decoder for every row (inputs × beam)
// in one wasm call; beam search then keeps the best hypotheses of each input and moves the state
// rows with reorder(). <pad> and <s> are never produced; at the maximum length only </s> is allowed.
// Several models of the same vocabularies decode as one (an ensemble): each runs its own decoder
// step, and the search reads the mean of their log-probabilities; the attention weights returned
// are the first model's.
import type { GraphModel } from '../../graph/model';
import type { Tensor } from '../../tensor';
import { sourceFeed, logSoftmaxRow } from './batch';
import { BOS, EOS, PAD } from './vocab';

/** One hypothesis of a beam search. */
export interface Hypothesis {
  /** Output token ids, without </s>. */
  ids: Int32Array;
  /** Σ log p of the tokens and the final </s> (natural log). */
  logProb: number;
  /** logProb / ((5 + n) / 6)^alpha, n = tokens + 1 (GNMT length normalisation); logProb when alpha = 0. */
  score: number;
}

export interface SearchResult {
  /** Best first (by score). */
  nbest: Hypothesis[];
  /** Attention weights of the best hypothesis: one row per output step (its tokens, then </s>), each over the source tokens; [] without attention. */
  weights: Float32Array[];
}

export interface SearchSettings {
  beam: number;
  alpha: number;
  /** Maximum output tokens for a source of length n. */
  maxLength: (n: number) => number;
  nbest: number;
}

interface Node {
  tok: number;
  parent: Node | null;
  logProb: number;
  len: number;
  w: Float32Array | null;
}

const penalty = (len: number, alpha: number): number => (alpha === 0 ? 1 : Math.pow((5 + len) / 6, alpha));

/**
 * Whether no alive hypothesis can still enter the top K: log-probabilities only fall as tokens are
 * added, so the best alive one's score is at most its log-probability over the longest length's penalty.
 */
function settled(finished: { score: number }[], bound: number, K: number): boolean {
  if (finished.length < K) return false;
  finished.sort((a, b) => b.score - a.score);
  finished.length = K;
  return finished[K - 1].score >= bound;
}

function unwind(n: Node): { ids: number[]; weights: Float32Array[] } {
  const ids: number[] = [];
  const weights: Float32Array[] = [];
  for (let p: Node | null = n; p && p.parent; p = p.parent) {
    ids.push(p.tok);
    if (p.w) weights.push(p.w);
  }
  ids.reverse();
  weights.reverse();
  return { ids: ids[ids.length - 1] === EOS ? ids.slice(0, -1) : ids, weights };
}

type Decoder = ReturnType<GraphModel['decoder']>;

/** Opens one decoder per model (all closed again if one cannot be opened). */
function openDecoders(models: readonly GraphModel[], srcs: readonly Int32Array[], beam?: number): Decoder[] {
  const decs: Decoder[] = [];
  try {
    for (const m of models) decs.push(m.decoder({ step: 'tgt', context: { src: sourceFeed(srcs) }, ...(beam ? { beam } : {}) }));
  } catch (e) {
    for (const d of decs) d.close();
    throw e;
  }
  return decs;
}

/** One step of every decoder: the logits of each, and the first one's attention weights. */
function stepAll(decs: Decoder[], x: Int32Array): { logits: Float32Array[]; V: number; weights?: Tensor } {
  const outs = decs.map((d) => d.step(x));
  return { logits: outs.map((o) => o.logits.data as Float32Array), V: outs[0].logits.shape[1], weights: outs[0].weights };
}

/** Log-probabilities of row r: the model's, or the mean over the models of an ensemble. */
function rowLogProbs(logits: Float32Array[], r: number, V: number): Float64Array {
  const lp = logSoftmaxRow(logits[0], r, V);
  if (logits.length === 1) return lp;
  for (let m = 1; m < logits.length; m++) {
    const o = logSoftmaxRow(logits[m], r, V);
    for (let v = 0; v < V; v++) lp[v] += o[v];
  }
  for (let v = 0; v < V; v++) lp[v] /= logits.length;
  return lp;
}

/** Decodes one chunk of sources (each ≥ 1 token) with beam width s.beam (1: greedy), with one model or an ensemble. */
export function searchChunk(models: readonly GraphModel[], srcs: readonly Int32Array[], s: SearchSettings): SearchResult[] {
  const N = srcs.length;
  const K = s.beam;
  const decs = openDecoders(models, srcs, K);
  try {
    const maxLen = srcs.map((x) => s.maxLength(x.length));
    const root: Node = { tok: BOS, parent: null, logProb: 0, len: 0, w: null };
    const alive: Node[][] = srcs.map(() => [root]);
    const finished: { node: Node; score: number }[][] = srcs.map(() => []);
    const done = new Array<boolean>(N).fill(false);
    let x = new Int32Array(N * K).fill(BOS);
    for (let t = 0; done.includes(false); t++) {
      const out = stepAll(decs, x);
      const V = out.V;
      const wts = out.weights?.data as Float32Array | undefined;
      const Ts = out.weights?.shape[1] ?? 0;
      const idx = Int32Array.from({ length: N * K }, (_, r) => r);
      x = new Int32Array(N * K).fill(EOS);
      for (let n = 0; n < N; n++) {
        if (done[n]) continue;
        const cands: { j: number; v: number; lp: number; total: number }[] = [];
        const forceEnd = t >= maxLen[n];
        alive[n].forEach((h, j) => {
          const lp = rowLogProbs(out.logits, n * K + j, V);
          for (let v = 0; v < V; v++) {
            if (v === PAD || v === BOS || (forceEnd && v !== EOS)) continue;
            cands.push({ j, v, lp: lp[v], total: h.logProb + lp[v] });
          }
        });
        cands.sort((a, b) => b.total - a.total || a.j - b.j || a.v - b.v);
        const next: Node[] = [];
        for (const c of cands) {
          if (next.length >= K) break;
          const parent = alive[n][c.j];
          const row = n * K + c.j;
          const w = wts ? wts.slice(row * Ts, row * Ts + srcs[n].length) : null;
          const node: Node = { tok: c.v, parent, logProb: c.total, len: parent.len + 1, w };
          if (c.v === EOS) finished[n].push({ node, score: c.total / penalty(node.len, s.alpha) });
          else {
            idx[n * K + next.length] = row;
            x[n * K + next.length] = c.v;
            next.push(node);
          }
        }
        alive[n] = next;
        done[n] = next.length === 0 || settled(finished[n], next[0].logProb / penalty(maxLen[n] + 1, s.alpha), K);
      }
      for (const d of decs) d.reorder(idx);
    }
    return finished.map((f) => {
      f.sort((a, b) => b.score - a.score);
      const nbest = f.slice(0, s.nbest).map(({ node, score }) => ({ ids: Int32Array.from(unwind(node).ids), logProb: node.logProb, score }));
      return { nbest, weights: unwind(f[0].node).weights };
    });
  } finally {
    for (const d of decs) d.close();
  }
}

/** Greedy decoding of one chunk: the most likely token at every step (no reordering). */
export function greedyChunk(models: readonly GraphModel[], srcs: readonly Int32Array[], s: SearchSettings): SearchResult[] {
  const N = srcs.length;
  const decs = openDecoders(models, srcs);
  try {
    const maxLen = srcs.map((x) => s.maxLength(x.length));
    const ids: number[][] = srcs.map(() => []);
    const weights: Float32Array[][] = srcs.map(() => []);
    const logProb = new Float64Array(N);
    const done = new Array<boolean>(N).fill(false);
    let x = new Int32Array(N).fill(BOS);
    for (let t = 0; done.includes(false); t++) {
      const out = stepAll(decs, x);
      const V = out.V;
      const Ts = out.weights?.shape[1] ?? 0;
      x = new Int32Array(N).fill(EOS);
      for (let n = 0; n < N; n++) {
        if (done[n]) continue;
        const lp = rowLogProbs(out.logits, n, V);
        let best = EOS;
        if (t < maxLen[n]) for (let v = 0; v < V; v++) if (v !== PAD && v !== BOS && lp[v] > lp[best]) best = v;
        logProb[n] += lp[best];
        if (out.weights) weights[n].push((out.weights.data as Float32Array).slice(n * Ts, n * Ts + srcs[n].length));
        if (best === EOS) done[n] = true;
        else ids[n].push((x[n] = best));
      }
    }
    return ids.map((h, n) => {
      const score = logProb[n] / penalty(h.length + 1, s.alpha);
      return { nbest: [{ ids: Int32Array.from(h), logProb: logProb[n], score }], weights: weights[n] };
    });
  } finally {
    for (const d of decs) d.close();
  }
}
