// Default bounds on work (issue 23): translate's default output length (relative and absolute),
// the decoder's beam width, the thread count (4 × cores, at most 64), concurrent init() calls
// serialised (no helper threads leak), threads under `node --input-type=module`, and 64 pool
// workers without a MaxListeners warning.
import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { init, Seq2Seq, TokenVocab, ValueError, graph, GraphModel, Tensor } from '../../src/index';
import { maxThreads, MAX_THREADS, THREADS_PER_CORE } from '../../src/wasm/load';
import { MAX_BEAM } from '../../src/graph/decoder';
import { expectThrow } from './helpers';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const dist = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

beforeAll(async () => {
  await init();
});

describe('translate and the decoder', () => {
  it('translate without maxLength stops at 2 × source tokens + 10, and at 512 for long sources', () => {
    const s = new Seq2Seq({ cell: 'gru', hidden: 4, embedding: 2, attention: 'none', seed: 3, source: TokenVocab.fromTexts('chars', ['ab']), target: TokenVocab.fromTexts('chars', ['ab']) });
    const settings = s.searchSettings({});
    expect(settings.maxLength(3)).toBe(16);
    expect(settings.maxLength(200)).toBe(410);
    expect(settings.maxLength(251)).toBe(512);
    expect(settings.maxLength(5000)).toBe(512);
    expect(settings.maxLength(100_000)).toBe(512);
    expect(s.searchSettings({ maxLength: 2000 }).maxLength(5000)).toBe(2000); // an explicit bound is kept
    const [long] = s.translate(['ab'.repeat(2500)]);
    expect(long.tokens.length).toBeLessThanOrEqual(512);
    s.dispose();
  });

  it(`decoder({ beam }) beyond ${MAX_BEAM} is a ValueError naming beam, before anything is compiled`, () => {
    const src = graph.input('src', { type: 'ids', vocabSize: 5 });
    const tgt = graph.input('tgt', { type: 'ids', vocabSize: 5 });
    const enc = graph.gru(graph.embedding(src, { embeddingDim: 2, name: 'e' }), { hiddenSize: 3, name: 'enc' });
    const dec = graph.gru(graph.embedding(tgt, { embeddingDim: 2, name: 'd' }), { hiddenSize: 3, name: 'dec', initialState: { h: enc.hN } });
    const m = new GraphModel({ inputs: [src, tgt], outputs: { y: graph.linear(dec.output, { outFeatures: 5, name: 'o' }) } });
    const ctx = { src: new Tensor(new Int32Array([1, 2]), [2, 1]) };
    const live = m.runner.rt.heap.liveElements;
    for (const beam of [MAX_BEAM + 1, 1e6]) expectThrow(() => m.decoder({ step: 'tgt', context: ctx, beam }), ValueError, new RegExp(`Expected beam to be an integer from 1 to ${MAX_BEAM}, got ${beam}`));
    expect(m.runner.rt.heap.liveElements).toBe(live);
    const d = m.decoder({ step: 'tgt', context: ctx, beam: MAX_BEAM });
    expect(d.batchSize).toBe(MAX_BEAM);
    d.close();
    m.dispose();
  });
});

describe('threads', () => {
  it('init({ threads }) beyond 4 × the cores (at most 64) is a ValueError that says the bound', async () => {
    const max = await maxThreads();
    expect(max).toBe(Math.min(MAX_THREADS, THREADS_PER_CORE * availableParallelism()));
    await expect(init({ threads: max + 1 })).rejects.toThrow(new RegExp(`Expected threads to be an integer from 1 to ${max}.*got ${max + 1}`));
    await expect(init({ threads: 64 + (max < 64 ? 0 : 1) })).rejects.toThrow(ValueError);
  });

  it('five races of init({ threads: 2 }) against init({ threads: 3 }) leave no helper thread behind after closeThreads()', () => {
    const r = JSON.parse(execFileSync(process.execPath, [fixture('init-race.mjs')], { encoding: 'utf8', timeout: 60_000 }).trim().split('\n').pop()!);
    expect(r.reported).toEqual(Array(5).fill([2, 3])); // serialised: each call gets the team it asked for
    expect(r.during - r.base).toBe(2); // the last team's two helpers, no losing team's
    expect(r.after).toBe(r.base);
    expect(r.finite).toBe(true);
  });

  it('under node --input-type=module, init({ threads: 2 }) runs two threads', () => {
    const code = `import { init, closeThreads } from ${JSON.stringify(dist)}; const i = await init({ threads: 2 }); await closeThreads(); console.log(JSON.stringify(i));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout.trim())).toEqual({ variant: expect.any(String), int8: expect.any(String), relaxedDot: expect.any(Boolean), threads: 2, threadsNote: '' });
  });

  it('helper threads that cannot start (a flag workers refuse) give the one-thread runtime with the reason, not a rejection', () => {
    const code = `import { init, LSTM, tensor } from ${JSON.stringify(dist)}; const i = await init({ threads: 2 }); const y = new LSTM({ inputSize: 1, hiddenSize: 2 }).forward(tensor(new Float32Array(2), [2, 1, 1])).output.data; console.log(JSON.stringify({ ...i, ok: y.every(Number.isFinite) }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '--disallow-code-generation-from-strings', '-e', code], { encoding: 'utf8', timeout: 60_000 });
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out.threads).toBe(1);
    expect(out.threadsNote).toMatch(/^Expected 2 threads, got 1: the helper threads did not start \(Expected a helper thread to start, got .*invalid execArgv/);
    expect(out.ok).toBe(true);
    expect(r.stderr).toMatch(/rnn-wasm: Expected 2 threads, got 1: .*; running on one thread/); // warned once, as for a missing SharedArrayBuffer
  });

  it('a pool of 64 workers runs a sharded forward without a MaxListeners warning', () => {
    const r = spawnSync(process.execPath, [fixture('pool-64.mjs')], { encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).not.toMatch(/MaxListeners/);
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toEqual({ shape: [2, 64, 3], same: true });
  });
});
