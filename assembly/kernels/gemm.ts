// GEMM kernels on row-major f32 matrices. Dimension letters: M rows of the output, N columns,
// K the reduced dimension.
import { ld, lds, sts, madd, hsum } from '../util/simd';

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
