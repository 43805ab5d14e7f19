// Plain float64 references for minGRU and minLSTM (Feng et al. 2024, "Were RNNs All We Needed?"),
// one layer, one direction, whole sequence: the readable spec of assembly/cells/mingru.ts and
// minlstm.ts. Scalar loops, input projection included, nothing shared with the wasm side.
//
// Shapes (time-major, row-major): x (T, B, I), w_ih (G*H, I) with G = 2 (minGRU: z, h) or 3
// (minLSTM: f, i, h), b_ih (G*H) optional, h0 (B, H) optional (0), lens (B) optional (all T).
// There is no recurrent weight: k_t = W_ih x_t + b_ih is all the cell sees of the input, and
//   minGRU:  z = σ(k_z),                    h_t = (1 − z) h_{t−1} + z c_t
//   minLSTM: f = σ(k_f), i = σ(k_i),        h_t = f/(f+i) h_{t−1} + i/(f+i) c_t
// with the candidate c_t = k_h (the paper's linear form) or c_t = g(k_h), g(x) = x + ½ (x ≥ 0) else
// σ(x) (its log-space form, which keeps every h positive so that the scan can run on logarithms).
// Packed-sequence semantics as test/reference/cells.ts: row b runs its steps t < lens[b] (reverse:
// from its own last step), padded outputs are 0, the final state is the state after its last step.
//
// Two forward forms: minRef (sequential, the recurrence as written) and minLogRef (the paper's
// parallel log-space scan: a* = cumsum(log a), log h = a* + logcumsumexp([log h0, log b − a*])).
// They must agree wherever the log form is defined (logSpace candidate, h0 ≥ 0).

export type MinKind = 'mingru' | 'minlstm';
export const MIN_GATES: Record<MinKind, number> = { mingru: 2, minlstm: 3 };

export interface MinInput {
  T: number;
  B: number;
  I: number;
  H: number;
  x: ArrayLike<number>;
  w_ih: ArrayLike<number>;
  b_ih?: ArrayLike<number>;
  h0?: ArrayLike<number>;
  lens?: ArrayLike<number>;
  reverse?: boolean;
  /** The log-space variant's candidate g(k_h) (default: the linear candidate k_h). */
  logSpace?: boolean;
}

export interface MinOutput {
  /** (T, B, H) h_t of every step, 0 at padded steps. */
  y: Float64Array;
  /** (B, H) final state. */
  hN: Float64Array;
  /** (T, B, G*H) pre-activations k = W_ih x + b_ih (every step, padded ones included). */
  pre: Float64Array;
}

export interface MinGrads {
  x: Float64Array;
  w_ih: Float64Array;
  b_ih: Float64Array;
  h0: Float64Array;
  /** (T, B, G*H) ∂L/∂k, 0 at padded steps (what the wasm backward writes). */
  dpre: Float64Array;
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));
const softplus = (v: number): number => (v > 0 ? v + Math.log1p(Math.exp(-v)) : Math.log1p(Math.exp(v)));
/** The paper's g, its log and derivative. */
export const gPos = (v: number): number => (v >= 0 ? v + 0.5 : sigmoid(v));
const logGPos = (v: number): number => (v >= 0 ? Math.log(v + 0.5) : -softplus(-v));
const dgPos = (v: number): number => (v >= 0 ? 1 : sigmoid(v) * (1 - sigmoid(v)));

function stepsOf(inp: MinInput, b: number): number[] {
  const len = inp.lens ? Math.min(inp.lens[b], inp.T) : inp.T;
  const ts: number[] = [];
  for (let k = 0; k < len; k++) ts.push(inp.reverse ? len - 1 - k : k);
  return ts;
}

/** k = W_ih x_t + b_ih for every step and row: (T, B, G*H). */
function project(kind: MinKind, inp: MinInput): Float64Array {
  const { T, B, I, H } = inp;
  const GH = MIN_GATES[kind] * H;
  const pre = new Float64Array(T * B * GH);
  for (let r = 0; r < T * B; r++) {
    for (let o = 0; o < GH; o++) {
      let s = inp.b_ih ? inp.b_ih[o] : 0;
      for (let q = 0; q < I; q++) s += inp.w_ih[o * I + q] * inp.x[r * I + q];
      pre[r * GH + o] = s;
    }
  }
  return pre;
}

/** The coefficients of h_t = a·h_{t−1} + b at one unit, from its pre-activations. */
function coefficients(kind: MinKind, logSpace: boolean, k: (g: number) => number): { a: number; b: number } {
  const last = MIN_GATES[kind] - 1;
  const c = logSpace ? gPos(k(last)) : k(last);
  if (kind === 'mingru') {
    const z = sigmoid(k(0));
    return { a: 1 - z, b: z * c };
  }
  const f = sigmoid(k(0));
  const i = sigmoid(k(1));
  return { a: f / (f + i), b: (i / (f + i)) * c };
}

/** Sequential form: the recurrence step by step. */
export function minRef(kind: MinKind, inp: MinInput): MinOutput {
  const { T, B, H } = inp;
  const G = MIN_GATES[kind];
  const pre = project(kind, inp);
  const y = new Float64Array(T * B * H);
  const hN = new Float64Array(B * H);
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < H; j++) {
      let h = inp.h0 ? inp.h0[b * H + j] : 0;
      for (const t of stepsOf(inp, b)) {
        const row = (t * B + b) * G * H;
        const { a, b: bb } = coefficients(kind, !!inp.logSpace, (g) => pre[row + g * H + j]);
        h = a * h + bb;
        y[(t * B + b) * H + j] = h;
      }
      hN[b * H + j] = h;
    }
  }
  return { y, hN, pre };
}

/** log a_t and log b_t of the log-space form (the paper's appendix, softplus-based). */
function logCoefficients(kind: MinKind, k: (g: number) => number): { la: number; lb: number } {
  if (kind === 'mingru') return { la: -softplus(k(0)), lb: -softplus(-k(0)) + logGPos(k(1)) };
  const d = softplus(-k(0)) - softplus(-k(1)); // log(i/f)
  return { la: -softplus(d), lb: -softplus(-d) + logGPos(k(2)) };
}

/** Parallel log-space form: a* = cumsum(log a); log h_s = a*_s + logsumexp(log h0, (log b_r − a*_r) for r ≤ s). */
export function minLogRef(kind: MinKind, inp: MinInput): MinOutput {
  const { T, B, H } = inp;
  const G = MIN_GATES[kind];
  const pre = project(kind, inp);
  const y = new Float64Array(T * B * H);
  const hN = new Float64Array(B * H);
  for (let b = 0; b < B; b++) {
    const steps = stepsOf(inp, b);
    for (let j = 0; j < H; j++) {
      const h0 = inp.h0 ? inp.h0[b * H + j] : 0;
      if (h0 < 0) throw new RangeError(`log-space form needs h0 >= 0, got ${h0}`);
      // running cumsum of log a and running logsumexp of (log h0, log b_r − a*_r)
      let aStar = 0;
      let m = Math.log(h0); // the logcumsumexp, kept as max + log Σ exp(· − max)
      let acc = m === -Infinity ? 0 : 1;
      let h = h0;
      for (const t of steps) {
        const row = (t * B + b) * G * H;
        const { la, lb } = logCoefficients(kind, (g) => pre[row + g * H + j]);
        aStar += la;
        const v = lb - aStar;
        if (v > m) {
          acc = acc * Math.exp(m - v) + 1;
          m = v;
        } else acc += Math.exp(v - m);
        h = Math.exp(aStar + m + Math.log(acc));
        y[(t * B + b) * H + j] = h;
      }
      hN[b * H + j] = h;
    }
  }
  return { y, hN, pre };
}

/**
 * Backward of minRef for L = Σ dy⊙y + Σ dhN⊙hN (dy at padded steps is ignored): walks each row's
 * steps in reverse visiting order, chain rule written out per cell.
 */
export function minBackRef(kind: MinKind, inp: MinInput, dy: ArrayLike<number>, dhN: ArrayLike<number>): MinGrads {
  const { T, B, I, H } = inp;
  const G = MIN_GATES[kind];
  const GH = G * H;
  const fwd = minRef(kind, inp);
  const pre = fwd.pre;
  const hAt = (t: number, b: number, j: number): number => fwd.y[(t * B + b) * H + j];
  const dpre = new Float64Array(T * B * GH);
  const dh0 = new Float64Array(B * H);
  for (let b = 0; b < B; b++) {
    const steps = stepsOf(inp, b);
    for (let j = 0; j < H; j++) {
      let dh = dhN[b * H + j];
      for (let s = steps.length - 1; s >= 0; s--) {
        const t = steps[s];
        dh += dy[(t * B + b) * H + j];
        const hPrev = s > 0 ? hAt(steps[s - 1], b, j) : inp.h0 ? inp.h0[b * H + j] : 0;
        const row = (t * B + b) * GH;
        const kh = pre[row + (G - 1) * H + j];
        const c = inp.logSpace ? gPos(kh) : kh;
        const dc = inp.logSpace ? dgPos(kh) : 1;
        if (kind === 'mingru') {
          const z = sigmoid(pre[row + j]);
          // h = (1 − z) hPrev + z c
          dpre[row + j] = dh * (c - hPrev) * z * (1 - z);
          dpre[row + H + j] = dh * z * dc;
          dh *= 1 - z;
        } else {
          const f = sigmoid(pre[row + j]);
          const i = sigmoid(pre[row + H + j]);
          const S = f + i;
          // h = (f/S) hPrev + (i/S) c: ∂(f/S)/∂f = i/S², ∂(f/S)/∂i = −f/S², and the opposite for i/S
          const dA = dh * hPrev;
          const dI = dh * c;
          dpre[row + j] = ((dA - dI) * i) / (S * S) * f * (1 - f);
          dpre[row + H + j] = ((dI - dA) * f) / (S * S) * i * (1 - i);
          dpre[row + 2 * H + j] = (dh * i) / S * dc;
          dh *= f / S;
        }
      }
      dh0[b * H + j] = dh;
    }
  }
  // the parameter and input gradients are the GEMMs of dpre
  const x = new Float64Array(T * B * I);
  const w_ih = new Float64Array(GH * I);
  const b_ih = new Float64Array(GH);
  for (let r = 0; r < T * B; r++) {
    for (let o = 0; o < GH; o++) {
      const d = dpre[r * GH + o];
      b_ih[o] += d;
      for (let q = 0; q < I; q++) {
        w_ih[o * I + q] += d * inp.x[r * I + q];
        x[r * I + q] += d * inp.w_ih[o * I + q];
      }
    }
  }
  return { x, w_ih, b_ih, h0: dh0, dpre };
}
