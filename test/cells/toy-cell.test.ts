// Adding a cell is one descriptor: a toy cell registered from this test file — a ReLU RNN that runs
// the existing RNN kernels with the nonlinearity fixed to ReLU — goes through the generic paths
// without any other change: a Sequential layer's forward and backward (training), save and load,
// ONNX export (checked with ONNX Runtime), the PyTorch and ONNX importers, and an application's
// `cell` option. Removing it restores the registry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import {
  init, modelFromSpec, serialize, deserialize, toOnnx, fromOnnx, importTorch, writeSafetensors, Sequential, layers, Adam, tensor,
  SequenceClassifier, Tokenizer, ValueError,
} from '../../src/index';
import { CELLS, CELL_KINDS, registerCell, type CellDescriptor } from '../../src/layers/cells';
import { checkCell } from '../../src/apps/common/cells';
import { randArray, maxAbsDiff } from '../model/helpers';

/** The toy: one gate, h its only state, the RNN kernels with relu = 1 (forward, backward, int8, packed). */
const RELURNN: CellDescriptor = {
  kind: 'relurnn' as never,
  recurrentWeight: true,
  gates: 1,
  gateOrder: ['h'],
  states: ['h'],
  hasCellState: false,
  auxPerRow: 0,
  optionKeys: [],
  hhApart: () => 0,
  forward(a) {
    if (a.q) a.b.rnnQ8(a.gates, a.h, a.y, a.q.q, a.q.s, a.b_hh, a.lens, a.T, a.B, a.H, a.ldy, a.reverse, 1);
    else if (a.pk) a.b.rnnPk(a.gates, a.h, a.y, a.w_hh, a.pk, a.b_hh, a.lens, a.T, a.B, a.H, a.ldy, a.reverse, 1);
    else a.b.rnn(a.gates, a.h, a.y, a.w_hh, a.b_hh, a.lens, a.T, a.B, a.H, a.ldy, a.reverse, 1);
  },
  backward(a) {
    const { b, T, B, H } = a;
    b.rnnBwd(a.dgates, a.dh0, a.dy, a.dhN, a.h, a.w_hh, a.lens, b.alloc(B * H), T, B, H, a.ldy, a.reverse, 1);
    b.gemmTn(a.dw_hh, a.dgates, a.hprev, H, H, T * B, 1);
    if (a.db_hh) b.colsum(a.db_hh, a.dgates, T * B, H, 1);
  },
  forgetGate: -1,
  interchange: {
    torch: 'ReluRNN', onnx: 'RNN', keras: 'ReluRNN',
    onnxFromOurs: [0], oursFromKeras: [0],
    activations: [{ acts: ['relu'], cfg: {} }],
    onnxAttributes: () => [],
    fromOnnx: () => ({}),
    fromTorch: () => ({}),
    fromKeras: () => ({}),
    kerasBiasRows: () => 1,
  },
};

let unregister: () => void;
beforeAll(async () => {
  await init();
  unregister = registerCell(RELURNN);
});
afterAll(() => unregister());

const I = 3, H = 5, O = 2, T = 6, B = 4;
const spec = (type: string, extra: Record<string, unknown> = {}) => ({
  type: 'sequential' as const,
  layers: [{ type, inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: true, ...extra }, { type: 'linear', inFeatures: 2 * H, outFeatures: O }],
});
/** The toy model and an RNN(relu) with the same parameters: the reference it must equal bit for bit. */
function pair() {
  const toy = modelFromSpec(spec('relurnn') as never);
  const ref = new Sequential([layers.rnn({ inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: true, nonlinearity: 'relu' }), layers.linear({ inFeatures: 2 * H, outFeatures: O })]);
  ref.loadStateDict(toy.stateDict());
  return { toy, ref };
}
const x = tensor(randArray(T * B * I, 5), [T, B, I]);
const y = tensor(randArray(T * B * O, 6), [T, B, O]);
const lengths = new Int32Array([6, 3, 1, 5]);

describe('a cell registered in a test file', () => {
  it('is a cell kind of the registry, and an application cell', () => {
    expect((CELLS as Record<string, CellDescriptor>).relurnn).toBe(RELURNN);
    expect(CELL_KINDS).toContain('relurnn');
    expect(checkCell('relurnn')).toBe('relurnn');
    expect(() => registerCell(RELURNN)).toThrow("Expected a new cell kind, got 'relurnn' (taken)");
    expect(() => registerCell({ ...RELURNN, kind: 'Bad-kind' as never })).toThrow(ValueError);
    expect(() => registerCell({ ...RELURNN, kind: 'twogates' as never, gates: 2 })).toThrow(/one gateOrder name per gate/);
  });

  it('forward and backward: the RNN(relu) kernels through the generic layer, bit for bit, with lengths', () => {
    const { toy, ref } = pair();
    expect(Array.from(toy.forward(x, { lengths }).output.data)).toEqual(Array.from(ref.forward(x, { lengths }).output.data));
    const oa = new Adam({ lr: 0.01 }), ob = new Adam({ lr: 0.01 });
    for (let s = 0; s < 3; s++) {
      const la = toy.trainStep({ x, y, lengths }, { loss: 'mse', optimizer: oa }).loss;
      const lb = ref.trainStep({ x, y, lengths }, { loss: 'mse', optimizer: ob }).loss;
      expect(la).toBe(lb);
    }
    const a = toy.stateDict(), b = ref.stateDict();
    for (const k of Object.keys(b)) expect(Array.from(a[k]), k).toEqual(Array.from(b[k]));
    // training changed the parameters: the comparison above can fail
    expect(Array.from(a['0.weight_hh_l0'])).not.toEqual(Array.from(pair().toy.stateDict()['0.weight_hh_l0']));
    for (const m of [toy, ref, oa, ob]) m.dispose();
  });

  it('save and load: the file names the toy cell and loads to the same outputs', () => {
    const { toy, ref } = pair();
    const bytes = serialize(toy);
    const back = deserialize(bytes).model;
    expect(back.spec()).toEqual(toy.spec());
    expect((back.spec() as unknown as { layers: { type: string }[] }).layers[0].type).toBe('relurnn');
    expect(Array.from(back.forward(x).output.data)).toEqual(Array.from(toy.forward(x).output.data));
    for (const m of [toy, ref, back]) m.dispose();
  });

  it('ONNX export: an RNN node with Relu activations, equal to ONNX Runtime within 1e-5; the importer reads it back as an RNN(relu)', async () => {
    const { toy, ref } = pair();
    const file = toOnnx(toy, { lengths: true });
    const s = await ort.InferenceSession.create(file);
    const got = (await s.run({ input: new ort.Tensor('float32', x.data, [T, B, I]), sequence_lens: new ort.Tensor('int32', lengths, [B]) })).output.data as Float32Array;
    await s.release();
    const want = toy.forward(x, { lengths }).output.data;
    expect(maxAbsDiff(got, want)).toBeLessThanOrEqual(1e-5);
    // the node ONNX holds is the classic RNN's (the registry's first cell with that operator reads it)
    const imp = fromOnnx(file);
    expect((imp.model.spec() as unknown as { layers: { type: string; nonlinearity?: string }[] }).layers[0]).toMatchObject({ type: 'rnn', nonlinearity: 'relu' });
    expect(maxAbsDiff(imp.model.forward(x, { lengths }).output.data, want)).toBeLessThanOrEqual(1e-6);
    for (const m of [toy, ref, imp.model]) m.dispose();
  });

  it('the PyTorch importer takes the module type the descriptor names', () => {
    const { toy, ref } = pair();
    const sd = Object.fromEntries(Object.entries(toy.stateDict()).map(([k, v]) => [k.replace(/^0\./, 'rnn.').replace(/^1\./, 'fc.'), { data: v, shape: [v.length] }]));
    // shapes as PyTorch writes them
    for (const [k, t] of Object.entries(sd)) {
      const p = toy.parameters().find((q) => q.name === k.replace(/^rnn\./, '0.').replace(/^fc\./, '1.'))!;
      t.shape = [...p.shape];
    }
    const m = importTorch(writeSafetensors(sd), { modules: [{ name: 'rnn', type: 'ReluRNN' as never, input_size: I, hidden_size: H, num_layers: 2, bidirectional: true }, { name: 'fc', type: 'Linear', in_features: 2 * H, out_features: O }] });
    expect((m.spec() as unknown as { layers: { type: string }[] }).layers[0].type).toBe('relurnn');
    expect(Array.from(m.forward(x).output.data)).toEqual(Array.from(toy.forward(x).output.data));
    for (const d of [toy, ref, m]) d.dispose();
  });

  it('an application trains with it: SequenceClassifier({ cell: "relurnn" })', () => {
    const tok = Tokenizer.fit(['ab', 'ba', 'aab', 'bba']);
    const clf = new SequenceClassifier({ cell: 'relurnn' as never, tokenizer: tok, labels: ['a', 'b'], hiddenSize: 6, embeddingDim: 3, seed: 2 });
    expect(clf.model.spec().nodes.find((n) => n.name === 'rnn')?.kind).toBe('relurnn');
    const before = clf.predict(['aab'])[0];
    clf.fit(['ab', 'ba', 'aab', 'bba'], ['a', 'b', 'a', 'b'], { epochs: 3, batchSize: 2, lr: 0.05 });
    expect(clf.predict(['aab'])[0]).not.toEqual(before);
    clf.dispose();
  });
});

describe('after removal', () => {
  it('the registry is as before', () => {
    unregister();
    expect(Object.keys(CELLS)).toEqual(['lstm', 'gru', 'rnn', 'mingru', 'minlstm']);
    expect(CELL_KINDS).toEqual(['lstm', 'gru', 'rnn', 'mingru', 'minlstm']);
    unregister = registerCell(RELURNN);
  });
});
