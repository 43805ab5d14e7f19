// Spam Assassin ham vs spam: a word-level SequenceClassifier against a bag-of-words logistic
// regression (plain JS, below) on the same 80/20 split (scripts/apps-data.mjs, unchanged).
// The model reads each e-mail as cleanEmail gives it (informative header fields, the body without
// base64, HTML tags or routing headers), the first and last tokens of a long one (truncation
// 'headTail'). The baseline is computed on the raw e-mails (every word) and on the cleaned ones.
//   node scripts/apps-spam.mjs [--epochs 12] [--patience 3] [--max-length 400] [--truncation headTail]
//     [--cell gru] [--hidden 64] [--embedding 64] [--bidirectional] [--pooling max] [--raw] [--out spam.rnnw]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { init, SequenceClassifier, Tokenizer, splitIndices } from '../dist/index.js';
import { spam, cleanEmail } from './apps-data.mjs';

const { values: a } = parseArgs({
  options: {
    epochs: { type: 'string', default: '12' }, patience: { type: 'string', default: '3' }, 'max-length': { type: 'string', default: '400' },
    truncation: { type: 'string', default: 'headTail' }, cell: { type: 'string', default: 'gru' }, hidden: { type: 'string', default: '64' },
    embedding: { type: 'string', default: '64' }, bidirectional: { type: 'boolean', default: false }, pooling: { type: 'string', default: 'max' },
    lr: { type: 'string', default: '3e-3' }, raw: { type: 'boolean', default: false }, out: { type: 'string' },
  },
});
await init();
const raw = spam();
const clean = (set) => ({ texts: set.texts.map(cleanEmail), labels: set.labels });
const { train, test } = a.raw ? raw : { train: clean(raw.train), test: clean(raw.test) };
const vocab = (texts) => Tokenizer.fit(texts, { kind: 'word', minCount: 2, maxTokens: 20000 });
const tok = vocab(train.texts);

// Baseline: L2-regularised logistic regression on binary bag-of-words features, full-batch gradient descent.
function bowLogReg(tr, te, tk) {
  const feats = (t) => [...new Set(tk.encode(t))].filter((id) => id > 1);
  const X = tr.texts.map(feats), y = tr.labels.map((l) => (l === 'spam' ? 1 : 0));
  const w = new Float64Array(tk.size), lr = 0.5, l2 = 1e-4;
  let b = 0;
  for (let it = 0; it < 300; it++) {
    const g = new Float64Array(tk.size);
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
  te.texts.forEach((t, i) => {
    let z = b;
    for (const f of feats(t)) z += w[f];
    ok += (z > 0 ? 'spam' : 'ham') === te.labels[i] ? 1 : 0;
  });
  return ok / te.texts.length;
}
const tb = Date.now();
const baselineRaw = bowLogReg(raw.train, raw.test, vocab(raw.train.texts));
const baselineClean = a.raw ? baselineRaw : bowLogReg(train, test, tok);
console.error(`bag-of-words logistic regression: ${(100 * baselineRaw).toFixed(2)} % on raw e-mails, ${(100 * baselineClean).toFixed(2)} % on cleaned ones (${((Date.now() - tb) / 1000).toFixed(0)} s)`);

const { train: tr, test: va } = splitIndices(train.texts.length, 0.1, 2);
const pick = (idx) => ({ texts: idx.map((i) => train.texts[i]), labels: idx.map((i) => train.labels[i]) });
const fitSet = pick(tr), valSet = pick(va);
const t0 = Date.now();
const settings = { cell: a.cell, hiddenSize: +a.hidden, embeddingDim: +a.embedding, bidirectional: a.bidirectional, pooling: a.pooling, maxLength: +a['max-length'], truncation: a.truncation, seed: 1 };
const clf = new SequenceClassifier({ tokenizer: tok, labels: ['ham', 'spam'], ...settings });
const r = clf.fit(fitSet.texts, fitSet.labels, {
  epochs: +a.epochs, batchSize: 32, lr: +a.lr, validation: valSet, earlyStopping: { patience: +a.patience },
  onEpoch: (l) => console.error(`epoch ${l.epoch + 1} loss ${l.loss.toFixed(4)} val acc ${(100 * l.metric).toFixed(2)} % (${((Date.now() - t0) / 1000).toFixed(0)} s)`),
});
const acc = clf.evaluate(test.texts, test.labels).accuracy;
console.log(JSON.stringify({
  task: 'spam', input: a.raw ? 'raw' : 'cleanEmail', ...settings, train: fitSet.texts.length, validation: valSet.texts.length, test: test.texts.length, vocabulary: tok.size,
  stop: r.stopReason, epochs: r.history.length, bestEpoch: r.bestEpoch + 1, validationAccuracy: r.history.map((h) => +(100 * h.metric).toFixed(2)),
  testAccuracy: +(100 * acc).toFixed(2), bowLogRegAccuracyRaw: +(100 * baselineRaw).toFixed(2), bowLogRegAccuracyCleaned: +(100 * baselineClean).toFixed(2),
  seconds: Math.round((Date.now() - t0) / 1000), date: new Date().toISOString(),
}));
if (a.out) writeFileSync(a.out, clf.serialize());
