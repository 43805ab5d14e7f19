// In real Chromium: WorkerPool on Web Workers (the page is not cross-origin isolated, so the
// parameters travel as per-task copies instead of a SharedArrayBuffer). Forward equals the
// main-thread pass bit for bit; a pooled training step equals model.trainStep. WorkerPool over a graph:
// a graph's forward and Seq2Seq decoding equal the main thread's.
import { describe, expect, it } from 'vitest';
import * as l from '../../dist/index.js';

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
const rand = (n: number, seed: number) => {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1);
};

describe('WorkerPool in Chromium (Web Workers)', () => {
  it('forward over 3 workers is bit-identical; training matches; dispose terminates', async () => {
    const { variant } = await l.init();
    expect(typeof SharedArrayBuffer === 'function' && crossOriginIsolated).toBe(false);
    const T = 5, B = 7, I = 4, H = 6;
    const m = new l.LSTM({ inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: true, seed: 2 });
    const pool = await l.WorkerPool.create(m, { workers: 3 });
    expect(pool.variant).toBe(variant);
    const x = l.tensor(rand(T * B * I, 1), [T, B, I]);
    const lengths = [5, 1, 3, 5, 2, 4, 5];
    const a = m.forward(x, { lengths });
    const b = await pool.forward(x, { lengths });
    expect(bits(b.output.data)).toEqual(bits(a.output.data));
    expect(bits(b.hN.data)).toEqual(bits(a.hN.data));
    expect(bits(b.cN!.data)).toEqual(bits(a.cN!.data));
    await pool.dispose();
    await expect(pool.forward(x)).rejects.toBeInstanceOf(l.StateError);

    const mk = () => new l.Sequential([l.layers.linear({ inFeatures: I, outFeatures: 8 }), l.layers.linear({ inFeatures: 8, outFeatures: 3 })], { seed: 4 });
    const single = mk();
    const pooled = mk();
    const p2 = await l.WorkerPool.create(pooled, { workers: 2 });
    const o1 = { loss: 'crossEntropy' as const, optimizer: new l.Adam({ lr: 0.05 }) };
    const o2 = { loss: 'crossEntropy' as const, optimizer: new l.Adam({ lr: 0.05 }) };
    for (let s = 0; s < 3; s++) {
      const y = new l.Tensor(Int32Array.from(rand(T * B, 10 + s), (v) => Math.floor((v + 1) * 1.5)), [T, B]);
      const bt = { x: l.tensor(rand(T * B * I, 20 + s), [T, B, I]), y };
      const ra = single.trainStep(bt, o1);
      const rb = await p2.trainStep(bt, o2);
      expect(Math.abs(ra.loss - rb.loss)).toBeLessThan(1e-6);
    }
    for (const { name } of single.parameters()) {
      const pa = single.getParameter(name), pb = pooled.getParameter(name);
      let d = 0;
      for (let i = 0; i < pa.length; i++) d = Math.max(d, Math.abs(pa[i] - pb[i]));
      expect(d).toBeLessThan(2e-5);
    }
    await p2.dispose();
  });

  it('a worker script that fails to load rejects create() with WorkerError', async () => {
    await l.init();
    const m = new l.Sequential([l.layers.linear({ inFeatures: 2, outFeatures: 2 })]);
    await expect(l.WorkerPool.create(m, { workers: 1, workerUrl: new URL('./no-such-worker.js', import.meta.url) })).rejects.toBeInstanceOf(l.WorkerError);
  });

  it('a WorkerPool over a graph on 2 Web Workers: graph forward bit for bit, Seq2Seq beam search exactly', async () => {
    await l.init();
    const g = l.graph;
    const src = g.input('src', { type: 'ids', vocabSize: 11 });
    const enc = g.lstm(g.embedding(src, { embeddingDim: 4 }), { hiddenSize: 6, bidirectional: true });
    const m = new l.GraphModel({ inputs: [src], outputs: { y: g.linear(enc.output, { outFeatures: 3 }), h: enc.hN }, seed: 3 });
    const T = 5, B = 5;
    const feed = { src: { data: new l.Tensor(Int32Array.from(rand(T * B, 7), (v) => Math.floor((v + 1) * 5.5)), [T, B]), lengths: [5, 2, 4, 1, 3] } };
    const p = await l.WorkerPool.create(m, { workers: 2 });
    const a = m.forward(feed), b = await p.forward(feed);
    expect(bits(b.y.data as Float32Array)).toEqual(bits(a.y.data as Float32Array));
    expect(bits(b.h.data as Float32Array)).toEqual(bits(a.h.data as Float32Array));
    await p.dispose();
    const s2s = l.Seq2Seq.fromPairs([['123', '321'], ['4567', '7654']], { hidden: 6, embedding: 3, seed: 2 });
    const ps = await l.WorkerPool.create(s2s, { workers: 2 });
    const texts = ['1', '23', '4567', '765', '12', '3'];
    const o = { beam: 2, nbest: 2, maxLength: 4, batchSize: 2 };
    expect(await ps.translate(texts, o)).toEqual(s2s.translate(texts, o));
    await ps.dispose();
  });
});
