// The close comparisons, timed in ONE process and alternated over several rounds, so a busy spell on
// a shared machine hits both sides: rnn-wasm against ONNX Runtime Web at one thread (both run on
// this Node thread), rnn-wasm with int8 weights against native ONNX Runtime at one thread, and a WorkerPool of 2 against one of 1 (each pool's own threads, alternately).
// Per round each side's time is the median benchmark.js sample of about `minTime` seconds of calls;
// the sides go A,B in even rounds and B,A in odd ones. Reported per pair:
//   figures   { ours: [...], peer: [...] }  one workload figure per round (WORKLOADS[id].unit)
//   speedup   stats of the per-round speedups of `ours` over `peer` (> 1: ours faster): median,
//             quartiles, min, max
//   ratioOfMedians   peer's median time ÷ ours' median time (the 2-worker target uses this one)
//   best      { ours, peer }: each side's fastest round figure (shown beside the medians, never alone)
//   maxAbsDiff { ours, peer }: each output against the reference, checked before any timing
import { WORKLOADS, figure, measure, stats } from './common.mjs';
import { checkOutput } from './ours.mjs';

// rnn-wasm vs ort-web-1t on every forward workload; 2 workers vs 1 on the batched ones
export const PAIRS = [
  ...['W1a', 'W1b', 'W2', 'W3a', 'W3a-cho', 'W3b', 'W5'].map((id) => ({ id, ours: 'rnn-wasm', peer: 'ort-web-1t' })),
  // int8 weights against native ONNX Runtime (f32, one thread) and, on W5, ONNX Runtime Web
  ...['W1a', 'W3a', 'W3a-cho', 'W5'].map((id) => ({ id, ours: 'rnn-wasm-int8', peer: 'ort-node-1t' })),
  { id: 'W5', ours: 'rnn-wasm-int8', peer: 'ort-web-1t' },
  ...['W1a', 'W5'].map((id) => ({ id, ours: 'rnn-wasm-int8', peer: 'ort-node-1t-int8' })),
  ...['W2', 'W4-b64'].map((id) => ({ id, ours: 'rnn-wasm-2t', peer: 'rnn-wasm-1w' })),
];

/** Key of a pair in the run file: `W1a rnn-wasm/ort-web-1t`. */
export const pairKey = (p) => `${p.id} ${p.ours}/${p.peer}`;

// Seconds per call of a job in one round: the median benchmark.js sample.
async function time(job, quick) {
  const m = await measure(job.fn, { quick, async: job.async, minTime: quick ? 0.15 : 0.5 });
  return m.median;
}

/**
 * Runs the pairs whose workload is in `only` and whose two implementations are in `impls`.
 * runner(impl) returns an implementation's runner (bench/run.mjs). Returns { [pairKey]: result }
 * and writes one progress line per pair to stderr; a failing pair is reported in errors.
 */
export async function runPairs({ only, impls, rounds, quick }, runner) {
  const out = {}, errors = {};
  const runners = new Map();
  const get = async (impl) => {
    if (!runners.has(impl)) runners.set(impl, await runner(impl));
    return runners.get(impl);
  };
  for (const p of PAIRS) {
    if (!only.includes(p.id) || !impls.includes(p.ours) || !impls.includes(p.peer)) continue;
    const mode = WORKLOADS[p.id].mode;
    const jobs = [];
    try {
      const [ra, rb] = [await get(p.ours), await get(p.peer)];
      if (ra.unavailable || rb.unavailable) throw new Error(ra.unavailable ?? rb.unavailable);
      jobs.push(await ra[mode](p.id), await rb[mode](p.id));
      const maxAbsDiff = { ours: await checkOutput(p.id, jobs[0]), peer: await checkOutput(p.id, jobs[1]) };
      const secs = [[], []];
      for (let r = 0; r < rounds; r++) {
        for (const side of r % 2 ? [1, 0] : [0, 1]) secs[side].push(await time(jobs[side], quick));
      }
      const fig = secs.map((s) => s.map((t) => figure(p.id, t)));
      const speedup = stats(secs[0].map((t, r) => secs[1][r] / t));
      const best = (f) => (WORKLOADS[p.id].higherIsBetter ? Math.max(...f) : Math.min(...f));
      out[pairKey(p)] = {
        ...p, rounds, unit: WORKLOADS[p.id].unit,
        figures: { ours: fig[0], peer: fig[1] },
        median: { ours: stats(fig[0]).median, peer: stats(fig[1]).median },
        speedup,
        ratioOfMedians: stats(secs[1]).median / stats(secs[0]).median,
        best: { ours: best(fig[0]), peer: best(fig[1]) },
        maxAbsDiff,
      };
      process.stderr.write(`  ${pairKey(p).padEnd(28)} speedup median ${speedup.median.toFixed(2)}× (min–max ${speedup.min.toFixed(2)}–${speedup.max.toFixed(2)}, ${rounds} rounds)\n`);
    } catch (e) {
      errors[pairKey(p)] = String(e?.stack ?? e);
      process.stderr.write(`  ${pairKey(p).padEnd(28)} ERROR ${String(e).split('\n')[0]}\n`);
    } finally {
      for (const j of jobs) await j?.dispose?.();
    }
  }
  return { pairs: out, errors };
}
