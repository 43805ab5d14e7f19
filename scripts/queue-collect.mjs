// Writes the answers of a run submitted with scripts/queue-submit.mjs in input order, one line per
// input line (records and error records exactly as the batch tools write them), waiting for
// answers not stored yet (up to --timeout-ms, then exit 1 naming the first missing line).
//   node scripts/queue-collect.mjs --queue names --redis 127.0.0.1:6379 --run ID [--output FILE]
import { createWriteStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { answerKey, connection, jobId, runKey, usage } from './queue-common.mjs';

const { values: a } = parseArgs({ options: { queue: { type: 'string' }, redis: { type: 'string', default: '127.0.0.1:6379' }, run: { type: 'string' }, output: { type: 'string' }, 'timeout-ms': { type: 'string', default: '600000' } } });
if (!a.queue || !a.run) usage('usage: queue-collect.mjs --queue NAME --run ID [--redis HOST:PORT] [--output FILE] [--timeout-ms MS]');
const redis = new Redis(connection(a.redis));
const deadline = Date.now() + +a['timeout-ms'];
const fail = (m) => (console.error(`queue-collect: ${m}`), process.exit(1));
const wait = () => new Promise((r) => setTimeout(r, 200));

let n = await redis.get(runKey(a.queue, a.run));
while (n === null && Date.now() < deadline) await wait(), (n = await redis.get(runKey(a.queue, a.run)));
if (n === null) fail(`Expected a run ${a.run} submitted whole to queue ${a.queue}, got none`);
const out = a.output ? createWriteStream(a.output) : process.stdout;
for (let from = 1; from <= +n; from += 1000) {
  const lines = Array.from({ length: Math.min(1000, +n - from + 1) }, (_, k) => from + k);
  let got = await redis.mget(lines.map((l) => answerKey(a.queue, jobId(a.run, l))));
  while (got.includes(null)) {
    if (Date.now() > deadline) fail(`Expected an answer for line ${lines[got.indexOf(null)]} of run ${a.run} within ${a['timeout-ms']} ms, got none`);
    await wait();
    got = await redis.mget(lines.map((l) => answerKey(a.queue, jobId(a.run, l))));
  }
  if (!out.write(got.join('\n') + '\n')) await new Promise((r) => out.once('drain', r));
}
if (a.output) await new Promise((r) => out.end(r));
await redis.quit();
