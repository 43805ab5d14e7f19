// Space restoration on the State of the Union addresses as sequence labeling: spaces removed,
// each character tagged 'S' when a space followed it. Train on windows of the speeches before
// 1990 (a seeded sample of --train-chunks windows, --epochs passes: a budget of steps that does not
// depend on the machine's load); test on every speech from 1990 on, each tagged whole in windows
// of --window characters that overlap by --overlap; F1 of 'S'. --crf for the CRF output layer.
//   node scripts/apps-spaces.mjs [--crf] [--window 200] [--train-chunks 6000] [--epochs 4] [--patience 2]
//     [--hidden 128] [--layers 1] [--embedding 32] [--overlap 50] [--test-speeches 0 (all)] [--out FILE]
// --out FILE also saves the model after every epoch; --eval FILE tests a saved model without training.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { init, SequenceLabeler, Tokenizer, splitIndices } from '../dist/index.js';
import { spaces } from './apps-data.mjs';

const { values: a } = parseArgs({
  options: {
    crf: { type: 'boolean', default: false }, window: { type: 'string', default: '200' }, 'train-chunks': { type: 'string', default: '6000' },
    epochs: { type: 'string', default: '4' }, patience: { type: 'string', default: '2' }, hidden: { type: 'string', default: '128' },
    layers: { type: 'string', default: '1' }, embedding: { type: 'string', default: '32' }, cell: { type: 'string', default: 'lstm' },
    lr: { type: 'string', default: '3e-3' }, 'batch-size': { type: 'string', default: '32' }, overlap: { type: 'string', default: '50' },
    'test-speeches': { type: 'string', default: '0' }, out: { type: 'string' }, eval: { type: 'string' },
  },
});
await init();
const W = +a.window;
const all = spaces(W);
const pickN = (arr, n, seed) => (n > 0 && n < arr.length ? splitIndices(arr.length, n / arr.length, seed).test.map((i) => arr[i]) : arr);
const train = pickN(all.train, +a['train-chunks'], 3);
const inTrain = new Set(train);
const val = pickN(all.train.filter((x) => !inTrain.has(x)), 300, 5);
const speeches = spaces(Infinity).test; // one example per speech from 1990 on
const test = +a['test-speeches'] > 0 ? speeches.slice(0, +a['test-speeches']) : speeches;
const t0 = Date.now();
const settings = { cell: a.cell, hiddenSize: +a.hidden, embeddingDim: +a.embedding, numLayers: +a.layers, bidirectional: true, maxLength: W, seed: 1 };
let lab, r = { history: [], stopReason: 'none (--eval)', bestEpoch: -1 };
if (a.eval) lab = SequenceLabeler.deserialize(readFileSync(a.eval));
else {
  lab = new SequenceLabeler({ tokenizer: Tokenizer.fit(train.map((e) => e.text), { kind: 'char' }), tags: ['-', 'S'], crf: a.crf, ...settings });
  r = lab.fit(train, {
    epochs: +a.epochs, batchSize: +a['batch-size'], lr: +a.lr, validation: val, positiveTag: 'S', earlyStopping: { patience: +a.patience },
    onEpoch: (l) => {
      console.error(`epoch ${l.epoch + 1} loss ${l.loss.toFixed(4)} val F1 ${l.metric.toFixed(4)} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
      if (a.out) writeFileSync(a.out, lab.serialize());
    },
  });
}
const trainSeconds = Math.round((Date.now() - t0) / 1000);
const s = lab.evaluate(test, { positiveTag: 'S', overlap: +a.overlap });
const chars = (set) => set.reduce((n, e) => n + e.text.length, 0);
console.log(JSON.stringify({
  task: 'sotu-spaces', output: lab.crf ? 'crf' : 'softmax', ...(a.eval ? { model: a.eval, ...lab.config } : { ...settings, trainChunks: train.length, trainChars: chars(train) }), window: W, overlap: +a.overlap, epochs: r.history.length,
  testSpeeches: test.length, testChars: chars(test), stop: r.stopReason, bestEpoch: r.bestEpoch + 1, validationF1: r.history.map((h) => +h.metric.toFixed(4)),
  f1: +s.f1.toFixed(4), precision: +s.precision.toFixed(4), recall: +s.recall.toFixed(4), accuracy: +s.accuracy.toFixed(4),
  trainSeconds, seconds: Math.round((Date.now() - t0) / 1000), date: new Date().toISOString(),
}));
if (a.out) writeFileSync(a.out, lab.serialize());
