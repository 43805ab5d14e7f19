// Markdown tables for bench/RESULTS.md from a results file written by `npm run bench -- --json F`:
//   node bench/report.mjs [bench/results.json]      (one run, or runs merged by bench/merge.mjs)
// Prints the figures, rnn-wasm's speedups, the pre-timing check diffs, the targets and the scaling
// table; the prose around them in RESULTS.md is written by hand.
import { readFileSync } from 'node:fs';

const j = JSON.parse(readFileSync(process.argv[2] ?? new URL('./results.json', import.meta.url), 'utf8'));
const IMPLS = ['rnn-wasm', 'rnn-wasm-1w', 'rnn-wasm-2t', 'ort-node-1t', 'ort-web-1t', 'ort-web-2t', 'tfjs-wasm', 'tfjs-cpu', 'brainjs', 'ceiling'];
const W = Object.entries(j.workloads);

const fmt = (v) => (v === undefined ? '—' : v >= 1000 ? Math.round(v).toLocaleString('en-US') : v >= 100 ? v.toFixed(0) : v.toFixed(1));
const row = (cells) => `| ${cells.join(' | ')} |`;
function table(head, rows) {
  return [row(head), row(head.map((h, i) => (i === 0 || h === 'unit' ? '---' : '---:'))), ...rows.map(row)].join('\n');
}
const used = (key) => IMPLS.filter((i) => W.some(([, w]) => w[key]?.[i] !== undefined));

const figs = used('results');
if (j.runs) console.log(`Best of ${j.runs.length} full runs (node bench/merge.mjs): ${j.runs.map((r) => `${r.date} (load ${r.loadAverage?.join(' → ') ?? '?'})`).join(', ')}\n`);
else console.log(`Run: ${j.date}${j.quick ? ' (--quick)' : ''}; load average at start / end: ${j.loadAverage?.join(' / ') ?? '?'}\n`);
console.log(table(['workload', 'unit', ...figs], W.map(([id, w]) => [id, w.unit, ...figs.map((i) => fmt(w.results[i]))])));

const rat = used('ratioToRnnWasm').filter((i) => i !== 'rnn-wasm');
console.log('\nrnn-wasm\'s speedup over each implementation (> 1: rnn-wasm is faster; K: % of the ceiling):\n');
// ratioToRnnWasm is the implementation's figure over ours: a speedup for times, its inverse for rates
console.log(table(['workload', ...rat], W.map(([id, w]) => [id, ...rat.map((i) => {
  const r = w.ratioToRnnWasm?.[i];
  if (r === undefined) return '—';
  return id.startsWith('K-') ? `${Math.round(100 / r)} %` : `${(w.higherIsBetter ? 1 / r : r).toFixed(2)}×`;
})])));

const diffs = used('maxAbsDiff');
console.log('\nMax abs difference of each output from rnn-wasm\'s, checked before timing:\n');
console.log(table(['workload', ...diffs], W.filter(([, w]) => w.maxAbsDiff).map(([id, w]) => [id, ...diffs.map((i) => {
  const d = w.maxAbsDiff[i];
  return d === undefined ? '—' : d === null ? 'unchecked' : d.toExponential(1);
})])));

console.log('\n## Targets\n');
for (const t of j.targets ?? []) console.log(`- ${t.met ? 'MET ' : 'MISS'} ${t.what}: ${t.value.toFixed(2)} (${t.how}; need ≥ ${t.need.toFixed(2)})`);

if (j.bounds?.length) {
  console.log('\nBounds from this run\'s own figures:\n');
  for (const b of j.bounds) console.log(`- ${b}`);
}

if (j.scaling?.length) {
  const base = j.scaling.find((s) => s.base);
  const work = (s) => s.T * s.B * s.H * (s.I + s.H);
  const norm = (s) => s.ms / work(s) / (base.ms / work(base));
  console.log('\n| axis | T | B | H | ms / call | time ÷ T·B·H(I+H), base = 1 | GFLOP/s |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const s of j.scaling) console.log(row([s.axis, s.T, s.B, s.H, s.ms.toFixed(3), norm(s).toFixed(2), s.gflops.toFixed(1)]));
}
