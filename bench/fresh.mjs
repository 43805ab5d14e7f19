// The second harness: each side measured as a user's program would measure it (issue 27, item 1).
//   npm run build, then:
//   node bench/fresh.mjs [--quick] [--only W1a,W3a,...] [--rounds N] [--calls N] [--warmup N]
//                        [--warmup-ms MS] [--json FILE] [--no-save] [--node-flag F ...]
//                        factors, one at a time (default: the user's way):
//                        [--same-process] [--prebuilt] [--timer benchjs] [--stat mean]
//                        [--warm | --warm-with IDS] [--pin CPU] [--no-relaxed]
//   node bench/fresh.mjs --factors [--quick] [--only ...] [--rounds N] [--calls N]   (the factor table)
//
// Method. Workloads W1a W1b W3a W3a-cho W3b W5 of bench/common.mjs, two sides: rnn-wasm on one
// thread (the built dist/, as bench/ours.mjs loads it) and ONNX Runtime Web on one thread
// (numThreads 1, wasm EP, the single-node model of bench/onnx-model.mjs). The parent takes the
// seeded parameters (bench/ours.mjs paramsOf) once and writes them to a scratch folder; then for
// every round each side runs in a FRESH Node process (child_process) that
//   - loads only its own library: rnn-wasm: init(), the public class (LSTM / GRU / Sequential of
//     lstm + linear for W5), loadStateDict(seeded parameters); ORT: InferenceSession.create on the
//     ONNX model built from the same parameters;
//   - runs once and writes its output (the forward output; W1b: the T step outputs; W5: the
//     teacher-forced logits over the check ids, as bench/run.mjs compares them); the parent compares
//     the two sides of the round (max abs diff, a round above 1e-4 fails and counts in no figure);
//   - times a plain loop of the public API, each call timed alone with performance.now():
//     seq (W1a W3a W3a-cho W3b): `model.forward(tensor(X))` / `await session.run({ X: new Tensor(X) })`,
//       a call's figure its time ÷ T (µs/step; W3b's batch of 64 rows included in a step);
//     stream (W1b): one `stream.step(x_t)` / one `session.run({ X: x_t, h0, c0 })` with the state fed
//       back, sequences of T steps (the reset between sequences is not timed);
//     sample (W5): one step of char generation, `stream.step(oneHot)` / `session.run({ X, h0, c0 })`
//       (V 65, H 512, 2 layers + linear head, as bench/run.mjs's W5); the softmax sampling of the
//       next character (the same JS for both) is not timed;
//     --warmup calls first and at least --warmup-ms of them (default 50 calls and 1000 ms; --quick 3
//     and 0), then the median of --calls calls (default 400). The time floor is there because V8
//     runs a fresh process's wasm in its baseline compiler (Liftoff) and tiers hot functions up on
//     background threads: ONNX Runtime Web's module is large and its tier-up keeps other threads
//     busy for seconds (the 'other threads' column; longer on a busy or pinned machine), and both
//     libraries run several times slower before it (`--node-flag --liftoff-only` shows how much).
//     'drift' (last quarter ÷ first quarter of the timed calls) shows when a process was still
//     getting faster.
// Rounds alternate which side goes first (A,B then B,A …), default 5. Reported per workload: each
// side's median µs/step over rounds with min–max, and the median of the per-round ratios
// ORT ÷ rnn-wasm (> 1: rnn-wasm faster) with min–max.
//
// Why a second harness: bench/run.mjs's close comparisons (bench/pairs.mjs) time both sides in ONE
// process over all rounds, with pre-built input tensors and benchmark.js (median sample of ≈0.5 s
// cycles), after the runtime has built the models of earlier pairs. Each of those conditions is a
// flag here, so the two harnesses can be compared one factor at a time:
//   --same-process  one child per workload runs both sides for all rounds, alternated (pairs.mjs)
//   --prebuilt      the input tensor is built once, not per call (ours: tensor(X); ORT: new Tensor)
//   --timer benchjs benchmark.js via common.mjs measure(), the median sample of a round (minTime
//                   0.5 s, --quick 0.15 s), a call being pairs.mjs's: one forward, one T-step pass
//                   (W1b) or one generation of 200 characters with sampling (W5)
//   --warm          before building its model, the process builds, runs once and releases the
//                   models of every other workload of FRESH_IDS (--warm-with IDS: of those), as
//                   in the pairs process, whose runtimes served earlier pairs' models
//   --stat mean     the mean of the calls instead of their median (GC pauses and outliers counted,
//                   as a benchmark.js cycle mean counts them)
//   --calls N / --warmup N   repetitions (V8 tiering, timer granularity)
//   --pin CPU       each child (all its threads) on core CPU via taskset, as a pinned bench/run.mjs
//   --node-flag F   a Node/V8 flag for every child (repeatable), e.g. --liftoff-only or
//                   --no-wasm-dynamic-tiering to see V8's wasm tier-up at work
//   --no-relaxed    rnn-wasm without the relaxed-SIMD flag (its plain-SIMD binary, as plain Node 20)
// Every plain-loop timing also records, per side (medians over rounds in the tables): the garbage
// collector's share of the timed span (Node 'gc' performance entries; 'GC'), the CPU time of the
// process's other threads ÷ the span ('other threads': V8's compiler and GC helpers, work that is
// free on an idle second core and taken from the timed thread when the process is pinned), the
// drift, and in the run file the process's CPU time ÷ the span (cpuShare: < 1 when it waited for a
// core) and the mean of the calls beside their median.
// --factors runs, per workload, the user's way, each factor alone, pairs.mjs's four conditions
// together and bench/pairs.mjs itself, each over the same --rounds, and prints one table ('ratio ÷
// user row': how far a factor moves the ratio) and a run file.
// Figures are machine-dependent and meaningful only from a quiet machine; a run file records the
// load average before and after. Run file bench/runs/<date>-<host>-fresh-<n>.json (not in --quick
// unless --json FILE):
//   { date, machine, versions, harness: 'fresh', quick, options, loadAverage: { before, after } (1, 5, 15 min),
//     workloads: { id: { unit: 'us/step', rounds: [{ round, order, ours, ort, maxAbsDiff, ok,
//       detail: { ours|ort: { median, mean, drift, warmupCalls, gcShare, cpuShare, otherThreads, samples, via } } }],
//       ours, ort, ratio: { median, min, max, n } } }, factors?: { id: [{ factor, ...same } ] }, failures }
import v8 from 'node:v8';
import os from 'node:os';
import { spawn } from 'node:child_process';
import { PerformanceObserver } from 'node:perf_hooks';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  TOLERANCE, WORKLOADS, machine, maxAbsDiff, measure, oneHot, positiveCount, runFile, sampleCheckIds, sampleSoftmax,
  seqInput, stats, uniform,
} from './common.mjs';
import { buildOnnx, w5CheckOutput } from './onnx-model.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
export const FRESH_IDS = ['W1a', 'W1b', 'W3a', 'W3a-cho', 'W3b', 'W5'];
export const SIDES = ['ours', 'ort'];
const NAMES = { ours: 'rnn-wasm', ort: 'ort-web-1t' };

// ---- pure parts (test/bench/fresh.test.ts) ---------------------------------------------------
/** Sides in round r (0-based): rnn-wasm first in even rounds, ORT Web first in odd ones. */
export const roundOrder = (r) => (r % 2 ? ['ort', 'ours'] : ['ours', 'ort']);

/** Per-round ratio: ORT's µs/step ÷ rnn-wasm's (> 1: rnn-wasm faster). */
export const ratio = (ours, ort) => ort / ours;

/** Median with min–max and count of a list. */
export function spread(values) {
  const s = stats(values);
  return { median: s.median, min: s.min, max: s.max, n: s.n };
}

/**
 * A workload's summary from its rounds ({ ours, ort, ok }): each side's median µs/step with its
 * spread and the median of the per-round ratios with its spread, over the rounds that passed the
 * check; null figures when none did.
 */
export function summarize(rounds) {
  const ok = rounds.filter((r) => r.ok);
  if (!ok.length) return { ours: null, ort: null, ratio: null };
  return { ours: spread(ok.map((r) => r.ours)), ort: spread(ok.map((r) => r.ort)), ratio: spread(ok.map((r) => ratio(r.ours, r.ort))) };
}

// ---- arguments --------------------------------------------------------------------------------
const USAGE = '--quick --only IDS --rounds N --calls N --warmup N --warmup-ms MS --json FILE --no-save --same-process --prebuilt --timer plain|benchjs --stat median|mean --warm --warm-with IDS --pin CPU --node-flag FLAG --no-relaxed --factors';
export function parseArgs(argv) {
  const a = {
    quick: false, only: FRESH_IDS, rounds: 0, calls: 0, warmup: -1, warmupMs: -1, json: null, save: true, factors: false,
    samePro: false, prebuilt: false, timer: 'plain', stat: 'median', warm: false, warmWith: null, relaxed: true, pin: null, nodeFlags: [],
    child: null, id: null, params: null, out: null, order: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--quick') a.quick = true;
    else if (k === '--only') a.only = argv[++i].split(',');
    else if (k === '--rounds') a.rounds = positiveCount(k, argv[++i]);
    else if (k === '--calls') a.calls = positiveCount(k, argv[++i]);
    else if (k === '--warmup-ms') a.warmupMs = argv[i + 1] === '0' ? (i++, 0) : positiveCount(k, argv[++i]);
    else if (k === '--warmup') a.warmup = argv[i + 1] === '0' ? (i++, 0) : positiveCount(k, argv[++i]);
    else if (k === '--json') a.json = argv[++i];
    else if (k === '--no-save') a.save = false;
    else if (k === '--factors') a.factors = true;
    else if (k === '--same-process') a.samePro = true;
    else if (k === '--prebuilt') a.prebuilt = true;
    else if (k === '--timer') {
      a.timer = argv[++i];
      if (a.timer !== 'plain' && a.timer !== 'benchjs') throw new Error(`Expected --timer plain or benchjs, got ${a.timer}`);
    } else if (k === '--stat') {
      a.stat = argv[++i];
      if (a.stat !== 'median' && a.stat !== 'mean') throw new Error(`Expected --stat median or mean, got ${a.stat}`);
    } else if (k === '--pin') a.pin = argv[++i];
    else if (k === '--node-flag') a.nodeFlags.push(argv[++i]);
    else if (k === '--warm') a.warm = true;
    else if (k === '--warm-with') {
      a.warm = true;
      a.warmWith = argv[++i].split(',');
    }
    else if (k === '--no-relaxed') a.relaxed = false;
    // the parent's internal flags for its children
    else if (k === '--child') a.child = argv[++i];
    else if (k === '--id') a.id = argv[++i];
    else if (k === '--params') a.params = argv[++i];
    else if (k === '--out') a.out = argv[++i];
    else if (k === '--order') a.order = argv[++i].split(',');
    else throw new Error(`Expected one of ${USAGE}, got ${k}`);
  }
  for (const id of a.only) if (!FRESH_IDS.includes(id)) throw new Error(`Expected --only ids among ${FRESH_IDS.join(' ')}, got ${id}`);
  for (const f of a.nodeFlags) if (!/^--[a-z]/.test(f ?? '')) throw new Error(`Expected --node-flag --some-v8-or-node-flag, got ${f}`);
  if (a.pin !== null && !/^\d+$/.test(a.pin)) throw new Error(`Expected --pin CPU with CPU a core number, got ${a.pin}`);
  for (const id of a.warmWith ?? []) if (!FRESH_IDS.includes(id)) throw new Error(`Expected --warm-with ids among ${FRESH_IDS.join(' ')}, got ${id}`);
  a.rounds ||= a.quick ? 2 : 5;
  a.calls ||= a.quick ? 20 : 400;
  if (a.warmup < 0) a.warmup = a.quick ? 3 : 50;
  if (a.warmupMs < 0) a.warmupMs = a.quick ? 0 : 1000;
  return a;
}

// ---- seeded parameters, passed to the children through files ---------------------------------
// <dir>/<id>.json: { name: [offset, length] } into <dir>/<id>.f32 (so an ORT child never loads rnn-wasm).
function writeParams(dir, id, p) {
  const index = {};
  let n = 0;
  for (const [k, v] of Object.entries(p)) { index[k] = [n, v.length]; n += v.length; }
  const all = new Float32Array(n);
  for (const [k, v] of Object.entries(p)) all.set(v, index[k][0]);
  writeFileSync(join(dir, `${id}.json`), JSON.stringify(index));
  writeFileSync(join(dir, `${id}.f32`), new Uint8Array(all.buffer));
}
function readParams(dir, id) {
  const index = JSON.parse(readFileSync(join(dir, `${id}.json`), 'utf8'));
  const b = readFileSync(join(dir, `${id}.f32`));
  const all = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  return Object.fromEntries(Object.entries(index).map(([k, [o, n]]) => [k, all.subarray(o, o + n)]));
}

// ---- the two sides --------------------------------------------------------------------------
// A side of workload id: { version, output(), stepsPerCall, prepare?(), call(), after?(result), async,
// pass(), stepsPerPass, dispose() }. call() is the timed public-API call; prepare/after do the
// untimed bookkeeping around it (stream reset, next input, state fed back); pass() is pairs.mjs's
// timed function for --timer benchjs.
let libP = null;
async function oursLib() {
  libP ??= import('../dist/index.js').then(async (l) => { await l.init(); return l; });
  return libP;
}

async function oursSide(id, params, opts) {
  const l = await oursLib();
  const w = WORKLOADS[id];
  let m;
  if (w.mode === 'sample') {
    m = new l.Sequential([l.layers.lstm({ inputSize: w.V, hiddenSize: w.H, numLayers: w.L }), l.layers.linear({ inFeatures: w.H, outFeatures: w.V })], { seed: 2 });
  } else {
    const o = { inputSize: w.I, hiddenSize: w.H, numLayers: 1, seed: 2 };
    m = w.cell === 'lstm' ? new l.LSTM(o) : new l.GRU({ ...o, resetAfter: w.resetAfter ?? true });
  }
  m.loadStateDict(params);
  const version = `rnn-wasm ${JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version} (${l.relaxedSimdSupported() ? 'relaxed' : 'simd'} binary)`;
  if (w.mode === 'seq') {
    const x = seqInput(w), dims = [w.T, w.B, w.I];
    const pre = l.tensor(x, dims);
    const call = opts.prebuilt ? () => m.forward(pre) : () => m.forward(l.tensor(x, dims));
    return { version, output: () => call().output.data.slice(), call, stepsPerCall: w.T, pass: call, stepsPerPass: w.T, dispose: () => m.dispose() };
  }
  const s = m.stream({ batchSize: w.B });
  const dispose = () => { s.close(); m.dispose(); };
  if (w.mode === 'stream') {
    const x = seqInput(w);
    const xs = Array.from({ length: w.T }, (_, t) => x.subarray(t * w.B * w.I, (t + 1) * w.B * w.I));
    let t = w.T;
    const output = () => {
      s.reset();
      const out = new Float32Array(w.T * w.B * w.H);
      for (let k = 0; k < w.T; k++) out.set(s.step(xs[k]), k * w.B * w.H);
      return out;
    };
    const pass = () => { s.reset(); for (let k = 0; k < w.T; k++) s.step(xs[k]); t = w.T; };
    return {
      version, output, stepsPerCall: 1, pass, stepsPerPass: w.T, dispose,
      prepare: () => { if (t === w.T) { s.reset(); t = 0; } },
      call: () => s.step(xs[t]),
      after: () => { t++; },
    };
  }
  // sample (W5)
  const x = new Float32Array(w.V);
  let t = w.steps, c = 0, u = null;
  const output = () => {
    const ids = sampleCheckIds(w);
    s.reset();
    const out = new Float32Array(w.steps * w.V);
    for (let k = 0; k < w.steps; k++) out.set(s.step(oneHot(ids.subarray(k, k + 1), w.V)), k * w.V);
    return out;
  };
  const pass = () => {
    s.reset();
    const uu = uniform(7);
    let ch = 0;
    for (let k = 0; k < w.steps; k++) { x.fill(0); x[ch] = 1; ch = sampleSoftmax(s.step(x), uu()); }
    t = w.steps;
    return ch;
  };
  return {
    version, output, stepsPerCall: 1, pass, stepsPerPass: w.steps, dispose,
    prepare: () => {
      if (t === w.steps) { s.reset(); u = uniform(7); c = 0; t = 0; }
      x.fill(0);
      x[c] = 1;
    },
    call: () => s.step(x),
    after: (logits) => { c = sampleSoftmax(logits, u()); t++; },
  };
}

let ortP = null;
async function ortLib() {
  ortP ??= import('onnxruntime-web').then((ort) => { ort.env.wasm.numThreads = 1; return ort; });
  return ortP;
}

async function ortSide(id, params, opts) {
  const ort = await ortLib();
  const w = WORKLOADS[id];
  const options = { executionProviders: ['wasm'], graphOptimizationLevel: 'all' }; // as bench/peers/ort.mjs
  const F = (data, dims) => new ort.Tensor('float32', data, dims);
  const version = `onnxruntime-web ${ort.env.versions?.web}`;
  if (w.mode === 'seq') {
    const s = await ort.InferenceSession.create(buildOnnx({ cell: w.cell, I: w.I, H: w.H, L: 1, T: w.T, B: w.B, state: false, resetAfter: w.resetAfter ?? true }, params), options);
    const x = seqInput(w), dims = [w.T, w.B, w.I];
    const X = F(x, dims);
    const call = opts.prebuilt ? () => s.run({ X }) : () => s.run({ X: F(x, dims) });
    return { version, async: true, output: async () => (await call()).Y.data.slice(), call, stepsPerCall: w.T, pass: call, stepsPerPass: w.T, dispose: () => s.release() };
  }
  if (w.mode === 'stream') {
    const s = await ort.InferenceSession.create(buildOnnx({ cell: w.cell, I: w.I, H: w.H, L: 1, T: 1, B: w.B, state: true }, params), options);
    const x = seqInput(w), n = w.B * w.I;
    const xs = Array.from({ length: w.T }, (_, t) => x.slice(t * n, (t + 1) * n));
    const pre = xs.map((v) => F(v, [1, w.B, w.I]));
    const zeros = F(new Float32Array(w.B * w.H), [1, w.B, w.H]);
    const lstm = w.cell === 'lstm';
    let t = w.T, h = zeros, c = zeros;
    const input = (k) => (opts.prebuilt ? pre[k] : F(xs[k], [1, w.B, w.I]));
    const run = (k) => s.run(lstm ? { X: input(k), h0: h, c0: c } : { X: input(k), h0: h });
    const feed = (r) => { h = r.hN; if (lstm) c = r.cN; };
    const output = async () => {
      h = c = zeros;
      const out = new Float32Array(w.T * w.B * w.H);
      for (let k = 0; k < w.T; k++) { const r = await run(k); feed(r); out.set(r.Y.data, k * w.B * w.H); }
      t = w.T;
      return out;
    };
    const pass = async () => { h = c = zeros; for (let k = 0; k < w.T; k++) feed(await run(k)); t = w.T; };
    return {
      version, async: true, output, stepsPerCall: 1, pass, stepsPerPass: w.T, dispose: () => s.release(),
      prepare: () => { if (t === w.T) { h = c = zeros; t = 0; } },
      call: () => run(t),
      after: (r) => { feed(r); t++; },
    };
  }
  // sample (W5)
  const s = await ort.InferenceSession.create(buildOnnx({ cell: 'lstm', I: w.V, H: w.H, L: w.L, T: 1, B: 1, state: true, head: { O: w.V, prefix: '1.' } }, params, '0.'), options);
  const zeros = F(new Float32Array(w.L * w.H), [w.L, 1, w.H]);
  const x = new Float32Array(w.V);
  const X = F(x, [1, 1, w.V]); // wraps x, refilled in place (--prebuilt)
  let t = w.steps, ch = 0, u = null, h = zeros, c = zeros;
  const run = () => s.run({ X: opts.prebuilt ? X : F(x.slice(), [1, 1, w.V]), h0: h, c0: c });
  const output = () => w5CheckOutput(s, w, zeros, F);
  const pass = async () => {
    h = c = zeros;
    const uu = uniform(7);
    let cc = 0;
    for (let k = 0; k < w.steps; k++) {
      x.fill(0);
      x[cc] = 1;
      const r = await run();
      h = r.hN;
      c = r.cN;
      cc = sampleSoftmax(r.Y.data, uu());
    }
    t = w.steps;
    return cc;
  };
  return {
    version, async: true, output, stepsPerCall: 1, pass, stepsPerPass: w.steps, dispose: () => s.release(),
    prepare: () => {
      if (t === w.steps) { h = c = zeros; u = uniform(7); ch = 0; t = 0; }
      x.fill(0);
      x[ch] = 1;
    },
    call: run,
    after: (r) => { h = r.hN; c = r.cN; ch = sampleSoftmax(r.Y.data, u()); t++; },
  };
}

const makeSide = (side, id, params, opts) => (side === 'ours' ? oursSide : ortSide)(id, params, opts);

/** µs/step of one timing round of a side: median of per-call times (plain) or benchmark.js's median sample. */
// With it: the garbage collector's time during the timing (Node's 'gc' performance entries) as a
// share of the timed span, since a median of single calls leaves GC pauses out and a benchmark.js
// cycle mean takes them in.
async function timeSide(sd, opts) {
  let gcMs = 0;
  const add = (entries) => { for (const e of entries) gcMs += e.duration; };
  const obs = new PerformanceObserver((list) => add(list.getEntries()));
  obs.observe({ entryTypes: ['gc'] });
  const t0 = performance.now(), cpu0 = process.cpuUsage(), main0 = mainThreadCpuMs();
  const r = await timeCalls(sd, opts);
  const spanMs = performance.now() - t0, cpu = process.cpuUsage(cpu0), main = mainThreadCpuMs();
  const cpuMs = (cpu.user + cpu.system) / 1000;
  // the entries arrive from a timer after each collection (a setImmediate is too early)
  await new Promise((resolve) => setTimeout(resolve, 10));
  add(obs.takeRecords());
  obs.disconnect();
  // cpuShare: the process's CPU time (all its threads) ÷ the span: < 1 when it waited for a core
  // (another job had it), > 1 when a second thread worked
  // otherThreads: CPU time of the process's other threads (V8's compiler and GC helpers, a runtime's
  // own threads) ÷ the span, from /proc (10 ms ticks; null without /proc)
  return { ...r, gcShare: gcMs / spanMs, cpuShare: cpuMs / spanMs, otherThreads: main0 === null ? null : Math.max(0, cpuMs - (main - main0)) / spanMs };
}

/** CPU time (user + system) of this process's main thread in ms, from /proc (null elsewhere). */
function mainThreadCpuMs() {
  try {
    const st = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime, stime in USER_HZ (100 on Linux)
  } catch {
    return null; // no /proc
  }
}

async function timeCalls(sd, opts) {
  if (opts.timer === 'benchjs') {
    const m = await measure(sd.pass, { quick: opts.quick, async: !!sd.async, minTime: opts.quick ? 0.15 : 0.5 });
    return { usPerStep: (m.median * 1e6) / sd.stepsPerPass, samples: m.samples, via: m.via };
  }
  const once = async () => {
    sd.prepare?.();
    const t0 = performance.now();
    let r = sd.call();
    if (sd.async) r = await r;
    const dt = performance.now() - t0;
    sd.after?.(r);
    return (dt * 1000) / sd.stepsPerCall;
  };
  // warm-up: --warmup calls and at least --warmup-ms of them (V8 tiers hot wasm up in the background)
  const w0 = performance.now();
  let warmupCalls = 0;
  while (warmupCalls < opts.warmup || performance.now() - w0 < opts.warmupMs) { await once(); warmupCalls++; }
  const us = new Float64Array(opts.calls);
  for (let i = 0; i < opts.calls; i++) us[i] = await once();
  const median = stats(us).median, mean = us.reduce((a, b) => a + b, 0) / us.length;
  // drift: median of the last quarter of the calls ÷ median of the first (≈ 1 when the warm-up
  // reached the steady state; < 1 when the code still got faster, e.g. tier-up finishing late)
  const q = Math.max(1, Math.floor(opts.calls / 4));
  const drift = stats(us.subarray(opts.calls - q)).median / stats(us.subarray(0, q)).median;
  return { usPerStep: opts.stat === 'mean' ? mean : median, median, mean, drift, warmupCalls, samples: opts.calls, via: `plain loop, ${opts.stat} of calls` };
}

// --warm: the other workloads' models of this side built, run once and released first.
async function warmUp(side, opts) {
  for (const other of opts.warmIds) {
    if (other === opts.id) continue;
    const sd = await makeSide(side, other, readParams(opts.params, other), opts);
    await sd.output();
    await sd.dispose();
  }
}

// ---- children -------------------------------------------------------------------------------
async function child(args) {
  const opts = { ...args, warmIds: args.warmWith ?? FRESH_IDS };
  const emit = (o) => process.stdout.write(`\n@@RESULT ${JSON.stringify(o)}\n`);
  const params = readParams(args.params, args.id);
  if (args.child === 'ours' || args.child === 'ort') {
    if (args.warm) await warmUp(args.child, opts);
    const sd = await makeSide(args.child, args.id, params, opts);
    const out = await sd.output();
    writeFileSync(args.out, new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
    const r = await timeSide(sd, opts);
    await sd.dispose();
    return emit({ side: args.child, version: sd.version, ...r });
  }
  if (args.child === 'both') {
    // pairs.mjs's structure: one process, both sides built (ours first), checked, then all rounds
    if (args.warm) for (const side of SIDES) await warmUp(side, opts);
    const sd = { ours: await oursSide(args.id, params, opts), ort: await ortSide(args.id, params, opts) };
    const diff = maxAbsDiff(await sd.ours.output(), await sd.ort.output());
    const rounds = [];
    for (let r = 0; r < args.rounds; r++) {
      const row = { round: r, order: roundOrder(r), maxAbsDiff: diff, ok: diff <= TOLERANCE, detail: {} };
      for (const side of row.order) {
        const t = await timeSide(sd[side], opts);
        row[side] = t.usPerStep;
        row.detail[side] = t;
      }
      rounds.push(row);
    }
    for (const side of SIDES) await sd[side].dispose();
    return emit({ versions: { ours: sd.ours.version, ort: sd.ort.version }, rounds });
  }
  if (args.child === 'pairs') {
    // bench/pairs.mjs itself on this workload (rnn-wasm vs ort-web-1t), for the factor table
    const { runPairs, pairKey } = await import('./pairs.mjs');
    const runner = async (impl) => (impl.startsWith('rnn-wasm') ? (await import('./ours.mjs')).make(impl) : (await import('./peers/ort.mjs')).make(impl));
    const res = await runPairs({ only: [args.id], impls: ['rnn-wasm', 'ort-web-1t'], rounds: args.rounds, quick: args.quick }, runner);
    const p = res.pairs[pairKey({ id: args.id, ours: 'rnn-wasm', peer: 'ort-web-1t' })];
    if (!p) return emit({ error: Object.values(res.errors).join('\n') || 'no pair result' });
    const w = WORKLOADS[args.id];
    const us = (f) => (w.unit === 'us/step' ? f : 1e6 / f); // W5: chars/s → µs per character
    const diff = Math.max(p.maxAbsDiff.ours, p.maxAbsDiff.peer);
    return emit({ rounds: p.figures.ours.map((f, r) => ({ round: r, order: roundOrder(r), ours: us(f), ort: us(p.figures.peer[r]), maxAbsDiff: diff, ok: diff <= TOLERANCE })) });
  }
  throw new Error(`Expected --child ours, ort, both or pairs, got ${args.child}`);
}

// ---- parent ---------------------------------------------------------------------------------
function childArgs(args, cfg) {
  const a = ['--rounds', String(cfg.rounds ?? args.rounds), '--calls', String(cfg.calls ?? args.calls), '--warmup', String(cfg.warmup ?? args.warmup), '--warmup-ms', String(cfg.warmupMs ?? args.warmupMs), '--only', args.only.join(',')];
  if (args.quick) a.push('--quick');
  if (cfg.prebuilt) a.push('--prebuilt');
  if (cfg.timer === 'benchjs') a.push('--timer', 'benchjs');
  if (cfg.stat === 'mean') a.push('--stat', 'mean');
  if (cfg.warm) a.push(...(args.warmWith ? ['--warm-with', args.warmWith.join(',')] : ['--warm']));
  if (!cfg.relaxed) a.push('--no-relaxed');
  return a;
}

function spawnChild(argv, pin = null, nodeFlags = []) {
  const cmd = [process.execPath, ...nodeFlags, fileURLToPath(import.meta.url), ...argv];
  // --pin: the child and all its threads on one core, as `taskset -c CPU node bench/run.mjs` runs the pairs
  if (pin !== null) cmd.unshift('taskset', '-c', pin);
  return new Promise((resolve) => {
    const p = spawn(cmd[0], cmd.slice(1), { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    p.on('error', (e) => resolve({ error: `could not start ${cmd[0]}: ${e.message}` }));
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => {
      const line = stdout.split('\n').find((l) => l.startsWith('@@RESULT '));
      resolve(line ? JSON.parse(line.slice(9)) : { error: `process exited with ${code} before reporting:\n${(stderr || stdout).slice(-2000)}` });
    });
  });
}

const readF32 = (f) => { const b = readFileSync(f); return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)); };

/**
 * One configuration of one workload over `rounds` rounds → { rounds: [...], ours, ort, ratio, versions, failures }.
 * cfg: { samePro, prebuilt, timer, warm, relaxed, calls?, harness?: 'pairs' }.
 */
async function runConfig(args, dir, id, cfg) {
  const failures = [];
  const versions = {};
  let rounds = [];
  const log = (s) => process.stderr.write(s);
  if (cfg.samePro || cfg.harness === 'pairs') {
    const c = await spawnChild(['--child', cfg.harness === 'pairs' ? 'pairs' : 'both', '--id', id, '--params', dir, ...childArgs(args, cfg)], cfg.pin ?? null, args.nodeFlags);
    if (c.error) failures.push(`${id}: ${c.error}`);
    else { rounds = c.rounds; Object.assign(versions, c.versions ?? {}); }
  } else {
    for (let r = 0; r < args.rounds; r++) {
      const row = { round: r, order: roundOrder(r), detail: {} };
      const outs = {};
      for (const side of row.order) {
        const out = join(dir, `${id}-${side}.out`);
        const c = await spawnChild(['--child', side, '--id', id, '--params', dir, '--out', out, ...childArgs(args, cfg)], cfg.pin ?? null, args.nodeFlags);
        if (c.error) { failures.push(`${id} ${NAMES[side]} round ${r + 1}: ${c.error}`); row[side] = null; continue; }
        row[side] = c.usPerStep;
        row.detail[side] = { median: c.median, mean: c.mean, drift: c.drift, warmupCalls: c.warmupCalls, gcShare: c.gcShare, cpuShare: c.cpuShare, otherThreads: c.otherThreads, samples: c.samples, via: c.via };
        versions[side] = c.version;
        outs[side] = readF32(out);
      }
      row.maxAbsDiff = outs.ours && outs.ort ? maxAbsDiff(outs.ours, outs.ort) : null;
      row.ok = row.maxAbsDiff !== null && row.maxAbsDiff <= TOLERANCE && row.ours !== null && row.ort !== null;
      if (row.maxAbsDiff !== null && !(row.maxAbsDiff <= TOLERANCE)) failures.push(`${id} round ${r + 1}: CHECK FAILED, outputs differ by ${row.maxAbsDiff} (> ${TOLERANCE})`);
      rounds.push(row);
      log(`  ${id.padEnd(8)} round ${r + 1}: rnn-wasm ${fmt(row.ours)}  ort-web-1t ${fmt(row.ort)} µs/step  (max abs diff ${row.maxAbsDiff?.toExponential(1)})\n`);
    }
  }
  for (const r of rounds) if (!r.ok && !failures.length) failures.push(`${id} round ${r.round + 1}: CHECK FAILED (max abs diff ${r.maxAbsDiff})`);
  return { rounds, ...summarize(rounds), versions, failures };
}

/** Median of a timing share (gcShare, cpuShare) per side over the rounds that report it: 'ours / ort'. */
function shareColumn(rounds, key, pct) {
  const share = (side) => {
    const v = rounds.map((r) => r.detail?.[side]?.[key]).filter((x) => typeof x === 'number');
    if (!v.length) return '—';
    const m = stats(v).median;
    return pct ? `${(m * 100).toFixed(1)} %` : m.toFixed(2);
  };
  return `${share('ours')} / ${share('ort')}`;
}

const fmt = (v) => (v === null || v === undefined ? '—' : v.toFixed(v < 10 ? 2 : 1));
const fmtSpread = (s) => (s ? `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})` : '—');
const fmtRatio = (s) => (s ? `${s.median.toFixed(2)}× (${s.min.toFixed(2)}–${s.max.toFixed(2)})` : '—');

function table(head, rows) {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (r) => `| ${r.map((c, i) => String(c).padEnd(w[i])).join(' | ')} |`;
  return [line(head), `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** The long warm-up of the factor table: ×10 calls and ×5 the time floor (at least 5 s; 1 s in --quick). */
const warmupLong = (args) => ({ warmup: Math.max(1, args.warmup) * 10, warmupMs: Math.max(args.warmupMs * 5, args.quick ? 1000 : 5000) });

/** The factor rows of --factors: the user's way, each factor alone, all together, pairs.mjs itself. */
export function factorConfigs(args) {
  const user = { samePro: args.samePro, prebuilt: args.prebuilt, timer: args.timer, stat: args.stat, warm: args.warm, relaxed: args.relaxed, pin: args.pin };
  return [
    { factor: 'user: fresh process, tensor per call, plain loop', ...user },
    { factor: 'same process, all rounds (pairs.mjs)', ...user, samePro: true },
    { factor: 'pre-built input tensor', ...user, prebuilt: true },
    { factor: 'mean of calls, not median', ...user, stat: 'mean' },
    { factor: 'benchmark.js median sample', ...user, timer: 'benchjs' },
    { factor: 'warm runtime (other models first)', ...user, warm: true },
    { factor: `calls ×5 (${args.calls * 5})`, ...user, calls: args.calls * 5 },
    { factor: `longer warm-up (${warmupLong(args).warmup} calls, ≥ ${warmupLong(args).warmupMs} ms)`, ...user, ...warmupLong(args) },
    { factor: `pinned to one core (taskset -c ${args.pin ?? 0})`, ...user, pin: args.pin ?? '0' },
    { factor: "pairs.mjs's four conditions together", samePro: true, prebuilt: true, timer: 'benchjs', stat: args.stat, warm: true, relaxed: args.relaxed, pin: args.pin },
    { factor: 'bench/pairs.mjs itself', harness: 'pairs', relaxed: args.relaxed, pin: args.pin },
  ];
}

async function parent(args) {
  const load0 = os.loadavg();
  const dir = mkdtempSync(join(os.tmpdir(), 'rnnw-fresh-'));
  const failures = [];
  const versions = { node: process.version, v8: process.versions.v8 };
  const run = { date: null, machine: machine(), versions, harness: 'fresh', quick: args.quick, options: null, loadAverage: null, workloads: {}, failures };
  try {
    const { paramsOf } = await import('./ours.mjs');
    // --warm builds every workload's model first: their parameters too
    for (const id of args.warm || args.factors ? FRESH_IDS : args.only) writeParams(dir, id, await paramsOf(id));
    const user = { samePro: args.samePro, prebuilt: args.prebuilt, timer: args.timer, stat: args.stat, warm: args.warm, relaxed: args.relaxed, pin: args.pin };
    run.options = { rounds: args.rounds, calls: args.calls, warmup: args.warmup, warmupMs: args.warmupMs, nodeFlags: args.nodeFlags, ...user };
    const rows = [];
    if (args.factors) run.factors = {};
    for (const id of args.only) {
      if (args.factors) {
        run.factors[id] = [];
        for (const cfg of factorConfigs(args)) {
          process.stderr.write(`[${id}: ${cfg.factor}]\n`);
          const r = await runConfig(args, dir, id, cfg);
          failures.push(...r.failures.map((f) => `${cfg.factor}: ${f}`));
          Object.assign(versions, Object.fromEntries(Object.entries(r.versions).map(([k, v]) => [NAMES[k], v])));
          run.factors[id].push({ ...cfg, rounds: r.rounds, ours: r.ours, ort: r.ort, ratio: r.ratio });
          const base = run.factors[id][0].ratio;
          rows.push([id, cfg.factor, fmtSpread(r.ours), fmtSpread(r.ort), fmtRatio(r.ratio), base && r.ratio ? `${(r.ratio.median / base.median).toFixed(2)}` : '—', shareColumn(r.rounds, 'gcShare', true), shareColumn(r.rounds, 'otherThreads', true), shareColumn(r.rounds, 'drift', false)]);
        }
      } else {
        process.stderr.write(`[${id}, ${args.rounds} rounds]\n`);
        const r = await runConfig(args, dir, id, user);
        failures.push(...r.failures);
        Object.assign(versions, Object.fromEntries(Object.entries(r.versions).map(([k, v]) => [NAMES[k], v])));
        run.workloads[id] = { unit: 'us/step', rounds: r.rounds, ours: r.ours, ort: r.ort, ratio: r.ratio };
        rows.push([id, fmtSpread(r.ours), fmtSpread(r.ort), fmtRatio(r.ratio), String(r.ratio?.n ?? 0), shareColumn(r.rounds, 'gcShare', true), shareColumn(r.rounds, 'otherThreads', true), shareColumn(r.rounds, 'drift', false)]);
      }
    }
    run.date = new Date().toISOString();
    run.loadAverage = { before: load0.map((v) => Number(v.toFixed(2))), after: os.loadavg().map((v) => Number(v.toFixed(2))) };
    const how = `${args.rounds} rounds, ${args.timer === 'benchjs' ? 'benchmark.js' : `median of ${args.calls} calls after ${args.warmup}`}`;
    console.log(`${run.date} · ${run.machine}\nload average (1, 5, 15 min) before ${run.loadAverage.before.join(' ')}, after ${run.loadAverage.after.join(' ')}\n`);
    if (args.factors) {
      console.log(`Factor table: µs/step median (min–max over rounds); ratio = ORT Web ÷ rnn-wasm per round (> 1: rnn-wasm faster); ${how}\n`);
      console.log(table(['workload', 'factor', 'rnn-wasm µs/step', 'ort-web-1t µs/step', 'ratio', 'ratio ÷ user row', 'GC rnn-wasm / ort', 'other threads rnn-wasm / ort', 'drift rnn-wasm / ort'], rows));
    } else {
      console.log(`Fresh process per side per round, public API in a plain loop; ${how}; ratio = ORT Web ÷ rnn-wasm per round\n`);
      console.log(table(['workload', 'rnn-wasm µs/step', 'ort-web-1t µs/step', 'ratio (median, min–max)', 'rounds', 'GC rnn-wasm / ort', 'other threads rnn-wasm / ort', 'drift rnn-wasm / ort'], rows));
    }
    if (failures.length) console.log(`\nFAILURES:\n${failures.join('\n')}`);
    const files = [...(args.json ? [args.json] : []), ...(args.save && !args.quick ? [runFile(run.date, 'fresh-')] : [])];
    for (const f of files) {
      writeFileSync(f, JSON.stringify(run, null, 2) + '\n');
      console.log(`\nwrote ${f}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (failures.length) process.exitCode = 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = parseArgs(process.argv.slice(2));
  // as bench/run.mjs: rnn-wasm picks its relaxed-SIMD binary (unless --no-relaxed)
  if (args.relaxed) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  if (args.child) await child(args);
  else await parent(args);
}
