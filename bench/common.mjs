// Shared by every implementation's runner: the workload table, seeded data, the weights (taken
// from this library's seeded initialiser, so every implementation computes with the same numbers),
// the reference outputs to check against, and timing through benchmark.js.
import Benchmark from 'benchmark';
import os from 'node:os';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// ---- workloads --------------------------------------------------------------------------------
// cell, I input, H hidden, B batch, T steps, V vocabulary, L layers; mode picks the runner entry
// (seq: one forward call, stream: one call per step, train: one trainStep, sample: char-LM
// generation); `impls` limits a workload to some implementations, `quickSkip` drops some in --quick.
export const WORKLOADS = {
  W1a: { cell: 'lstm', I: 64, H: 256, B: 1, T: 128, mode: 'seq', unit: 'us/step', higherIsBetter: false },
  W1b: { cell: 'lstm', I: 64, H: 256, B: 1, T: 128, mode: 'stream', unit: 'us/step', higherIsBetter: false },
  // tfjs-cpu needs 8–20 s a call at W2, W3 and W4 (its GRU slices the kernels every step): left out of --quick
  W2: { cell: 'lstm', I: 128, H: 256, B: 64, T: 64, mode: 'seq', unit: 'seq-steps/s', higherIsBetter: true, quickSkip: ['tfjs-cpu'] },
  W3a: { cell: 'gru', I: 64, H: 256, B: 1, T: 128, mode: 'seq', unit: 'us/step', higherIsBetter: false, quickSkip: ['tfjs-cpu'] },
  // W3a in the Cho form (reset before the recurrent product) on both sides: ONNX linear_before_reset = 0
  'W3a-cho': { cell: 'gru', resetAfter: false, I: 64, H: 256, B: 1, T: 128, mode: 'seq', unit: 'us/step', higherIsBetter: false, impls: ['rnn-wasm', 'rnn-wasm-int8', 'ort-node-1t', 'ort-web-1t', 'ort-web-2t'] },
  W3b: { cell: 'gru', I: 128, H: 256, B: 64, T: 64, mode: 'seq', unit: 'seq-steps/s', higherIsBetter: true, quickSkip: ['tfjs-cpu'] },
  W4: { V: 64, H: 256, B: 32, T: 64, mode: 'train', unit: 'seq-steps/s', higherIsBetter: true, quickSkip: ['tfjs-cpu'] },
  // the multi-core target's shape: W4 at batch 64, two workers against one
  'W4-b64': { V: 64, H: 256, B: 64, T: 64, mode: 'train', unit: 'seq-steps/s', higherIsBetter: true, impls: ['rnn-wasm', 'rnn-wasm-1w', 'rnn-wasm-2t'] },
  W5: { V: 65, H: 512, L: 2, steps: 200, mode: 'sample', unit: 'chars/s', higherIsBetter: true },
  'K-gemm': { unit: 'GFLOP/s', higherIsBetter: true },
  'K-matvec': { unit: 'GFLOP/s', higherIsBetter: true },
  'K-stream': { unit: 'GB/s', higherIsBetter: true },
};
const GATES = { lstm: 4, gru: 3 };

/** Figure of a workload from seconds per timed call (one call = the whole sequence / pass). */
/** A command-line count: a positive integer (named in the error), for the bench scripts' --rounds and the like. */
export function positiveCount(flag, v) {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`Expected ${flag} N with N a positive integer, got ${v}`);
  return n;
}

export function figure(id, seconds) {
  const w = WORKLOADS[id];
  if (w.mode === 'seq' || w.mode === 'stream') {
    return w.unit === 'us/step' ? (seconds / w.T) * 1e6 : (w.B * w.T) / seconds;
  }
  if (w.mode === 'train') return (w.B * w.T) / seconds;
  if (w.mode === 'sample') return w.steps / seconds;
  throw new Error(`no figure for ${id}`);
}

/** GFLOP/s of the recurrent forward workloads: 2·G·H·(I+H) per sequence-step. */
export function gflops(id, seconds) {
  const w = WORKLOADS[id];
  return (2 * GATES[w.cell] * w.H * (w.I + w.H) * w.B * w.T) / seconds / 1e9;
}

// ---- seeded data ------------------------------------------------------------------------------
/** xorshift32 floats in [-1, 1). */
export function randomF32(n, seed) {
  const a = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    a[i] = (s / 4294967296) * 2 - 1;
  }
  return a;
}
/** xorshift32 integers in [0, V). */
export function randomIds(n, V, seed) {
  const u = randomF32(n, seed);
  return Int32Array.from(u, (v) => Math.min(V - 1, Math.floor(((v + 1) / 2) * V)));
}
/** A seeded uniform [0, 1) generator (the sampler's random numbers, identical for every impl). */
export function uniform(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}
/** Samples an index from softmax(logits) with one uniform number u (done in JS for every impl). */
export function sampleSoftmax(logits, u) {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  let acc = 0;
  const target = u * sum;
  for (let i = 0; i < logits.length; i++) {
    acc += Math.exp(logits[i] - max);
    if (acc > target) return i;
  }
  return logits.length - 1;
}
/** One-hot rows: ids (n) → (n, V). */
export function oneHot(ids, V) {
  const x = new Float32Array(ids.length * V);
  for (let i = 0; i < ids.length; i++) x[i * V + ids[i]] = 1;
  return x;
}
/** (rows, cols) → (cols, rows). */
export function transpose(a, rows, cols) {
  const t = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
  return t;
}
/** (A, Bd, F) → (Bd, A, F): time-major ↔ batch-major. */
export function swap01(x, A, Bd, F) {
  const y = new Float32Array(x.length);
  for (let a = 0; a < A; a++) for (let b = 0; b < Bd; b++) y.set(x.subarray((a * Bd + b) * F, (a * Bd + b + 1) * F), (b * A + a) * F);
  return y;
}

export function maxAbsDiff(a, b) {
  if (a.length !== b.length) throw new Error(`Expected outputs of equal length, got ${a.length} and ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}
/**
 * The check's difference: max abs difference of two outputs; for lists of blocks (a loss and
 * gradients, whose scales differ by orders of magnitude), each block's max abs difference divided
 * by its largest reference magnitude, the worst block counting.
 */
export function outputDiff(a, ref) {
  if (!Array.isArray(ref)) return maxAbsDiff(a, ref);
  if (!Array.isArray(a) || a.length !== ref.length) throw new Error(`Expected ${ref.length} output blocks, got ${a?.length}`);
  return Math.max(...ref.map((r, i) => maxAbsDiff(a[i], r) / r.reduce((m, v) => Math.max(m, Math.abs(v)), 0)));
}
export const TOLERANCE = 1e-4;

// ---- inputs shared by every implementation ----------------------------------------------------
/** Input (T, B, I) of a forward workload. */
export const seqInput = (w) => randomF32(w.T * w.B * w.I, 101);
/** W4 batch: one-hot inputs (T, B, V) of ids and next-id targets (T, B). */
export function trainBatch(w) {
  const ids = randomIds((w.T + 1) * w.B, w.V, 202);
  const x = oneHot(ids.subarray(0, w.T * w.B), w.V);
  const y = ids.slice(w.B); // target of step t, row b = id at step t+1
  return { x, y };
}
/** W4's optimizer, the same for every implementation that trains with Adam. */
export const ADAM = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
/** W5 check sequence: the ids fed (teacher forcing) when comparing logits step by step. */
export const sampleCheckIds = (w) => randomIds(w.steps, w.V, 303);

// ---- timing -----------------------------------------------------------------------------------
// benchmark.js calls fn as-is (no decompilation: our closures reference outer variables).
Benchmark.support.decompilation = false;

/**
 * Seconds per call of fn (sync, or async returning a promise when opts.async). The first call
 * warms up (after the check, which has already run once). Calls slower than `slow` seconds
 * (tfjs-cpu on W2/W4…) are timed directly, since benchmark.js would spend minutes on them: that
 * first call alone in --quick, else the best of it and two more; everything else goes through
 * benchmark.js, whose fastest sample (each the mean of one timed cycle of many calls) is the
 * figure, as the best of the direct runs is: the machine is shared with other jobs, which only
 * ever add time, so the fastest cycle is the closest to the implementation's own speed.
 */
export async function measure(fn, opts = {}) {
  const quick = !!opts.quick;
  const t0 = performance.now();
  await fn();
  const once = (performance.now() - t0) / 1000;
  const slow = quick ? 0.3 : 1.5;
  if (once > slow) {
    const runs = quick ? 0 : 2;
    let best = once;
    const times = [once];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      await fn();
      times.push((performance.now() - t) / 1000);
      best = Math.min(best, times[times.length - 1]);
    }
    return { seconds: best, median: stats(times).median, rme: NaN, samples: runs + 1, via: 'direct' };
  }
  const maxTime = opts.minTime ?? (quick ? 0.6 : 3);
  const bench = opts.async
    ? new Benchmark({ defer: true, fn: (d) => fn().then(() => d.resolve()), maxTime, minSamples: 5, initCount: 1 })
    : new Benchmark({ fn, maxTime, minSamples: 5, initCount: 1 });
  await new Promise((resolve, reject) => {
    bench.on('complete', resolve);
    bench.on('error', (e) => reject(bench.error ?? e));
    bench.run({ async: !!opts.async });
  });
  if (bench.error) throw bench.error;
  return { seconds: Math.min(...bench.stats.sample), median: stats(bench.stats.sample).median, rme: bench.stats.rme, samples: bench.stats.sample.length, via: 'benchmark.js' };
}

/** The per-round ratios num[i] ÷ den[i] of two sides' figures: median, min and max (3 decimals) and each round's. */
export function roundRatios(num, den) {
  const r = num.map((v, i) => v / den[i]);
  const s = stats(r);
  return { median: +s.median.toFixed(3), min: +s.min.toFixed(3), max: +s.max.toFixed(3), perRound: r.map((v) => +v.toFixed(3)) };
}

/** Median, quartiles (linear interpolation), min and max of a list of numbers. */
export function stats(values) {
  const v = [...values].sort((a, b) => a - b);
  if (!v.length) throw new Error('Expected at least one value, got none');
  const q = (p) => {
    const i = p * (v.length - 1), lo = Math.floor(i), hi = Math.ceil(i);
    return v[lo] + (v[hi] - v[lo]) * (i - lo);
  };
  return { median: q(0.5), q1: q(0.25), q3: q(0.75), min: v[0], max: v[v.length - 1], n: v.length };
}

// ---- run files --------------------------------------------------------------------------------
/** CPU model, cores and cache from /proc/cpuinfo (os.cpus() elsewhere), memory, OS and Node. */
export function machine() {
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

/** bench/runs/<date>-<host>-<kind><n>.json with the next free n for that date, host and kind ('' for bench/run.mjs, 'fresh-' for bench/fresh.mjs). */
export function runFile(date, kind = '') {
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'runs');
  mkdirSync(dir, { recursive: true });
  const stem = `${date.slice(0, 10)}-${os.hostname().replace(/[^A-Za-z0-9_.-]/g, '_')}-${kind}`;
  const taken = readdirSync(dir).filter((f) => f.startsWith(stem)).map((f) => Number(f.slice(stem.length, -5))).filter(Number.isInteger);
  return join(dir, `${stem}${Math.max(0, ...taken) + 1}.json`);
}
