// Kernel throughput: GEMM family (GFLOP/s) and activations (Gelem/s) for both wasm binaries.
// Plain node script over build/rnn-simd.wasm and build/rnn-relaxed.wasm (run `npm run build:wasm`
// first); each output is checked against an f64 reference before it is timed.
//   node bench/kernels.mjs [filter]        (relaxed SIMD is switched on at run time for Node 20)
//   WASM_DIR=other/build node bench/kernels.mjs
//   Imported by bench/run.mjs (K workloads) for load / fillRandom / REF; runs only as the main script.
//   node bench/kernels.mjs --act-error [stride]   max abs error of sigmoid_f32 / tanh_f32 against f64
//        Math over every stride-th f32 bit pattern (default 1 = all 2^32) plus the special values
import v8 from 'node:v8';
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

// ---- shapes -----------------------------------------------------------------------------------
// [name, M, N, K]: gemm_* computes Y[M,N] from a K-long reduction; matvec_nt uses N, K only.
const GEMM_SHAPES = [
  ['gemm_nt', 64, 1024, 256], // recurrent step h·W_hhᵀ at B = 64 (LSTM H = 256) — the target shape
  ['gemm_nt', 512, 1024, 256], // input projection over T*B rows
  ['gemm_nt', 16, 1024, 256], // small-batch recurrent step
  ['gemm_nt', 4, 512, 128],
  ['gemm_nn', 64, 1024, 256], // dX = dG·W (N a multiple of 1024: L1 aliasing, see gemm.ts)
  ['gemm_nn', 64, 1000, 256],
  ['gemm_nn', 2048, 256, 1024], // dX = dG·W_ih at T*B = 2048, G*H = 1024, I = 256
  ['gemm_tn', 64, 1024, 256], // dW += dGᵀ·X
  ['gemm_tn', 64, 1000, 256],
  ['gemm_tn', 1024, 256, 2048], // dW_ih += dGᵀ·X at T*B = 2048, G*H = 1024, I = 256
  ['matvec_nt', 1, 1024, 320], // B = 1 recurrent step
  ['matvec_nt', 1, 512, 128],
];
const ACT_SIZES = [['sigmoid_f32', 4096], ['tanh_f32', 4096], ['relu_f32', 4096], ['softmax_rows', 64, 1000]];

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = process.env.WASM_DIR ?? join(root, 'build');

// ---- harness ----------------------------------------------------------------------------------
export async function load(variant, wasmFile = join(dir, `rnn-${variant}.wasm`)) {
  const memory = new WebAssembly.Memory({ initial: 512, maximum: 65536 });
  const bytes = readFileSync(wasmFile);
  const { instance } = await WebAssembly.instantiate(bytes, { env: { memory } });
  let top = (instance.exports.reserved_end?.() ?? 65536) / 4; // elements: static data and kernel scratch stay the module's
  const alloc = (n) => {
    const off = top;
    top += Math.ceil(n / 16) * 16 + 16;
    if (top * 4 > memory.buffer.byteLength) memory.grow(Math.ceil((top * 4 - memory.buffer.byteLength) / 65536));
    return off;
  };
  return { k: instance.exports, alloc, f32: () => new Float32Array(memory.buffer) };
}

export function fillRandom(f32, off, n, seed) {
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    f32[off + i] = (s / 4294967296) * 2 - 1;
  }
}

// Best time per call (seconds) over several batches of ~minTime each.
function time(fn, minTime = 0.15, reps = 5) {
  let iters = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < iters; i++) fn();
    const dt = (performance.now() - t0) / 1000;
    if (dt > minTime / 4) {
      iters = Math.max(1, Math.ceil((iters * minTime) / dt));
      break;
    }
    iters *= 4;
  }
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    for (let i = 0; i < iters; i++) fn();
    best = Math.min(best, (performance.now() - t0) / 1000 / iters);
  }
  return best;
}

// f64 reference element of each GEMM form, for the check before timing.
export const REF = {
  gemm_nt: (X, W, M, N, K, m, n) => { let s = 0; for (let k = 0; k < K; k++) s += X[m * K + k] * W[n * K + k]; return s; },
  gemm_nn: (X, W, M, N, K, m, n) => { let s = 0; for (let k = 0; k < K; k++) s += X[m * K + k] * W[k * N + n]; return s; },
  gemm_tn: (X, W, M, N, K, m, n) => { let s = 0; for (let k = 0; k < K; k++) s += X[k * M + m] * W[k * N + n]; return s; },
  matvec_nt: (X, W, M, N, K, m, n) => REF.gemm_nt(X, W, M, N, K, m, n),
};

function benchGemm(rt, [name, M, N, K]) {
  const f = rt.k[name];
  if (!f) return null;
  const y = rt.alloc(M * N), x = rt.alloc(M * K), w = rt.alloc(N * K);
  let f32 = rt.f32();
  fillRandom(f32, x, M * K, 1);
  fillRandom(f32, w, N * K, 2);
  const call = name === 'matvec_nt' ? () => f(y, w, x, 0, N, K, 0)
    : name === 'gemm_nt' ? () => f(y, x, w, 0, M, N, K, 0)
    : () => f(y, x, w, M, N, K, 0);
  call();
  f32 = rt.f32();
  const X = f32.slice(x, x + M * K), W = f32.slice(w, w + N * K);
  let err = 0;
  for (let i = 0; i < 64; i++) {
    const m = (i * 7919) % M, n = (i * 104729) % N;
    err = Math.max(err, Math.abs(f32[y + m * N + n] - REF[name](X, W, M, N, K, m, n)));
  }
  if (!(err < 1e-4 * Math.sqrt(K))) throw new Error(`${name} ${M}x${N}x${K}: wrong output (max err ${err})`);
  const t = time(call);
  return { what: `${name} M=${M} N=${N} K=${K}`, value: (2 * M * N * K) / t / 1e9, unit: 'GFLOP/s' };
}

function benchAct(rt, [name, n, cols]) {
  const f = rt.k[name];
  if (!f) return null;
  const len = cols ? n * cols : n;
  const y = rt.alloc(len), x = rt.alloc(len);
  fillRandom(rt.f32(), x, len, 3);
  for (let i = 0; i < len; i++) rt.f32()[x + i] *= 8;
  const call = cols ? () => f(y, x, n, cols) : () => f(y, x, n);
  call();
  const f32 = rt.f32();
  const ref = { sigmoid_f32: (v) => 1 / (1 + Math.exp(-v)), tanh_f32: Math.tanh, relu_f32: (v) => Math.max(v, 0) }[name];
  if (ref) for (let i = 0; i < len; i++) {
    if (Math.abs(f32[y + i] - ref(f32[x + i])) > 1e-6) throw new Error(`${name}: wrong output at ${i}`);
  }
  const t = time(call);
  return { what: `${name} n=${len}`, value: len / t / 1e9, unit: 'Gelem/s' };
}

// ---- activation error sweep ---------------------------------------------------------------------
const ACT_REF = { sigmoid_f32: (v) => 1 / (1 + Math.exp(-v)), tanh_f32: Math.tanh };
const ACT_RANGE = { sigmoid_f32: [0, 1], tanh_f32: [-1, 1] };

function actError(rt, name, stride) {
  const CH = 1 << 20;
  const x = rt.alloc(CH), y = rt.alloc(CH);
  const f = rt.k[name], ref = ACT_REF[name], [lo, hi] = ACT_RANGE[name];
  const bits = new Uint32Array(CH);
  const xs = new Float32Array(bits.buffer);
  const specials = [0, -0, 1e-45, -1e-45, 1.1754942e-38, -1.1754942e-38, 1.17549435e-38, 3.4028235e38, -3.4028235e38,
    Infinity, -Infinity, NaN, 88.5, -88.5, 89, -89, 100, -100, 9, -9, 10, -10, 0.625, -0.625];
  let worst = 0, worstX = 0, bad = 0;
  const run = (n) => {
    const f32 = rt.f32();
    f32.set(xs.subarray(0, n), x);
    f(y, x, n);
    const out = rt.f32();
    for (let i = 0; i < n; i++) {
      const v = xs[i], r = out[y + i];
      if (Number.isNaN(v)) { if (!Number.isNaN(r)) bad++; continue; }
      if (!(r >= lo && r <= hi)) { bad++; continue; } // NaN or out of range from a finite/infinite input
      const e = Math.abs(r - ref(v));
      if (e > worst) { worst = e; worstX = v; }
    }
  };
  xs.set(specials);
  run(specials.length);
  let n = 0;
  for (let b = 0; b < 4294967296; b += stride) {
    bits[n++] = b;
    if (n === CH) { run(n); n = 0; }
  }
  run(n);
  return { worst, worstX, bad };
}

// ---- as a script --------------------------------------------------------------------------------
async function actErrorMain(stride) {
  for (const variant of ['simd', 'relaxed']) {
    const rt = await load(variant);
    for (const name of Object.keys(ACT_REF)) {
      const t0 = performance.now();
      const { worst, worstX, bad } = actError(rt, name, stride);
      console.log(`${variant.padEnd(8)} ${name.padEnd(12)} max abs err ${worst.toExponential(3)} at x=${worstX}` +
        `  bad (NaN / out of range) ${bad}  [stride ${stride}, ${((performance.now() - t0) / 1000).toFixed(1)} s]`);
    }
  }
}

async function throughputMain(filter) {
  const rows = new Map();
  for (const variant of ['simd', 'relaxed']) {
    const rt = await load(variant);
    for (const s of GEMM_SHAPES) {
      if (!`${s[0]} ${s.slice(1).join('x')}`.includes(filter)) continue;
      const r = benchGemm(rt, s);
      if (r) rows.set(r.what, { ...rows.get(r.what), unit: r.unit, [variant]: r.value });
    }
    for (const s of ACT_SIZES) {
      if (!s[0].includes(filter)) continue;
      const r = benchAct(rt, s);
      if (r) rows.set(r.what, { ...rows.get(r.what), unit: r.unit, [variant]: r.value });
    }
  }
  console.log(`${'kernel'.padEnd(34)} ${'simd'.padStart(8)} ${'relaxed'.padStart(8)}`);
  for (const [what, r] of rows) {
    console.log(`${what.padEnd(34)} ${(r.simd ?? NaN).toFixed(2).padStart(8)} ${(r.relaxed ?? NaN).toFixed(2).padStart(8)}  ${r.unit}`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (process.argv[2] === '--act-error') await actErrorMain(Number(process.argv[3] ?? 1));
  else await throughputMain(process.argv[2] ?? '');
}
