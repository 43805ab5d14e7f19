// Unknown or misspelt option keys at every public entry point: a ValueError that names the key,
// suggests the intended one, and is thrown before anything changes (no memory allocated, no step,
// no file written).
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  init, LSTM, GRU, RNN, Sequential, layers, tensor, Tensor, SGD, RMSProp, Adam, AdamW, ValueError,
  save, serialize, toOnnx, convert, importTorch, WorkerPool, importKeras, CRF, setLimits, importModel,
} from '../../src/index';
import { checkOptions, editDistance, suggestKey } from '../../src/options';
import { RECURRENT_KEYS } from '../../src/layers/recurrent';
import { ADAM_KEYS } from '../../src/train/optim';
import { PREDICT_KEYS } from '../../src/io/keras';
import { runtime } from '../../src/wasm/load';

beforeAll(async () => {
  await init();
});

const small = () => new LSTM({ inputSize: 3, hiddenSize: 4, seed: 1 });
const seq = () => new Sequential([layers.lstm({ inputSize: 3, hiddenSize: 4 }), layers.linear({ inFeatures: 4, outFeatures: 2 })], { seed: 1 });
const batch = () => ({ x: tensor(new Float32Array(2 * 1 * 3).fill(0.5), [2, 1, 3]), y: new Tensor(new Int32Array([0, 1]), [2, 1]) });

// [entry point, call with the misspelt key, the key, the suggestion (undefined: none close)]
type Row = [string, () => unknown, string, string | undefined];
const ROWS: Row[] = [
  ['new LSTM', () => new LSTM({ inputSize: 3, hiddenSize: 4, num_layers: 2 } as never), 'num_layers', 'numLayers'],
  ['new LSTM (case)', () => new LSTM({ inputSize: 3, hiddenSize: 4, batchfirst: true } as never), 'batchfirst', 'batchFirst'],
  ['new GRU', () => new GRU({ inputSize: 3, hidden_size: 4 } as never), 'hidden_size', 'hiddenSize'],
  ['new RNN', () => new RNN({ inputSize: 3, hiddenSize: 4, nonlinearty: 'relu' } as never), 'nonlinearty', 'nonlinearity'],
  ['new LSTM (Keras name)', () => new LSTM({ inputSize: 3, units: 4 } as never), 'units', 'hiddenSize'],
  ['new LSTM init', () => new LSTM({ inputSize: 3, hiddenSize: 4, init: { weight_hh: 'orthogonal' } } as never), 'weight_hh', 'weightHh'],
  ['layers.lstm', () => layers.lstm({ inputSize: 3, hiddenSize: 4, bidirectinal: true } as never), 'bidirectinal', 'bidirectional'],
  ['layers.gru', () => layers.gru({ inputSize: 3, hiddenSize: 4, reset_after: false } as never), 'reset_after', 'resetAfter'],
  ['layers.linear', () => layers.linear({ in_features: 3, outFeatures: 2 } as never), 'in_features', 'inFeatures'],
  ['layers.dense', () => layers.dense({ inFeatures: 3, outFeatures: 2, use_bias: false } as never), 'use_bias', undefined],
  ['layers.embedding', () => layers.embedding({ numEmbeddings: 5, embedding_dim: 3 } as never), 'embedding_dim', 'embeddingDim'],
  ['layers.dropout', () => layers.dropout({ rate: 0.2 } as never), 'rate', undefined],
  ['new Sequential', () => new Sequential([layers.linear({ inFeatures: 3, outFeatures: 2 })], { batch_first: true } as never), 'batch_first', 'batchFirst'],
  ['new SGD', () => new SGD({ learning_rate: 0.1 } as never), 'learning_rate', 'lr'],
  ['new SGD (momentum)', () => new SGD({ lr: 0.1, momentun: 0.9 } as never), 'momentun', 'momentum'],
  ['new RMSProp', () => new RMSProp({ rho: 0.9 } as never), 'rho', 'alpha'],
  ['new Adam', () => new Adam({ beta_1: 0.9 } as never), 'beta_1', 'beta1'],
  ['new AdamW', () => new AdamW({ weight_decay: 0.1 } as never), 'weight_decay', 'weightDecay'],
  ['forward', () => small().forward(batch().x, { length: [2] } as never), 'length', 'lengths'],
  ['stream', () => small().stream({ batch_size: 1 } as never), 'batch_size', 'batchSize'],
  ['trainStep', () => seq().trainStep(batch(), { loss: 'crossEntropy', optimizer: new Adam(), clip_norm: 1 } as never), 'clip_norm', 'clipNorm'],
  ['evaluate', () => seq().evaluate(batch(), { loss: 'crossEntropy', train: true } as never), 'train', 'training'],
  ['evaluateDataset', () => seq().evaluateDataset([], { loss: 'crossEntropy', batchsize: 2 } as never), 'batchsize', 'batchSize'],
  ['serialize', () => serialize(small(), { vocab: ['a'] } as never), 'vocab', 'vocabulary'],
  ['toOnnx', () => toOnnx(small(), { opSet: 14 } as never), 'opSet', 'opset'],
  ['convert', () => convert(serialize(small()), { from: 'rnnw', to: 'onnx', archtecture: {} } as never), 'archtecture', 'architecture'],
  ['convert onnx', () => convert(serialize(small()), { from: 'rnnw', to: 'onnx', onnx: { sequence_lens: true } } as never), 'sequence_lens', undefined],
  ['new CRF', () => new CRF({ num_tags: 3 } as never), 'num_tags', 'numTags'],
  ['CRF nll', () => new CRF({ numTags: 2 }).nll(tensor(new Float32Array(2), [1, 1, 2]), new Tensor(new Int32Array(1), [1, 1]), undefined, { reducton: 'sum' } as never), 'reducton', 'reduction'],
  ['setLimits', () => setLimits({ max_parameters: 10 } as never), 'max_parameters', 'maxParameters'],
  ['importModel', () => importModel(serialize(small()), { form: 'rnnw' } as never), 'form', 'from'],
  ['importTorch options', () => importTorch({}, small(), { prefix: ['x'] } as never), 'prefix', 'prefixes'],
  ['importTorch architecture', () => importTorch({}, { modules: [{ type: 'LSTM', input_size: 3, hiddenSize: 4 }] } as never), 'hiddenSize', 'hidden_size'],
];

describe('option keys', () => {
  it.each(ROWS)('%s: rejects the key by name with a suggestion', (_name, call, key, suggestion) => {
    let err: unknown;
    try {
      call();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValueError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/^(modules\[0\] \(LSTM\): )?Expected only known keys in /);
    expect(msg).toContain(`got '${key}'`);
    if (suggestion) expect(msg).toContain(`did you mean '${suggestion}'?`);
    else expect(msg).not.toContain('did you mean');
  });

  it('async entry points reject the same way: fit, init, WorkerPool.create/forward/trainStep/evaluate, save, predict', async () => {
    const m = seq();
    await expect(m.fit([], { loss: 'crossEntropy', optimizer: new Adam(), epoch: 2 } as never)).rejects.toThrow(/got 'epoch'; did you mean 'epochs'\?/);
    await expect(init({ varient: 'simd' } as never)).rejects.toThrow(/got 'varient'; did you mean 'variant'\?/);
    await expect(WorkerPool.create(m, { num_workers: 1 } as never)).rejects.toThrow(/got 'num_workers'; did you mean 'workers'\?/);
    const dir = mkdtempSync(join(tmpdir(), 'rnnw-opts-'));
    await expect(save(m, join(dir, 'm.rnnw'), { meta: {} } as never)).rejects.toThrow(/got 'meta'; did you mean 'metadata'\?/);
    expect(readdirSync(dir)).toEqual([]); // nothing written, not even the temporary file
    const pool = await WorkerPool.create(m, { workers: 1 });
    try {
      await expect(pool.forward(batch().x, { h_0: new Float32Array(4) } as never)).rejects.toThrow(/got 'h_0'; did you mean 'h0'\?/);
      await expect(pool.trainStep(batch(), { loss: 'crossEntropy', optimizer: new Adam(), clipnorm: 1 } as never)).rejects.toThrow(/did you mean 'clipNorm'\?/);
      await expect(pool.evaluate(batch(), { loss: 'crossEntropy', training: true } as never)).rejects.toThrow(/got 'training'/);
    } finally {
      await pool.dispose();
    }
    m.dispose();
  });

  it('a rejected call changes nothing: no heap growth for a layer, no optimizer step, unchanged parameters', () => {
    const heap = runtime().heap;
    const live = heap.liveElements;
    expect(() => new LSTM({ inputSize: 3, hiddenSize: 400, numlayers: 2 } as never)).toThrow(ValueError);
    expect(heap.liveElements).toBe(live);
    const m = seq();
    const before = m.getParameter('0.weight_ih_l0');
    const opt = new Adam({ lr: 0.1 });
    expect(() => m.trainStep(batch(), { loss: 'crossEntropy', optimizer: opt, clip: 1 } as never)).toThrow(ValueError);
    expect(opt.step).toBe(0);
    expect(Array.from(m.getParameter('0.weight_ih_l0'))).toEqual(Array.from(before));
    m.dispose();
  });

  it('the correct keys still work everywhere (the lists match the option types), and spec round-trips pass the check', () => {
    const m = new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, batchFirst: true, init: { weightHh: 'orthogonal', forgetBias: 1 }, seed: 2 });
    const bytes = serialize(m, { vocabulary: ['a'], metadata: { k: 1 } });
    expect(convert(bytes, { from: 'rnnw', to: 'onnx', onnx: { opset: 17, lengths: true, name: 'g' } }).length).toBeGreaterThan(0);
    expect(new SGD({ lr: 0.1, momentum: 0.9, dampening: 0, nesterov: true, weightDecay: 0 }).lr).toBe(0.1);
    m.dispose();
  });

  it('importKeras predict options are checked too', () => {
    expect(() => checkOptions({ length: [1] }, PREDICT_KEYS, 'predict options')).toThrow(/did you mean 'lengths'\?/);
    expect(typeof importKeras).toBe('function');
  });

  it('suggestions: normalised match, alias, edit distance, and nothing for an unrelated word', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('form', 'from')).toBe(1); // a swap of neighbours is one edit
    expect(editDistance('', 'abc')).toBe(3);
    expect(suggestKey('NUM-LAYERS', RECURRENT_KEYS)).toBe('numLayers');
    expect(suggestKey('learningRate', ADAM_KEYS)).toBe('lr');
    expect(suggestKey('hiddenSzie', RECURRENT_KEYS)).toBe('hiddenSize');
    expect(suggestKey('banana', RECURRENT_KEYS)).toBeUndefined();
    expect(() => checkOptions(null, ['a'], 'x options')).toThrow('Expected x options to be an options object, got null');
    expect(() => checkOptions([1], ['a'], 'x options')).toThrow('got an array');
    expect(() => checkOptions(undefined, ['a'], 'x options')).not.toThrow();
  });
});
