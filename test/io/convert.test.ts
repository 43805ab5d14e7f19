// convert(): every supported pair goes through a rebuilt model; what cannot be represented is named.
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import {
  init, convert, detectFormat, readTfjsFiles, deserialize, serialize, importKeras, writeSafetensors, readSafetensors,
  Sequential, layers, Tensor, tensor, ValueError, type KerasSource, type TorchArchitecture,
} from '../../src/index';
import { tfjsReady } from '../oracle/tfjs';
import { randArray, maxAbsDiff } from '../model/helpers';

beforeAll(async () => {
  await init();
  await tfjsReady();
});

describe('convert', () => {
  const arch: TorchArchitecture = {
    modules: [
      { name: 'emb', type: 'Embedding', num_embeddings: 7, embedding_dim: 3 },
      { name: 'gru', type: 'GRU', input_size: 3, hidden_size: 4, bidirectional: true },
      { name: 'fc', type: 'Linear', in_features: 8, out_features: 7 },
    ],
  };
  const sd = () => {
    const m = new Sequential([layers.embedding({ numEmbeddings: 7, embeddingDim: 3 }), layers.gru({ inputSize: 3, hiddenSize: 4, bidirectional: true }), layers.linear({ inFeatures: 8, outFeatures: 7 })], { seed: 12 });
    const names: Record<string, string> = { '0': 'emb', '1': 'gru', '2': 'fc' };
    const out: Record<string, { data: Float32Array; shape: number[] }> = {};
    for (const p of m.parameters()) out[p.name.replace(/^(\d)\./, (_, i) => `${names[i]}.`)] = { data: m.getParameter(p.name), shape: [...p.shape] };
    return { m, file: writeSafetensors(out) };
  };

  it('safetensors + architecture → rnnw → onnx, outputs equal ORT within 1e-5', async () => {
    const { m, file } = sd();
    expect(detectFormat(file)).toBe('safetensors');
    const rnnw = convert(file, { from: 'safetensors', to: 'rnnw', architecture: arch });
    expect(detectFormat(rnnw)).toBe('rnnw');
    const onnxBytes = convert(rnnw, { from: 'auto', to: 'onnx', onnx: { lengths: true } });
    expect(detectFormat(onnxBytes)).toBe('onnx');
    const { model } = deserialize(rnnw);
    for (const p of m.parameters()) expect(Array.from(model.getParameter(p.name))).toEqual(Array.from(m.getParameter(p.name)));
    const ids = new Int32Array([1, 2, 3, 4, 5, 6, 0, 1]);
    const lens = new Int32Array([4, 3]);
    const s = await ort.InferenceSession.create(onnxBytes);
    const got = (await s.run({ input: new ort.Tensor('int32', ids, [4, 2]), sequence_lens: new ort.Tensor('int32', lens, [2]) })).output.data as Float32Array;
    await s.release();
    expect(maxAbsDiff(got, model.forward(new Tensor(ids, [4, 2]), { lengths: lens }).output.data)).toBeLessThanOrEqual(1e-5);
    // back to a PyTorch-named safetensors file that carries the architecture
    const back = readSafetensors(convert(rnnw, { from: 'rnnw', to: 'safetensors' }));
    expect(JSON.parse(back.metadata!['rnn-wasm.model'])).toEqual(model.spec());
    expect(Array.from(back.tensors['1.weight_hh_l0_reverse'].data)).toEqual(Array.from(m.getParameter('1.weight_hh_l0_reverse')));
    // …and that file converts back without an architecture argument
    const again = deserialize(convert(convert(rnnw, { from: 'rnnw', to: 'safetensors' }), { from: 'auto', to: 'rnnw' })).model;
    for (const p of m.parameters()) expect(Array.from(again.getParameter(p.name))).toEqual(Array.from(m.getParameter(p.name)));
    again.dispose();
    model.dispose();
    m.dispose();
  });

  it('onnx → rnnw keeps where sequence_lens went; the same outputs', () => {
    const m = new Sequential([layers.lstm({ inputSize: 2, hiddenSize: 3, numLayers: 2 }), layers.linear({ inFeatures: 3, outFeatures: 2 })], { seed: 2 });
    const file = convert(serialize(m), { from: 'rnnw', to: 'onnx', onnx: { lengths: true } });
    const { model, metadata } = deserialize(convert(file, { from: 'onnx', to: 'rnnw' }));
    expect(metadata).toMatchObject({ source: 'onnx', lengthsInput: 'sequence_lens' });
    const x = tensor(randArray(5 * 2 * 2, 3), [5, 2, 2]);
    expect(maxAbsDiff(model.forward(x).output.data, m.forward(x).output.data)).toBe(0);
    model.dispose();
    m.dispose();
  });

  it('tfjs model.json + shards on disk → rnnw equals the Keras import; many-to-one is refused by name', async () => {
    const T = 4, B = 2;
    const k = tf.sequential();
    k.add(tf.layers.lstm({ units: 3, returnSequences: true, inputShape: [T, 2], recurrentActivation: 'sigmoid', biasInitializer: 'glorotUniform' }));
    k.add(tf.layers.dense({ units: 2 }));
    const dir = mkdtempSync(join(tmpdir(), 'rnnw-tfjs-'));
    await k.save(tf.io.withSaveHandler(async (a) => {
      writeFileSync(join(dir, 'model.json'), JSON.stringify({ modelTopology: a.modelTopology, weightsManifest: [{ paths: ['w.bin'], weights: a.weightSpecs }] }));
      writeFileSync(join(dir, 'w.bin'), new Uint8Array(a.weightData as ArrayBuffer));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    const src = await readTfjsFiles(join(dir, 'model.json'));
    const { model } = deserialize(convert(src, { from: 'auto', to: 'rnnw' }));
    const x = tensor(randArray(B * T * 2, 4), [B, T, 2]);
    const want = (k.predict(tf.tensor3d(x.data, [B, T, 2])) as tf.Tensor).dataSync();
    expect(maxAbsDiff(model.forward(x).output.data, want)).toBeLessThanOrEqual(1e-5);
    model.dispose();

    const m2o = tf.sequential();
    m2o.add(tf.layers.gru({ units: 3, inputShape: [T, 2], recurrentActivation: 'sigmoid' }));
    let art: KerasSource | undefined;
    await m2o.save(tf.io.withSaveHandler(async (a) => {
      art = a as KerasSource;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    expect(() => convert(art!, { from: 'tfjs', to: 'rnnw' })).toThrow(/return_sequences=False/);
    const imp = importKeras(art!);
    expect(imp.predict(x).shape).toEqual([B, 3]);
    imp.dispose();
    k.dispose();
    m2o.dispose();
  });

  it('names missing inputs and bad options', () => {
    const { m, file } = sd();
    expect(() => convert(file, { from: 'safetensors', to: 'rnnw' })).toThrow(ValueError);
    expect(() => convert(file, { from: 'safetensors', to: 'tfjs' as never })).toThrow(/to to be rnnw, onnx or safetensors/);
    expect(() => convert(file, { from: 'tfjs', to: 'rnnw' })).toThrow(/weight shards/);
    m.dispose();
  });
});
