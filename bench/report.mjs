// Markdown tables for bench/RESULTS.md from run files written by bench/run.mjs:
//   node bench/report.mjs                     the newest file in bench/runs/
//   node bench/report.mjs RUN.json [...]      each run's tables, then (several runs) the interleaved
//                                             comparisons and targets across runs: the median of
//                                             the runs' medians and their min–max
// render(run) is also what bench/run.mjs prints at the end of a run. Every figure is a median (over
// interleaved rounds for the close comparisons, over process rounds for the overview) shown with
// its spread; best figures appear only beside a median. The prose around the tables is by hand.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const IMPLS = ['rnn-wasm', 'rnn-wasm-int8', 'rnn-wasm-1w', 'rnn-wasm-2t', 'ort-node-1t', 'ort-node-1t-int8', 'ort-web-1t', 'ort-web-2t', 'tfjs-wasm', 'tfjs-cpu', 'brainjs', 'ceiling'];

export const fmt = (v) => {
  if (v === undefined || v === null || Number.isNaN(v)) return '—';
  if (v >= 1000) return Math.round(v).toLocaleString('en-US');
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
};
const x2 = (v) => `${v.toFixed(2)}×`;
const row = (cells) => `| ${cells.join(' | ')} |`;
function table(head, rows) {
  return [row(head), row(head.map((h, i) => (i === 0 || h === 'unit' ? '---' : '---:'))), ...rows.map(row)].join('\n');
}

/** The tables of one run as Markdown (one string). */
export function render(run) {
  const out = [];
  const W = Object.entries(run.workloads);
  const r = run.rounds;
  out.push(`Run ${run.date}${run.quick ? ' (--quick)' : ''}, ${run.seconds ?? '?'} s; 1-min load average at start → end ${run.loadAverage?.join(' → ') ?? '?'}`);
  out.push(`Machine: ${run.machine}`);
  out.push(`Rounds: ${r.pairs} interleaved rounds per close comparison and K workload; ${r.process} process round(s) per implementation, ${r.slow} for ${r.slowImpls.join(' and ')}\n`);

  const pairs = Object.values(run.pairs ?? {});
  if (pairs.length) {
    out.push('Close comparisons, both sides alternated in one process (speedup > 1: the first is faster; per-round speedups):\n');
    out.push(table(['comparison', 'unit', 'first, median', 'second, median', 'speedup median', 'IQR', 'min–max', 'rounds', 'best first / second'],
      pairs.map((p) => [`${p.id}: ${p.ours} vs ${p.peer}`, p.unit, fmt(p.median.ours), fmt(p.median.peer), x2(p.speedup.median),
        `${p.speedup.q1.toFixed(2)}–${p.speedup.q3.toFixed(2)}`, `${p.speedup.min.toFixed(2)}–${p.speedup.max.toFixed(2)}`, p.rounds,
        `${fmt(p.best.ours)} / ${fmt(p.best.peer)}`])));
    const workers = pairs.filter((p) => p.peer === 'rnn-wasm-1w');
    if (workers.length) out.push(`\n2 workers ÷ 1 from each pool's median time: ${workers.map((p) => `${p.id} ${x2(p.ratioOfMedians)}`).join(', ')}`);
  }

  const K = W.filter(([id, w]) => id.startsWith('K-') && w.fraction);
  if (K.length) {
    out.push('\nK workloads (rnn-wasm against the best ceiling variant of each round, alternated):\n');
    out.push(table(['workload', 'unit', 'rnn-wasm median', 'ceiling median', '% of ceiling, median', 'min–max', 'best rnn-wasm / ceiling'],
      K.map(([id, w]) => [id, w.unit, fmt(w.results['rnn-wasm']), fmt(w.results.ceiling), `${Math.round(w.fraction.median * 100)} %`,
        `${Math.round(w.fraction.min * 100)}–${Math.round(w.fraction.max * 100)} %`, `${fmt(w.best['rnn-wasm'])} / ${fmt(w.best.ceiling)}`])));
  }

  const overview = W.filter(([id]) => !id.startsWith('K-'));
  const used = (key) => IMPLS.filter((i) => overview.some(([, w]) => w[key]?.[i] !== undefined));
  const figs = used('results');
  const cell = (w, i) => {
    const v = w.results[i], s = w.spread?.[i];
    if (v === undefined) return '—';
    return s && s.n > 1 ? `${fmt(v)} (${fmt(s.min)}–${fmt(s.max)})` : fmt(v);
  };
  out.push('\nEvery implementation in its own process: median over process rounds (min–max):\n');
  out.push(table(['workload', 'unit', ...figs], overview.map(([id, w]) => [id, w.unit, ...figs.map((i) => cell(w, i))])));
  const peers = figs.filter((i) => i !== 'rnn-wasm');
  out.push('\nrnn-wasm\'s speedup from those medians (> 1: rnn-wasm is faster):\n');
  out.push(table(['workload', ...peers], overview.map(([id, w]) => [id, ...peers.map((i) => {
    const ratio = w.ratioToRnnWasm?.[i];
    return ratio === undefined ? '—' : x2(w.higherIsBetter ? 1 / ratio : ratio);
  })])));
  const diffs = used('maxAbsDiff');
  out.push('\nMax abs difference of each output from rnn-wasm\'s, checked before timing:\n');
  out.push(table(['workload', ...diffs], overview.map(([id, w]) => [id, ...diffs.map((i) => {
    const d = w.maxAbsDiff?.[i];
    return d === undefined ? '—' : d === null ? 'unchecked' : d.toExponential(1);
  })])));

  const notes = [...(run.unavailable ?? []), ...W.flatMap(([id, w]) => Object.entries(w.notes ?? {}).map(([impl, n]) => `${id} ${impl}: ${n}`))];
  if (notes.length) out.push('\nNotes:\n', ...notes.map((n) => `- ${n}`));
  out.push('\n## Targets\n');
  for (const t of run.targets ?? []) {
    const v = t.value === undefined || t.value === null ? 'not measured' : t.value.toFixed(2);
    const sp = t.spread ? `, min–max ${t.spread[0].toFixed(2)}–${t.spread[1].toFixed(2)}` : '';
    out.push(`- ${t.met === null ? 'n/a ' : t.met ? 'MET ' : 'MISS'} ${t.what}: ${v} (${t.how}${sp}; need ≥ ${t.need.toFixed(2)})`);
  }
  if (run.bounds?.length) out.push('\nBounds from this run\'s own figures:\n', ...run.bounds.map((b) => `- ${b}`));
  if (run.scaling?.length) {
    const base = run.scaling.find((s) => s.base);
    const work = (s) => s.T * s.B * s.H * (s.I + s.H);
    out.push(`\nScaling of rnn-wasm's LSTM forward (I ${base.I}; base T ${base.T}, B ${base.B}, H ${base.H}; one axis varied):\n`);
    out.push(table(['axis', 'T', 'B', 'H', 'ms / call', 'time ÷ T·B·H(I+H), base = 1', 'GFLOP/s'], run.scaling.map((s) =>
      [s.axis, s.T, s.B, s.H, s.ms.toFixed(3), ((s.ms / work(s)) / (base.ms / work(base))).toFixed(2), s.gflops.toFixed(1)])));
  }
  if (run.failures?.length) out.push('\nFAILURES', ...run.failures.map((f) => `- ${f.split('\n').slice(0, 3).join(' / ')}`));
  return out.join('\n');
}

/** Interleaved comparisons and targets across several runs: median of the run medians, min–max. */
export function renderAcross(runs) {
  const med = (v) => { const s = [...v].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
  const out = [`Across ${runs.length} runs (${runs.map((r) => r.date).join(', ')}): median of the runs' medians (min–max of the runs' medians)\n`];
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r.pairs ?? {})))];
  out.push(table(['comparison', 'speedup', 'runs'], keys.map((k) => {
    const v = runs.map((r) => r.pairs?.[k]?.speedup.median).filter((x) => x !== undefined);
    return [k, `${x2(med(v))} (${v.length > 1 ? `${Math.min(...v).toFixed(2)}–${Math.max(...v).toFixed(2)}` : 'one run'})`, v.length];
  })));
  out.push('');
  for (const what of [...new Set(runs.flatMap((r) => (r.targets ?? []).map((t) => t.what)))]) {
    const ts = runs.map((r) => r.targets?.find((t) => t.what === what)).filter((t) => t && typeof t.value === 'number');
    if (!ts.length) { out.push(`- n/a  ${what}: not measured`); continue; }
    const v = med(ts.map((t) => t.value));
    out.push(`- ${v >= ts[0].need ? 'MET ' : 'MISS'} ${what}: ${v.toFixed(2)} (median of ${ts.length} runs, ${Math.min(...ts.map((t) => t.value)).toFixed(2)}–${Math.max(...ts.map((t) => t.value)).toFixed(2)}; need ≥ ${ts[0].need.toFixed(2)})`);
  }
  return out.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  let files = process.argv.slice(2);
  if (!files.length) {
    const dir = fileURLToPath(new URL('./runs/', import.meta.url));
    const all = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
    if (!all.length) throw new Error(`Expected run files in ${dir}, got none (run npm run bench first)`);
    files = [join(dir, all[all.length - 1])];
  }
  const runs = files.map((f) => JSON.parse(readFileSync(f, 'utf8')));
  for (const r of runs) {
    if (!r.rounds || !r.pairs) throw new Error(`Expected a run file of bench/run.mjs (with rounds and pairs), got ${files[runs.indexOf(r)]}`);
    console.log(render(r) + '\n');
  }
  if (runs.length > 1) console.log(renderAcross(runs));
}
