// RWKV-7 kernels, backward: the gradients of assembly/rwkv7.ts (same dimension letters and layouts),
// checked by finite differences on the f64 references (test/reference/rwkv7.ts) and through the whole
// model against PyTorch autograd (test/rwkv/train.test.ts). Parameter gradients always accumulate
// (one fill zeroes the gradient arena before a backward); activation gradients are written unless the
// contract says they accumulate.
import { ld, st, lds, sts, madd, hsum } from './util/simd';
import { headBonus } from './rwkv7';

@inline function sig(x: f32): f32 {
  return <f32>1 / (<f32>1 + Mathf.exp(-x));
}
const EXP_MINUS_HALF: f32 = 0.6065306597126334;

// rwkv7_norm_backward: gradients of rwkv7_norm.
//   dx     (M, G·N) out     (acc: +=) rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂⊙x̂)), dx̂ = dy⊙w
//   dw, db (G·N)    +=      Σ_rows dy⊙x̂, Σ_rows dy
//   dy     (M, G·N) in
//   x      (M, G·N) in      the forward's input; stats (M, G, 2) its [mean, rstd]
export function rwkv7_norm_backward(
  dx: usize, dw: usize, db: usize, dy: usize, x: usize, stats: usize, w: usize, M: i32, G: i32, N: i32, acc: i32,
): void {
  const Ns = <usize>N;
  const inv: f32 = <f32>1 / <f32>N;
  for (let m = 0; m < M; m++) {
    for (let g = 0; g < G; g++) {
      const row = <usize>m * <usize>G + <usize>g;
      const off = row * Ns;
      const mean = f32x4.splat(lds(stats + (row << 1)));
      const rstd = f32x4.splat(lds(stats + (row << 1) + 1));
      const wg = w + <usize>g * Ns;
      let s1 = f32x4.splat(0);
      let s2 = f32x4.splat(0);
      for (let j: usize = 0; j < Ns; j += 4) {
        const xh = f32x4.mul(f32x4.sub(ld(x + off + j), mean), rstd);
        const d = ld(dy + off + j);
        const dxh = f32x4.mul(d, ld(wg + j));
        s1 = f32x4.add(s1, dxh);
        s2 = madd(dxh, xh, s2);
        st(dw + <usize>g * Ns + j, madd(d, xh, ld(dw + <usize>g * Ns + j)));
        st(db + <usize>g * Ns + j, f32x4.add(d, ld(db + <usize>g * Ns + j)));
      }
      const m1 = f32x4.splat(hsum(s1) * inv);
      const m2 = f32x4.splat(hsum(s2) * inv);
      for (let j: usize = 0; j < Ns; j += 4) {
        const xh = f32x4.mul(f32x4.sub(ld(x + off + j), mean), rstd);
        const dxh = f32x4.mul(ld(dy + off + j), ld(wg + j));
        let v = f32x4.mul(rstd, f32x4.sub(f32x4.sub(dxh, m1), f32x4.mul(xh, m2)));
        if (acc) v = f32x4.add(v, ld(dx + off + j));
        st(dx + off + j, v);
      }
    }
  }
}

// rwkv7_shift_backward: gradients of rwkv7_shift (y_k = x⊙(1 − μ_k) + x_{t−1}⊙μ_k).
//   dx   (M, C)     out     (acc: +=) Σ_k dy_k[t]⊙(1 − μ_k) + Σ_k dy_k[t+1]⊙μ_k
//   dmu  (K, C)     +=      Σ_t dy_k[t]⊙(x_{t−1} − x_t)
//   dy   (K, M, C)  in
//   x    (M, C)     in;  prev (B, C) optional (0 = zeros), the forward's shift state
export function rwkv7_shift_backward(dx: usize, dmu: usize, dy: usize, x: usize, prev: usize, mu: usize, T: i32, B: i32, C: i32, K: i32, acc: i32): void {
  const Cs = <usize>C;
  const BC = <usize>B * Cs;
  const MC = <usize>T * BC;
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      const m = (<usize>t * <usize>B + <usize>b) * Cs;
      const pr: usize = t > 0 ? x + m - BC : prev ? prev + <usize>b * Cs : 0;
      for (let c: usize = 0; c < Cs; c += 4) {
        const xv = ld(x + m + c);
        const dv = pr ? f32x4.sub(ld(pr + c), xv) : f32x4.neg(xv);
        let g = acc ? ld(dx + m + c) : f32x4.splat(0);
        for (let k = 0; k < K; k++) {
          const mk = ld(mu + <usize>k * Cs + c);
          const d = ld(dy + <usize>k * MC + m + c);
          g = madd(d, f32x4.sub(f32x4.splat(1), mk), g);
          if (t + 1 < T) g = madd(ld(dy + <usize>k * MC + m + BC + c), mk, g);
          st(dmu + <usize>k * Cs + c, madd(d, dv, ld(dmu + <usize>k * Cs + c)));
        }
        st(dx + m + c, g);
      }
    }
  }
}

// rwkv7_prep_backward: gradients of rwkv7_prep (in the forward, w is written from wl: the decay's
// σ is recomputed here from wl; a and vg are the forward's σ outputs).
//   dwl, dal, dvl, dk, dv (M, C) out   gradients of w_lora, a_lora, v_lora (not first), k, v
//   dvfirst (M, C)  in/out   first: read (added into dv, what later layers sent to v_first); else +=
//   dw0, da0, dv0, dk_k, dk_a (C)  +=
//   dw, da, dkk, dkh, dvh (M, C) in    upstream: decay, a, kk, k̂, v̂
//   w, wl, a, vg, kk, k, v, vfirst (M, C) in  the forward's values
//   w0, k_k, k_a (C) in
export function rwkv7_prep_backward(
  dwl: usize, dal: usize, dvl: usize, dk: usize, dv: usize, dvfirst: usize,
  dw0: usize, da0: usize, dv0: usize, dk_k: usize, dk_a: usize,
  dw: usize, da: usize, dkk: usize, dkh: usize, dvh: usize,
  w: usize, wl: usize, a: usize, vg: usize, kk: usize, k: usize, v: usize, vfirst: usize,
  w0: usize, k_k: usize, k_a: usize, M: i32, C: i32, N: i32, first: i32,
): void {
  const Cs = <usize>C;
  const Ns = <usize>N;
  for (let m = 0; m < M; m++) {
    const o = <usize>m * Cs;
    for (let c: usize = 0; c < Cs; c++) {
      const i = o + c;
      const g = lds(dkh + i);
      const kv = lds(k + i);
      const av = lds(a + i);
      const ka = lds(k_a + c);
      sts(dk + i, g * (<f32>1 + (av - <f32>1) * ka));
      sts(dk_a + c, lds(dk_a + c) + g * kv * (av - <f32>1));
      const dA = lds(da + i) + g * kv * ka;
      const dl = dA * av * (<f32>1 - av);
      sts(dal + i, dl);
      sts(da0 + c, lds(da0 + c) + dl);
      const s = sig(lds(w0 + c) + lds(wl + i));
      const dwv = lds(dw + i) * lds(w + i) * -EXP_MINUS_HALF * s * (<f32>1 - s);
      sts(dwl + i, dwv);
      sts(dw0 + c, lds(dw0 + c) + dwv);
      const dh = lds(dvh + i);
      if (first) {
        sts(dv + i, dh + lds(dvfirst + i));
      } else {
        const gv = lds(vg + i);
        sts(dv + i, dh * (<f32>1 - gv));
        sts(dvfirst + i, lds(dvfirst + i) + dh * gv);
        const dgl = dh * (lds(vfirst + i) - lds(v + i)) * gv * (<f32>1 - gv);
        sts(dvl + i, dgl);
        sts(dv0 + c, lds(dv0 + c) + dgl);
      }
    }
    // kk = u/max(‖u‖, 1e-12), u = k⊙k_k: du = (dkk − kk·(kk·dkk))/‖u‖ (dkk/1e-12 below the floor)
    for (let h: usize = 0; h < Cs; h += Ns) {
      let nn = f32x4.splat(0);
      let dot = f32x4.splat(0);
      for (let j: usize = 0; j < Ns; j += 4) {
        const p = o + h + j;
        const u = f32x4.mul(ld(k + p), ld(k_k + h + j));
        nn = madd(u, u, nn);
        dot = madd(ld(kk + p), ld(dkk + p), dot);
      }
      const norm = Mathf.sqrt(hsum(nn));
      const big = norm > <f32>1e-12;
      const inv = f32x4.splat(<f32>1 / (big ? norm : <f32>1e-12));
      const dv4 = f32x4.splat(big ? hsum(dot) : 0);
      for (let j: usize = 0; j < Ns; j += 4) {
        const p = o + h + j;
        const du = f32x4.mul(f32x4.sub(ld(dkk + p), f32x4.mul(ld(kk + p), dv4)), inv);
        st(dk + p, madd(du, ld(k_k + h + j), ld(dk + p)));
        st(dk_k + h + j, madd(du, ld(k + p), ld(dk_k + h + j)));
      }
    }
  }
}

// rwkv7_wkv_backward: gradients of rwkv7_wkv, t = T−1 … 0, per head (b_j = kk_j·a_j, sa = −S·kk):
//   dr, dkh, dvh (M, C)  +=      (out_backward wrote them first)
//   dw, dkk, da  (M, C)  out
//   dS (B, H, N, N)      in/out  in: the gradient of the final state (zeros for a loss on outputs
//                                only); out: the gradient of the initial state
//   dy (M, C)            in
//   saved (T, B, H, N, N) in     S_t of rwkv7_wkv; S0 (B, H, N, N) the initial state (0 = zeros)
//   r, w, kh, vh, kk, a  (M, C)  in
export function rwkv7_wkv_backward(
  dr: usize, dw: usize, dkh: usize, dvh: usize, dkk: usize, da: usize, dS: usize,
  dy: usize, saved: usize, S0: usize, r: usize, w: usize, kh: usize, vh: usize, kk: usize, a: usize,
  T: i32, B: i32, H: i32, N: i32,
): void {
  const Ns = <usize>N;
  const Cs = <usize>H * Ns;
  const NN = Ns * Ns;
  const BS = <usize>B * Cs * Ns;
  const zero = f32x4.splat(0);
  for (let t = T - 1; t >= 0; t--) {
    for (let b = 0; b < B; b++) {
      const row = (<usize>t * <usize>B + <usize>b) * Cs;
      for (let h = 0; h < H; h++) {
        const hc = row + <usize>h * Ns;
        const bh = (<usize>b * <usize>H + <usize>h) * NN;
        const Sc = saved + <usize>t * BS + bh;
        const Sp: usize = t > 0 ? saved + <usize>(t - 1) * BS + bh : S0 ? S0 + bh : 0;
        const G = dS + bh;
        // db accumulates in da's slot, the −Σ_i dsa_i·S_prev_ij part of dkk in dkk's
        for (let j: usize = 0; j < Ns; j += 4) {
          st(dw + hc + j, zero);
          st(dkk + hc + j, zero);
          st(da + hc + j, zero);
        }
        for (let i: usize = 0; i < Ns; i++) {
          const Gi = G + i * Ns;
          const dyi = f32x4.splat(lds(dy + hc + i));
          let sa: f32 = 0;
          if (Sp) {
            let acc = zero;
            for (let j: usize = 0; j < Ns; j += 4) acc = madd(ld(Sp + i * Ns + j), ld(kk + hc + j), acc);
            sa = -hsum(acc);
          }
          const sav = f32x4.splat(sa);
          const vi = f32x4.splat(lds(vh + hc + i));
          let dvi = zero;
          let dsa = zero;
          for (let j: usize = 0; j < Ns; j += 4) {
            const g = madd(dyi, ld(r + hc + j), ld(Gi + j)); // dS'_ij
            st(Gi + j, g);
            st(dr + hc + j, madd(ld(Sc + i * Ns + j), dyi, ld(dr + hc + j)));
            if (Sp) st(dw + hc + j, madd(g, ld(Sp + i * Ns + j), ld(dw + hc + j)));
            st(dkh + hc + j, madd(g, vi, ld(dkh + hc + j)));
            st(da + hc + j, madd(g, sav, ld(da + hc + j)));
            dvi = madd(g, ld(kh + hc + j), dvi);
            dsa = madd(g, f32x4.mul(ld(kk + hc + j), ld(a + hc + j)), dsa);
          }
          sts(dvh + hc + i, lds(dvh + hc + i) + hsum(dvi));
          const ds = f32x4.splat(hsum(dsa));
          for (let j: usize = 0; j < Ns; j += 4) {
            // dS_prev_ij = dS'_ij·w_j − dsa_i·kk_j; dkk_j −= dsa_i·S_prev_ij
            st(Gi + j, f32x4.sub(f32x4.mul(ld(Gi + j), ld(w + hc + j)), f32x4.mul(ds, ld(kk + hc + j))));
            if (Sp) st(dkk + hc + j, f32x4.sub(ld(dkk + hc + j), f32x4.mul(ds, ld(Sp + i * Ns + j))));
          }
        }
        // b = kk⊙a: dkk += db⊙a, da = db⊙kk
        for (let j: usize = 0; j < Ns; j += 4) {
          const db = ld(da + hc + j);
          st(dkk + hc + j, madd(db, ld(a + hc + j), ld(dkk + hc + j)));
          st(da + hc + j, f32x4.mul(db, ld(kk + hc + j)));
        }
      }
    }
  }
}

// rwkv7_out_backward: gradients of rwkv7_out (o = (yn + bonus·v̂)⊙g, bonus = Σ_head r⊙k̂⊙r_k).
//   dg, dyn, dr, dkh, dvh (M, C) out
//   dr_k (C)                     +=
//   do (M, C) in; yn, r, kh, vh, g (M, C), r_k (C) in
export function rwkv7_out_backward(
  dg: usize, dyn: usize, dr: usize, dkh: usize, dvh: usize, dr_k: usize,
  d_o: usize, yn: usize, r: usize, kh: usize, vh: usize, g: usize, r_k: usize, M: i32, C: i32, N: i32,
): void {
  const Cs = <usize>C;
  const Ns = <usize>N;
  for (let m = 0; m < M; m++) {
    const row = <usize>m * Cs;
    for (let h: usize = 0; h < Cs; h += Ns) {
      const p = row + h;
      const bonus = headBonus(r, kh, r_k, p, h, Ns);
      let db = f32x4.splat(0);
      for (let j: usize = 0; j < Ns; j += 4) {
        const dov = ld(d_o + p + j);
        const gv = ld(g + p + j);
        const dog = f32x4.mul(dov, gv);
        st(dg + p + j, f32x4.mul(dov, madd(bonus, ld(vh + p + j), ld(yn + p + j))));
        st(dyn + p + j, dog);
        st(dvh + p + j, f32x4.mul(dog, bonus));
        db = madd(dog, ld(vh + p + j), db);
      }
      const dbv = f32x4.splat(hsum(db));
      for (let j: usize = 0; j < Ns; j += 4) {
        const rk = ld(r_k + h + j);
        const rv = ld(r + p + j);
        const kv = ld(kh + p + j);
        st(dr + p + j, f32x4.mul(dbv, f32x4.mul(kv, rk)));
        st(dkh + p + j, f32x4.mul(dbv, f32x4.mul(rv, rk)));
        st(dr_k + h + j, madd(dbv, f32x4.mul(rv, kv), ld(dr_k + h + j)));
      }
    }
  }
}

// rwkv7_relu_sq_backward: dx = dy·2·√y from the forward output y = max(x, 0)² (n a multiple of 4).
export function rwkv7_relu_sq_backward(dx: usize, dy: usize, y: usize, n: i32): void {
  for (let i: usize = 0; i < <usize>n; i += 4) st(dx + i, f32x4.mul(ld(dy + i), f32x4.mul(f32x4.splat(2), f32x4.sqrt(ld(y + i)))));
}

// rwkv7_sigmoid_backward: dx = dy·y·(1 − y) from the forward output y = σ(x).
export function rwkv7_sigmoid_backward(dx: usize, dy: usize, y: usize, n: i32): void {
  for (let i: usize = 0; i < <usize>n; i++) {
    const yv = lds(y + i);
    sts(dx + i, lds(dy + i) * yv * (<f32>1 - yv));
  }
}
