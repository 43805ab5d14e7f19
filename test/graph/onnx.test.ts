// ONNX export of graph models, checked against onnxruntime-node (an oracle nobody here wrote): the
// exported file runs in ORT and every output (attention weights and final states included) matches
// our forward within f32 tolerance, over padded batches whose sequences have different lengths.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as lib from '../../src/index';
import { graph as g, GraphModel, Seq2Seq, Tensor, ValueError, type Feed } from '../../src/index';
import { specToOnnx } from '../../src/io/onnx-graph';
import { trainBatch } from '../../src/apps/seq2seq/batch';
import { randArray } from '../model/helpers';

beforeAll(async () => {
  await lib.init();
});

const seen: Record<string, number> = {};
afterAll(() => console.log('max |ours − ORT| / (1 + |ORT|)', JSON.stringify(seen)));

interface In {
  data: Float32Array | Int32Array;
  shape: number[];
  lengths?: number[];
}

/** Our forward and ORT's run of the exported file on the same inputs; every output compared. */
async function compare(name: string, model: GraphModel, inputs: Record<string, In>, opts: lib.OnnxExportOptions = {}): Promise<void> {
  const bytes = lib.toOnnx(model, { lengths: true, ...opts });
  const feed: Feed = {};
  const feeds: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(inputs)) {
    const t = new Tensor(v.data as Float32Array, v.shape);
    feed[k] = v.lengths ? { data: t, lengths: v.lengths } : t;
    feeds[k] = new ort.Tensor(v.data instanceof Int32Array ? 'int32' : 'float32', v.data, v.shape);
    if (opts.lengths !== false && v.shape.length > (v.data instanceof Int32Array ? 1 : 2)) {
      feeds[`${k}_lengths`] = new ort.Tensor('int32', Int32Array.from(v.lengths ?? new Array(v.shape[1]).fill(v.shape[0])), [v.shape[1]]);
    }
  }
  const ours = model.forward(feed);
  const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    const theirs = await s.run(feeds);
    expect(Object.keys(theirs).sort()).toEqual(Object.keys(ours).sort());
    for (const [k, t] of Object.entries(ours)) {
      const o = theirs[k];
      expect(o.dims, `${name}: ${k}`).toEqual(t.shape);
      const want = o.data as Float32Array;
      let err = 0;
      for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(t.data[i] - want[i]) / (1 + Math.abs(want[i])));
      seen[`${name}: ${k}`] = err;
      expect(err, `${name}: ${k}`).toBeLessThanOrEqual(1e-5);
    }
  } finally {
    await s.release();
  }
}

const floats = (n: number, seed: number): Float32Array => randArray(n, seed);
const ids = (n: number, V: number, seed: number): Int32Array => Int32Array.from(randArray(n, seed), (v) => Math.floor(((v + 1) / 2) * V) % V);

describe('graph models exported to ONNX run in onnxruntime-node with our outputs', () => {
  it('a chain: float input → 2-layer bidirectional LSTM → dropout → linear → logSoftmax (with and without lengths)', async () => {
    const x = g.input('x', { type: 'float', features: 3 });
    const r = g.lstm(x, { hiddenSize: 5, numLayers: 2, bidirectional: true, name: 'rec' });
    const y = g.logSoftmax(g.linear(g.dropout(r.output, { p: 0.3 }), { outFeatures: 4, name: 'out' }));
    const model = new GraphModel({ inputs: [x], outputs: { y, hN: r.hN, cN: r.cN! }, seed: 3 });
    await compare('chain', model, { x: { data: floats(6 * 3 * 3, 1), shape: [6, 3, 3], lengths: [6, 2, 4] } });
    await compare('chain (no lengths)', model, { x: { data: floats(5 * 2 * 3, 2), shape: [5, 2, 3] } }, { lengths: false, opset: 18 });
    model.dispose();
  });

  for (const score of ['dot', 'general', 'additive'] as const) {
    it(`an encoder–decoder with ${score} attention, teacher-forced over padded sources and targets of different lengths`, async () => {
      const src = g.input('src', { type: 'ids', vocabSize: 9 });
      const tgt = g.input('tgt', { type: 'ids', vocabSize: 7 });
      const enc = g.gru(g.embedding(src, { embeddingDim: 4, name: 'src_emb' }), { hiddenSize: 6, bidirectional: true, name: 'enc' });
      const h0 = g.tanh(g.linear(enc.hN, { outFeatures: 12, name: 'bridge' }));
      const dec = g.lstm(g.embedding(tgt, { embeddingDim: 5, name: 'tgt_emb' }), { hiddenSize: 12, name: 'dec', initialState: { h: h0, c: h0 } });
      const att = g.attention(dec.output, enc.output, { score, attentionSize: score === 'additive' ? 7 : undefined, name: 'att' });
      const logits = g.linear(g.concat([att.context, dec.output]), { outFeatures: 7, name: 'out' });
      const model = new GraphModel({ inputs: [src, tgt], outputs: { logp: g.logSoftmax(logits), weights: att.weights, encH: enc.hN }, seed: 11 });
      const B = 4;
      await compare(`enc–dec ${score}`, model, {
        src: { data: ids(7 * B, 9, 5), shape: [7, B], lengths: [7, 3, 5, 1] },
        tgt: { data: ids(5 * B, 7, 6), shape: [5, B], lengths: [2, 5, 4, 3] },
      }, { opset: score === 'general' ? 21 : 14 });
      model.dispose();
    });
  }

  it('a classifier pooling a bidirectional GRU over valid steps: last, mean and max', async () => {
    const x = g.input('x', { type: 'float', features: 4 });
    const r = g.gru(x, { hiddenSize: 5, bidirectional: true, mergeMode: 'ave', resetAfter: false, name: 'rec' });
    const pools = (['last', 'mean', 'max'] as const).map((mode) => g.pool(r.output, { mode, name: `pool_${mode}` }));
    const outs = Object.fromEntries(pools.map((p, i) => [['last', 'mean', 'max'][i], g.softmax(g.linear(p, { outFeatures: 3, name: `head_${i}` }))]));
    const model = new GraphModel({ inputs: [x], outputs: { ...outs, all: g.concat(pools) }, seed: 5 });
    const input = { data: floats(8 * 5 * 4, 3), shape: [8, 5, 4] };
    await compare('pooling', model, { x: { ...input, lengths: [8, 1, 3, 6, 2] } });
    // reduce axes are an attribute before opset 18 and an input from 18
    await compare('pooling (no lengths, opset 14)', model, { x: input }, { lengths: false });
    await compare('pooling (no lengths, opset 18)', model, { x: input }, { lengths: false, opset: 18 });
    model.dispose();
  });

  it('a repeat-vector conditioning graph: a vector through linear as h0 of a 2-layer RNN and repeated at every step', async () => {
    const v = g.input('cond', { type: 'vector', features: 3 });
    const tok = g.input('tok', { type: 'ids', vocabSize: 10 });
    const e = g.embedding(tok, { embeddingDim: 4 });
    const h0 = g.linear(v, { outFeatures: 2 * 2 * 6, name: 'h0' });
    const r = g.rnn(g.concat([e, g.repeat(v, tok)]), { hiddenSize: 6, numLayers: 2, bidirectional: true, mergeMode: 'sum', nonlinearity: 'relu', name: 'rec', initialState: { h: h0 } });
    const model = new GraphModel({ inputs: [v, tok], outputs: { y: g.linear(r.output, { outFeatures: 2 }), hN: r.hN }, seed: 7 });
    await compare('repeat', model, {
      cond: { data: floats(3 * 3, 8), shape: [3, 3] },
      tok: { data: ids(6 * 3, 10, 9), shape: [6, 3], lengths: [4, 6, 1] },
    });
    model.dispose();
  });

  for (const [cell, attention, bidirectional] of [['lstm', 'additive', true], ['gru', 'general', false]] as const) {
    it(`a Seq2Seq model (${cell}, ${attention} attention${bidirectional ? ', bidirectional' : ''}): its teacher-forced graph`, async () => {
      const pairs: [string, string][] = [['abc', 'cba'], ['hello', 'olleh'], ['xy', 'yx'], ['rnn wasm', 'msaw nnr']];
      const s2s = Seq2Seq.fromPairs(pairs, { cell, attention, bidirectional, hidden: 6, embedding: 5, seed: 2 });
      const { srcs, tgts } = s2s.encodePairs(pairs, 'pairs');
      const batch = trainBatch(srcs, tgts);
      const inputs: Record<string, In> = {};
      for (const k of ['src', 'tgt']) {
        const f = batch.inputs[k] as { data: Tensor<Int32Array>; lengths: number[] };
        inputs[k] = { data: f.data.data, shape: [...f.data.shape], lengths: Array.from(f.lengths) };
      }
      await compare(`seq2seq ${cell}`, s2s.model, inputs);
      // its model file (vocabularies in the metadata) converts to the same ONNX model
      expect(Array.from(lib.convert(s2s.serialize(), { from: 'auto', to: 'onnx', onnx: { lengths: true } }))).toEqual(Array.from(lib.toOnnx(s2s.model, { lengths: true })));
      s2s.dispose();
    });
  }

  it('convert() and `rnn-wasm convert g.rnnw g.onnx --to onnx --lengths` turn a graph model file into the same ONNX model', async () => {
    const x = g.input('x', { type: 'float', features: 2 });
    const r = g.gru(x, { hiddenSize: 3, name: 'rec' });
    const model = new GraphModel({ inputs: [x], outputs: { y: g.pool(r.output, { mode: 'mean' }) }, seed: 1 });
    const file = lib.serialize(model);
    const viaConvert = lib.convert(file, { from: 'auto', to: 'onnx', onnx: { lengths: true } });
    expect(Array.from(viaConvert)).toEqual(Array.from(lib.toOnnx(model, { lengths: true })));
    expect(() => lib.convert(file, { from: 'rnnw', to: 'safetensors' })).toThrow(lib.FormatError);
    // the command line (the built dist/cli.js; npm test builds first)
    const dir = mkdtempSync(join(tmpdir(), 'rnnw-graph-onnx-'));
    try {
      writeFileSync(join(dir, 'g.rnnw'), file);
      const cli = resolve(__dirname, '../../dist/cli.js');
      const r = spawnSync(process.execPath, [cli, 'convert', 'g.rnnw', 'g.onnx', '--to', 'onnx', '--lengths'], { cwd: dir, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(Array.from(readFileSync(join(dir, 'g.onnx')))).toEqual(Array.from(viaConvert));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    model.dispose();
  });
});

describe('graph ONNX export refuses what it cannot write, by name', () => {
  it('a node kind with no ONNX form, an output named like a graph tensor, a lengths input name taken, bad options', () => {
    const x = g.input('x', { type: 'float', features: 2 });
    const y = g.linear(x, { outFeatures: 2, name: 'lin' });
    const model = new GraphModel({ inputs: [x], outputs: { y }, seed: 1 });
    const spec = model.spec();
    const bad = { ...spec, nodes: spec.nodes.map((n) => (n.name === 'lin' ? { ...n, kind: 'crf' } : n)) };
    expect(() => specToOnnx(bad, (k) => model.getParameter(k))).toThrow(/got node lin of kind crf/);
    expect(() => specToOnnx(bad, (k) => model.getParameter(k))).toThrow(ValueError);
    expect(() => lib.toOnnx(model, { opset: 13 })).toThrow(/Expected opset an integer in \[14, 21\], got 13/);
    expect(() => lib.toOnnx(model, { lenghts: true } as never)).toThrow(ValueError);
    model.dispose();
    const a = g.input('a', { type: 'float', features: 2 });
    const a2 = g.input('a_lengths', { type: 'vector', features: 2 });
    const clash = new GraphModel({ inputs: [a, a2], outputs: { y: g.tanh(a), z: g.tanh(a2) } });
    expect(() => lib.toOnnx(clash, { lengths: true })).toThrow(/got a_lengths twice/);
    const named = new GraphModel({ inputs: [a], outputs: { a: g.tanh(a) } });
    expect(() => lib.toOnnx(named)).toThrow(/distinct from the ONNX graph's inputs and tensors, got a$/);
    for (const m of [clash, named]) m.dispose();
  });
});
