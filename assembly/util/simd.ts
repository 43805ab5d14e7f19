// SIMD helpers shared by every kernel. Pointers are f32 *element* offsets into linear memory
// (the host passes elements, never bytes); these helpers turn them into byte addresses.

// Byte address of f32 element p.
@inline export function addr(p: usize): usize {
  return p << 2;
}

// Load / store 4 floats at element offset p (no alignment requirement).
@inline export function ld(p: usize): v128 {
  return v128.load(p << 2);
}
@inline export function st(p: usize, v: v128): void {
  v128.store(p << 2, v);
}

// Scalar load / store at element offset p.
@inline export function lds(p: usize): f32 {
  return load<f32>(p << 2);
}
@inline export function sts(p: usize, v: f32): void {
  store<f32>(p << 2, v);
}

// a*b + c. The relaxed build uses f32x4.relaxed_madd (fused where the CPU has FMA);
// the plain build uses mul then add. Chosen at compile time, so no branch at run time.
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(f32x4.mul(a, b), c);
  }
}

// Horizontal sum of the 4 lanes.
@inline export function hsum(v: v128): f32 {
  const s = f32x4.add(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  const t = f32x4.add(s, v128.shuffle<f32>(s, s, 1, 0, 3, 2));
  return f32x4.extract_lane(t, 0);
}

// 1 if this binary was built with relaxed SIMD, else 0 (reported by the loader).
@inline export function isRelaxed(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}

// Load n (1..4) floats at element p into the low lanes, the other lanes 0 (never reads past p+n).
// n >= 4 is a plain v128.load; with a constant n the branches fold away after inlining.
@inline export function ldn(p: usize, n: i32): v128 {
  if (n >= 4) return v128.load(p << 2);
  if (n & 2) {
    const v = v128.load64_zero(p << 2);
    return n & 1 ? v128.load32_lane(p << 2, v, 2, 8) : v;
  }
  return n & 1 ? v128.load32_zero(p << 2) : f32x4.splat(0);
}

// Store the low n (1..4) lanes of v at element p (never touches p+n..p+3).
@inline export function stn(p: usize, v: v128, n: i32): void {
  if (n >= 4) {
    v128.store(p << 2, v);
  } else if (n & 2) {
    v128.store64_lane(p << 2, v, 0);
    if (n & 1) v128.store32_lane(p << 2, v, 2, 8);
  } else if (n & 1) {
    v128.store32_lane(p << 2, v, 0);
  }
}

// Horizontal sums of four vectors in one: [Σa, Σb, Σc, Σd] (two transposing adds).
@inline export function hsum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = f32x4.add(v128.shuffle<f32>(a, b, 0, 4, 1, 5), v128.shuffle<f32>(a, b, 2, 6, 3, 7));
  const cd = f32x4.add(v128.shuffle<f32>(c, d, 0, 4, 1, 5), v128.shuffle<f32>(c, d, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f32>(ab, cd, 0, 1, 4, 5), v128.shuffle<f32>(ab, cd, 2, 3, 6, 7));
}
