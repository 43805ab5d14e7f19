// The applications' speed over the inference switches the library has, on the committed trained
// models (demo/models/g2p.rnnw: G2P Seq2Seq, bidirectional GRU 32 encoder, GRU decoder, general
// attention; demo/models/names.rnnw: names → gender SequenceClassifier, bidirectional GRU 32):
//   weights  f32, or int8 (quantize(app, { weights: 'int8' }), as the CLI's --int8 does)
//   threads  1, or --threads N (init({ threads: N }): each program runs on a team of N threads;
//            the CLI has no flag for it)
//   packed   the batch-1 packed weight copies on or off. translate() and predict() choose them
//            themselves (one row, f32, one thread: on) and take no switch; the one public switch is
//            GraphModel.stream({ packed }), so the packed comparison decodes greedily one word at a
//            time with a stream over the decoder input (`stream loop`), checked to give translate()'s
//            words. classify never reads packed copies (names are shorter than PACK_MIN_T = 16 steps).
// Workloads (held-out words of scripts/apps-data.mjs g2pWords(), held-out names of names()):
//   translate beam 1 / beam 5, batches of 64 words        words/s
//   translate beam 1, one word a call (packed when f32 on one thread)   words/s
//   stream loop, one word a call, packed on / off           words/s
//   classify, batches of 32 names                           records/s
// Before timing the script checks that the int8 models are marked int8 and decode differently from
// f32, that the N-thread models give the one-thread models' results exactly, that the stream loop
// gives translate()'s words with packed on and off, and that a packed stream holds packed copies.
// Fair comparison: --rounds rounds in one process; in each round every configuration of a workload
// runs once, in an order rotated by one place each round. Printed: every round, then per workload
// and configuration the median figure and the median of the per-round ratios to the workload's
// baseline (f32, unpacked where packed is a choice, one thread) with their min–max spread, the load
// average before and after and the cores this process may run on: the machine is shared, and the
// figures say something only when the load is below the cores.
//   npm run build && node bench/apps-matrix.mjs [--words 1024] [--words1 256] [--records 8000] [--rounds 5] [--threads 2]
//     [--g2p demo/models/g2p.rnnw] [--names demo/models/names.rnnw]
// A quick check that it runs (no meaningful figures): node bench/apps-matrix.mjs --words 64 --words1 16 --records 256 --rounds 1
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as lib from '../dist/index.js';
import { g2pWords, names } from '../scripts/apps-data.mjs';
import { machine, positiveCount, roundRatios, stats } from './common.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: a } = parseArgs({ options: {
  words: { type: 'string', default: '1024' }, words1: { type: 'string', default: '256' }, records: { type: 'string', default: '8000' },
  rounds: { type: 'string', default: '5' }, threads: { type: 'string', default: '2' },
  g2p: { type: 'string', default: join(root, 'demo/models/g2p.rnnw') }, names: { type: 'string', default: join(root, 'demo/models/names.rnnw') },
} });
const nWords = positiveCount('--words', a.words), nWords1 = positiveCount('--words1', a.words1), nRecords = positiveCount('--records', a.records);
const rounds = positiveCount('--rounds', a.rounds), team = positiveCount('--threads', a.threads);
if (team < 2) throw new Error(`Expected --threads N with N ≥ 2 (compared with one thread), got ${a.threads}`);
const load = () => loadavg().map((v) => +v.toFixed(2));
const load0 = load();
console.log(`apps-matrix ${new Date().toISOString()}: ${machine()}`);
console.log(`${cpus().length} cores (${availableParallelism()} usable), load ${load0.join(' ')}${load0[0] >= availableParallelism() / 2 ? ' — taken under load: the machine is shared, the ratios are indicative only' : ''}`);

// ---- models: f32 and int8 on a one-thread runtime, then the same on a runtime with a team
const g2pBytes = readFileSync(a.g2p), namesBytes = readFileSync(a.names);
const int8 = (m) => lib.quantize(m, { weights: 'int8' });
function models() {
  return {
    s2s: lib.Seq2Seq.deserialize(g2pBytes), s2s8: int8(lib.Seq2Seq.deserialize(g2pBytes)),
    clf: lib.SequenceClassifier.deserialize(namesBytes), clf8: int8(lib.SequenceClassifier.deserialize(namesBytes)),
  };
}
const info1 = await lib.init({ threads: 1 });
const one = models();
const infoN = await lib.init({ threads: team }); // the one-thread models keep their own runtime
if (infoN.threads !== team) throw new Error(`Expected a team of ${team} threads, got ${infoN.threads}: ${infoN.threadsNote}`);
const many = models();
console.log(`runtimes: ${info1.variant}, int8 mode ${info1.int8}; 1 thread and ${infoN.threads} threads`);
console.log(`models: ${a.g2p} (${JSON.stringify(one.s2s.config)}), ${a.names} (${JSON.stringify(one.clf.config)})`);

const { test } = g2pWords();
const cycle = (list, n) => Array.from({ length: n }, (_, i) => list[i % list.length]);
const words = cycle(test.map((t) => t[0]), nWords), words1 = cycle(test.map((t) => t[0]), nWords1);
const texts = cycle(names().test.texts, nRecords);

/**
 * Greedy decoding of one word with a stream over the decoder input (`tgt`), the source as its
 * context: the step's logits' best token that is not <pad> or <s> (the TokenVocab specials <pad> 0,
 * <s> 1, </s> 2), fed back until </s> or translate()'s default length cap (2 × letters + 10).
 */
function streamGreedy(m, word, packed) {
  const src = m.encodeSource(word, 'word');
  const d = m.model.stream({ input: 'tgt', context: { src: { data: new lib.Tensor(src, [src.length, 1]), lengths: [src.length] } }, packed });
  try {
    const out = [];
    const x = Int32Array.of(1);
    for (let t = 0; t < 2 * src.length + 10; t++) {
      const l = d.step(x).logits.data;
      let best = 2;
      for (let v = 3; v < l.length; v++) if (l[v] > l[best]) best = v;
      if (best === 2) break;
      out.push(m.target.tokens[best]);
      x[0] = best;
    }
    return { text: out.join(' '), packed: d.packed, packedFloats: m.model.packedFloats };
  } finally {
    d.close();
  }
}

// ---- checks before timing
const fail = (msg) => { throw new Error(`check failed: ${msg}`); };
const same = (x, y) => JSON.stringify(x) === JSON.stringify(y);
const probe = test.slice(0, 16).map((t) => t[0]);
for (const set of [one, many]) {
  if (set.s2s8.model.quantized !== 'int8' || set.clf8.model.quantized !== 'int8' || set.s2s.model.quantized !== null) fail('the int8 models are marked int8, the f32 ones not');
}
const beam5 = (m) => m.translate(probe, { beam: 5, batchSize: 64 });
const t32 = beam5(one.s2s), t8 = beam5(one.s2s8);
if (t8.every((t, i) => t.score === t32[i].score)) fail('int8 beam scores differ from f32');
if (!same(beam5(many.s2s), t32) || !same(beam5(many.s2s8), t8)) fail(`the ${team}-thread models translate as the one-thread models`);
const p32 = one.clf.predict(texts.slice(0, 64)), p8 = one.clf8.predict(texts.slice(0, 64));
if (p8.every((p, i) => p[0] === p32[i][0])) fail('int8 probabilities differ from f32');
const rows = (ps) => ps.map((p) => Array.from(p));
if (!same(rows(many.clf.predict(texts.slice(0, 64))), rows(p32)) || !same(rows(many.clf8.predict(texts.slice(0, 64))), rows(p8))) fail(`the ${team}-thread classifiers predict as the one-thread ones`);
const greedy1 = one.s2s.translate(probe, { beam: 1, batchSize: 1 }).map((t) => t.text);
for (const packed of [true, false]) {
  const got = probe.map((w) => streamGreedy(one.s2s, w, packed));
  if (!same(got.map((g) => g.text), greedy1)) fail(`the stream loop (packed ${packed}) gives translate()'s greedy words`);
  if (got.some((g) => g.packed !== packed || (g.packedFloats > 0) !== packed)) fail(`a stream opened with packed ${packed} ${packed ? 'holds' : 'holds no'} packed copies`);
}
if (!same(probe.map((w) => streamGreedy(one.s2s8, w, false).text), one.s2s8.translate(probe, { batchSize: 1 }).map((t) => t.text))) fail('the int8 stream loop gives translate()\'s words');
console.log('checks passed: int8 marked and different from f32; team results equal one-thread results; stream loop = translate() greedy, packed on and off');

// ---- workloads: each a list of configurations, the first the baseline
const threadsTag = `${team} threads`;
/** The four configurations f32/int8 × 1/N threads of an application (`f32`, `q8`: its keys in a model set). */
const fourWays = (make, f32, q8) => [
  { name: 'f32 · 1 thread', run: make(one[f32]) }, { name: 'int8 · 1 thread', run: make(one[q8]) },
  { name: `f32 · ${threadsTag}`, run: make(many[f32]) }, { name: `int8 · ${threadsTag}`, run: make(many[q8]) },
];
const translate = (list, opts) => (m) => () => (m.translate(list, opts), list.length);
const loop = (set, q, packed) => () => { for (const w of words1) streamGreedy(set[q], w, packed); return words1.length; };
const workloads = [
  { name: 'translate beam 1, batches of 64', unit: 'words/s', configs: fourWays(translate(words, { beam: 1, batchSize: 64 }), 's2s', 's2s8') },
  { name: 'translate beam 5, batches of 64', unit: 'words/s', configs: fourWays(translate(words, { beam: 5, batchSize: 64 }), 's2s', 's2s8') },
  { name: 'translate beam 1, one word a call (f32 on 1 thread: packed)', unit: 'words/s', configs: fourWays(translate(words1, { beam: 1, batchSize: 1 }), 's2s', 's2s8') },
  { name: 'stream loop greedy, one word a call', unit: 'words/s', configs: [
    { name: 'f32 · unpacked · 1 thread', run: loop(one, 's2s', false) }, { name: 'f32 · packed · 1 thread', run: loop(one, 's2s', true) },
    { name: 'int8 · 1 thread', run: loop(one, 's2s8', false) }, { name: `f32 · ${threadsTag}`, run: loop(many, 's2s', false) },
    { name: `int8 · ${threadsTag}`, run: loop(many, 's2s8', false) },
  ] },
  { name: 'classify, batches of 32', unit: 'records/s', configs: fourWays((m) => () => (m.predict(texts, { batchSize: 32 }), texts.length), 'clf', 'clf8') },
];

/** Items per second of one call. */
function rate(run) {
  const t0 = performance.now();
  const n = run();
  return n / ((performance.now() - t0) / 1000);
}
/** Round r's order of n configurations: rotated by r places, so each goes first in turn. */
const roundOrder = (n, r) => Array.from({ length: n }, (_, i) => (i + r) % n);

for (const w of workloads) for (const c of w.configs) c.run(); // warm-up: plans compiled, copies made
const figs = workloads.map((w) => w.configs.map(() => []));
for (let r = 0; r < rounds; r++) {
  const line = [];
  workloads.forEach((w, wi) => {
    for (const ci of roundOrder(w.configs.length, r)) figs[wi][ci].push(rate(w.configs[ci].run));
    line.push(`${w.name}: ${w.configs.map((c, ci) => `${c.name} ${figs[wi][ci][r].toFixed(0)}`).join(', ')}`);
  });
  console.log(`round ${r + 1}:\n  ${line.join('\n  ')}`);
}

// ---- table: median figure, and the median (min–max) of the per-round ratios to the baseline
console.log(`\n| workload | configuration | median | × baseline, median (min–max) of ${rounds} rounds |\n|---|---|---|---|`);
workloads.forEach((w, wi) => w.configs.forEach((c, ci) => {
  const med = stats(figs[wi][ci]).median;
  const rr = roundRatios(figs[wi][ci], figs[wi][0]);
  console.log(`| ${ci === 0 ? w.name : ''} | ${c.name} | ${med.toFixed(0)} ${w.unit} | ${ci === 0 ? 'baseline' : `×${rr.median.toFixed(3)} (${rr.min.toFixed(3)}–${rr.max.toFixed(3)})`} |`);
}));
console.log(`load before ${load0.join(' ')}, after ${load().join(' ')}`);
for (const set of [one, many]) for (const m of Object.values(set)) m.dispose();
await lib.closeThreads();
