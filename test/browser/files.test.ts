// In real Chromium: a model saved to IndexedDB, or as a Blob, loads back bit-exact (parameters,
// vocabulary, forward output); a missing key and a corrupted Blob give FormatError.
import { describe, expect, it } from 'vitest';
import * as l from '../../dist/index.js';

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe('model files in Chromium', () => {
  it('IndexedDB and Blob round trips are bit-exact; missing or corrupt files give FormatError', async () => {
    await l.init();
    const m = new l.Sequential(
      [l.layers.embedding({ numEmbeddings: 7, embeddingDim: 4 }), l.layers.gru({ inputSize: 4, hiddenSize: 5 }), l.layers.linear({ inFeatures: 5, outFeatures: 7 })],
      { seed: 3 },
    );
    const x = new l.Tensor(Int32Array.from([1, 2, 3, 4, 5, 6]), [3, 2]);
    const want = m.forward(x).output.data;
    const vocabulary = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];

    await l.saveToIndexedDB('browser-test', m, { vocabulary });
    const fromDb = await l.loadFromIndexedDB('browser-test');
    expect(fromDb.vocabulary).toEqual(vocabulary);
    expect(bits(fromDb.model.forward(x).output.data)).toEqual(bits(want));
    for (const p of m.parameters()) expect(bits(fromDb.model.getParameter(p.name))).toEqual(bits(m.getParameter(p.name)));

    const blob = l.toBlob(m, { vocabulary });
    const fromBlob = await l.load(blob);
    expect(bits(fromBlob.model.forward(x).output.data)).toEqual(bits(want));

    await expect(l.loadFromIndexedDB('no-such-model')).rejects.toBeInstanceOf(l.FormatError);
    const bytes = new Uint8Array(await blob.arrayBuffer());
    bytes[bytes.length - 9] ^= 0xff;
    await expect(l.load(new Blob([bytes]))).rejects.toBeInstanceOf(l.FormatError);
    for (const d of [m, fromDb.model, fromBlob.model]) d.dispose();
  });

  it('model-file bytes round trip through IndexedDB unchanged; bad keys and non-bytes are ValueErrors', async () => {
    await l.init();
    const lm = l.CharLM.fromText('abc abd\n', { hidden: 6, embedding: 3, seed: 2 });
    const bytes = lm.serialize();
    await l.saveBytesToIndexedDB('charlm-bytes', bytes);
    const back = await l.loadBytesFromIndexedDB('charlm-bytes');
    expect(Array.from(back)).toEqual(Array.from(bytes));
    const copy = l.CharLM.deserialize(back);
    expect(copy.sample({ length: 20, seed: 4 })).toBe(lm.sample({ length: 20, seed: 4 }));
    expect((await l.loadFromIndexedDB('charlm-bytes')).vocabulary).toEqual([...lm.vocabulary.tokens]);
    await expect(l.saveBytesToIndexedDB('', bytes)).rejects.toBeInstanceOf(l.ValueError);
    await expect(l.saveBytesToIndexedDB('k', [1, 2] as unknown as Uint8Array)).rejects.toThrow(/Expected bytes to be a Uint8Array/);
    await expect(l.loadBytesFromIndexedDB('never-stored')).rejects.toBeInstanceOf(l.FormatError);
    copy.dispose();
    lm.dispose();
  });
});
