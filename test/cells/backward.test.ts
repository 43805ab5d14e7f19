// Backward cell kernels (rnn_backward, lstm_backward, gru_backward) against central finite
// differences of the f64 references in test/reference/cells.ts.
//
// The scalar loss is L = Σ dy⊙y + Σ dhN⊙h_N (+ Σ dcN⊙c_N) with random dy, dhN, dcN, so its
// gradient w.r.t. the layer outputs is an arbitrary upstream gradient (dy is random at padded steps
// too, where the kernels must ignore it). The wasm kernels run forward, then backward; the host-side
// GEMMs that finish the gradients (dW_ih, dW_hh, biases, dX) are written out here in f64, so what is
// compared is exactly what the kernels produce: gate gradients, dh0, dc0, dpeep.
import { describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/wasm/load';
import { gruRef, lstmRef, rnnRef, type CellOutput, type LstmInput } from '../reference/cells';
import { GATES, VARIANTS, randArray, randomLayer, randomLens, rng, useRuntimes, type CellKind } from './harness';

interface Case extends LstmInput {
  relu?: boolean;
  resetAfter?: boolean;
  dy: Float64Array;
  dhN: Float64Array;
  dcN?: Float64Array;
}

/** Gradients of L w.r.t. every input of the layer. */
interface Grads {
  x: Float64Array;
  w_ih: Float64Array;
  w_hh: Float64Array;
  b_ih: Float64Array;
  b_hh: Float64Array;
  h0: Float64Array;
  c0?: Float64Array;
  peep?: Float64Array;
}
type GradKey = keyof Grads;

function forwardRef(kind: CellKind, c: Case): CellOutput {
  if (kind === 'rnn') return rnnRef({ ...c, relu: !!c.relu });
  if (kind === 'lstm') return lstmRef(c);
  return gruRef({ ...c, resetAfter: !!c.resetAfter });
}

function lossRef(kind: CellKind, c: Case): number {
  const o = forwardRef(kind, c);
  let s = 0;
  for (let i = 0; i < o.y.length; i++) s += c.dy[i] * o.y[i];
  for (let i = 0; i < o.hN.length; i++) s += c.dhN[i] * o.hN[i];
  if (c.dcN && o.cN) for (let i = 0; i < o.cN.length; i++) s += c.dcN[i] * o.cN[i];
  return s;
}

/** Central differences in f64 of every input the case has. */
function numericGrads(kind: CellKind, c: Case): Grads {
  const eps = 1e-6;
  const g = {} as Grads;
  for (const key of ['x', 'w_ih', 'w_hh', 'b_ih', 'b_hh', 'h0', 'c0', 'peep'] as GradKey[]) {
    const v = c[key] as Float64Array | undefined;
    if (!v) continue;
    const d = new Float64Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const keep = v[i];
      v[i] = keep + eps;
      const lp = lossRef(kind, c);
      v[i] = keep - eps;
      const lm = lossRef(kind, c);
      v[i] = keep;
      d[i] = (lp - lm) / (2 * eps);
    }
    g[key] = d;
  }
  return g;
}

/** Runs forward + backward in wasm and finishes the parameter gradients in f64. */
function wasmGrads(rt: Runtime, kind: CellKind, c: Case): Grads {
  const { T, B, I, H } = c;
  const G = GATES[kind];
  const GH = G * H;
  const BH = B * H;
  const heap = rt.heap;
  const k = rt.k;
  const offs: number[] = [];
  const put = (src: ArrayLike<number> | undefined, n: number): number => {
    const off = heap.alloc(n);
    offs.push(off);
    if (src) heap.f32.set(src, off);
    return off;
  };
  try {
    const rev = c.reverse ? 1 : 0;
    const x = put(c.x, T * B * I);
    const w_ih = put(c.w_ih, GH * I);
    const b_ih = put(c.b_ih, GH);
    const w_hh = put(c.w_hh, GH * H);
    const b_hh = put(c.b_hh, GH);
    const gates = put(undefined, T * B * GH);
    k.gemm_nt(gates, x, w_ih, b_ih, T * B, GH, I, 0);
    const lens = c.lens ? put(undefined, B) : 0;
    if (c.lens) heap.i32.set(Array.from(c.lens), lens);
    const s0 = rev ? T * BH : 0;
    const h = put(undefined, (T + 1) * BH);
    heap.f32.set(c.h0!, h + s0);
    const y = put(undefined, T * BH);
    const dy = put(c.dy, T * BH);
    const dhN = put(c.dhN, BH);
    const dh0 = put(undefined, BH);
    const dgates = put(undefined, T * B * GH);
    const scratch = put(undefined, 3 * BH);
    let c0Off = 0, dc0 = 0, dpeep = 0, dg_rz = 0, dg_n = 0, aux = 0;
    if (kind === 'rnn') {
      k.rnn_forward(gates, h, y, w_hh, b_hh, lens, T, B, H, H, rev, c.relu ? 1 : 0);
      k.rnn_backward(dgates, dh0, dy, dhN, h, w_hh, lens, scratch, T, B, H, H, rev, c.relu ? 1 : 0);
    } else if (kind === 'lstm') {
      c0Off = put(undefined, (T + 1) * BH);
      heap.f32.set(c.c0!, c0Off + s0);
      const peep = c.peep ? put(c.peep, 3 * H) : 0;
      dpeep = c.peep ? put(undefined, 3 * H) : 0;
      dc0 = put(undefined, BH);
      const dcN = put(c.dcN, BH);
      k.lstm_forward(gates, h, c0Off, y, w_hh, b_hh, peep, lens, T, B, H, H, rev, c.clip ?? 0);
      k.lstm_backward(dgates, dh0, dc0, dpeep, dy, dhN, dcN, gates, h, c0Off, w_hh, peep, lens, scratch, T, B, H, H, rev, c.clip ?? 0);
    } else {
      aux = put(undefined, T * BH);
      dg_rz = put(undefined, T * B * 2 * H);
      dg_n = put(undefined, T * BH);
      k.gru_forward(gates, aux, h, y, scratch, w_hh, b_hh, lens, T, B, H, H, rev, c.resetAfter ? 1 : 0);
      k.gru_backward(dgates, dg_rz, dg_n, dh0, dy, dhN, gates, aux, h, w_hh, lens, scratch, T, B, H, H, rev, c.resetAfter ? 1 : 0);
    }
    const dG = heap.read(dgates, T * B * GH);
    const hAll = heap.read(h, (T + 1) * BH);
    const hprev = (t: number, b: number, j: number): number => hAll[((rev ? t + 1 : t) * B + b) * H + j];
    // host-side GEMMs, written out: dW_ih = Σ dgᵀx, db_ih = Σ dg, dx = dg·W_ih
    const g: Grads = {
      x: new Float64Array(T * B * I),
      w_ih: new Float64Array(GH * I),
      b_ih: new Float64Array(GH),
      w_hh: new Float64Array(GH * H),
      b_hh: new Float64Array(GH),
      h0: Float64Array.from(heap.read(dh0, BH)),
    };
    for (let r = 0; r < T * B; r++) {
      for (let q = 0; q < GH; q++) {
        const d = dG[r * GH + q];
        g.b_ih[q] += d;
        for (let i = 0; i < I; i++) {
          g.w_ih[q * I + i] += d * c.x[r * I + i];
          g.x[r * I + i] += d * c.w_ih[q * I + i];
        }
      }
    }
    // dW_hh, db_hh: the recurrent gate gradients against the recurrent gemm's input
    const rec: { rows: number; q0: number; d: Float32Array; input: (t: number, b: number, j: number) => number }[] = [];
    if (kind === 'gru') {
      const auxV = heap.read(aux, T * BH);
      rec.push({ rows: 2 * H, q0: 0, d: heap.read(dg_rz, T * B * 2 * H), input: hprev });
      rec.push({
        rows: H, q0: 2 * H, d: heap.read(dg_n, T * BH),
        input: c.resetAfter ? hprev : (t, b, j) => auxV[(t * B + b) * H + j],
      });
    } else rec.push({ rows: GH, q0: 0, d: dG, input: hprev });
    for (const { rows, q0, d, input } of rec) {
      for (let t = 0; t < T; t++) {
        for (let b = 0; b < B; b++) {
          for (let q = 0; q < rows; q++) {
            const dv = d[(t * B + b) * rows + q];
            g.b_hh[q0 + q] += dv;
            for (let j = 0; j < H; j++) g.w_hh[(q0 + q) * H + j] += dv * input(t, b, j);
          }
        }
      }
    }
    if (dc0) g.c0 = Float64Array.from(heap.read(dc0, BH));
    if (dpeep) g.peep = Float64Array.from(heap.read(dpeep, 3 * H));
    return g;
  } finally {
    for (const o of offs) heap.release(o);
  }
}

interface Config {
  name: string;
  kind: CellKind;
  relu?: boolean;
  resetAfter?: boolean;
  peep?: boolean;
  clip?: number;
  /** Weight scale (larger makes the clip bite). */
  scale?: number;
}

const CONFIGS: Config[] = [
  { name: 'rnn tanh', kind: 'rnn' },
  { name: 'rnn relu', kind: 'rnn', relu: true },
  { name: 'lstm', kind: 'lstm' },
  { name: 'lstm peepholes', kind: 'lstm', peep: true },
  { name: 'lstm peepholes + cell clip', kind: 'lstm', peep: true, clip: 0.9, scale: 2 },
  { name: 'gru reset-after', kind: 'gru', resetAfter: true },
  { name: 'gru Cho (reset before matmul)', kind: 'gru', resetAfter: false },
];

// Sizes crossing the 4-lane tails; each H runs four shapes: fwd and rev with lengths, no lengths, T=B=1.
const HS = [1, 2, 3, 4, 5, 7, 8, 9, 16, 17];
const SHAPES = [
  { T: 6, B: 3, lens: true, reverse: false },
  { T: 6, B: 3, lens: true, reverse: true },
  { T: 2, B: 5, lens: false, reverse: false },
  { T: 1, B: 1, lens: false, reverse: true },
];
const I = 3;

function makeCase(cfg: Config, H: number, shape: (typeof SHAPES)[number], seed: number): Case {
  const { T, B } = shape;
  const base = randomLayer(seed, cfg.kind, T, B, I, H);
  const r = rng(seed * 31 + 7);
  const sc = cfg.scale ?? 1;
  if (sc !== 1) for (const a of [base.w_ih, base.w_hh] as Float64Array[]) for (let i = 0; i < a.length; i++) a[i] *= sc;
  return {
    ...base,
    relu: cfg.relu,
    resetAfter: cfg.resetAfter,
    peep: cfg.peep ? randArray(r, 3 * H, 0.5) : undefined,
    clip: cfg.clip,
    lens: shape.lens ? randomLens(seed, B, T) : undefined,
    reverse: shape.reverse,
    dy: randArray(r, T * B * H),
    dhN: randArray(r, B * H),
    dcN: cfg.kind === 'lstm' ? randArray(r, B * H) : undefined,
  };
}

/** max |a − b| / max(1, max |b|): the error relative to the gradient's scale. */
function scaledErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let e = 0, m = 1;
  for (let i = 0; i < b.length; i++) {
    e = Math.max(e, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return e / m;
}

/** Fraction of the LSTM's saved i, f, o activations that sit exactly at σ(±clip) (clamped gates). */
function clampedFraction(c: Case): number {
  const g = lstmRef(c).gates;
  const H = c.H;
  const hi = 1 / (1 + Math.exp(-c.clip!));
  const lo = 1 - hi;
  let n = 0, all = 0;
  for (let i = 0; i < g.length; i++) {
    if (Math.floor(i / H) % 4 === 2 || g[i] === 0) continue; // skip g (tanh) and padded steps
    all++;
    if (Math.abs(g[i] - hi) < 1e-12 || Math.abs(g[i] - lo) < 1e-12) n++;
  }
  return n / all;
}

const worst = new Map<string, number>();
const rts = useRuntimes();

describe.each(CONFIGS)('$name backward vs finite differences of the f64 reference', (cfg) => {
  it.each(HS)('H=%i (fwd/rev, lengths, T=1), simd and relaxed', (H) => {
    SHAPES.forEach((shape, si) => {
      const c = makeCase(cfg, H, shape, H * 17 + si);
      if (cfg.clip && si === 0) expect(clampedFraction(c), 'the clip must bite').toBeGreaterThan(0.05);
      const num = numericGrads(cfg.kind, c);
      for (const v of VARIANTS) {
        const got = wasmGrads(rts[v], cfg.kind, c);
        for (const key of Object.keys(num) as GradKey[]) {
          const e = scaledErr(got[key]!, num[key]!);
          worst.set(cfg.name, Math.max(worst.get(cfg.name) ?? 0, e));
          expect(e, `${v} ${key} T=${shape.T} B=${shape.B} ${shape.reverse ? 'rev' : 'fwd'} lens=${c.lens ? Array.from(c.lens) : '-'}`).toBeLessThan(1e-4);
        }
      }
    });
  });
});

describe('backward kernels: summary', () => {
  it('reports the worst scaled gradient error per configuration', () => {
    for (const [name, e] of worst) console.log(`backward ${name}: max scaled err ${e.toExponential(2)}`);
    expect(worst.size).toBe(CONFIGS.length);
  });
});
