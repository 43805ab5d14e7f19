// The graph's rwkv7 node: embedding → rwkv7 → linear (no bias) holding an RWKV7 model's parameters
// (emb.weight, rwkv.<official name>, head.weight) runs the model's own emitters, ops and order, so on
// both binaries its logits, its training gradients and an SGD step equal the RWKV7 model's and
// Rwkv7Trainer's bit for bit (the model imported from the PyTorch fixture and one made by
// createRwkv7); a few Adam steps lower the loss; the spec and the graph file round-trip; stream()
// steps equal the whole-sequence forward and the RWKV7 stream bit for bit (batch 1 and 2, reorder);
// quantize() gives its projections int8 copies;
// truncated BPTT carries the state (its loss equals the whole sequence's); with lengths each row's
// valid steps are the row run alone and the rest 0; as an encoder it feeds a decoder's context; the
// public backward's input gradients match finite differences; the heap is given back; bad options
// are refused with typed errors.
import { beforeAll, describe, expect, it } from 'vitest';
import { init, runtime } from '../../src/wasm/load';
import { graph, GraphModel, Tensor, serialize, deserializeGraph, SGD, Adam, ShapeError, ValueError, quantize, setLimits, resetLimits } from '../../src/index';
import { importRwkv7 } from '../../src/rwkv/import';
import { createRwkv7 } from '../../src/rwkv/init';
import { Rwkv7Trainer } from '../../src/rwkv/train';
import type { RWKV7 } from '../../src/rwkv/model';
import { loadFixture, relErr } from './fixtures';
import { VARIANTS } from '../cells/harness';

const fixture = loadFixture('tiny');
const bits = (a: Float32Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');

/** embedding → rwkv7 → linear with the model's shape and (loaded) parameters. */
function graphOf(m: RWKV7): GraphModel {
  const c = m.config;
  const ids = graph.input('ids', { type: 'ids', vocabSize: c.vocabSize });
  const e = graph.embedding(ids, { embeddingDim: c.dim, name: 'emb' });
  const r = graph.rwkv7(e, { headSize: c.headSize, numLayers: c.layers, ffnDim: c.ffnDim, lora: c.lora, name: 'rwkv' });
  const logits = graph.linear(r, { outFeatures: c.vocabSize, bias: false, name: 'head' });
  const g = new GraphModel({ inputs: [ids], outputs: { logits } });
  g.loadStateDict(Object.fromEntries(m.parameters().map(({ name }) => [graphName(name), m.getParameter(name)])));
  return g;
}
const graphName = (name: string): string => (name === 'emb.weight' || name === 'head.weight' ? name : `rwkv.${name}`);

/** B rows of T ids, time-major (T, B). */
function idsOf(rows: number[][]): Tensor<Int32Array> {
  const T = rows[0].length;
  const B = rows.length;
  const d = new Int32Array(T * B);
  for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) d[t * B + b] = rows[b][t];
  return new Tensor(d, [T, B]);
}

/** Row b of (T, B, V) time-major logits as (T, V). */
function row(all: Float32Array, T: number, B: number, V: number, b: number): Float32Array {
  const out = new Float32Array(T * V);
  for (let t = 0; t < T; t++) out.set(all.subarray((t * B + b) * V, (t * B + b + 1) * V), t * V);
  return out;
}

const randomRows = (B: number, T: number, V: number, seed: number): number[][] =>
  Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => (seed * 7 + b * 13 + t * 5 + ((t * t) % 3)) % V));

describe.each(VARIANTS)('the graph rwkv7 node on the %s binary', (variant) => {
  let fx: RWKV7;
  let made: RWKV7;
  beforeAll(async () => {
    await init({ variant });
    fx = await importRwkv7(fixture.bytes);
    made = createRwkv7({ vocabSize: 13, dim: 32, headSize: 8, layers: 3, ffnDim: 64, lora: { w: 8, a: 4, v: 12, g: 8 } }, 5);
    // the official init zeroes the output projections and first LoRA factors (each block would add 0
    // to the residual and the state would not reach the logits): fill them so that it does
    for (const { name, shape } of made.parameters()) {
      if (shape.length === 2 && made.getParameter(name).every((v) => v === 0)) {
        made.setParameter(name, Float32Array.from({ length: shape[0] * shape[1] }, (_, i) => 0.3 * Math.sin(i * 0.7 + name.length) / Math.sqrt(shape[1])));
      }
    }
  });

  it('gives the RWKV7 model\'s logits bit for bit (batch 1 and 2)', () => {
    for (const m of [fx, made]) {
      const V = m.config.vocabSize;
      const g = graphOf(m);
      const rows = randomRows(2, 11, V, 1);
      const want = rows.map((r) => m.forward(r).logits);
      const one = g.forward({ ids: idsOf([rows[0]]) }).logits;
      expect(one.shape).toEqual([11, 1, V]);
      expect(bits(one.data as Float32Array)).toBe(bits(want[0]));
      const two = g.forward({ ids: idsOf(rows) }).logits.data as Float32Array;
      for (const b of [0, 1]) expect(bits(row(two, 11, 2, V, b))).toBe(bits(want[b]));
      // a second run starts from the zero state again
      expect(bits(g.forward({ ids: idsOf([rows[0]]) }).logits.data as Float32Array)).toBe(bits(want[0]));
      g.dispose();
    }
  });

  it('trains as Rwkv7Trainer does: loss, every gradient and an SGD step bit for bit, and PyTorch autograd ≤ 1e-4', () => {
    const ids = fixture.ints.grad_ids;
    const T1 = ids.length / 2;
    const rows = [0, 1].map((r) => Array.from(ids.subarray(r * T1, (r + 1) * T1)));
    const batch = { inputs: rows.map((r) => r.slice(0, -1)), targets: rows.map((r) => r.slice(1)) };
    const T = T1 - 1;
    const m = fx;
    const g = graphOf(m);
    const tr = new Rwkv7Trainer(m, T, 2);
    const lr = 0.05;
    const gr = g.trainStep({ inputs: { ids: idsOf(batch.inputs) }, targets: { logits: idsOf(batch.targets) } }, { losses: { logits: 'crossEntropy' }, optimizer: new SGD({ lr }) });
    const before = Object.fromEntries(m.parameters().map(({ name }) => [name, m.getParameter(name)]));
    const loss = tr.step(batch, new SGD({ lr }));
    expect(gr.loss).toBe(loss);
    expect(Math.abs(loss - fixture.floats.grad_loss[0])).toBeLessThan(1e-5 * fixture.floats.grad_loss[0]);
    let worst = 0;
    for (const { name } of m.parameters()) {
      const got = g.gradient(graphName(name));
      expect(bits(got), name).toBe(bits(tr.gradient(name)));
      expect(bits(g.getParameter(graphName(name))), name).toBe(bits(m.getParameter(name)));
      const want = fixture.floats['grad.' + name];
      worst = Math.max(worst, want.every((v) => v === 0) ? Math.max(...got.map(Math.abs)) : relErr(got, want));
    }
    expect(worst).toBeLessThan(1e-4);
    // the step moved the parameters (so the comparison above compared updated values)
    expect(bits(m.getParameter('blocks.1.att.w1'))).not.toBe(bits(before['blocks.1.att.w1']));
    for (const [name, v] of Object.entries(before)) m.setParameter(name, v);
    tr.dispose();
    g.dispose();
  });

  it('lowers the loss with a few Adam steps', () => {
    const g = graphOf(made);
    const rows = randomRows(2, 9, 13, 3);
    const batch = { inputs: { ids: idsOf(rows.map((r) => r.slice(0, -1))) }, targets: { logits: idsOf(rows.map((r) => r.slice(1))) } };
    const opt = new Adam({ lr: 0.01 });
    const losses = Array.from({ length: 8 }, () => g.trainStep(batch, { losses: { logits: 'crossEntropy' }, optimizer: opt }).loss);
    expect(losses[7]).toBeLessThan(losses[0] * 0.9);
    g.dispose();
  });

  it('round-trips through its spec and the graph file format', () => {
    const g = graphOf(made);
    const spec = g.spec();
    expect(spec.nodes.find((n) => n.kind === 'rwkv7')?.config).toEqual({ headSize: 8, numLayers: 3, ffnDim: 64, lora: { w: 8, a: 4, v: 12, g: 8 } });
    const rebuilt = GraphModel.fromSpec(JSON.parse(JSON.stringify(spec)));
    expect(rebuilt.parameters()).toEqual(g.parameters());
    rebuilt.loadStateDict(g.stateDict());
    const feed = { ids: idsOf(randomRows(1, 7, 13, 4)) };
    const want = bits(g.forward(feed).logits.data as Float32Array);
    expect(bits(rebuilt.forward(feed).logits.data as Float32Array)).toBe(want);
    const loaded = deserializeGraph(serialize(g)).model;
    expect(bits(loaded.forward(feed).logits.data as Float32Array)).toBe(want);
    for (const x of [rebuilt, loaded, g]) x.dispose();
  });

  it('a fresh node has the official initialisation (createRwkv7\'s curves; its matrices drawn from the graph\'s seed)', () => {
    const fresh = createRwkv7(made.config, 5);
    const c = fresh.config;
    const x = graph.input('x', { type: 'float', features: c.dim });
    const y = graph.rwkv7(x, { headSize: c.headSize, numLayers: c.layers, ffnDim: c.ffnDim, lora: c.lora, name: 'r' });
    const g = new GraphModel({ inputs: [x], outputs: { y }, seed: 1 });
    for (const name of ['blocks.2.att.x_w', 'blocks.0.att.w0', 'blocks.1.att.a0', 'blocks.1.ffn.x_k', 'blocks.2.att.ln_x.weight', 'blocks.0.att.w1', 'blocks.1.att.output.weight']) {
      expect(bits(g.getParameter(`r.${name}`)), name).toBe(bits(fresh.getParameter(name)));
    }
    // uniform matrices of the official scale: 0.5/√C for the receptance
    const wr = g.getParameter('r.blocks.0.att.receptance.weight');
    expect(Math.max(...wr.map(Math.abs))).toBeLessThanOrEqual(0.5 / Math.sqrt(c.dim));
    expect(Math.max(...wr.map(Math.abs))).toBeGreaterThan(0.4 / Math.sqrt(c.dim));
    expect(g.parameters().map((p) => p.name)).toEqual(fresh.parameters().filter((p) => !/^(emb|head)\./.test(p.name)).map((p) => `r.${p.name}`));
    g.dispose();
    fresh.dispose();
  });

  it('streams: steps equal the whole-sequence forward and the RWKV7 stream bit for bit (batch 1 and 2, reorder)', () => {
    const m = made;
    const V = 13;
    const g = graphOf(m);
    const T = 6;
    for (const B of [1, 2]) {
      const rows = randomRows(B, T, V, 6 + B);
      const whole = g.forward({ ids: idsOf(rows) }).logits.data as Float32Array;
      const s = g.stream({ batchSize: B });
      const ms = m.stream();
      for (let t = 0; t < T; t++) {
        const y = s.step(Int32Array.from(rows.map((r) => r[t]))).logits.data as Float32Array;
        expect(bits(y), `B ${B} t ${t}`).toBe(bits(whole.subarray(t * B * V, (t + 1) * B * V)));
        expect(bits(y.subarray(0, V))).toBe(bits(ms.step(rows[0][t])));
      }
      if (B === 2) {
        // row 0 takes row 1's state: its next step is row 1's
        const next = rows[1][0];
        const ref = s.step(Int32Array.from([next, next])).logits.data as Float32Array;
        s.reset();
        for (let t = 0; t < T; t++) s.step(Int32Array.from(rows.map((r) => r[t])));
        s.reorder([1, 1]);
        const y = s.step(Int32Array.from([next, next])).logits.data as Float32Array;
        expect(bits(y.subarray(0, V))).toBe(bits(ref.subarray(V, 2 * V)));
      }
      s.close();
      ms.dispose();
    }
    g.dispose();
  });

  it('carries the state across truncated-BPTT chunks (the loss equals the whole sequence\'s)', () => {
    const g = graphOf(made);
    const rows = randomRows(2, 13, 13, 8);
    const batch = { inputs: { ids: idsOf(rows.map((r) => r.slice(0, -1))) }, targets: { logits: idsOf(rows.map((r) => r.slice(1))) } };
    const whole = g.evaluate(batch, { losses: { logits: 'crossEntropy' } }).loss;
    // lr 1e-30 (0 is refused): the chunks see the parameters changed by ≤ 1e-30·|grad|, so their mean loss is the whole sequence's
    const chunked = g.trainStep(batch, { losses: { logits: 'crossEntropy' }, optimizer: new SGD({ lr: 1e-30 }), tbptt: 5 }).loss;
    expect(Math.abs(chunked - whole)).toBeLessThan(1e-6 * whole);
    // not carrying the state would change it
    const cold = [0, 5, 10].map((t0) => {
      const len = Math.min(5, 12 - t0);
      const sub = (t: Tensor<Int32Array>) => new Tensor(t.data.subarray(t0 * 2, (t0 + len) * 2), [len, 2]);
      return g.evaluate({ inputs: { ids: sub(batch.inputs.ids) }, targets: { logits: sub(batch.targets.logits) } }, { losses: { logits: 'crossEntropy' } }).loss * len;
    }).reduce((a, b) => a + b) / 12;
    expect(Math.abs(cold - whole)).toBeGreaterThan(1e-4 * whole);
    g.dispose();
  });

  it('runs its projections on int8 copies after quantize(): within 2 % of the f32 logits, streamed = whole sequence bit for bit', () => {
    const m = fx;
    const V = m.config.vocabSize;
    const g = graphOf(m);
    const rows = randomRows(1, 9, V, 2);
    const f32 = g.forward({ ids: idsOf(rows) }).logits.data as Float32Array;
    quantize(g, { weights: 'int8' });
    expect(g.runner.int8WeightNames()).toContain('rwkv.blocks.1.ffn.value.weight');
    expect(g.runner.int8WeightNames()).not.toContain('rwkv.blocks.1.att.w1');
    const q = g.forward({ ids: idsOf(rows) }).logits.data as Float32Array;
    const e = relErr(q, f32);
    expect(e).toBeLessThan(2e-2);
    expect(e).toBeGreaterThan(0);
    const s = g.stream();
    rows[0].forEach((id, t) => expect(bits(s.step([id]).logits.data as Float32Array)).toBe(bits(q.subarray(t * V, (t + 1) * V))));
    s.close();
    g.dispose();
  });

  it('with lengths: valid steps are the row run alone, later ones 0; training equals ignored targets bit for bit', () => {
    const m = made;
    const V = 13;
    const g = graphOf(m);
    const rows = randomRows(2, 7, V, 9);
    const lengths = [7, 4];
    const y = g.forward({ ids: { data: idsOf(rows), lengths } }).logits.data as Float32Array;
    expect(bits(row(y, 7, 2, V, 0))).toBe(bits(m.forward(rows[0]).logits));
    const r1 = row(y, 7, 2, V, 1);
    expect(bits(r1.subarray(0, 4 * V))).toBe(bits(m.forward(rows[1].slice(0, 4)).logits));
    expect(r1.subarray(4 * V).every((v) => v === 0)).toBe(true);
    // a training step with lengths = the step without them whose targets past the lengths are ignored (-1)
    const twin = graphOf(m);
    const inputs = rows.map((r) => r.slice(0, 6));
    const targets = rows.map((r) => r.slice(1));
    const ignored = targets.map((t, b) => t.map((v, i) => (i < lengths[b] - 1 ? v : -1)));
    const opts = { losses: { logits: 'crossEntropy' as const }, optimizer: new SGD({ lr: 0.1 }) };
    const a = g.trainStep({ inputs: { ids: { data: idsOf(inputs), lengths: [6, 3] } }, targets: { logits: idsOf(targets) } }, opts);
    const b = twin.trainStep({ inputs: { ids: idsOf(inputs) }, targets: { logits: idsOf(ignored) } }, { ...opts, optimizer: new SGD({ lr: 0.1 }) });
    expect(a.loss).toBe(b.loss);
    for (const { name } of g.parameters()) expect(bits(g.gradient(name)), name).toBe(bits(twin.gradient(name)));
    g.dispose();
    twin.dispose();
  });

  it('runs as an encoder in a decoder\'s context: decoder steps equal the teacher-forced forward bit for bit', () => {
    const src = graph.input('src', { type: 'ids', vocabSize: 13 });
    const tgt = graph.input('tgt', { type: 'ids', vocabSize: 13 });
    const enc = graph.rwkv7(graph.embedding(src, { embeddingDim: 16, name: 'se' }), { headSize: 8, numLayers: 2, lora: { w: 4, a: 4, v: 4, g: 4 }, name: 'enc' });
    const dec = graph.lstm(graph.embedding(tgt, { embeddingDim: 8, name: 'te' }), { hiddenSize: 16, name: 'dec' });
    const att = graph.attention(dec.output, enc, { score: 'dot', name: 'att' });
    const out = graph.linear(graph.concat([dec.output, att.context]), { outFeatures: 13, name: 'out' });
    const g = new GraphModel({ inputs: [src, tgt], outputs: { out }, seed: 2 });
    for (const l of [0, 1]) g.setParameter(`enc.blocks.${l}.att.output.weight`, Float32Array.from({ length: 256 }, (_, i) => Math.sin(i) * 0.2));
    const s = idsOf(randomRows(2, 5, 13, 1));
    const t = randomRows(2, 4, 13, 2);
    const whole = g.forward({ src: s, tgt: idsOf(t) }).out.data as Float32Array;
    const d = g.decoder({ step: 'tgt', context: { src: s } });
    for (let i = 0; i < 4; i++) {
      expect(bits(d.step(Int32Array.from(t.map((r) => r[i]))).out.data as Float32Array)).toBe(bits(whole.subarray(i * 2 * 13, (i + 1) * 2 * 13)));
    }
    d.close();
    g.dispose();
  });

  it('backward(): input gradients match central differences; parameter gradients accumulate', () => {
    const x = graph.input('x', { type: 'float', features: 8 });
    const r = graph.rwkv7(x, { headSize: 4, numLayers: 2, ffnDim: 16, lora: { w: 4, a: 4, v: 4, g: 4 }, name: 'r' });
    const y = graph.linear(r, { outFeatures: 3, name: 'y' });
    const g = new GraphModel({ inputs: [x], outputs: { y }, seed: 4 });
    for (const { name, shape } of g.parameters()) {
      if (shape.length === 2 && g.getParameter(name).every((v) => v === 0)) g.setParameter(name, Float32Array.from({ length: shape[0] * shape[1] }, (_, i) => 0.4 * Math.cos(i * 1.3 + name.length)));
    }
    const T = 4, B = 2;
    const xs = Float32Array.from({ length: T * B * 8 }, (_, i) => Math.sin(i * 0.9));
    const dy = Float32Array.from({ length: T * B * 3 }, (_, i) => Math.cos(i * 0.4));
    const L = (v: Float32Array): number => (g.forward({ x: new Tensor(v, [T, B, 8]) }).y.data as Float32Array).reduce((a, yi, i) => a + yi * dy[i], 0);
    g.zeroGrad();
    g.forward({ x: new Tensor(xs, [T, B, 8]) }, { keep: true });
    const dx = g.backward({ y: dy }).x.data as Float32Array;
    const once = g.gradient('r.blocks.1.att.w1');
    let worst = 0;
    for (const i of [0, 5, 17, 31, 40, 63]) {
      const h = 1e-2;
      const p = xs.slice(); p[i] += h;
      const m = xs.slice(); m[i] -= h;
      const fd = (L(p) - L(m)) / (2 * h);
      worst = Math.max(worst, Math.abs(fd - dx[i]) / (1e-2 + Math.abs(fd)));
    }
    expect(worst).toBeLessThan(2e-2);
    expect(dx.some((v) => Math.abs(v) > 1e-3)).toBe(true);
    g.forward({ x: new Tensor(xs, [T, B, 8]) }, { keep: true });
    g.backward({ y: dy });
    const twice = g.gradient('r.blocks.1.att.w1');
    expect(once.some((v) => v !== 0)).toBe(true);
    twice.forEach((v, i) => expect(Math.abs(v - 2 * once[i])).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(v))));
    g.dispose();
  });

  it('gives back every heap element it took (forward, training, stream, dispose)', () => {
    const heap = runtime().heap;
    const before = heap.liveElements;
    const g = graphOf(made);
    const rows = randomRows(2, 5, 13, 3);
    g.forward({ ids: idsOf(rows) });
    const opt = new Adam();
    g.trainStep({ inputs: { ids: idsOf(rows) }, targets: { logits: idsOf(rows) } }, { losses: { logits: 'crossEntropy' }, optimizer: opt });
    const s = g.stream({ batchSize: 2 });
    s.step([1, 2]);
    s.close();
    g.dispose();
    opt.dispose();
    expect(heap.liveElements).toBe(before);
  });

  it('refuses bad options with typed errors', () => {
    const x = graph.input('x', { type: 'float', features: 12 });
    const lora = { w: 4, a: 4, v: 4, g: 4 };
    expect(() => graph.rwkv7(x, { headSize: 8, numLayers: 1, lora })).toThrow(ShapeError);
    expect(() => graph.rwkv7(x, { headSize: 6, numLayers: 1, lora })).toThrow(/Expected headSize to be a positive multiple of 4, got 6/);
    expect(() => graph.rwkv7(x, { headSize: 4, numLayers: 0, lora })).toThrow(/Expected numLayers to be a positive integer, got 0/);
    expect(() => graph.rwkv7(x, { headSize: 4, numLayers: 1, lora: { w: 4, a: 4, v: 4 } as never })).toThrow(ValueError);
    expect(() => graph.rwkv7(x, { headSize: 4, numLayers: 1, lora, heads: 3 } as never)).toThrow(ValueError);
    // the layer limit every stack obeys (limits.maxLayers)
    setLimits({ maxLayers: 2 });
    try {
      expect(() => graph.rwkv7(x, { headSize: 4, numLayers: 3, lora })).toThrow(/numLayers/);
      expect(() => graph.rwkv7(x, { headSize: 4, numLayers: 2, lora })).not.toThrow();
    } finally {
      resetLimits();
    }
  });
});
