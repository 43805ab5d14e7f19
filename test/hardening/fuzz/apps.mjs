// The application file readers under fuzz (issue 23): a saved file of each application kind, its
// header (graph spec, parameters list, application metadata) mutated with the checksum made valid
// again, or its bytes damaged. A case that loads is run on a probe input and compared with the
// unmutated file's own model: the same outputs are 'same'; other outputs of the right shape, all
// finite, are 'changed' (a valid file that says something else, e.g. another scaling or
// vocabulary); outputs of the wrong shape or with NaN/Infinity are 'silent-wrong' (a bad input).
import { mutateBytes, mutateJson } from './mutate.mjs';
import { rewriteModelFile } from './readers.mjs';

const TEXTS = ['abcab', 'ba', 'cabbage'];
const series = Array.from({ length: 60 }, (_, i) => Math.sin(i / 3) + 0.01 * i);

/** Thrown by a probe: counted as 'silent-wrong' by the child. */
export class SilentWrong extends Error {}

const finite = (xs) => xs.every((v) => Number.isFinite(v));
function expectShape(ok, what) {
  if (!ok) throw new SilentWrong(`silent wrong result: ${what}`);
}

// Each kind: make(R) → the app (seeded, small, trained a step where training sets state the file
// keeps), load(R, bytes) → app, probe(app) → plain JSON to compare (throws SilentWrong on a
// wrong-shape or non-finite result).
const KINDS = {
  classifier: {
    async make(R) {
      const c = new R.SequenceClassifier({ tokenizer: R.Tokenizer.fit(TEXTS), labels: ['x', 'y', 'z'], hiddenSize: 6, embeddingDim: 3, pooling: 'mean', seed: 1 });
      c.fit(TEXTS, ['x', 'y', 'z'], { epochs: 1, batchSize: 3 });
      return c;
    },
    load: (R, b) => R.SequenceClassifier.deserialize(b),
    probe(c) {
      const p = c.predict(TEXTS);
      expectShape(p.length === TEXTS.length && p.every((r) => r.length === c.labels.length && finite(Array.from(r))), `probabilities ${p.map((r) => r.length)} for ${c.labels.length} labels`);
      return { p: p.map((r) => Array.from(r)), labels: c.classify(TEXTS) };
    },
  },
  labeler: {
    async make(R) {
      return new R.SequenceLabeler({ tokenizer: R.Tokenizer.fit(TEXTS), tags: ['O', 'B', 'I'], crf: true, hiddenSize: 6, embeddingDim: 3, seed: 2 });
    },
    load: (R, b) => R.SequenceLabeler.deserialize(b),
    probe(l) {
      const ids = TEXTS.map((t) => l.tokenizer.encode(t));
      const p = l.predictIds(ids);
      expectShape(p.length === ids.length && p.every((r, i) => r.length === ids[i].length && r.every((t) => t >= 0 && t < l.tags.length)), 'tag ids');
      return p.map((r) => Array.from(r));
    },
  },
  seq2seq: {
    async make(R) {
      return new R.Seq2Seq({ cell: 'gru', hidden: 6, embedding: 3, attention: 'additive', bidirectional: true, seed: 3, source: R.TokenVocab.fromTexts('chars', TEXTS), target: R.TokenVocab.fromTexts('chars', TEXTS) });
    },
    load: (R, b) => R.Seq2Seq.deserialize(b),
    probe(s) {
      const out = s.translate(TEXTS, { beam: 2, maxLength: 6 });
      expectShape(out.length === TEXTS.length && out.every((o) => Number.isFinite(o.logProb) && o.tokens.length <= 6), 'translations');
      return out.map((o) => [o.text, o.logProb]);
    },
  },
  generator: {
    async make(R) {
      const ex = TEXTS.map((text, i) => ({ text, condition: i % 2 ? 'p' : 'q' }));
      const g = R.ConditionalGenerator.fromExamples(ex, { classes: ['p', 'q'], hidden: 6, embedding: 3, seed: 4 });
      await g.train(ex, { steps: 1, batchSize: 3, validation: 0 });
      return g;
    },
    load: (R, b) => R.ConditionalGenerator.deserialize(b),
    probe(g) {
      const out = g.generate({ condition: 'p', count: 3, seed: 1, maxLength: 6 });
      expectShape(out.length === 3 && out.every((t) => typeof t === 'string' && t.length <= 6), 'generated texts');
      return { out, loss: g.loss(TEXTS.map((text) => ({ text, condition: 'q' }))) };
    },
  },
  forecaster: {
    async make(R) {
      const f = new R.Forecaster({ window: 8, horizon: 3, hidden: 6, seed: 5 });
      await f.train(series, { steps: 1, batchSize: 4, validation: 0 });
      return f;
    },
    load: (R, b) => R.Forecaster.deserialize(b),
    probe(f) {
      const y = f.forecast(series.slice(0, 20));
      expectShape(y.length === f.config.horizon && y.every((r) => r.length === f.config.targets.length && finite(r)), `forecast of ${y.length} steps`);
      return y;
    },
  },
  charlm: {
    async make(R) {
      return R.CharLM.fromText(TEXTS.join(' '), { cell: 'lstm', hidden: 6, embedding: 3, seed: 6 });
    },
    load: (R, b) => R.CharLM.deserialize(b),
    probe(lm) {
      const bpc = lm.bitsPerChar('abc ba');
      expectShape(Number.isFinite(bpc) && bpc >= 0, `bits per char ${bpc}`);
      return { bpc, s: lm.sample({ length: 8, seed: 1 }) };
    },
  },
};

export const APP_KINDS = Object.keys(KINDS);
/** @internal the probes, for the harness's own check that a wrong-shape result is caught. */
export const APP_PROBES = Object.fromEntries(Object.entries(KINDS).map(([k, v]) => [k, v.probe]));

/** Reader entries for readers.mjs' table: seeds are { bytes, probe } of each kind's saved file. */
export const APP_READERS = Object.fromEntries(
  Object.entries(KINDS).map(([name, k]) => [
    `app-${name}`,
    {
      async seeds(R) {
        const app = await k.make(R);
        const bytes = app.serialize();
        app.dispose();
        const back = k.load(R, bytes);
        const probe = JSON.stringify(k.probe(back));
        back.dispose();
        return [{ bytes, probe }];
      },
      mutate(seed, r) {
        const p = r();
        let bytes;
        // most cases reach the application's own checks: the metadata, then the rest of the header
        if (p < 0.6) bytes = rewriteModelFile(seed.bytes, (h) => (h.metadata ? void mutateJson(h.metadata, r) : mutateJson(h, r)));
        else if (p < 0.85) bytes = rewriteModelFile(seed.bytes, (h) => mutateJson(h, r));
        else bytes = mutateBytes(seed.bytes, r);
        return { bytes, probe: seed.probe };
      },
      run(R, input) {
        const app = k.load(R, input.bytes);
        let same;
        try {
          same = JSON.stringify(k.probe(app)) === input.probe;
        } catch (e) {
          app.dispose();
          throw e;
        }
        return Object.assign(() => app.dispose(), { same });
      },
    },
  ]),
);
