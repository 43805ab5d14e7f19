// Runs fuzz cases in child processes with a memory cap and a time limit, batch by batch. A batch
// that crashes or overruns its time is re-run one case per process to name the inputs responsible.
// Returns a summary: cases, outcomes by error class, every bad input (untyped error, crash, hang,
// lasting memory growth), time.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

const CHILD = resolve(import.meta.dirname, 'child.mjs');

/** One child over cases [from, to): resolves { result } or { failure: 'crash' | 'hang', detail }. */
function runChild(reader, seed, from, to, { heapMb, timeMs }) {
  return new Promise((done) => {
    const p = spawn(process.execPath, [`--max-old-space-size=${heapMb}`, '--expose-gc', CHILD, reader, String(seed), String(from), String(to)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err = (err + d).slice(-2000)));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeMs);
    let timedOut = false;
    p.on('exit', (code, signal) => {
      clearTimeout(timer);
      timedOut = signal === 'SIGKILL';
      const line = out.trim().split('\n').pop();
      if (code === 0 && line) return done({ result: JSON.parse(line) });
      done({ failure: timedOut ? 'hang' : 'crash', detail: `exit ${code} ${signal ?? ''} ${err.split('\n').slice(-6).join(' | ')}`.slice(0, 600) });
    });
  });
}

/**
 * Fuzzes `readers` with `cases` inputs each. Options: seed, batch (cases per child), heapMb
 * (child --max-old-space-size), msPerCase and minBatchMs (a batch's time limit), isolateMs (one
 * case's, when a failed batch is re-run case by case), maxRssGrowthMb.
 */
export async function fuzz(readers, cases, opts = {}) {
  const o = { seed: 1, batch: 500, heapMb: 256, msPerCase: 50, minBatchMs: 20000, isolateMs: 5000, maxRssGrowthMb: 64, log: () => {}, ...opts };
  const t0 = Date.now();
  const summary = { seed: o.seed, perReader: {}, bad: [], seconds: 0 };
  for (const reader of readers) {
    const s = (summary.perReader[reader] = { cases: 0, outcomes: {}, examples: {}, slowestMs: 0, wasmGrowth: 0, maxRssGrowthMb: 0 });
    for (let from = 0; from < cases; from += o.batch) {
      const to = Math.min(cases, from + o.batch);
      const limit = { heapMb: o.heapMb, timeMs: Math.max(o.minBatchMs, (to - from) * o.msPerCase) };
      const r = await runChild(reader, o.seed, from, to, limit);
      if (r.result) {
        const x = r.result;
        s.cases += to - from;
        for (const [k, n] of Object.entries(x.outcomes)) s.outcomes[k] = (s.outcomes[k] ?? 0) + n;
        for (const b of x.bad) summary.bad.push({ reader, ...b });
        for (const [k, m] of Object.entries(x.examples)) s.examples[k] ??= m;
        s.slowestMs = Math.max(s.slowestMs, Math.round(x.slowest.ms));
        const wasm = x.after.wasm - x.before.wasm;
        const rss = (x.after.rss - x.before.rss) / 2 ** 20;
        s.wasmGrowth = Math.max(s.wasmGrowth, wasm);
        s.maxRssGrowthMb = Math.max(s.maxRssGrowthMb, Math.round(rss));
        if (wasm > 0 || rss > o.maxRssGrowthMb) summary.bad.push({ reader, index: `${from}..${to}`, kind: 'memory', message: `wasm +${wasm} bytes, RSS +${rss.toFixed(1)} MiB over the batch` });
        o.log(`${reader} ${to}/${cases} ${JSON.stringify(x.outcomes)}`);
        continue;
      }
      // name the inputs: one case per process
      o.log(`${reader} batch ${from}..${to}: ${r.failure}; isolating`);
      for (let i = from; i < to; i++) {
        const one = await runChild(reader, o.seed, i, i + 1, { heapMb: o.heapMb, timeMs: o.isolateMs });
        s.cases += 1;
        if (one.failure) {
          s.outcomes[one.failure] = (s.outcomes[one.failure] ?? 0) + 1;
          summary.bad.push({ reader, index: i, kind: one.failure, message: one.detail });
        } else {
          for (const [k, n] of Object.entries(one.result.outcomes)) s.outcomes[k] = (s.outcomes[k] ?? 0) + n;
          for (const b of one.result.bad) summary.bad.push({ reader, ...b });
        }
      }
    }
  }
  summary.seconds = Math.round((Date.now() - t0) / 100) / 10;
  return summary;
}
