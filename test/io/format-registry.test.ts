// The file-format table (src/io/formats.ts): a format registered from a test file — a toy text
// format, "TOY1" then JSON of the architecture and the parameters — is detected, read and written by
// convert(), importModel() and detectFormat() with no other change; names are unique, and the
// table is as it was once the format is removed.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  init, convert, importModel, detectFormat, deserialize, serialize, registerFormat, fileFormats, modelFromSpec,
  Sequential, layers, tensor, ValueError, type FileFormat, type Model, type ModelSpec,
} from '../../src/index';
import { randArray } from '../model/helpers';

beforeAll(async () => {
  await init();
});

const MAGIC = 'TOY1';
const toy: FileFormat = {
  name: 'toy',
  detect: (b) => new TextDecoder().decode(b.subarray(0, 4)) === MAGIC,
  read(input) {
    const { spec, params } = JSON.parse(new TextDecoder().decode((input as Uint8Array).subarray(4))) as { spec: ModelSpec; params: Record<string, number[]> };
    const model = modelFromSpec(spec);
    model.loadStateDict(params);
    return { model, kind: 'model', metadata: { source: 'toy' }, dispose: () => model.dispose() };
  },
  write(m) {
    const model = m as Model;
    const params = Object.fromEntries(Object.entries(model.stateDict()).map(([k, v]) => [k, Array.from(v)]));
    return new TextEncoder().encode(MAGIC + JSON.stringify({ spec: model.spec(), params }));
  },
};

let unregister: (() => void) | null = null;
afterEach(() => {
  unregister?.();
  unregister = null;
});

describe('a format registered in one place', () => {
  it('converts to and from every built-in format through convert(), bit for bit', () => {
    const before = fileFormats().map((f) => f.name);
    unregister = registerFormat(toy);
    expect(fileFormats().map((f) => f.name)).toEqual([...before, 'toy']);
    const m = new Sequential([layers.gru({ inputSize: 2, hiddenSize: 3 }), layers.linear({ inFeatures: 3, outFeatures: 2 })], { seed: 4 });
    const x = tensor(randArray(4 * 2 * 2, 9), [4, 2, 2]);
    const want = Array.from(m.forward(x).output.data);
    const file = convert(serialize(m), { from: 'auto', to: 'toy' });
    expect(new TextDecoder().decode(file.subarray(0, 4))).toBe('TOY1');
    expect(detectFormat(file)).toBe('toy');
    // back to rnnw (the toy reader's metadata kept), and through safetensors and ONNX
    const back = deserialize(convert(file, { from: 'auto', to: 'rnnw' }));
    expect(back.metadata).toMatchObject({ source: 'toy' });
    expect(Array.from(back.model.forward(x).output.data)).toEqual(want);
    const viaSt = importModel(convert(convert(file, { from: 'toy', to: 'safetensors' }), { from: 'auto', to: 'toy' }), { from: 'auto' });
    expect(Array.from(viaSt.model.forward(x).output.data)).toEqual(want);
    const viaOnnx = importModel(convert(convert(file, { from: 'toy', to: 'onnx' }), { from: 'onnx', to: 'toy' }), { from: 'toy' });
    expect(Array.from(viaOnnx.model.forward(x).output.data)).toEqual(want);
    for (const d of [back.model, viaSt.model, viaOnnx.model, m]) d.dispose();
  });

  it('error messages list the registered names; names are unique; removal restores the table', () => {
    const before = fileFormats().map((f) => f.name);
    unregister = registerFormat(toy);
    expect(() => convert(new Uint8Array(4), { from: 'nope', to: 'rnnw' })).toThrow('Expected from to be rnnw, onnx, safetensors, tfjs, toy or auto, got');
    expect(() => convert(new Uint8Array(4), { from: 'auto', to: 'tfjs' })).toThrow('Expected to to be rnnw, onnx, safetensors or toy, got');
    expect(() => registerFormat({ ...toy })).toThrow(ValueError);
    expect(() => registerFormat({ ...toy })).toThrow("Expected a new format name, got 'toy' (taken)");
    expect(() => registerFormat({ name: 'Bad Name', write: toy.write })).toThrow(/Expected a format \{ name/);
    expect(() => registerFormat({ name: 'empty' })).toThrow("Expected format 'empty' to read or write models, got neither");
    unregister();
    unregister = null;
    expect(fileFormats().map((f) => f.name)).toEqual(before);
    expect(() => convert(new Uint8Array(4), { from: 'auto', to: 'toy' })).toThrow('Expected to to be rnnw, onnx or safetensors, got');
  });
});
