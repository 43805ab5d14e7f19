// The batch tools beyond one machine: two local processes of scripts/queue-worker.mjs serve one
// BullMQ queue on a Redis server this test starts (Debian's redis-server on 127.0.0.1, a random
// port). Records are jobs keyed by id: adding them again is a no-op, every record is answered once,
// results equal the library's, and both workers take part.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { init } from '../../src/wasm/load';
import { SequenceClassifier } from '../../src/apps/classifier/index';
import { Tokenizer } from '../../src/apps/common/index';

const dir = mkdtempSync(join(tmpdir(), 'rnn-wasm-queue-'));
const port = 20000 + Math.floor(Math.random() * 20000);
const procs: ChildProcess[] = [];
let clf: SequenceClassifier;

function start(cmd: string, args: string[], ready: RegExp): Promise<ChildProcess> {
  return new Promise((ok, fail) => {
    const p = spawn(cmd, args, { cwd: dir });
    procs.push(p);
    let log = '';
    const on = (d: Buffer) => {
      log += d;
      if (ready.test(log)) ok(p);
    };
    p.stdout!.on('data', on);
    p.stderr!.on('data', on);
    p.on('exit', (code) => fail(new Error(`${cmd} exited with ${code}: ${log}`)));
    setTimeout(() => fail(new Error(`${cmd} not ready after 20 s: ${log}`)), 20_000);
  });
}

beforeAll(async () => {
  await init();
  clf = new SequenceClassifier({ tokenizer: Tokenizer.fit(['abcdefgh']), labels: ['x', 'y', 'z'], hiddenSize: 8, embeddingDim: 4, seed: 3 });
  writeFileSync(join(dir, 'm.rnnw'), clf.serialize());
  await start('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], /Ready to accept connections/);
  const worker = resolve(__dirname, '../../scripts/queue-worker.mjs');
  const args = ['--model', join(dir, 'm.rnnw'), '--app', 'classifier', '--queue', 'recs', '--redis', `127.0.0.1:${port}`];
  await Promise.all([start(process.execPath, [worker, ...args], /ready on recs/), start(process.execPath, [worker, ...args], /ready on recs/)]);
}, 40_000);

afterAll(async () => {
  for (const p of procs.reverse()) p.kill('SIGTERM');
  clf?.dispose();
});

describe('batch tools as stateless workers of a BullMQ queue', () => {
  it('two worker processes answer every record exactly once, keyed by id, as the library does; re-adding is a no-op', async () => {
    const connection = { host: '127.0.0.1', port };
    const queue = new Queue('recs', { connection });
    const events = new QueueEvents('recs', { connection });
    await events.waitUntilReady();
    const texts = Array.from({ length: 60 }, (_, i) => 'abcdefgh'.slice(i % 5, 3 + (i % 6)).repeat(1 + (i % 4)));
    const recs = texts.map((text, i) => ({ id: `rec-${i}`, text }));
    recs.push({ id: 'bad', text: 7 as never });
    const jobs = await queue.addBulk(recs.map((r) => ({ name: 'rec', data: r, opts: { jobId: r.id, attempts: 3 } })));
    await queue.addBulk(recs.slice(0, 10).map((r) => ({ name: 'rec', data: r, opts: { jobId: r.id } }))); // a retrying producer
    const results = await Promise.all(jobs.map((j) => j.waitUntilFinished(events, 30_000)));
    expect(await queue.getJobCountByTypes('completed')).toBe(recs.length);
    const expected = clf.predict(texts);
    results.slice(0, 60).forEach((r, i) => {
      expect(r.id).toBe(`rec-${i}`);
      expect(r.probs.x).toBeCloseTo(expected[i][0], 5);
      expect(r.label).toBe(['x', 'y', 'z'][expected[i].indexOf(Math.max(...expected[i]))]);
    });
    expect(results[60]).toMatchObject({ id: 'bad', error: 'Expected "text" to be a string, got number' });
    expect(new Set(results.map((r) => r.worker)).size).toBe(2);
    await events.close();
    await queue.close();
  }, 60_000);
});
