// The K workloads' `ceiling`: register-blocked SIMD128 microkernels in the XNNPACK style, compiled
// by bench/k.mjs (asc, same feature flags as the library's binaries) and measured in the same
// run as the library's gemm_nt / matvec_nt. They get every advantage the library's ABI does not
// have: W pre-packed into 8-column panels (packing is not timed), no bias, no accumulate flag.
// Each round takes the best variant: for the gemm the broadcast form on packed W at 6, 5 and 4 rows
// (XNNPACK's f32-gemm-6x8 and its smaller siblings; 4×8 is the library's gemm_nn/gemm_tn tile) and
// the library's own gemm_nt tile (2×4 dot form) without its blocking, bias and tail handling.
// Dimension letters: M rows of Y, N columns of Y, K the reduced dimension. Pointers are f32
// element offsets into the imported memory (the host owns it); they become byte addresses inside.

// a*b + c: fused relaxed_madd in the relaxed build, mul + add in the plain one (as the library).
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

// pack_nt: wp (N/8, K, 8) ← w (N, K) row-major (PyTorch layout). N a multiple of 8.
export function pack_nt(wp: usize, w: usize, N: i32, K: i32): void {
  for (let n0 = 0; n0 < N; n0 += 8) {
    for (let k = 0; k < K; k++) {
      for (let j = 0; j < 8; j++) {
        store<f32>((wp + (<usize>n0 * <usize>K) + <usize>k * 8 + <usize>j) << 2, load<f32>((w + <usize>(n0 + j) * <usize>K + <usize>k) << 2));
      }
    }
  }
}

// f32-gemm-Rx8 (R = 6, 5, 4): Y (M, N) = X (M, K) · Wᵀ with W packed by pack_nt. N % 8 == 0, M ≥ R.
// Per k: two 4-float loads of the panel, R broadcasts of X, 2R madds (6x8: 15 live registers of
// x64's 16). When M % R != 0 the last row tile is moved up to end at row M: it overlaps the one
// before and stores the same values again to the shared rows (the tail runs the body's code).
// R is a constant at each call site, so the unused rows fold away.
@inline function gemmRx8(y: usize, x: usize, wp: usize, M: i32, N: i32, K: i32, R: i32): void {
  const ldx: usize = <usize>K << 2;
  const ldy: usize = <usize>N << 2;
  for (let n0 = 0; n0 < N; n0 += 8) {
    const panel = (wp + <usize>n0 * <usize>K) << 2;
    for (let mt = 0; mt < M; mt += R) {
      const m0 = min(mt, M - R);
      const x0 = (x + <usize>m0 * <usize>K) << 2;
      let acc0x0123 = f32x4.splat(0), acc0x4567 = f32x4.splat(0);
      let acc1x0123 = f32x4.splat(0), acc1x4567 = f32x4.splat(0);
      let acc2x0123 = f32x4.splat(0), acc2x4567 = f32x4.splat(0);
      let acc3x0123 = f32x4.splat(0), acc3x4567 = f32x4.splat(0);
      let acc4x0123 = f32x4.splat(0), acc4x4567 = f32x4.splat(0);
      let acc5x0123 = f32x4.splat(0), acc5x4567 = f32x4.splat(0);
      let wk = panel;
      const xe = x0 + ldx;
      for (let xk = x0; xk < xe; xk += 4) {
        const w0123 = v128.load(wk);
        const w4567 = v128.load(wk, 16);
        let xv = v128.load32_splat(xk);
        acc0x0123 = madd(xv, w0123, acc0x0123);
        acc0x4567 = madd(xv, w4567, acc0x4567);
        xv = v128.load32_splat(xk + ldx);
        acc1x0123 = madd(xv, w0123, acc1x0123);
        acc1x4567 = madd(xv, w4567, acc1x4567);
        xv = v128.load32_splat(xk + 2 * ldx);
        acc2x0123 = madd(xv, w0123, acc2x0123);
        acc2x4567 = madd(xv, w4567, acc2x4567);
        xv = v128.load32_splat(xk + 3 * ldx);
        acc3x0123 = madd(xv, w0123, acc3x0123);
        acc3x4567 = madd(xv, w4567, acc3x4567);
        if (R > 4) {
          xv = v128.load32_splat(xk + 4 * ldx);
          acc4x0123 = madd(xv, w0123, acc4x0123);
          acc4x4567 = madd(xv, w4567, acc4x4567);
        }
        if (R > 5) {
          xv = v128.load32_splat(xk + 5 * ldx);
          acc5x0123 = madd(xv, w0123, acc5x0123);
          acc5x4567 = madd(xv, w4567, acc5x4567);
        }
        wk += 32;
      }
      const y0 = (y + <usize>m0 * <usize>N + <usize>n0) << 2;
      v128.store(y0, acc0x0123); v128.store(y0, acc0x4567, 16);
      v128.store(y0 + ldy, acc1x0123); v128.store(y0 + ldy, acc1x4567, 16);
      v128.store(y0 + 2 * ldy, acc2x0123); v128.store(y0 + 2 * ldy, acc2x4567, 16);
      v128.store(y0 + 3 * ldy, acc3x0123); v128.store(y0 + 3 * ldy, acc3x4567, 16);
      if (R > 4) { v128.store(y0 + 4 * ldy, acc4x0123); v128.store(y0 + 4 * ldy, acc4x4567, 16); }
      if (R > 5) { v128.store(y0 + 5 * ldy, acc5x0123); v128.store(y0 + 5 * ldy, acc5x4567, 16); }
    }
  }
}
export function gemm_6x8(y: usize, x: usize, wp: usize, M: i32, N: i32, K: i32): void {
  gemmRx8(y, x, wp, M, N, K, 6);
}
export function gemm_5x8(y: usize, x: usize, wp: usize, M: i32, N: i32, K: i32): void {
  gemmRx8(y, x, wp, M, N, K, 5);
}
// the tile of the library's gemm_nn / gemm_tn (4×8 broadcast), here on packed W
export function gemm_4x8(y: usize, x: usize, wp: usize, M: i32, N: i32, K: i32): void {
  gemmRx8(y, x, wp, M, N, K, 4);
}

// f32-gemm-2x4 dot form (the library's gemm_nt tile) on W row-major, unpacked, without its L1 row
// blocking, bias or tails: M % 2 == 0, N % 4 == 0, K % 4 == 0. X rows and W rows both stream along
// K; 8 accumulators, horizontal sums once per 2×4 outputs.
export function gemm_2x4(y: usize, x: usize, w: usize, M: i32, N: i32, K: i32): void {
  const ldb: usize = <usize>K << 2;
  for (let n0 = 0; n0 < N; n0 += 4) {
    const w0 = (w << 2) + <usize>n0 * ldb, w1 = w0 + ldb, w2 = w1 + ldb, w3 = w2 + ldb;
    for (let m0 = 0; m0 < M; m0 += 2) {
      const x0 = (x << 2) + <usize>m0 * ldb, x1 = x0 + ldb;
      let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a02 = f32x4.splat(0), a03 = f32x4.splat(0);
      let a10 = f32x4.splat(0), a11 = f32x4.splat(0), a12 = f32x4.splat(0), a13 = f32x4.splat(0);
      for (let k: usize = 0; k < ldb; k += 16) {
        const vx0 = v128.load(x0 + k), vx1 = v128.load(x1 + k);
        let vw = v128.load(w0 + k);
        a00 = madd(vx0, vw, a00); a10 = madd(vx1, vw, a10);
        vw = v128.load(w1 + k);
        a01 = madd(vx0, vw, a01); a11 = madd(vx1, vw, a11);
        vw = v128.load(w2 + k);
        a02 = madd(vx0, vw, a02); a12 = madd(vx1, vw, a12);
        vw = v128.load(w3 + k);
        a03 = madd(vx0, vw, a03); a13 = madd(vx1, vw, a13);
      }
      const yb = (y + <usize>m0 * <usize>N + <usize>n0) << 2;
      v128.store(yb, hsum4(a00, a01, a02, a03));
      v128.store(yb + (<usize>N << 2), hsum4(a10, a11, a12, a13));
    }
  }
}

// f32-gemv-8x1 (dot form): y (N) = W (N, K) · x, W row-major unpacked. N % 8 == 0, K % 4 == 0.
// Eight rows of W stream at once against one x vector: eight independent accumulators hide the
// madd latency; the horizontal sums happen once per 8 outputs.
export function matvec_8x1(y: usize, w: usize, x: usize, N: i32, K: i32): void {
  const ldw: usize = <usize>K << 2;
  const xb = x << 2;
  const kb: usize = <usize>K << 2;
  for (let n0 = 0; n0 < N; n0 += 8) {
    const w0 = (w << 2) + <usize>n0 * ldw;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let a4 = f32x4.splat(0), a5 = f32x4.splat(0), a6 = f32x4.splat(0), a7 = f32x4.splat(0);
    for (let k: usize = 0; k < kb; k += 16) {
      const xv = v128.load(xb + k);
      const p = w0 + k;
      a0 = madd(xv, v128.load(p), a0);
      a1 = madd(xv, v128.load(p + ldw), a1);
      a2 = madd(xv, v128.load(p + 2 * ldw), a2);
      a3 = madd(xv, v128.load(p + 3 * ldw), a3);
      a4 = madd(xv, v128.load(p + 4 * ldw), a4);
      a5 = madd(xv, v128.load(p + 5 * ldw), a5);
      a6 = madd(xv, v128.load(p + 6 * ldw), a6);
      a7 = madd(xv, v128.load(p + 7 * ldw), a7);
    }
    const yb = (y + <usize>n0) << 2;
    v128.store(yb, hsum4(a0, a1, a2, a3));
    v128.store(yb, hsum4(a4, a5, a6, a7), 16);
  }
}

// f32-gemv-packed-1x16 (broadcast form): y (N) = W · x with W packed by pack_nt into 8-column
// panels; two panels at a time, K split into two halves for four independent accumulator pairs.
export function matvec_packed(y: usize, wp: usize, x: usize, N: i32, K: i32): void {
  const xb = x << 2;
  const half = K >> 1;
  for (let n0 = 0; n0 < N; n0 += 16) {
    const p0 = (wp + <usize>n0 * <usize>K) << 2;
    const p1 = p0 + (<usize>(8 * K) << 2);
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
    const hoff: usize = <usize>half * 32;
    for (let k = 0; k < half; k++) {
      const kk: usize = <usize>k * 32;
      const xa = v128.load32_splat(xb + (<usize>k << 2));
      const xh = v128.load32_splat(xb + (<usize>(k + half) << 2));
      a0 = madd(xa, v128.load(p0 + kk), a0);
      a1 = madd(xa, v128.load(p0 + kk, 16), a1);
      a2 = madd(xa, v128.load(p1 + kk), a2);
      a3 = madd(xa, v128.load(p1 + kk, 16), a3);
      b0 = madd(xh, v128.load(p0 + hoff + kk), b0);
      b1 = madd(xh, v128.load(p0 + hoff + kk, 16), b1);
      b2 = madd(xh, v128.load(p1 + hoff + kk), b2);
      b3 = madd(xh, v128.load(p1 + hoff + kk, 16), b3);
    }
    const yb = (y + <usize>n0) << 2;
    v128.store(yb, f32x4.add(a0, b0));
    v128.store(yb, f32x4.add(a1, b1), 16);
    v128.store(yb, f32x4.add(a2, b2), 32);
    v128.store(yb, f32x4.add(a3, b3), 48);
  }
}

// [Σa, Σb, Σc, Σd] (two transposing adds), as the library's hsum4.
@inline function hsum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = f32x4.add(v128.shuffle<f32>(a, b, 0, 4, 1, 5), v128.shuffle<f32>(a, b, 2, 6, 3, 7));
  const cd = f32x4.add(v128.shuffle<f32>(c, d, 0, 4, 1, 5), v128.shuffle<f32>(c, d, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f32>(ab, cd, 0, 1, 4, 5), v128.shuffle<f32>(ab, cd, 2, 3, 6, 7));
}

// stream_sum: Σ of n bytes at p as f32x4 (n a multiple of 128), eight accumulators: the rate at
// which 128-bit loads alone bring a buffer in (the K-stream ceiling; no arithmetic worth the name).
export function stream_sum(p: usize, n: i32): f32 {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let a4 = f32x4.splat(0), a5 = f32x4.splat(0), a6 = f32x4.splat(0), a7 = f32x4.splat(0);
  const e = (p << 2) + <usize>n;
  for (let q = p << 2; q < e; q += 128) {
    a0 = f32x4.add(a0, v128.load(q));
    a1 = f32x4.add(a1, v128.load(q, 16));
    a2 = f32x4.add(a2, v128.load(q, 32));
    a3 = f32x4.add(a3, v128.load(q, 48));
    a4 = f32x4.add(a4, v128.load(q, 64));
    a5 = f32x4.add(a5, v128.load(q, 80));
    a6 = f32x4.add(a6, v128.load(q, 96));
    a7 = f32x4.add(a7, v128.load(q, 112));
  }
  const s = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
}
