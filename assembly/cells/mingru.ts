// minGRU cell (Feng et al. 2024, "Were RNNs All We Needed?"): one layer, one direction, whole
// sequence. Gate and candidate depend on x_t only, so the host computes every pre-activation with one
// GEMM over T*B rows and this file is an elementwise scan, forward and backward — no matvec per step:
//   z_t = σ(k_z),  h_t = (1 − z_t)⊙h_{t−1} + z_t⊙c_t,   k = x_t·W_ihᵀ + b_ih, gate order z, h
//   linear form (logspace = 0): c_t = k_h                     (the paper's sequential minGRU)
//   log-space  (logspace = 1): c_t = g(k_h), g(x) = x + ½ (x ≥ 0) else σ(x), and the scan runs on logs:
//        log h_t = logaddexp(log(1−z_t) + log h_{t−1}, log z_t + log g(k_h)),
//        log(1−z) = −softplus(k_z), log z = −softplus(−k_z), log g(x) = log(x + ½) or −softplus(−x)
//     (the paper's appendix form, evaluated as a stable step-by-step recurrence; equal to its
//     cumsum/logcumsumexp parallel form, test/reference/min-cells.ts checks both). h_{t−1} must be
//     ≥ 0 there (log 0 = −∞ is fine; a negative state gives NaN, as log does in the paper's code).
// The linear form runs 4 lanes at a time (vsigmoid); the log-space form is scalar f32 (Mathf).
// Also holds the scalar log-space helpers minlstm.ts shares.
// Dimension letters: T steps, B batch, H hidden (G = 2 gate blocks). Pointers are f32 element offsets.
import { ldn, stn, lds, sts, madd } from '../util/simd';
import { vsigmoid } from '../kernels/activations';
import { stepActive, zeron, copyn, initCarry } from './rnn';

// ---- scalar log-space helpers (shared with minlstm.ts) -----------------------------------------------

// softplus(x) = log(1 + eˣ) without overflow; +∞ → +∞, −∞ → 0, NaN → NaN.
@inline export function softplus(x: f32): f32 {
  return x > 0 ? x + Mathf.log1p(Mathf.exp(-x)) : Mathf.log1p(Mathf.exp(x));
}

// σ(x) in scalar f32.
@inline export function sigm(x: f32): f32 {
  return <f32>1 / (<f32>1 + Mathf.exp(-x));
}

// log(eᵃ + eᵇ); −∞ when both are −∞; NaN in either gives NaN.
@inline export function logaddexp(a: f32, b: f32): f32 {
  const m = max(a, b);
  if (m == -Infinity) return m;
  return m + Mathf.log1p(Mathf.exp(-Mathf.abs(a - b)));
}

// The paper's positive candidate activation g and its log, derivative.
@inline export function gpos(x: f32): f32 {
  return x >= 0 ? x + <f32>0.5 : sigm(x);
}
@inline export function loggpos(x: f32): f32 {
  return x >= 0 ? Mathf.log(x + <f32>0.5) : -softplus(-x);
}
@inline export function dgpos(x: f32): f32 {
  if (x >= 0) return 1;
  const s = sigm(x);
  return s * (<f32>1 - s);
}

// ---- mingru_forward -------------------------------------------------------------------------------

// Linear form of one row, n lanes at column j: h = h_prev + z⊙(k_h − h_prev).
@inline function mingruLanes(g2: usize, hp: usize, hout: usize, y: usize, H: usize, j: i32, n: i32): void {
  const jj = <usize>j;
  const z = vsigmoid(ldn(g2 + jj, n));
  const prev = ldn(hp + jj, n);
  const hv = madd(z, f32x4.sub(ldn(g2 + H + jj, n), prev), prev);
  stn(hout + jj, hv, n);
  if (y) stn(y + jj, hv, n);
}

// Log-space form of one element.
@inline function mingruLog(kz: f32, kh: f32, hp: f32): f32 {
  return Mathf.exp(logaddexp(-softplus(kz) + Mathf.log(hp), -softplus(-kz) + loggpos(kh)));
}

// mingru_forward: minGRU, one layer, one direction, whole sequence, time-major, gate order z, h.
//   h     (T+1, B, H) in/out   fwd: h[0] = h0 on entry, step t writes h[t+1], final = h[T]
//                              rev: h[T] = h0 on entry, step t writes h[t],   final = h[0]
//   y     (T, B, ldy) out      optional (0 = none): h_t at y + (t*B + b)*ldy; 0 at masked steps
//   gates (T, B, 2H)  in       k = x·W_ihᵀ + b_ih (one gemm_nt over T*B rows), blocks k_z, k_h.
//                              Left unchanged: mingru_backward recomputes σ and g from it, so the
//                              forward saves nothing but h
//   lens  (B) i32     in       optional (0 = all T); step t of row b is masked when t >= lens[b]:
//                              h is carried and y is 0 (a reverse row starts at its own last step)
//   reverse           0 = t runs 0…T-1, 1 = t runs T-1…0
//   logspace          0 = linear form, 1 = log-space form (file header)
// Allocates nothing.
export function mingru_forward(
  h: usize, y: usize, gates: usize, lens: usize,
  T: i32, B: i32, H: i32, ldy: i32, reverse: i32, logspace: i32,
): void {
  const Hs = <usize>H;
  const BH = <usize>B * Hs;
  const H4 = H & ~3;
  const tail = H & 3;
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    const gates_t = gates + <usize>t * BH * 2;
    const prev = <usize>(reverse ? t + 1 : t) * BH;
    const cur = <usize>(reverse ? t : t + 1) * BH;
    for (let r = 0; r < B; r++) {
      const g2 = gates_t + <usize>r * 2 * Hs;
      const ro = <usize>r * Hs;
      const yr: usize = y ? y + (<usize>t * <usize>B + <usize>r) * <usize>ldy : 0;
      if (!stepActive(lens, r, t)) {
        // masked: carry h, zero the output
        copyn(h + cur + ro, h + prev + ro, H);
        if (yr) zeron(yr, H);
        continue;
      }
      if (logspace) {
        for (let j: usize = 0; j < Hs; j++) {
          const hv = mingruLog(lds(g2 + j), lds(g2 + Hs + j), lds(h + prev + ro + j));
          sts(h + cur + ro + j, hv);
          if (yr) sts(yr + j, hv);
        }
        continue;
      }
      let j = 0;
      for (; j < H4; j += 4) mingruLanes(g2, h + prev + ro, h + cur + ro, yr, Hs, j, 4);
      if (tail) mingruLanes(g2, h + prev + ro, h + cur + ro, yr, Hs, j, tail);
    }
  }
}

// ---- mingru_backward ------------------------------------------------------------------------------

// Linear form of one row, n lanes at column j: with dh = carry + dy,
//   dk_z = dh⊙(k_h − h_prev)⊙z(1−z),  dk_h = dh⊙z,  carry ← dh⊙(1−z).
@inline function mingruBackLanes(dg2: usize, g2: usize, hp: usize, dhc: usize, dy: usize, H: usize, j: i32, n: i32): void {
  const jj = <usize>j;
  const one = f32x4.splat(1);
  let dh = ldn(dhc + jj, n);
  if (dy) dh = f32x4.add(dh, ldn(dy + jj, n));
  const z = vsigmoid(ldn(g2 + jj, n));
  const omz = f32x4.sub(one, z);
  const diff = f32x4.sub(ldn(g2 + H + jj, n), ldn(hp + jj, n));
  stn(dg2 + jj, f32x4.mul(f32x4.mul(dh, diff), f32x4.mul(z, omz)), n);
  stn(dg2 + H + jj, f32x4.mul(dh, z), n);
  stn(dhc + jj, f32x4.mul(dh, omz), n);
}

// mingru_backward: backward of mingru_forward, walking the steps in the opposite order.
//   dgates  (T, B, 2H)   out      ∂L/∂k (k_z, k_h blocks); 0 at masked steps. The host turns it into
//                                 dW_ih, db_ih and dX with GEMMs over T*B rows
//   dh0     (B, H)       out      optional (0 = none): ∂L/∂h0
//   dy      (T, B, ldy)  in       optional (0 = none): upstream ∂L/∂y_t (ignored at masked steps)
//   dhN     (B, H)       in       optional (0 = none): upstream ∂L/∂(final h)
//   gates   (T, B, 2H)   in       the pre-activations mingru_forward read
//   h       (T+1, B, H)  in       saved by mingru_forward (same indexing)
//   lens    (B) i32      in       as in mingru_forward: masked steps pass the state gradient through
//   scratch (B, H)       scratch  the state-gradient carry
//   logspace             as in mingru_forward. The log-space scan computes the same map
//                        h_t = (1−z)h_{t−1} + z·g(k_h), so its backward is that map's: dk_h = dh⊙z⊙g′(k_h),
//                        dk_z = dh⊙(g(k_h) − h_{t−1})⊙z(1−z), carry ← dh⊙(1−z)
// Allocates nothing.
export function mingru_backward(
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
    const gates_t = gates + <usize>t * BH * 2;
    const dgates_t = dgates + <usize>t * BH * 2;
    const prev = <usize>(reverse ? t + 1 : t) * BH;
    for (let r = 0; r < B; r++) {
      const ro = <usize>r * Hs;
      const go = <usize>r * 2 * Hs;
      if (!stepActive(lens, r, t)) {
        zeron(dgates_t + go, 2 * H);
        continue;
      }
      const dyr: usize = dy ? dy + (<usize>t * <usize>B + <usize>r) * <usize>ldy : 0;
      if (logspace) {
        for (let j: usize = 0; j < Hs; j++) {
          let dh = lds(dhc + ro + j);
          if (dyr) dh += lds(dyr + j);
          const kh = lds(gates_t + go + Hs + j);
          const z = sigm(lds(gates_t + go + j));
          sts(dgates_t + go + j, dh * (gpos(kh) - lds(h + prev + ro + j)) * z * (<f32>1 - z));
          sts(dgates_t + go + Hs + j, dh * z * dgpos(kh));
          sts(dhc + ro + j, dh * (<f32>1 - z));
        }
        continue;
      }
      let j = 0;
      for (; j < H4; j += 4) mingruBackLanes(dgates_t + go, gates_t + go, h + prev + ro, dhc + ro, dyr, Hs, j, 4);
      if (tail) mingruBackLanes(dgates_t + go, gates_t + go, h + prev + ro, dhc + ro, dyr, Hs, j, tail);
    }
  }
  if (dh0) copyn(dh0, dhc, B * H);
}
