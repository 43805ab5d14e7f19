// The digit-reversal task of the model-graph issue, shared by scripts/reverse-digits.mjs (the full
// run) and test/graph/reverse.test.ts (a small CI-time run): an encoder–decoder reads a random
// digit string and writes it reversed, then EOS. `lib` is the library module (dist/ or src/).
// Tokens: digits 0–9, BOS = 10, EOS = 11. Time-major ids; every batch padded to its longest string.

export const BOS = 10;
export const EOS = 11;
export const V = 12;

/** mulberry32 */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n random digit strings with lengths uniform in [minLen, maxLen], none in `exclude` (keys "0123"). */
export function makeStrings(rand, n, minLen, maxLen, exclude = new Set()) {
  const out = [];
  while (out.length < n) {
    const len = minLen + Math.floor(rand() * (maxLen - minLen + 1));
    const s = Array.from({ length: len }, () => Math.floor(rand() * 10));
    if (!exclude.has(s.join(''))) out.push(s);
  }
  return out;
}

/**
 * src ids → embedding → LSTM encoder; tgt ids (BOS + reversed) → embedding → LSTM decoder started
 * from the encoder's final (h, c); with attention: Luong `general` over the encoder outputs, the
 * attentional state tanh(W_c [context; h]), then the logits; without: the logits from h directly.
 */
export function buildModel(lib, { attention, hidden = 64, embed = 16, seed = 1 }) {
  const { graph, GraphModel } = lib;
  const src = graph.input('src', { type: 'ids', vocabSize: V });
  const tgt = graph.input('tgt', { type: 'ids', vocabSize: V });
  const enc = graph.lstm(graph.embedding(src, { embeddingDim: embed, name: 'src_emb' }), { hiddenSize: hidden, name: 'enc' });
  const dec = graph.lstm(graph.embedding(tgt, { embeddingDim: embed, name: 'tgt_emb' }), {
    hiddenSize: hidden, name: 'dec', initialState: { h: enc.hN, c: enc.cN },
  });
  let top = dec.output;
  const outputs = {};
  if (attention) {
    const att = graph.attention(dec.output, enc.output, { score: 'general', name: 'att' });
    top = graph.tanh(graph.linear(graph.concat([att.context, dec.output]), { outFeatures: hidden, bias: false, name: 'attn_state' }));
    outputs.weights = att.weights;
  }
  outputs.logits = graph.linear(top, { outFeatures: V, name: 'out' });
  return new GraphModel({ inputs: [src, tgt], outputs, seed });
}

/** Feed and targets of a batch: src (Ts, B), tgt = BOS + reversed (Ts+1, B), y = reversed + EOS. */
export function batchOf(lib, strs) {
  const { Tensor } = lib;
  const B = strs.length;
  const Ts = Math.max(...strs.map((s) => s.length));
  const Tt = Ts + 1;
  const src = new Int32Array(Ts * B).fill(EOS);
  const tgt = new Int32Array(Tt * B).fill(EOS);
  const y = new Int32Array(Tt * B).fill(-1);
  strs.forEach((s, b) => {
    const r = [...s].reverse();
    s.forEach((d, t) => (src[t * B + b] = d));
    tgt[b] = BOS;
    r.forEach((d, t) => {
      tgt[(t + 1) * B + b] = d;
      y[t * B + b] = d;
    });
    y[s.length * B + b] = EOS;
  });
  const ls = strs.map((s) => s.length);
  return {
    inputs: { src: { data: new Tensor(src, [Ts, B]), lengths: ls }, tgt: { data: new Tensor(tgt, [Tt, B]), lengths: ls.map((l) => l + 1) } },
    targets: { logits: new Tensor(y, [Tt, B]) },
  };
}

/** Teacher-forced training with Adam; returns the last loss. */
export function train(lib, model, strs, { steps, batchSize = 64, lr = 3e-3, seed = 2, log }) {
  const opt = new lib.Adam({ lr });
  const rand = prng(seed);
  let loss = NaN;
  for (let step = 1; step <= steps; step++) {
    const batch = Array.from({ length: batchSize }, () => strs[Math.floor(rand() * strs.length)]);
    loss = model.trainStep(batchOf(lib, batch), { losses: { logits: 'crossEntropy' }, optimizer: opt, clipNorm: 5 }).loss;
    if (log && step % log.every === 0) log.fn(step, loss);
  }
  return loss;
}

/**
 * Greedy decoding, batched, with the graph's step-wise decoder: the encoder runs once per batch,
 * then one wasm call per output step for all rows, each step fed the previous prediction.
 * Exact match = every digit and the EOS at the end right.
 */
export function exactMatch(lib, model, strs, batchSize = 256) {
  const byLen = new Map();
  for (let i = 0; i < strs.length; i += batchSize) {
    const chunk = strs.slice(i, i + batchSize);
    const B = chunk.length;
    const Tt = Math.max(...chunk.map((s) => s.length)) + 1;
    const dec = model.decoder({ step: 'tgt', context: { src: batchOf(lib, chunk).inputs.src } });
    const pred = new Int32Array(Tt * B);
    let x = new Int32Array(B).fill(BOS);
    for (let t = 0; t < Tt; t++) {
      const logits = dec.step(x).logits.data;
      x = new Int32Array(B);
      for (let b = 0; b < B; b++) {
        let best = 0;
        for (let v = 1; v < V; v++) if (logits[b * V + v] > logits[b * V + best]) best = v;
        pred[t * B + b] = x[b] = best;
      }
    }
    dec.close();
    chunk.forEach((s, b) => {
      const want = [...[...s].reverse(), EOS];
      const ok = want.every((d, t) => pred[t * B + b] === d);
      const e = byLen.get(s.length) ?? { n: 0, ok: 0 };
      e.n++;
      e.ok += ok ? 1 : 0;
      byLen.set(s.length, e);
    });
  }
  let n = 0, ok = 0;
  for (const e of byLen.values()) {
    n += e.n;
    ok += e.ok;
  }
  return { accuracy: ok / n, byLength: new Map([...byLen].sort((a, b) => a[0] - b[0]).map(([l, e]) => [l, e.ok / e.n])) };
}
