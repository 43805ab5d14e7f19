// Optimizers and gradient clipping: flat loops over the whole parameter arena. Gradients and
// moments live at the same relative offsets as the parameters, so each update is one call.
// n counts elements of the arena (padding included: its gradient is 0, so it stays 0).
import { ld, st, lds, sts } from '../util/simd';

// sgd_step: PyTorch SGD.
//   p   (n) in/out  parameters
//   buf (n) in/out  momentum buffer (0 = no momentum)
//   g   (n) in      gradients
//   g' = g + wd·p; buf = momentum·buf + (1−dampening)·g' (buf = g' on the first step);
//   step = nesterov ? g' + momentum·buf : buf (or g' without momentum); p −= lr·step.
export function sgd_step(p: usize, buf: usize, g: usize, n: i32, lr: f32, momentum: f32, dampening: f32, nesterov: i32, wd: f32, first: i32): void {
  for (let i = 0; i < n; i++) {
    const pi = lds(p + i);
    let gi = lds(g + i) + wd * pi;
    if (buf) {
      let b = first ? gi : momentum * lds(buf + i) + (1 - dampening) * gi;
      sts(buf + i, b);
      gi = nesterov ? gi + momentum * b : b;
    }
    sts(p + i, pi - lr * gi);
  }
}

// rmsprop_step: PyTorch RMSprop (non-centered).
//   p (n) in/out, sq (n) in/out square average, buf (n) in/out momentum (0 = none), g (n) in
//   g' = g + wd·p; sq = α·sq + (1−α)·g'²; d = g'/(√sq + eps); buf = μ·buf + d; p −= lr·(buf or d)
export function rmsprop_step(p: usize, sq: usize, buf: usize, g: usize, n: i32, lr: f32, alpha: f32, eps: f32, momentum: f32, wd: f32): void {
  for (let i = 0; i < n; i++) {
    const pi = lds(p + i);
    const gi = lds(g + i) + wd * pi;
    const s = alpha * lds(sq + i) + (1 - alpha) * gi * gi;
    sts(sq + i, s);
    let d = gi / (Mathf.sqrt(s) + eps);
    if (buf) {
      d = momentum * lds(buf + i) + d;
      sts(buf + i, d);
    }
    sts(p + i, pi - lr * d);
  }
}

// adam_step: Adam (decoupled = 0, L2 added to the gradient) or AdamW (decoupled = 1).
//   p (n) in/out, m (n) in/out first moment, v (n) in/out second moment, g (n) in
//   bc1 = 1 − β1^t, bc2 = 1 − β2^t (computed by the host for step t ≥ 1)
//   AdamW: p −= lr·wd·p first. m = β1 m + (1−β1) g; v = β2 v + (1−β2) g²;
//   p −= lr · (m/bc1) / (√(v/bc2) + eps)   (PyTorch's formula)
export function adam_step(p: usize, m: usize, v: usize, g: usize, n: i32, lr: f32, beta1: f32, beta2: f32, eps: f32, wd: f32, decoupled: i32, bc1: f32, bc2: f32): void {
  const b1 = f32x4.splat(beta1), c1 = f32x4.splat(1 - beta1);
  const b2 = f32x4.splat(beta2), c2 = f32x4.splat(1 - beta2);
  const sbc2 = Mathf.sqrt(bc2);
  const stepSize = f32x4.splat(lr / bc1);
  const e = f32x4.splat(eps);
  const ibc2 = f32x4.splat(1 / sbc2);
  const decay = f32x4.splat(decoupled ? 1 - lr * wd : 1);
  const l2 = f32x4.splat(decoupled ? 0 : wd);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    let pi = ld(p + i);
    const gi = f32x4.add(ld(g + i), f32x4.mul(l2, pi));
    pi = f32x4.mul(pi, decay);
    const mi = f32x4.add(f32x4.mul(b1, ld(m + i)), f32x4.mul(c1, gi));
    const vi = f32x4.add(f32x4.mul(b2, ld(v + i)), f32x4.mul(c2, f32x4.mul(gi, gi)));
    st(m + i, mi);
    st(v + i, vi);
    const den = f32x4.add(f32x4.mul(f32x4.sqrt(vi), ibc2), e);
    st(p + i, f32x4.sub(pi, f32x4.div(f32x4.mul(stepSize, mi), den)));
  }
  for (; i < n; i++) {
    let pi = lds(p + i);
    const gi = lds(g + i) + (decoupled ? 0 : wd) * pi;
    if (decoupled) pi *= 1 - lr * wd;
    const mi = beta1 * lds(m + i) + (1 - beta1) * gi;
    const vi = beta2 * lds(v + i) + (1 - beta2) * gi * gi;
    sts(m + i, mi);
    sts(v + i, vi);
    sts(p + i, pi - (lr / bc1) * mi / (Mathf.sqrt(vi) / sbc2 + eps));
  }
}

// sum_squares: Σ x² over n elements, accumulated in f64 (4 f32 lanes per block of 256, then f64).
export function sum_squares(x: usize, n: i32): f64 {
  let total: f64 = 0;
  let i = 0;
  while (i + 4 <= n) {
    let acc = f32x4.splat(0);
    const end = min(n & ~3, i + 256);
    for (; i < end; i += 4) {
      const v = ld(x + i);
      acc = f32x4.add(acc, f32x4.mul(v, v));
    }
    total += <f64>f32x4.extract_lane(acc, 0) + <f64>f32x4.extract_lane(acc, 1) + <f64>f32x4.extract_lane(acc, 2) + <f64>f32x4.extract_lane(acc, 3);
  }
  for (; i < n; i++) {
    const v = <f64>lds(x + i);
    total += v * v;
  }
  return total;
}

// scale_f32: x *= s over n elements (clipping by global norm).
export function scale_f32(x: usize, s: f32, n: i32): void {
  const sv = f32x4.splat(s);
  let i = 0;
  for (; i + 4 <= n; i += 4) st(x + i, f32x4.mul(ld(x + i), sv));
  for (; i < n; i++) sts(x + i, lds(x + i) * s);
}

// clamp_f32: x = min(max(x, lo), hi) over n elements (clipping by value).
export function clamp_f32(x: usize, lo: f32, hi: f32, n: i32): void {
  const l = f32x4.splat(lo), h = f32x4.splat(hi);
  let i = 0;
  for (; i + 4 <= n; i += 4) st(x + i, f32x4.min(f32x4.max(ld(x + i), l), h));
  for (; i < n; i++) sts(x + i, min(max(lds(x + i), lo), hi));
}
