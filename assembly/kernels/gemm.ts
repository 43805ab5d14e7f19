// GEMM kernels on row-major f32 matrices. Dimension letters: M rows of the output, N columns,
// K the reduced dimension.
import { ld, st, lds, sts, madd, hsum } from '../util/simd';

// gemm_nt: Y = X·Wᵀ (+ b) (or Y += … when accumulate != 0).
//   y (M, N)  out     row-major, leading dimension N
//   x (M, K)  in      row-major
//   w (N, K)  in      row-major (PyTorch weight layout: one row per output)
//   b (N)     in      optional bias (0 = none), added once per row
export function gemm_nt(y: usize, x: usize, w: usize, b: usize, M: i32, N: i32, K: i32, accumulate: i32): void {
  const K4 = K & ~3;
  for (let m = 0; m < M; m++) {
    const xr = x + <usize>m * <usize>K;
    const yr = y + <usize>m * <usize>N;
    for (let n = 0; n < N; n++) {
      const wr = w + <usize>n * <usize>K;
      let acc = f32x4.splat(0);
      let k = 0;
      for (; k < K4; k += 4) acc = madd(ld(xr + k), ld(wr + k), acc);
      let s = hsum(acc);
      for (; k < K; k++) s += lds(xr + k) * lds(wr + k);
      if (b) s += lds(b + n);
      if (accumulate) s += lds(yr + n);
      sts(yr + n, s);
    }
  }
}

// Broadcast-form GEMM shared by gemm_nn and gemm_tn: Y[M,N] (=|+=) Σ_k X(m,k)·W[k,:], where X(m,k)
// sits at x + m*sxm + k*sxk. Tiles of 4 rows × 8 columns (8 v128 accumulators); column tails
// of 4 and then single floats; row tails one row at a time.
@inline function gemm_bcast(y: usize, x: usize, w: usize, M: i32, N: i32, K: i32, sxm: usize, sxk: usize, accumulate: i32): void {
  const Nu = <usize>N;
  let m = 0;
  for (; m + 4 <= M; m += 4) {
    const x0 = x + <usize>m * sxm;
    const x1 = x0 + sxm, x2 = x1 + sxm, x3 = x2 + sxm;
    const y0 = y + <usize>m * Nu;
    let n = 0;
    for (; n + 8 <= N; n += 8) {
      let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a10 = f32x4.splat(0), a11 = f32x4.splat(0);
      let a20 = f32x4.splat(0), a21 = f32x4.splat(0), a30 = f32x4.splat(0), a31 = f32x4.splat(0);
      for (let k = 0; k < K; k++) {
        const wr = w + <usize>k * Nu + <usize>n;
        const w0 = ld(wr), w1 = ld(wr + 4);
        const ko = <usize>k * sxk;
        const b0 = f32x4.splat(lds(x0 + ko)), b1 = f32x4.splat(lds(x1 + ko));
        const b2 = f32x4.splat(lds(x2 + ko)), b3 = f32x4.splat(lds(x3 + ko));
        a00 = madd(b0, w0, a00); a01 = madd(b0, w1, a01);
        a10 = madd(b1, w0, a10); a11 = madd(b1, w1, a11);
        a20 = madd(b2, w0, a20); a21 = madd(b2, w1, a21);
        a30 = madd(b3, w0, a30); a31 = madd(b3, w1, a31);
      }
      const p0 = y0 + <usize>n, p1 = p0 + Nu, p2 = p1 + Nu, p3 = p2 + Nu;
      if (accumulate) {
        a00 = f32x4.add(a00, ld(p0)); a01 = f32x4.add(a01, ld(p0 + 4));
        a10 = f32x4.add(a10, ld(p1)); a11 = f32x4.add(a11, ld(p1 + 4));
        a20 = f32x4.add(a20, ld(p2)); a21 = f32x4.add(a21, ld(p2 + 4));
        a30 = f32x4.add(a30, ld(p3)); a31 = f32x4.add(a31, ld(p3 + 4));
      }
      st(p0, a00); st(p0 + 4, a01); st(p1, a10); st(p1 + 4, a11);
      st(p2, a20); st(p2 + 4, a21); st(p3, a30); st(p3 + 4, a31);
    }
    // column tail: rows one at a time
    for (let r = 0; r < 4; r++) gemm_bcast_row(y0 + <usize>r * Nu, x0 + <usize>r * sxm, w, n, N, K, sxk, accumulate);
  }
  for (; m < M; m++) gemm_bcast_row(y + <usize>m * Nu, x + <usize>m * sxm, w, 0, N, K, sxk, accumulate);
}

// One output row from column n0 on: 4-wide blocks, then single columns.
@inline function gemm_bcast_row(yr: usize, xr: usize, w: usize, n0: i32, N: i32, K: i32, sxk: usize, accumulate: i32): void {
  const Nu = <usize>N;
  let n = n0;
  for (; n + 4 <= N; n += 4) {
    let a = f32x4.splat(0);
    for (let k = 0; k < K; k++) a = madd(f32x4.splat(lds(xr + <usize>k * sxk)), ld(w + <usize>k * Nu + <usize>n), a);
    if (accumulate) a = f32x4.add(a, ld(yr + n));
    st(yr + n, a);
  }
  for (; n < N; n++) {
    let s: f32 = 0;
    for (let k = 0; k < K; k++) s += lds(xr + <usize>k * sxk) * lds(w + <usize>k * Nu + <usize>n);
    if (accumulate) s += lds(yr + n);
    sts(yr + n, s);
  }
}

// gemm_nn: Y = X·W (or Y += X·W when accumulate != 0).   dX = dG·W in backward.
//   y (M, N) out; x (M, K) in; w (K, N) in
export function gemm_nn(y: usize, x: usize, w: usize, M: i32, N: i32, K: i32, accumulate: i32): void {
  gemm_bcast(y, x, w, M, N, K, <usize>K, 1, accumulate);
}

// gemm_tn: Y = Xᵀ·W (or Y += Xᵀ·W when accumulate != 0).   dW += dGᵀ·X in backward.
//   y (M, N) out; x (K, M) in; w (K, N) in
export function gemm_tn(y: usize, x: usize, w: usize, M: i32, N: i32, K: i32, accumulate: i32): void {
  gemm_bcast(y, x, w, M, N, K, 1, <usize>M, accumulate);
}
