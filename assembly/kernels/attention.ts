// Attention of queries (decoder states) over keys/values (encoder outputs), masked by the source
// lengths, for every decoder step at once: scores → masked softmax → context. A teacher-forced
// decoder runs its RNN over the whole target first, then ONE attention_forward for all T_q steps.
// Dimension letters: Tq query steps, Tk key steps, B batch, H query/key width (additive: the
// attention width A of the projected q and k), E value width. Pointers are f32 element offsets;
// every sequence is time-major, so row (t, b) of a (T, B, F) array starts at (t·B + b)·F.
//
// Luong `general` (score = qᵀ W k) and Bahdanau additive (score = vᵀ tanh(W_q q + W_k k + b)) are
// the host's GEMMs around these kernels: it passes k = enc·Wᵀ (general) or q·W_qᵀ and enc·W_kᵀ + b
// (additive), and turns dk / dq back into dW and d(enc) with gemm_tn / gemm_nn.
import { ldn, stn, madd, hsum, lds, sts } from '../util/simd';
import { vtanh } from './activations';
import { softmax_rows, fill_f32 } from './elementwise';

export const ATTN_DOT: i32 = 0;
export const ATTN_ADDITIVE: i32 = 1;

// Valid keys of row b (all Tk when lens is absent; clamped to [0, Tk]).
@inline function validKeys(lens: usize, b: i32, Tk: i32): i32 {
  return lens ? min(max(load<i32>((lens + <usize>b) << 2), 0), Tk) : Tk;
}

// Σ_i x[i]·y[i] over n floats.
@inline function dot(x: usize, y: usize, n: i32): f32 {
  let acc = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) acc = madd(ldn(x + <usize>i, 4), ldn(y + <usize>i, 4), acc);
  if (i < n) acc = madd(ldn(x + <usize>i, n - i), ldn(y + <usize>i, n - i), acc);
  return hsum(acc);
}

// Σ_i v[i]·tanh(q[i] + k[i]) over n floats (tails: tanh(0)·0 adds nothing).
@inline function additiveScore(q: usize, k: usize, v: usize, n: i32): f32 {
  let acc = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) acc = madd(ldn(v + <usize>i, 4), vtanh(f32x4.add(ldn(q + <usize>i, 4), ldn(k + <usize>i, 4))), acc);
  if (i < n) acc = madd(ldn(v + <usize>i, n - i), vtanh(f32x4.add(ldn(q + <usize>i, n - i), ldn(k + <usize>i, n - i))), acc);
  return hsum(acc);
}

// y[i] += s·x[i] over n floats.
@inline function axpy(y: usize, s: f32, x: usize, n: i32): void {
  const sv = f32x4.splat(s);
  let i = 0;
  for (; i + 4 <= n; i += 4) stn(y + <usize>i, madd(sv, ldn(x + <usize>i, 4), ldn(y + <usize>i, 4)), 4);
  if (i < n) stn(y + <usize>i, madd(sv, ldn(x + <usize>i, n - i), ldn(y + <usize>i, n - i)), n - i);
}

// attention_forward: weights and context of every query step over the valid keys of its row.
//   a    (Tq, B, Tk) out  softmax over j < lens[b] of the scores, exactly 0 for j >= lens[b] (kept for
//                         attention_backward and readable by the host: users plot them)
//   ctx  (Tq, B, E)  out  ctx[t,b,:] = Σ_j a[t,b,j]·val[j,b,:]  (0 when lens[b] = 0)
//   q    (Tq, B, H)  in   queries
//   k    (Tk, B, H)  in   keys
//   val  (Tk, B, E)  in   values (may be the same buffer as k when E = H)
//   v    (H)         in   additive only (0 for dot)
//   lens (B) i32     in   optional (0 = all Tk): valid keys of each row
//   mode             ATTN_DOT: score = q·k;  ATTN_ADDITIVE: score = Σ v ⊙ tanh(q + k)
// Allocates nothing; a and ctx must not alias the inputs.
export function attention_forward(
  a: usize, ctx: usize, q: usize, k: usize, val: usize, v: usize, lens: usize,
  Tq: i32, Tk: i32, B: i32, H: i32, E: i32, mode: i32,
): void {
  for (let t = 0; t < Tq; t++) {
    for (let b = 0; b < B; b++) {
      const row = <usize>t * <usize>B + <usize>b;
      const ar = a + row * <usize>Tk;
      const qr = q + row * <usize>H;
      const cr = ctx + row * <usize>E;
      const n = validKeys(lens, b, Tk);
      // scores of the valid keys
      for (let j = 0; j < n; j++) {
        const kr = k + (<usize>j * <usize>B + <usize>b) * <usize>H;
        sts(ar + <usize>j, mode == ATTN_ADDITIVE ? additiveScore(qr, kr, v, H) : dot(qr, kr, H));
      }
      // masked softmax: over j < n in place, padded keys get exactly 0
      if (n > 0) softmax_rows(ar, ar, 1, n);
      if (n < Tk) fill_f32(ar + <usize>n, 0, Tk - n);
      // context = Σ_j a_j val_j
      fill_f32(cr, 0, E);
      for (let j = 0; j < n; j++) axpy(cr, lds(ar + <usize>j), val + (<usize>j * <usize>B + <usize>b) * <usize>E, E);
    }
  }
}

// attention_backward: ADDS the gradients of a loss through attention_forward (dq, dk, dval, dv are
// accumulated, never overwritten: dk and dval may be the same buffer when the keys are the values).
//   dq      (Tq, B, H)  in/out  += ∂L/∂q
//   dk      (Tk, B, H)  in/out  += ∂L/∂k
//   dval    (Tk, B, E)  in/out  += ∂L/∂val
//   dv      (H)         in/out  += ∂L/∂v (additive; 0 for dot)
//   dctx    (Tq, B, E)  in      upstream ∂L/∂ctx
//   a       (Tq, B, Tk) in      weights saved by attention_forward
//   q, k, val, v, lens          as in attention_forward
//   scratch (Tk)        scratch ∂L/∂score of one row
// Per row: da_j = dctx·val_j; ds_j = a_j (da_j − Σ_i a_i da_i); dot: dq += Σ ds_j k_j, dk_j += ds_j q;
// additive (u = tanh(q + k_j) recomputed): g = ds_j v ⊙ (1 − u²), dq += g, dk_j += g, dv += ds_j u.
export function attention_backward(
  dq: usize, dk: usize, dval: usize, dv: usize, dctx: usize, a: usize,
  q: usize, k: usize, val: usize, v: usize, lens: usize, scratch: usize,
  Tq: i32, Tk: i32, B: i32, H: i32, E: i32, mode: i32,
): void {
  for (let t = 0; t < Tq; t++) {
    for (let b = 0; b < B; b++) {
      const row = <usize>t * <usize>B + <usize>b;
      const ar = a + row * <usize>Tk;
      const qr = q + row * <usize>H;
      const dqr = dq + row * <usize>H;
      const dcr = dctx + row * <usize>E;
      const n = validKeys(lens, b, Tk);
      // through the context: da_j and dval_j, and Σ a_j da_j
      let s: f32 = 0;
      for (let j = 0; j < n; j++) {
        const vo = (<usize>j * <usize>B + <usize>b) * <usize>E;
        const aj = lds(ar + <usize>j);
        const da = dot(dcr, val + vo, E);
        sts(scratch + <usize>j, da);
        s += aj * da;
        axpy(dval + vo, aj, dcr, E);
      }
      // through the softmax, then the scores
      for (let j = 0; j < n; j++) {
        const ds = lds(ar + <usize>j) * (lds(scratch + <usize>j) - s);
        const ko = (<usize>j * <usize>B + <usize>b) * <usize>H;
        if (mode == ATTN_ADDITIVE) additiveBackward(dqr, dk + ko, dv, qr, k + ko, v, ds, H);
        else {
          axpy(dqr, ds, k + ko, H);
          axpy(dk + ko, ds, qr, H);
        }
      }
    }
  }
}

// One (query, key) pair of the additive score's backward, ds = ∂L/∂score.
@inline function additiveBackward(dq: usize, dk: usize, dv: usize, q: usize, k: usize, v: usize, ds: f32, H: i32): void {
  const dsv = f32x4.splat(ds);
  const one = f32x4.splat(1);
  for (let i = 0; i < H; i += 4) {
    const n = min(4, H - i);
    const ii = <usize>i;
    const u = vtanh(f32x4.add(ldn(q + ii, n), ldn(k + ii, n)));
    const g = f32x4.mul(f32x4.mul(dsv, ldn(v + ii, n)), f32x4.sub(one, f32x4.mul(u, u)));
    stn(dq + ii, f32x4.add(ldn(dq + ii, n), g), n);
    stn(dk + ii, f32x4.add(ldn(dk + ii, n), g), n);
    stn(dv + ii, madd(dsv, u, ldn(dv + ii, n)), n);
  }
}
