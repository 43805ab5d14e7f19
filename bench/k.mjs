// K workloads: the library's gemm_nt at M=64 N=1024 K=256 and matvec_nt at N=1024 K=320, against
// the `ceiling` microkernels of bench/ceiling/ceiling.ts, both in the binary variant the library
// picks at init (relaxed when the engine has it). Every kernel's output is checked against an f64
// reference before it is timed. GFLOP/s = 2·M·N·K / time.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load, fillRandom, REF } from './kernels.mjs';
import { measure, stats } from './common.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const SRC = join(here, 'ceiling', 'ceiling.ts');

/** Compiles the ceiling microkernels (both variants) into bench/out/ when missing or stale. */
export function buildCeiling() {
  const out = join(here, 'out');
  mkdirSync(out, { recursive: true });
  for (const [variant, enable] of [['simd', 'simd'], ['relaxed', 'simd,relaxed-simd']]) {
    const file = join(out, `ceiling-${variant}.wasm`);
    if (existsSync(file) && statSync(file).mtimeMs > statSync(SRC).mtimeMs) continue;
    execFileSync(process.execPath, [join(root, 'node_modules', 'assemblyscript', 'bin', 'asc.js'), SRC, '-o', file,
      '--runtime', 'stub', '--importMemory', '--noAssert', '--use', 'abort=', '-O3', '--enable', enable], { cwd: root, stdio: 'inherit' });
  }
}

// f64 check of y (M, N) = X·Wᵀ at 256 sampled outputs.
function check(f32, y, X, W, M, N, K, what) {
  let err = 0;
  for (let i = 0; i < 256; i++) {
    const m = (i * 7919) % M, n = (i * 104729 + i) % N;
    err = Math.max(err, Math.abs(f32()[y + m * N + n] - REF.gemm_nt(X, W, M, N, K, m, n)));
  }
  if (!(err <= 1e-4)) throw new Error(`K ${what}: output differs from the f64 reference by ${err} (> 1e-4)`);
  return err;
}

// Buffers of Y (M, N) = X (M, K) · W (N, K)ᵀ in one runtime, X and W seeded alike in every runtime.
function buffers(rt, M, N, K) {
  const b = { y: rt.alloc(M * N), x: rt.alloc(M * K), w: rt.alloc(N * K), wp: rt.alloc(N * K) };
  fillRandom(rt.f32(), b.x, M * K, 1);
  fillRandom(rt.f32(), b.w, N * K, 2);
  return b;
}

/**
 * One K workload: our kernel `ours(buffers)` against the ceiling's `variants` (name → call on the
 * ceiling's buffers, W already packed), every output checked first; the fastest variant is the
 * ceiling. Returns the workload's results in the run's JSON shape.
 */
async function versus(lib, ceil, { M, N, K, ours, variants, note }, opts) {
  const a = buffers(lib, M, N, K), b = buffers(ceil, M, N, K);
  const X = lib.f32().slice(a.x, a.x + M * K), W = lib.f32().slice(a.w, a.w + N * K);
  const flop = 2 * M * N * K;
  const gflops = async (fn) => flop / (await measure(fn, { ...opts, minTime: opts.quick ? 0.1 : 0.4 })).median / 1e9;
  const run = () => ours(a);
  run();
  const errOurs = check(lib.f32, a.y, X, W, M, N, K, 'rnn-wasm');
  ceil.k.pack_nt(b.wp, b.w, N, K);
  const calls = Object.entries(variants).map(([name, v]) => [name, () => v(b)]);
  let errCeil = 0;
  for (const [name, fn] of calls) {
    ceil.f32().fill(0, b.y, b.y + M * N);
    fn();
    errCeil = Math.max(errCeil, check(ceil.f32, b.y, X, W, M, N, K, `ceiling ${name}`));
  }
  // rounds alternate ours and the variants, so a busy spell on the machine hits both; per round the
  // ceiling is the fastest variant; the figures are medians over rounds
  const mine = [], ceiling = [], won = {};
  for (let round = 0; round < opts.rounds; round++) {
    mine.push(await gflops(run));
    let best = 0, bestName = '';
    for (const [name, fn] of calls) {
      const c = await gflops(fn);
      if (c > best) { best = c; bestName = name; }
    }
    ceiling.push(best);
    won[bestName] = (won[bestName] ?? 0) + 1;
  }
  return result(mine, ceiling, { 'rnn-wasm': errOurs, ceiling: errCeil },
    `${note(Object.keys(won).join(' / '))}; fastest variant per round: ${Object.entries(won).map(([n, c]) => `${n} ×${c}`).join(', ')}`);
}

// A K workload's entry in the run file: medians over rounds, the per-round fraction of the ceiling
// (median and spread) and each side's best round beside them.
function result(ours, ceiling, maxAbsDiff, note) {
  return {
    unit: 'GFLOP/s', higherIsBetter: true,
    results: { 'rnn-wasm': stats(ours).median, ceiling: stats(ceiling).median },
    fraction: stats(ours.map((v, i) => v / ceiling[i])),
    rounds: { 'rnn-wasm': ours, ceiling },
    best: { 'rnn-wasm': Math.max(...ours), ceiling: Math.max(...ceiling) },
    maxAbsDiff,
    notes: { ceiling: note },
  };
}

// K-stream: how fast W1's recurrent matrix (W_hh, 1024 × 256 f32 = 1 MiB, resident in L2) comes in.
// rnn-wasm: bytes of W over the time of the product a batch-1 cell kernel runs each step —
// matvec_packed on pack_rows' row-interleaved copy (assembly/kernels/packed.ts; the copy is made
// once per sequence, inside the kernel, and costs W1a's time, not this figure's); matvec_nt on W in
// place, and the ceiling's matvec microkernels (the bound another product reaches), are timed in the
// same rounds and given in the notes. Ceiling: the same MiB summed by stream_sum (128-bit loads, no
// multiply). Checked: every matvec against f64, the sum against f64.
async function stream(lib, ceil, opts) {
  const N = 1024, K = 256, bytes = N * K * 4;
  const a = buffers(lib, 1, N, K), b = buffers(ceil, 1, N, K);
  const X = lib.f32().slice(a.x, a.x + K), W = lib.f32().slice(a.w, a.w + N * K);
  lib.k.pack_rows(a.wp, a.w, N, K); // N·K floats: 1024 rows are 170 six-row tiles and one four-row tile
  const run = () => lib.k.matvec_packed(a.y, a.wp, a.x, 0, N, K, 0);
  const inPlace = () => lib.k.matvec_nt(a.y, a.w, a.x, 0, N, K, 0);
  inPlace();
  const errInPlace = check(lib.f32, a.y, X, W, 1, N, K, 'rnn-wasm stream (matvec_nt)');
  run();
  const errOurs = check(lib.f32, a.y, X, W, 1, N, K, 'rnn-wasm stream');
  let want = 0;
  for (let i = 0; i < N * K; i++) want += ceil.f32()[b.w + i];
  const errCeil = Math.abs(ceil.k.stream_sum(b.w, bytes) - want);
  if (!(errCeil <= 1e-2)) throw new Error(`K-stream: stream_sum differs from the f64 sum by ${errCeil}`);
  // the ceiling's own matvec microkernels on the same W, for the bound a product (x reloaded, a
  // multiply per weight) reaches against the bare stream: the 16-row broadcast form on pack_nt's
  // copy and the 8-row dot form in place (bench/ceiling/ceiling.ts)
  ceil.k.pack_nt(b.wp, b.w, N, K);
  const others = { 'packed 1x16': () => ceil.k.matvec_packed(b.y, b.wp, b.x, N, K), '8x1 dot': () => ceil.k.matvec_8x1(b.y, b.w, b.x, N, K) };
  const errOthers = {};
  for (const [name, f] of Object.entries(others)) {
    f();
    errOthers[name] = check(ceil.f32, b.y, X, W, 1, N, K, `ceiling stream (${name})`);
  }
  const gbs = async (fn) => bytes / (await measure(fn, { ...opts, minTime: opts.quick ? 0.1 : 0.4 })).median / 1e9;
  const ours = [], ceiling = [], nt = [], best = [];
  for (let round = 0; round < opts.rounds; round++) {
    ours.push(await gbs(run));
    nt.push(await gbs(inPlace));
    ceiling.push(await gbs(() => ceil.k.stream_sum(b.w, bytes)));
    let top = 0;
    for (const f of Object.values(others)) top = Math.max(top, await gbs(f));
    best.push(top);
  }
  const r = result(ours, ceiling, { 'rnn-wasm': errOurs, 'matvec_nt': errInPlace, ceiling: errCeil, ...errOthers }, 'stream_sum: 1 MiB read with 128-bit loads, 8 accumulators, no multiply');
  const frac = (xs) => {
    const f = stats(xs.map((v, i) => v / ceiling[i]));
    return `${stats(xs).median.toFixed(1)} GB/s, ${f.median.toFixed(2)} of the ceiling (${f.min.toFixed(2)}–${f.max.toFixed(2)})`;
  };
  r.notes['rnn-wasm'] = `matvec_packed on the row-interleaved copy (what a batch-1 cell reads); in the same rounds matvec_nt on W in place: ${frac(nt)}; the best per round of the ceiling's matvec microkernels (packed 1x16, 8x1 dot): ${frac(best)}`;
  r.bestOtherMatvec = stats(best.map((v, i) => v / ceiling[i]));
  return { ...r, unit: 'GB/s' };
}

/**
 * Returns { 'K-gemm': {...}, 'K-matvec': {...}, 'K-stream': {...} } for one binary variant;
 * opts: { quick, rounds } (alternating rounds of ours and the ceiling's variants).
 */
export async function runK(variant, opts) {
  buildCeiling();
  const lib = await load(variant, join(root, 'build', `rnn-${variant}.wasm`));
  const ceil = await load(variant, join(here, 'out', `ceiling-${variant}.wasm`));
  const k = ceil.k;
  return {
    // Y (64, 1024) = X (64, 256) · W (1024, 256)ᵀ: the recurrent step of W2
    'K-gemm': await versus(lib, ceil, {
      M: 64, N: 1024, K: 256,
      ours: (a) => lib.k.gemm_nt(a.y, a.x, a.w, 0, 64, 1024, 256, 0),
      variants: {
        '6x8': (b) => k.gemm_6x8(b.y, b.x, b.wp, 64, 1024, 256),
        '5x8': (b) => k.gemm_5x8(b.y, b.x, b.wp, 64, 1024, 256),
        '4x8': (b) => k.gemm_4x8(b.y, b.x, b.wp, 64, 1024, 256),
        '2x4 dot': (b) => k.gemm_2x4(b.y, b.x, b.w, 64, 1024, 256),
      },
      note: (names) => `best per round of f32-gemm-6x8 / 5x8 / 4x8 (broadcast form on pre-packed W) and 2x4 dot (the library's gemm_nt tile, unpacked W, no blocking) (${variant}); won by ${names}`,
    }, opts),
    // y (1024) = W (1024, 320) · x (320): the recurrent step of W1 at batch 1 (4H = 1024, I + H = 320)
    'K-matvec': await versus(lib, ceil, {
      M: 1, N: 1024, K: 320,
      ours: (a) => lib.k.matvec_nt(a.y, a.w, a.x, 0, 1024, 320, 0),
      variants: { '8x1 dot': (b) => k.matvec_8x1(b.y, b.w, b.x, 1024, 320), 'packed 1x16': (b) => k.matvec_packed(b.y, b.wp, b.x, 1024, 320) },
      note: (names) => `f32-gemv: best per round of 8x1 dot and packed 1x16 (${variant}); won by ${names}`,
    }, opts),
    'K-stream': await stream(lib, ceil, opts),
  };
}
