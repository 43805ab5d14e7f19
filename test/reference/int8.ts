// The int8-weight matrix product of assembly/kernels/int8.ts, written out in plain TypeScript: the
// readable spec, and — since every step is an integer sum or one f32 rounding — bit-exact.
//   W row n  ≈ sw[n]·q[n, k],  q in [-127, 127]   (src/model/quantize.ts quantizeRows)
//   X row m  ≈ sx·p[k],        p in [-QX, QX], sx = max|x_row| / QX, p = round-half-even(x·(QX/max)),
//                              QX = 1023 (exact mode) or 63 (fast mode: the relaxed dot's 7-bit operand)
//   y[m, n]  = f32(f32(Σ_k p·q) · f32(sx·sw[n])) + b[n]  (+ y_old)   each step rounded to f32
// A row without a finite nonzero max quantizes to p = 0 (sx = 0).
const f = Math.fround;

/** Round half to even, as f32x4.nearest. */
function nearestEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** QX of an int8 activation mode. */
export const qxOf = (mode: 'exact' | 'fast'): number => (mode === 'exact' ? 1023 : 63);

/** p (K) and sx of one f32 row, as the kernel's quantizeRow. */
export function quantizeRowRef(x: ArrayLike<number>, qx = 1023): { p: Int32Array; sx: number } {
  let mx = 0;
  let bad = false;
  for (let k = 0; k < x.length; k++) {
    if (Number.isNaN(x[k])) bad = true;
    mx = Math.max(mx, Math.abs(x[k]));
  }
  const ok = !bad && mx > 0 && mx < 3.4028234663852886e38;
  const inv = ok ? f(qx / mx) : 0;
  const p = Int32Array.from(x, (v) => Math.max(-32768, Math.min(32767, nearestEven(f(v * inv)))));
  return { p, sx: ok ? f(mx / qx) : 0 };
}

/**
 * y (M, N) from x (M, K), int8 rows q (N, Kp) with scales sw (N), optional bias b (N) and, when
 * acc, the old y: what gemm_q8_nt writes.
 */
export function gemmQ8Ref(
  y: Float32Array, x: Float32Array, q: Int8Array, sw: Float32Array, b: Float32Array | null,
  M: number, N: number, K: number, Kp: number, acc: boolean, qx = 1023,
): void {
  for (let m = 0; m < M; m++) {
    const { p, sx } = quantizeRowRef(x.subarray(m * K, (m + 1) * K), qx);
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += p[k] * q[n * Kp + k];
      let r = f(f(s) * f(sx * sw[n]));
      if (b) r = f(r + b[n]);
      if (acc) r = f(r + y[m * N + n]);
      y[m * N + n] = r;
    }
  }
}
