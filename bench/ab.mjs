// Two commits of rnn-wasm against each other (issue 22: the one-engine change must keep the bench's
// workloads within 3 % of the tree before it). Each revision is checked out into its own scratch
// worktree (node_modules linked from this checkout) and built there (`node scripts/build.mjs
// --no-dts`); then, over --rounds rounds, every workload runs once per revision, each side in a
// FRESH Node process that loads that revision's bench/ours.mjs (hence its dist/), builds the
// workload's job as bench/run.mjs does (rnn-wasm, one thread), runs it once for the output, warms
// up for --warmup-ms and times calls for --time-ms (median of the calls). The order of the two
// sides alternates between rounds (A,B then B,A …). Printed per workload: each side's median figure
// over rounds (WORKLOADS[id].unit), the median of the per-round speed ratios B ÷ A (> 1: B faster)
// with min–max, whether that median lies within ±3 %, and the largest difference between the two
// sides' outputs (the engine change promises 0).
//   node bench/ab.mjs --a REV --b REV [--only W1a,W1b,W2,W3a,W3a-cho,W3b,W4,W5] [--rounds 5]
//                     [--warmup-ms 1000] [--time-ms 2000] [--keep]
// Run file bench/runs/<date>-<host>-ab-<n>.json. Meaningful only on a quiet machine.
import v8 from 'node:v8';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { WORKLOADS, figure, machine, positiveCount, runFile, stats } from './common.mjs';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT = ['W1a', 'W1b', 'W2', 'W3a', 'W3a-cho', 'W3b', 'W4', 'W5'];
const { values: a } = parseArgs({
  options: {
    a: { type: 'string' }, b: { type: 'string' }, only: { type: 'string', default: DEFAULT.join(',') },
    rounds: { type: 'string', default: '5' }, 'warmup-ms': { type: 'string', default: '1000' }, 'time-ms': { type: 'string', default: '2000' },
    keep: { type: 'boolean', default: false },
  },
});
if (!a.a || !a.b) throw new Error('Expected --a REV and --b REV (two commits to compare), got ' + JSON.stringify({ a: a.a, b: a.b }));
const rounds = positiveCount('--rounds', a.rounds);
const warmupMs = positiveCount('--warmup-ms', a['warmup-ms']);
const timeMs = positiveCount('--time-ms', a['time-ms']);
const only = a.only.split(',');
for (const id of only) if (!WORKLOADS[id]?.mode) throw new Error(`Expected workloads among ${DEFAULT.join(', ')}, got ${id}`);

const git = (...args) => execFileSync('git', ['-C', root, ...args], { encoding: 'utf8' }).trim();
const scratch = mkdtempSync(join(tmpdir(), 'rnnw-ab-'));
/** A built checkout of rev: { rev, sha, dir }. */
function checkout(rev, name) {
  const sha = git('rev-parse', '--verify', `${rev}^{commit}`);
  const dir = join(scratch, name);
  git('worktree', 'add', '--detach', dir, sha);
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  const r = existsSync(join(dir, 'scripts', 'build.mjs'))
    ? spawnSync(process.execPath, ['scripts/build.mjs', '--no-dts'], { cwd: dir, encoding: 'utf8' })
    : spawnSync('npm', ['run', 'build'], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`Expected ${rev} to build, got exit ${r.status}: ${r.stderr.slice(-2000)}`);
  return { rev, sha, dir };
}

// One side's fresh process: builds the job, runs it once, times it; prints one JSON line.
const CHILD = `
const [dir, id, warmupMs, timeMs] = process.argv.slice(1);
const { WORKLOADS } = await import(dir + '/bench/common.mjs');
const ours = await import(dir + '/bench/ours.mjs');
const runner = await ours.make('rnn-wasm');
const job = await runner[WORKLOADS[id].mode](id);
const out = await job.output();
const call = async () => { if (job.async) await job.fn(); else job.fn(); };
const t0 = performance.now();
while (performance.now() - t0 < Number(warmupMs)) await call();
const times = [];
const t1 = performance.now();
while (performance.now() - t1 < Number(timeMs) || times.length < 5) {
  const t = performance.now();
  await call();
  times.push((performance.now() - t) / 1000);
}
times.sort((x, y) => x - y);
await job.dispose?.();
process.stdout.write(JSON.stringify({ median: times[times.length >> 1], calls: times.length, output: Buffer.from(new Float32Array(out).buffer).toString('base64') }) + '\\n');
`;
function side(co, id) {
  const r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--input-type=module', '-e', CHILD, co.dir, id, String(warmupMs), String(timeMs)], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`Expected ${co.rev} to run ${id}, got exit ${r.status}: ${r.stderr.slice(-2000)}`);
  const o = JSON.parse(r.stdout.trim().split('\n').pop());
  // a small Buffer lives in Node's shared pool: copy its own bytes, not the pool's whole buffer
  const bytes = Buffer.from(o.output, 'base64');
  return { ...o, output: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)) };
}

const sides = [];
try {
  sides.push(checkout(a.a, 'a'), checkout(a.b, 'b'));
  console.log(`A ${a.a} (${sides[0].sha.slice(0, 7)}) against B ${a.b} (${sides[1].sha.slice(0, 7)}); ${rounds} rounds, fresh process per side, warm-up ${warmupMs} ms, timed ${timeMs} ms`);
  const results = {};
  for (const id of only) {
    const w = WORKLOADS[id];
    const per = [];
    let maxDiff = 0;
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 ? [1, 0] : [0, 1];
      const got = [];
      for (const k of order) got[k] = side(sides[k], id);
      for (let i = 0; i < got[0].output.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[0].output[i] - got[1].output[i]));
      const fa = figure(id, got[0].median), fb = figure(id, got[1].median);
      // speed ratio B ÷ A whatever the unit's direction
      per.push({ a: fa, b: fb, ratio: w.higherIsBetter ? fb / fa : fa / fb });
      console.log(`  ${id} round ${r + 1}: A ${fa.toFixed(2)} B ${fb.toFixed(2)} ${w.unit}`);
    }
    const ratio = stats(per.map((p) => p.ratio));
    results[id] = { unit: w.unit, a: stats(per.map((p) => p.a)), b: stats(per.map((p) => p.b)), ratio, within3: Math.abs(ratio.median - 1) <= 0.03, maxAbsDiff: maxDiff, rounds: per };
    const s = results[id];
    console.log(`${id}: A ${s.a.median.toFixed(2)} B ${s.b.median.toFixed(2)} ${w.unit}; B over A ${ratio.median.toFixed(3)}× (${ratio.min.toFixed(3)}–${ratio.max.toFixed(3)}) ${s.within3 ? 'within' : 'OUTSIDE'} ±3 %; outputs differ by at most ${maxDiff}`);
  }
  const date = new Date().toISOString();
  const file = runFile(date, 'ab-');
  writeFileSync(file, JSON.stringify({ date, machine: machine(), a: sides[0], b: sides[1], rounds, warmupMs, timeMs, results }, null, 2));
  console.log(`run file: ${file}`);
} finally {
  if (!a.keep) {
    for (const s of sides) git('worktree', 'remove', '--force', s.dir);
    rmSync(scratch, { recursive: true, force: true });
    git('worktree', 'prune');
  }
}
