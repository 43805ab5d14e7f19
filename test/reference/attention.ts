// Plain float64 reference for assembly/kernels/attention.ts and the graph's attention node: the
// readable spec. Sequences are time-major, row (t, b) of a (T, B, F) array at (t·B + b)·F.
//
//   scores  dot      s[t,b,j] = q[t,b] · enc[j,b]                       (H = E)
//           general  s[t,b,j] = q[t,b] · (W enc[j,b]),  W (H, E)         (Luong)
//           additive s[t,b,j] = vᵀ tanh(W_q q[t,b] + W_k enc[j,b] + b_k), W_q (A, H), W_k (A, E), b_k, v (A)
//   weights a[t,b,:] = softmax of s[t,b,j] over the valid keys j < lens[b]; a[t,b,j] = 0 for j >= lens[b]
//   context c[t,b,:] = Σ_j a[t,b,j] enc[j,b,:]

type Arr = ArrayLike<number>;

export type AttentionKind = 'dot' | 'general' | 'additive';

export interface AttentionInput {
  kind: AttentionKind;
  Tq: number;
  Tk: number;
  B: number;
  /** query width */
  H: number;
  /** encoder (value) width */
  E: number;
  /** additive attention width */
  A?: number;
  q: Arr; // (Tq, B, H)
  enc: Arr; // (Tk, B, E)
  lens?: Arr; // (B)
  W?: Arr; // general (H, E)
  Wq?: Arr; // additive (A, H)
  Wk?: Arr; // additive (A, E)
  bk?: Arr; // additive (A), optional
  v?: Arr; // additive (A)
}

export interface AttentionOutput {
  a: Float64Array; // (Tq, B, Tk)
  ctx: Float64Array; // (Tq, B, E)
}

// y = M x for M (rows, cols) row-major.
function matvec(M: Arr, x: number[], rows: number, cols: number): number[] {
  const y: number[] = [];
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += M[r * cols + c] * x[c];
    y.push(s);
  }
  return y;
}

export function attentionRef(inp: AttentionInput): AttentionOutput {
  const { Tq, Tk, B, H, E } = inp;
  const a = new Float64Array(Tq * B * Tk);
  const ctx = new Float64Array(Tq * B * E);
  const row = (x: Arr, t: number, b: number, F: number): number[] => Array.from({ length: F }, (_, i) => x[(t * B + b) * F + i]);
  for (let b = 0; b < B; b++) {
    const n = inp.lens ? inp.lens[b] : Tk;
    for (let t = 0; t < Tq; t++) {
      const q = row(inp.q, t, b, H);
      const s: number[] = [];
      for (let j = 0; j < n; j++) {
        const e = row(inp.enc, j, b, E);
        if (inp.kind === 'dot') s.push(q.reduce((acc, qi, i) => acc + qi * e[i], 0));
        else if (inp.kind === 'general') {
          const We = matvec(inp.W!, e, H, E);
          s.push(q.reduce((acc, qi, i) => acc + qi * We[i], 0));
        } else {
          const A = inp.A!;
          const pq = matvec(inp.Wq!, q, A, H);
          const pk = matvec(inp.Wk!, e, A, E);
          let sc = 0;
          for (let i = 0; i < A; i++) sc += inp.v![i] * Math.tanh(pq[i] + pk[i] + (inp.bk ? inp.bk[i] : 0));
          s.push(sc);
        }
      }
      // masked softmax over the valid keys
      const mx = Math.max(...s);
      const ex = s.map((v) => Math.exp(v - mx));
      const sum = ex.reduce((p, v) => p + v, 0);
      for (let j = 0; j < n; j++) a[(t * B + b) * Tk + j] = ex[j] / sum;
      for (let j = 0; j < n; j++) {
        for (let i = 0; i < E; i++) ctx[(t * B + b) * E + i] += a[(t * B + b) * Tk + j] * inp.enc[(j * B + b) * E + i];
      }
    }
  }
  return { a, ctx };
}
