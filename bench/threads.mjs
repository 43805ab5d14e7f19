// One sequence on several threads (issue 16 §3): this library with init({ threads: N }) against
// itself on one thread, ONNX Runtime Web on 2 threads and native ONNX Runtime on 1 thread, all in
// ONE process, the implementations alternated (rotating order) over --rounds rounds; each pair's
// figure is the median of the per-round ratios, with min–max beside it.
//   npm run build && node bench/threads.mjs [--quick] [--rounds N] [--threads N] [--only W1a,W3a,...] [--int8] [--json FILE]
// Workloads: the batch-1 ones of bench/common.mjs (W1a default; W1b W3a W3a-cho W5). --int8 adds
// rnn-wasm int8 weights on N threads (the combination the issue asks to report). Every job's
// output is checked against this library's one-thread output before it is timed (bench/ours.mjs).
// ort-web's thread count is fixed at its first session: this process runs ort-web with 2 threads only.
import v8 from 'node:v8';
import os from 'node:os';
import { writeFileSync } from 'node:fs';
import { parseArgs as utilParseArgs } from 'node:util';
import { WORKLOADS, figure, measure, positiveCount, stats } from './common.mjs';
import { checkOutput, loadLib, make as makeOurs } from './ours.mjs';
import { make as makeOrt } from './peers/ort.mjs';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

function parseArgs(argv) {
  // node:util's parser: unknown flags and missing values are errors that name them
  const { values: v } = utilParseArgs({ args: argv, options: {
    quick: { type: 'boolean', default: false }, rounds: { type: 'string' }, threads: { type: 'string', default: '2' },
    only: { type: 'string', default: 'W1a' }, int8: { type: 'boolean', default: false }, json: { type: 'string' },
  } });
  const a = {
    quick: v.quick, int8: v.int8, json: v.json ?? null, only: v.only.split(','),
    rounds: v.rounds === undefined ? 0 : positiveCount('--rounds', v.rounds), threads: positiveCount('--threads', v.threads),
  };
  for (const id of a.only) {
    if (!WORKLOADS[id] || !['seq', 'stream', 'sample'].includes(WORKLOADS[id].mode) || (WORKLOADS[id].B ?? 1) !== 1) {
      throw new Error(`Expected batch-1 workload ids (W1a W1b W3a W3a-cho W5), got ${id}`);
    }
  }
  a.rounds ||= a.quick ? 3 : 7;
  return a;
}

// One rnn-wasm job of workload id on a runtime of `threads` threads (init swaps the global runtime;
// a model keeps the runtime it was built on, so the jobs of different thread counts coexist).
async function oursJob(lib, id, threads, int8) {
  const info = await lib.init({ threads });
  if (info.threads !== threads) throw new Error(`Expected ${threads} threads, got ${info.threads}: ${info.threadsNote}`);
  const runner = await makeOurs(int8 ? 'rnn-wasm-int8' : 'rnn-wasm');
  return runner[WORKLOADS[id].mode](id);
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const lib = await loadLib();
  const N = a.threads;
  const ortWeb = await makeOrt('ort-web-2t');
  const ortNode = await makeOrt('ort-node-1t');
  const result = { date: new Date().toISOString(), machine: `${os.cpus()[0]?.model} × ${os.cpus().length}`, loadAverage: os.loadavg(), threads: N, rounds: a.rounds, quick: a.quick, workloads: {} };
  for (const id of a.only) {
    const mode = WORKLOADS[id].mode;
    const jobs = {
      'rnn-wasm-1t': await oursJob(lib, id, 1, false),
      [`rnn-wasm-${N}t`]: await oursJob(lib, id, N, false),
      ...(a.int8 ? { [`rnn-wasm-int8-${N}t`]: await oursJob(lib, id, N, true) } : {}),
      'ort-web-2t': await ortWeb[mode](id),
      'ort-node-1t': await ortNode[mode](id),
    };
    const names = Object.keys(jobs).filter((k) => jobs[k]);
    const diff = {};
    for (const k of names) diff[k] = await checkOutput(id, jobs[k]);
    const secs = Object.fromEntries(names.map((k) => [k, []]));
    for (let r = 0; r < a.rounds; r++) {
      const order = names.map((_, i) => names[(i + r) % names.length]);
      for (const k of order) secs[k].push((await measure(jobs[k].fn, { quick: a.quick, async: jobs[k].async, minTime: a.quick ? 0.15 : 0.5 })).median);
    }
    const ours = `rnn-wasm-${N}t`;
    const figures = Object.fromEntries(names.map((k) => [k, stats(secs[k].map((s) => figure(id, s)))]));
    const vs = (mine, peer) => stats(secs[mine].map((s, r) => secs[peer][r] / s));
    const ratios = { [`${ours}/rnn-wasm-1t`]: vs(ours, 'rnn-wasm-1t'), [`${ours}/ort-web-2t`]: vs(ours, 'ort-web-2t'), [`${ours}/ort-node-1t`]: vs(ours, 'ort-node-1t') };
    if (a.int8) {
      const q = `rnn-wasm-int8-${N}t`;
      Object.assign(ratios, { [`${q}/ort-web-2t`]: vs(q, 'ort-web-2t'), [`${q}/ort-node-1t`]: vs(q, 'ort-node-1t') });
    }
    result.workloads[id] = { unit: WORKLOADS[id].unit, figures, ratios, maxAbsDiff: diff };
    console.log(`${id} (${WORKLOADS[id].unit}, median of ${a.rounds} rounds, min–max):`);
    for (const k of names) console.log(`  ${k.padEnd(20)} ${figures[k].median.toFixed(2)} (${figures[k].min.toFixed(2)}–${figures[k].max.toFixed(2)})`);
    for (const [k, s] of Object.entries(ratios)) console.log(`  speedup ${k.padEnd(34)} ${s.median.toFixed(2)}× (${s.min.toFixed(2)}–${s.max.toFixed(2)})`);
    for (const k of names) await jobs[k].dispose?.();
  }
  await lib.closeThreads();
  console.log(`load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  if (a.json) writeFileSync(a.json, JSON.stringify(result, null, 1));
}

await main();
