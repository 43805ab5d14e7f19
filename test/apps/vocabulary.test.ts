// One option vocabulary for the six applications: the sizes take PyTorch's names (hiddenSize,
// numLayers, embeddingDim) everywhere; the names CharLM, Seq2Seq, ConditionalGenerator and
// Forecaster used before (hidden, layers, embedding) are deprecated aliases mapped in one place
// (FORMER_NAMES in src/options.ts): they build the same model, both spellings at once are refused,
// and files written with the former names in their metadata load and re-save as new files.
import { beforeAll, describe, expect, it } from 'vitest';
import { rewriteModelFile } from '../hardening/fuzz/readers.mjs';
import {
  init, CharLM, Seq2Seq, ConditionalGenerator, Forecaster, SequenceClassifier, SequenceLabeler, Tokenizer, ValueError,
} from '../../src/index';
import { FORMER_NAMES, renameFormer } from '../../src/options';

beforeAll(async () => {
  await init();
});

type Meta = Record<string, unknown>;
interface App {
  serialize(o?: { optimizer?: boolean }): Uint8Array;
  dispose(): void;
  readonly config: object;
}

const tok = Tokenizer.fit(['abcab', 'bca']);
/** Each application: a builder from options, its reader, and where its file keeps the config. */
const APPS: { name: string; make: (o: Record<string, number>) => App; read: (b: Uint8Array) => App; meta?: string; sizes: Record<string, number> }[] = [
  { name: 'CharLM', make: (o) => CharLM.fromText('abcabcab', { ...o, seed: 1 }), read: (b) => CharLM.deserialize(b), meta: 'charlm', sizes: { hiddenSize: 6, numLayers: 2, embeddingDim: 3 } },
  { name: 'Seq2Seq', make: (o) => Seq2Seq.fromPairs([['ab', 'ba'], ['ca', 'ac']], { ...o, seed: 1 }), read: (b) => Seq2Seq.deserialize(b), meta: 'seq2seq', sizes: { hiddenSize: 6, embeddingDim: 3 } },
  {
    name: 'ConditionalGenerator', make: (o) => ConditionalGenerator.fromExamples([{ text: 'ab', condition: 'x' }, { text: 'ba', condition: 'y' }], { ...o, classes: ['x', 'y'], seed: 1 }),
    read: (b) => ConditionalGenerator.deserialize(b), meta: 'generator', sizes: { hiddenSize: 6, numLayers: 2, embeddingDim: 3 },
  },
  { name: 'Forecaster', make: (o) => new Forecaster({ ...o, window: 4, horizon: 2, seed: 1 }), read: (b) => Forecaster.deserialize(b), meta: 'forecaster', sizes: { hiddenSize: 6, numLayers: 2 } },
  { name: 'SequenceClassifier', make: (o) => new SequenceClassifier({ ...o, tokenizer: tok, labels: ['p', 'q'], seed: 1 }), read: (b) => SequenceClassifier.deserialize(b), sizes: { hiddenSize: 6, numLayers: 2, embeddingDim: 3 } },
  { name: 'SequenceLabeler', make: (o) => new SequenceLabeler({ ...o, tokenizer: tok, tags: ['p', 'q'], seed: 1 }), read: (b) => SequenceLabeler.deserialize(b), sizes: { hiddenSize: 6, numLayers: 2, embeddingDim: 3 } },
];

const former = (sizes: Record<string, number>) => Object.fromEntries(Object.entries(sizes).map(([k, v]) => [Object.keys(FORMER_NAMES).find((o) => FORMER_NAMES[o] === k)!, v]));
const bytesEqual = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

describe('one option vocabulary for every application', () => {
  for (const app of APPS) {
    it(`${app.name}: takes hiddenSize/numLayers/embeddingDim, and the former names as aliases of them`, () => {
      const a = app.make(app.sizes);
      expect(a.config).toMatchObject(app.sizes);
      for (const k of Object.keys(FORMER_NAMES)) expect(k in a.config, k).toBe(false);
      // the former names build the same model: the same file byte for byte
      const b = app.make(former(app.sizes));
      expect(bytesEqual(a.serialize({ optimizer: false }), b.serialize({ optimizer: false }))).toBe(true);
      // a size given under both names is refused, naming both
      expect(() => app.make({ ...app.sizes, hidden: 7 })).toThrow(ValueError);
      expect(() => app.make({ ...app.sizes, hidden: 7 })).toThrow(/Expected one of hiddenSize and hidden \(its former name\) in .* options, got both/);
      // a size the application does not have stays unknown (with its suggestion)
      if (!('numLayers' in app.sizes)) expect(() => app.make({ ...app.sizes, layers: 2 })).toThrow(/unknown key layers/);
      // a different size changes the file: the comparison above can fail
      const c = app.make({ ...app.sizes, hiddenSize: 5 });
      expect(bytesEqual(a.serialize({ optimizer: false }), c.serialize({ optimizer: false }))).toBe(false);
      for (const m of [a, b, c]) m.dispose();
    });
  }

  for (const app of APPS.filter((x) => x.meta)) {
    it(`${app.name}: a file whose metadata uses the former names loads, and saves with the new ones`, () => {
      const a = app.make(app.sizes);
      const bytes = a.serialize({ optimizer: false });
      const old = rewriteModelFile(bytes, (h: { metadata: Record<string, Meta> }) => {
        const m = h.metadata[app.meta!] as { config: Meta };
        m.config = renameBack(m.config);
        return h;
      });
      expect(bytesEqual(old, bytes)).toBe(false);
      expect(new TextDecoder().decode(old)).toContain('"hidden":6');
      const loaded = app.read(old);
      expect(loaded.config).toMatchObject(app.sizes);
      expect(bytesEqual(loaded.serialize({ optimizer: false }), bytes)).toBe(true);
      loaded.dispose();
      a.dispose();
    });
  }

  it('renameFormer: only the names an application has; the object given is not changed', () => {
    const o = { hidden: 3, layers: 2, lr: 1 };
    expect(renameFormer(o, ['hiddenSize', 'lr'], 'x option')).toEqual({ hiddenSize: 3, layers: 2, lr: 1 });
    expect(o).toEqual({ hidden: 3, layers: 2, lr: 1 });
    const same = { hiddenSize: 3 };
    expect(renameFormer(same, ['hiddenSize'], 'x option')).toBe(same);
  });
});

/** A config as files before the renaming stored it (hidden, layers, embedding), in its key order. */
function renameBack(c: Meta): Meta {
  const back: Meta = {};
  for (const [k, v] of Object.entries(c)) back[Object.keys(FORMER_NAMES).find((o) => FORMER_NAMES[o] === k) ?? k] = v;
  return back;
}
