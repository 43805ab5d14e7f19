// f64 reference for RWKV-7 "Goose" (x070), the readable spec of assembly/rwkv7.ts and src/rwkv/.
// Written from the official code (BlinkDL/RWKV-LM, RWKV-v7/rwkv_v7_demo_rnn.py time_mixing__ and
// channel_mixing__, train_temp/rwkv7_train_simplified.py RWKV_Tmix_x070); one function per kernel, then
// the whole model over a state_dict with the official names. Time-major: row m = t·B + b.
// test/rwkv/reference.test.ts checks rwkv7Model against the PyTorch fixtures (scripts/fixtures/rwkv7.py).

export interface Rwkv7Dims {
  L: number; // layers
  C: number; // channels (n_embd)
  H: number; // heads
  N: number; // head size (C = H·N)
  V: number; // vocabulary
}

const sig = (x: number): number => 1 / (1 + Math.exp(-x));

/** Layer norm of G groups of N per row: (x − mean)/sqrt(var + eps)·w + b (biased variance). */
export function normRef(x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number>, M: number, G: number, N: number, eps: number): Float64Array {
  const y = new Float64Array(M * G * N);
  for (let m = 0; m < M; m++) {
    for (let g = 0; g < G; g++) {
      const o = (m * G + g) * N;
      let mean = 0;
      for (let j = 0; j < N; j++) mean += x[o + j];
      mean /= N;
      let v = 0;
      for (let j = 0; j < N; j++) v += (x[o + j] - mean) ** 2;
      const rstd = 1 / Math.sqrt(v / N + eps);
      for (let j = 0; j < N; j++) y[o + j] = (x[o + j] - mean) * rstd * w[g * N + j] + b[g * N + j];
    }
  }
  return y;
}

/** K token-shift mixes: y[k] = x + (x_{t−1} − x)⊙μ_k with x_{−1} = prev (B, C); also x_{T−1}. */
export function shiftRef(x: ArrayLike<number>, prev: ArrayLike<number> | null, mu: ArrayLike<number>, T: number, B: number, C: number, K: number): { y: Float64Array[]; last: Float64Array } {
  const y = Array.from({ length: K }, () => new Float64Array(T * B * C));
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      const m = t * B + b;
      for (let c = 0; c < C; c++) {
        const xv = x[m * C + c];
        const xp = t > 0 ? x[(m - B) * C + c] : prev ? prev[b * C + c] : 0;
        for (let k = 0; k < K; k++) y[k][m * C + c] = xv + (xp - xv) * mu[k * C + c];
      }
    }
  }
  const last = Float64Array.from({ length: B * C }, (_, i) => x[(T - 1) * B * C + i]);
  return { y, last };
}

export interface PrepOut {
  w: Float64Array; // decay
  a: Float64Array; // ICL rate
  vg: Float64Array; // value-residual gate (first: unused, zeros)
  kk: Float64Array;
  kh: Float64Array;
  vh: Float64Array;
}

/** The per-token maps between the projections and the state update (assembly/rwkv7.ts rwkv7_prep). */
export function prepRef(
  wl: ArrayLike<number>, al: ArrayLike<number>, vl: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, vfirst: ArrayLike<number> | null,
  p: { w0: ArrayLike<number>; a0: ArrayLike<number>; v0: ArrayLike<number>; k_k: ArrayLike<number>; k_a: ArrayLike<number> },
  M: number, C: number, N: number,
): PrepOut {
  const n = M * C;
  const o: PrepOut = { w: new Float64Array(n), a: new Float64Array(n), vg: new Float64Array(n), kk: new Float64Array(n), kh: new Float64Array(n), vh: new Float64Array(n) };
  for (let m = 0; m < M; m++) {
    for (let c = 0; c < C; c++) {
      const i = m * C + c;
      // w = exp(−exp(−softplus(−(w0 + w_lora)) − ½)), written as exp(−e^{−½}·σ(w0 + w_lora))
      o.w[i] = Math.exp(-Math.exp(-0.5) * sig(p.w0[c] + wl[i]));
      o.a[i] = sig(p.a0[c] + al[i]);
      o.kk[i] = k[i] * p.k_k[c];
      o.kh[i] = k[i] * (1 + (o.a[i] - 1) * p.k_a[c]);
      if (vfirst) {
        o.vg[i] = sig(p.v0[c] + vl[i]);
        o.vh[i] = v[i] + (vfirst[i] - v[i]) * o.vg[i];
      } else o.vh[i] = v[i];
    }
    for (let h = 0; h < C; h += N) {
      let s = 0;
      for (let j = 0; j < N; j++) s += o.kk[m * C + h + j] ** 2;
      const d = Math.max(Math.sqrt(s), 1e-12);
      for (let j = 0; j < N; j++) o.kk[m * C + h + j] /= d;
    }
  }
  return o;
}

/** The delta-rule state per head: S ← S·diag(w) − (S·kk)(kk⊙a)ᵀ + v̂·k̂ᵀ, y = S·r. S (B, H, N, N) is updated in place. */
export function wkvRef(
  S: Float64Array, r: ArrayLike<number>, w: ArrayLike<number>, kh: ArrayLike<number>, vh: ArrayLike<number>, kk: ArrayLike<number>, a: ArrayLike<number>,
  T: number, B: number, H: number, N: number,
): Float64Array {
  const C = H * N;
  const y = new Float64Array(T * B * C);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      const row = (t * B + b) * C;
      for (let h = 0; h < H; h++) {
        const hc = row + h * N;
        const Sh = (b * H + h) * N * N;
        for (let i = 0; i < N; i++) {
          let sa = 0;
          for (let j = 0; j < N; j++) sa -= S[Sh + i * N + j] * kk[hc + j];
          let yi = 0;
          for (let j = 0; j < N; j++) {
            const s = S[Sh + i * N + j] * w[hc + j] + sa * kk[hc + j] * a[hc + j] + vh[hc + i] * kh[hc + j];
            S[Sh + i * N + j] = s;
            yi += s * r[hc + j];
          }
          y[hc + i] = yi;
        }
      }
    }
  }
  return y;
}

/** o = (yn + (Σ_head r⊙k̂⊙r_k)·v̂)⊙g. */
export function outRef(yn: ArrayLike<number>, r: ArrayLike<number>, kh: ArrayLike<number>, vh: ArrayLike<number>, g: ArrayLike<number>, r_k: ArrayLike<number>, M: number, C: number, N: number): Float64Array {
  const o = new Float64Array(M * C);
  for (let m = 0; m < M; m++) {
    for (let h = 0; h < C; h += N) {
      let bonus = 0;
      for (let j = 0; j < N; j++) bonus += r[m * C + h + j] * kh[m * C + h + j] * r_k[h + j];
      for (let j = 0; j < N; j++) o[m * C + h + j] = (yn[m * C + h + j] + bonus * vh[m * C + h + j]) * g[m * C + h + j];
    }
  }
  return o;
}

/** y = x·Wᵀ for W (N, K) row-major (nn.Linear). */
export function linRef(x: ArrayLike<number>, W: ArrayLike<number>, M: number, N: number, K: number): Float64Array {
  const y = new Float64Array(M * N);
  for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += x[m * K + k] * W[n * K + k];
    y[m * N + n] = s;
  }
  return y;
}

/** y = x·W for W (K, N) row-major (the low-rank maps x @ w1). */
export function matRef(x: ArrayLike<number>, W: ArrayLike<number>, M: number, K: number, N: number): Float64Array {
  const y = new Float64Array(M * N);
  for (let m = 0; m < M; m++) for (let k = 0; k < K; k++) {
    const xv = x[m * K + k];
    for (let n = 0; n < N; n++) y[m * N + n] += xv * W[k * N + n];
  }
  return y;
}

/** Per layer: att shift (B, C), wkv (B, H, N, N), ffn shift (B, C). */
export interface Rwkv7RefState {
  att: Float64Array[];
  wkv: Float64Array[];
  ffn: Float64Array[];
}

export function zeroRefState(d: Rwkv7Dims, B: number): Rwkv7RefState {
  return {
    att: Array.from({ length: d.L }, () => new Float64Array(B * d.C)),
    wkv: Array.from({ length: d.L }, () => new Float64Array(B * d.H * d.N * d.N)),
    ffn: Array.from({ length: d.L }, () => new Float64Array(B * d.C)),
  };
}

/**
 * The whole model on ids (T, B) time-major, from `state` (updated in place): logits (T·B, V).
 * `z` maps the official state_dict names to row-major data in the official layouts.
 */
export function rwkv7Model(z: Record<string, ArrayLike<number>>, d: Rwkv7Dims, ids: ArrayLike<number>, T: number, B: number, state: Rwkv7RefState): Float64Array {
  const { L, C, H, N, V } = d;
  const M = T * B;
  const F = z['blocks.0.ffn.key.weight'].length / C;
  const lora = (x: ArrayLike<number>, p: string, which: string, act: ((u: number) => number) | null): Float64Array => {
    const D = z[p + which + '1'].length / C;
    const h = matRef(x, z[p + which + '1'], M, C, D);
    if (act) for (let i = 0; i < h.length; i++) h[i] = act(h[i]);
    return matRef(h, z[p + which + '2'], M, D, C);
  };
  let x: Float64Array = new Float64Array(M * C);
  for (let m = 0; m < M; m++) for (let c = 0; c < C; c++) x[m * C + c] = z['emb.weight'][ids[m] * C + c];
  x = normRef(x, z['blocks.0.ln0.weight'], z['blocks.0.ln0.bias'], M, 1, C, 1e-5);
  let vfirst: Float64Array | null = null;
  for (let l = 0; l < L; l++) {
    const p = `blocks.${l}.att.`;
    const xn = normRef(x, z[`blocks.${l}.ln1.weight`], z[`blocks.${l}.ln1.bias`], M, 1, C, 1e-5);
    const mu = new Float64Array(6 * C);
    ['x_r', 'x_w', 'x_k', 'x_v', 'x_a', 'x_g'].forEach((n, i) => mu.set(Array.from(z[p + n]), i * C));
    const sh = shiftRef(xn, state.att[l], mu, T, B, C, 6);
    state.att[l] = sh.last;
    const [xr, xw, xk, xv, xa, xg] = sh.y;
    const r = linRef(xr, z[p + 'receptance.weight'], M, C, C);
    const k = linRef(xk, z[p + 'key.weight'], M, C, C);
    const v = linRef(xv, z[p + 'value.weight'], M, C, C);
    const wl = lora(xw, p, 'w', Math.tanh);
    const al = lora(xa, p, 'a', null);
    const vl = l > 0 ? lora(xv, p, 'v', null) : new Float64Array(M * C);
    const g = lora(xg, p, 'g', sig);
    const pr = prepRef(wl, al, vl, k, v, vfirst, { w0: z[p + 'w0'], a0: z[p + 'a0'], v0: z[p + 'v0'], k_k: z[p + 'k_k'], k_a: z[p + 'k_a'] }, M, C, N);
    if (l === 0) vfirst = Float64Array.from(v);
    const y = wkvRef(state.wkv[l], r, pr.w, pr.kh, pr.vh, pr.kk, pr.a, T, B, H, N);
    const yn = normRef(y, z[p + 'ln_x.weight'], z[p + 'ln_x.bias'], M, H, N, 64e-5);
    const o = outRef(yn, r, pr.kh, pr.vh, g, z[p + 'r_k'], M, C, N);
    const dx = linRef(o, z[p + 'output.weight'], M, C, C);
    for (let i = 0; i < x.length; i++) x[i] += dx[i];
    const f = `blocks.${l}.ffn.`;
    const xf = normRef(x, z[`blocks.${l}.ln2.weight`], z[`blocks.${l}.ln2.bias`], M, 1, C, 1e-5);
    const fs = shiftRef(xf, state.ffn[l], z[f + 'x_k'], T, B, C, 1);
    state.ffn[l] = fs.last;
    const hid = linRef(fs.y[0], z[f + 'key.weight'], M, F, C);
    for (let i = 0; i < hid.length; i++) hid[i] = Math.max(hid[i], 0) ** 2;
    const dy = linRef(hid, z[f + 'value.weight'], M, C, F);
    for (let i = 0; i < x.length; i++) x[i] += dy[i];
  }
  const xo = normRef(x, z['ln_out.weight'], z['ln_out.bias'], M, 1, C, 1e-5);
  return linRef(xo, z['head.weight'], M, V, C);
}
