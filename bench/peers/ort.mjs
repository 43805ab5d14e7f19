// ONNX Runtime: onnxruntime-node (native CPU EP, 1 intra-op thread) and onnxruntime-web (its wasm
// EP in Node, 1 or 2 threads; numThreads must be set before the first session, so each thread
// count runs in its own process). Models from ../onnx-model.mjs with our parameters.
// No training API: W4 is not run.
import { WORKLOADS, seqInput, uniform, sampleSoftmax } from '../common.mjs';
import { buildOnnx, w5CheckOutput } from '../onnx-model.mjs';
import { paramsOf } from '../ours.mjs';

export async function make(impl) {
  const web = impl.startsWith('ort-web');
  // ort-node-1t-int8: LSTM workloads with com.microsoft DynamicQuantizeLSTM (int8 W and R)
  const int8 = impl.endsWith('-int8');
  const q8 = int8 ? { int8: true } : {};
  // its inputs and hidden states are quantized to 8 bits per tensor on the fly: on W1a its output
  // is ~0.075 from the f32 one (rnn-wasm int8: ~1e-3), so its check bound is its own
  const tolerance = int8 ? 0.1 : undefined;
  const ort = web ? await import('onnxruntime-web') : await import('onnxruntime-node');
  let options;
  if (web) {
    ort.env.wasm.numThreads = impl === 'ort-web-2t' ? 2 : 1;
    options = { executionProviders: ['wasm'], graphOptimizationLevel: 'all' };
  } else {
    options = { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' };
  }
  const session = (bytes) => ort.InferenceSession.create(bytes, options);
  const F = (data, dims) => new ort.Tensor('float32', data, dims);
  // a workload's dispose(): the session's native or wasm memory and the input tensors' buffers
  const release = (s, ...tensors) => async () => {
    await s.release();
    for (const t of tensors) t.dispose?.();
  };
  const version = web ? ort.env.versions?.web : ort.env.versions?.node ?? ort.env.versions?.common;

  return {
    version: `${web ? 'onnxruntime-web' : 'onnxruntime-node'} ${version}${int8 ? ' (DynamicQuantizeLSTM, int8 W and R)' : ''}`,
    async seq(id) {
      const w = WORKLOADS[id];
      const p = await paramsOf(id);
      if (int8 && w.cell !== 'lstm') return null;
      const s = await session(buildOnnx({ cell: w.cell, I: w.I, H: w.H, L: 1, T: w.T, B: w.B, state: false, resetAfter: w.resetAfter ?? true, ...q8 }, p));
      const X = F(seqInput(w), [w.T, w.B, w.I]);
      const fn = () => s.run({ X });
      return { fn, async: true, output: async () => (await fn()).Y.data, dispose: release(s, X), tolerance };
    },
    async stream(id) {
      const w = WORKLOADS[id];
      const p = await paramsOf(id);
      if (int8 && w.cell !== 'lstm') return null;
      const s = await session(buildOnnx({ cell: w.cell, I: w.I, H: w.H, L: 1, T: 1, B: w.B, state: true, ...q8 }, p));
      const x = seqInput(w);
      const steps = Array.from({ length: w.T }, (_, t) => F(x.slice(t * w.B * w.I, (t + 1) * w.B * w.I), [1, w.B, w.I]));
      const zeros = F(new Float32Array(w.B * w.H), [1, w.B, w.H]);
      const lstm = w.cell === 'lstm';
      // one session call per step, the state fed back as the next call's input
      const pass = async (out) => {
        let h = zeros, c = zeros;
        for (let t = 0; t < w.T; t++) {
          const r = await s.run(lstm ? { X: steps[t], h0: h, c0: c } : { X: steps[t], h0: h });
          h = r.hN;
          if (lstm) c = r.cN;
          if (out) out.set(r.Y.data, t * w.B * w.H);
        }
      };
      return {
        fn: () => pass(null), async: true,
        output: async () => { const out = new Float32Array(w.T * w.B * w.H); await pass(out); return out; },
        dispose: release(s, zeros, ...steps), tolerance,
      };
    },
    async sample(id) {
      const w = WORKLOADS[id];
      const p = await paramsOf(id);
      const s = await session(buildOnnx({ cell: 'lstm', I: w.V, H: w.H, L: w.L, T: 1, B: 1, state: true, head: { O: w.V, prefix: '1.' }, ...q8 }, p, '0.'));
      const zeros = F(new Float32Array(w.L * w.H), [w.L, 1, w.H]);
      const x = new Float32Array(w.V);
      const X = F(x, [1, 1, w.V]); // ort.Tensor wraps x: refilled in place each step
      const fn = async () => {
        let h = zeros, c = zeros, ch = 0;
        const u = uniform(7);
        for (let t = 0; t < w.steps; t++) {
          x.fill(0);
          x[ch] = 1;
          const r = await s.run({ X, h0: h, c0: c });
          h = r.hN;
          c = r.cN;
          ch = sampleSoftmax(r.Y.data, u());
        }
        return ch;
      };
      const output = () => w5CheckOutput(s, w, zeros, F);
      return { fn, async: true, output, dispose: release(s, zeros, X), tolerance };
    },
  };
}

