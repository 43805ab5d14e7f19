// Throughput of the batch tool `rnn-wasm classify` (records/s) at 1 and 2 workers, beside
// TensorFlow.js (tfjs-layers on its wasm backend) running the same model — the same weights,
// copied — on the same records with the same length-sorted batches of 32.
// Model: the names classifier's shape with one layer (characters → embedding 32 → bidirectional
// LSTM 64 → final states → linear 2). Records: the held-out names of scripts/apps-data.mjs,
// repeated to --records. Run: npm run build && node bench/apps-batch.mjs [--records 20000]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { init, SequenceClassifier, Tokenizer, lengthBatches } from '../dist/index.js';
import { names } from '../scripts/apps-data.mjs';

const { values: a } = parseArgs({ options: { records: { type: 'string', default: '20000' } } });
await init();
const { train, test } = names();
const texts = Array.from({ length: +a.records }, (_, i) => test.texts[i % test.texts.length]);
const clf = new SequenceClassifier({ tokenizer: Tokenizer.fit(train.texts), labels: ['female', 'male'], hiddenSize: 64, embeddingDim: 32, bidirectional: true, seed: 1 });
const dir = mkdtempSync(join(tmpdir(), 'apps-bench-'));
writeFileSync(join(dir, 'm.rnnw'), clf.serialize());
writeFileSync(join(dir, 'in.jsonl'), texts.map((text, id) => JSON.stringify({ id, text })).join('\n') + '\n');

const results = { date: new Date().toISOString(), records: texts.length, note: 'shared machine: 2 cores used by several engineers at once' };
for (const workers of [1, 2]) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [resolve('dist/cli.js'), 'classify', join(dir, 'm.rnnw'), join(dir, 'in.jsonl'), '--workers', String(workers), '--batch', '32'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(r.stderr);
  const lines = r.stdout.trimEnd().split('\n').length;
  if (lines !== texts.length) throw new Error(`expected ${texts.length} lines, got ${lines}`);
  results[`ours_${workers}w_records_per_s`] = Math.round(texts.length / wall);
  console.error(`rnn-wasm classify --workers ${workers}: ${results[`ours_${workers}w_records_per_s`]} records/s (whole process, ${wall.toFixed(1)} s; ${r.stderr.trim()})`);
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
tfPredict(); // warm-up
const t1 = performance.now();
const pt = tfPredict();
const tfs = (performance.now() - t1) / 1000;
results.tfjs_wasm_records_per_s = Math.round(texts.length / tfs);
const ours = clf.predict(texts.slice(0, 500));
results.max_abs_diff_vs_tfjs = Math.max(...ours.map((p, i) => Math.abs(p[0] - pt[i])));
const t2 = performance.now();
clf.predict(texts);
results.ours_in_process_records_per_s = Math.round(texts.length / ((performance.now() - t2) / 1000));
console.error(`tfjs (wasm backend, same weights, same batches): ${results.tfjs_wasm_records_per_s} records/s; ours in-process: ${results.ours_in_process_records_per_s}; max |p ours − p tfjs| ${results.max_abs_diff_vs_tfjs.toExponential(2)}`);
console.log(JSON.stringify(results));
clf.dispose();
