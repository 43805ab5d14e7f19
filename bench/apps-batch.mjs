// Throughput of the batch tool `rnn-wasm classify` (records/s) at 1 and 2 workers, beside
// TensorFlow.js (tfjs-layers on its wasm backend) running the same model — the same weights,
// copied — on the same records with the same length-sorted batches of 32.
// Model: the names classifier's shape with one layer (characters → embedding 32 → bidirectional
// LSTM 64 → final states → linear 2). Records: the held-out names of scripts/apps-data.mjs,
// repeated to --records.
// Fair comparison: --rounds rounds in one process; in each round every side runs once, in an order
// that alternates between rounds (1 then 2 workers, then 2 then 1; TF.js and ours in-process
// likewise), so a load change on the machine hits both sides alike. Printed: every round, and per
// comparison the median of the per-round ratios with their min–max spread, plus the load average
// before and after and the cores this process may run on (the figures mean something only on a
// quiet machine with both cores available).
//   npm run build && node bench/apps-batch.mjs [--records 20000] [--rounds 5]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { init, SequenceClassifier, Tokenizer, lengthBatches } from '../dist/index.js';
import { names } from '../scripts/apps-data.mjs';
import { roundRatios, stats } from './common.mjs';

const { values: a } = parseArgs({ options: { records: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '5' } } });
const rounds = +a.rounds;
if (!(Number.isInteger(rounds) && rounds >= 1)) throw new Error(`Expected --rounds to be a positive integer, got ${a.rounds}`);
await init();
const { train, test } = names();
const texts = Array.from({ length: +a.records }, (_, i) => test.texts[i % test.texts.length]);
const clf = new SequenceClassifier({ tokenizer: Tokenizer.fit(train.texts), labels: ['female', 'male'], hiddenSize: 64, embeddingDim: 32, bidirectional: true, seed: 1 });
const dir = mkdtempSync(join(tmpdir(), 'apps-bench-'));
writeFileSync(join(dir, 'm.rnnw'), clf.serialize());
writeFileSync(join(dir, 'in.jsonl'), texts.map((text, id) => JSON.stringify({ id, text })).join('\n') + '\n');

const load = () => loadavg().map((v) => +v.toFixed(2));
const results = { date: new Date().toISOString(), records: texts.length, rounds, cores: cpus().length, coresThisProcessMayUse: availableParallelism(), loadBefore: load() };

/** One run of the CLI: records/s over the whole process (start-up, workers, JSON in and out) and as the tool reports it (after start-up). */
function cli(workers) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [resolve('dist/cli.js'), 'classify', join(dir, 'm.rnnw'), join(dir, 'in.jsonl'), '--workers', String(workers), '--batch', '32'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(r.stderr);
  const lines = r.stdout.trimEnd().split('\n').length;
  if (lines !== texts.length) throw new Error(`expected ${texts.length} lines, got ${lines}`);
  const reported = /([0-9.]+) records\/s/.exec(r.stderr.trim().split('\n').at(-1));
  if (!reported) throw new Error(`expected the tool's records/s on stderr, got ${r.stderr}`);
  return { whole: texts.length / wall, tool: Number(reported[1]) };
}

// TF.js: the same weights (PyTorch gate order i,f,g,o = Keras i,f,c,o; kernels transposed; one bias = b_ih + b_hh)
await tf.setBackend('wasm');
const V = clf.tokenizer.size, H = 64, E = 32;
const m = tf.sequential({ layers: [
  tf.layers.embedding({ inputDim: V, outputDim: E, maskZero: true, inputShape: [null] }),
  tf.layers.bidirectional({ layer: tf.layers.lstm({ units: H, recurrentActivation: 'sigmoid' }), mergeMode: 'concat' }),
  tf.layers.dense({ units: 2, activation: 'softmax' }),
] });
const P = (n) => clf.model.getParameter(n);
const T = (x, rows, cols) => { const o = new Float32Array(x.length); for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) o[c * rows + r] = x[r * cols + c]; return o; };
const lstmW = (sfx) => [tf.tensor(T(P(`rnn.weight_ih_l0${sfx}`), 4 * H, E), [E, 4 * H]), tf.tensor(T(P(`rnn.weight_hh_l0${sfx}`), 4 * H, H), [H, 4 * H]), tf.tensor(P(`rnn.bias_ih_l0${sfx}`).map((v, i) => v + P(`rnn.bias_hh_l0${sfx}`)[i]))];
m.setWeights([tf.tensor(P('emb.weight'), [V, E]), ...lstmW(''), ...lstmW('_reverse'), tf.tensor(T(P('out.weight'), 2, 2 * H), [2 * H, 2]), tf.tensor(P('out.bias'))]);
const seqs = texts.map((t) => clf.tokenizer.encode(t));
const tfPredict = () => {
  const out = new Array(seqs.length);
  for (const batch of lengthBatches(seqs.map((s) => s.length), 32)) {
    const L = Math.max(...batch.map((i) => seqs[i].length));
    const x = new Int32Array(batch.length * L);
    batch.forEach((i, b) => x.set(seqs[i], b * L));
    const p = tf.tidy(() => m.predict(tf.tensor(x, [batch.length, L], 'int32')).dataSync());
    batch.forEach((i, b) => (out[i] = p[2 * b]));
  }
  return out;
};
/** records/s of one pass over every record. */
const timed = (f) => {
  const t = performance.now();
  f();
  return texts.length / ((performance.now() - t) / 1000);
};
const inProcess = () => timed(() => clf.predict(texts));
// the two sides agree before anything is timed
const pt = tfPredict();
const ours = clf.predict(texts.slice(0, 500));
results.max_abs_diff_vs_tfjs = Math.max(...ours.map((p, i) => Math.abs(p[0] - pt[i])));
inProcess(); // warm-up of both

const runs = { ours_1w: [], ours_2w: [], ours_1w_tool: [], ours_2w_tool: [], tfjs: [], ours_in_process: [] };
for (let round = 0; round < rounds; round++) {
  const flip = round % 2 === 1;
  for (const w of flip ? [2, 1] : [1, 2]) {
    const r = cli(w);
    runs[`ours_${w}w`].push(r.whole);
    runs[`ours_${w}w_tool`].push(r.tool);
  }
  for (const side of flip ? ['ours_in_process', 'tfjs'] : ['tfjs', 'ours_in_process']) runs[side].push(side === 'tfjs' ? timed(tfPredict) : inProcess());
  console.error(`round ${round + 1}/${rounds} (${flip ? '2w, 1w; ours, tfjs' : '1w, 2w; tfjs, ours'}): ` +
    Object.entries(runs).map(([k, v]) => `${k} ${Math.round(v[round])}`).join(', ') + ' records/s');
}
const ratio = (num, den) => roundRatios(runs[num], runs[den]);
results.records_per_s = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, { median: Math.round(stats(v).median), min: Math.round(Math.min(...v)), max: Math.round(Math.max(...v)) }]));
results.ratios = {
  workers_2_over_1_whole_process: ratio('ours_2w', 'ours_1w'),
  workers_2_over_1_after_start_up: ratio('ours_2w_tool', 'ours_1w_tool'),
  ours_in_process_over_tfjs: ratio('ours_in_process', 'tfjs'),
};
results.loadAfter = load();
for (const [k, r] of Object.entries(results.ratios)) console.error(`${k}: median ${r.median} (min ${r.min}, max ${r.max} over ${rounds} rounds)`);
console.error(`max |p ours − p tfjs| ${results.max_abs_diff_vs_tfjs.toExponential(2)}; load average ${results.loadBefore.join(' ')} before, ${results.loadAfter.join(' ')} after, ${results.cores} cores (${results.coresThisProcessMayUse} usable by this process)`);
console.log(JSON.stringify(results));
clf.dispose();
