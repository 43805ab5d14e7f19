// Where a W5 streaming step goes: the 2-layer LSTM-512 char model (V 65) of bench/common.mjs, one
// step at batch 1, dissected into the ops its stream program runs, each timed in place (the ops
// called in the program's order, step after step, so every op sees the cache state it sees in the
// real program), against a lone LSTM 512→512 layer's step and a bare 128-bit load stream over the
// same numbers of bytes. Raw kernels of build/rnn-<variant>.wasm, weights laid out as the model's
// arena (layer 0, layer 1, linear), then the same step on packed copies (the *_pk ops a batch-1
// stream runs); the library's own stream.step (dist/), packed and in place, is timed beside them.
//   node bench/w5-profile.mjs [--steps N] [--variant simd|relaxed] [--cpu]
// --cpu times with this process's CPU time (process.cpuUsage) instead of the wall clock: on a busy
// shared machine it leaves out the time the process waits for a core (not the cache it loses).
// Prints µs per op (median over blocks of 50 steps, and the min–max of the block medians) and the
// rate at which each op's weights come in (GB/s).
import v8 from 'node:v8';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load, fillRandom } from './kernels.mjs';
import { stats, WORKLOADS } from './common.mjs';
import { buildCeiling } from './k.mjs';
import { loadLib, model } from './ours.mjs';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const opt = (k, d) => (argv.includes(k) ? argv[argv.indexOf(k) + 1] : d);
const STEPS = Number(opt('--steps', 2000));
const variant = opt('--variant', 'relaxed');
const clock = argv.includes('--cpu') ? () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; } : () => performance.now();
buildCeiling(); // bench/out/ceiling-*.wasm when stale

const { V, H } = WORKLOADS.W5;
const G = 4 * H;
const rt = await load(variant, join(here, '..', 'build', `rnn-${variant}.wasm`));
const k = rt.k;
// arena: per layer w_ih, w_hh, b_ih, b_hh; then the linear head
const layer = (I) => {
  const p = { w_ih: rt.alloc(G * I), w_hh: rt.alloc(G * H), b_ih: rt.alloc(G), b_hh: rt.alloc(G) };
  fillRandom(rt.f32(), p.w_ih, G * I, 1);
  fillRandom(rt.f32(), p.w_hh, G * H, 2);
  for (const a of [p.w_ih, p.w_hh]) for (let i = 0; i < G * Math.max(I, H); i++) rt.f32()[a + i] *= 0.05;
  return p;
};
const L0 = layer(V), L1 = layer(H);
const lin = { w: rt.alloc(V * H), b: rt.alloc(V) };
fillRandom(rt.f32(), lin.w, V * H, 3);
// workspace of the stream program: gates, h and c (2 slots: init, final), the layer output
const ws = () => ({ gates: rt.alloc(G), h: rt.alloc(2 * H), c: rt.alloc(2 * H), y: rt.alloc(H) });
const S0 = ws(), S1 = ws();
const x = rt.alloc(V), out = rt.alloc(V);
rt.f32()[x + 7] = 1;

const MB = (n) => (n * 4) / 1e6;
const ops = [
  ['L0 input projection gemm_nt 1×2048×65', MB(G * V), () => k.gemm_nt(S0.gates, x, L0.w_ih, L0.b_ih, 1, G, V, 0)],
  ['L0 recurrent lstm_forward T=1', MB(G * H), () => k.lstm_forward(S0.gates, S0.h, S0.c, S0.y, L0.w_hh, L0.b_hh, 0, 0, 1, 1, H, H, 0, 0)],
  ['L0 state copies (h, c)', 0, () => { k.copy_f32(S0.c, S0.c + H, H); k.copy_f32(S0.h, S0.h + H, H); }],
  ['L1 input projection gemm_nt 1×2048×512', MB(G * H), () => k.gemm_nt(S1.gates, S0.y, L1.w_ih, L1.b_ih, 1, G, H, 0)],
  ['L1 recurrent lstm_forward T=1', MB(G * H), () => k.lstm_forward(S1.gates, S1.h, S1.c, S1.y, L1.w_hh, L1.b_hh, 0, 0, 1, 1, H, H, 0, 0)],
  ['L1 state copies (h, c)', 0, () => { k.copy_f32(S1.c, S1.c + H, H); k.copy_f32(S1.h, S1.h + H, H); }],
  ['output linear gemm_nt 1×65×512', MB(V * H), () => k.gemm_nt(out, S1.y, lin.w, lin.b, 1, V, H, 0)],
];

// Runs `list` step after step; per op, the median over blocks of 50 steps of its mean time.
function profile(list, steps) {
  const acc = list.map(() => 0);
  const blocks = list.map(() => []);
  for (let s = 0; s < steps + 200; s++) {
    for (let i = 0; i < list.length; i++) {
      const t = clock();
      list[i][2]();
      acc[i] += clock() - t;
    }
    if (s === 199) acc.fill(0); // warm-up
    if (s >= 200 && (s - 199) % 50 === 0) acc.forEach((a, i) => { blocks[i].push((a / 50) * 1e3); acc[i] = 0; });
  }
  return blocks.map((b) => stats(b));
}
// Whole steps without timers around the ops: µs per step (median of blocks of 50).
function whole(list, steps) {
  const b = [];
  for (let s = 0; s < steps; s += 50) {
    const t = clock();
    for (let j = 0; j < 50; j++) for (const o of list) o[2]();
    b.push(((clock() - t) / 50) * 1e3);
  }
  return stats(b.slice(2));
}
const row = (name, mb, st) => console.log(`| ${name} | ${st.median.toFixed(1)} | ${st.min.toFixed(1)}–${st.max.toFixed(1)} | ${mb ? (mb / 1e3 / (st.median * 1e-6)).toFixed(1) : '—'} |`);

console.log(`W5 step dissected (${variant} binary, ${STEPS} steps, ${argv.includes('--cpu') ? 'CPU time' : 'wall clock'}; figures from THIS machine now)\n`);
console.log('| op | µs (median of 50-step blocks) | min–max | GB/s of weights |\n| --- | ---: | ---: | ---: |');
const per = profile(ops, STEPS);
ops.forEach((o, i) => row(o[0], o[1], per[i]));
const totalMB = ops.reduce((s, o) => s + o[1], 0);
row('sum of the ops', totalMB, { median: per.reduce((s, p) => s + p.median, 0), min: NaN, max: NaN });
row('whole step, no timers', totalMB, whole(ops, STEPS));
const lone = [ops[3], ops[4], ops[5]];
row('lone LSTM 512→512 layer step (L1 ops only)', lone.reduce((s, o) => s + o[1], 0), whole(lone, STEPS));

// the same step on packed copies (what a batch-1 stream keeps, src/model/packs.ts): *_pk ops
const pk = (w, N, K) => {
  const p = rt.alloc(k.packed_floats(N, K));
  k.pack_rows(p, w, N, K);
  return p;
};
const P = { ih0: pk(L0.w_ih, G, V), hh0: pk(L0.w_hh, G, H), ih1: pk(L1.w_ih, G, H), hh1: pk(L1.w_hh, G, H), lin: pk(lin.w, V, H) };
const packedOps = [
  ['L0 input projection gemm_pk_nt', MB(G * V), () => k.gemm_pk_nt(S0.gates, x, L0.w_ih, P.ih0, L0.b_ih, 1, G, V, 0)],
  ['L0 recurrent lstm_forward_pk T=1', MB(G * H), () => k.lstm_forward_pk(S0.gates, S0.h, S0.c, S0.y, L0.w_hh, P.hh0, L0.b_hh, 0, 0, 1, 1, H, H, 0, 0)],
  ops[2],
  ['L1 input projection gemm_pk_nt', MB(G * H), () => k.gemm_pk_nt(S1.gates, S0.y, L1.w_ih, P.ih1, L1.b_ih, 1, G, H, 0)],
  ['L1 recurrent lstm_forward_pk T=1', MB(G * H), () => k.lstm_forward_pk(S1.gates, S1.h, S1.c, S1.y, L1.w_hh, P.hh1, L1.b_hh, 0, 0, 1, 1, H, H, 0, 0)],
  ops[5],
  ['output linear gemm_pk_nt', MB(V * H), () => k.gemm_pk_nt(out, S1.y, lin.w, P.lin, lin.b, 1, V, H, 0)],
];
console.log('\nThe same step on packed copies of the weights (the ops a batch-1 stream runs):\n');
console.log('| op | µs (median of 50-step blocks) | min–max | GB/s of weights |\n| --- | ---: | ---: | ---: |');
const perPk = profile(packedOps, STEPS);
packedOps.forEach((o, i) => row(o[0], o[1], perPk[i]));
row('whole step, no timers (packed)', totalMB, whole(packedOps, STEPS));

// the library as a user runs it: Sequential stream.step with a one-hot Float32Array
const l = await loadLib();
const { m } = await model('W5');
const st = m.stream({ batchSize: 1 });
const su = m.stream({ batchSize: 1, packed: false });
const xs = new Float32Array(V);
xs[7] = 1;
console.log('');
row('dist: stream.step, packed copies (the default; validation, write, run_program, read)', totalMB, whole([['', 0, () => st.step(xs)]], STEPS));
row('dist: stream.step, packed: false (weights read in place)', totalMB, whole([['', 0, () => su.step(xs)]], STEPS));
su.close();
// the same model with int8 weights (quantize): a quarter of the weight bytes per step
l.quantize(m, { weights: 'int8' });
const sq = m.stream({ batchSize: 1 });
row('dist: stream.step, int8 weights (GB/s: the f32 bytes it stands for)', totalMB, whole([['', 0, () => sq.step(xs)]], STEPS));
m.dispose();

// bare load streams over the same byte counts (ceiling stream_sum), same memory layout sizes
const ceil = await load(variant, join(here, 'out', `ceiling-${variant}.wasm`));
for (const mb of [MB(G * H), 2 * MB(G * H), totalMB]) {
  const n = Math.ceil((mb * 1e6) / 128) * 128;
  const p = ceil.alloc(n / 4);
  fillRandom(ceil.f32(), p, n / 4, 5);
  row(`bare 128-bit load stream over ${mb.toFixed(2)} MB`, mb, whole([['', 0, () => ceil.k.stream_sum(p, n)]], Math.min(STEPS, 1000)));
}
