// Row-wise and element-wise helpers: softmax / log-softmax over rows, embedding lookup (and its
// scatter-add backward), merging the two directions of a bidirectional layer (and backward), column
// sums, copy / fill / add. Dimension letters: M rows,
// N columns, D embedding width, H hidden. Tails run the body's vector formula on partial vectors.
import { ld, st, lds, sts, ldn, stn, hsum } from '../util/simd';
import { vexp } from './activations';

// Lanes 0..n-1 of v kept, the others set to -Inf (so a partial vector cannot win a max).
@inline function padNegInf(v: v128, n: i32): v128 {
  const keep = i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(n));
  return v128.bitselect(v, f32x4.splat(-Infinity), keep);
}

// Largest element of row x[0..N) (NaN if the row holds a NaN; -Inf for N = 0).
@inline function rowMax(x: usize, N: i32): f32 {
  let m = f32x4.splat(-Infinity);
  let j = 0;
  for (; j + 4 <= N; j += 4) m = f32x4.max(m, v128.load((x + <usize>j) << 2));
  if (j < N) m = f32x4.max(m, padNegInf(ldn(x + <usize>j, N - j), N - j));
  m = f32x4.max(m, v128.shuffle<f32>(m, m, 2, 3, 0, 1));
  m = f32x4.max(m, v128.shuffle<f32>(m, m, 1, 0, 3, 2));
  return f32x4.extract_lane(m, 0);
}

// softmax_rows: y[m, :] = exp(x[m, :] − max) / Σ exp(x[m, :] − max), numerically stable.
//   y (M, N)  out    may alias x
//   x (M, N)  in     -Inf entries give exactly 0; a NaN makes its row NaN
export function softmax_rows(y: usize, x: usize, M: i32, N: i32): void {
  for (let m = 0; m < M; m++) {
    const xr = x + <usize>m * <usize>N;
    const yr = y + <usize>m * <usize>N;
    const mx = f32x4.splat(rowMax(xr, N));
    // e = exp(x − max) into y, summed on the way (padding lanes are 0 and add nothing)
    let s = f32x4.splat(0);
    let j = 0;
    for (; j + 4 <= N; j += 4) {
      const e = vexp(f32x4.sub(v128.load((xr + <usize>j) << 2), mx));
      s = f32x4.add(s, e);
      v128.store((yr + <usize>j) << 2, e);
    }
    if (j < N) {
      const e = vexp(f32x4.sub(padNegInf(ldn(xr + <usize>j, N - j), N - j), mx));
      s = f32x4.add(s, e);
      stn(yr + <usize>j, e, N - j);
    }
    // normalise
    const inv = f32x4.splat(<f32>1 / hsum(s));
    j = 0;
    for (; j + 4 <= N; j += 4) v128.store((yr + <usize>j) << 2, f32x4.mul(v128.load((yr + <usize>j) << 2), inv));
    if (j < N) stn(yr + <usize>j, f32x4.mul(ldn(yr + <usize>j, N - j), inv), N - j);
  }
}

// log_softmax_rows: y[m, :] = x[m, :] − max − log Σ exp(x[m, :] − max), numerically stable.
//   y (M, N)  out    may alias x
//   x (M, N)  in     -Inf entries give -Inf; a NaN makes its row NaN
export function log_softmax_rows(y: usize, x: usize, M: i32, N: i32): void {
  for (let m = 0; m < M; m++) {
    const xr = x + <usize>m * <usize>N;
    const yr = y + <usize>m * <usize>N;
    const mx = f32x4.splat(rowMax(xr, N));
    let s = f32x4.splat(0);
    let j = 0;
    for (; j + 4 <= N; j += 4) s = f32x4.add(s, vexp(f32x4.sub(v128.load((xr + <usize>j) << 2), mx)));
    if (j < N) s = f32x4.add(s, vexp(f32x4.sub(padNegInf(ldn(xr + <usize>j, N - j), N - j), mx)));
    // y = (x − max) − log Σ: x − max first (exact when close to the max), then the small log
    const ls = f32x4.splat(<f32>Math.log(<f64>hsum(s)));
    j = 0;
    for (; j + 4 <= N; j += 4) {
      v128.store((yr + <usize>j) << 2, f32x4.sub(f32x4.sub(v128.load((xr + <usize>j) << 2), mx), ls));
    }
    if (j < N) stn(yr + <usize>j, f32x4.sub(f32x4.sub(ldn(xr + <usize>j, N - j), mx), ls), N - j);
  }
}

// Copies D floats (vector body, partial tail). Regions must not overlap.
@inline function copyRow(y: usize, x: usize, D: i32): void {
  let j = 0;
  for (; j + 4 <= D; j += 4) v128.store((y + <usize>j) << 2, v128.load((x + <usize>j) << 2));
  if (j < D) stn(y + <usize>j, ldn(x + <usize>j, D - j), D - j);
}

// embedding_gather: y[i, :] = table[ids[i], :].
//   y     (n, D)  out
//   table (V, D)  in
//   ids   (n)     in   i32 element offset; the host validates 0 ≤ ids[i] < V
export function embedding_gather(y: usize, table: usize, ids: usize, n: i32, D: i32): void {
  for (let i = 0; i < n; i++) {
    const id = load<i32>((ids + <usize>i) << 2);
    copyRow(y + <usize>i * <usize>D, table + <usize>id * <usize>D, D);
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

// merge_dirs: combine the two halves of a bidirectional output row.
//   y (rows, H)   out   y = fwd + rev (mode 0), fwd ⊙ rev (mode 1), (fwd + rev) / 2 (mode 2)
//   a (rows, 2H)  in    [fwd | rev] per row
export function merge_dirs(y: usize, a: usize, rows: i32, H: i32, mode: i32): void {
  for (let r = 0; r < rows; r++) {
    const f = a + <usize>r * <usize>(2 * H);
    const b = f + <usize>H;
    const yr = y + <usize>r * <usize>H;
    let j = 0;
    for (; j < H; j += 4) {
      const n = min(H - j, 4);
      const u = ldn(f + <usize>j, n);
      const v = ldn(b + <usize>j, n);
      const o = mode == 1 ? f32x4.mul(u, v) : mode == 2 ? f32x4.mul(f32x4.add(u, v), f32x4.splat(0.5)) : f32x4.add(u, v);
      stn(yr + <usize>j, o, n);
    }
  }
}

// copy_f32: y[i] = x[i] (memmove: the regions may overlap; bit-exact, so it copies i32 data too).
//   y (n)  out
//   x (n)  in
export function copy_f32(y: usize, x: usize, n: i32): void {
  memory.copy(y << 2, x << 2, <usize>n << 2);
}

// fill_f32: y[i] = v.
//   y (n)  out
export function fill_f32(y: usize, v: f32, n: i32): void {
  const s = f32x4.splat(v);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store((y + <usize>i) << 2, s);
  if (i < n) stn(y + <usize>i, s, n - i);
}

// add_f32: y[i] = a[i] + b[i].
//   y (n)  out    may alias a or b
//   a (n)  in
//   b (n)  in
export function add_f32(y: usize, a: usize, b: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    v128.store((y + <usize>i) << 2, f32x4.add(v128.load((a + <usize>i) << 2), v128.load((b + <usize>i) << 2)));
  }
  if (i < n) stn(y + <usize>i, f32x4.add(ldn(a + <usize>i, n - i), ldn(b + <usize>i, n - i)), n - i);
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
