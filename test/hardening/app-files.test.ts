// Application files under the core readers' rules (issue 23): metadata is checked against the
// graph before anything is allocated (no second model is built from metadata.*.config), a file
// whose labels, tokenizer or CRF do not match its graph is a FormatError, a refused file leaves
// the wasm heap as it was (live elements and size), and hostile JSON values give typed errors.
import { beforeAll, describe, expect, it } from 'vitest';
import { rewriteModelFile } from './fuzz/readers.mjs';
import {
  init, FormatError, Seq2Seq, TokenVocab, ConditionalGenerator, Forecaster, SequenceClassifier,
  SequenceLabeler, Tokenizer, GraphModel,
} from '../../src/index';

beforeAll(async () => {
  await init();
});

type Meta = Record<string, unknown>;
/** The file with its header's metadata edited (lengths and checksum made valid again, as the fuzzer does). */
function rewrite(bytes: Uint8Array, edit: (m: Meta) => void): Uint8Array {
  return rewriteModelFile(bytes, (h: { metadata: Meta }) => {
    edit(h.metadata);
    return h;
  });
}
function heapOf(m: GraphModel) {
  const h = m.runner.rt.heap;
  return () => ({ live: h.liveElements, bytes: h.byteLength });
}
function refused(load: () => { dispose(): void }, heap: () => { live: number; bytes: number }, msg: RegExp): void {
  const before = heap();
  let err: unknown;
  try {
    load().dispose();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(FormatError);
  expect((err as Error).message).toMatch(msg);
  expect(heap()).toEqual(before);
}

const tok = Tokenizer.fit(['abcab', 'bca']);

describe('metadata is compared with the graph before anything is built', () => {
  it('a Seq2Seq file (about 40 KB) whose config says hiddenSize: 2000 is refused with a FormatError, the heap unchanged', () => {
    const s = new Seq2Seq({ cell: 'lstm', hidden: 24, embedding: 8, attention: 'general', seed: 1, source: TokenVocab.fromTexts('chars', ['abcdefghij']), target: TokenVocab.fromTexts('chars', ['abcdefghij']) });
    const bytes = s.serialize({ optimizer: false });
    expect(bytes.length).toBeGreaterThan(20_000);
    expect(bytes.length).toBeLessThan(50_000);
    const bad = rewrite(bytes, (m) => ((m.seq2seq as { config: Meta }).config.hiddenSize = 2000));
    refused(() => Seq2Seq.deserialize(bad), heapOf(s.model), /Expected the graph that metadata.seq2seq describes, got another graph/);
    // with a hidden size past the limits: the same FormatError, from the limit, still nothing allocated
    const huge = rewrite(bytes, (m) => ((m.seq2seq as { config: Meta }).config.hiddenSize = 1e6));
    refused(() => Seq2Seq.deserialize(huge), heapOf(s.model), /FormatError|Expected/);
    // the unmutated file still loads
    Seq2Seq.deserialize(bytes).dispose();
    s.dispose();
  });

  it('generator and forecaster files whose config says hiddenSize: 2000: FormatError, the heap unchanged', () => {
    const ex = [{ text: 'ab', condition: 'x' }, { text: 'ba', condition: 'y' }];
    const g = ConditionalGenerator.fromExamples(ex, { classes: ['x', 'y'], hidden: 8, embedding: 4, seed: 1 });
    const gb = rewrite(g.serialize({ optimizer: false }), (m) => ((m.generator as { config: Meta }).config.hiddenSize = 2000));
    refused(() => ConditionalGenerator.deserialize(gb), heapOf(g.model), /Expected the graph metadata.generator describes, got another graph/);
    const f = new Forecaster({ window: 8, horizon: 2, hidden: 8, seed: 1 });
    const fb = rewrite(f.serialize({ optimizer: false }), (m) => ((m.forecaster as { config: Meta }).config.hiddenSize = 2000));
    refused(() => Forecaster.deserialize(fb), heapOf(f.model), /Expected the graph metadata.forecaster describes, got another graph/);
    g.dispose();
    f.dispose();
  });

  it('a classifier file whose labels or tokenizer do not match its graph is a FormatError (it used to predict wrong-length probabilities)', () => {
    const c = new SequenceClassifier({ tokenizer: tok, labels: ['x', 'y'], hiddenSize: 8, embeddingDim: 4, seed: 1 });
    const bytes = c.serialize();
    const heap = heapOf(c.model);
    refused(() => SequenceClassifier.deserialize(rewrite(bytes, (m) => (m.labels = ['x', 'y', 'z']))), heap, /valid classifier model file.*Expected the graph the classifier options describe/);
    const bigger = Tokenizer.fit(['abcdefgh']).toJSON();
    refused(() => SequenceClassifier.deserialize(rewrite(bytes, (m) => (m.tokenizer = bigger))), heap, /Expected the graph the classifier options describe/);
    refused(() => SequenceClassifier.deserialize(rewrite(bytes, (m) => ((m.config as Meta).hiddenSize = 9))), heap, /another graph/);
    refused(() => SequenceClassifier.deserialize(rewrite(bytes, (m) => (m.config = [1]))), heap, /Expected metadata.config of a classifier model file to be an object, got Array/);
    const back = SequenceClassifier.deserialize(bytes);
    expect(back.predict(['abc'])[0].length).toBe(2);
    back.dispose();
    c.dispose();
  });

  it('a labeler file refused for its CRF parameters (bad metadata.extra, or none with crf: true) keeps no CRF behind', () => {
    const l = new SequenceLabeler({ tokenizer: tok, tags: ['O', 'B', 'I'], crf: true, hiddenSize: 8, embeddingDim: 4, seed: 1 });
    const bytes = l.serialize();
    const heap = heapOf(l.model);
    for (let i = 0; i < 50; i++) {
      refused(() => SequenceLabeler.deserialize(rewrite(bytes, (m) => ((m.extra as Meta).transitions = [1, 2]))), heap, /transitions to have 9 elements/);
    }
    refused(() => SequenceLabeler.deserialize(rewrite(bytes, (m) => delete m.extra)), heap, /Expected the CRF parameters \(metadata.extra\)/);
    refused(() => SequenceLabeler.deserialize(rewrite(bytes, (m) => ((m.config as Meta).crf = false))), heap, /Expected CRF parameters only with crf: true/);
    refused(() => SequenceLabeler.deserialize(rewrite(bytes, (m) => (m.labels = ['O', 'B']))), heap, /another graph/);
    // float32 range: 1e39 is finite as a number, Infinity as a float32 transition score
    refused(() => SequenceLabeler.deserialize(rewrite(bytes, (m) => ((m.extra as { transitions: number[] }).transitions[4] = 1e39))), heap, /Expected finite values for transitions \(as float32.*got 1e\+39 at index 4/);
    const back = SequenceLabeler.deserialize(bytes);
    expect(back.crf!.getParameter('transitions')).toEqual(l.crf!.getParameter('transitions'));
    back.dispose();
    l.dispose();
  });
});

describe('hostile JSON values in application metadata give FormatErrors, never TypeErrors', () => {
  const hostile = { toString: 1 };
  it('{"toString": 1} as a version, a config value or a label', () => {
    const s = new Seq2Seq({ cell: 'gru', hidden: 8, embedding: 4, seed: 1, source: TokenVocab.fromTexts('chars', ['ab']), target: TokenVocab.fromTexts('chars', ['ab']) });
    const heap = heapOf(s.model);
    const sb = s.serialize({ optimizer: false });
    refused(() => Seq2Seq.deserialize(rewrite(sb, (m) => ((m.seq2seq as Meta).version = hostile))), heap, /Expected the file header \(model spec and metadata\) without a key named toString/);
    for (const key of ['cell', 'hidden', 'attention', 'dropout', 'bidirectional']) {
      refused(() => Seq2Seq.deserialize(rewrite(sb, (m) => ((m.seq2seq as { config: Meta }).config[key] = hostile))), heap, /Expected/);
    }
    const c = new SequenceClassifier({ tokenizer: tok, labels: ['x', 'y'], hiddenSize: 8, embeddingDim: 4, seed: 1 });
    const cb = c.serialize();
    for (const key of ['pooling', 'truncation', 'cell', 'hiddenSize', 'dropout', 'bidirectional']) {
      refused(() => SequenceClassifier.deserialize(rewrite(cb, (m) => ((m.config as Meta)[key] = hostile))), heap, /Expected/);
    }
    refused(() => SequenceClassifier.deserialize(rewrite(cb, (m) => (m.labels = ['x', hostile]))), heap, /Expected/);
    refused(() => SequenceClassifier.deserialize(rewrite(cb, (m) => (m.app = hostile))), heap, /without a key named toString/);
    const f = new Forecaster({ window: 8, horizon: 2, hidden: 8, seed: 1 });
    const fb = f.serialize({ optimizer: false });
    for (const key of ['mode', 'cell', 'hidden', 'window', 'targets']) {
      refused(() => Forecaster.deserialize(rewrite(fb, (m) => ((m.forecaster as { config: Meta }).config[key] = hostile))), heap, /Expected/);
    }
    s.dispose();
    c.dispose();
    f.dispose();
  });
});
