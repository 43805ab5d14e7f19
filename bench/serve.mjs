// `rnn-wasm serve` under load (issue 24): throughput and p50/p99 latency at --connections (default
// 1, 16 and 64 concurrent clients) with dynamic batching on (--batch-window-ms 2, --max-batch 32)
// and off (--batch-window-ms 0, --max-batch 1), measured with autocannon against the server on
// 127.0.0.1. Model: the names classifier's shape (characters → embedding 32 → bidirectional
// LSTM 64 → linear 2); every request classifies one held-out name (autocannon cycles through
// --texts bodies). Both servers run for the whole bench as child processes (`node dist/cli.js
// serve`, --workers as given); each answers as SequenceClassifier.predict before anything is timed.
// Interleaved rounds: every round measures each (connections, batching) cell once, the on/off order
// alternating between rounds; printed per cell: the median over rounds of requests/s, p50 and p99
// (ms), and the median of the per-round on/off throughput ratios with their spread.
//   npm run build && node bench/serve.mjs [--rounds 5] [--seconds 10] [--connections 1,16,64] [--workers 2]
//   tiny check that it runs: node bench/serve.mjs --rounds 1 --seconds 1 --connections 1,4
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { init, SequenceClassifier, Tokenizer } from '../dist/index.js';
import { names } from '../scripts/apps-data.mjs';
import { positiveCount } from './common.mjs';

const { values: a } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, seconds: { type: 'string', default: '10' }, connections: { type: 'string', default: '1,16,64' }, workers: { type: 'string', default: '2' }, texts: { type: 'string', default: '200' } } });
const rounds = positiveCount('--rounds', a.rounds);
const seconds = positiveCount('--seconds', a.seconds);
const workers = positiveCount('--workers', a.workers);
const connections = a.connections.split(',').map((c) => positiveCount('--connections', c));
await init();
const { train, test } = names();
const texts = test.texts.slice(0, positiveCount('--texts', a.texts));
const clf = new SequenceClassifier({ tokenizer: Tokenizer.fit(train.texts), labels: ['female', 'male'], hiddenSize: 64, embeddingDim: 32, bidirectional: true, seed: 1 });
const dir = mkdtempSync(join(tmpdir(), 'serve-bench-'));
writeFileSync(join(dir, 'm.rnnw'), clf.serialize());
const load = () => loadavg().map((v) => +v.toFixed(2));
const results = { date: new Date().toISOString(), rounds, seconds, workers, connections, cores: cpus().length, coresThisProcessMayUse: availableParallelism(), loadBefore: load() };

/** A server child process; resolves to { url, stop }. */
function serve(batchArgs) {
  const p = spawn(process.execPath, [resolve('dist/cli.js'), 'serve', join(dir, 'm.rnnw'), '--port', '0', '--workers', String(workers), ...batchArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  return new Promise((ok, fail) => {
    p.stderr.on('data', (d) => {
      err += d;
      const m = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(err);
      if (m) ok({ url: m[1], stop: () => new Promise((r) => (p.once('exit', r), p.kill('SIGTERM'))) });
    });
    p.once('exit', (code) => fail(new Error(`serve exited with ${code}: ${err}`)));
  });
}
const modes = { on: ['--batch-window-ms', '2', '--max-batch', '32'], off: ['--batch-window-ms', '0', '--max-batch', '1'] };
const servers = { on: await serve(modes.on), off: await serve(modes.off) };

// both answer as the library does (the server prints 6 decimals: equal to within one unit in the last)
const want = clf.predict(texts);
for (const [mode, s] of Object.entries(servers)) {
  const got = await Promise.all(texts.map((t) => fetch(`${s.url}/v1/classify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ texts: [t] }) }).then((r) => r.json())));
  got.forEach((g, i) => {
    const p = g.results?.[0]?.probs?.female;
    if (typeof p !== 'number' || Math.abs(p - want[i][0]) > 1.5e-6) throw new Error(`expected the ${mode} server to answer text ${i} as predict, got ${JSON.stringify(g)}`);
  });
}

const requests = texts.map((t) => ({ method: 'POST', path: '/v1/classify', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ texts: [t] }) }));
const measure = (url, c) => new Promise((ok, fail) => autocannon({ url, connections: c, duration: seconds, requests }, (e, r) => (e ? fail(e) : ok(r))));
const cells = {};
for (let round = 0; round < rounds; round++) {
  for (const c of connections) {
    for (const mode of round % 2 ? ['off', 'on'] : ['on', 'off']) {
      const r = await measure(servers[mode].url, c);
      if (r.non2xx || r.errors || r.timeouts) throw new Error(`expected only 2xx answers, got ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`);
      const cell = (cells[`${c}/${mode}`] ??= { rps: [], p50: [], p99: [] });
      cell.rps.push(r.requests.average);
      cell.p50.push(r.latency.p50);
      cell.p99.push(r.latency.p99);
      console.error(`round ${round + 1}/${rounds} connections ${c} batching ${mode}: ${Math.round(r.requests.average)} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms`);
    }
  }
}
for (const s of Object.values(servers)) await s.stop();
const median = (v) => {
  const s = [...v].sort((p, q) => p - q);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
results.cells = Object.fromEntries(Object.entries(cells).map(([k, v]) => [k, { rps: Math.round(median(v.rps)), p50_ms: median(v.p50), p99_ms: median(v.p99) }]));
results.batching_on_over_off = Object.fromEntries(connections.map((c) => {
  const r = cells[`${c}/on`].rps.map((v, i) => v / cells[`${c}/off`].rps[i]);
  return [c, { median: +median(r).toFixed(3), min: +Math.min(...r).toFixed(3), max: +Math.max(...r).toFixed(3) }];
}));
results.loadAfter = load();
for (const c of connections) {
  const on = results.cells[`${c}/on`], off = results.cells[`${c}/off`];
  console.error(`connections ${c}: batching on ${on.rps} req/s (p50 ${on.p50_ms} ms, p99 ${on.p99_ms} ms), off ${off.rps} req/s (p50 ${off.p50_ms} ms, p99 ${off.p99_ms} ms); on/off median ${results.batching_on_over_off[c].median}`);
}
console.error(`load average ${results.loadBefore.join(' ')} before, ${results.loadAfter.join(' ')} after, ${results.cores} cores (${results.coresThisProcessMayUse} usable by this process)`);
console.log(JSON.stringify(results));
clf.dispose();
