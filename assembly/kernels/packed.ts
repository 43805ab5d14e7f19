// Row-interleaved ("packed") f32 weights for the batch-1 recurrent product.
//
// matvec_nt reads W in six row streams 4·K bytes apart. At batch 1 the recurrent step is bound by
// how fast W_hh arrives, and six strided streams arrive slower than one contiguous stream (bench/k.mjs's
// K-stream times both on W1's 1024×256 W_hh in the same rounds: on the AMD EPYC of
// bench/runs/2026-11-30-full.txt, 0.59 of a bare load stream in place against 0.87 packed). So a whole-
// sequence cell kernel with one batch row first copies W_hh into this layout, once per call, and
// its time loop reads the copy:
//   tiles of 6 rows while 6 rows remain, then tiles of 4 (rows past N are zero);
//   a tile of R rows starting at row n0 occupies R·Kp floats at element n0·Kp, as [K/4][R][4]
//   (Kp = K rounded up to 4, the K tail zero-padded).
// matvec_packed computes every row exactly as matvec_nt does (the same per-lane madd chain in k
// order, the same hsum4, bias and accumulate), so results are bit-identical to the unpacked kernel.
// The copy lives in a static scratch region (assembly/util/scratch.ts: PK, PK_FLOATS); a sequence
// shorter than PACK_MIN_T steps, or a W_hh larger than the region, uses matvec_nt in place. The *_pk
// cell ops and gemm_pk_nt instead take a copy the host keeps across calls (src/model/packs.ts:
// batch-1 streams, and inference forwards of one row over ≥ PACK_MIN_T steps), packed by pack_hh.
import { ldn, stn, madd, hsum4 } from '../util/simd';
import { PK, PK_FLOATS } from '../util/scratch';
import { gemm_nt } from './gemm';

/** Steps from which copying W_hh pays for itself (the copy costs about two passes over W). */
export const PACK_MIN_T: i32 = 16;

/** Floats of the packed form of an N×K matrix. */
@inline export function packedFloats(N: i32, K: i32): i32 {
  const six = N - N % 6;
  return (six + (((N - six) + 3) & ~3)) * ((K + 3) & ~3);
}

/**
 * Where a cell kernel of T steps over B rows keeps its packed W_hh of `floats` floats (int8 weights,
 * sw != 0, are never packed): the scratch region, or 0 to read W_hh in place.
 */
@inline export function packedAt(T: i32, B: i32, sw: usize, floats: i32): usize {
  return sw == 0 && B == 1 && T >= PACK_MIN_T && floats <= PK_FLOATS ? PK : 0;
}

/** packedFloats for the host (the size of a pack_rows copy it allocates). */
export function packed_floats(N: i32, K: i32): i32 {
  return packedFloats(N, K);
}

// A cell's W_hh (rows × H) in packed form: the rows packed as one matrix, or, with `apart` (the GRU
// Cho form, whose n rows multiply r⊙h rather than h), the first rows − H rows and the last H rows as
// two packed matrices one after the other.
export function packed_hh_floats(rows: i32, H: i32, apart: i32): i32 {
  return apart ? packedFloats(rows - H, H) + packedFloats(H, H) : packedFloats(rows, H);
}
export function pack_hh(dst: usize, w_hh: usize, rows: i32, H: i32, apart: i32): void {
  if (!apart) {
    pack_rows(dst, w_hh, rows, H);
    return;
  }
  pack_rows(dst, w_hh, rows - H, H);
  pack_rows(dst + <usize>packedFloats(rows - H, H), w_hh + <usize>(rows - H) * <usize>H, H, H);
}

/**
 * The packed W_hh a cell kernel reads: the caller's copy `w_pk` (a *_pk op: packed once and kept
 * across calls, e.g. by a stream), else a copy packed now into the scratch (packedAt), else 0.
 */
@inline export function packedHh(w_pk: usize, w_hh: usize, T: i32, B: i32, sw: usize, rows: i32, H: i32, apart: i32): usize {
  if (w_pk) return w_pk;
  const wp = packedAt(T, B, sw, packed_hh_floats(rows, H, apart));
  if (wp) pack_hh(wp, w_hh, rows, H, apart);
  return wp;
}

// gemm_pk_nt: gemm_nt (y (M, N) = x (M, K)·wᵀ (+ b), or += with accumulate) given also the packed
// copy wp of w (pack_rows): a single row (M = 1) reads wp, bit-identical to gemm_nt; more rows read w.
export function gemm_pk_nt(y: usize, x: usize, w: usize, wp: usize, b: usize, M: i32, N: i32, K: i32, accumulate: i32): void {
  if (M == 1) matvec_packed(y, wp, x, b, N, K, accumulate);
  else gemm_nt(y, x, w, b, M, N, K, accumulate);
}

// pack_rows: the packed form of W (N, K) row-major at dst (packedFloats(N, K) floats).
export function pack_rows(dst: usize, w: usize, N: i32, K: i32): void {
  const Kp = (K + 3) & ~3;
  const kb = K & ~3;
  const r = K & 3;
  let n0 = 0;
  for (; n0 + 6 <= N; n0 += 6) packTile(dst + <usize>n0 * <usize>Kp, w + <usize>n0 * <usize>K, 6, 6, K, kb, r);
  for (; n0 < N; n0 += 4) packTile(dst + <usize>n0 * <usize>Kp, w + <usize>n0 * <usize>K, 4, min(N - n0, 4), K, kb, r);
}

// One tile of R rows (nv valid) of W at w into [K/4][R][4] at d.
@inline function packTile(d: usize, w: usize, R: i32, nv: i32, K: i32, kb: i32, r: i32): void {
  const zero = f32x4.splat(0);
  let q = d << 2;
  for (let k = 0; k < kb; k += 4) {
    for (let i = 0; i < R; i++) {
      v128.store(q, i < nv ? v128.load((w + <usize>i * <usize>K + <usize>k) << 2) : zero);
      q += 16;
    }
  }
  if (r) {
    for (let i = 0; i < R; i++) {
      v128.store(q, i < nv ? ldn(w + <usize>i * <usize>K + <usize>kb, r) : zero);
      q += 16;
    }
  }
}

// matvec_packed: y = W·x (+ b) (or y += … when accumulate != 0) with W in the packed form at wp;
// bit-identical to matvec_nt(y, W, x, b, N, K, accumulate).
export function matvec_packed(y: usize, wp: usize, x: usize, b: usize, N: i32, K: i32, accumulate: i32): void {
  const Kp = (K + 3) & ~3;
  let n0 = 0;
  for (; n0 + 6 <= N; n0 += 6) pmvTile(y, wp + <usize>n0 * <usize>Kp, x, b, n0, 6, 6, K, accumulate);
  for (; n0 < N; n0 += 4) pmvTile(y, wp + <usize>n0 * <usize>Kp, x, b, n0, 4, min(N - n0, 4), K, accumulate);
}

// Rows n0..n0+nv from one packed tile of R rows (R = 6 or 4, a constant after inlining) at element p.
@inline function pmvTile(y: usize, p: usize, x: usize, b: usize, n0: i32, R: i32, nv: i32, K: i32, accumulate: i32): void {
  const kb: usize = <usize>(K & ~3) << 2;
  const r = K & 3;
  const xb = x << 2;
  let q = p << 2;
  const step: usize = <usize>R << 4;
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0);
  let a3 = f32x4.splat(0), a4 = f32x4.splat(0), a5 = f32x4.splat(0);
  for (let k: usize = 0; k < kb; k += 16) {
    const vx = v128.load(xb + k);
    a0 = madd(vx, v128.load(q), a0);
    a1 = madd(vx, v128.load(q, 16), a1);
    a2 = madd(vx, v128.load(q, 32), a2);
    a3 = madd(vx, v128.load(q, 48), a3);
    if (R > 4) {
      a4 = madd(vx, v128.load(q, 64), a4);
      a5 = madd(vx, v128.load(q, 80), a5);
    }
    q += step;
  }
  if (r) {
    // the K tail: x zero-padded by the partial load, W by the packing
    const vx = ldn(x + (<usize>K & ~3), r);
    a0 = madd(vx, v128.load(q), a0);
    a1 = madd(vx, v128.load(q, 16), a1);
    a2 = madd(vx, v128.load(q, 32), a2);
    a3 = madd(vx, v128.load(q, 48), a3);
    if (R > 4) {
      a4 = madd(vx, v128.load(q, 64), a4);
      a5 = madd(vx, v128.load(q, 80), a5);
    }
  }
  const yp = y + <usize>n0;
  const nv0 = min(nv, 4);
  pStore(yp, hsum4(a0, a1, a2, a3), b ? ldn(b + <usize>n0, nv0) : f32x4.splat(0), nv0, accumulate);
  if (R > 4) pStore(yp + 4, hsum4(a4, a5, a4, a5), b ? ldn(b + <usize>n0 + 4, 2) : f32x4.splat(0), 2, accumulate);
}

// As gemm.ts's ntStore: bias first, then the accumulated output.
@inline function pStore(yp: usize, r: v128, bv: v128, nv: i32, accumulate: i32): void {
  r = f32x4.add(r, bv);
  if (accumulate) r = f32x4.add(r, ldn(yp, nv));
  stn(yp, r, nv);
}
