// The benchmark suite: every workload of issues 4 and 16 for this library and its peers, in one run.
//   npm run bench                      (builds first; then: node bench/run.mjs)
//   node bench/run.mjs [--quick] [--json FILE] [--no-save] [--only W1a,W2,...] [--impl rnn-wasm,...]
//                      [--no-scaling] [--no-pairs] [--rounds N] [--process-rounds N] [--slow-rounds N]
// Implementations: rnn-wasm (this library, one thread), rnn-wasm-int8 (the same after quantize(model,
// { weights: 'int8' }); batch-1 inference workloads), ort-node-1t-int8 (ONNX Runtime's
// DynamicQuantizeLSTM, int8 W and R; LSTM workloads), rnn-wasm-2t / rnn-wasm-1w (its WorkerPool
// with 2 / 1 workers), ort-node-1t, ort-web-1t, ort-web-2t, tfjs-wasm, tfjs-cpu, brainjs; K-* carry
// rnn-wasm and `ceiling` (bench/k.mjs).
// Two kinds of measurement:
// - The close comparisons (bench/pairs.mjs: rnn-wasm vs ort-web-1t on W1a W1b W2 W3a W3a-cho W3b
//   W5; rnn-wasm-int8 vs ort-node-1t (native, f32) on W1a W3a W3a-cho W5 and vs ort-web-1t on W5;
//   2 workers vs 1 on W2 and W4-b64) and the K workloads run in ONE child process, the two
//   sides alternated over --rounds N rounds (default 7, --quick 3); they report the median per-round
//   ratio with its spread. Targets on these comparisons are judged on those medians.
// - Every implementation's figure for the overview table: each implementation in its own Node
//   process (peers would otherwise share a thread pool or a tfjs backend; ort-web's thread count is
//   fixed at its first session), --process-rounds N rounds (default 3, --quick 1), the figure being
//   the median over rounds with min–max; tfjs-cpu and brainjs (minutes a round) get --slow-rounds N
//   (default 1: stated in the output and the run file).
// In each process, for every workload: build the model from this library's seeded parameters,
// run once and compare the output with this library's (max abs diff; > 1e-4 fails the run), time
// the call with benchmark.js (calls slower than 0.3 s / 1.5 s (--quick / full) are timed directly),
// then release the model (sessions, tensors, wasm memory). A full run writes its file to
// bench/runs/<date>-<host>-<n>.json (--no-save: not), --json FILE also; `node bench/report.mjs`
// renders RESULTS.md's tables from run files. Run file:
//   { date, machine, versions, quick, rounds: { pairs, process, slow }, loadAverage,
//     workloads: { id: { unit, higherIsBetter, results: { impl: median figure }, spread: { impl:
//       { min, max, n } }, ratioToRnnWasm, maxAbsDiff, timing, extra?, notes? } },
//     pairs: { 'W1a rnn-wasm/ort-web-1t': see bench/pairs.mjs }, scaling, targets, bounds, failures }
import v8 from 'node:v8';
import os from 'node:os';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WORKLOADS, figure, gflops, machine, measure, positiveCount, runFile, stats } from './common.mjs';
import { checkOutput, loadLib, scaling } from './ours.mjs';
import { runK } from './k.mjs';
import { runPairs } from './pairs.mjs';
import { targets, bounds } from './targets.mjs';
import { render } from './report.mjs';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const IMPLS = ['rnn-wasm', 'rnn-wasm-int8', 'rnn-wasm-1w', 'rnn-wasm-2t', 'ort-node-1t', 'ort-node-1t-int8', 'ort-web-1t', 'ort-web-2t', 'tfjs-wasm', 'tfjs-cpu', 'brainjs'];
const IDS = Object.keys(WORKLOADS);
// rnn-wasm-1w (a WorkerPool of one worker) is only the multi-core target's baseline
const ONLY = { 'rnn-wasm-1w': ['W2', 'W4-b64'], 'rnn-wasm-int8': ['W1a', 'W1b', 'W3a', 'W3a-cho', 'W5'], 'ort-node-1t-int8': ['W1a', 'W1b', 'W5'] };
// minutes a round: --slow-rounds
const SLOW = ['tfjs-cpu', 'brainjs'];

function parseArgs(argv) {
  const a = { quick: false, json: null, save: true, only: IDS, impls: IMPLS, child: null, scaling: true, pairs: true, rounds: 0, processRounds: 0, slowRounds: 1 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--quick') a.quick = true;
    else if (k === '--json') a.json = argv[++i];
    else if (k === '--no-save') a.save = false;
    else if (k === '--only') a.only = argv[++i].split(',');
    else if (k === '--impl') a.impls = argv[++i].split(',');
    else if (k === '--child') a.child = argv[++i];
    else if (k === '--no-scaling') a.scaling = false;
    else if (k === '--no-pairs') a.pairs = false;
    else if (k === '--rounds') a.rounds = positiveCount(k, argv[++i]);
    else if (k === '--process-rounds') a.processRounds = positiveCount(k, argv[++i]);
    else if (k === '--slow-rounds') a.slowRounds = positiveCount(k, argv[++i]);
    else throw new Error(`Expected one of --quick --json FILE --no-save --only IDS --impl NAMES --no-scaling --no-pairs --rounds N --process-rounds N --slow-rounds N, got ${k}`);
  }
  for (const id of a.only) if (!WORKLOADS[id]) throw new Error(`Expected workload ids among ${IDS.join(' ')}, got ${id}`);
  for (const n of a.impls) if (!IMPLS.includes(n)) throw new Error(`Expected implementations among ${IMPLS.join(' ')}, got ${n}`);
  a.rounds ||= a.quick ? 3 : 7;
  a.processRounds ||= a.quick ? 1 : 3;
  return a;
}

// ---- child: one implementation (or the interleaved pairs), all requested workloads -------------
async function runner(impl) {
  if (impl.startsWith('rnn-wasm')) return (await import('./ours.mjs')).make(impl);
  if (impl.startsWith('ort')) return (await import('./peers/ort.mjs')).make(impl);
  if (impl.startsWith('tfjs')) return (await import('./peers/tfjs.mjs')).make(impl);
  return (await import('./peers/brainjs.mjs')).make(impl);
}

// Checks a job's output against its reference, then times job.fn; returns the workload's figure
// and how it was measured.
async function checkAndTime(id, job, quick) {
  const w = WORKLOADS[id];
  const diff = await checkOutput(id, job);
  const m = await measure(job.fn, { quick, async: job.async });
  const res = { figure: job.unit ? job.unit(m.seconds) : figure(id, m.seconds), seconds: m.seconds, rme: m.rme, samples: m.samples, via: m.via, maxAbsDiff: diff };
  if (job.note) res.note = job.note;
  if (w.unit === 'seq-steps/s' && w.mode === 'seq') res.gflops = gflops(id, m.seconds);
  return res;
}

async function child(args) {
  const impl = args.child;
  const out = { impl, results: {}, errors: {} };
  const emit = () => process.stdout.write(`\n@@RESULT ${JSON.stringify(out)}\n`);
  if (impl === 'pairs') {
    Object.assign(out, await runPairs({ only: args.only, impls: args.impls, rounds: args.rounds, quick: args.quick }, runner));
    const kIds = args.only.filter((id) => id.startsWith('K-'));
    if (kIds.length && args.impls.includes('rnn-wasm')) {
      try {
        const k = await runK((await loadLib()).relaxedSimdSupported() ? 'relaxed' : 'simd', { quick: args.quick, rounds: args.rounds });
        for (const id of kIds) out.results[id] = { kernel: k[id] };
      } catch (e) {
        for (const id of kIds) out.errors[id] = String(e?.stack ?? e);
      }
    }
    return emit();
  }
  const r = await runner(impl);
  Object.assign(out, { version: r.version, unavailable: r.unavailable });
  for (const id of r.unavailable ? [] : args.only) {
    const w = WORKLOADS[id];
    if (id.startsWith('K-') || (w.impls && !w.impls.includes(impl)) || (ONLY[impl] && !ONLY[impl].includes(id))) continue;
    if (args.quick && w.quickSkip?.includes(impl)) continue;
    const make = r[w.mode];
    if (!make) continue; // this implementation has no such workload (ORT: training)
    const t0 = performance.now();
    let job = null;
    try {
      job = await make(id);
      if (job) out.results[id] = await checkAndTime(id, job, args.quick);
    } catch (e) {
      out.errors[id] = String(e?.stack ?? e);
    } finally {
      await job?.dispose?.();
    }
    if (!job && !out.errors[id]) continue; // not run at this shape (rnn-wasm-2t at batch 1)
    process.stderr.write(`  ${impl.padEnd(12)} ${id.padEnd(9)} ${out.results[id] ? out.results[id].figure.toPrecision(4) + ' ' + w.unit : 'ERROR ' + String(out.errors[id]).split('\n')[0]}` +
      `  (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
  }
  if (impl === 'rnn-wasm' && args.scaling) out.scaling = await scaling(args.quick);
  emit();
}

// ---- parent ---------------------------------------------------------------------------------
// One child process; `repeat` (a later round) re-times the workloads only, without scaling.
function spawnChild(impl, args, repeat) {
  const argv = [fileURLToPath(import.meta.url), '--child', impl, '--only', args.only.join(','), '--impl', args.impls.join(','), '--rounds', String(args.rounds)];
  if (args.quick) argv.push('--quick');
  if (!args.scaling || repeat) argv.push('--no-scaling');
  return new Promise((resolve) => {
    const p = spawn(process.execPath, argv, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.on('close', (code) => {
      const line = stdout.split('\n').find((l) => l.startsWith('@@RESULT '));
      if (!line) resolve({ impl, results: {}, errors: { '*': `process exited with ${code} before reporting:\n${stdout.slice(-2000)}` } });
      else resolve(JSON.parse(line.slice(9)));
    });
  });
}

// Per-implementation figures of the process rounds → the run file's workloads (median over rounds).
function collect(args, rounds) {
  const workloads = {};
  const failures = [];
  let scalingRows = null;
  for (const id of args.only) {
    const w = WORKLOADS[id];
    workloads[id] = { unit: w.unit, higherIsBetter: w.higherIsBetter, results: {}, spread: {}, ratioToRnnWasm: {}, maxAbsDiff: {} };
  }
  for (const [impl, list] of rounds) {
    for (const c of list) {
      if (c.scaling) scalingRows = c.scaling;
      for (const [id, msg] of Object.entries(c.errors ?? {})) failures.push(`${impl} ${id}: ${msg}`);
    }
    for (const id of args.only) {
      const rs = list.map((c) => c.results?.[id]).filter((r) => r && !r.kernel);
      if (!rs.length) continue;
      const W = workloads[id];
      const figs = stats(rs.map((r) => r.figure));
      W.results[impl] = figs.median;
      W.spread[impl] = { min: figs.min, max: figs.max, n: figs.n };
      W.maxAbsDiff[impl] = rs.some((r) => r.maxAbsDiff === null) ? null : Math.max(...rs.map((r) => r.maxAbsDiff));
      if (rs[0].gflops !== undefined) (W.extra ??= { 'GFLOP/s': {} })['GFLOP/s'][impl] = stats(rs.map((r) => r.gflops)).median;
      if (rs[0].note) (W.notes ??= {})[impl] = rs[0].note;
      (W.timing ??= {})[impl] = rs.map((r) => ({ seconds: r.seconds, rmePercent: r.rme, samples: r.samples, via: r.via }));
    }
  }
  return { workloads, failures, scaling: scalingRows };
}

async function parent(args) {
  const t0 = performance.now();
  const load0 = os.loadavg()[0]; // other work on the machine skews every figure: shown with them
  const versions = { node: process.version, v8: process.versions.v8 };
  const rounds = new Map(args.impls.map((impl) => [impl, []]));
  for (let round = 0; round < args.processRounds; round++) {
    for (const impl of args.impls) {
      if (round >= (SLOW.includes(impl) ? Math.min(args.slowRounds, args.processRounds) : args.processRounds)) continue;
      process.stderr.write(`[${impl}, round ${round + 1}]\n`);
      const c = await spawnChild(impl, args, round > 0);
      rounds.get(impl).push(c);
      if (c.version) versions[impl] = c.version;
    }
  }
  const { workloads, failures, scaling: scalingRows } = collect(args, rounds);
  const unavailable = [...rounds.values()].map((l) => l[0]).filter((c) => c?.unavailable).map((c) => `${c.impl}: ${c.unavailable}`);
  let pairs = {};
  if (args.pairs) {
    process.stderr.write(`[interleaved pairs and K, ${args.rounds} rounds]\n`);
    const c = await spawnChild('pairs', args, true);
    pairs = c.pairs ?? {};
    for (const [id, msg] of Object.entries(c.errors ?? {})) failures.push(`pairs ${id}: ${msg}`);
    for (const [id, r] of Object.entries(c.results ?? {})) if (workloads[id]) Object.assign(workloads[id], r.kernel);
  }
  for (const W of Object.values(workloads)) {
    const ours = W.results['rnn-wasm'];
    if (ours) for (const [impl, v] of Object.entries(W.results)) W.ratioToRnnWasm[impl] = v / ours;
  }
  const date = new Date().toISOString();
  const loadAverage = [load0, os.loadavg()[0]].map((v) => Number(v.toFixed(2)));
  const run = {
    date, machine: machine(), versions, quick: args.quick, seconds: Math.round((performance.now() - t0) / 1000),
    rounds: { pairs: args.rounds, process: args.processRounds, slow: Math.min(args.slowRounds, args.processRounds), slowImpls: SLOW },
    loadAverage, unavailable, workloads, pairs, scaling: scalingRows, failures,
  };
  run.targets = targets(workloads, pairs);
  run.bounds = bounds(workloads);
  console.log(render(run));
  const files = [...(args.json ? [args.json] : []), ...(args.save && !args.quick ? [runFile(date)] : [])];
  for (const f of files) {
    writeFileSync(f, JSON.stringify(run, null, 2) + '\n');
    console.log(`\nwrote ${f}`);
  }
  if (failures.length) process.exitCode = 1;
}

const args = parseArgs(process.argv.slice(2));
if (args.child) await child(args);
else await parent(args);
