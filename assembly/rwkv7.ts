// RWKV-7 "Goose" (x070) kernels, forward: everything of a block that is not a GEMM. The host runs the
// projections (receptance/key/value/output, the low-rank w/a/v/g maps, the FFN) as gemm_nt over all
// M = T·B rows of a time-major sequence, and these kernels in between; test/reference/rwkv7.ts is the
// f64 spec. Per token, C = H·N channels in H heads of N:
//   time shift     x̃ = x + (x_{t−1} − x)⊙μ            (x_{−1} = the carried shift state)
//   decay          w = exp(−e^{−½}·σ(w0 + w_lora))     (= exp(−exp(−softplus(−(w0+w_lora)) − ½)))
//   ICL rate       a = σ(a0 + a_lora)
//   removal key    kk = normalize_head(k⊙k_k),  k̂ = k⊙(1 + (a − 1)⊙k_a)
//   value residual v̂ = v + (v_first − v)⊙σ(v0 + v_lora)  (layer 0: v̂ = v, and v_first = v)
//   state, per head (S is N×N, row i = value index, column j = key index):
//       S_t = S_{t−1}·diag(w) − (S_{t−1}·kk)(kk⊙a)ᵀ + v̂·k̂ᵀ,   y = S_t·r
//   output         o = (groupnorm(y) + (Σ_head r⊙k̂⊙r_k)·v̂) ⊙ g
// Dimension letters: T steps, B batch, M = T·B rows, C channels, H heads, N head size (C = H·N, N a
// multiple of 4), K shifted copies. Pointers are f32 element offsets; row m = t·B + b.
// Every row is computed the same way whatever T is, so a sequence fed one step at a time gives the
// whole-sequence result bit for bit (the wkv state runs in the same order either way).
import { ld, st, lds, sts, madd, hsum } from './util/simd';

// σ(x) in scalar f32.
@inline function sig(x: f32): f32 {
  return <f32>1 / (<f32>1 + Mathf.exp(-x));
}

// e^{−½}, the decay's scale (exp(−exp(−softplus(−u) − ½)) = exp(−e^{−½}·σ(u))).
const EXP_MINUS_HALF: f32 = 0.6065306597126334;

// rwkv7_norm: layer norm of G groups of N per row (G = 1: LayerNorm over C; G = H: GroupNorm ln_x).
//   y     (M, G·N)  out     (x − mean)·rstd·w + b per group; may alias x
//   stats (M, G, 2) out     optional (0 = none): [mean, rstd] per group, for rwkv7_norm_backward
//   x     (M, G·N)  in
//   w, b  (G·N)     in      affine weight and bias
//   eps             f32     added to the (biased) variance: 1e-5 LayerNorm, 64e-5 ln_x
export function rwkv7_norm(y: usize, stats: usize, x: usize, w: usize, b: usize, M: i32, G: i32, N: i32, eps: f32): void {
  const Ns = <usize>N;
  const inv: f32 = <f32>1 / <f32>N;
  for (let m = 0; m < M; m++) {
    for (let g = 0; g < G; g++) {
      const off = (<usize>m * <usize>G + <usize>g) * Ns;
      const xr = x + off;
      // mean, then the variance of the centred values (two passes: no cancellation)
      let acc = f32x4.splat(0);
      for (let j: usize = 0; j < Ns; j += 4) acc = f32x4.add(acc, ld(xr + j));
      const mean = hsum(acc) * inv;
      const mv = f32x4.splat(mean);
      acc = f32x4.splat(0);
      for (let j: usize = 0; j < Ns; j += 4) {
        const d = f32x4.sub(ld(xr + j), mv);
        acc = madd(d, d, acc);
      }
      const rstd = <f32>1 / Mathf.sqrt(hsum(acc) * inv + eps);
      const rv = f32x4.splat(rstd);
      const wg = w + <usize>g * Ns;
      const bg = b + <usize>g * Ns;
      for (let j: usize = 0; j < Ns; j += 4) {
        st(y + off + j, madd(f32x4.mul(f32x4.sub(ld(xr + j), mv), rv), ld(wg + j), ld(bg + j)));
      }
      if (stats) {
        const s = stats + ((<usize>m * <usize>G + <usize>g) << 1);
        sts(s, mean);
        sts(s + 1, rstd);
      }
    }
  }
}

// rwkv7_shift: K token-shift mixes of a time-major sequence, x̃_k = x + (x_{t−1} − x)⊙μ_k.
//   y    (K, M, C)  out     block k holds mix k (the time mix's r, w, k, v, a, g; the FFN's one)
//   last (B, C)     out     optional (0 = none): x at t = T−1, the next call's shift state; may be prev
//   x    (M, C)     in
//   prev (B, C)     in      optional (0 = zeros): x at t = −1
//   mu   (K, C)     in
export function rwkv7_shift(y: usize, last: usize, x: usize, prev: usize, mu: usize, T: i32, B: i32, C: i32, K: i32): void {
  const Cs = <usize>C;
  const MC = <usize>T * <usize>B * Cs;
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      const m = <usize>t * <usize>B + <usize>b;
      const xr = x + m * Cs;
      const pr: usize = t > 0 ? xr - <usize>B * Cs : prev ? prev + <usize>b * Cs : 0;
      for (let c: usize = 0; c < Cs; c += 4) {
        const xv = ld(xr + c);
        const dv = pr ? f32x4.sub(ld(pr + c), xv) : f32x4.neg(xv);
        for (let k = 0; k < K; k++) st(y + <usize>k * MC + m * Cs + c, madd(dv, ld(mu + <usize>k * Cs + c), xv));
      }
    }
  }
  if (last && T > 0) {
    const src = x + <usize>(T - 1) * <usize>B * Cs;
    for (let i: usize = 0; i < <usize>B * Cs; i += 4) st(last + i, ld(src + i));
  }
}

// rwkv7_prep: the per-token maps between the projections and the state update (file header).
//   w     (M, C)  out     the decay exp(−e^{−½}·σ(w0 + w_lora))
//   wl    (M, C)  in      w_lora (may be w: inference overwrites it; training keeps it for the backward)
//   a     (M, C)  in/out  a_lora in, a = σ(a0 + a_lora) out
//   vg    (M, C)  in/out  v_lora in, σ(v0 + v_lora) out (untouched when first)
//   kk    (M, C)  out     normalize_head(k⊙k_k) (per head of N: divided by max(‖·‖₂, 1e-12))
//   kh    (M, C)  out     k̂ = k⊙(1 + (a − 1)⊙k_a)
//   vh    (M, C)  out     v̂ (first: v̂ = v)
//   vfirst (M, C) in/out  first: written with v; else read (layer 0's v)
//   k, v  (M, C)  in      key and value projections
//   w0, a0, v0, k_k, k_a (C)  in
//   first         1 in layer 0 (no value residual; it defines v_first)
export function rwkv7_prep(
  w: usize, wl: usize, a: usize, vg: usize, kk: usize, kh: usize, vh: usize, vfirst: usize, k: usize, v: usize,
  w0: usize, a0: usize, v0: usize, k_k: usize, k_a: usize, M: i32, C: i32, N: i32, first: i32,
): void {
  const Cs = <usize>C;
  const Ns = <usize>N;
  for (let m = 0; m < M; m++) {
    const o = <usize>m * Cs;
    for (let c: usize = 0; c < Cs; c++) {
      const i = o + c;
      sts(w + i, Mathf.exp(-EXP_MINUS_HALF * sig(lds(w0 + c) + lds(wl + i))));
      const av = sig(lds(a0 + c) + lds(a + i));
      sts(a + i, av);
      const kv = lds(k + i);
      sts(kk + i, kv * lds(k_k + c));
      sts(kh + i, kv * (<f32>1 + (av - <f32>1) * lds(k_a + c)));
      const vv = lds(v + i);
      if (first) {
        sts(vfirst + i, vv);
        sts(vh + i, vv);
      } else {
        const gv = sig(lds(v0 + c) + lds(vg + i));
        sts(vg + i, gv);
        sts(vh + i, vv + (lds(vfirst + i) - vv) * gv);
      }
    }
    // kk /= max(‖kk‖, 1e-12) per head
    for (let h: usize = 0; h < Cs; h += Ns) {
      let acc = f32x4.splat(0);
      for (let j: usize = 0; j < Ns; j += 4) {
        const q = ld(kk + o + h + j);
        acc = madd(q, q, acc);
      }
      const s = f32x4.splat(<f32>1 / max(Mathf.sqrt(hsum(acc)), <f32>1e-12));
      for (let j: usize = 0; j < Ns; j += 4) st(kk + o + h + j, f32x4.mul(ld(kk + o + h + j), s));
    }
  }
}

// rwkv7_wkv: the generalised delta-rule state of every head over a sequence (file header).
//   y     (M, C)          out     y_t = S_t·r_t per head
//   S     (B, H, N, N)    in/out  the state, row i (value) × column j (key); the final state on return
//   saved (T, B, H, N, N) out     optional (0 = none): S_t after every step, for rwkv7_wkv_backward
//   r, w, kh, vh, kk, a (M, C) in receptance, decay, k̂, v̂, kk, a (rwkv7_prep)
export function rwkv7_wkv(
  y: usize, S: usize, saved: usize, r: usize, w: usize, kh: usize, vh: usize, kk: usize, a: usize,
  T: i32, B: i32, H: i32, N: i32,
): void {
  const Ns = <usize>N;
  const Cs = <usize>H * Ns;
  const NN = Ns * Ns;
  const BS = <usize>B * Cs * Ns; // state floats per step
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      const row = (<usize>t * <usize>B + <usize>b) * Cs;
      for (let h = 0; h < H; h++) {
        const hc = row + <usize>h * Ns;
        const Sh = S + (<usize>b * <usize>H + <usize>h) * NN;
        for (let i: usize = 0; i < Ns; i++) {
          const Si = Sh + i * Ns;
          // sa = S_i·(−kk)
          let acc = f32x4.splat(0);
          for (let j: usize = 0; j < Ns; j += 4) acc = madd(ld(Si + j), ld(kk + hc + j), acc);
          const sa = f32x4.splat(-hsum(acc));
          const vi = f32x4.splat(lds(vh + hc + i));
          // S_ij ← S_ij·w_j + (sa·kk_j·a_j + v_i·k̂_j); y_i = Σ_j S_ij·r_j
          let yacc = f32x4.splat(0);
          for (let j: usize = 0; j < Ns; j += 4) {
            const bj = f32x4.mul(ld(kk + hc + j), ld(a + hc + j));
            const add = madd(vi, ld(kh + hc + j), f32x4.mul(sa, bj));
            const s = madd(ld(Si + j), ld(w + hc + j), add);
            st(Si + j, s);
            yacc = madd(s, ld(r + hc + j), yacc);
          }
          sts(y + hc + i, hsum(yacc));
        }
      }
    }
    if (saved) {
      const dst = saved + <usize>t * BS;
      for (let i: usize = 0; i < BS; i += 4) st(dst + i, ld(S + i));
    }
  }
}

// Σ over one head (N channels from p; r_k from h) of r⊙k̂⊙r_k, in every lane: the head's bonus factor.
@inline export function headBonus(r: usize, kh: usize, r_k: usize, p: usize, h: usize, Ns: usize): v128 {
  let acc = f32x4.splat(0);
  for (let j: usize = 0; j < Ns; j += 4) acc = madd(f32x4.mul(ld(r + p + j), ld(kh + p + j)), ld(r_k + h + j), acc);
  return f32x4.splat(hsum(acc));
}

// rwkv7_out: o = (yn + (Σ_head r⊙k̂⊙r_k)·v̂) ⊙ g, the time mix's output before its projection.
//   o   (M, C)  out
//   yn  (M, C)  in   groupnorm(y) (rwkv7_norm with G = H)
//   r, kh, vh, g (M, C) in
//   r_k (C)     in   (H, N) in the checkpoint
export function rwkv7_out(o: usize, yn: usize, r: usize, kh: usize, vh: usize, g: usize, r_k: usize, M: i32, C: i32, N: i32): void {
  const Cs = <usize>C;
  const Ns = <usize>N;
  for (let m = 0; m < M; m++) {
    const row = <usize>m * Cs;
    for (let h: usize = 0; h < Cs; h += Ns) {
      const p = row + h;
      const bonus = headBonus(r, kh, r_k, p, h, Ns);
      for (let j: usize = 0; j < Ns; j += 4) st(o + p + j, f32x4.mul(madd(bonus, ld(vh + p + j), ld(yn + p + j)), ld(g + p + j)));
    }
  }
}

// rwkv7_relu_sq: y = max(x, 0)², the channel mix's activation. y may alias x; n a multiple of 4.
export function rwkv7_relu_sq(y: usize, x: usize, n: i32): void {
  for (let i: usize = 0; i < <usize>n; i += 4) {
    const r = f32x4.max(ld(x + i), f32x4.splat(0));
    st(y + i, f32x4.mul(r, r));
  }
}

// rwkv7_sigmoid: y = σ(x) in scalar f32 (Mathf.exp), the gate LoRA's inner activation. y may alias x.
export function rwkv7_sigmoid(y: usize, x: usize, n: i32): void {
  for (let i: usize = 0; i < <usize>n; i++) sts(y + i, sig(lds(x + i)));
}
