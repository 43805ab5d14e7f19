// Shared driver for the cell tests: lays one layer's inputs out in the wasm heap, runs the input
// projection (gemm_nt over T*B rows) and the fused cell kernel, and copies everything back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime, type Variant } from '../../src/wasm/load';
import { gruRef, lstmRef, rnnRef, type CellInput, type LstmInput } from '../reference/cells';

export type CellKind = 'rnn' | 'lstm' | 'gru';
export const GATES: Record<CellKind, number> = { rnn: 1, lstm: 4, gru: 3 };

export interface WasmCellInput extends LstmInput {
  relu?: boolean;
  resetAfter?: boolean;
  /** Row stride of y (H or 2H) and the offset of this direction's half inside a row. */
  ldy?: number;
  yOff?: number;
  /** Skip y entirely (pass 0). */
  noY?: boolean;
  /** Use this (T, B, G*H) buffer as the gates on entry instead of running the input projection. */
  preGates?: ArrayLike<number>;
  /**
   * Run the *_pk op with a packed copy of W_hh made by pack_hh; 'poison' then overwrites W_hh itself
   * with NaN before the call (so a result that still matches came from the copy).
   */
  packedHh?: 'copy' | 'poison';
}

export interface WasmCellOutput {
  /** (T, B, H) gathered from the strided y (undefined when noY). */
  y?: Float32Array;
  /** The whole raw y buffer (T, B, ldy) including the other direction's half. */
  yRaw?: Float32Array;
  hN: Float32Array;
  cN?: Float32Array;
  gates: Float32Array;
  aux?: Float32Array;
  h: Float32Array; // (T+1, B, H)
}

/** Sentinel written into buffers the kernel must not touch (the other half of a strided y). */
export const SENTINEL = 12345.5;

export function runCell(rt: Runtime, kind: CellKind, inp: WasmCellInput): WasmCellOutput {
  const { T, B, I, H } = inp;
  const G = GATES[kind];
  const heap = rt.heap;
  const k = rt.k;
  const offs: number[] = [];
  const put = (src: ArrayLike<number> | undefined, n: number): number => {
    if (!src) return 0;
    const off = heap.alloc(n);
    offs.push(off);
    heap.f32.set(src, off); // re-read the view after the allocation (memory may have grown)
    return off;
  };
  const zeros = (n: number): number => {
    const off = heap.alloc(n);
    offs.push(off);
    return off;
  };
  try {
    const BH = B * H;
    const gates = zeros(T * B * G * H);
    if (inp.preGates) heap.f32.set(inp.preGates, gates);
    else {
      const x = put(inp.x, T * B * I);
      const w_ih = put(inp.w_ih, G * H * I);
      const b_ih = put(inp.b_ih, G * H);
      k.gemm_nt(gates, x, w_ih, b_ih, T * B, G * H, I, 0); // input projection of all steps
    }
    const w_hh = put(inp.w_hh, G * H * H);
    const b_hh = put(inp.b_hh, G * H);
    let w_pk = 0;
    if (inp.packedHh) {
      const apart = kind === 'gru' && !inp.resetAfter ? 1 : 0;
      w_pk = zeros(k.packed_hh_floats(G * H, H, apart));
      k.pack_hh(w_pk, w_hh, G * H, H, apart);
      if (inp.packedHh === 'poison') heap.f32.fill(NaN, w_hh, w_hh + G * H * H);
    }
    let lens = 0;
    if (inp.lens) {
      lens = zeros(B);
      heap.i32.set(Array.from(inp.lens), lens);
    }
    // state buffers (T+1, B, H), initial state at h[0] (fwd) / h[T] (rev); the rest is garbage on entry
    const h = zeros((T + 1) * BH);
    heap.f32.fill(-777, h, h + (T + 1) * BH);
    const s0 = inp.reverse ? T * BH : 0;
    if (inp.h0) heap.f32.set(inp.h0, h + s0);
    else heap.f32.fill(0, h + s0, h + s0 + BH);
    let c = 0;
    if (kind === 'lstm') {
      c = zeros((T + 1) * BH);
      heap.f32.fill(-777, c, c + (T + 1) * BH);
      if (inp.c0) heap.f32.set(inp.c0, c + s0);
      else heap.f32.fill(0, c + s0, c + s0 + BH);
    }
    const ldy = inp.ldy ?? H;
    const yOff = inp.yOff ?? 0;
    let yBuf = 0;
    if (!inp.noY) {
      yBuf = zeros(T * B * ldy);
      heap.f32.fill(SENTINEL, yBuf, yBuf + T * B * ldy);
    }
    const yArg = inp.noY ? 0 : yBuf + yOff;
    const rev = inp.reverse ? 1 : 0;
    let aux = 0;
    if (kind === 'rnn') {
      if (w_pk) k.rnn_forward_pk(gates, h, yArg, w_hh, w_pk, b_hh, lens, T, B, H, ldy, rev, inp.relu ? 1 : 0);
      else k.rnn_forward(gates, h, yArg, w_hh, b_hh, lens, T, B, H, ldy, rev, inp.relu ? 1 : 0);
    } else if (kind === 'lstm') {
      const peep = put(inp.peep, 3 * H);
      if (w_pk) k.lstm_forward_pk(gates, h, c, yArg, w_hh, w_pk, b_hh, peep, lens, T, B, H, ldy, rev, inp.clip ?? 0);
      else k.lstm_forward(gates, h, c, yArg, w_hh, b_hh, peep, lens, T, B, H, ldy, rev, inp.clip ?? 0);
    } else {
      aux = zeros(T * BH);
      heap.f32.fill(-777, aux, aux + T * BH);
      const scratch = zeros(B * 3 * H);
      if (w_pk) k.gru_forward_pk(gates, aux, h, yArg, scratch, w_hh, w_pk, b_hh, lens, T, B, H, ldy, rev, inp.resetAfter ? 1 : 0);
      else k.gru_forward(gates, aux, h, yArg, scratch, w_hh, b_hh, lens, T, B, H, ldy, rev, inp.resetAfter ? 1 : 0);
    }
    const fin = inp.reverse ? 0 : T * BH;
    const out: WasmCellOutput = {
      hN: heap.read(h + fin, BH),
      gates: heap.read(gates, T * B * G * H),
      h: heap.read(h, (T + 1) * BH),
    };
    if (kind === 'lstm') out.cN = heap.read(c + fin, BH);
    if (aux) out.aux = heap.read(aux, T * BH);
    if (!inp.noY) {
      const raw = heap.read(yBuf, T * B * ldy);
      const y = new Float32Array(T * BH);
      for (let r = 0; r < T * B; r++) y.set(raw.subarray(r * ldy + yOff, r * ldy + yOff + H), r * H);
      out.y = y;
      out.yRaw = raw;
    }
    return out;
  } finally {
    for (const o of offs) heap.release(o);
  }
}

/** Deterministic uniform PRNG (mulberry32). */
export function rng(seed: number): (lo?: number, hi?: number) => number {
  let a = seed >>> 0;
  return (lo = -1, hi = 1) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return lo + (hi - lo) * u;
  };
}

export function randArray(r: (lo?: number, hi?: number) => number, n: number, scale = 1): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = r() * scale;
  return a;
}

/** Random layer inputs with PyTorch-like init scales (|values| stay around 1). */
export function randomLayer(seed: number, kind: CellKind, T: number, B: number, I: number, H: number): CellInput & LstmInput {
  const r = rng(seed);
  const G = GATES[kind];
  const kI = 1.5 / Math.sqrt(I);
  const kH = 1.5 / Math.sqrt(H);
  return {
    T, B, I, H,
    x: randArray(r, T * B * I),
    w_ih: randArray(r, G * H * I, kI),
    w_hh: randArray(r, G * H * H, kH),
    b_ih: randArray(r, G * H, 0.5),
    b_hh: randArray(r, G * H, 0.5),
    h0: randArray(r, B * H),
    c0: kind === 'lstm' ? randArray(r, B * H) : undefined,
  };
}

/** Lengths for B rows in [1, T] that include a full row and a length-1 row, in scrambled order. */
export function randomLens(seed: number, B: number, T: number): Int32Array {
  const r = rng(seed ^ 0x5bd1e995);
  const lens = new Int32Array(B);
  for (let b = 0; b < B; b++) lens[b] = 1 + Math.floor(r(0, 1) * T);
  if (B === 1) lens[0] = seed & 1 ? 1 : T;
  else {
    const full = seed % B;
    lens[full] = T;
    lens[(full + 1 + (seed >> 3) % (B - 1)) % B] = 1;
  }
  return lens;
}

// ---- comparison ------------------------------------------------------------------------------------

/**
 * The one tolerance table: |wasm − f64 reference| <= abs + rel·|reference|. The wasm side is f32 with
 * polynomial σ/tanh; values are O(1) at these sizes (T <= 32, H <= 100, PyTorch-like init). `rel` only
 * matters where values can exceed 1: RNN pre-activations and relu states, LSTM cell states.
 */
export const TOL = {
  'rnn-tanh': { abs: 2e-5, rel: 2e-5 },
  'rnn-relu': { abs: 2e-5, rel: 2e-5 },
  lstm: { abs: 2e-5, rel: 2e-5 },
  gru: { abs: 2e-5, rel: 2e-5 },
} as const;
export type TolKey = keyof typeof TOL;

/** Max abs error seen per "<cell> <variant> <quantity>" key (printed by each test file's afterAll). */
export const maxErr = new Map<string, number>();

function note(key: string, e: number): void {
  maxErr.set(key, Math.max(maxErr.get(key) ?? 0, e));
}

export interface RefOut {
  y: Float64Array;
  hN: Float64Array;
  cN?: Float64Array;
  gates: Float64Array;
}

/**
 * Compares one wasm run against the reference; returns a list of problems (empty = pass).
 * Padded steps (t >= lens[b]) must hold exact zeros in y, in the saved gate rows and in GRU aux;
 * the other half of a strided y must be untouched.
 */
export function compareCell(
  key: string, tol: { abs: number; rel: number }, kind: CellKind, inp: WasmCellInput, ref: RefOut, out: WasmCellOutput,
): string[] {
  const { T, B, H } = inp;
  const G = GATES[kind];
  const bad: string[] = [];
  const len = (b: number): number => (inp.lens ? Math.min(inp.lens[b], T) : T);
  const cmp = (what: string, got: ArrayLike<number>, want: ArrayLike<number>, i: number): void => {
    const e = Math.abs(got[i] - want[i]);
    if (!(e <= tol.abs + tol.rel * Math.abs(want[i]))) {
      if (bad.length < 5) bad.push(`${what}[${i}]: got ${got[i]}, expected ${want[i]} (err ${e.toExponential(2)})`);
    }
    note(`${key} ${what}`, Number.isFinite(e) ? e : Infinity);
  };
  const zero = (what: string, got: ArrayLike<number>, i: number): void => {
    if (got[i] !== 0 && bad.length < 5) bad.push(`${what}[${i}] at a padded step: got ${got[i]}, expected exactly 0`);
  };
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      const padded = t >= len(b);
      const r = t * B + b;
      for (let j = 0; j < H; j++) {
        if (out.y) (padded ? zero('y', out.y, r * H + j) : cmp('y', out.y, ref.y, r * H + j));
        if (out.aux && padded) zero('aux', out.aux, r * H + j);
      }
      for (let j = 0; j < G * H; j++) (padded ? zero('gates', out.gates, r * G * H + j) : cmp('gates', out.gates, ref.gates, r * G * H + j));
    }
  }
  for (let i = 0; i < B * H; i++) cmp('hN', out.hN, ref.hN, i);
  if (ref.cN) for (let i = 0; i < B * H; i++) cmp('cN', out.cN!, ref.cN, i);
  // the other direction's half of a strided y is never written
  if (out.yRaw && (inp.ldy ?? H) > H) {
    const ldy = inp.ldy!;
    const yOff = inp.yOff ?? 0;
    for (let r = 0; r < T * B && bad.length < 5; r++) {
      for (let q = 0; q < ldy; q++) {
        if ((q < yOff || q >= yOff + H) && out.yRaw[r * ldy + q] !== SENTINEL) {
          bad.push(`y row ${r} column ${q} outside this direction's half was written`);
          break;
        }
      }
    }
  }
  return bad;
}

// ---- the size sweep ----------------------------------------------------------------------------------

export const HS = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33, 64, 100];
export const BS = [1, 2, 3, 5, 8];
export const TS = [1, 2, 7, 32];
export const IS = [1, 3, 4, 8, 13];

export interface SweepCase {
  desc: string;
  inp: WasmCellInput;
}

/**
 * The cases for one hidden size: forward/reverse × with/without lengths, with B, T and I cycled
 * (offset by `salt` so that different configurations of one cell meet different combinations).
 * Every H meets all four T values; y is strided (ldy = 2H, reverse half at +H) in half the cases.
 */
export interface CellOptions {
  relu?: boolean;
  resetAfter?: boolean;
  peep?: boolean;
  clip?: number;
}

export function sweepCases(kind: CellKind, H: number, salt: number, opts: CellOptions): SweepCase[] {
  const hi = HS.indexOf(H);
  const cases: SweepCase[] = [];
  for (let combo = 0; combo < 4; combo++) {
    const reverse = (combo & 1) === 1;
    const withLens = (combo & 2) === 2;
    const T = TS[(hi + combo + salt) % TS.length];
    const B = BS[(2 * hi + combo + salt) % BS.length];
    const I = IS[(hi + 3 * combo + salt) % IS.length];
    const seed = 1000 * H + 100 * salt + combo + 1;
    const inp: WasmCellInput = { ...randomLayer(seed, kind, T, B, I, H), reverse };
    inp.relu = opts.relu;
    inp.resetAfter = opts.resetAfter;
    inp.clip = opts.clip;
    if (opts.peep) inp.peep = randArray(rng(seed + 7), 3 * H);
    if (withLens) inp.lens = randomLens(seed, B, T);
    if ((hi + combo) % 2 === 0) {
      inp.ldy = 2 * H;
      inp.yOff = reverse ? H : 0;
    }
    cases.push({
      desc: `T=${T} B=${B} I=${I} H=${H} ${reverse ? 'rev' : 'fwd'}${withLens ? ` lens=[${Array.from(inp.lens!)}]` : ''}`,
      inp,
    });
  }
  return cases;
}

/** The f64 reference for a cell kind. */
export function reference(kind: CellKind, inp: WasmCellInput): RefOut {
  if (kind === 'rnn') return rnnRef({ ...inp, relu: !!inp.relu });
  if (kind === 'lstm') return lstmRef(inp);
  return gruRef({ ...inp, resetAfter: !!inp.resetAfter });
}

// ---- runtimes ------------------------------------------------------------------------------------------

export const VARIANTS: Variant[] = ['simd', 'relaxed'];

/** One runtime per variant, created in beforeAll of the calling test file; prints max errors at the end. */
export function useRuntimes(): Record<Variant, Runtime> {
  const rts = {} as Record<Variant, Runtime>;
  beforeAll(async () => {
    for (const v of VARIANTS) rts[v] = await createRuntime({ variant: v });
  });
  afterAll(() => {
    for (const [key, e] of [...maxErr].sort()) console.log(`max abs err ${key}: ${e.toExponential(2)}`);
  });
  return rts;
}

/**
 * Registers the size sweep for one cell: for each configuration, one test per H, each running the
 * four direction × lengths cases against the f64 reference on both binaries.
 */
export function sweepSuite(
  rts: Record<Variant, Runtime>, kind: CellKind, tolKey: TolKey,
  configs: { name: string; opts: CellOptions }[],
): void {
  configs.forEach(({ name, opts }, salt) => {
    describe(`${name} vs the f64 reference`, () => {
      it.each(HS)('H=%i (fwd/rev × lens on/off, simd and relaxed)', (H) => {
        for (const c of sweepCases(kind, H, salt, opts)) {
          const ref = reference(kind, c.inp);
          for (const v of VARIANTS) {
            const out = runCell(rts[v], kind, c.inp);
            expect(compareCell(`${tolKey} ${v}`, TOL[tolKey], kind, c.inp, ref, out), `${v} ${c.desc}`).toEqual([]);
          }
        }
      });
    });
  });
}
