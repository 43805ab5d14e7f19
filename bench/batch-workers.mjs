// The streaming batch tool against its targets (issue 24): `rnn-wasm classify` at 2 workers over 1
// (whole process; target ≥ 1.8×) and at 1 worker over SequenceClassifier.predict in one thread on
// the same records (target ≥ 0.85). Model: the names classifier's shape (characters → embedding 32
// → bidirectional LSTM 64 → linear 2); records: the held-out names of scripts/apps-data.mjs,
// repeated to --records, as JSONL on a file.
// Interleaved rounds: in each round every side runs once, in an order that alternates between
// rounds; printed per round, then the median of the per-round ratios with their min–max spread,
// and the load average before and after (meaningful only on a quiet machine with 2 free cores).
// The output of every CLI run is checked (one record per input line, ids in order) before it counts.
// The bound of one worker, measured in the same rounds ('bound'): the work one worker cannot skip,
// done in this thread — decode and JSON.parse every input line, predict (batches of 32), format and
// encode every output record — plus the fixed cost of a whole process (the CLI on one record),
// as records/s over the same records; `bound_over_predict` is the most 1 worker over predict can be.
// The same sides in CPU time too (records per CPU-second: user + system of every thread; a CLI
// process's from /proc/self/stat's cutime + cstime around spawnSync, Linux only): on a machine
// whose cores are shared, wall-clock rounds swing with the neighbours' load, CPU time much less;
// `cpu_*` ratios are printed only where /proc/self/stat exists.
//   npm run build && node bench/batch-workers.mjs [--records 200000] [--rounds 5]
//   tiny check that it runs: node bench/batch-workers.mjs --records 2000 --rounds 1
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { init, SequenceClassifier, Tokenizer } from '../dist/index.js';
import { names } from '../scripts/apps-data.mjs';
import { positiveCount, roundRatios, stats } from './common.mjs';

const { values: a } = parseArgs({ options: { records: { type: 'string', default: '200000' }, rounds: { type: 'string', default: '5' } } });
const rounds = positiveCount('--rounds', a.rounds);
const records = positiveCount('--records', a.records);
await init();
const { train, test } = names();
const texts = Array.from({ length: records }, (_, i) => test.texts[i % test.texts.length]);
const clf = new SequenceClassifier({ tokenizer: Tokenizer.fit(train.texts), labels: ['female', 'male'], hiddenSize: 64, embeddingDim: 32, bidirectional: true, seed: 1 });
const dir = mkdtempSync(join(tmpdir(), 'batch-workers-'));
writeFileSync(join(dir, 'm.rnnw'), clf.serialize());
writeFileSync(join(dir, 'in.jsonl'), texts.map((text, id) => JSON.stringify({ id, text })).join('\n') + '\n');
const load = () => loadavg().map((v) => +v.toFixed(2));
const results = { date: new Date().toISOString(), records, rounds, cores: cpus().length, coresThisProcessMayUse: availableParallelism(), loadBefore: load() };

// CPU seconds of this process (every thread) and of its reaped children (clock ticks of 1/100 s)
const procStat = existsSync('/proc/self/stat');
const ownCpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
const childCpu = () => { const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' '); return (+f[13] + +f[14]) / 100; };
const cpuRuns = { w1: [], w2: [], predict: [], bound: [] };

/** records/s of one whole CLI process, its output checked. */
function cli(workers) {
  const out = join(dir, `out-${workers}.jsonl`);
  const c0 = procStat ? childCpu() : 0;
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [resolve('dist/cli.js'), 'classify', join(dir, 'm.rnnw'), join(dir, 'in.jsonl'), '--workers', String(workers), '--output', out], { encoding: 'utf8' });
  const wall = (performance.now() - t0) / 1000;
  if (procStat) cpuRuns[`w${workers}`].push(records / (childCpu() - c0));
  spawnSync('rm', ['-f', out]);
  if (r.status !== 0) throw new Error(r.stderr);
  if (!r.stderr.includes(`${records} lines (0 errors)`)) throw new Error(`expected ${records} lines without errors, got ${r.stderr}`);
  return records / wall;
}
/** records/s of SequenceClassifier.predict over every record in this thread (batches of 32, as the tool). */
function inProcess(round = false) {
  const c0 = ownCpu();
  const t0 = performance.now();
  clf.predict(texts, { batchSize: 32 });
  const wall = (performance.now() - t0) / 1000;
  if (round) cpuRuns.predict.push(records / (ownCpu() - c0));
  return records / wall;
}
// the tool answers as the library does before anything is timed
{
  const r = spawnSync(process.execPath, [resolve('dist/cli.js'), 'classify', join(dir, 'm.rnnw')], { input: texts.slice(0, 50).map((text, id) => JSON.stringify({ id, text })).join('\n'), encoding: 'utf8' });
  const want = clf.predict(texts.slice(0, 50));
  r.stdout.trimEnd().split('\n').forEach((l, i) => {
    const o = JSON.parse(l);
    if (o.id !== i || o.probs.female !== +want[i][0].toFixed(6)) throw new Error(`expected record ${i} to equal predict, got ${l}`);
  });
}
/** records/s of one worker's unavoidable work in this thread, plus a whole process's fixed cost. */
const lines = texts.map((text, id) => new TextEncoder().encode(JSON.stringify({ id, text })));
function fixedSeconds() {
  const c0 = procStat ? childCpu() : 0;
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [resolve('dist/cli.js'), 'classify', join(dir, 'm.rnnw')], { input: lines[0], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return { wall: (performance.now() - t0) / 1000, cpu: procStat ? childCpu() - c0 : 0 };
}
function bound() {
  const dec = new TextDecoder();
  const enc = new TextEncoder();
  const fixed = fixedSeconds();
  const c0 = ownCpu();
  const t0 = performance.now();
  const parsed = lines.map((b) => JSON.parse(dec.decode(b)));
  const p = clf.predict(parsed.map((o) => o.text), { batchSize: 32 });
  const out = enc.encode(parsed.map((o, i) => JSON.stringify({ id: o.id, label: p[i][0] >= p[i][1] ? 'female' : 'male', probs: { female: +p[i][0].toFixed(6), male: +p[i][1].toFixed(6) } }) + '\n').join(''));
  if (out.length === 0) throw new Error('Expected output bytes, got none');
  const wall = (performance.now() - t0) / 1000;
  if (procStat) cpuRuns.bound.push(records / (fixed.cpu + ownCpu() - c0));
  return records / (fixed.wall + wall);
}
inProcess(); // warm-up

const runs = { w1: [], w2: [], predict: [], bound: [] };
for (let round = 0; round < rounds; round++) {
  const order = round % 2 ? ['bound', 'predict', 'w2', 'w1'] : ['w1', 'w2', 'predict', 'bound'];
  for (const side of order) runs[side].push(side === 'predict' ? inProcess(true) : side === 'bound' ? bound() : cli(side === 'w1' ? 1 : 2));
  console.error(`round ${round + 1}/${rounds} (${order.join(', ')}): ` + Object.entries(runs).map(([k, v]) => `${k} ${Math.round(v[round])}`).join(', ') + ' records/s');
}
const ratio = (num, den) => roundRatios(runs[num], runs[den]);
results.records_per_s = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, Math.round(stats(v).median)]));
results.ratios = { workers_2_over_1: { target: 1.8, ...ratio('w2', 'w1') }, worker_1_over_predict: { target: 0.85, ...ratio('w1', 'predict') }, bound_over_predict: { target: 0.85, ...ratio('bound', 'predict') }, worker_1_over_bound: { target: 1, ...ratio('w1', 'bound') } };
if (procStat) {
  const cpuRatio = (num, den) => roundRatios(cpuRuns[num], cpuRuns[den]);
  results.cpu_records_per_s = Object.fromEntries(Object.entries(cpuRuns).map(([k, v]) => [k, Math.round(stats(v).median)]));
  Object.assign(results.ratios, { cpu_worker_1_over_predict: { target: 0.85, ...cpuRatio('w1', 'predict') }, cpu_bound_over_predict: { target: 0.85, ...cpuRatio('bound', 'predict') }, cpu_worker_1_over_bound: { target: 1, ...cpuRatio('w1', 'bound') } });
}
results.loadAfter = load();
for (const [k, r] of Object.entries(results.ratios)) console.error(`${k}: median ${r.median} (min ${r.min}, max ${r.max} over ${rounds} rounds; target ${r.target}: ${r.median >= r.target ? 'met' : 'missed'})`);
console.error(`load average ${results.loadBefore.join(' ')} before, ${results.loadAfter.join(' ')} after, ${results.cores} cores (${results.coresThisProcessMayUse} usable by this process)`);
console.log(JSON.stringify(results));
clf.dispose();
