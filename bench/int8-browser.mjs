// int8 in Chromium, where the relaxed integer dot product computes what the spec says: the batch-1
// whole-sequence workloads (W1a LSTM, W3a GRU and its Cho form: I 64, H 256, B 1, T 128) with f32
// weights, int8 exact (11-bit activations, SIMD128 i16 dot) and int8 fast (7-bit activations, the
// relaxed dot: i32x4.relaxed_dot_i8x16_i7x16_add_s, 16 weights an instruction), all in one page of
// Debian's Chromium (the built package, relaxed binary, one thread).
// Interleaved rounds: each round times every side once (order alternating between rounds), a side
// being `reps` calls of model.forward(tensor(X)) after warm-up; printed per round, then the median
// of the per-round ratios with min–max, in µs per step. The page also checks that fast and exact
// differ from f32 by less than 5e-2 and from each other (it reports the max |Δ|).
//   npm run build && node bench/int8-browser.mjs [--rounds 7] [--reps 60]
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright';
import { serveStatic } from '../scripts/serve-demo.mjs';
import { machine, positiveCount, runFile, stats, WORKLOADS } from './common.mjs';

const { values: a } = parseArgs({ options: { rounds: { type: 'string', default: '7' }, reps: { type: 'string', default: '60' } } });
const rounds = positiveCount('--rounds', a.rounds);
const reps = positiveCount('--reps', a.reps);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const site = mkdtempSync(join(tmpdir(), 'int8-browser-'));
symlinkSync(join(root, 'dist'), join(site, 'dist'));
writeFileSync(join(site, 'index.html'), '<!doctype html><meta charset="utf-8"><title>int8</title>');
const server = await serveStatic(site);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
const page = await browser.newPage();
await page.goto(server.url);
const workloads = ['W1a', 'W3a', 'W3a-cho'].map((id) => ({ id, ...WORKLOADS[id] }));
const out = await page.evaluate(async ({ workloads, rounds, reps }) => {
  const l = await import('/dist/index.js');
  const info = await l.init({ variant: 'relaxed', int8: 'auto' });
  const results = {};
  for (const w of workloads) {
    const make = () => (w.cell === 'lstm' ? new l.LSTM({ inputSize: w.I, hiddenSize: w.H, seed: 1 }) : new l.GRU({ inputSize: w.I, hiddenSize: w.H, resetAfter: w.resetAfter ?? true, seed: 1 }));
    const f32 = make();
    const q = l.quantize(make(), { weights: 'int8' });
    const X = new Float32Array(w.T * w.B * w.I).map((_, i) => Math.sin(i * 0.37));
    const run = (m) => m.forward(l.tensor(X, [w.T, w.B, w.I])).output.data;
    const sides = {
      f32: () => run(f32),
      exact: async () => (await l.init({ int8: 'exact' }), run(q)),
      fast: async () => (await l.init({ int8: 'fast' }), run(q)),
    };
    const outs = {};
    for (const [k, f] of Object.entries(sides)) outs[k] = (await f()).slice();
    const diff = (p, r) => p.reduce((m, v, i) => Math.max(m, Math.abs(v - r[i])), 0);
    const check = { fastVsF32: diff(outs.fast, outs.f32), exactVsF32: diff(outs.exact, outs.f32), fastVsExact: diff(outs.fast, outs.exact) };
    const names = Object.keys(sides);
    const per = [];
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 ? [...names].reverse() : names;
      const t = {};
      for (const k of order) {
        if (k !== 'f32') await l.init({ int8: k });
        for (let i = 0; i < 5; i++) run(k === 'f32' ? f32 : q);
        const t0 = performance.now();
        for (let i = 0; i < reps; i++) run(k === 'f32' ? f32 : q);
        t[k] = ((performance.now() - t0) * 1000) / (reps * w.T);
      }
      per.push(t);
    }
    f32.dispose();
    q.dispose();
    results[w.id] = { per, check };
  }
  return { info, userAgent: navigator.userAgent, results };
}, { workloads, rounds, reps });
await browser.close();
await server.close();
const fmt = (s) => `${s.median.toFixed(2)} (${s.min.toFixed(2)}–${s.max.toFixed(2)})`;
console.log(`Chromium ${out.userAgent.match(/Chrome\/([\d.]+)/)?.[1]}: binary ${out.info.variant}, relaxed dot ${out.info.relaxedDot ? 'correct' : 'WRONG'}, auto int8 mode ${out.info.int8}; ${rounds} rounds × ${reps} calls`);
if (!out.info.relaxedDot) throw new Error('Expected an engine whose relaxed dot passes the probe, got one whose does not (the fast mode would not use it)');
const summary = {};
for (const [id, { per, check }] of Object.entries(out.results)) {
  const med = (k) => stats(per.map((p) => p[k]));
  const ratio = (a, b) => stats(per.map((p) => p[a] / p[b]));
  summary[id] = { us: { f32: med('f32'), exact: med('exact'), fast: med('fast') }, speedup: { fastOverExact: ratio('exact', 'fast'), fastOverF32: ratio('f32', 'fast'), exactOverF32: ratio('f32', 'exact') }, check };
  const s = summary[id];
  console.log(`${id}: µs/step f32 ${fmt(s.us.f32)}, int8 exact ${fmt(s.us.exact)}, int8 fast ${fmt(s.us.fast)}; fast over exact ${fmt(s.speedup.fastOverExact)}×, fast over f32 ${fmt(s.speedup.fastOverF32)}×, exact over f32 ${fmt(s.speedup.exactOverF32)}×; max |Δ| fast–f32 ${check.fastVsF32.toExponential(2)}, exact–f32 ${check.exactVsF32.toExponential(2)}`);
  if (!(check.fastVsF32 < 5e-2 && check.exactVsF32 < 5e-2 && check.fastVsExact > 0)) throw new Error(`Expected int8 outputs within 5e-2 of f32 and the two modes to differ, got ${JSON.stringify(check)}`);
}
const date = new Date().toISOString();
const file = runFile(date, 'int8-browser-');
writeFileSync(file, JSON.stringify({ date, machine: machine(), chromium: out.userAgent, init: out.info, rounds, reps, summary, perRound: Object.fromEntries(Object.entries(out.results).map(([k, v]) => [k, v.per])) }, null, 2));
console.log(`run file: ${file}`);
