// Spam Assassin ham vs spam: a word-level SequenceClassifier against a bag-of-words logistic
// regression (plain JS, below) on the same 80/20 split and the same tokenizer.
//   node scripts/apps-spam.mjs [--epochs 6] [--max-length 300] [--out spam.rnnw]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { init, SequenceClassifier, Tokenizer, splitIndices } from '../dist/index.js';
import { spam } from './apps-data.mjs';

const { values: a } = parseArgs({ options: { epochs: { type: 'string', default: '6' }, 'max-length': { type: 'string', default: '300' }, hidden: { type: 'string', default: '64' }, out: { type: 'string' } } });
await init();
const { train, test } = spam();
const tok = Tokenizer.fit(train.texts, { kind: 'word', minCount: 2, maxTokens: 20000 });

// Baseline: L2-regularised logistic regression on binary bag-of-words features, full-batch gradient descent.
function bowLogReg() {
  const feats = (t) => [...new Set(tok.encode(t))].filter((id) => id > 1);
  const X = train.texts.map(feats), y = train.labels.map((l) => (l === 'spam' ? 1 : 0));
  const w = new Float64Array(tok.size), lr = 0.5, l2 = 1e-4;
  let b = 0;
  for (let it = 0; it < 300; it++) {
    const g = new Float64Array(tok.size);
    let gb = 0;
    X.forEach((x, i) => {
      let z = b;
      for (const f of x) z += w[f];
      const d = 1 / (1 + Math.exp(-z)) - y[i];
      for (const f of x) g[f] += d;
      gb += d;
    });
    for (let f = 0; f < w.length; f++) w[f] -= lr * (g[f] / X.length + l2 * w[f]);
    b -= (lr * gb) / X.length;
  }
  let ok = 0;
  test.texts.forEach((t, i) => {
    let z = b;
    for (const f of feats(t)) z += w[f];
    ok += (z > 0 ? 'spam' : 'ham') === test.labels[i] ? 1 : 0;
  });
  return ok / test.texts.length;
}
const tb = Date.now();
const baseline = bowLogReg();
console.error(`bag-of-words logistic regression: ${(100 * baseline).toFixed(2)} % (${((Date.now() - tb) / 1000).toFixed(0)} s)`);

const { train: tr, test: va } = splitIndices(train.texts.length, 0.1, 2);
const pick = (idx) => ({ texts: idx.map((i) => train.texts[i]), labels: idx.map((i) => train.labels[i]) });
const fitSet = pick(tr), valSet = pick(va);
const t0 = Date.now();
const clf = new SequenceClassifier({ tokenizer: tok, labels: ['ham', 'spam'], cell: 'gru', hiddenSize: +a.hidden, embeddingDim: 32, pooling: 'max', maxLength: +a['max-length'], seed: 1 });
const r = clf.fit(fitSet.texts, fitSet.labels, {
  epochs: +a.epochs, batchSize: 32, lr: 3e-3, validation: valSet, earlyStopping: { patience: 2 },
  onEpoch: (l) => console.error(`epoch ${l.epoch + 1} loss ${l.loss.toFixed(4)} val acc ${(100 * l.metric).toFixed(2)} % (${((Date.now() - t0) / 1000).toFixed(0)} s)`),
});
const acc = clf.evaluate(test.texts, test.labels).accuracy;
console.log(JSON.stringify({ task: 'spam', train: fitSet.texts.length, test: test.texts.length, vocabulary: tok.size, stop: r.stopReason, bestEpoch: r.bestEpoch + 1, testAccuracy: +(100 * acc).toFixed(2), bowLogRegAccuracy: +(100 * baseline).toFixed(2), seconds: Math.round((Date.now() - t0) / 1000), date: new Date().toISOString() }));
if (a.out) writeFileSync(a.out, clf.serialize());
