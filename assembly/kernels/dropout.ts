// Inverted dropout with a seeded generator whose state lives in linear memory (so training is
// reproducible and the state can be checkpointed), and the elementwise product used by its
// backward pass.
import { ld, st, lds, sts } from '../util/simd';

// xoshiro128** over 4 u32 words at element offset s; returns the next u32.
@inline function next(s: usize): u32 {
  const a = s << 2;
  let s0 = load<u32>(a), s1 = load<u32>(a, 4), s2 = load<u32>(a, 8), s3 = load<u32>(a, 12);
  const r = rotl<u32>(s1 * 5, 7) * 9;
  const t = s1 << 9;
  s2 ^= s0;
  s3 ^= s1;
  s1 ^= s2;
  s0 ^= s3;
  s2 ^= t;
  s3 = rotl<u32>(s3, 11);
  store<u32>(a, s0);
  store<u32>(a, s1, 4);
  store<u32>(a, s2, 8);
  store<u32>(a, s3, 12);
  return r;
}

// dropout_forward: keeps each element with probability 1 − p, scaled by 1/(1 − p).
//   y     (n) out   x ⊙ mask
//   mask  (n) out   0 or 1/(1 − p), saved for backward
//   x     (n) in
//   state (4 u32) in/out   generator state (advanced by n draws)
//   0 ≤ p < 1; a draw u (24 bits) keeps the element when u ≥ p·2^24
export function dropout_forward(y: usize, mask: usize, x: usize, state: usize, n: i32, p: f32): void {
  const keep: f32 = 1 / (1 - p);
  const threshold = <u32>(<f64>p * 16777216.0);
  for (let i = 0; i < n; i++) {
    const u = next(state) >>> 8;
    const m: f32 = u >= threshold ? keep : 0;
    sts(mask + i, m);
    sts(y + i, lds(x + i) * m);
  }
}

// mul_f32: y = a ⊙ b over n elements (dropout backward: dx = dy ⊙ mask). y may alias a or b.
export function mul_f32(y: usize, a: usize, b: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) st(y + i, f32x4.mul(ld(a + i), ld(b + i)));
  for (; i < n; i++) sts(y + i, lds(a + i) * lds(b + i));
}
