// The core's guarantees for the newer APIs (issue 23): float32 range checked after conversion
// (1e39 is a finite number and Infinity as float32), a kept forward made stale by any parameter
// write, unknown keys refused by every backward, typed errors (never TypeError) for hostile JSON
// and prototype-less option values, and a malformed worker reply as a WorkerError.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  init, LSTM, Sequential, layers, GraphModel, graph, CRF, Adam, SGD, Tensor, tensor, ValueError, StateError, FormatError, RnnWasmError,
  importKeras, serialize, deserialize, SequenceLabeler, Tokenizer, WorkerError,
} from '../../src/index';
import { checkReply } from '../../src/parallel/protocol';
import { rewriteModelFile } from './fuzz/readers.mjs';
import { expectThrow } from './helpers';

beforeAll(async () => {
  await init();
});

function tinyGraph(): GraphModel {
  const x = graph.input('x', { type: 'float', features: 3 });
  const r = graph.lstm(x, { hiddenSize: 4, name: 'rnn' });
  return new GraphModel({ inputs: [x], outputs: { y: graph.linear(r.output, { outFeatures: 2, name: 'out' }) } });
}
const seq = (T: number, B: number, F: number) => tensor(Float32Array.from({ length: T * B * F }, (_, i) => Math.sin(i)), [T, B, F]);

describe('float32 range: values are checked as they will be stored', () => {
  const big = [0.5, 1e39, 0.25];
  it('setParameter / loadStateDict of layers, Sequential, GraphModel and CRF refuse 1e39 (Infinity as float32) and change nothing', () => {
    const lstm = new LSTM({ inputSize: 1, hiddenSize: 1 });
    const s = new Sequential([layers.lstm({ inputSize: 1, hiddenSize: 1 }), layers.linear({ inFeatures: 1, outFeatures: 1 })]);
    const g = tinyGraph();
    const crf = new CRF({ numTags: 2 });
    const cases: [string, { getParameter(n: string): Float32Array; setParameter(n: string, v: ArrayLike<number>): void; stateDict(): Record<string, Float32Array>; loadStateDict(sd: Record<string, ArrayLike<number>>): void }, string][] = [
      ['LSTM', lstm, 'weight_ih_l0'], ['Sequential', s, s.parameters()[0].name], ['GraphModel', g, 'out.bias'], ['CRF', crf, 'start'],
    ];
    for (const [what, m, name] of cases) {
      const before = m.stateDict();
      const n = m.getParameter(name).length;
      const values = Array.from({ length: n }, (_, i) => big[i % 3]);
      expectThrow(() => m.setParameter(name, values), ValueError, new RegExp(`Expected finite values for ${name.replace('.', '\\.')} \\(as float32.*got 1e\\+39 at index 1`));
      expectThrow(() => m.loadStateDict({ ...before, [name]: values }), ValueError, /as float32/);
      // the largest float32 is accepted
      m.setParameter(name, Array.from({ length: n }, () => 3.4028234663852886e38));
      expect(m.getParameter(name)[0], what).toBe(3.4028234663852886e38);
      m.loadStateDict(before);
      expect(m.stateDict()).toEqual(before);
    }
    for (const m of [lstm, s, g, crf]) m.dispose();
  });

  it('a labeler whose CRF got 1e39 through the API saves a file it can load (the value never got in)', () => {
    const l = new SequenceLabeler({ tokenizer: Tokenizer.fit(['ab']), tags: ['O', 'B'], crf: true, hiddenSize: 4, embeddingDim: 2 });
    expect(() => l.crf!.setParameter('transitions', [1e39, 0, 0, 0])).toThrow(ValueError);
    SequenceLabeler.deserialize(l.serialize()).dispose();
    l.dispose();
  });
});

describe('a kept forward is stale after any parameter write', () => {
  it('layers: setParameter, loadStateDict, trainStep and step between forward(keep) and backward give a StateError; a new forward works', () => {
    const m = new LSTM({ inputSize: 3, hiddenSize: 4 });
    const x = seq(5, 2, 3);
    const dOutput = new Float32Array(5 * 2 * 4).fill(0.1);
    const writes: [string, () => void][] = [
      ['setParameter', () => m.setParameter('bias_ih_l0', m.getParameter('bias_ih_l0'))],
      ['loadStateDict', () => m.loadStateDict(m.stateDict())],
      ['trainStep', () => m.trainStep({ x, y: seq(5, 2, 4) }, { loss: 'mse', optimizer: new SGD({ lr: 0.01 }) })],
      ['step', () => m.step(new SGD({ lr: 0.01 }))],
    ];
    for (const [what, write] of writes) {
      m.forward(x, { keep: true });
      write();
      const g0 = m.gradient('weight_hh_l0');
      expectThrow(() => m.backward({ dOutput }), StateError, /parameters written since that forward/);
      expect(m.gradient('weight_hh_l0'), what).toEqual(g0); // nothing accumulated
      expect(() => m.backward({ dOutput }), what).toThrow(/no kept forward/); // the stale forward is gone
    }
    m.forward(x, { keep: true });
    expect(m.backward({ dOutput }).dx!.shape).toEqual([5, 2, 3]);
    m.dispose();
  });

  it('graphs: setParameter, loadStateDict, trainStep and step between forward(keep) and backward give a StateError', () => {
    const g = tinyGraph();
    const feed = { x: seq(4, 2, 3) };
    const dy = new Float32Array(4 * 2 * 2).fill(0.1);
    const writes: [string, () => void][] = [
      ['setParameter', () => g.setParameter('out.bias', [0.1, 0.2])],
      ['loadStateDict', () => g.loadStateDict(g.stateDict())],
      ['trainStep', () => g.trainStep({ inputs: feed, targets: { y: seq(4, 2, 2) } }, { losses: { y: 'mse' }, optimizer: new Adam() })],
      ['step', () => g.step(new SGD({ lr: 0.01 }))],
    ];
    for (const [what, write] of writes) {
      g.forward(feed, { keep: true });
      write();
      expectThrow(() => g.backward({ y: dy }), StateError, /parameters written since that forward/);
      expect(() => g.backward({ y: dy }), what).toThrow(/no kept forward/);
    }
    g.forward(feed, { keep: true });
    expect(g.backward({ y: dy }).x.shape).toEqual([4, 2, 3]);
    g.dispose();
  });

  it('the layer backward refuses unknown keys ({ doutput }) as the graph backward does, before it consumes the kept forward', () => {
    const m = new LSTM({ inputSize: 3, hiddenSize: 4 });
    const x = seq(5, 2, 3);
    m.forward(x, { keep: true });
    const g0 = m.gradient('weight_ih_l0');
    expectThrow(() => m.backward({ doutput: new Float32Array(40) } as never), ValueError, /Expected only known keys in backward gradients \(dOutput, dhN, dcN\), got 'doutput'; did you mean 'dOutput'/);
    expect(m.gradient('weight_ih_l0')).toEqual(g0);
    expect(m.backward({ dOutput: new Float32Array(40).fill(1) }).dx!.shape).toEqual([5, 2, 3]); // still pending
    m.dispose();
  });
});

describe('hostile JSON and prototype-less values: typed errors only', () => {
  it('Object.create(null) and {"toString": 1} as option values give ValueErrors naming the option', () => {
    const m = new LSTM({ inputSize: 2, hiddenSize: 3 });
    const x = seq(2, 1, 2);
    for (const bad of [Object.create(null), { toString: 1 }]) {
      expectThrow(() => new LSTM({ inputSize: 2, hiddenSize: bad }), ValueError, /hiddenSize/);
      expectThrow(() => m.stream({ batchSize: bad }), ValueError, /batchSize/);
      expectThrow(() => m.trainStep({ x, y: seq(2, 1, 3) }, { loss: 'mse', optimizer: new Adam(), tbptt: bad }), ValueError, /tbptt/);
      expectThrow(() => new Adam({ lr: bad }), ValueError, /lr/);
      expectThrow(() => new CRF({ numTags: bad }), ValueError, /numTags/);
      expectThrow(() => m.setParameter('bias_ih_l0', bad), RnnWasmError, /bias_ih_l0/);
      expectThrow(() => new SequenceLabeler({ tokenizer: Tokenizer.fit(['ab']), tags: bad }), ValueError, /tags/);
    }
    m.dispose();
  });

  it('{"toString": 1} anywhere in a Keras model.json is a FormatError naming the key', () => {
    const layers = [
      { class_name: 'InputLayer', name: 'in', config: { name: 'in', batch_input_shape: [null, null, 2] }, inbound_nodes: [] },
      { class_name: 'GRU', name: 'a', config: { name: 'a', units: 2, recurrent_activation: 'sigmoid' }, inbound_nodes: [[['in', 0, 0, {}]]] },
    ];
    const modelJson = {
      modelTopology: { keras_version: '2.15.0', model_config: { class_name: 'Functional', config: { layers, input_layers: [['in', 0, 0]], output_layers: [['a', 0, 0]] } } },
      weightsManifest: [{ paths: ['w.bin'], weights: [['a/kernel', [2, 6]], ['a/recurrent_kernel', [2, 6]], ['a/bias', [2, 6]]].map(([name, shape]) => ({ name, shape, dtype: 'float32' })) }],
    };
    const bin = new Uint8Array(4 * 36);
    importKeras({ modelJson: JSON.stringify(modelJson), weights: { 'w.bin': bin } }).dispose();
    const leaves: string[][] = [];
    const walk = (o: unknown, p: string[]) => {
      leaves.push(p);
      if (o && typeof o === 'object') for (const k of Object.keys(o)) walk((o as Record<string, unknown>)[k], [...p, k]);
    };
    walk(modelJson, []);
    let n = 0;
    for (const p of leaves.slice(1)) {
      const j = JSON.parse(JSON.stringify(modelJson));
      let at = j;
      for (const k of p.slice(0, -1)) at = at[k];
      at[p[p.length - 1]] = { toString: 1 };
      for (const src of [{ modelJson: JSON.stringify(j), weights: { 'w.bin': bin } }, { modelJson: j, weights: { 'w.bin': bin } }]) {
        expectThrow(() => importKeras(src as never), FormatError, /model.json without a key named toString/);
        n++;
      }
    }
    expect(n).toBeGreaterThan(60);
  });

  it('a model file header with {"toString": 1} is a FormatError; save refuses such metadata instead of writing a file it could not read', () => {
    const m = new LSTM({ inputSize: 1, hiddenSize: 1 });
    for (const key of ['toString', 'valueOf']) {
      expectThrow(() => serialize(m, { metadata: { note: { [key]: 1 } } }), ValueError, new RegExp(`save options \\(metadata, vocabulary\\) without a key named ${key}`));
      const bytes = rewriteModelFile(serialize(m, { metadata: { note: 1 } }), (h: { metadata: Record<string, unknown> }) => ({ ...h, metadata: { note: { [key]: 1 } } }));
      expectThrow(() => deserialize(bytes), FormatError, new RegExp(`the file header \\(model spec and metadata\\) without a key named ${key}`));
    }
    // a method defined in code is not JSON: it is not stored, and the file reads back
    expect(deserialize(serialize(m, { metadata: { note: { toString: () => 'x', n: 2 } } })).metadata).toEqual({ note: { n: 2 } });
    m.dispose();
  });
});

describe('a malformed worker reply is a WorkerError', () => {
  it('null, a missing error, a wrong kind or wrong field types', () => {
    const cases: [unknown, string][] = [
      [null, 'grad'], [undefined, 'grad'], [{}, 'grad'], [{ ok: 'yes' }, 'grad'], [{ ok: false }, 'grad'], [{ ok: false, error: { name: 1 } }, 'grad'],
      [{ ok: true, kind: 'forward' }, 'grad'], [{ ok: true, kind: 'grad', means: ['1'], grad: new Float32Array(1) }, 'grad'],
      [{ ok: true, kind: 'grad', means: [1], grad: [1] }, 'grad'], [{ ok: true, kind: 'forward', outputs: { y: { data: new Float32Array(3), shape: [2, 2] } } }, 'forward'],
      [{ ok: true, kind: 'forward', outputs: { y: null } }, 'forward'], [{ ok: true, kind: 'translate', translations: [1] }, 'translate'],
      [{ ok: true, kind: 'ping', variant: Object.create(null) }, 'ping'], [Object.create(null), 'ping'], [{ toString: 1 }, 'ping'],
    ];
    for (const [r, kind] of cases) expectThrow(() => checkReply(r, kind as never, 'worker 0'), WorkerError, /Expected worker 0 to reply/);
    // a well-formed failure keeps its class; a well-formed result passes
    expectThrow(() => checkReply({ ok: false, error: { name: 'ValueError', message: 'Expected x, got y' } }, 'grad', 'worker 0'), ValueError, /Expected x, got y/);
    const good = { ok: true, kind: 'forward', outputs: { y: { data: new Float32Array(4), shape: [2, 2] } } };
    expect(checkReply(good, 'forward', 'worker 0')).toBe(good);
  });
});
void deserialize;
void Tensor;
