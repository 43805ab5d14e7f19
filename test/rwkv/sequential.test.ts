// layers.rwkv7 in a Sequential (issue 25: what a graph can hold, a Sequential can hold): embedding →
// rwkv7 → linear (no bias) as a Sequential runs the graph's rwkv7 node, so on both binaries it equals
// the graph embedding → rwkv7 → linear bit for bit — a fresh model's parameters for one seed, the
// logits (time-major, batch-first, with lengths, and the RWKV7 model's own), a training step's loss,
// gradients and updated parameters, the public backward over float inputs, truncated BPTT — and
// stream() steps equal the whole-sequence forward; the spec and the model file round-trip;
// quantize() gives its projections int8 copies as the graph's; fit lowers the loss; the layer adds
// no hN / cN slots; the heap is given back; bad options are refused with typed errors naming the
// option.
import { beforeAll, describe, expect, it } from 'vitest';
import { init, runtime } from '../../src/wasm/load';
import {
  graph, GraphModel, Sequential, layers, Tensor, serialize, deserialize, modelFromSpec, SGD, Adam, quantize, ShapeError, ValueError,
} from '../../src/index';
import { layerFromConfig } from '../../src/model/model';
import { createRwkv7 } from '../../src/rwkv/init';
import type { RWKV7 } from '../../src/rwkv/model';
import { relErr } from './fixtures';
import { VARIANTS } from '../cells/harness';

const bits = (a: Float32Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');
const V = 13;
const config = { vocabSize: V, dim: 32, headSize: 8, layers: 2, ffnDim: 64, lora: { w: 8, a: 4, v: 12, g: 8 } };
const stackOpts = { headSize: 8, numLayers: 2, ffnDim: 64, lora: { w: 8, a: 4, v: 12, g: 8 } };

/** embedding → rwkv7 → linear (no bias) as a Sequential. */
const sequentialOf = (opts: { seed?: number; batchFirst?: boolean } = {}): Sequential =>
  new Sequential([
    layers.embedding({ numEmbeddings: V, embeddingDim: 32 }),
    layers.rwkv7({ inputSize: 32, ...stackOpts }),
    layers.linear({ inFeatures: 32, outFeatures: V, bias: false }),
  ], opts);

/** The same as a graph (nodes emb, rwkv, head). */
function graphOf(seed?: number): GraphModel {
  const ids = graph.input('ids', { type: 'ids', vocabSize: V });
  const e = graph.embedding(ids, { embeddingDim: 32, name: 'emb' });
  const r = graph.rwkv7(e, { ...stackOpts, name: 'rwkv' });
  const logits = graph.linear(r, { outFeatures: V, bias: false, name: 'head' });
  return new GraphModel({ inputs: [ids], outputs: { logits }, seed });
}

/** A Sequential parameter's name in the graph (0. → emb., 1. → rwkv., 2. → head.) and in the RWKV7 model. */
const inGraph = (name: string): string => name.replace(/^0\./, 'emb.').replace(/^1\./, 'rwkv.').replace(/^2\./, 'head.');
const inModel = (name: string): string => (name === '0.weight' ? 'emb.weight' : name === '2.weight' ? 'head.weight' : name.slice(2));

/** B rows of T ids, time-major (T, B). */
function idsOf(rows: number[][]): Tensor<Int32Array> {
  const T = rows[0].length;
  const B = rows.length;
  const d = new Int32Array(T * B);
  for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) d[t * B + b] = rows[b][t];
  return new Tensor(d, [T, B]);
}
const randomRows = (B: number, T: number, seed: number): number[][] =>
  Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => (seed * 7 + b * 13 + t * 5 + ((t * t) % 3)) % V));

describe.each(VARIANTS)('layers.rwkv7 in a Sequential on the %s binary', (variant) => {
  let made: RWKV7;
  let seq: Sequential;
  let g: GraphModel;
  beforeAll(async () => {
    await init({ variant });
    made = createRwkv7(config, 5);
    // the official init zeroes the output projections and first LoRA factors: fill them so that every block adds to the residual
    for (const { name, shape } of made.parameters()) {
      if (shape.length === 2 && made.getParameter(name).every((v) => v === 0)) {
        made.setParameter(name, Float32Array.from({ length: shape[0] * shape[1] }, (_, i) => 0.3 * Math.sin(i * 0.7 + name.length) / Math.sqrt(shape[1])));
      }
    }
    seq = sequentialOf();
    g = graphOf();
    seq.loadStateDict(Object.fromEntries(seq.parameters().map(({ name }) => [name, made.getParameter(inModel(name))])));
    g.loadStateDict(Object.fromEntries(seq.parameters().map(({ name }) => [inGraph(name), made.getParameter(inModel(name))])));
  });

  it('holds the graph\'s parameters: same names under the layer index, shapes, order and initial values for a seed', () => {
    const s = sequentialOf({ seed: 9 });
    const fresh = graphOf(9);
    expect(s.parameters().map((p) => ({ name: inGraph(p.name), shape: p.shape }))).toEqual(fresh.parameters());
    expect(s.parameters().map((p) => p.name)).toContain('1.blocks.1.att.key.weight');
    for (const { name } of s.parameters()) expect(bits(s.getParameter(name)), name).toBe(bits(fresh.getParameter(inGraph(name))));
    s.dispose();
    fresh.dispose();
  });

  it('gives the graph\'s and the RWKV7 model\'s logits bit for bit (batch 1 and 2, batch-first, lengths); no hN / cN slots', () => {
    const rows = randomRows(2, 11, 1);
    const y = seq.forward(idsOf(rows));
    expect(y.output.shape).toEqual([11, 2, V]);
    expect(bits(y.output.data as Float32Array)).toBe(bits(g.forward({ ids: idsOf(rows) }).logits.data as Float32Array));
    expect(y.hN).toBeUndefined();
    expect(y.cN).toBeUndefined();
    const one = seq.forward(idsOf([rows[0]])).output.data as Float32Array;
    expect(bits(one)).toBe(bits(made.forward(rows[0]).logits));
    // batch-first: (B, T) ids in, (B, T, V) out; row b is the model's logits of row b
    const bf = sequentialOf({ batchFirst: true });
    bf.loadStateDict(seq.stateDict());
    const out = bf.forward(new Tensor(Int32Array.from(rows.flat()), [2, 11])).output;
    expect(out.shape).toEqual([2, 11, V]);
    for (const b of [0, 1]) expect(bits((out.data as Float32Array).subarray(b * 11 * V, (b + 1) * 11 * V))).toBe(bits(made.forward(rows[b]).logits));
    bf.dispose();
    // lengths: row 1's valid steps are the row run alone, the later ones 0 (as the graph's)
    const withLens = seq.forward(idsOf(rows), { lengths: [11, 4] }).output.data as Float32Array;
    expect(bits(withLens)).toBe(bits(g.forward({ ids: { data: idsOf(rows), lengths: [11, 4] } }).logits.data as Float32Array));
    const r1 = Float32Array.from({ length: 11 * V }, (_, i) => withLens[(Math.floor(i / V) * 2 + 1) * V + (i % V)]);
    expect(bits(r1.subarray(0, 4 * V))).toBe(bits(made.forward(rows[1].slice(0, 4)).logits));
    expect(r1.subarray(4 * V).every((v) => v === 0)).toBe(true);
    // no state slots: h0 is refused as for a model without recurrent cells
    expect(() => seq.forward(idsOf([rows[0]]), { h0: new Float32Array(32) })).toThrow(ValueError);
    expect(() => seq.forward(idsOf([rows[0]]), { h0: new Float32Array(32) })).toThrow(/Expected no h0/);
  });

  it('trains as the graph does: loss, every gradient and the updated parameters bit for bit (crossEntropy, SGD), evaluate equal', () => {
    const s = sequentialOf();
    const twin = graphOf();
    s.loadStateDict(seq.stateDict());
    twin.loadStateDict(g.stateDict());
    const rows = randomRows(2, 9, 2);
    const x = idsOf(rows.map((r) => r.slice(0, -1)));
    const y = idsOf(rows.map((r) => r.slice(1)));
    expect(s.evaluate({ x, y }, { loss: 'crossEntropy' })).toBe(twin.evaluate({ inputs: { ids: x }, targets: { logits: y } }, { losses: { logits: 'crossEntropy' } }).loss);
    const a = s.trainStep({ x, y }, { loss: 'crossEntropy', optimizer: new SGD({ lr: 0.05 }) });
    const b = twin.trainStep({ inputs: { ids: x }, targets: { logits: y } }, { losses: { logits: 'crossEntropy' }, optimizer: new SGD({ lr: 0.05 }) });
    expect(a.loss).toBe(b.loss);
    expect(a.gradNorm).toBe(b.gradNorm);
    for (const { name } of s.parameters()) {
      expect(bits(s.gradient(name)), name).toBe(bits(twin.gradient(inGraph(name))));
      expect(bits(s.getParameter(name)), name).toBe(bits(twin.getParameter(inGraph(name))));
    }
    // the step moved the stack's parameters
    expect(bits(s.getParameter('1.blocks.1.att.w1'))).not.toBe(bits(seq.getParameter('1.blocks.1.att.w1')));
    s.dispose();
    twin.dispose();
  });

  it('over float inputs (first layer, its width the Sequential\'s input): the public backward\'s dx and gradients equal the graph\'s bit for bit', () => {
    const o = { headSize: 4, numLayers: 2, ffnDim: 16, lora: { w: 4, a: 4, v: 4, g: 4 } };
    expect(() => new Sequential([layers.rwkv7({ inputSize: 8, ...o })], { inputSize: 9 })).toThrow(/Expected inputSize 8 to match the first layer, got 9/);
    const s = new Sequential([layers.rwkv7({ inputSize: 8, ...o }), layers.linear({ inFeatures: 8, outFeatures: 3 })], { seed: 4 });
    const x = graph.input('x', { type: 'float', features: 8 });
    const yv = graph.linear(graph.rwkv7(x, { ...o, name: 'r' }), { outFeatures: 3, name: 'y' });
    const twin = new GraphModel({ inputs: [x], outputs: { y: yv }, seed: 4 });
    const rename = (name: string): string => name.replace(/^0\./, 'r.').replace(/^1\./, 'y.');
    for (const { name, shape } of s.parameters()) {
      const v = shape.length === 2 && s.getParameter(name).every((z) => z === 0) ? Float32Array.from({ length: shape[0] * shape[1] }, (_, i) => 0.4 * Math.cos(i * 1.3 + name.length)) : s.getParameter(name);
      s.setParameter(name, v);
      twin.setParameter(rename(name), v);
    }
    const T = 4, B = 2;
    const xs = new Tensor(Float32Array.from({ length: T * B * 8 }, (_, i) => Math.sin(i * 0.9)), [T, B, 8]);
    const dy = Float32Array.from({ length: T * B * 3 }, (_, i) => Math.cos(i * 0.4));
    s.zeroGrad();
    twin.zeroGrad();
    const out = s.forward(xs, { keep: true }).output.data as Float32Array;
    expect(bits(out)).toBe(bits(twin.forward({ x: xs }, { keep: true }).y.data as Float32Array));
    const dx = s.backward({ dOutput: dy }).dx!.data as Float32Array;
    expect(dx.some((v) => Math.abs(v) > 1e-3)).toBe(true);
    expect(bits(dx)).toBe(bits(twin.backward({ y: dy }).x.data as Float32Array));
    for (const { name } of s.parameters()) expect(bits(s.gradient(name)), name).toBe(bits(twin.gradient(rename(name))));
    s.dispose();
    twin.dispose();
  });

  it('truncated BPTT carries the state as the graph\'s: same loss and gradients; the chunks\' mean loss is the whole sequence\'s', () => {
    const s = sequentialOf();
    const twin = graphOf();
    s.loadStateDict(seq.stateDict());
    twin.loadStateDict(g.stateDict());
    const rows = randomRows(2, 13, 8);
    const x = idsOf(rows.map((r) => r.slice(0, -1)));
    const y = idsOf(rows.map((r) => r.slice(1)));
    const whole = s.evaluate({ x, y }, { loss: 'crossEntropy' });
    // lr 1e-30: the chunks see the parameters changed by ≤ 1e-30·|grad|, so their mean loss is the whole sequence's
    const a = s.trainStep({ x, y }, { loss: 'crossEntropy', optimizer: new SGD({ lr: 1e-30 }), tbptt: 5 });
    const b = twin.trainStep({ inputs: { ids: x }, targets: { logits: y } }, { losses: { logits: 'crossEntropy' }, optimizer: new SGD({ lr: 1e-30 }), tbptt: 5 });
    expect(a.loss).toBe(b.loss);
    expect(Math.abs(a.loss - whole)).toBeLessThan(1e-6 * whole);
    for (const { name } of s.parameters()) expect(bits(s.gradient(name)), name).toBe(bits(twin.gradient(inGraph(name))));
    // chunks that each start from the zero state give another loss (the state is what was carried)
    const cold = [0, 5, 10].map((t0) => {
      const len = Math.min(5, 12 - t0);
      const sub = (t: Tensor<Int32Array>) => new Tensor(t.data.slice(t0 * 2, (t0 + len) * 2), [len, 2]);
      return s.evaluate({ x: sub(x), y: sub(y) }, { loss: 'crossEntropy' }) * len;
    }).reduce((p, q) => p + q) / 12;
    expect(Math.abs(cold - whole)).toBeGreaterThan(1e-4 * whole);
    s.dispose();
    twin.dispose();
  });

  it('streams: steps equal the whole-sequence forward bit for bit (batch 1 and 2, reset)', () => {
    const T = 6;
    for (const B of [1, 2]) {
      const rows = randomRows(B, T, 6 + B);
      const whole = seq.forward(idsOf(rows)).output.data as Float32Array;
      const s = seq.stream({ batchSize: B });
      for (let pass = 0; pass < 2; pass++) {
        for (let t = 0; t < T; t++) {
          const y = s.step(Int32Array.from(rows.map((r) => r[t])));
          expect(bits(y), `B ${B} t ${t} pass ${pass}`).toBe(bits(whole.subarray(t * B * V, (t + 1) * B * V)));
        }
        s.reset();
      }
      s.close();
    }
  });

  it('round-trips through its spec (layerFromConfig) and the model file: equal outputs bit for bit', () => {
    const spec = seq.spec();
    expect(spec.type === 'sequential' && spec.layers[1]).toEqual({ type: 'rwkv7', inputSize: 32, ...stackOpts });
    expect(layerFromConfig(JSON.parse(JSON.stringify(seq.layers[1].config()))).config()).toEqual(seq.layers[1].config());
    const feed = idsOf(randomRows(2, 7, 4));
    const want = bits(seq.forward(feed).output.data as Float32Array);
    const rebuilt = modelFromSpec(JSON.parse(JSON.stringify(spec)));
    expect(rebuilt.parameters()).toEqual(seq.parameters());
    rebuilt.loadStateDict(seq.stateDict());
    expect(bits(rebuilt.forward(feed).output.data as Float32Array)).toBe(want);
    const loaded = deserialize(serialize(seq)).model;
    expect(loaded).toBeInstanceOf(Sequential);
    expect(bits(loaded.forward(feed).output.data as Float32Array)).toBe(want);
    rebuilt.dispose();
    loaded.dispose();
  });

  it('quantize(): the stack\'s projections on int8 copies as the graph\'s (bit for bit), within 2 % of f32; saved and streamed alike', () => {
    const s = sequentialOf();
    const twin = graphOf();
    s.loadStateDict(seq.stateDict());
    twin.loadStateDict(g.stateDict());
    const rows = randomRows(1, 9, 2);
    const f32 = s.forward(idsOf(rows)).output.data as Float32Array;
    quantize(s, { weights: 'int8' });
    quantize(twin, { weights: 'int8' });
    expect(s.quantized).toBe('int8');
    expect(s.runner.int8WeightNames()).toContain('1.blocks.1.ffn.value.weight');
    expect(s.runner.int8WeightNames()).not.toContain('1.blocks.1.att.w1');
    const q = s.forward(idsOf(rows)).output.data as Float32Array;
    expect(bits(q)).toBe(bits(twin.forward({ ids: idsOf(rows) }).logits.data as Float32Array));
    const e = relErr(q, f32);
    expect(e).toBeLessThan(2e-2);
    expect(e).toBeGreaterThan(0);
    const loaded = deserialize(serialize(s)).model;
    expect(loaded.quantized).toBe('int8');
    expect(bits(loaded.forward(idsOf(rows)).output.data as Float32Array)).toBe(bits(q));
    const st = s.stream();
    rows[0].forEach((id, t) => expect(bits(st.step([id]))).toBe(bits(q.subarray(t * V, (t + 1) * V))));
    st.close();
    for (const m of [s, twin, loaded]) m.dispose();
  });

  it('fit lowers the loss (Adam, variable-length examples)', async () => {
    const s = sequentialOf({ seed: 3 });
    const data = [5, 8, 6, 9].map((T, i) => {
      const r = randomRows(1, T + 1, i)[0];
      return { x: Int32Array.from(r.slice(0, -1)), y: Int32Array.from(r.slice(1)) };
    });
    const before = s.evaluateDataset(data, { loss: 'crossEntropy' });
    const h = await s.fit(data, { loss: 'crossEntropy', optimizer: new Adam({ lr: 0.01 }), epochs: 6, batchSize: 2, seed: 1 });
    expect(h.loss).toHaveLength(6);
    expect(s.evaluateDataset(data, { loss: 'crossEntropy' })).toBeLessThan(before * 0.9);
    s.dispose();
  });

  it('gives back every heap element it took (forward, training, stream, dispose)', () => {
    const heap = runtime().heap;
    const before = heap.liveElements;
    const s = sequentialOf();
    const rows = randomRows(2, 5, 3);
    s.forward(idsOf(rows));
    const opt = new Adam();
    s.trainStep({ x: idsOf(rows), y: idsOf(rows) }, { loss: 'crossEntropy', optimizer: opt });
    const st = s.stream({ batchSize: 2 });
    st.step([1, 2]);
    st.close();
    s.dispose();
    opt.dispose();
    expect(heap.liveElements).toBe(before);
  });

  it('refuses bad options with typed errors naming the option', () => {
    const lora = { w: 4, a: 4, v: 4, g: 4 };
    const ok = { inputSize: 16, headSize: 8, numLayers: 1, lora };
    expect(layers.rwkv7({ dim: 16, headSize: 8, numLayers: 1, lora }).config()).toEqual(layers.rwkv7(ok).config());
    expect(() => layers.rwkv7({ headSize: 8, numLayers: 1, lora })).toThrow(/Expected inputSize \(or dim\)/);
    expect(() => layers.rwkv7({ ...ok, dim: 24 })).toThrow(/Expected dim to equal inputSize 16/);
    expect(() => layers.rwkv7({ ...ok, inputSize: 12 })).toThrow(/Expected inputSize to be a multiple of headSize 8, got 12/);
    expect(() => layers.rwkv7({ ...ok, inputSize: 0 })).toThrow(/Expected inputSize to be a positive integer, got 0/);
    expect(() => layers.rwkv7({ ...ok, headSize: 6 })).toThrow(/Expected headSize to be a positive multiple of 4, got 6/);
    expect(() => layers.rwkv7({ ...ok, numLayers: 1.5 })).toThrow(/Expected numLayers to be a positive integer, got 1.5/);
    expect(() => layers.rwkv7({ ...ok, ffnDim: 6 })).toThrow(/Expected ffnDim to be a multiple of 4, got 6/);
    expect(() => layers.rwkv7({ ...ok, lora: { w: 4, a: 4, v: 4 } as never })).toThrow(/lora/);
    expect(() => layers.rwkv7({ ...ok, heads: 2 } as never)).toThrow(/heads/);
    for (const bad of [{ ...ok, inputSize: 12 }, { ...ok, headSize: 6 }, { ...ok, heads: 2 }]) expect(() => layers.rwkv7(bad as never)).toThrow(ValueError);
    // the width must be the previous layer's
    expect(() => new Sequential([layers.embedding({ numEmbeddings: V, embeddingDim: 24 }), layers.rwkv7(ok)])).toThrow(ShapeError);
    // the graph node emits the layer: it is a Layer, not a Module with an emit of its own
    expect('emit' in layers.rwkv7(ok)).toBe(false);
    expect(() => layerFromConfig({ type: 'rwkv7', inputSize: 16, headSize: 8, numLayers: 0, lora })).toThrow(/Expected numLayers to be a positive integer, got 0/);
  });
});
