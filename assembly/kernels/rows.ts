// Row kernels of the model graph: strided row copies (feature concat and its backward), pooling of
// a sequence over each row's valid steps (last / mean / max) and its backward, the backward of
// softmax / log-softmax rows, and y += x. Dimension letters: T steps, B batch, F features, M rows,
// N columns. Sequences are time-major: row (t, b) of a (T, B, F) array starts at (t·B + b)·F.
import { ldn, stn, lds, sts, madd } from '../util/simd';
import { fill_f32 } from './elementwise';
import { vtanh } from './activations';

export const POOL_LAST: i32 = 0;
export const POOL_MEAN: i32 = 1;
export const POOL_MAX: i32 = 2;

// y[i] (= or +=) x[i] over n floats.
@inline function copyOrAdd(y: usize, x: usize, n: i32, accumulate: i32): void {
  let i = 0;
  for (; i < n; i += 4) {
    const m = min(4, n - i);
    const ii = <usize>i;
    const v = ldn(x + ii, m);
    stn(y + ii, accumulate ? f32x4.add(ldn(y + ii, m), v) : v, m);
  }
}

// copy_rows: y[r, 0..N) (= or +=) x[r, 0..N) for M rows with row strides ldy and ldx.
//   Feature concat writes each input into its column block (y = out + offset, ldy = Σ F);
//   its backward adds the block back into each input's gradient (accumulate = 1).
export function copy_rows(y: usize, ldy: i32, x: usize, ldx: i32, M: i32, N: i32, accumulate: i32): void {
  for (let r = 0; r < M; r++) copyOrAdd(y + <usize>r * <usize>ldy, x + <usize>r * <usize>ldx, N, accumulate);
}

// add_to: y (n) += x (n).
export function add_to(y: usize, x: usize, n: i32): void {
  copyOrAdd(y, x, n, 1);
}

// Element offset of row (t, b) of a (T, B, F) sequence at x.
@inline function rowAt(x: usize, B: i32, b: i32, F: i32, t: i32): usize {
  return x + (<usize>t * <usize>B + <usize>b) * <usize>F;
}

// Valid steps of row b (T when lens is absent).
@inline function steps(lens: usize, b: i32, T: i32): i32 {
  return lens ? min(max(load<i32>((lens + <usize>b) << 2), 0), T) : T;
}

// pool_forward: one vector per row from its valid steps.
//   y    (B, F)     out  last: x[len−1, b]; mean: Σ_{t<len} x[t, b] / len; max: elementwise max over t < len
//                        (0 when len = 0)
//   idx  (B, F) i32 out  max only (0 = none): the step each maximum came from (first on ties), for backward
//   x    (T, B, F)  in
//   lens (B) i32    in   optional (0 = all T)
export function pool_forward(y: usize, idx: usize, x: usize, lens: usize, T: i32, B: i32, F: i32, mode: i32): void {
  for (let b = 0; b < B; b++) {
    const yr = y + <usize>b * <usize>F;
    const n = steps(lens, b, T);
    if (n == 0) {
      fill_f32(yr, 0, F);
      continue;
    }
    if (mode == POOL_LAST) copyOrAdd(yr, rowAt(x, B, b, F, n - 1), F, 0);
    else if (mode == POOL_MEAN) {
      copyOrAdd(yr, rowAt(x, B, b, F, 0), F, 0);
      for (let t = 1; t < n; t++) copyOrAdd(yr, rowAt(x, B, b, F, t), F, 1);
      const inv = f32x4.splat(<f32>1 / <f32>n);
      for (let i = 0; i < F; i += 4) {
        const m = min(4, F - i);
        stn(yr + <usize>i, f32x4.mul(ldn(yr + <usize>i, m), inv), m);
      }
    } else {
      const ir = idx + <usize>b * <usize>F;
      for (let i = 0; i < F; i++) {
        let best = lds(rowAt(x, B, b, F, 0) + <usize>i);
        let at = 0;
        for (let t = 1; t < n; t++) {
          const v = lds(rowAt(x, B, b, F, t) + <usize>i);
          if (v > best) {
            best = v;
            at = t;
          }
        }
        sts(yr + <usize>i, best);
        store<i32>((ir + <usize>i) << 2, at);
      }
    }
  }
}

// pool_backward: ADDS the gradient of pool_forward into dx.
//   dx   (T, B, F)  in/out  += : last → dy at step len−1; mean → dy/len at every valid step;
//                            max → dy at the saved argmax step
//   dy   (B, F)     in
//   idx  (B, F) i32 in      saved by pool_forward (max only)
//   lens (B) i32    in      optional (0 = all T)
export function pool_backward(dx: usize, dy: usize, idx: usize, lens: usize, T: i32, B: i32, F: i32, mode: i32): void {
  for (let b = 0; b < B; b++) {
    const dyr = dy + <usize>b * <usize>F;
    const n = steps(lens, b, T);
    if (n == 0) continue;
    if (mode == POOL_LAST) copyOrAdd(rowAt(dx, B, b, F, n - 1), dyr, F, 1);
    else if (mode == POOL_MEAN) {
      const inv = f32x4.splat(<f32>1 / <f32>n);
      for (let t = 0; t < n; t++) {
        const r = rowAt(dx, B, b, F, t);
        for (let i = 0; i < F; i += 4) {
          const m = min(4, F - i);
          stn(r + <usize>i, madd(ldn(dyr + <usize>i, m), inv, ldn(r + <usize>i, m)), m);
        }
      }
    } else {
      const ir = idx + <usize>b * <usize>F;
      for (let i = 0; i < F; i++) {
        const p = rowAt(dx, B, b, F, load<i32>((ir + <usize>i) << 2)) + <usize>i;
        sts(p, lds(p) + lds(dyr + <usize>i));
      }
    }
  }
}

// softmax_rows_backward: dx for y = softmax(x) (log = 0) or y = log_softmax(x) (log = 1), row-wise.
//   dx (M, N)  out   softmax: y ⊙ (dy − Σ y⊙dy);  log-softmax: dy − exp(y)·Σ dy.  May alias dy.
//   dy (M, N)  in
//   y  (M, N)  in    the forward output
export function softmax_rows_backward(dx: usize, dy: usize, y: usize, M: i32, N: i32, log: i32): void {
  for (let m = 0; m < M; m++) {
    const o = <usize>m * <usize>N;
    let s: f32 = 0;
    for (let j = 0; j < N; j++) s += log ? lds(dy + o + <usize>j) : lds(y + o + <usize>j) * lds(dy + o + <usize>j);
    for (let j = 0; j < N; j++) {
      const yj = lds(y + o + <usize>j);
      const d = lds(dy + o + <usize>j);
      sts(dx + o + <usize>j, log ? d - Mathf.exp(yj) * s : yj * (d - s));
    }
  }
}

// mask_rows: the rows past each sequence's length set to 0, in place (a sequence computed over every
// step, as RWKV-7's, given the packed semantics of the cells: outputs past the length are 0; its
// backward is the same op on the output's gradient).
//   y    (T, B, F)  in/out  row (t, b) ← 0 where t >= lens[b]; the rest untouched
//   lens (B) i32    in      (0 = all T: nothing changes)
export function mask_rows(y: usize, lens: usize, T: i32, B: i32, F: i32): void {
  if (!lens) return;
  for (let b = 0; b < B; b++) {
    for (let t = steps(lens, b, T); t < T; t++) fill_f32(rowAt(y, B, b, F, t), 0, F);
  }
}

// repeat_rows: y (T, n) = x (n) repeated T times (a vector entering every step: (B, F) → (T, B, F)).
export function repeat_rows(y: usize, x: usize, T: i32, n: i32): void {
  for (let t = 0; t < T; t++) copyOrAdd(y + <usize>t * <usize>n, x, n, 0);
}

// tanh_rows: y (n) = tanh(x (n)) (the activation of Luong's attentional state tanh(W_c [c; h])).
export function tanh_rows(y: usize, x: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) {
    const m = min(4, n - i);
    stn(y + <usize>i, vtanh(ldn(x + <usize>i, m)), m);
  }
}

// tanh_rows_backward: dx (n) = dy ⊙ (1 − y²) from the forward output y. dx may alias dy.
export function tanh_rows_backward(dx: usize, dy: usize, y: usize, n: i32): void {
  const one = f32x4.splat(1);
  for (let i = 0; i < n; i += 4) {
    const m = min(4, n - i);
    const yv = ldn(y + <usize>i, m);
    stn(dx + <usize>i, f32x4.mul(ldn(dy + <usize>i, m), f32x4.sub(one, f32x4.mul(yv, yv))), m);
  }
}
