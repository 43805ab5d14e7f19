// The issue's targets and the bounds the run's own figures put on two of them, evaluated on the
// workloads and interleaved pairs of one run (bench/run.mjs).
import { WORKLOADS } from './common.mjs';

const fmt = (v) => (v >= 1000 ? Math.round(v).toLocaleString('en-US') : v >= 100 ? v.toFixed(0) : v.toFixed(1));

// The targets of issue 16 (issue 4's, restated where one SIMD128 thread cannot reach them), on
// one run's figures. Speed ratios: > 1 means `ours` is faster. The close comparisons are judged on
// the median of their interleaved rounds (bench/pairs.mjs); the rest on medians over process rounds.
// Each target: { what, value, need, met (null: not measured), how, spread? [min, max] }.
export function targets(wl, pairs = {}) {
  const speedup = (id, peer, ours = 'rnn-wasm') => {
    const a = wl[id]?.results?.[ours], b = wl[id]?.results?.[peer];
    if (a === undefined || b === undefined) return undefined;
    return WORKLOADS[id].higherIsBetter ? a / b : b / a;
  };
  const t = [];
  const add = (what, value, need, how, spread) => t.push({ what, value, need, met: value === undefined ? null : value >= need, how, ...(spread ? { spread } : {}) });
  // f32, one thread each, rnn-wasm and ort-web alternated in one process
  for (const [id, need] of [['W1a', 1.18], ['W1b', 2], ['W2', 1.3], ['W3a', 1.3], ['W3a-cho', 1.3], ['W3b', 1.3], ['W5', 1.2]]) {
    const p = pairs[`${id} rnn-wasm/ort-web-1t`];
    add(`${id} ≥ ${need}× ort-web-1t (1 thread each)`, p?.speedup.median, need, p ? `median of ${p.rounds} interleaved rounds` : 'interleaved rounds', p && [p.speedup.min, p.speedup.max]);
  }
  // int8 weights (one thread): at least native ONNX Runtime's f32 speed on W1a and W3a; W5 ≥ 2× ort-web
  for (const [id, peer, need] of [['W1a', 'ort-node-1t', 1], ['W3a', 'ort-node-1t', 1], ['W3a-cho', 'ort-node-1t', 1], ['W5', 'ort-web-1t', 2]]) {
    const p = pairs[`${id} rnn-wasm-int8/${peer}`];
    add(`${id} int8 ≥ ${need}× ${peer} (f32)`, p?.speedup.median, need, p ? `median of ${p.rounds} interleaved rounds` : 'interleaved rounds', p && [p.speedup.min, p.speedup.max]);
  }
  // two threads each: separate processes
  for (const id of ['W2', 'W3b']) add(`${id} ≥ 1.3× ort-web-2t (2 threads each)`, speedup(id, 'ort-web-2t', 'rnn-wasm-2t'), 1.3, 'rnn-wasm-2t vs ort-web-2t, medians over process rounds');
  // 2 workers against 1: each pool's median time, then the ratio
  for (const id of ['W2', 'W4-b64']) {
    const p = pairs[`${id} rnn-wasm-2t/rnn-wasm-1w`];
    add(`${id}: 2 workers ≥ 1.7× one`, p?.ratioOfMedians, 1.7, `1-worker median time ÷ 2-worker median time${p ? `, ${p.rounds} interleaved rounds` : ''}`, p && [p.speedup.min, p.speedup.max]);
  }
  add('W4 ≥ 10× tfjs-wasm', speedup('W4', 'tfjs-wasm'), 10, 'medians over process rounds');
  add('W4 ≥ 100× brain.js chars/s, rnn-wasm on 2 workers', speedup('W4', 'brainjs', 'rnn-wasm-2t'), 100, 'rnn-wasm-2t seq-steps/s ÷ brain.js chars/s, medians');
  add('W4 ≥ 50× brain.js chars/s on one thread', speedup('W4', 'brainjs'), 50, 'rnn-wasm seq-steps/s ÷ brain.js chars/s, medians');
  // native ONNX Runtime at batch 1: the recurrent matvec against the bare load stream of the same run
  const ks = wl['K-stream']?.fraction;
  add('K-stream: matvec streams W_hh at ≥ 90 % of the bare load stream', ks?.median, 0.9, 'median per-round fraction', ks && [ks.min, ks.max]);
  const kg = wl['K-gemm']?.fraction;
  add('K-gemm ≥ 80 % of the ceiling (best of several microkernels)', kg?.median, 0.8, 'median per-round fraction', kg && [kg.min, kg.max]);
  return t;
}

// Bounds the run's own figures put on three targets (printed under the targets, kept in the JSON):
// W1a's recurrent matrix cannot come in faster than K-stream's ceiling nor its input projection run
// faster than the fastest GEMM rate of the run; K-stream's product against what other matvec kernels
// reach in the same rounds; and W4 needs its FLOPs at a rate to compare with that one (one thread).
export function bounds(wl) {
  const out = [];
  const W4 = WORKLOADS.W4, G4 = 4 * W4.H;
  // W4's FLOPs per training sequence-step. Forward: input projection, recurrent product, output
  // layer; backward: dh, dW_hh, dW_ih, the output layer's dW and dH (no dX: the input needs no gradient)
  const w4flop = 2 * G4 * W4.V + 2 * G4 * W4.H + 2 * W4.H * W4.V + 2 * G4 * W4.H * 2 + 2 * G4 * W4.V + 2 * W4.H * W4.V * 2;
  // the fastest one-thread GEMM-bound rate of anything in this run
  const ours4 = wl.W4?.results?.['rnn-wasm'];
  const [bestName, best] = [
    ['K-gemm rnn-wasm', wl['K-gemm']?.results?.['rnn-wasm']], ['K-gemm ceiling', wl['K-gemm']?.results?.ceiling],
    ['W2', wl.W2?.extra?.['GFLOP/s']?.['rnn-wasm']], ['W3b', wl.W3b?.extra?.['GFLOP/s']?.['rnn-wasm']],
    ['W4', ours4 ? (ours4 * w4flop) / 1e9 : undefined],
  ].filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1])[0] ?? [];
  const stream = wl['K-stream']?.results?.ceiling, node = wl.W1a?.results?.['ort-node-1t'];
  if (stream && node && best) {
    const w = WORKLOADS.W1a, bytes = 4 * w.H * w.H * 4, inFlop = 2 * 4 * w.H * w.I;
    const floor = bytes / stream / 1e3, proj = inFlop / best / 1e3, bar = 1.5 * node;
    out.push(`W1a: per step, reading W_hh (${bytes / 2 ** 20} MiB) at the K-stream ceiling (${stream.toFixed(1)} GB/s) takes ${floor.toFixed(1)} µs ` +
      `and the input projection (${(inFlop / 1e3).toFixed(0)} kFLOP) at the fastest one-thread rate of the run (${best.toFixed(1)} GFLOP/s, ${bestName}) ${proj.toFixed(1)} µs; ` +
      `1.5× ort-node-1t (issue 4's bar; issue 16 judges native f32 by K-stream instead) is ${bar.toFixed(1)} µs/step, which leaves ${(bar - floor - proj).toFixed(1)} µs for the gates, the state update and the matvec's madds`);
  }
  const ks = wl['K-stream'];
  if (ks?.fraction && ks.bestOtherMatvec) {
    // a product reloads x beside W (one 16-byte x load per 6 W loads in a 6-row tile) and multiplies;
    // stream_sum spends every load on W: what other product kernels reach is the bound we can show
    out.push(`K-stream: the library's matvec reaches ${ks.fraction.median.toFixed(2)} of the bare load stream (median), ` +
      `the best of the ceiling's own matvec microkernels (16-row broadcast on a packed copy, 8-row dot in place) ${ks.bestOtherMatvec.median.toFixed(2)} in the same rounds`);
  }
  const brain = wl.W4?.results?.brainjs;
  if (brain && best) {
    const need = (100 * brain * w4flop) / 1e9;
    out.push(`W4: a training sequence-step is ${(w4flop / 1e6).toFixed(2)} MFLOP, so 100× brain.js (${fmt(100 * brain)} seq-steps/s) ` +
      `needs ${need.toFixed(1)} GFLOP/s sustained on one thread; the fastest one-thread rate of the run is ${best.toFixed(1)} GFLOP/s (${bestName})`);
  }
  return out;
}
