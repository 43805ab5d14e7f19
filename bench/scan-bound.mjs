// How fast can minGRU train against the LSTM at one parameter count? (issue 25's "minGRU trains at
// ≥ 3× the LSTM's characters/s", on the State of the Union comparison's models and batch.) In one
// process, over --rounds rounds that alternate the sides: the training characters/s of each model
// (trainStep on a 32×64 batch of character ids, cross-entropy, Adam; the median of the calls of a
// round), and in the same rounds the fastest f32 GEMM this machine runs (bench/k.mjs K-gemm: the
// library's gemm_nt and the ceiling's microkernels, the best of them per round). The bound: every
// weight matrix does 2 multiply-adds a character forward and 4 backward (dX and dW), so a model's
// training can at best run at (GEMM peak) ÷ (6·Σ rows·cols of its matrices) characters/s — minGRU's
// scan, gates and losses only add to that. Printed per round and as medians: each side's
// characters/s, its GFLOP/s and fraction of the peak, minGRU's bound and the bound over the LSTM's
// measured characters/s. If that bound ratio is below the target, no minGRU kernel can reach it.
//   node bench/scan-bound.mjs [--rounds 5] [--vocab 96] [--time-ms 1500]
// Run file bench/runs/<date>-<host>-scan-bound-<n>.json.
import v8 from 'node:v8';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { machine, measure, positiveCount, randomIds, runFile, stats } from './common.mjs';
import { runK } from './k.mjs';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
const l = await import('../dist/index.js');
const { values: a } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, vocab: { type: 'string', default: '96' }, 'time-ms': { type: 'string', default: '1500' } } });
const rounds = positiveCount('--rounds', a.rounds);
const V = positiveCount('--vocab', a.vocab);
const timeMs = positiveCount('--time-ms', a['time-ms']);
const { variant } = await l.init({ variant: 'auto' });
const T = 64, B = 32, E = 64;

// the State of the Union comparison's shapes (bench/RESULTS.md, issue 25): LSTM 1×256 and the minGRU
// whose parameter count is nearest it, 2×368
const SIDES = {
  lstm: () => new l.Sequential([l.layers.embedding({ numEmbeddings: V, embeddingDim: E }), l.layers.lstm({ inputSize: E, hiddenSize: 256 }), l.layers.linear({ inFeatures: 256, outFeatures: V })], { seed: 1 }),
  mingru: () => new l.Sequential([l.layers.embedding({ numEmbeddings: V, embeddingDim: E }), l.layers.minGRU({ inputSize: E, hiddenSize: 368, numLayers: 2 }), l.layers.linear({ inFeatures: 368, outFeatures: V })], { seed: 1 }),
};
/** Multiply-adds of one training character: 6 per weight of every matrix but the embedding's (a lookup). */
const flopsPerChar = (m) => m.parameters().filter((p) => p.shape.length === 2 && !/^0\./.test(p.name)).reduce((s, p) => s + 6 * p.shape[0] * p.shape[1], 0);

const models = Object.fromEntries(Object.entries(SIDES).map(([k, f]) => [k, f()]));
const batch = { x: new l.Tensor(randomIds(T * B, V, 1), [T, B]), y: new l.Tensor(randomIds(T * B, V, 2), [T, B]) };
const opts = Object.fromEntries(Object.keys(models).map((k) => [k, { loss: 'crossEntropy', optimizer: new l.Adam({ lr: 2e-3 }), clipNorm: 5 }]));
const info = Object.fromEntries(Object.entries(models).map(([k, m]) => [k, { parameters: m.numParameters, flopsPerChar: flopsPerChar(m) }]));
console.log(`${variant} binary, one thread, batch ${B}×${T}, vocabulary ${V}; ${rounds} rounds, sides alternated`);
for (const [k, v] of Object.entries(info)) console.log(`  ${k}: ${v.parameters.toLocaleString('en-US')} parameters, ${(v.flopsPerChar / 1e6).toFixed(3)} MFLOP per training character`);

const per = { lstm: [], mingru: [], peak: [] };
for (let r = 0; r < rounds; r++) {
  const order = r % 2 ? ['mingru', 'lstm'] : ['lstm', 'mingru'];
  for (const k of order) {
    const s = (await measure(() => models[k].trainStep(batch, opts[k]), { minTime: timeMs / 1000 })).median;
    per[k].push((T * B) / s);
  }
  const K = (await runK(variant, { rounds: 1, quick: false }))['K-gemm'];
  per.peak.push(Math.max(K.results['rnn-wasm'], K.results.ceiling));
  const bound = (per.peak[r] * 1e9) / info.mingru.flopsPerChar;
  console.log(`  round ${r + 1}: LSTM ${per.lstm[r].toFixed(0)} chars/s, minGRU ${per.mingru[r].toFixed(0)} (${(per.mingru[r] / per.lstm[r]).toFixed(2)}×); GEMM peak ${per.peak[r].toFixed(1)} GFLOP/s → minGRU bound ${bound.toFixed(0)} chars/s = ${(bound / per.lstm[r]).toFixed(2)}× the LSTM`);
}
const med = (xs) => stats(xs);
const ratio = med(per.mingru.map((v, i) => v / per.lstm[i]));
const boundRatio = med(per.peak.map((p, i) => (p * 1e9) / info.mingru.flopsPerChar / per.lstm[i]));
const eff = (k) => med(per[k].map((v, i) => (v * info[k].flopsPerChar) / (per.peak[i] * 1e9)));
console.log(`minGRU over LSTM, measured: ${ratio.median.toFixed(2)}× (${ratio.min.toFixed(2)}–${ratio.max.toFixed(2)})`);
console.log(`fraction of the GEMM peak: LSTM ${eff('lstm').median.toFixed(2)}, minGRU ${eff('mingru').median.toFixed(2)}`);
console.log(`minGRU's bound over the LSTM's measured chars/s: ${boundRatio.median.toFixed(2)}× (${boundRatio.min.toFixed(2)}–${boundRatio.max.toFixed(2)}); target 3×: ${boundRatio.max < 3 ? 'beyond reach at this parameter count' : 'within the bound'}`);
const file = runFile(new Date().toISOString().slice(0, 10), 'scan-bound-');
writeFileSync(file, JSON.stringify({ machine: machine(), variant, V, T, B, info, rounds: per, ratio, boundRatio, efficiency: { lstm: eff('lstm'), mingru: eff('mingru') } }, null, 1) + '\n');
console.log(`run file: ${file}`);
for (const m of Object.values(models)) m.dispose();
