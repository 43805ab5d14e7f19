// Names → gender with a character SequenceClassifier (held-out accuracy, 80/20 split), and the
// same model's held-out accuracy on int8 weights.
//   node scripts/apps-names.mjs [--epochs 30] [--hidden 64] [--out names.rnnw]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { init, quantize, SequenceClassifier, Tokenizer, splitIndices } from '../dist/index.js';
import { names } from './apps-data.mjs';

const { values: a } = parseArgs({ options: { epochs: { type: 'string', default: '30' }, hidden: { type: 'string', default: '64' }, layers: { type: 'string', default: '2' }, out: { type: 'string' }, limit: { type: 'string' } } });
await init();
const { train, test } = names();
// a validation tenth of the training names drives early stopping; the test names are never seen
const { train: tr, test: va } = splitIndices(train.texts.length, 0.1, 2);
const pick = (idx) => ({ texts: idx.map((i) => train.texts[i]), labels: idx.map((i) => train.labels[i]) });
const fitSet = pick(tr), valSet = pick(va);
const t0 = Date.now();
const clf = new SequenceClassifier({
  tokenizer: Tokenizer.fit(fitSet.texts, { kind: 'char' }), labels: ['female', 'male'],
  cell: 'lstm', hiddenSize: +a.hidden, numLayers: +a.layers, embeddingDim: 32, bidirectional: true, pooling: 'last', dropout: 0.2, seed: 1,
});
const r = clf.fit(fitSet.texts, fitSet.labels, {
  epochs: +a.epochs, batchSize: 32, lr: 3e-3, classWeights: 'balanced', validation: valSet, earlyStopping: { patience: 4 },
  onEpoch: (l) => console.error(`epoch ${l.epoch + 1} loss ${l.loss.toFixed(4)} val acc ${(100 * l.metric).toFixed(2)} % (${((Date.now() - t0) / 1000).toFixed(0)} s)`),
});
const acc = clf.evaluate(test.texts, test.labels).accuracy;
const seconds = Math.round((Date.now() - t0) / 1000);
if (a.out) writeFileSync(a.out, clf.serialize());
// the same model on int8 weights (quantize works in place: measured after the f32 file is written)
const acc8 = quantize(clf, { weights: 'int8' }).evaluate(test.texts, test.labels).accuracy;
console.log(JSON.stringify({ task: 'names-gender', train: fitSet.texts.length, validation: valSet.texts.length, test: test.texts.length, stop: r.stopReason, bestEpoch: r.bestEpoch + 1, testAccuracy: +(100 * acc).toFixed(2), int8TestAccuracy: +(100 * acc8).toFixed(2), seconds, date: new Date().toISOString() }));
