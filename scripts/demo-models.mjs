// Trains the playground's two pre-trained panels and writes their model files into demo/models/
// (committed; the page fetches them):
//   names.rnnw  names → gender, a SequenceClassifier on the names split of scripts/apps-data.mjs
//   g2p.rnnw    grapheme-to-phoneme, a Seq2Seq with attention on CMUdict (the data and the
//               held-out words of scripts/g2p.mjs, via g2pWords() in scripts/apps-data.mjs)
// Both are deliberately small (the page downloads them) and trained for a fixed number of epochs
// with fixed seeds, so a rerun writes the same files on the same build. Prints the held-out
// accuracy of the names model and the greedy WER / PER of the G2P model.
//   npm run build && node scripts/demo-models.mjs [--only names|g2p] [--out demo/models]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { init, SequenceClassifier, Seq2Seq, Tokenizer, splitIndices, scoreSequences } from '../dist/index.js';
import { names, g2pWords } from './apps-data.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: a } = parseArgs({ options: { only: { type: 'string' }, out: { type: 'string', default: join(root, 'demo/models') } } });
const log = (s) => console.log(`${new Date().toISOString().slice(11, 19)} ${s}`);

/** The names panel: character tokenizer, bidirectional GRU (32 per direction), embedding 16, dropout 0.2, final states → linear. */
function namesModel() {
  const { train, test } = names();
  const { train: tr, test: va } = splitIndices(train.texts.length, 0.1, 2);
  const pick = (idx) => ({ texts: idx.map((i) => train.texts[i]), labels: idx.map((i) => train.labels[i]) });
  const fitSet = pick(tr), valSet = pick(va);
  const clf = new SequenceClassifier({
    tokenizer: Tokenizer.fit(fitSet.texts, { kind: 'char' }), labels: ['female', 'male'],
    cell: 'gru', hiddenSize: 32, numLayers: 1, embeddingDim: 16, bidirectional: true, pooling: 'last', dropout: 0.2, seed: 1,
  });
  const t0 = Date.now();
  const r = clf.fit(fitSet.texts, fitSet.labels, {
    epochs: 20, batchSize: 32, lr: 5e-3, classWeights: 'balanced', validation: valSet, earlyStopping: { patience: 4 },
    onEpoch: (l) => log(`names epoch ${l.epoch + 1}: loss ${l.loss.toFixed(4)}, validation accuracy ${(100 * l.metric).toFixed(2)} %`),
  });
  const acc = clf.evaluate(test.texts, test.labels).accuracy;
  const bytes = clf.serialize();
  log(`RESULT names: held-out accuracy ${(100 * acc).toFixed(2)} % on ${test.texts.length} names (trained on ${fitSet.texts.length}, best epoch ${r.bestEpoch + 1}, ${r.stopReason}); ${(bytes.length / 1024).toFixed(1)} KB; ${Math.round((Date.now() - t0) / 1000)} s`);
  clf.dispose();
  return bytes;
}

/** The G2P panel: bidirectional GRU encoder (32 per direction), GRU decoder 64, Luong general attention, embedding 16. */
async function g2pModel() {
  const { train, test } = g2pWords({ evalN: 2000 });
  const m = Seq2Seq.fromPairs(train, { cell: 'gru', hidden: 32, embedding: 16, bidirectional: true, attention: 'general', targetTokens: 'words', seed: 1 });
  const fit = await m.fit(train, {
    epochs: 1, batchSize: 64, lr: 5e-3, validation: 0.02, validationSize: 500, evalEvery: 400, patience: 100, metric: 'exactMatch', seed: 1,
    onProgress: (p) => log(`g2p step ${p.step}: train loss ${p.loss.toFixed(4)}, validation exact ${(100 * p.exactMatch).toFixed(1)} %, PER ${(100 * p.tokenErrorRate).toFixed(2)} %`),
  });
  const out = m.translate(test.map((t) => t[0]), { batchSize: 128 });
  const sc = scoreSequences(out.map((o) => o.tokens), test.map((t) => t[1].map((p) => p.split(' '))));
  const bytes = m.serialize({ optimizer: false });
  log(`RESULT g2p: greedy WER ${(100 * (1 - sc.exactMatch)).toFixed(2)} %, PER ${(100 * sc.tokenErrorRate).toFixed(2)} % on ${sc.count} held-out words (trained ${fit.steps} steps on ${train.length} pairs, kept step ${fit.best?.step}); ${(bytes.length / 1024).toFixed(1)} KB; ${fit.seconds.toFixed(0)} s`);
  m.dispose();
  return bytes;
}

const { variant } = await init();
log(`demo-models: ${variant}`);
mkdirSync(a.out, { recursive: true });
if (a.only !== 'g2p') writeFileSync(join(a.out, 'names.rnnw'), namesModel());
if (a.only !== 'names') writeFileSync(join(a.out, 'g2p.rnnw'), await g2pModel());
