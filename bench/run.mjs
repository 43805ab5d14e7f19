// The benchmark suite: every workload of issue 4 for this library and its peers, in one run.
//   npm run bench                      (builds first; then: node bench/run.mjs)
//   node bench/run.mjs [--quick] [--json FILE] [--only W1a,W2,...] [--impl rnn-wasm,ort-node-1t,...]
//                      [--no-scaling] [--rounds N]
// Implementations: rnn-wasm (this library, one thread), rnn-wasm-2t / rnn-wasm-1w (its WorkerPool
// with 2 / 1 workers; left out with a note when dist/ has no WorkerPool), ort-node-1t, ort-web-1t,
// ort-web-2t, tfjs-wasm, tfjs-cpu, brainjs; K-* carry rnn-wasm and `ceiling` (bench/k.mjs).
// Each implementation runs in its own Node process, one after the other (peers would otherwise
// share a thread pool or a tfjs backend; ort-web's thread count is fixed at its first session);
// full runs go round all but tfjs-cpu and brain.js twice (--rounds N: N times) and keep the best figure.
// In each process, for every workload: build the model from this library's seeded parameters,
// run once and compare the output with this library's (max abs diff; > 1e-4 fails the run), then
// time the call with benchmark.js (calls slower than 0.3 s / 1.5 s (--quick / full) are timed
// directly instead). The parent prints the tables, the ratios and the issue's targets, and
// writes --json FILE in the issue's shape, with additions:
//   { date, machine, versions, workloads: { id: { unit, higherIsBetter, results: { impl: figure },
//     ratioToRnnWasm: { impl: figure / figure of rnn-wasm }, maxAbsDiff, timing, extra?, notes?,
//     interleaved2w? (W2, W4-b64: 1 and 2 workers timed alternately in one process) } },
//     quick, loadAverage, scaling, targets, bounds, failures }
import v8 from 'node:v8';
import os from 'node:os';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WORKLOADS, TOLERANCE, figure, gflops, outputDiff, measure } from './common.mjs';
import { loadLib, reference, scaling } from './ours.mjs';
import { runK } from './k.mjs';
import { targets, bounds } from './targets.mjs';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const IMPLS = ['rnn-wasm', 'rnn-wasm-1w', 'rnn-wasm-2t', 'ort-node-1t', 'ort-web-1t', 'ort-web-2t', 'tfjs-wasm', 'tfjs-cpu', 'brainjs'];
const IDS = Object.keys(WORKLOADS);
// rnn-wasm-1w (a WorkerPool of one worker) is only the multi-core target's baseline
const ONLY = { 'rnn-wasm-1w': ['W2', 'W4-b64'] };

function parseArgs(argv) {
  const a = { quick: false, json: null, only: IDS, impls: IMPLS, child: null, scaling: true, rounds: 0 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--quick') a.quick = true;
    else if (k === '--json') a.json = argv[++i];
    else if (k === '--only') a.only = argv[++i].split(',');
    else if (k === '--impl') a.impls = argv[++i].split(',');
    else if (k === '--child') a.child = argv[++i];
    else if (k === '--no-scaling') a.scaling = false;
    else if (k === '--rounds') {
      a.rounds = Number(argv[++i]);
      if (!Number.isInteger(a.rounds) || a.rounds < 1) throw new Error(`Expected --rounds N with N a positive integer, got ${argv[i]}`);
    } else throw new Error(`Expected one of --quick --json FILE --only IDS --impl NAMES --no-scaling --rounds N, got ${k}`);
  }
  for (const id of a.only) if (!WORKLOADS[id]) throw new Error(`Expected workload ids among ${IDS.join(' ')}, got ${id}`);
  for (const n of a.impls) if (!IMPLS.includes(n)) throw new Error(`Expected implementations among ${IMPLS.join(' ')}, got ${n}`);
  return a;
}

// ---- child: one implementation, all requested workloads ----------------------------------------
async function runner(impl) {
  if (impl.startsWith('rnn-wasm')) return (await import('./ours.mjs')).make(impl);
  if (impl.startsWith('ort')) return (await import('./peers/ort.mjs')).make(impl);
  if (impl.startsWith('tfjs')) return (await import('./peers/tfjs.mjs')).make(impl);
  return (await import('./peers/brainjs.mjs')).make(impl);
}

// Checks a job's output against its reference (this library's output unless the job brings its
// own), then times job.fn; returns the workload's figure and how it was measured.
async function checkAndTime(id, job, quick) {
  const w = WORKLOADS[id];
  let diff = null; // stays null only for brain.js W4/W5, whose equations differ from everyone's (see peers/brainjs.mjs)
  if (job.output !== null) {
    const ref = job.reference ?? (await reference(id, job.refOpts));
    diff = outputDiff(await job.output(), ref);
    if (!(diff <= TOLERANCE)) {
      throw new Error(`CHECK FAILED: output differs from ${job.reference ? 'its reference' : "rnn-wasm's"} by ${diff} (> ${TOLERANCE})`);
    }
  }
  const m = await measure(job.fn, { quick, async: job.async });
  const res = { figure: job.unit ? job.unit(m.seconds) : figure(id, m.seconds), seconds: m.seconds, rme: m.rme, samples: m.samples, via: m.via, maxAbsDiff: diff };
  if (job.note) res.note = job.note;
  if (w.unit === 'seq-steps/s' && w.mode === 'seq') res.gflops = gflops(id, m.seconds);
  return res;
}

async function child(args) {
  const impl = args.child;
  const r = await runner(impl);
  const out = { impl, version: r.version, unavailable: r.unavailable, results: {}, errors: {} };
  const emit = () => process.stdout.write(`\n@@RESULT ${JSON.stringify(out)}\n`);
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
    process.stderr.write(`  ${impl.padEnd(12)} ${id.padEnd(9)} ${out.results[id] ? fmt(out.results[id].figure) + ' ' + w.unit : 'ERROR ' + String(out.errors[id]).split('\n')[0]}` +
      `  (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
  }
  if (impl === 'rnn-wasm') {
    const kIds = args.only.filter((id) => id.startsWith('K-'));
    if (kIds.length) {
      try {
        const k = await runK((await loadLib()).relaxedSimdSupported() ? 'relaxed' : 'simd', { quick: args.quick });
        for (const id of kIds) out.results[id] = { kernel: k[id] };
      } catch (e) {
        for (const id of kIds) out.errors[id] = String(e?.stack ?? e);
      }
    }
    if (args.scaling) {
      out.scaling = await scaling(args.quick);
    }
  }
  if (impl === 'rnn-wasm-2t') {
    try {
      out.pairs = await interleaved(args);
    } catch (e) {
      out.errors.pairs = String(e?.stack ?? e);
    }
  }
  emit();
}

// The multi-core target's ratio, timed without the drift between child processes: a pool of one
// worker and a pool of two over equal models (same seed), timed alternately in this process, best
// of 3 rounds (--quick: 1) each. Returns { id: { 'rnn-wasm-1w', 'rnn-wasm-2t' (figures), speedup } }.
async function interleaved(args) {
  const ids = ['W2', 'W4-b64'].filter((id) => args.only.includes(id));
  if (!ids.length) return {};
  const one = await runner('rnn-wasm-1w'), two = await runner('rnn-wasm-2t');
  const res = {};
  for (const id of ids) {
    const mode = WORKLOADS[id].mode;
    const a = await one[mode](id), b = await two[mode](id);
    try {
      let ta = Infinity, tb = Infinity;
      for (let round = 0; round < (args.quick ? 1 : 3); round++) {
        ta = Math.min(ta, (await measure(a.fn, { quick: args.quick, async: true, minTime: 1 })).seconds);
        tb = Math.min(tb, (await measure(b.fn, { quick: args.quick, async: true, minTime: 1 })).seconds);
      }
      res[id] = { 'rnn-wasm-1w': figure(id, ta), 'rnn-wasm-2t': figure(id, tb), speedup: ta / tb };
      process.stderr.write(`  2 workers ÷ 1, interleaved, ${id}: ${res[id].speedup.toFixed(2)}×\n`);
    } finally {
      await a.dispose();
      await b.dispose();
    }
  }
  return res;
}

// ---- parent ---------------------------------------------------------------------------------
const ONE_ROUND = ['tfjs-cpu', 'brainjs'];

// Merges a later round's child report into the first: per workload the better figure, all errors.
function keepBetter(into, c) {
  Object.assign(into.errors, c.errors);
  for (const [id, p] of Object.entries(c.pairs ?? {})) {
    if (!(into.pairs ??= {})[id] || p.speedup > into.pairs[id].speedup) into.pairs[id] = p;
  }
  for (const [id, r] of Object.entries(c.results)) {
    const old = into.results[id];
    const better = !old || (WORKLOADS[id].higherIsBetter ? r.figure > old.figure : r.figure < old.figure);
    if (better) into.results[id] = r;
  }
}

// One child process; `repeat` (a later round) re-times the workloads only, without K and scaling.
function spawnChild(impl, args, repeat) {
  const only = repeat ? args.only.filter((id) => !id.startsWith('K-')) : args.only;
  const argv = [fileURLToPath(import.meta.url), '--child', impl, '--only', only.join(',')];
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

// Markdown table: header, then right-aligned figure columns.
const table = (head, body) => [head, head.map((_, i) => (i === 0 ? '---' : '---:')), ...body].map((cells) => `| ${cells.join(' | ')} |`);

function fmt(v) {
  if (v === undefined || v === null || Number.isNaN(v)) return '—';
  if (v >= 1000) return Math.round(v).toLocaleString('en-US');
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

// CPU model, cores and cache from /proc/cpuinfo (os.cpus() elsewhere), memory, OS and Node.
function machine() {
  let cpu = `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} logical CPUs`;
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const g = (k) => info.match(new RegExp(`^${k}\\s*:\\s*(.+)$`, 'm'))?.[1]?.trim();
    const logical = info.match(/^processor\s*:/gm).length;
    cpu = `${g('model name')}, ${logical} logical CPUs (${g('cpu cores') ?? '?'} cores per socket), cache ${g('cache size') ?? '?'}, flags avx2=${/\bavx2\b/.test(g('flags') ?? '')} fma=${/\bfma\b/.test(g('flags') ?? '')}`;
  } catch { /* no /proc: os.cpus() */ }
  let osName = `${os.type()} ${os.release()}`;
  try {
    osName = readFileSync('/etc/os-release', 'utf8').match(/^PRETTY_NAME="?([^"\n]+)/m)?.[1] + ` (${os.release()})`;
  } catch { /* not Linux */ }
  return `${cpu}; ${Math.round(os.totalmem() / 2 ** 30)} GiB; ${osName}; Node ${process.version} (V8 ${process.versions.v8})`;
}

async function parent(args) {
  const t0 = performance.now();
  const load0 = os.loadavg()[0]; // other work on the machine skews every figure: shown with them
  // Full runs go round the fast implementations twice and keep each one's better figure per
  // workload: the machine is shared, and a busy spell then costs one round, not the result.
  // tfjs-cpu and brain.js take minutes a round and are timed best-of-three directly anyway.
  const children = new Map();
  const versions = { node: process.version, v8: process.versions.v8 };
  for (let round = 0; round < (args.rounds || (args.quick ? 1 : 2)); round++) {
    for (const impl of args.impls) {
      if (round > 0 && ONE_ROUND.includes(impl)) continue;
      process.stderr.write(`[${impl}${round ? `, round ${round + 1}` : ''}]\n`);
      const c = await spawnChild(impl, args, round > 0);
      const prev = children.get(impl);
      if (!prev) children.set(impl, c);
      else keepBetter(prev, c);
      if (c.version) versions[impl] = c.version;
    }
  }
  const workloads = {};
  const failures = [];
  let scaling = null;
  for (const id of args.only) {
    const w = WORKLOADS[id];
    workloads[id] = { unit: w.unit, higherIsBetter: w.higherIsBetter, results: {}, ratioToRnnWasm: {}, maxAbsDiff: {} };
  }
  for (const c of children.values()) {
    if (c.scaling) scaling = c.scaling;
    for (const [id, p] of Object.entries(c.pairs ?? {})) if (workloads[id]) workloads[id].interleaved2w = p;
    for (const [id, msg] of Object.entries(c.errors ?? {})) failures.push(`${c.impl} ${id}: ${msg}`);
    for (const [id, r] of Object.entries(c.results ?? {})) {
      const W = workloads[id];
      if (r.kernel) {
        Object.assign(W.results, r.kernel.results);
        Object.assign(W.maxAbsDiff, r.kernel.maxAbsDiff);
        W.notes = r.kernel.notes;
        continue;
      }
      W.results[c.impl] = r.figure;
      W.maxAbsDiff[c.impl] = r.maxAbsDiff;
      if (r.gflops !== undefined) (W.extra ??= { 'GFLOP/s': {} })['GFLOP/s'][c.impl] = r.gflops;
      if (r.note) (W.notes ??= {})[c.impl] = r.note;
      (W.timing ??= {})[c.impl] = { seconds: r.seconds, rmePercent: r.rme, samples: r.samples, via: r.via };
    }
  }
  for (const W of Object.values(workloads)) {
    const ours = W.results['rnn-wasm'];
    if (ours) for (const [impl, v] of Object.entries(W.results)) W.ratioToRnnWasm[impl] = v / ours;
  }

  // ---- tables ----
  const cols = ['rnn-wasm', ...IMPLS.filter((i) => i !== 'rnn-wasm'), 'ceiling'].filter((c) => Object.values(workloads).some((W) => c in W.results));
  const peers = cols.filter((c) => c !== 'rnn-wasm');
  const checked = cols.filter((c) => c !== 'ceiling');
  const entries = Object.entries(workloads);
  const figures = entries.flatMap(([id, W]) => [
    [id, W.unit, ...cols.map((c) => fmt(W.results[c]))],
    ...(W.extra ? [[id, 'GFLOP/s', ...cols.map((c) => fmt(W.extra['GFLOP/s'][c]))]] : []),
  ]);
  const speedups = entries.map(([id, W]) => [id, ...peers.map((c) => {
    const ours = W.results['rnn-wasm'], v = W.results[c];
    if (!ours || v === undefined) return '—';
    if (id.startsWith('K-')) return `${((ours / v) * 100).toFixed(0)} %`;
    return `${(W.higherIsBetter ? ours / v : v / ours).toFixed(2)}×`;
  })]);
  const diff = (d) => (d === undefined ? '—' : d === null ? 'unchecked' : d.toExponential(1));
  const diffs = entries.filter(([id]) => !id.startsWith('K-')).map(([id, W]) => [id, ...checked.map((c) => diff(W.maxAbsDiff[c]))]);
  const notes = [
    ...[...children.values()].filter((c) => c.unavailable).map((c) => `- ${c.impl}: ${c.unavailable}`),
    ...(cols.includes('rnn-wasm-2t') ? ['- rnn-wasm-2t / rnn-wasm-1w: WorkerPool.create(model, { workers: 2 / 1 }); it splits the batch, so it runs the batched workloads only'] : []),
    ...(args.quick ? [`- --quick leaves out ${entries.filter(([id]) => WORKLOADS[id].quickSkip).map(([id]) => `${WORKLOADS[id].quickSkip.join(', ')} ${id}`).join('; ')} (8–20 s a call)`] : []),
    ...entries.flatMap(([id, W]) => Object.entries(W.notes ?? {}).map(([impl, n]) => `- ${id} ${impl}: ${n}`)),
  ];
  const tg = targets(workloads);
  const out = [];
  const loadAverage = [load0, os.loadavg()[0]].map((v) => Number(v.toFixed(2)));
  out.push(`\nFigures (${args.quick ? 'quick' : 'full'} run, ${((performance.now() - t0) / 1000).toFixed(0)} s; 1-min load average ${loadAverage.join(' → ')} on ${os.cpus().length} CPUs)`);
  out.push(...table(['workload', 'unit', ...cols], figures));
  out.push('\nrnn-wasm speedup (>1: rnn-wasm faster; K: rnn-wasm as % of the ceiling)');
  out.push(...table(['workload', ...peers], speedups));
  out.push(`\nmax abs diff of each output against rnn-wasm (checked before timing; limit ${TOLERANCE}; W4 tfjs: loss and gradients, relative to each one's scale)`);
  out.push(...table(['workload', ...checked], diffs));
  if (notes.length) out.push('\nnotes', ...notes);
  out.push('\ntargets');
  for (const t of tg) {
    out.push(`- ${t.met === null ? 'n/a ' : t.met ? 'MET ' : 'MISS'} ${t.what}: ${t.value === undefined ? 'not measured' : t.value.toFixed(2)} (${t.how}; need ≥ ${t.need.toFixed(2)})`);
  }
  const bd = bounds(workloads);
  if (bd.length) out.push('\nbounds (from this run\'s figures)', ...bd.map((b) => `- ${b}`));
  if (scaling) {
    // cost relative to the base shape per unit of work T·B·H·(I+H): 1.00 everywhere = linear in T and B, quadratic in H
    const work = (s) => s.T * s.B * s.H * (s.I + s.H);
    const base = scaling.find((s) => s.base);
    out.push(`\nscaling of rnn-wasm LSTM forward (I ${base.I}; base T ${base.T}, B ${base.B}, H ${base.H}; one axis varied)`);
    out.push(...table(['axis', 'T', 'B', 'H', 'ms / call', 'time ÷ T·B·H(I+H), base = 1', 'GFLOP/s'], scaling.map((s) =>
      [s.axis, s.T, s.B, s.H, s.ms.toFixed(3), ((s.ms / work(s)) / (base.ms / work(base))).toFixed(2), s.gflops.toFixed(1)])));
  }
  if (failures.length) {
    out.push('\nFAILURES');
    for (const f of failures) out.push(`- ${f.split('\n').slice(0, 3).join(' / ')}`);
  }
  console.log(out.join('\n'));
  if (args.json) {
    const json = { date: new Date().toISOString(), machine: machine(), versions, quick: args.quick, loadAverage, workloads, scaling, targets: tg, bounds: bd, failures };
    writeFileSync(args.json, JSON.stringify(json, null, 2) + '\n');
    console.log(`\nwrote ${args.json}`);
  }
  if (failures.length) process.exitCode = 1;
}

const args = parseArgs(process.argv.slice(2));
if (args.child) await child(args);
else await parent(args);
