// The batch tools as stateless workers of a job queue (BullMQ on Redis). A job is one input line
// of a run submitted by scripts/queue-submit.mjs ({run, line, raw}: the line's bytes, base64);
// the worker answers it exactly as `classify`/`label`/`translate` would (the same worker thread,
// dist/batch-worker.js: parsing, checks, formatting, error records) and stores the record under a
// key derived from the job id with SET NX, so a job processed twice (a killed worker's job is
// retried) still has one answer; scripts/queue-collect.mjs writes the answers in input order.
// It refuses (exit 2) a Redis without AOF persistence: a restart of such a Redis loses every
// waiting job and stored answer, silently. --allow-volatile runs anyway.
//   node scripts/queue-worker.mjs --model names.rnnw --app classifier --queue names --redis 127.0.0.1:6379 [--concurrency 1]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { Piscina } from 'piscina';
import { answerKey, connection, usage } from './queue-common.mjs';

const { values: a } = parseArgs({
  options: {
    model: { type: 'string', multiple: true }, app: { type: 'string', default: 'classifier' }, queue: { type: 'string' }, redis: { type: 'string', default: '127.0.0.1:6379' },
    format: { type: 'string', default: 'jsonl' }, 'max-chars': { type: 'string', default: '100000' }, concurrency: { type: 'string', default: '1' },
    'lock-ms': { type: 'string', default: '30000' }, 'allow-volatile': { type: 'boolean', default: false },
  },
});
const apps = { classifier: 'classifier', labeler: 'labeler', seq2seq: 'seq2seq' };
if (!a.model || !a.queue || !apps[a.app] || !['jsonl', 'text'].includes(a.format)) usage('usage: queue-worker.mjs --model FILE --app classifier|labeler|seq2seq --queue NAME [--redis HOST:PORT] [--format jsonl|text] [--concurrency N] [--lock-ms MS] [--allow-volatile]');
const conn = connection(a.redis);

// persistence: AOF on, or an explicit --allow-volatile
const probe = new Redis(conn);
const info = await probe.info('persistence');
await probe.quit();
if (!/^aof_enabled:1\r?$/m.test(info) && !a['allow-volatile']) {
  console.error(`queue-worker: Expected a Redis with AOF persistence (appendonly yes) at ${a.redis}, got appendonly no: a restart would lose every job and answer. Turn it on (CONFIG SET appendonly yes) or pass --allow-volatile`);
  process.exit(2);
}

const concurrency = Math.max(1, +a.concurrency);
const pool = new Piscina({
  filename: new URL('../dist/batch-worker.js', import.meta.url).href, minThreads: concurrency, maxThreads: concurrency, idleTimeout: 2 ** 31 - 1,
  workerData: { kind: apps[a.app], models: a.model.map((f) => new Uint8Array(readFileSync(f))), format: a.format, maxChars: +a['max-chars'] },
});
// the model loads (and a wrong file fails) before any job is taken
await pool.run({ info: true });

async function answer(job) {
  const { line, raw } = job.data;
  const bytes = new Uint8Array(Buffer.from(raw, 'base64'));
  try {
    const r = await pool.run({ bytes, ends: [bytes.length], lines: [line] });
    return Buffer.from(r.bytes.subarray(0, r.ends[0] - 1)).toString('utf8');
  } catch (e) {
    // the batch tools' answer to a record whose worker fails alone
    let id = a.format === 'text' ? line : null;
    try {
      id = JSON.parse(Buffer.from(bytes).toString('utf8'))?.id ?? null;
    } catch {}
    return JSON.stringify({ line, id, error: `Expected line ${line} to run within the worker's limits, got ${String(e?.message ?? e).split('\n')[0]}` });
  }
}

const store = new Redis(conn);
const worker = new Worker(a.queue, async (job) => {
  const client = store;
  const key = answerKey(a.queue, job.id);
  if (await client.exists(key)) return { line: job.data.line, stored: false };
  const stored = await client.set(key, await answer(job), 'NX');
  return { line: job.data.line, stored: stored === 'OK', worker: process.pid };
}, { connection: conn, concurrency, lockDuration: +a['lock-ms'], stalledInterval: +a['lock-ms'], maxStalledCount: 100 });
await worker.waitUntilReady();
console.error(`queue-worker ${process.pid} ready on ${a.queue}`);
const stop = async () => {
  await worker.close();
  await pool.destroy();
  store.disconnect();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
