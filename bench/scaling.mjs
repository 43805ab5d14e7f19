// How far two threads can speed up rnn-wasm on THIS machine, and how close the WorkerPool comes:
// the bound behind the "2 workers ≥ 1.7× one" targets, measured in one process, sides alternated
// over rounds (median ratio with its spread, as bench/pairs.mjs).
//   ceiling: two worker_threads, each with its own runtime and its own copy of W2's model (LSTM
//            128→256, T 64) at half the batch (32), run N forwards each AT THE SAME TIME, against
//            one of them running the same 2·N half-batch forwards alone. No messages, no copies of
//            inputs or outputs in the timed part: what the cores give to independent wasm work.
//   pool:    WorkerPool of 2 against WorkerPool of 1 on W2 itself (batch 64 split across workers),
//            as bench/run.mjs times the target.
//   node --experimental-wasm-relaxed-simd bench/scaling.mjs [--rounds 7] [--n 8] [--json FILE]
import { Worker } from 'node:worker_threads';
import { parseArgs } from 'node:util';
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import os from 'node:os';
import { stats, randomF32 } from './common.mjs';

const { values: a } = parseArgs({ options: { rounds: { type: 'string', default: '7' }, n: { type: 'string', default: '8' }, json: { type: 'string', default: '' } } });
const rounds = Number(a.rounds), N = Number(a.n);
const W = { I: 128, H: 256, T: 64, B: 64 };
const lib = await import('../dist/index.js');

// A thread that builds the half-batch model and, per 'run', does n forwards and answers.
const SRC = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const l = await import(workerData.dist);
  await l.init();
  const { I, H, T, B } = workerData;
  const m = new l.LSTM({ inputSize: I, hiddenSize: H, numLayers: 1, seed: 1 });
  const x = l.tensor(new Float32Array(workerData.x), [T, B, I]);
  m.forward(x);
  parentPort.on('message', (n) => {
    if (n === 0) { m.dispose(); parentPort.close(); return; }
    let s = 0;
    for (let i = 0; i < n; i++) s += m.forward(x).output.data[0];
    parentPort.postMessage(s);
  });
  parentPort.postMessage('ready');
})();
`;
const half = { ...W, B: W.B / 2 };
const xHalf = randomF32(half.T * half.B * half.I, 7);
const spawn = () => new Promise((resolve, reject) => {
  const w = new Worker(SRC, { eval: true, workerData: { ...half, x: xHalf, dist: new URL('../dist/index.js', import.meta.url).href } });
  w.once('message', () => resolve(w));
  w.once('error', reject);
});
const ask = (w, n) => new Promise((resolve) => {
  w.once('message', resolve);
  w.postMessage(n);
});
const t0 = [await spawn(), await spawn()];
const ceiling = {
  one: async () => { const t = performance.now(); await ask(t0[0], 2 * N); return performance.now() - t; },
  two: async () => { const t = performance.now(); await Promise.all([ask(t0[0], N), ask(t0[1], N)]); return performance.now() - t; },
};

await lib.init();
const m = new lib.LSTM({ inputSize: W.I, hiddenSize: W.H, numLayers: 1, seed: 1 });
const x = lib.tensor(randomF32(W.T * W.B * W.I, 101), [W.T, W.B, W.I]);
const p1 = await lib.WorkerPool.create(m, { workers: 1 });
const p2 = await lib.WorkerPool.create(m, { workers: 2 });
const one = (await p1.forward(x)).output.data, two = (await p2.forward(x)).output.data;
for (let i = 0; i < one.length; i++) if (one[i] !== two[i]) throw new Error(`Expected the pools to agree bit for bit, got a difference at ${i}`);
const pool = {
  one: async () => { const t = performance.now(); for (let i = 0; i < N; i++) await p1.forward(x); return performance.now() - t; },
  two: async () => { const t = performance.now(); for (let i = 0; i < N; i++) await p2.forward(x); return performance.now() - t; },
};

const result = {};
for (const [name, side] of Object.entries({ ceiling, pool })) {
  await side.one(); await side.two(); // warm
  const t1 = [], t2 = [];
  for (let r = 0; r < rounds; r++) {
    if (r % 2) { t2.push(await side.two()); t1.push(await side.one()); } else { t1.push(await side.one()); t2.push(await side.two()); }
  }
  const sp = stats(t1.map((t, r) => t / t2[r]));
  result[name] = { rounds, msOne: t1, msTwo: t2, speedup: sp, ratioOfMedians: stats(t1).median / stats(t2).median };
  console.log(`${name.padEnd(8)} 2 threads vs 1: median ${sp.median.toFixed(2)}× (min–max ${sp.min.toFixed(2)}–${sp.max.toFixed(2)}; ratio of medians ${result[name].ratioOfMedians.toFixed(2)}×; ${rounds} rounds of ${name === 'ceiling' ? `2×${N} half-batch` : N} W2 forwards)`);
}
console.log(`pool / ceiling: ${(result.pool.speedup.median / result.ceiling.speedup.median).toFixed(2)} of what two threads give on this machine`);
await p1.dispose(); await p2.dispose(); m.dispose();
for (const w of t0) { w.postMessage(0); }
if (a.json) {
  mkdirSync(dirname(a.json), { recursive: true });
  writeFileSync(a.json, JSON.stringify({ date: new Date().toISOString(), machine: `${os.cpus()[0]?.model} × ${os.cpus().length}`, node: process.version, W, N, result }, null, 2));
}
