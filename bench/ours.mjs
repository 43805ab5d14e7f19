// This library's side of every workload: the seeded models whose parameters every implementation
// loads, the reference outputs every implementation is checked against, and the rnn-wasm runners.
// Imports the shipped bundle (dist/), as a user would.
import { readFileSync } from 'node:fs';
import {
  WORKLOADS, ADAM, TOLERANCE, outputDiff, seqInput, trainBatch, sampleCheckIds, oneHot, uniform, sampleSoftmax, measure,
} from './common.mjs';

let lib;
/** Loads dist/ (relaxed SIMD switched on by the caller's v8 flag) once. */
export async function loadLib() {
  if (!lib) {
    lib = await import('../dist/index.js');
    await lib.init();
  }
  return lib;
}

const params = (m) => Object.fromEntries(m.parameters().map((p) => [p.name, m.getParameter(p.name).slice()]));

/** Our model of workload id (fresh, seed 1) and its parameters by PyTorch name. */
export async function model(id, opts = {}) {
  const l = await loadLib();
  const w = WORKLOADS[id];
  let m;
  if (w.mode === 'seq' || w.mode === 'stream') {
    const o = { inputSize: w.I, hiddenSize: w.H, numLayers: 1, seed: 1 };
    m = w.cell === 'lstm' ? new l.LSTM(o) : new l.GRU({ ...o, resetAfter: opts.resetAfter ?? w.resetAfter ?? true });
  } else {
    // train (W4) and sample (W5): one-hot V → LSTM (L layers) → linear V
    m = new l.Sequential([l.layers.lstm({ inputSize: w.V, hiddenSize: w.H, numLayers: w.L ?? 1 }), l.layers.linear({ inFeatures: w.H, outFeatures: w.V })], { seed: 1 });
  }
  const p = params(m);
  if (opts.int8) l.quantize(m, { weights: 'int8' });
  return { m, p };
}

/** Check bound of the int8 runners against rnn-wasm's f32 output (test/model/quantize.test.ts has the measured accuracy). */
export const INT8_TOLERANCE = 2e-2;

/** The parameters of workload id's model by PyTorch name (the model itself released): what peers load. */
export async function paramsOf(id, opts = {}) {
  const { m, p } = await model(id, opts);
  m.dispose();
  return p;
}

/** W4's trainStep arguments: the seeded batch as tensors, cross-entropy, Adam. */
function trainCall(l, w) {
  const { x, y } = trainBatch(w);
  const batch = { x: l.tensor(x, [w.T, w.B, w.V]), y: new l.Tensor(y, [w.T, w.B]) };
  return { batch, opts: { loss: 'crossEntropy', optimizer: new l.Adam(ADAM) } };
}

/**
 * Reference output of workload id from this library:
 *   seq/stream: output (T, B, H) of one forward call; GRU with opts.resetAfter = false gives the
 *               Cho form (the only GRU tfjs-layers has), with the same parameters
 *   train:      the losses of two Adam steps on the W4 batch from the initial parameters (the
 *               second checks the first's gradients and update); with opts.gradients, blocks:
 *               the first loss, then the gradients at the initial parameters in parameters() order
 *   sample:     logits (steps, V) of one forward call over the one-hot sampleCheckIds (the
 *               samplers feed the same ids one step at a time)
 */
export async function reference(id, opts = {}) {
  const l = await loadLib();
  const w = WORKLOADS[id];
  const { m } = await model(id, opts);
  try {
    if (w.mode === 'seq' || w.mode === 'stream') {
      return m.forward(l.tensor(seqInput(w), [w.T, w.B, w.I])).output.data.slice();
    }
    if (w.mode === 'train') {
      const { batch, opts: step } = trainCall(l, w);
      const first = m.trainStep(batch, step).loss;
      if (opts.gradients) return [new Float32Array([first]), ...m.parameters().map((q) => m.gradient(q.name).slice())];
      return new Float32Array([first, m.trainStep(batch, step).loss]);
    }
    return m.forward(l.tensor(oneHot(sampleCheckIds(w), w.V), [w.steps, 1, w.V])).output.data.slice();
  } finally {
    m.dispose();
  }
}

/**
 * Runs a job's output() once and compares it with its reference (this library's output unless the
 * job brings its own): returns the max abs difference, or null when the job has no comparable
 * output (brain.js W4/W5); throws past TOLERANCE.
 */
export async function checkOutput(id, job) {
  if (job.output === null) return null;
  const ref = job.reference ?? (await reference(id, job.refOpts));
  const diff = outputDiff(await job.output(), ref);
  const tol = job.tolerance ?? TOLERANCE; // int8 weights: their own bound (INT8_TOLERANCE)
  if (!(diff <= tol)) {
    throw new Error(`CHECK FAILED: ${id} output differs from ${job.reference ? 'its reference' : "rnn-wasm's"} by ${diff} (> ${tol})`);
  }
  return diff;
}

// ---- the rnn-wasm runners ---------------------------------------------------------------------
// `rnn-wasm` calls the model on this thread; `rnn-wasm-2t` (and `rnn-wasm-1w`, the multi-core
// target's baseline) call the same model through dist's WorkerPool with 2 (1) workers, which
// splits the batch across them: they run the batched workloads (forward at B > 1, training) and
// nothing at batch 1. Each entry returns { fn, async?, output(), dispose() }: output() runs once
// and returns what is compared with the reference; fn is the timed call.
const POOL_WORKERS = { 'rnn-wasm-1w': 1, 'rnn-wasm-2t': 2 };
// rnn-wasm-int8: the same model after quantize(model, { weights: 'int8' }), one thread, batch-1 workloads

export async function make(impl) {
  const l = await loadLib();
  const workers = POOL_WORKERS[impl] ?? 0; // 0: no pool
  const int8 = impl === 'rnn-wasm-int8';
  const tolerance = int8 ? INT8_TOLERANCE : undefined;
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  const binary = `${l.relaxedSimdSupported() ? 'relaxed' : 'simd'} binary`;
  if (workers && typeof l.WorkerPool !== 'function') return { unavailable: 'worker pool not available (dist/ exports no WorkerPool)' };
  // The workload's model, and what its calls go to: the model itself or a pool over it.
  const target = async (id) => {
    const { m } = await model(id, { int8 });
    const pool = workers ? await l.WorkerPool.create(m, { workers }) : null;
    return { t: pool ?? m, dispose: async () => { await pool?.dispose(); m.dispose(); } };
  };
  const batched = {
    async seq(id) {
      const w = WORKLOADS[id];
      if (workers && w.B === 1) return null;
      const { t, dispose } = await target(id);
      const x = l.tensor(seqInput(w), [w.T, w.B, w.I]);
      const fn = () => t.forward(x);
      return { fn, async: !!workers, output: async () => (await fn()).output.data, dispose, tolerance };
    },
    async train(id) {
      const w = WORKLOADS[id];
      const { t, dispose } = await target(id);
      const { batch, opts } = trainCall(l, w);
      const fn = () => t.trainStep(batch, opts);
      return { fn, async: !!workers, output: async () => new Float32Array([(await fn()).loss, (await fn()).loss]), dispose };
    },
  };
  if (workers) return { version: `rnn-wasm ${pkg.version} (${binary}, WorkerPool of ${workers} worker${workers > 1 ? 's' : ''})`, ...batched };
  return {
    version: `rnn-wasm ${pkg.version} (${binary}${int8 ? ', int8 weights' : ''})`,
    ...batched,
    async stream(id) {
      const w = WORKLOADS[id];
      const { m } = await model(id, { int8 });
      const x = seqInput(w);
      const steps = Array.from({ length: w.T }, (_, t) => x.subarray(t * w.B * w.I, (t + 1) * w.B * w.I));
      const s = m.stream({ batchSize: w.B });
      const out = new Float32Array(w.T * w.B * w.H);
      const fn = () => {
        s.reset();
        for (let t = 0; t < w.T; t++) s.step(steps[t]);
      };
      const output = () => {
        s.reset();
        for (let t = 0; t < w.T; t++) out.set(s.step(steps[t]), t * w.B * w.H);
        return out;
      };
      return { fn, output, dispose: () => m.dispose(), tolerance };
    },
    async sample(id) {
      const w = WORKLOADS[id];
      const { m } = await model(id, { int8 });
      const s = m.stream({ batchSize: 1 });
      const x = new Float32Array(w.V);
      const fn = () => {
        s.reset();
        const u = uniform(7);
        let c = 0;
        for (let t = 0; t < w.steps; t++) {
          x.fill(0);
          x[c] = 1;
          c = sampleSoftmax(s.step(x), u());
        }
        return c;
      };
      const output = () => {
        const ids = sampleCheckIds(w);
        s.reset();
        const out = new Float32Array(w.steps * w.V);
        for (let t = 0; t < w.steps; t++) out.set(s.step(oneHot(ids.subarray(t, t + 1), w.V)), t * w.V);
        return out;
      };
      return { fn, output, dispose: () => m.dispose(), tolerance };
    },
  };
}

/**
 * Scaling of our LSTM forward around a base shape (T 64, B 16, H 256, I 128): the base, then one
 * axis varied at a time. Rows { axis, T, B, H, I, ms, gflops, base? }. Rounds go over all the
 * shapes in turn (one in --quick, else three) and each shape keeps its best time, so a busy spell
 * on the shared machine does not bend one part of the curve.
 */
export async function scaling(quick) {
  const l = await loadLib();
  const base = { T: 64, B: 16, H: 256, I: 128 };
  const shapes = [{ axis: 'base', ...base, base: true }];
  const axes = { T: [16, 32, 128, 256], B: [1, 4, 64], H: [64, 128, 512] };
  for (const [axis, values] of Object.entries(axes)) for (const v of values) shapes.push({ axis, ...base, [axis]: v });
  const runs = shapes.map((s) => {
    const m = new l.LSTM({ inputSize: s.I, hiddenSize: s.H, seed: 1 });
    const x = l.tensor(new Float32Array(s.T * s.B * s.I).fill(0.1), [s.T, s.B, s.I]);
    return { m, fn: () => m.forward(x), seconds: Infinity };
  });
  for (let round = 0; round < (quick ? 1 : 3); round++) {
    for (const r of runs) r.seconds = Math.min(r.seconds, (await measure(r.fn, { quick, minTime: quick ? 0.2 : 0.4 })).seconds);
  }
  return shapes.map((s, i) => {
    runs[i].m.dispose();
    const flop = 2 * 4 * s.H * (s.I + s.H) * s.B * s.T;
    return { ...s, ms: runs[i].seconds * 1e3, gflops: flop / runs[i].seconds / 1e9 };
  });
}
