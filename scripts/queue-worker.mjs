// The batch tools as stateless workers of an existing job queue (BullMQ on Redis). Each job is one
// record {id, text} added with jobId = the record's id, so adding it again is a no-op (BullMQ keeps
// one job per id) and a retried job computes the same result (it depends only on the model file and
// the record). The result — {id, label, probs} / {id, tokens, tags}, or {id, error} for a record
// the batch tools would answer with an error — is the job's return value. Start as many of these
// processes, on as many machines, as you like:
//   node scripts/queue-worker.mjs --model names.rnnw --app classifier --queue names --redis 127.0.0.1:6379 [--concurrency 1]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Worker } from 'bullmq';
import { init, SequenceClassifier, SequenceLabeler } from '../dist/index.js';

const { values: a } = parseArgs({ options: { model: { type: 'string' }, app: { type: 'string', default: 'classifier' }, queue: { type: 'string' }, redis: { type: 'string', default: '127.0.0.1:6379' }, 'max-chars': { type: 'string', default: '100000' } } });
if (!a.model || !a.queue || !['classifier', 'labeler'].includes(a.app)) {
  console.error('usage: queue-worker.mjs --model FILE --app classifier|labeler --queue NAME [--redis HOST:PORT]');
  process.exit(2);
}
await init();
const bytes = readFileSync(a.model);
const m = a.app === 'classifier' ? SequenceClassifier.deserialize(bytes) : SequenceLabeler.deserialize(bytes);
const [host, port] = a.redis.split(':');

function answer(rec) {
  const id = rec?.id ?? null;
  if (typeof rec?.text !== 'string') return { id, error: `Expected "text" to be a string, got ${rec?.text === undefined ? 'none' : typeof rec.text}` };
  if (rec.text.length > +a['max-chars']) return { id, error: `Expected "text" of at most ${a['max-chars']} characters, got ${rec.text.length}` };
  if (a.app === 'classifier') {
    const p = m.predict([rec.text])[0];
    const best = p.indexOf(Math.max(...p));
    return { id, label: m.labels[best], probs: Object.fromEntries(m.labels.map((l, k) => [l, +p[k].toFixed(6)])) };
  }
  return { id, tokens: m.tokenizer.split(rec.text), tags: m.predict([rec.text])[0] };
}

const worker = new Worker(a.queue, async (job) => ({ ...answer(job.data), worker: process.pid }), { connection: { host, port: +port, maxRetriesPerRequest: null } });
await worker.waitUntilReady();
console.error(`queue-worker ${process.pid} ready on ${a.queue}`);
const stop = async () => {
  await worker.close();
  m.dispose();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
