// Merges results files of full runs on the same tree into one, as a run with more rounds would:
//   node bench/merge.mjs OUT.json RUN1.json RUN2.json [...]
// For every workload and implementation the best figure of the runs (the highest rate, the lowest
// time), the largest output difference, the ratios and the targets recomputed from those; the
// scaling table keeps each shape's fastest call. On this shared machine a busy spell costs a whole
// run of one implementation; keeping each one's best across runs treats every implementation alike.
// `runs` in OUT lists the merged runs' dates and load averages.
import { readFileSync, writeFileSync } from 'node:fs';
import { WORKLOADS } from './common.mjs';
import { targets, bounds } from './targets.mjs';

const [out, ...files] = process.argv.slice(2);
if (!out || files.length < 2) throw new Error(`Expected OUT.json and at least two results files, got ${process.argv.slice(2).join(' ') || 'nothing'}`);
const runs = files.map((f) => JSON.parse(readFileSync(f, 'utf8')));
if (runs.some((r) => r.quick)) throw new Error('Expected full runs, got a --quick one (its timing is shorter and leaves implementations out)');

const best = (hib, a, b) => (a === undefined ? b : b === undefined ? a : hib ? Math.max(a, b) : Math.min(a, b));
const workloads = {};
for (const r of runs) {
  for (const [id, w] of Object.entries(r.workloads)) {
    const W = (workloads[id] ??= { unit: w.unit, higherIsBetter: w.higherIsBetter, results: {}, ratioToRnnWasm: {}, maxAbsDiff: {}, notes: {} });
    for (const [impl, v] of Object.entries(w.results ?? {})) W.results[impl] = best(w.higherIsBetter, W.results[impl], v);
    for (const [impl, d] of Object.entries(w.maxAbsDiff ?? {})) {
      // null marks an output that cannot be compared (brain.js); it stays null
      W.maxAbsDiff[impl] = d === null || W.maxAbsDiff[impl] === null ? null : Math.max(W.maxAbsDiff[impl] ?? 0, d);
    }
    for (const [key, byImpl] of Object.entries(w.extra ?? {})) {
      const E = ((W.extra ??= {})[key] ??= {});
      for (const [impl, v] of Object.entries(byImpl)) E[impl] = best(true, E[impl], v); // GFLOP/s: higher is better
    }
    Object.assign(W.notes, w.notes ?? {});
    if (w.interleaved2w && !(W.interleaved2w?.speedup >= w.interleaved2w.speedup)) W.interleaved2w = w.interleaved2w;
  }
}
for (const W of Object.values(workloads)) {
  const ours = W.results['rnn-wasm'];
  if (ours) for (const [impl, v] of Object.entries(W.results)) W.ratioToRnnWasm[impl] = v / ours;
}
const shapes = new Map();
for (const r of runs) {
  for (const s of r.scaling ?? []) {
    const key = `${s.axis} ${s.T} ${s.B} ${s.H}`;
    if (!shapes.has(key) || s.ms < shapes.get(key).ms) shapes.set(key, s);
  }
}
const order = (runs.find((r) => r.scaling?.length)?.scaling ?? []).map((s) => `${s.axis} ${s.T} ${s.B} ${s.H}`);
const merged = {
  date: runs[runs.length - 1].date,
  machine: runs[runs.length - 1].machine,
  versions: runs[runs.length - 1].versions,
  quick: false,
  runs: runs.map((r) => ({ date: r.date, loadAverage: r.loadAverage })),
  workloads,
  scaling: order.map((k) => shapes.get(k)),
  targets: targets(workloads),
  bounds: bounds(workloads),
  failures: runs.flatMap((r) => r.failures ?? []),
};
for (const id of Object.keys(workloads)) if (!WORKLOADS[id]) throw new Error(`Expected workload ids among ${Object.keys(WORKLOADS).join(' ')}, got ${id}`);
writeFileSync(out, JSON.stringify(merged, null, 2) + '\n');
console.log(`merged ${runs.length} runs (${runs.map((r) => r.date).join(', ')}) into ${out}`);
