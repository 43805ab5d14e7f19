// Plain float64 references for the GEMM kernels of assembly/kernels/gemm.ts: the readable spec.
// Each is the textbook triple loop over row-major arrays, with the layout of every operand written
// out in its index expression. Dimension letters: M rows of Y, N columns of Y, K the reduced one.
// `accumulate` adds into the y passed in; otherwise y is overwritten (its old values never read).

type Arr = ArrayLike<number>;

/** gemm_nt: Y[M,N] (= or +=) X[M,K]·W[N,K]ᵀ (+ b[N] if b). W in PyTorch layout, one row per output. */
export function gemm_nt(y: Float64Array, x: Arr, w: Arr, b: Arr | null, M: number, N: number, K: number, accumulate: boolean): void {
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = accumulate ? y[m * N + n] : 0;
      if (b) s += b[n];
      for (let k = 0; k < K; k++) s += x[m * K + k] * w[n * K + k];
      y[m * N + n] = s;
    }
  }
}

/** matvec_nt: y[N] (= or +=) W[N,K]·x[K] (+ b): gemm_nt with M = 1. */
export function matvec_nt(y: Float64Array, w: Arr, x: Arr, b: Arr | null, N: number, K: number, accumulate: boolean): void {
  gemm_nt(y, x, w, b, 1, N, K, accumulate);
}

/** gemm_nn: Y[M,N] (= or +=) X[M,K]·W[K,N]   (backward: dX = dG·W). */
export function gemm_nn(y: Float64Array, x: Arr, w: Arr, M: number, N: number, K: number, accumulate: boolean): void {
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = accumulate ? y[m * N + n] : 0;
      for (let k = 0; k < K; k++) s += x[m * K + k] * w[k * N + n];
      y[m * N + n] = s;
    }
  }
}

/** gemm_tn: Y[M,N] (= or +=) X[K,M]ᵀ·W[K,N]   (backward: dW += dGᵀ·X). */
export function gemm_tn(y: Float64Array, x: Arr, w: Arr, M: number, N: number, K: number, accumulate: boolean): void {
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = accumulate ? y[m * N + n] : 0;
      for (let k = 0; k < K; k++) s += x[k * M + m] * w[k * N + n];
      y[m * N + n] = s;
    }
  }
}
