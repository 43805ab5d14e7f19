// rnn-wasm serve and createServer, as users run them: the built library (dist/index.js, whose
// worker script dist/batch-worker.js holds the model) and the built CLI, on 127.0.0.1 only.
// Concurrent clients get exactly their own answers, equal to the library's call; limits answer
// 413/400 naming the limit; SIGTERM while requests wait in a batch loses none of them; /metrics
// counts what was served.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { init } from '../../src/wasm/load';
import { SequenceClassifier } from '../../src/apps/classifier/index';
import { SequenceLabeler } from '../../src/apps/labeler/index';
import { Seq2Seq } from '../../src/apps/seq2seq/index';
import { CharLM } from '../../src/apps/charlm/index';
import { Forecaster } from '../../src/apps/forecaster/index';
import { ConditionalGenerator } from '../../src/apps/generator/index';
import { Tokenizer } from '../../src/apps/common/index';
import type { RnnServer, ServerOptions } from '../../src/index';

const DIST = resolve(__dirname, '../../dist/index.js');
const CLI = resolve(__dirname, '../../dist/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'rnn-wasm-serve-'));
let createServer: (o: ServerOptions) => Promise<RnnServer>;
let clf: SequenceClassifier;
const servers: RnnServer[] = [];
const texts = Array.from({ length: 200 }, (_, i) => 'abcdefgh'.slice(i % 5, 3 + (i % 6)).repeat(1 + (i % 4)));

const post = async (url: string, body: unknown) => {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
};
const metric = (text: string, name: string) => Number(new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
const classified = (p: Float32Array) => ({ label: p[0] >= p[1] && p[0] >= p[2] ? 'x' : p[1] >= p[2] ? 'y' : 'z', probs: { x: +p[0].toFixed(6), y: +p[1].toFixed(6), z: +p[2].toFixed(6) } });

beforeAll(async () => {
  await init();
  ({ createServer } = (await import(DIST)) as { createServer: typeof createServer });
  clf = new SequenceClassifier({ tokenizer: Tokenizer.fit(['abcdefgh']), labels: ['x', 'y', 'z'], hiddenSize: 8, embeddingDim: 4, seed: 3 });
  writeFileSync(join(dir, 'clf.rnnw'), clf.serialize());
}, 30_000);

afterAll(async () => {
  for (const s of servers) await s.close();
  clf?.dispose();
});

describe('createServer', () => {
  it('64 concurrent clients get exactly their own answers, equal to SequenceClassifier.predict; requests were batched; /metrics counts them', async () => {
    const s = await createServer({ model: join(dir, 'clf.rnnw'), workers: 2, batchWindowMs: 20, maxBatch: 16, maxChars: 200_000, maxBodyBytes: 1 << 20 });
    servers.push(s);
    expect(s.kind).toBe('classifier');
    const url = await s.listen();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${url}/readyz`)).json()).toEqual({ status: 'ready', kind: 'classifier' });
    const want = clf.predict(texts).map(classified);
    // client c asks for 1 to 3 texts of its own
    const asks = Array.from({ length: 64 }, (_, c) => Array.from({ length: 1 + (c % 3) }, (_, k) => (c * 3 + k) % texts.length));
    // two long texts first keep both workers busy, so the 64 clients' requests arrive while none is
    // idle (a request that finds a worker idle is sent at once) and are batched
    const long = 'abcdefgh'.repeat(20_000);
    const busy = [post(`${url}/v1/classify`, { texts: [long] }), post(`${url}/v1/classify`, { texts: [long] })];
    const answers = await Promise.all(asks.map((ix) => post(`${url}/v1/classify`, { texts: ix.map((i) => texts[i]) })));
    for (const b of await Promise.all(busy)) expect(b.status).toBe(200);
    answers.forEach((a, c) => {
      expect(a.status).toBe(200);
      expect(a.body.results).toEqual(asks[c].map((i) => want[i]));
    });
    const m = await (await fetch(`${url}/metrics`)).text();
    const sent = asks.reduce((n, ix) => n + ix.length, 0) + 2;
    expect(metric(m, 'rnnwasm_requests_total{route="/v1/classify",status="200"}')).toBe(66);
    expect(metric(m, 'rnnwasm_texts_total')).toBe(sent);
    expect(metric(m, 'rnnwasm_batch_size_sum')).toBe(sent);
    // dynamic batching: fewer model calls than requests, none above --max-batch
    const calls = metric(m, 'rnnwasm_batch_size_count');
    expect(calls).toBeLessThan(66);
    expect(calls).toBeGreaterThanOrEqual(Math.ceil(sent / 16));
    expect(metric(m, 'rnnwasm_batch_size_bucket{le="16"}')).toBe(calls);
    expect(metric(m, 'rnnwasm_request_duration_seconds_count{route="/v1/classify"}')).toBe(66);
  }, 60_000);

  it('with batching off (window 0, max batch 1) every request is its own call, with the same answers', async () => {
    const s = await createServer({ model: join(dir, 'clf.rnnw'), batchWindowMs: 0, maxBatch: 1 });
    servers.push(s);
    const url = await s.listen();
    const want = clf.predict(texts.slice(0, 20)).map(classified);
    const answers = await Promise.all(texts.slice(0, 20).map((t) => post(`${url}/v1/classify`, { texts: [t] })));
    expect(answers.map((a) => (a.body.results as object[])[0])).toEqual(want);
    expect(metric(await (await fetch(`${url}/metrics`)).text(), 'rnnwasm_batch_size_count')).toBe(20);
  }, 30_000);

  it('limits answer 413 naming the limit, malformed bodies 400, late answers 504, other endpoints 404 naming the model kind; unknown options are refused', async () => {
    const s = await createServer({ model: join(dir, 'clf.rnnw'), maxBodyBytes: 2000, maxTexts: 4, maxChars: 50 });
    servers.push(s);
    const url = await s.listen();
    const big = await post(`${url}/v1/classify`, { texts: ['a'.repeat(3000)] });
    expect(big).toEqual({ status: 413, body: { error: 'Expected a body of at most 2000 bytes, got more', limit: 'maxBodyBytes' } });
    expect(await post(`${url}/v1/classify`, { texts: ['a', 'b', 'c', 'd', 'e'] })).toEqual({ status: 413, body: { error: 'Expected at most 4 texts per request, got 5', limit: 'maxTexts' } });
    expect(await post(`${url}/v1/classify`, { texts: ['ab', 'a'.repeat(51)] })).toEqual({ status: 413, body: { error: 'Expected at most 50 characters per text, got 51', limit: 'maxChars' } });
    expect(await post(`${url}/v1/classify`, { text: 'ab' })).toEqual({ status: 400, body: { error: 'Expected "texts" to be a non-empty array of strings, got undefined' } });
    expect((await post(`${url}/v1/classify`, '{"texts": [')).status).toBe(400);
    expect(await post(`${url}/v1/translate`, { texts: ['ab'] })).toEqual({ status: 404, body: { error: 'Expected POST /v1/classify for this classifier model, got POST /v1/translate', kind: 'classifier' } });
    // an answer later than the timeout is a 504 naming the limit: a text of 400,000 characters keeps
    // the only worker busy far longer than 5 ms
    const slow = await createServer({ model: join(dir, 'clf.rnnw'), timeoutMs: 5, maxChars: 500_000, maxBodyBytes: 1 << 20, workers: 1 });
    servers.push(slow);
    expect(await post(`${await slow.listen()}/v1/classify`, { texts: ['ab'.repeat(200_000)] })).toEqual({ status: 504, body: { error: 'Expected an answer within 5 ms, got none', limit: 'timeoutMs' } });
    await expect(createServer({ model: join(dir, 'clf.rnnw'), maxbatch: 4 } as never)).rejects.toThrow(/maxbatch/);
    await expect(createServer({ model: new Uint8Array([1, 2, 3]) })).rejects.toThrow(/^Expected an application model file \(classifier, labeler, seq2seq, generator, charlm or forecaster\), got none of them/);
    // the limits did not disturb the server
    expect((await post(`${url}/v1/classify`, { texts: ['ab'] })).body.results).toEqual([classified(clf.predict(['ab'])[0])]);
  }, 30_000);

  it('labeler, seq2seq, char LM and generator models get their own endpoint with the library’s answers (bad options: 400); a forecaster has none', async () => {
    const lab = new SequenceLabeler({ tokenizer: Tokenizer.fit(['abcdefgh']), tags: ['P', 'Q'], hiddenSize: 8, embeddingDim: 4, seed: 5 });
    const s2s = Seq2Seq.fromPairs([['abc', 'cba'], ['hgf', 'fgh']], { hidden: 8, embedding: 4, seed: 2 });
    const lm = new CharLM({ vocabulary: 'abcdefgh', hidden: 8, embedding: 4 });
    const fc = new Forecaster({ window: 4, horizon: 2, hidden: 4, seed: 1 });
    const gen = ConditionalGenerator.fromExamples([{ text: 'ab', condition: 'x' }, { text: 'ba', condition: 'y' }], { classes: ['x', 'y'], hidden: 8, embedding: 4, seed: 2 });
    const cases: [string, Uint8Array, string, unknown, unknown][] = [
      ['labeler', lab.serialize(), 'label', { texts: ['abc', 'hg'] }, { results: [{ tokens: ['a', 'b', 'c'], tags: lab.predict(['abc'])[0] }, { tokens: ['h', 'g'], tags: lab.predict(['hg'])[0] }] }],
      ['seq2seq', s2s.serialize(), 'translate', { texts: ['abc'] }, { results: s2s.translate(['abc'], { batchSize: 64 }).map((t) => ({ output: t.text, score: t.score, logProb: t.logProb })) }],
      ['charlm', lm.serialize(), 'complete', { prompt: 'ab', maxLength: 5 }, { completion: lm.complete('ab', { maxLength: 5 }) }],
      ['generator', gen.serialize(), 'generate', { condition: 'y', count: 3, seed: 4, maxLength: 6 }, { texts: gen.generate({ condition: 'y', count: 3, seed: 4, maxLength: 6 }) }],
    ];
    for (const [kind, bytes, verb, body, want] of cases) {
      const s = await createServer({ model: bytes });
      servers.push(s);
      expect(s.kind).toBe(kind);
      const url = await s.listen();
      expect(await post(`${url}/v1/${verb}`, body)).toEqual({ status: 200, body: want });
      expect((await post(`${url}/v1/classify`, { texts: ['a'] })).body.kind).toBe(kind);
      // a library error on the client's options is a 400 with the library's message
      if (kind === 'charlm') expect(await post(`${url}/v1/complete`, { prompt: 'ab', maxLength: -1 })).toEqual({ status: 400, body: { error: expect.stringMatching(/^Expected maxLength/) } });
      await s.close();
    }
    const f = await createServer({ model: fc.serialize() });
    servers.push(f);
    const furl = await f.listen();
    expect(await post(`${furl}/v1/generate`, {})).toEqual({ status: 404, body: { error: 'Expected a model kind with a text endpoint for this forecaster model, got POST /v1/generate', kind: 'forecaster' } });
    for (const m of [lab, s2s, lm, fc, gen]) m.dispose();
  }, 60_000);
});

describe('rnn-wasm serve', () => {
  it('SIGTERM while 40 accepted requests wait in a batch: every one is answered correctly, new connections are refused, exit 0', async () => {
    const p = spawn(process.execPath, [CLI, 'serve', join(dir, 'clf.rnnw'), '--port', '0', '--batch-window-ms', '1500', '--max-batch', '1000'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    const url = await new Promise<string>((ok, fail) => {
      p.stderr!.on('data', (d) => {
        err += d;
        const m = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(err);
        if (m) ok(m[1]);
      });
      p.on('exit', (code) => fail(new Error(`serve exited with ${code}: ${err}`)));
    });
    const exited = new Promise<number | null>((ok) => p.on('exit', (code) => ok(code)));
    const { port } = new URL(url);
    // send 40 requests and know when each is on the wire
    const sent: Promise<void>[] = [];
    const answers = texts.slice(0, 40).map((t) => new Promise<{ status: number; body: { results: unknown[] } }>((ok, fail) => {
      const body = JSON.stringify({ texts: [t] });
      const req = request({ host: '127.0.0.1', port, path: '/v1/classify', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        let data = '';
        res.on('data', (d) => (data += d)).on('end', () => ok({ status: res.statusCode!, body: JSON.parse(data) }));
      });
      req.on('error', fail);
      sent.push(new Promise((r) => req.on('finish', () => r())));
      req.end(body);
    }));
    await Promise.all(sent);
    await new Promise((r) => setTimeout(r, 300));
    p.kill('SIGTERM');
    const want = clf.predict(texts.slice(0, 40)).map(classified);
    const got = await Promise.all(answers);
    expect(got.map((a) => a.status)).toEqual(want.map(() => 200));
    expect(got.map((a) => a.body.results[0])).toEqual(want);
    expect(await exited).toBe(0);
    expect(err).toMatch(/closing: answering accepted requests\nclosed/);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  }, 60_000);
});
