// Plain float64 references for assembly/kernels/rows.ts (the graph's row kernels): the readable
// spec. Sequences are time-major (T, B, F); lens (B) gives each row's valid steps.

type Arr = ArrayLike<number>;

/** Pool each row over its valid steps: 0 last, 1 mean, 2 max (0 when a row has no step). */
export function pool(x: Arr, lens: Arr | undefined, T: number, B: number, F: number, mode: 0 | 1 | 2): Float64Array {
  const y = new Float64Array(B * F);
  for (let b = 0; b < B; b++) {
    const n = lens ? lens[b] : T;
    for (let i = 0; i < F; i++) {
      const col = Array.from({ length: n }, (_, t) => x[(t * B + b) * F + i]);
      if (n === 0) continue;
      y[b * F + i] = mode === 0 ? col[n - 1] : mode === 1 ? col.reduce((s, v) => s + v, 0) / n : Math.max(...col);
    }
  }
  return y;
}

/** softmax (log = false) or log-softmax (log = true) of each row of x (M, N). */
export function softmaxRows(x: Arr, M: number, N: number, log: boolean): Float64Array {
  const y = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    const row = Array.from({ length: N }, (_, j) => x[m * N + j]);
    const mx = Math.max(...row);
    const lse = mx + Math.log(row.reduce((s, v) => s + Math.exp(v - mx), 0));
    for (let j = 0; j < N; j++) y[m * N + j] = log ? row[j] - lse : Math.exp(row[j] - lse);
  }
  return y;
}
