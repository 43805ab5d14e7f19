// GEMM kernels on row-major f32 matrices: SIMD128 register tiles, madd fused in the relaxed build.
// Dimension letters: M rows of the output, N columns of the output, K the reduced dimension.
// Pointers are f32 element offsets; inside the loops they become byte addresses.
// Tails (M, N or K not a multiple of the tile) run the body's formula: missing rows of a tile repeat
// the last valid row (computed, never stored), missing K or N lanes are zero-padded partial loads,
// and only valid lanes are stored. Nothing is read or written outside the operands.
// Throughput: `node bench/kernels.mjs` (numbers in the PR notes; gemm_nt ≈ 37 / 49 GFLOP/s plain /
// relaxed at M=64, N=1024, K=256 on the 2.6 GHz EPYC dev machine).
import { ldn, stn, madd, hsum4 } from '../util/simd';
import { PW, PW_FLOATS, PX, PANEL_K } from '../util/scratch';

// Load r (0..3) floats at byte address a into the low lanes, the others 0 (K tails).
@inline function ldr(a: usize, r: i32): v128 {
  return ldn(a >> 2, r);
}

// ---- gemm_nt: tile 2×4, dot-product form -------------------------------------------------------
// 2 rows of X × 4 rows of W, one v128 accumulator per (row, W row) pair running along K (both
// operands stream contiguously); at the end hsum4 turns a row's 4 accumulators into 4 adjacent
// outputs. 8 accumulators + 2 X + 1 W registers fit the 16 xmm registers of x64 (a 3×4 or a
// k-unrolled tile spills and runs at half speed).

// Every output row is computed the same way whatever M is (matvec_nt's tiles too), so a batch split
// across workers, or fed one step at a time, gives the whole-batch result bit for bit. (Tried and
// left out for that reason: for M ≥ 128, transposing W into an 8-column panel and running the 4×8
// broadcast tile was 10–40 % faster, but it sums in a different order than the small-M path.)

// X rows per L1 block: the block (≈16 KiB) stays in L1 while the 4 W rows of a tile are reused.
@inline function ntBlockRows(K: i32): i32 {
  return max(2, min(64, (4096 / max(K, 1)) & ~1));
}

// Final step of a tile row: r = Σ-lanes of one row, + bias, + old y, stored to nv lanes.
@inline function ntStore(yp: usize, r: v128, bv: v128, nv: i32, accumulate: i32): void {
  r = f32x4.add(r, bv);
  if (accumulate) r = f32x4.add(r, ldn(yp, nv));
  stn(yp, r, nv);
}

// gemm_nt: Y = X·Wᵀ (+ b) (or Y += … when accumulate != 0).
//   y (M, N)  out     row-major, leading dimension N
//   x (M, K)  in      row-major
//   w (N, K)  in      row-major (PyTorch weight layout: one row per output)
//   b (N)     in      optional bias (0 = none), added once per output
export function gemm_nt(y: usize, x: usize, w: usize, b: usize, M: i32, N: i32, K: i32, accumulate: i32): void {
  if (M == 1) {
    matvec_nt(y, w, x, b, N, K, accumulate);
    return;
  }

  const kb: usize = <usize>(K & ~3) << 2; // bytes of the whole-vector part of a row
  const r = K & 3; // K tail (floats)
  const ldb: usize = <usize>K << 2; // row stride of X and W in bytes
  const MB = ntBlockRows(K);
  for (let mb = 0; mb < M; mb += MB) {
    const me = min(mb + MB, M);
    for (let n0 = 0; n0 < N; n0 += 4) {
      const nv = min(N - n0, 4); // valid W rows / output columns in this tile
      // W rows; tail tiles repeat the last valid row (computed, never stored)
      const w0 = (w << 2) + <usize>n0 * ldb;
      const w1 = nv > 1 ? w0 + ldb : w0;
      const w2 = nv > 2 ? w1 + ldb : w1;
      const w3 = nv > 3 ? w2 + ldb : w2;
      const bv = b ? ldn(b + <usize>n0, nv) : f32x4.splat(0);
      for (let m0 = mb; m0 < me; m0 += 2) {
        const two = m0 + 1 < me;
        const x0 = (x << 2) + <usize>m0 * ldb;
        const x1 = two ? x0 + ldb : x0;
        let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a02 = f32x4.splat(0), a03 = f32x4.splat(0);
        let a10 = f32x4.splat(0), a11 = f32x4.splat(0), a12 = f32x4.splat(0), a13 = f32x4.splat(0);
        let k: usize = 0;
        for (; k < kb; k += 16) {
          const vx0 = v128.load(x0 + k);
          const vx1 = v128.load(x1 + k);
          let vw = v128.load(w0 + k);
          a00 = madd(vx0, vw, a00);
          a10 = madd(vx1, vw, a10);
          vw = v128.load(w1 + k);
          a01 = madd(vx0, vw, a01);
          a11 = madd(vx1, vw, a11);
          vw = v128.load(w2 + k);
          a02 = madd(vx0, vw, a02);
          a12 = madd(vx1, vw, a12);
          vw = v128.load(w3 + k);
          a03 = madd(vx0, vw, a03);
          a13 = madd(vx1, vw, a13);
        }
        if (r) {
          // K tail: the same formula on zero-padded partial vectors
          const vx0 = ldr(x0 + k, r);
          const vx1 = ldr(x1 + k, r);
          let vw = ldr(w0 + k, r);
          a00 = madd(vx0, vw, a00);
          a10 = madd(vx1, vw, a10);
          vw = ldr(w1 + k, r);
          a01 = madd(vx0, vw, a01);
          a11 = madd(vx1, vw, a11);
          vw = ldr(w2 + k, r);
          a02 = madd(vx0, vw, a02);
          a12 = madd(vx1, vw, a12);
          vw = ldr(w3 + k, r);
          a03 = madd(vx0, vw, a03);
          a13 = madd(vx1, vw, a13);
        }
        const y0 = y + <usize>m0 * <usize>N + <usize>n0;
        ntStore(y0, hsum4(a00, a01, a02, a03), bv, nv, accumulate);
        if (two) ntStore(y0 + <usize>N, hsum4(a10, a11, a12, a13), bv, nv, accumulate);
      }
    }
  }
}

// ---- matvec_nt: tiles 1×6 then 1×4 ---------------------------------------------------------------
// Bound by streaming W from L2. Six rows per tile: six independent madd chains hide the madd
// latency (a 4-row tile is latency-bound: 4 chains × 16 B per 4 cycles), and 6 accumulators + x +
// 6 W vectors = 13 xmm registers, so TurboFan (which hoists every load of the loop body to its top)
// does not spill; an 8-row or 4×2 tile needs 17–18 and keeps accumulators on the stack. At
// 1024×256 the 6-row tile streams W ≈ 12 % faster than the 4-row one (bench/kernels.mjs).

// matvec_nt: y = W·x (+ b) (or y += … when accumulate != 0); gemm_nt with M = 1.
//   y (N)     out
//   w (N, K)  in      row-major
//   x (K)     in
//   b (N)     in      optional bias (0 = none)
export function matvec_nt(y: usize, w: usize, x: usize, b: usize, N: i32, K: i32, accumulate: i32): void {
  let n0 = 0;
  for (; n0 + 6 <= N; n0 += 6) mvTile(y, w, x, b, n0, 6, K, accumulate, 6);
  for (; n0 < N; n0 += 4) mvTile(y, w, x, b, n0, min(N - n0, 4), K, accumulate, 4);
}

// Rows n0..n0+nv of matvec_nt with an R-row tile (R = 6 or 4, a constant: the unused accumulators
// and branches fold away); rows past nv (R = 4 only) repeat the last valid one and are not stored.
@inline function mvTile(y: usize, w: usize, x: usize, b: usize, n0: i32, nv: i32, K: i32, accumulate: i32, R: i32): void {
  const kb: usize = <usize>(K & ~3) << 2;
  const r = K & 3;
  const ldb: usize = <usize>K << 2;
  const xb = x << 2;
  const w0 = (w << 2) + <usize>n0 * ldb;
  const w1 = nv > 1 ? w0 + ldb : w0;
  const w2 = nv > 2 ? w1 + ldb : w1;
  const w3 = nv > 3 ? w2 + ldb : w2;
  const w4 = R > 4 ? w3 + ldb : w3;
  const w5 = R > 4 ? w4 + ldb : w3;
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0);
  let a3 = f32x4.splat(0), a4 = f32x4.splat(0), a5 = f32x4.splat(0);
  let k: usize = 0;
  for (; k < kb; k += 16) {
    const vx = v128.load(xb + k);
    a0 = madd(vx, v128.load(w0 + k), a0);
    a1 = madd(vx, v128.load(w1 + k), a1);
    a2 = madd(vx, v128.load(w2 + k), a2);
    a3 = madd(vx, v128.load(w3 + k), a3);
    if (R > 4) {
      a4 = madd(vx, v128.load(w4 + k), a4);
      a5 = madd(vx, v128.load(w5 + k), a5);
    }
  }
  if (r) {
    const vx = ldr(xb + k, r);
    a0 = madd(vx, ldr(w0 + k, r), a0);
    a1 = madd(vx, ldr(w1 + k, r), a1);
    a2 = madd(vx, ldr(w2 + k, r), a2);
    a3 = madd(vx, ldr(w3 + k, r), a3);
    if (R > 4) {
      a4 = madd(vx, ldr(w4 + k, r), a4);
      a5 = madd(vx, ldr(w5 + k, r), a5);
    }
  }
  const yp = y + <usize>n0;
  const nv0 = min(nv, 4);
  ntStore(yp, hsum4(a0, a1, a2, a3), b ? ldn(b + <usize>n0, nv0) : f32x4.splat(0), nv0, accumulate);
  if (R > 4) ntStore(yp + 4, hsum4(a4, a5, a4, a5), b ? ldn(b + <usize>n0 + 4, 2) : f32x4.splat(0), 2, accumulate);
}

// ---- gemm_nn / gemm_tn: tile 4×8, broadcast form ------------------------------------------------
// A 4×8 tile of Y (8 accumulators = 4 rows × 2 vectors). Per k it loads 8 floats of row k of W and
// broadcasts one element of X per row. The two kernels differ only in how X is addressed:
// x(m, k) at byte xb + m·sxm + k·sxk.
// Two drivers. Below PACK_M rows the tile reads W in place, 8-column stripe by stripe. From PACK_M
// rows on (dX over T·B rows, dW over the gates) W is first copied, one K block at a time, into 8-column
// panels in the static scratch (assembly/util/scratch.ts), and gemm_tn also copies each tile's 4
// columns of X into a [k][4] panel: the strided reads that alias in L1 when a leading dimension is a
// multiple of 256 or 1024 floats (W rows 1 or 4 KiB apart, gemm_tn's X rows M·4 bytes apart) become
// contiguous ones. Measured in one process at training shapes (GFLOP/s, in place → packed): dW_hh
// tn 1024×256×2048 19.3 → 25.1, dX nn 2048×64×1024 18.3 → 30.2, nn 2048×256×1024 13.5 → 28.4; at
// M = 32 (the per-step dh) the in-place driver stays ahead (31.8 vs 31.4), W4 training +15 %.
// Both sum each output over k in order within a K block, so results differ from each other only
// through the K block size.

// Y[m0..m0+mv, n0..n0+nc] (= or +=) Σ_k x(m,k)·W[k, n0..]. nc ≤ 8 valid columns (a constant 8 in the
// body, so the partial-load branches fold away), mv ≤ 4 valid rows (invalid rows repeat the last
// valid one and are not stored).
@inline function bcTile4x8(
  yp: usize, N: i32, xp: usize, sxm: usize, sxk: usize, wp: usize, ldw: usize, K: i32,
  mv: i32, nc: i32, accumulate: i32,
): void {
  // byte offsets of rows 1..3 of the tile from row 0 (invalid rows repeat the last valid one)
  const d1: usize = mv > 1 ? sxm : 0;
  const d2: usize = mv > 2 ? d1 + sxm : d1;
  const d3: usize = mv > 3 ? d2 + sxm : d2;
  const nc0 = min(nc, 4);
  const nc1 = nc - 4; // ≤ 0: the second vector is all padding
  let a00 = f32x4.splat(0), a01 = f32x4.splat(0);
  let a10 = f32x4.splat(0), a11 = f32x4.splat(0);
  let a20 = f32x4.splat(0), a21 = f32x4.splat(0);
  let a30 = f32x4.splat(0), a31 = f32x4.splat(0);
  let xk = xp;
  let wk = wp;
  for (let k = 0; k < K; k++) {
    const w0 = nc >= 8 ? v128.load(wk) : ldr(wk, nc0);
    const w1 = nc >= 8 ? v128.load(wk, 16) : nc1 > 0 ? ldr(wk + 16, nc1) : f32x4.splat(0);
    let xv = v128.load32_splat(xk);
    a00 = madd(xv, w0, a00);
    a01 = madd(xv, w1, a01);
    xv = v128.load32_splat(xk + d1);
    a10 = madd(xv, w0, a10);
    a11 = madd(xv, w1, a11);
    xv = v128.load32_splat(xk + d2);
    a20 = madd(xv, w0, a20);
    a21 = madd(xv, w1, a21);
    xv = v128.load32_splat(xk + d3);
    a30 = madd(xv, w0, a30);
    a31 = madd(xv, w1, a31);
    xk += sxk;
    wk += ldw;
  }
  bcStore(yp, a00, a01, nc0, nc1, accumulate);
  if (mv > 1) bcStore(yp + <usize>N, a10, a11, nc0, nc1, accumulate);
  if (mv > 2) bcStore(yp + <usize>(2 * N), a20, a21, nc0, nc1, accumulate);
  if (mv > 3) bcStore(yp + <usize>(3 * N), a30, a31, nc0, nc1, accumulate);
}

// Stores one tile row (two vectors, nc0 + max(nc1, 0) valid lanes) at element yp.
@inline function bcStore(yp: usize, r0: v128, r1: v128, nc0: i32, nc1: i32, accumulate: i32): void {
  if (accumulate) r0 = f32x4.add(r0, ldn(yp, nc0));
  stn(yp, r0, nc0);
  if (nc1 > 0) {
    if (accumulate) r1 = f32x4.add(r1, ldn(yp + 4, nc1));
    stn(yp + 4, r1, nc1);
  }
}

// Shared driver: K blocks (see bcBlockK), then stripes of 8 columns (a stripe of W is reused by
// every 4-row tile while it is warm in cache), then 4-row tiles.
@inline function gemmBroadcast(y: usize, x: usize, sxm: usize, sxk: usize, w: usize, M: i32, N: i32, K: i32, accumulate: i32): void {
  const ldw: usize = <usize>N << 2;
  const M4 = M & ~3;
  const N8 = N & ~7;
  const KC = bcBlockK(M, N, K);
  let k0 = 0;
  do {
    const kc = min(K - k0, KC);
    const acc = k0 > 0 ? 1 : accumulate; // later K blocks add to the partial sums in y
    const xk = (x << 2) + <usize>k0 * sxk;
    const wk = (w << 2) + <usize>k0 * ldw;
    for (let n0 = 0; n0 < N; n0 += 8) {
      const wp = wk + (<usize>n0 << 2);
      let m0 = 0;
      if (n0 < N8) {
        for (; m0 < M4; m0 += 4) {
          bcTile4x8(y + <usize>m0 * <usize>N + <usize>n0, N, xk + <usize>m0 * sxm, sxm, sxk, wp, ldw, kc, 4, 8, acc);
        }
      }
      // row and column tails: the same tile with partial loads and stores
      for (; m0 < M; m0 += 4) {
        bcTile4x8(y + <usize>m0 * <usize>N + <usize>n0, N, xk + <usize>m0 * sxm, sxm, sxk, wp, ldw, kc, min(M - m0, 4), min(N - n0, 8), acc);
      }
    }
    k0 += KC;
  } while (k0 < K);
}

// K block of the broadcast kernels: the X and W rows of one block, (M + N)·KC floats, fit in about
// half of a 1 MiB L2, so every stripe pass after the first reads from L2, not memory.
@inline function bcBlockK(M: i32, N: i32, K: i32): i32 {
  return max(16, min(K, 131072 / max(M + N, 1)));
}

// gemm_nn: Y = X·W (or Y += … when accumulate != 0). Backward dX = dG·W.
//   y (M, N)  out
//   x (M, K)  in      row-major
//   w (K, N)  in      row-major
export function gemm_nn(y: usize, x: usize, w: usize, M: i32, N: i32, K: i32, accumulate: i32): void {
  if (M >= PACK_M && K > 0) gemmBroadcastPacked(y, x, <usize>K << 2, 4, w, M, N, K, accumulate, false);
  else gemmBroadcast(y, x, <usize>K << 2, 4, w, M, N, K, accumulate);
}

// gemm_tn: Y = Xᵀ·W (or Y += … when accumulate != 0). Backward dW += dGᵀ·X.
//   y (M, N)  out
//   x (K, M)  in      row-major (read transposed)
//   w (K, N)  in      row-major
export function gemm_tn(y: usize, x: usize, w: usize, M: i32, N: i32, K: i32, accumulate: i32): void {
  if (M >= PACK_M && K > 0) gemmBroadcastPacked(y, x, 4, <usize>M << 2, w, M, N, K, accumulate, true);
  else gemmBroadcast(y, x, 4, <usize>M << 2, w, M, N, K, accumulate);
}

// ---- packed driver ----------------------------------------------------------------------------------
// Rows of Y from which gemm_nn / gemm_tn pack (see the section header).
const PACK_M = 64;

// Panel copy of one K block of W: PW[s·kc·8 + k·8 + j] = W[k0 + k, c0 + s + j] for the stripes
// s = 0, 8, … < nch from column c0 (0 past N).
@inline function packWBlock(w: usize, N: i32, c0: i32, nch: i32, k0: i32, kc: i32): void {
  const ldw: usize = <usize>N << 2;
  const z = f32x4.splat(0);
  let o = PW;
  for (let s = 0; s < nch; s += 8) {
    const n0 = c0 + s;
    const nc = min(N - n0, 8);
    let src = (w << 2) + <usize>k0 * ldw + (<usize>n0 << 2);
    if (nc == 8) {
      for (let k = 0; k < kc; k++) {
        v128.store(o, v128.load(src));
        v128.store(o, v128.load(src, 16), 16);
        src += ldw;
        o += 32;
      }
    } else {
      const nc0 = min(nc, 4);
      const nc1 = nc - 4;
      for (let k = 0; k < kc; k++) {
        v128.store(o, ldn(src >> 2, nc0));
        v128.store(o, nc1 > 0 ? ldn((src + 16) >> 2, nc1) : z, 16);
        src += ldw;
        o += 32;
      }
    }
  }
}

// The packed driver (see the section header): column chunks of ≤ 2048, K blocks sized so the chunk's
// panels fill the scratch (≤ PANEL_K), then 4-row tiles, each over every stripe of the chunk.
@inline function gemmBroadcastPacked(y: usize, x: usize, sxm: usize, sxk: usize, w: usize, M: i32, N: i32, K: i32, accumulate: i32, tn: bool): void {
  const N8 = (N + 7) & ~7;
  const NCH = min(N8, 2048);
  for (let c0 = 0; c0 < N; c0 += NCH) {
    const nch = min(N8 - c0, NCH);
    const KC = min(K, min(PANEL_K, PW_FLOATS / nch)); // ≥ 32
    let k0 = 0;
    do {
      const kc = min(K - k0, KC);
      const acc = k0 > 0 ? 1 : accumulate;
      packWBlock(w, N, c0, nch, k0, kc);
      const xk = (x << 2) + <usize>k0 * sxk;
      for (let m0 = 0; m0 < M; m0 += 4) {
        const mv = min(M - m0, 4);
        let xp = xk + <usize>m0 * sxm;
        let tsxm = sxm;
        let tsxk = sxk;
        if (tn) {
          // X panel [k][4]: x(k0 + k, m0..m0+3), one (partial) vector per k
          let src = xp;
          let o = PX;
          if (mv == 4) {
            for (let k = 0; k < kc; k++) {
              v128.store(o, v128.load(src));
              src += sxk;
              o += 16;
            }
          } else {
            for (let k = 0; k < kc; k++) {
              v128.store(o, ldn(src >> 2, mv));
              src += sxk;
              o += 16;
            }
          }
          xp = PX;
          tsxm = 4;
          tsxk = 16;
        }
        const yrow = y + <usize>m0 * <usize>N;
        for (let s = 0; s < nch; s += 8) {
          const n0 = c0 + s;
          const nc = min(N - n0, 8);
          const wp = PW + <usize>s * <usize>kc * 4;
          if (mv == 4 && nc == 8) bcTile4x8(yrow + <usize>n0, N, xp, tsxm, tsxk, wp, 32, kc, 4, 8, acc);
          else bcTile4x8(yrow + <usize>n0, N, xp, tsxm, tsxk, wp, 32, kc, mv, nc, acc);
        }
      }
      k0 += KC;
    } while (k0 < K);
  }
}
