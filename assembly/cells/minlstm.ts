// minLSTM cell (Feng et al. 2024, "Were RNNs All We Needed?"): one layer, one direction, whole
// sequence, an elementwise scan over pre-activations the host computed with one GEMM over T*B rows:
//   f_t = σ(k_f), i_t = σ(k_i), f′ = f/(f+i), i′ = i/(f+i),  h_t = f′⊙h_{t−1} + i′⊙c_t,
//   k = x_t·W_ihᵀ + b_ih, gate order f, i, h
//   linear form (logspace = 0): c_t = k_h, f′ and i′ as written (4 lanes at a time). f + i underflows
//     to 0 only when k_f and k_i are both below ≈ −88 (then NaN, as the paper's sequential form)
//   log-space  (logspace = 1): c_t = g(k_h) (mingru.ts), and with d = softplus(−k_f) − softplus(−k_i)
//     (= log(i/f)): log f′ = −softplus(d), log i′ = −softplus(−d) (the paper's appendix), and
//     log h_t = logaddexp(log f′ + log h_{t−1}, log i′ + log g(k_h)) step by step (scalar f32, stable
//     for every finite k). h_{t−1} must be ≥ 0 there, as in mingru.ts.
// Dimension letters: T steps, B batch, H hidden (G = 3 gate blocks). Pointers are f32 element offsets.
import { ldn, stn, lds, sts, madd } from '../util/simd';
import { vsigmoid } from '../kernels/activations';
import { stepActive, zeron, copyn, initCarry } from './rnn';
import { softplus, sigm, logaddexp, gpos, loggpos, dgpos } from './mingru';

// ---- minlstm_forward ------------------------------------------------------------------------------

// Linear form of one row, n lanes at column j.
@inline function minlstmLanes(g3: usize, hp: usize, hout: usize, y: usize, H: usize, j: i32, n: i32): void {
  const jj = <usize>j;
  const f = vsigmoid(ldn(g3 + jj, n));
  const i = vsigmoid(ldn(g3 + H + jj, n));
  const s = f32x4.add(f, i);
  const hv = f32x4.div(madd(f, ldn(hp + jj, n), f32x4.mul(i, ldn(g3 + 2 * H + jj, n))), s);
  stn(hout + jj, hv, n);
  if (y) stn(y + jj, hv, n);
}

// Log-space form of one element.
@inline function minlstmLog(kf: f32, ki: f32, kh: f32, hp: f32): f32 {
  const d = softplus(-kf) - softplus(-ki);
  return Mathf.exp(logaddexp(-softplus(d) + Mathf.log(hp), -softplus(-d) + loggpos(kh)));
}

// minlstm_forward: minLSTM, one layer, one direction, whole sequence, time-major, gate order f, i, h.
//   h     (T+1, B, H) in/out   fwd: h[0] = h0 on entry, step t writes h[t+1], final = h[T]
//                              rev: h[T] = h0 on entry, step t writes h[t],   final = h[0]
//   y     (T, B, ldy) out      optional (0 = none): h_t at y + (t*B + b)*ldy; 0 at masked steps
//   gates (T, B, 3H)  in       k = x·W_ihᵀ + b_ih (one gemm_nt over T*B rows), blocks k_f, k_i, k_h.
//                              Left unchanged: minlstm_backward recomputes the gates from it
//   lens  (B) i32     in       optional (0 = all T); masked steps carry h and write y = 0
//   reverse           0 = t runs 0…T-1, 1 = t runs T-1…0
//   logspace          0 = linear form, 1 = log-space form (file header)
// Allocates nothing. There is no cell state: the paper's minLSTM carries h only.
export function minlstm_forward(
  h: usize, y: usize, gates: usize, lens: usize,
  T: i32, B: i32, H: i32, ldy: i32, reverse: i32, logspace: i32,
): void {
  const Hs = <usize>H;
  const BH = <usize>B * Hs;
  const H4 = H & ~3;
  const tail = H & 3;
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    const gates_t = gates + <usize>t * BH * 3;
    const prev = <usize>(reverse ? t + 1 : t) * BH;
    const cur = <usize>(reverse ? t : t + 1) * BH;
    for (let r = 0; r < B; r++) {
      const g3 = gates_t + <usize>r * 3 * Hs;
      const ro = <usize>r * Hs;
      const yr: usize = y ? y + (<usize>t * <usize>B + <usize>r) * <usize>ldy : 0;
      if (!stepActive(lens, r, t)) {
        copyn(h + cur + ro, h + prev + ro, H);
        if (yr) zeron(yr, H);
        continue;
      }
      if (logspace) {
        for (let j: usize = 0; j < Hs; j++) {
          const hv = minlstmLog(lds(g3 + j), lds(g3 + Hs + j), lds(g3 + 2 * Hs + j), lds(h + prev + ro + j));
          sts(h + cur + ro + j, hv);
          if (yr) sts(yr + j, hv);
        }
        continue;
      }
      let j = 0;
      for (; j < H4; j += 4) minlstmLanes(g3, h + prev + ro, h + cur + ro, yr, Hs, j, 4);
      if (tail) minlstmLanes(g3, h + prev + ro, h + cur + ro, yr, Hs, j, tail);
    }
  }
}

// ---- minlstm_backward -----------------------------------------------------------------------------

// Linear form of one row, n lanes at column j: with dh = carry + dy and q = dh⊙(h_prev − c)⊙f′⊙i′,
//   dk_f = q⊙(1−f),  dk_i = −q⊙(1−i),  dk_h = dh⊙i′,  carry ← dh⊙f′.
@inline function minlstmBackLanes(dg3: usize, g3: usize, hp: usize, dhc: usize, dy: usize, H: usize, j: i32, n: i32): void {
  const jj = <usize>j;
  const one = f32x4.splat(1);
  let dh = ldn(dhc + jj, n);
  if (dy) dh = f32x4.add(dh, ldn(dy + jj, n));
  const f = vsigmoid(ldn(g3 + jj, n));
  const i = vsigmoid(ldn(g3 + H + jj, n));
  const s = f32x4.add(f, i);
  const fn = f32x4.div(f, s);
  const inn = f32x4.div(i, s);
  const q = f32x4.mul(f32x4.mul(dh, f32x4.sub(ldn(hp + jj, n), ldn(g3 + 2 * H + jj, n))), f32x4.mul(fn, inn));
  stn(dg3 + jj, f32x4.mul(q, f32x4.sub(one, f)), n);
  stn(dg3 + H + jj, f32x4.mul(f32x4.neg(q), f32x4.sub(one, i)), n);
  stn(dg3 + 2 * H + jj, f32x4.mul(dh, inn), n);
  stn(dhc + jj, f32x4.mul(dh, fn), n);
}

// minlstm_backward: backward of minlstm_forward, walking the steps in the opposite order.
//   dgates  (T, B, 3H)   out      ∂L/∂k (k_f, k_i, k_h blocks); 0 at masked steps. The host turns it
//                                 into dW_ih, db_ih and dX with GEMMs over T*B rows
//   dh0     (B, H)       out      optional (0 = none): ∂L/∂h0
//   dy      (T, B, ldy)  in       optional (0 = none): upstream ∂L/∂y_t (ignored at masked steps)
//   dhN     (B, H)       in       optional (0 = none): upstream ∂L/∂(final h)
//   gates   (T, B, 3H)   in       the pre-activations minlstm_forward read
//   h       (T+1, B, H)  in       saved by minlstm_forward (same indexing)
//   lens    (B) i32      in       as in minlstm_forward: masked steps pass the state gradient through
//   scratch (B, H)       scratch  the state-gradient carry
//   logspace             as in minlstm_forward; the backward of the same map with c = g(k_h),
//                        f′ = σ(−d), i′ = σ(d) and 1−f = σ(−k_f), 1−i = σ(−k_i) (stable, scalar)
// Allocates nothing.
export function minlstm_backward(
  dgates: usize, dh0: usize, dy: usize, dhN: usize,
  gates: usize, h: usize, lens: usize, scratch: usize,
  T: i32, B: i32, H: i32, ldy: i32, reverse: i32, logspace: i32,
): void {
  const Hs = <usize>H;
  const BH = <usize>B * Hs;
  const H4 = H & ~3;
  const tail = H & 3;
  const dhc = scratch;
  initCarry(dhc, dhN, B * H);
  for (let s = 0; s < T; s++) {
    const t = reverse ? s : T - 1 - s;
    const gates_t = gates + <usize>t * BH * 3;
    const dgates_t = dgates + <usize>t * BH * 3;
    const prev = <usize>(reverse ? t + 1 : t) * BH;
    for (let r = 0; r < B; r++) {
      const ro = <usize>r * Hs;
      const go = <usize>r * 3 * Hs;
      if (!stepActive(lens, r, t)) {
        zeron(dgates_t + go, 3 * H);
        continue;
      }
      const dyr: usize = dy ? dy + (<usize>t * <usize>B + <usize>r) * <usize>ldy : 0;
      if (logspace) {
        const g3 = gates_t + go;
        const dg3 = dgates_t + go;
        for (let j: usize = 0; j < Hs; j++) {
          let dh = lds(dhc + ro + j);
          if (dyr) dh += lds(dyr + j);
          const kf = lds(g3 + j);
          const ki = lds(g3 + Hs + j);
          const kh = lds(g3 + 2 * Hs + j);
          const d = softplus(-kf) - softplus(-ki);
          const fn = sigm(-d);
          const inn = sigm(d);
          const q = dh * (lds(h + prev + ro + j) - gpos(kh)) * fn * inn;
          sts(dg3 + j, q * sigm(-kf));
          sts(dg3 + Hs + j, -q * sigm(-ki));
          sts(dg3 + 2 * Hs + j, dh * inn * dgpos(kh));
          sts(dhc + ro + j, dh * fn);
        }
        continue;
      }
      let j = 0;
      for (; j < H4; j += 4) minlstmBackLanes(dgates_t + go, gates_t + go, h + prev + ro, dhc + ro, dyr, Hs, j, 4);
      if (tail) minlstmBackLanes(dgates_t + go, gates_t + go, h + prev + ro, dhc + ro, dyr, Hs, j, tail);
    }
  }
  if (dh0) copyn(dh0, dhc, B * H);
}
