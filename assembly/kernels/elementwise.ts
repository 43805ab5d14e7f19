// Row and elementwise kernels used around the cells: softmax rows, embedding gather/scatter,
// direction merges, copies, column sums. Vector body plus scalar tail on every loop.
import { ld, st, lds, sts } from '../util/simd';

// copy_f32: y[i] = x[i] for n elements (bit-exact: also copies i32 data).
export function copy_f32(y: usize, x: usize, n: i32): void {
  memory.copy(y << 2, x << 2, <usize>n << 2);
}

// fill_f32: y[i] = v for n elements.
export function fill_f32(y: usize, v: f32, n: i32): void {
  const vv = f32x4.splat(v);
  let i = 0;
  for (; i + 4 <= n; i += 4) st(y + i, vv);
  for (; i < n; i++) sts(y + i, v);
}

// add_f32: y[i] = a[i] + b[i] for n elements (y may alias a or b).
export function add_f32(y: usize, a: usize, b: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) st(y + i, f32x4.add(ld(a + i), ld(b + i)));
  for (; i < n; i++) sts(y + i, lds(a + i) + lds(b + i));
}

// softmax_rows: y (M, N) = softmax of each row of x (M, N), max-subtracted; y may alias x.
export function softmax_rows(y: usize, x: usize, M: i32, N: i32): void {
  for (let m = 0; m < M; m++) {
    const xr = x + <usize>m * <usize>N;
    const yr = y + <usize>m * <usize>N;
    let mx = lds(xr);
    for (let j = 1; j < N; j++) mx = max(mx, lds(xr + j));
    let s: f64 = 0;
    for (let j = 0; j < N; j++) {
      const e = <f32>Math.exp(<f64>(lds(xr + j) - mx));
      sts(yr + j, e);
      s += <f64>e;
    }
    const inv = <f32>(1 / s);
    for (let j = 0; j < N; j++) sts(yr + j, lds(yr + j) * inv);
  }
}

// log_softmax_rows: y (M, N) = x − max − log Σ exp(x − max) per row; y may alias x.
export function log_softmax_rows(y: usize, x: usize, M: i32, N: i32): void {
  for (let m = 0; m < M; m++) {
    const xr = x + <usize>m * <usize>N;
    const yr = y + <usize>m * <usize>N;
    let mx = lds(xr);
    for (let j = 1; j < N; j++) mx = max(mx, lds(xr + j));
    let s: f64 = 0;
    for (let j = 0; j < N; j++) s += Math.exp(<f64>(lds(xr + j) - mx));
    const lse = <f32>(<f64>mx + Math.log(s));
    for (let j = 0; j < N; j++) sts(yr + j, lds(xr + j) - lse);
  }
}

// embedding_gather: y (n, D) row i = table row ids[i] (ids: i32, validated by the host).
export function embedding_gather(y: usize, table: usize, ids: usize, n: i32, D: i32): void {
  for (let i = 0; i < n; i++) {
    const id = <usize>load<i32>((ids + <usize>i) << 2);
    memory.copy((y + <usize>i * <usize>D) << 2, (table + id * <usize>D) << 2, <usize>D << 2);
  }
}

// embedding_scatter_add: dtable (V, D) row ids[i] += dy row i, for i < n (repeated ids add up).
export function embedding_scatter_add(dtable: usize, dy: usize, ids: usize, n: i32, D: i32): void {
  for (let i = 0; i < n; i++) {
    const id = <usize>load<i32>((ids + <usize>i) << 2);
    const r = dtable + id * <usize>D;
    add_f32(r, r, dy + <usize>i * <usize>D, D);
  }
}

// merge_dirs: a (rows, 2H) = [forward | reverse] → y (rows, H): sum (0), mul (1), ave (2).
export function merge_dirs(y: usize, a: usize, rows: i32, H: i32, mode: i32): void {
  const half = f32x4.splat(0.5);
  for (let r = 0; r < rows; r++) {
    const f = a + <usize>r * <usize>(2 * H);
    const g = f + <usize>H;
    const yr = y + <usize>r * <usize>H;
    let j = 0;
    for (; j + 4 <= H; j += 4) {
      const u = ld(f + j), v = ld(g + j);
      st(yr + j, mode == 1 ? f32x4.mul(u, v) : mode == 2 ? f32x4.mul(f32x4.add(u, v), half) : f32x4.add(u, v));
    }
    for (; j < H; j++) {
      const u = lds(f + j), v = lds(g + j);
      sts(yr + j, mode == 1 ? u * v : mode == 2 ? (u + v) * 0.5 : u + v);
    }
  }
}

// merge_dirs_backward: dcat (rows, 2H) from dy (rows, H) and the saved concat a (rows, 2H).
//   sum: [dy | dy]; mul: [dy⊙rev | dy⊙fwd]; ave: [dy/2 | dy/2]
export function merge_dirs_backward(dcat: usize, dy: usize, a: usize, rows: i32, H: i32, mode: i32): void {
  for (let r = 0; r < rows; r++) {
    const f = a + <usize>r * <usize>(2 * H);
    const df = dcat + <usize>r * <usize>(2 * H);
    const dyr = dy + <usize>r * <usize>H;
    for (let j = 0; j < H; j++) {
      const d = lds(dyr + j);
      if (mode == 1) {
        sts(df + j, d * lds(f + H + j));
        sts(df + H + j, d * lds(f + j));
      } else {
        const s: f32 = mode == 2 ? d * 0.5 : d;
        sts(df + j, s);
        sts(df + H + j, s);
      }
    }
  }
}

// colsum: y (N) (= or +=) Σ_m x[m, :] over x (M, N) — bias gradients.
export function colsum(y: usize, x: usize, M: i32, N: i32, accumulate: i32): void {
  if (!accumulate) fill_f32(y, 0, N);
  for (let m = 0; m < M; m++) add_f32(y, y, x + <usize>m * <usize>N, N);
}
