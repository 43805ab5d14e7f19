// Issue 13's plan-cache measurements at full scale, on dist/ (run `npm run build` first):
//   node scripts/hardening/plan-memory.mjs [--lengths 1305] [--fit 900] [--hidden 256]
// 1. batch-1 inference over lengths 1…N (issue: 4 GiB exhausted at N = 1,305), twice;
// 2. fit() over M examples of distinct lengths 1…M, batch size 1 (issue: 2.96 GiB held at M = 900).
// Prints the wasm memory size and the heap's live bytes after each pass.
import { init, LSTM, Sequential, layers, tensor, SGD, getLimits } from '../../dist/index.js';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const N = arg('lengths', 1305), M = arg('fit', 900), H = arg('hidden', 256);
const MiB = (b) => `${(b / 2 ** 20).toFixed(1)} MiB`;

await init();
const lstm = new LSTM({ inputSize: 64, hiddenSize: H, seed: 1 });
const heap = lstm.runner.rt.heap;
const report = (what) => console.log(`${what}: wasm memory ${MiB(heap.byteLength)}, live ${MiB(heap.liveElements * 4)}, cached plans ${lstm.runner.cachedPlans}`);
console.log(`limits: maxCachedPlans ${getLimits().maxCachedPlans}, maxPlanCacheBytes ${MiB(getLimits().maxPlanCacheBytes)}`);
for (let pass = 1; pass <= 2; pass++) {
  for (let T = 1; T <= N; T++) lstm.forward(tensor(new Float32Array(T * 64).fill(0.01), [T, 1, 64]));
  report(`LSTM 64→${H}, batch-1 inference over lengths 1…${N}, pass ${pass}`);
}
lstm.dispose();

const net = new Sequential([layers.lstm({ inputSize: 16, hiddenSize: H }), layers.linear({ inFeatures: H, outFeatures: 16 })], { seed: 2 });
const data = Array.from({ length: M }, (_, i) => ({ x: new Float32Array((i + 1) * 16).fill(0.01), y: new Int32Array(i + 1).fill(i % 16) }));
const opt = new SGD({ lr: 1e-3 });
for (let pass = 1; pass <= 2; pass++) {
  await net.fit(data, { loss: 'crossEntropy', optimizer: opt, epochs: 1, batchSize: 1 });
  console.log(`fit over ${M} distinct lengths (LSTM 16→${H} → linear 16, batch 1), pass ${pass}: wasm memory ${MiB(heap.byteLength)}, live ${MiB(heap.liveElements * 4)}`);
}
net.dispose();
