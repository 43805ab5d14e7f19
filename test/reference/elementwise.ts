// Plain float64 references for assembly/kernels/elementwise.ts: the readable spec. Row-major arrays;
// M rows × N columns for the row kernels, D the embedding width, H the hidden size.

type Arr = ArrayLike<number>;

/** softmax of each row: y[m, j] = exp(x[m, j] − max_m) / Σ_j exp(x[m, j] − max_m). */
export function softmax_rows(x: Arr, M: number, N: number): Float64Array {
  const y = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    let mx = -Infinity;
    for (let j = 0; j < N; j++) mx = Math.max(mx, x[m * N + j]);
    let s = 0;
    for (let j = 0; j < N; j++) s += Math.exp(x[m * N + j] - mx);
    for (let j = 0; j < N; j++) y[m * N + j] = Math.exp(x[m * N + j] - mx) / s;
  }
  return y;
}

/** log-softmax of each row: y[m, j] = x[m, j] − max_m − log Σ_j exp(x[m, j] − max_m). */
export function log_softmax_rows(x: Arr, M: number, N: number): Float64Array {
  const y = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    let mx = -Infinity;
    for (let j = 0; j < N; j++) mx = Math.max(mx, x[m * N + j]);
    let s = 0;
    for (let j = 0; j < N; j++) s += Math.exp(x[m * N + j] - mx);
    const lse = mx + Math.log(s);
    for (let j = 0; j < N; j++) y[m * N + j] = x[m * N + j] - lse;
  }
  return y;
}

/** Embedding lookup: y[i, :] = table[ids[i], :] for i < n. */
export function embedding_gather(table: Arr, ids: Arr, n: number, D: number): Float64Array {
  const y = new Float64Array(n * D);
  for (let i = 0; i < n; i++) for (let d = 0; d < D; d++) y[i * D + d] = table[ids[i] * D + d];
  return y;
}

/** Merge a bidirectional row [fwd | rev] (rows, 2H) into (rows, H): sum (0), mul (1), ave (2). */
export function merge_dirs(a: Arr, rows: number, H: number, mode: 0 | 1 | 2): Float64Array {
  const y = new Float64Array(rows * H);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < H; j++) {
      const f = a[r * 2 * H + j];
      const v = a[r * 2 * H + H + j];
      y[r * H + j] = mode === 0 ? f + v : mode === 1 ? f * v : (f + v) / 2;
    }
  }
  return y;
}

/** y = a + b elementwise. */
export function add(a: Arr, b: Arr, n: number): Float64Array {
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) y[i] = a[i] + b[i];
  return y;
}
