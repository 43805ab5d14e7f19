// Enqueues a JSONL (or text) file for scripts/queue-worker.mjs: one job per input line, with id
// <run>-<line>: submitting the same run again adds no job while its jobs wait and, once they are
// done (completed jobs are removed), stores no second answer. Prints the run id; collect the
// answers in input order with scripts/queue-collect.mjs.
//   node scripts/queue-submit.mjs --queue names --redis 127.0.0.1:6379 [--run ID] records.jsonl
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { connection, jobId, runKey, splitLines, usage } from './queue-common.mjs';

const { values: a, positionals } = parseArgs({ allowPositionals: true, options: { queue: { type: 'string' }, redis: { type: 'string', default: '127.0.0.1:6379' }, run: { type: 'string' } } });
if (!a.queue || positionals.length !== 1) usage('usage: queue-submit.mjs --queue NAME [--redis HOST:PORT] [--run ID] FILE');
const run = a.run ?? randomBytes(6).toString('hex');
if (!/^[\w.]+$/.test(run)) usage(`Expected --run of letters, digits, _ and ., got ${run}`);
let bytes;
try {
  bytes = readFileSync(positionals[0]);
} catch (e) {
  console.error(`queue-submit: Expected a readable input at ${positionals[0]}, got ${e.message}`);
  process.exit(1);
}
const queue = new Queue(a.queue, { connection: connection(a.redis) });
let jobs = [];
let n = 0;
for (const { line, bytes: b } of splitLines(bytes)) {
  n = line;
  jobs.push({ name: 'line', data: { run, line, raw: Buffer.from(b).toString('base64') }, opts: { jobId: jobId(run, line), removeOnComplete: true, attempts: 5, backoff: { type: 'fixed', delay: 500 } } });
  if (jobs.length === 1000) await queue.addBulk(jobs), (jobs = []);
}
if (jobs.length) await queue.addBulk(jobs);
// the line count last: a run whose count is set was submitted whole
const redis = new Redis(connection(a.redis));
await redis.set(runKey(a.queue, run), String(n));
await redis.quit();
await queue.close();
console.log(run);
