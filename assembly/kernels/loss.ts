// Loss kernels: forward value and gradient in one pass. Each returns the SUM of the per-row (or
// per-element) losses over the rows that count; the host divides for the mean and passes `scale`
// (usually 1/count) so the gradient written is already the gradient of the mean.
import { lds, sts } from '../util/simd';

// softmax_ce: softmax cross-entropy over rows of logits.
//   dlogits (M, V) out   (softmax(row) − onehot(target))·scale; rows with target < 0 get 0
//   logits  (M, V) in
//   targets (M)   in    i32 class ids; < 0 = ignore (padding)
//   returns Σ over counted rows of −log softmax(row)[target], in f64
export function softmax_ce(dlogits: usize, logits: usize, targets: usize, M: i32, V: i32, scale: f32): f64 {
  let total: f64 = 0;
  for (let m = 0; m < M; m++) {
    const row = logits + <usize>m * <usize>V;
    const drow = dlogits + <usize>m * <usize>V;
    const tgt = load<i32>((targets + <usize>m) << 2);
    if (tgt < 0) {
      for (let j = 0; j < V; j++) sts(drow + j, 0);
      continue;
    }
    let mx = lds(row);
    for (let j = 1; j < V; j++) mx = max(mx, lds(row + j));
    let sum: f64 = 0;
    for (let j = 0; j < V; j++) {
      const e = Math.exp(<f64>(lds(row + j) - mx));
      sum += e;
      sts(drow + j, <f32>e);
    }
    const inv = 1 / sum;
    for (let j = 0; j < V; j++) sts(drow + j, <f32>(<f64>lds(drow + j) * inv) * scale);
    sts(drow + tgt, lds(drow + tgt) - scale);
    total += Math.log(sum) - <f64>(lds(row + tgt) - mx);
  }
  return total;
}

// mse: squared error.
//   dy     (n) out   2·(y − target)·scale, 0 where mask is 0
//   y      (n) in
//   target (n) in
//   mask   (n) in    optional f32 weights (0 = none, all count)
//   returns Σ mask·(y − target)², in f64
export function mse(dy: usize, y: usize, target: usize, mask: usize, n: i32, scale: f32): f64 {
  let total: f64 = 0;
  for (let i = 0; i < n; i++) {
    const w: f32 = mask ? lds(mask + i) : 1;
    const d = lds(y + i) - lds(target + i);
    total += <f64>(w * d * d);
    sts(dy + i, 2 * d * w * scale);
  }
  return total;
}

// bce_logits: binary cross-entropy on logits, the stable form max(x,0) − x·t + log(1 + e^−|x|).
//   dx     (n) out   (σ(x) − t)·scale·mask
//   x      (n) in    logits
//   target (n) in    in [0, 1]
//   mask   (n) in    optional f32 weights (0 = none)
//   returns Σ mask·loss, in f64
export function bce_logits(dx: usize, x: usize, target: usize, mask: usize, n: i32, scale: f32): f64 {
  let total: f64 = 0;
  for (let i = 0; i < n; i++) {
    const w: f64 = mask ? <f64>lds(mask + i) : 1;
    const xi = <f64>lds(x + i);
    const t = <f64>lds(target + i);
    total += w * (max(xi, 0) - xi * t + Math.log1p(Math.exp(-Math.abs(xi))));
    const s = xi >= 0 ? 1 / (1 + Math.exp(-xi)) : Math.exp(xi) / (1 + Math.exp(xi));
    sts(dx + i, <f32>((s - t) * w) * scale);
  }
  return total;
}
