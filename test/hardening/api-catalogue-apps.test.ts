// The API catalogue for the graph, decoder, CRF and application classes (issue 23), as
// test/hardening/api-catalogue.test.ts is for the layers: each bad input must be refused with its
// typed error class and a message naming the argument, and leave the parameters (every model
// involved), the optimizer's step and moments, the dropout generator and the heap's live
// elements exactly as they were.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  init, graph, GraphModel, CRF, Adam, SGD, Tensor, tensor, SequenceClassifier, SequenceLabeler, Tokenizer, Seq2Seq, TokenVocab,
  ConditionalGenerator, Forecaster, CharLM, ValueError, ShapeError, DTypeError, StateError, RnnWasmError, type Optimizer,
} from '../../src/index';
import type { Decoder } from '../../src/graph/decoder';

type ErrorClass = abstract new (...a: never[]) => Error;
interface Case {
  name: string;
  run: () => unknown;
  cls: ErrorClass;
  names: RegExp;
}

const TEXTS = ['abcab', 'ba', 'cab'];
let g: GraphModel; // encoder–decoder, trained one step
let gOpt: Adam;
let dec: Decoder;
let crf: CRF;
let clf: SequenceClassifier;
let lab: SequenceLabeler;
let s2s: Seq2Seq;
let gen: ConditionalGenerator;
let fc: Forecaster;
let lm: CharLM;
const ids = (T: number, B: number, V = 6) => new Tensor(Int32Array.from({ length: T * B }, (_, i) => 1 + (i % (V - 1))), [T, B]);
const feed = () => ({ src: ids(4, 2), tgt: ids(3, 2) });
const series = Array.from({ length: 40 }, (_, i) => Math.sin(i / 3));

beforeAll(async () => {
  await init();
  const src = graph.input('src', { type: 'ids', vocabSize: 6 });
  const tgt = graph.input('tgt', { type: 'ids', vocabSize: 6 });
  const enc = graph.lstm(graph.embedding(src, { embeddingDim: 3, name: 'se' }), { hiddenSize: 4, name: 'enc', bidirectional: true });
  const d = graph.lstm(graph.embedding(tgt, { embeddingDim: 3, name: 'te' }), { hiddenSize: 8, name: 'dec' });
  const att = graph.attention(d.output, enc.output, { score: 'dot', name: 'att' });
  const logits = graph.linear(graph.concat([att.context, d.output], { name: 'cat' }), { outFeatures: 6, name: 'out' });
  g = new GraphModel({ inputs: [src, tgt], outputs: { logits, weights: att.weights }, seed: 3 });
  gOpt = new Adam({ lr: 0.01 });
  g.trainStep({ inputs: feed(), targets: { logits: ids(3, 2) } }, { losses: { logits: 'crossEntropy' }, optimizer: gOpt });
  dec = g.decoder({ step: 'tgt', context: { src: ids(4, 1) }, beam: 2 });
  crf = new CRF({ numTags: 3, seed: 1 });
  const tok = Tokenizer.fit(TEXTS);
  clf = new SequenceClassifier({ tokenizer: tok, labels: ['x', 'y'], hiddenSize: 4, embeddingDim: 2, seed: 1 });
  lab = new SequenceLabeler({ tokenizer: tok, tags: ['O', 'B'], crf: true, hiddenSize: 4, embeddingDim: 2, seed: 1 });
  s2s = new Seq2Seq({ cell: 'gru', hidden: 4, embedding: 2, seed: 1, source: TokenVocab.fromTexts('chars', TEXTS), target: TokenVocab.fromTexts('chars', TEXTS) });
  gen = ConditionalGenerator.fromExamples(TEXTS.map((text, i) => ({ text, condition: i % 2 ? 'p' : 'q' })), { classes: ['p', 'q'], hidden: 4, embedding: 2, seed: 1 });
  fc = new Forecaster({ window: 6, horizon: 2, hidden: 4, seed: 1 });
  await fc.train(series, { steps: 1, batchSize: 4, validation: 0 });
  lm = CharLM.fromText(TEXTS.join(' '), { hidden: 4, embedding: 2, seed: 1 });
});

const nullProto = () => Object.create(null);
const cases: Case[] = [
  // ---- GraphModel -------------------------------------------------------------------------------
  { name: 'new GraphModel(null)', run: () => new GraphModel(null as never), cls: ValueError, names: /inputs/ },
  { name: 'new GraphModel({ inputs: [1] })', run: () => new GraphModel({ inputs: [1 as never], outputs: { y: 1 as never } }), cls: ValueError, names: /inputs\[0\]/ },
  { name: 'forward(null)', run: () => g.forward(null as never), cls: RnnWasmError, names: /feed|inputs/ },
  { name: 'forward without tgt', run: () => g.forward({ src: ids(4, 2) } as never), cls: RnnWasmError, names: /tgt/ },
  { name: 'forward with an unknown input', run: () => g.forward({ ...feed(), srx: ids(4, 2) } as never), cls: ValueError, names: /srx/ },
  { name: 'forward with float ids', run: () => g.forward({ src: tensor(new Float32Array(8), [4, 2]), tgt: ids(3, 2) } as never), cls: DTypeError, names: /src/ },
  { name: 'forward with an id ≥ vocabSize', run: () => g.forward({ src: new Tensor(new Int32Array([1, 9, 1, 1]), [2, 2]), tgt: ids(3, 2) }), cls: ValueError, names: /src/ },
  { name: 'forward with different batch sizes', run: () => g.forward({ src: ids(4, 2), tgt: ids(3, 3) }), cls: ShapeError, names: /tgt|batch/ },
  { name: 'forward({ kep: true })', run: () => g.forward(feed(), { kep: true } as never), cls: ValueError, names: /kep/ },
  { name: 'forward({ keep: Object.create(null) })', run: () => g.forward(feed(), { keep: nullProto() }), cls: ValueError, names: /keep/ },
  { name: 'forward({ training: true }) without keep', run: () => g.forward(feed(), { training: true }), cls: ValueError, names: /training/ },
  { name: 'backward without a kept forward', run: () => g.backward({ logits: new Float32Array(36) }), cls: StateError, names: /keep: true/ },
  { name: 'trainStep(null batch)', run: () => g.trainStep(null as never, { losses: { logits: 'crossEntropy' }, optimizer: gOpt }), cls: ValueError, names: /batch/ },
  { name: 'trainStep with an unknown loss', run: () => g.trainStep({ inputs: feed(), targets: { logits: ids(3, 2) } }, { losses: { logits: 'hinge' as never }, optimizer: gOpt }), cls: ValueError, names: /hinge|loss/ },
  { name: 'trainStep with a loss for an unknown output', run: () => g.trainStep({ inputs: feed(), targets: { y: ids(3, 2) } }, { losses: { y: 'mse' }, optimizer: gOpt }), cls: ValueError, names: /\by\b/ },
  { name: 'trainStep with targets of the wrong shape', run: () => g.trainStep({ inputs: feed(), targets: { logits: ids(2, 2) } }, { losses: { logits: 'crossEntropy' }, optimizer: gOpt }), cls: ShapeError, names: /logits/ },
  { name: 'trainStep with a target class ≥ 6', run: () => g.trainStep({ inputs: feed(), targets: { logits: new Tensor(new Int32Array(6).fill(7), [3, 2]) } }, { losses: { logits: 'crossEntropy' }, optimizer: gOpt }), cls: ValueError, names: /logits|target/ },
  { name: 'trainStep without optimizer', run: () => g.trainStep({ inputs: feed(), targets: { logits: ids(3, 2) } }, { losses: { logits: 'crossEntropy' } } as never), cls: ValueError, names: /optimizer/ },
  { name: 'trainStep clipNorm -1', run: () => g.trainStep({ inputs: feed(), targets: { logits: ids(3, 2) } }, { losses: { logits: 'crossEntropy' }, optimizer: gOpt, clipNorm: -1 }), cls: ValueError, names: /clipNorm/ },
  { name: 'trainStep clipNorm {"toString": 1}', run: () => g.trainStep({ inputs: feed(), targets: { logits: ids(3, 2) } }, { losses: { logits: 'crossEntropy' }, optimizer: gOpt, clipNorm: { toString: 1 } as never }), cls: ValueError, names: /clipNorm/ },
  { name: 'trainStep lerningRate', run: () => g.trainStep({ inputs: feed(), targets: { logits: ids(3, 2) } }, { losses: { logits: 'crossEntropy' }, optimizer: gOpt, lerningRate: 1 } as never), cls: ValueError, names: /lerningRate/ },
  { name: 'step(null)', run: () => g.step(null as never), cls: ValueError, names: /optimizer/ },
  { name: 'step clipValue NaN', run: () => g.step(gOpt, { clipValue: NaN }), cls: ValueError, names: /clipValue/ },
  { name: 'setParameter unknown name', run: () => g.setParameter('enc.weight', [1]), cls: ValueError, names: /enc\.weight/ },
  { name: 'setParameter wrong length', run: () => g.setParameter('out.bias', [1, 2]), cls: ShapeError, names: /out\.bias/ },
  { name: 'setParameter NaN', run: () => g.setParameter('out.bias', new Float32Array(6).fill(NaN)), cls: ValueError, names: /out\.bias/ },
  { name: 'setParameter 1e39', run: () => g.setParameter('out.bias', new Array(6).fill(1e39)), cls: ValueError, names: /out\.bias/ },
  { name: 'setParameter Float64Array', run: () => g.setParameter('out.bias', new Float64Array(6)), cls: DTypeError, names: /out\.bias/ },
  { name: 'setParameter Object.create(null)', run: () => g.setParameter('out.bias', nullProto()), cls: DTypeError, names: /out\.bias/ },
  { name: 'loadStateDict with an unknown name', run: () => g.loadStateDict({ ...g.stateDict(), extra: new Float32Array(1) }), cls: ValueError, names: /extra/ },
  { name: 'loadStateDict missing one', run: () => { const sd = g.stateDict(); delete sd['out.bias']; g.loadStateDict(sd); }, cls: ValueError, names: /out\.bias/ },
  { name: 'loadStateDict with one 1e39 (all-or-nothing)', run: () => g.loadStateDict({ ...g.stateDict(), 'out.bias': new Array(6).fill(1e39) }), cls: ValueError, names: /out\.bias/ },
  { name: 'gradient unknown name', run: () => g.gradient('nope'), cls: ValueError, names: /nope/ },
  { name: 'evaluate(null options)', run: () => g.evaluate({ inputs: feed(), targets: {} }, null as never), cls: ValueError, names: /losses/ },
  // ---- decoders ---------------------------------------------------------------------------------
  { name: 'decoder(null)', run: () => g.decoder(null as never), cls: ValueError, names: /decoder options/ },
  { name: 'decoder with an unknown step input', run: () => g.decoder({ step: 'x', context: { src: ids(4, 1) } }), cls: ValueError, names: /step/ },
  { name: 'decoder stepping the bidirectional encoder', run: () => g.decoder({ step: 'src', context: { tgt: ids(3, 1) } }), cls: ValueError, names: /bidirectional|step/ },
  { name: 'decoder beam 0', run: () => g.decoder({ step: 'tgt', context: { src: ids(4, 1) }, beam: 0 }), cls: ValueError, names: /beam/ },
  { name: 'decoder beam 1e6', run: () => g.decoder({ step: 'tgt', context: { src: ids(4, 1) }, beam: 1e6 }), cls: ValueError, names: /beam/ },
  { name: 'decoder beam 2.5', run: () => g.decoder({ step: 'tgt', context: { src: ids(4, 1) }, beam: 2.5 }), cls: ValueError, names: /beam/ },
  { name: 'decoder beem', run: () => g.decoder({ step: 'tgt', context: { src: ids(4, 1) }, beem: 2 } as never), cls: ValueError, names: /beem/ },
  { name: 'decoder without context', run: () => g.decoder({ step: 'tgt', context: {} }), cls: RnnWasmError, names: /src/ },
  { name: 'decoder.step with 3 ids for 2 rows', run: () => dec.step(new Int32Array([1, 2, 3])), cls: ShapeError, names: /2 token ids/ },
  { name: 'decoder.step with an id ≥ 6', run: () => dec.step(new Int32Array([1, 6])), cls: ValueError, names: /token ids/ },
  { name: 'decoder.step with floats', run: () => dec.step(new Float32Array([1, 2])), cls: DTypeError, names: /token ids/ },
  { name: 'decoder.step(null)', run: () => dec.step(null as never), cls: DTypeError, names: /token ids/ },
  { name: 'decoder.reorder wrong length', run: () => dec.reorder([0]), cls: ShapeError, names: /row indices/ },
  { name: 'decoder.reorder out of range', run: () => dec.reorder([0, 2]), cls: ValueError, names: /row indices/ },
  // ---- CRF --------------------------------------------------------------------------------------
  { name: 'new CRF({ numTags: 0 })', run: () => new CRF({ numTags: 0 }), cls: ValueError, names: /numTags/ },
  { name: 'new CRF({ numTags: Object.create(null) })', run: () => new CRF({ numTags: nullProto() }), cls: ValueError, names: /numTags/ },
  { name: 'new CRF({ numtags })', run: () => new CRF({ numtags: 3 } as never), cls: ValueError, names: /numtags/ },
  { name: 'crf.nll with K = 4 emissions', run: () => crf.nll(tensor(new Float32Array(16), [2, 2, 4]), new Tensor(new Int32Array(4), [2, 2])), cls: ShapeError, names: /emissions/ },
  { name: 'crf.nll with NaN emissions', run: () => crf.nll(tensor(new Float32Array(12).fill(NaN), [2, 2, 3]), new Tensor(new Int32Array(4), [2, 2])), cls: ValueError, names: /emissions/ },
  { name: 'crf.nll with a tag 3', run: () => crf.nll(tensor(new Float32Array(12), [2, 2, 3]), new Tensor(new Int32Array(4).fill(3), [2, 2])), cls: ValueError, names: /tags/ },
  { name: 'crf.nll with float tags', run: () => crf.nll(tensor(new Float32Array(12), [2, 2, 3]), tensor(new Float32Array(4), [2, 2]) as never), cls: DTypeError, names: /tags/ },
  { name: 'crf.nll reduction "avg"', run: () => crf.nll(tensor(new Float32Array(12), [2, 2, 3]), new Tensor(new Int32Array(4), [2, 2]), undefined, { reduction: 'avg' as never }), cls: ValueError, names: /reduction/ },
  { name: 'crf.nll with lengths [3, 1] for T = 2', run: () => crf.nll(tensor(new Float32Array(12), [2, 2, 3]), new Tensor(new Int32Array(4), [2, 2]), [3, 1]), cls: RnnWasmError, names: /lengths/ },
  { name: 'crf.backward without nll', run: () => crf.backward(), cls: StateError, names: /nll\(\)/ },
  { name: 'crf.step(null)', run: () => crf.step(null as never), cls: ValueError, names: /optimizer/ },
  { name: 'crf.setParameter transitions 1e39', run: () => crf.setParameter('transitions', new Array(9).fill(1e39)), cls: ValueError, names: /transitions/ },
  { name: 'crf.loadStateDict(null)', run: () => crf.loadStateDict(null as never), cls: ValueError, names: /state dict/ },
  { name: 'crf.loadStateDict unknown key', run: () => crf.loadStateDict({ ...crf.stateDict(), bias: [1] }), cls: ValueError, names: /bias/ },
  // ---- SequenceClassifier -----------------------------------------------------------------------
  { name: 'new SequenceClassifier(null)', run: () => new SequenceClassifier(null as never), cls: ValueError, names: /classifier options/ },
  { name: 'classifier with one label', run: () => new SequenceClassifier({ tokenizer: Tokenizer.fit(TEXTS), labels: ['x'] }), cls: ValueError, names: /labels/ },
  { name: 'classifier with duplicate labels', run: () => new SequenceClassifier({ tokenizer: Tokenizer.fit(TEXTS), labels: ['x', 'x'] }), cls: ValueError, names: /labels/ },
  { name: 'classifier pooling "sum"', run: () => new SequenceClassifier({ tokenizer: Tokenizer.fit(TEXTS), labels: ['x', 'y'], pooling: 'sum' as never }), cls: ValueError, names: /pooling/ },
  { name: 'classifier hiddenSize Object.create(null)', run: () => new SequenceClassifier({ tokenizer: Tokenizer.fit(TEXTS), labels: ['x', 'y'], hiddenSize: nullProto() }), cls: ValueError, names: /hiddenSize/ },
  { name: 'classifier dropout {"toString": 1}', run: () => new SequenceClassifier({ tokenizer: Tokenizer.fit(TEXTS), labels: ['x', 'y'], dropout: { toString: 1 } as never }), cls: ValueError, names: /dropout/ },
  { name: 'classifier hidden_size (a misspelt key)', run: () => new SequenceClassifier({ tokenizer: Tokenizer.fit(TEXTS), labels: ['x', 'y'], hidden_size: 3 } as never), cls: ValueError, names: /hidden_size/ },
  { name: 'clf.predict("abc")', run: () => clf.predict('abc' as never), cls: ValueError, names: /texts/ },
  { name: 'clf.predict([1])', run: () => clf.predict([1] as never), cls: ValueError, names: /texts\[0\]/ },
  { name: 'clf.fit with an unknown label', run: () => clf.fit(TEXTS, ['x', 'y', 'w'], { epochs: 1 }), cls: ValueError, names: /labels\[2\]|w/ },
  { name: 'clf.fit with fewer labels than texts', run: () => clf.fit(TEXTS, ['x'], { epochs: 1 }), cls: RnnWasmError, names: /labels/ },
  { name: 'clf.fit epochs -1', run: () => clf.fit(TEXTS, ['x', 'y', 'x'], { epochs: -1 }), cls: ValueError, names: /epochs/ },
  { name: 'clf.fit lr NaN', run: () => clf.fit(TEXTS, ['x', 'y', 'x'], { lr: NaN }), cls: ValueError, names: /\blr\b/ },
  // ---- SequenceLabeler --------------------------------------------------------------------------
  { name: 'labeler crf "yes"', run: () => new SequenceLabeler({ tokenizer: Tokenizer.fit(TEXTS), tags: ['O', 'B'], crf: 'yes' as never }), cls: ValueError, names: /crf/ },
  { name: 'labeler tags Object.create(null)', run: () => new SequenceLabeler({ tokenizer: Tokenizer.fit(TEXTS), tags: nullProto() }), cls: ValueError, names: /tags/ },
  { name: 'lab.fit with a tag per token missing', run: () => lab.fit([{ text: 'abc', tags: ['O', 'B'] }]), cls: ShapeError, names: /tags/ },
  { name: 'lab.fit with an unknown tag', run: () => lab.fit([{ text: 'ab', tags: ['O', 'X'] }]), cls: ValueError, names: /tags\[1\]/ },
  { name: 'lab.predict overlap -1', run: () => lab.predict(['ab'], { overlap: -1 }), cls: ValueError, names: /overlap/ },
  { name: 'lab.predict(null)', run: () => lab.predict(null as never), cls: ValueError, names: /texts/ },
  // ---- Seq2Seq ----------------------------------------------------------------------------------
  { name: 'translate beam 0', run: () => s2s.translate(['ab'], { beam: 0 }), cls: ValueError, names: /beam/ },
  { name: 'translate beam 2000', run: () => s2s.translate(['ab'], { beam: 2000 }), cls: ValueError, names: /beam/ },
  { name: 'translate nbest > beam', run: () => s2s.translate(['ab'], { beam: 2, nbest: 3 }), cls: ValueError, names: /nbest/ },
  { name: 'translate alpha -1', run: () => s2s.translate(['ab'], { alpha: -1 }), cls: ValueError, names: /alpha/ },
  { name: 'translate maxLength 1e9', run: () => s2s.translate(['ab'], { maxLength: 1e9 }), cls: ValueError, names: /maxLength/ },
  { name: 'translate maxLength Object.create(null)', run: () => s2s.translate(['ab'], { maxLength: nullProto() }), cls: ValueError, names: /maxLength/ },
  { name: 'translate maxlength', run: () => s2s.translate(['ab'], { maxlength: 3 } as never), cls: ValueError, names: /maxlength/ },
  { name: 'translate(null options)', run: () => s2s.translate(['ab'], null as never), cls: ValueError, names: /translate options/ },
  { name: 'new Seq2Seq hidden 1e6', run: () => new Seq2Seq({ hidden: 1e6, source: TokenVocab.fromTexts('chars', TEXTS), target: TokenVocab.fromTexts('chars', TEXTS) }), cls: ValueError, names: /hidden/ },
  { name: 'new Seq2Seq attention "luong"', run: () => new Seq2Seq({ attention: 'luong' as never, source: TokenVocab.fromTexts('chars', TEXTS), target: TokenVocab.fromTexts('chars', TEXTS) }), cls: ValueError, names: /attention/ },
  // ---- ConditionalGenerator, Forecaster, CharLM --------------------------------------------------
  { name: 'generate with an unknown condition', run: () => gen.generate({ condition: 'r', count: 1 }), cls: ValueError, names: /condition/ },
  { name: 'generate count 0', run: () => gen.generate({ condition: 'p', count: 0 }), cls: ValueError, names: /count/ },
  { name: 'generate temperature -1', run: () => gen.generate({ condition: 'p', temperature: -1 }), cls: ValueError, names: /temperature/ },
  { name: 'generate topk', run: () => gen.generate({ condition: 'p', topk: 2 } as never), cls: ValueError, names: /topk/ },
  { name: 'forecast with a short history', run: () => fc.forecast(series.slice(0, 3)), cls: ValueError, names: /history/ },
  { name: 'forecast with NaN', run: () => fc.forecast([...series.slice(0, 5), NaN]), cls: ValueError, names: /history|finite/ },
  { name: 'forecast(null)', run: () => fc.forecast(null as never), cls: ValueError, names: /history/ },
  { name: 'new Forecaster({ window: 0 })', run: () => new Forecaster({ window: 0 }), cls: ValueError, names: /window/ },
  { name: 'new Forecaster({ mode: Object.create(null) })', run: () => new Forecaster({ mode: nullProto() }), cls: ValueError, names: /mode/ },
  { name: 'lm.sample length -1', run: () => lm.sample({ length: -1 }), cls: ValueError, names: /length/ },
  { name: 'lm.sample topP 2', run: () => lm.sample({ topP: 2 }), cls: ValueError, names: /topP/ },
  { name: 'lm.complete(5)', run: () => lm.complete(5 as never), cls: ValueError, names: /prompt/ },
  { name: 'lm.bitsPerChar("")', run: () => lm.bitsPerChar(''), cls: ValueError, names: /text/ },
];

/** What a refused call must leave as it was: every model's parameters, the optimizers, generator and heap. */
function state() {
  const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
  const graphs = [g, clf.model, lab.model, s2s.model, gen.model, fc.model];
  const opt = (o: Optimizer) => {
    const st = o.state();
    return { step: st.step, buffers: bits(st.buffers) };
  };
  return {
    params: [...graphs.map((m) => bits(m.runner.arena.snapshot())), bits(lm.model.runner.arena.snapshot()), ...Object.values(crf.stateDict()).map(bits), ...Object.values(lab.crf!.stateDict()).map(bits)],
    rng: graphs.map((m) => m.runner.dropoutRngState),
    opt: opt(gOpt),
    live: g.runner.rt.heap.liveElements,
  };
}

describe('API catalogue: graphs, decoders, CRF and applications', () => {
  it(`has at least 80 cases (${cases.length})`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(80);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_n, c) => {
    const before = state();
    let err: unknown;
    try {
      c.run();
    } catch (e) {
      err = e;
    }
    expect(err, 'a typed error').toBeInstanceOf(c.cls);
    expect(err).toBeInstanceOf(RnnWasmError);
    expect((err as Error).message).toMatch(/^Expected /);
    expect((err as Error).message).toMatch(c.names);
    const after = state();
    expect(after.params, 'parameters').toEqual(before.params);
    expect(after.rng, 'dropout generators').toEqual(before.rng);
    expect(after.opt, 'optimizer').toEqual(before.opt);
    expect(after.live, 'heap live elements').toBe(before.live);
  });
});
void SGD;
