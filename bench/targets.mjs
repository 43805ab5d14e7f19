// The targets and the bounds the run's own figures put on two of them, evaluated on the
// workloads of one run (bench/run.mjs) or of several merged (bench/merge.mjs).
import { WORKLOADS } from './common.mjs';

const fmt = (v) => (v >= 1000 ? Math.round(v).toLocaleString('en-US') : v >= 100 ? v.toFixed(0) : v.toFixed(1));

// The targets, evaluated on one run's figures (speed ratios: >1 means `ours` is faster).
export function targets(wl) {
  const speedup = (id, peer, ours = 'rnn-wasm') => {
    const a = wl[id]?.results?.[ours], b = wl[id]?.results?.[peer];
    if (a === undefined || b === undefined) return undefined;
    return WORKLOADS[id].higherIsBetter ? a / b : b / a;
  };
  const t = [];
  const add = (what, value, need, how) => t.push({ what, value, need, met: value === undefined ? null : value >= need, how });
  add('W1a time ≤ 0.85× ort-web-1t', speedup('W1a', 'ort-web-1t'), 1 / 0.85, 'speedup vs ort-web-1t');
  add('W1a time ≤ 1.5× ort-node-1t', speedup('W1a', 'ort-node-1t'), 1 / 1.5, 'speedup vs ort-node-1t');
  add('W1b time ≤ 0.5× ort-web-1t', speedup('W1b', 'ort-web-1t'), 2, 'speedup vs ort-web-1t');
  for (const id of ['W2', 'W3a', 'W3b']) add(`${id} ≥ 1.3× ort-web-1t (1 thread each)`, speedup(id, 'ort-web-1t'), 1.3, 'speedup vs ort-web-1t');
  for (const id of ['W2', 'W3b']) add(`${id} ≥ 1.3× ort-web-2t (2 threads each)`, speedup(id, 'ort-web-2t', 'rnn-wasm-2t'), 1.3, 'rnn-wasm-2t speedup vs ort-web-2t');
  add('W4 ≥ 10× tfjs-wasm', speedup('W4', 'tfjs-wasm'), 10, 'speedup vs tfjs-wasm');
  add('W4 ≥ 100× brain.js chars/s', speedup('W4', 'brainjs'), 100, 'rnn-wasm seq-steps/s ÷ brain.js chars/s');
  // not the line: the same bar with both cores (brain.js has no way to use a second one)
  add('W4 ≥ 100× brain.js chars/s, rnn-wasm on 2 workers (addition)', speedup('W4', 'brainjs', 'rnn-wasm-2t'), 100, 'rnn-wasm-2t seq-steps/s ÷ brain.js chars/s');
  add('W5 ≥ 1.2× ort-web-1t', speedup('W5', 'ort-web-1t'), 1.2, 'speedup vs ort-web-1t');
  for (const id of ['W2', 'W4-b64']) add(`${id}: 2 workers ≥ 1.7× one`, speedup(id, 'rnn-wasm-1w', 'rnn-wasm-2t'), 1.7, 'rnn-wasm-2t speedup vs rnn-wasm-1w (vs the plain one-thread call: see the speedup table)');
  const kg = wl['K-gemm']?.results;
  add('K-gemm ≥ 80 % of ceiling', kg && kg.ceiling ? kg['rnn-wasm'] / kg.ceiling : undefined, 0.8, 'fraction of ceiling');
  return t;
}

// Bounds the run's own figures put on two targets (printed under the targets, kept in the JSON):
// W1a's recurrent matrix cannot come in faster than K-stream's ceiling, and W4 cannot train faster
// than its FLOPs at the fastest GEMM rate of the run (both on one thread).
export function bounds(wl) {
  const out = [];
  const stream = wl['K-stream']?.results?.ceiling, node = wl.W1a?.results?.['ort-node-1t'];
  if (stream && node) {
    const w = WORKLOADS.W1a, bytes = 4 * w.H * w.H * 4;
    const floor = bytes / stream / 1e3, bar = 1.5 * node;
    out.push(`W1a: reading W_hh (${bytes / 2 ** 20} MiB) once per step at the K-stream ceiling (${stream.toFixed(1)} GB/s) takes ` +
      `${floor.toFixed(1)} µs/step before any arithmetic; 1.5× ort-node-1t is ${bar.toFixed(1)} µs/step, which leaves ` +
      `${(bar - floor).toFixed(1)} µs/step for the input projection, the gates and the matvec's own madds`);
  }
  const kg = wl['K-gemm']?.results, brain = wl.W4?.results?.brainjs;
  if (kg && brain) {
    const w = WORKLOADS.W4, G = 4 * w.H;
    // forward: input projection, recurrent product, output layer; backward: dh, dW_hh, dW_ih, output
    // layer dW and dH (no dX: the input needs no gradient)
    const flop = 2 * G * w.V + 2 * G * w.H + 2 * w.H * w.V + 2 * G * w.H * 2 + 2 * G * w.V + 2 * w.H * w.V * 2;
    const rate = Math.max(kg['rnn-wasm'] ?? 0, kg.ceiling ?? 0);
    out.push(`W4: a training sequence-step is ${(flop / 1e6).toFixed(2)} MFLOP; at this run's fastest GEMM rate (${rate.toFixed(1)} GFLOP/s, K-gemm) ` +
      `on every FLOP one thread trains at most ${fmt(rate * 1e9 / flop)} seq-steps/s; 100× brain.js is ${fmt(100 * brain)}`);
  }
  return out;
}
