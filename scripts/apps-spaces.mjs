// Space restoration on the State of the Union addresses as sequence labeling: spaces removed,
// each character tagged 'S' when a space followed it. Train on speeches before 1990 (a seeded
// sample of chunks), test on the later ones; F1 of 'S'. --crf for the CRF output layer.
//   node scripts/apps-spaces.mjs [--crf] [--train-chunks 20000] [--epochs 4] [--test-chunks 0 (all)] [--hidden 128] [--layers 2]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { init, SequenceLabeler, Tokenizer, splitIndices } from '../dist/index.js';
import { spaces } from './apps-data.mjs';

const { values: a } = parseArgs({ options: { crf: { type: 'boolean', default: false }, 'train-chunks': { type: 'string', default: '20000' }, 'test-chunks': { type: 'string', default: '0' }, epochs: { type: 'string', default: '4' }, hidden: { type: 'string', default: '128' }, layers: { type: 'string', default: '2' }, out: { type: 'string' } } });
await init();
const all = spaces(100);
const pickN = (arr, n, seed) => (n > 0 && n < arr.length ? splitIndices(arr.length, n / arr.length, seed).test.map((i) => arr[i]) : arr);
const train = pickN(all.train, +a['train-chunks'], 3);
const test = pickN(all.test, +a['test-chunks'], 4);
const inTrain = new Set(train);
const val = pickN(all.train.filter((x) => !inTrain.has(x)), 300, 5);
const t0 = Date.now();
const lab = new SequenceLabeler({ tokenizer: Tokenizer.fit(train.map((e) => e.text), { kind: 'char' }), tags: ['-', 'S'], crf: a.crf, cell: 'lstm', hiddenSize: +a.hidden, embeddingDim: 32, numLayers: +a.layers, bidirectional: true, maxLength: 100, seed: 1 });
const r = lab.fit(train, {
  epochs: +a.epochs, batchSize: 32, lr: 3e-3, validation: val, positiveTag: 'S', earlyStopping: { patience: 1 },
  onEpoch: (l) => console.error(`epoch ${l.epoch + 1} loss ${l.loss.toFixed(4)} val F1 ${l.metric.toFixed(4)} (${((Date.now() - t0) / 1000).toFixed(0)} s)`),
});
const s = lab.evaluate(test, { positiveTag: 'S' });
console.log(JSON.stringify({ task: 'sotu-spaces', output: a.crf ? 'crf' : 'softmax', trainChunks: train.length, trainChars: train.reduce((n, e) => n + e.text.length, 0), testChunks: test.length, testChars: test.reduce((n, e) => n + e.text.length, 0), stop: r.stopReason, bestEpoch: r.bestEpoch + 1, f1: +s.f1.toFixed(4), precision: +s.precision.toFixed(4), recall: +s.recall.toFixed(4), accuracy: +s.accuracy.toFixed(4), seconds: Math.round((Date.now() - t0) / 1000), date: new Date().toISOString() }));
if (a.out) writeFileSync(a.out, lab.serialize());
