// The application file fuzzers at a reduced count (the full run: node scripts/fuzz.mjs --cases 2500
// --readers app-classifier,…). Every mutated classifier, labeler (CRF), Seq2Seq, generator,
// forecaster and CharLM file runs in a child process with a heap cap and a time limit and must end
// in a typed RnnWasmError or a model whose probe predictions are the unmutated file's ('same') or
// those of a valid file that says something else ('changed': right shape, finite) — never a
// wrong-shape or NaN result, an untyped error, a crash, a hang or lasting memory growth.
import { describe, expect, it } from 'vitest';
import { fuzz } from './fuzz/run.mjs';
import { APP_KINDS, APP_PROBES, SilentWrong } from './fuzz/apps.mjs';
import { init, SequenceClassifier, Forecaster, Tokenizer } from '../../src/index';

const CASES = 400;

describe('application file fuzzers (reduced count; dist/ from npm run build)', () => {
  it.each(APP_KINDS)('%s: every mutated file ends in a typed error or a model with well-formed predictions, memory flat', async (kind) => {
    const reader = `app-${kind}`;
    const s = await fuzz([reader], CASES, { seed: 7, batch: CASES });
    const x = s.perReader[reader];
    console.log(reader, JSON.stringify(x));
    expect(s.bad).toEqual([]);
    expect(x.cases).toBe(CASES);
    expect(x.wasmGrowth).toBe(0);
    expect(x.outcomes['silent-wrong'] ?? 0).toBe(0);
    // the mutations reach past the first checks: some files still load with the same predictions, most are refused
    expect(x.outcomes.same ?? 0).toBeGreaterThan(0);
    expect(x.outcomes.FormatError ?? 0).toBeGreaterThan(CASES / 2);
  });

  it('the probes catch a silent wrong result: probabilities of the wrong length, a forecast of the wrong horizon', async () => {
    await init();
    const c = new SequenceClassifier({ tokenizer: Tokenizer.fit(['ab']), labels: ['x', 'y'], hiddenSize: 2, embeddingDim: 2 });
    expect(() => APP_PROBES.classifier(c)).not.toThrow();
    (c as unknown as { labels: string[] }).labels = ['x', 'y', 'z']; // what a file with a third label used to load as
    expect(() => APP_PROBES.classifier(c)).toThrow(SilentWrong);
    c.dispose();
    const f = new Forecaster({ window: 4, horizon: 2, hidden: 2 });
    await f.train(Array.from({ length: 20 }, (_, i) => i), { steps: 1, batchSize: 2, validation: 0 });
    expect(() => APP_PROBES.forecaster(f)).not.toThrow();
    (f as unknown as { config: { horizon: number } }).config = { ...f.config, horizon: 3 }; // a horizon the graph does not have
    expect(() => APP_PROBES.forecaster(f)).toThrow(SilentWrong);
    f.dispose();
  });
});
