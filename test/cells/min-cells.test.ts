// minGRU / minLSTM scan kernels (assembly/cells/mingru.ts, minlstm.ts), both binaries, against the f64
// references in test/reference/min-cells.ts: the two reference forms agree; the reference backward
// agrees with central finite differences; the wasm forward and backward agree with the reference over
// the size sweep (forward/reverse × lengths on/off × linear/log-space, strided y, dh0 included).
import { describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/wasm/load';
import { MIN_GATES, minBackRef, minLogRef, minRef, type MinGrads, type MinInput, type MinKind } from '../reference/min-cells';
import { BS, HS, IS, SENTINEL, TS, VARIANTS, randArray, randomLens, rng, useRuntimes } from './harness';

const rts = useRuntimes();
const KINDS: MinKind[] = ['mingru', 'minlstm'];
/** |wasm − f64| <= abs + rel·|f64| (f32 kernels with polynomial σ; Mathf logs in the log-space form). */
const TOL = { fwd: { abs: 2e-5, rel: 2e-5 }, bwd: { abs: 5e-5, rel: 5e-5 } };

interface Case extends MinInput {
  ldy: number;
  yOff: number;
  dy: Float64Array;
  dhN: Float64Array;
  desc: string;
}

function randomCase(kind: MinKind, seed: number, T: number, B: number, I: number, H: number, o: { reverse: boolean; lens: boolean; logSpace: boolean; strided: boolean }): Case {
  const r = rng(seed);
  const GH = MIN_GATES[kind] * H;
  const h0 = randArray(r, B * H);
  // the log-space form needs h0 >= 0 (its states are positive)
  if (o.logSpace) for (let i = 0; i < h0.length; i++) h0[i] = Math.abs(h0[i]);
  const c: Case = {
    T, B, I, H,
    x: randArray(r, T * B * I),
    w_ih: randArray(r, GH * I, 1.5 / Math.sqrt(I)),
    b_ih: randArray(r, GH, 0.5),
    h0,
    reverse: o.reverse,
    logSpace: o.logSpace,
    ldy: o.strided ? 2 * H : H,
    yOff: o.strided && o.reverse ? H : 0,
    dy: randArray(r, T * B * H),
    dhN: randArray(r, B * H),
    desc: '',
  };
  if (o.lens) c.lens = randomLens(seed, B, T);
  c.desc = `${kind} T=${T} B=${B} I=${I} H=${H} ${o.reverse ? 'rev' : 'fwd'} ${o.logSpace ? 'log' : 'lin'}${c.lens ? ` lens=[${Array.from(c.lens)}]` : ''}${o.strided ? ' ldy=2H' : ''}`;
  return c;
}

interface WasmOut {
  y: Float32Array;
  yRaw: Float32Array;
  hN: Float32Array;
  gatesAfter: Float32Array;
  pre: Float32Array;
  dpre: Float32Array;
  dh0: Float32Array;
}

/** gemm_nt for k, the forward scan, then the backward scan with the case's dy and dhN. */
function runWasm(rt: Runtime, kind: MinKind, c: Case): WasmOut {
  const { T, B, I, H, ldy, yOff } = c;
  const G = MIN_GATES[kind];
  const GH = G * H;
  const BH = B * H;
  const { heap, k } = rt;
  const offs: number[] = [];
  const alloc = (n: number, fill = 0): number => {
    const o = heap.alloc(n);
    offs.push(o);
    heap.f32.fill(fill, o, o + n);
    return o;
  };
  const put = (src: ArrayLike<number>): number => {
    const o = alloc(src.length);
    heap.f32.set(src, o);
    return o;
  };
  try {
    const x = put(c.x);
    const w = put(c.w_ih);
    const bias = put(c.b_ih!);
    const gates = alloc(T * B * GH);
    k.gemm_nt(gates, x, w, bias, T * B, GH, I, 0);
    const pre = heap.read(gates, T * B * GH);
    let lens = 0;
    if (c.lens) {
      lens = alloc(B);
      heap.i32.set(Array.from(c.lens), lens);
    }
    const h = alloc((T + 1) * BH, -777);
    const s0 = c.reverse ? T * BH : 0;
    heap.f32.set(c.h0!, h + s0);
    const y = alloc(T * B * ldy, SENTINEL);
    const rev = c.reverse ? 1 : 0;
    const ls = c.logSpace ? 1 : 0;
    const fwd = kind === 'mingru' ? k.mingru_forward : k.minlstm_forward;
    fwd(h, y + yOff, gates, lens, T, B, H, ldy, rev, ls);
    const yRaw = heap.read(y, T * B * ldy);
    const hN = heap.read(h + (c.reverse ? 0 : T * BH), BH);
    const gatesAfter = heap.read(gates, T * B * GH);
    // backward: dy in the same strided layout, poisoned outside this direction's half
    const dyRaw = new Float32Array(T * B * ldy).fill(NaN);
    for (let r = 0; r < T * B; r++) for (let j = 0; j < H; j++) dyRaw[r * ldy + yOff + j] = c.dy[r * H + j];
    const dy = put(dyRaw);
    const dhN = put(c.dhN);
    const dgates = alloc(T * B * GH, NaN);
    const dh0 = alloc(BH, NaN);
    const scratch = alloc(BH, NaN);
    const bwd = kind === 'mingru' ? k.mingru_backward : k.minlstm_backward;
    bwd(dgates, dh0, dy + yOff, dhN, gates, h, lens, scratch, T, B, H, ldy, rev, ls);
    const y1 = new Float32Array(T * BH);
    for (let r = 0; r < T * B; r++) y1.set(yRaw.subarray(r * ldy + yOff, r * ldy + yOff + H), r * H);
    return { y: y1, yRaw, hN, gatesAfter, pre, dpre: heap.read(dgates, T * B * GH), dh0: heap.read(dh0, BH) };
  } finally {
    for (const o of offs) heap.release(o);
  }
}

function problems(what: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: { abs: number; rel: number }): string[] {
  const bad: string[] = [];
  for (let i = 0; i < want.length && bad.length < 3; i++) {
    const e = Math.abs(got[i] - want[i]);
    if (!(e <= tol.abs + tol.rel * Math.abs(want[i]))) bad.push(`${what}[${i}]: got ${got[i]}, expected ${want[i]}`);
  }
  if (got.length !== want.length) bad.push(`${what}: length ${got.length}, expected ${want.length}`);
  return bad;
}

function sweep(kind: MinKind, H: number, logSpace: boolean): Case[] {
  const hi = HS.indexOf(H);
  const out: Case[] = [];
  for (let combo = 0; combo < 4; combo++) {
    const salt = (logSpace ? 1 : 0) + (kind === 'minlstm' ? 2 : 0);
    const T = TS[(hi + combo + salt) % TS.length];
    const B = BS[(2 * hi + combo + salt) % BS.length];
    const I = IS[(hi + 3 * combo + salt) % IS.length];
    out.push(randomCase(kind, 1000 * H + 100 * salt + combo + 1, T, B, I, H, { reverse: (combo & 1) === 1, lens: (combo & 2) === 2, logSpace, strided: (hi + combo) % 2 === 0 }));
  }
  return out;
}

describe.each(KINDS)('%s', (kind) => {
  it('the sequential and the parallel log-space reference forms agree (1e-12)', () => {
    for (const [seed, T, B, H] of [[1, 1, 1, 1], [2, 7, 3, 5], [3, 32, 2, 4], [4, 64, 3, 3]]) {
      for (const reverse of [false, true]) {
        const c = randomCase(kind, seed, T, B, 3, H, { reverse, lens: B > 1, logSpace: true, strided: false });
        const a = minRef(kind, c);
        const b = minLogRef(kind, c);
        expect(problems('y', b.y, a.y, { abs: 1e-12, rel: 1e-12 })).toEqual([]);
        expect(problems('hN', b.hN, a.hN, { abs: 1e-12, rel: 1e-12 })).toEqual([]);
      }
    }
    // h0 = 0 (log 0 = −∞) is fine; the forms differ from the linear candidate's (they are another cell)
    const c = randomCase(kind, 9, 5, 2, 3, 4, { reverse: false, lens: false, logSpace: true, strided: false });
    c.h0 = new Float64Array(8);
    expect(problems('hN', minLogRef(kind, c).hN, minRef(kind, c).hN, { abs: 1e-12, rel: 1e-12 })).toEqual([]);
    expect(Math.max(...minRef(kind, { ...c, logSpace: false }).hN.map((v, i) => Math.abs(v - minRef(kind, c).hN[i])))).toBeGreaterThan(1e-3);
  });

  it('matches a hand-computed step, both forms', () => {
    const s = (v: number): number => 1 / (1 + Math.exp(-v));
    const G = MIN_GATES[kind];
    // I = H = 1, x = 1: k = the weights; candidate k_h = -0.5 (g(−0.5) = σ(−0.5))
    const w = kind === 'mingru' ? [0.3, -0.5] : [0.3, -0.7, -0.5];
    const base: MinInput = { T: 1, B: 1, I: 1, H: 1, x: [1], w_ih: w, h0: [0.8] };
    let want: number;
    let wantLog: number;
    if (kind === 'mingru') {
      const z = s(0.3);
      want = (1 - z) * 0.8 + z * -0.5;
      wantLog = (1 - z) * 0.8 + z * s(-0.5);
    } else {
      const f = s(0.3);
      const i = s(-0.7);
      want = (f * 0.8 + i * -0.5) / (f + i);
      wantLog = (f * 0.8 + i * s(-0.5)) / (f + i);
    }
    expect(minRef(kind, base).hN[0]).toBeCloseTo(want, 12);
    expect(minRef(kind, { ...base, logSpace: true }).hN[0]).toBeCloseTo(wantLog, 12);
    expect(G).toBe(w.length);
    for (const v of VARIANTS) {
      for (const logSpace of [false, true]) {
        const c = randomCase(kind, 1, 1, 1, 1, 1, { reverse: false, lens: false, logSpace, strided: false });
        Object.assign(c, base, { logSpace, b_ih: new Float64Array(G) });
        expect(runWasm(rts[v], kind, c).hN[0]).toBeCloseTo(logSpace ? wantLog : want, 6);
      }
    }
  });

  it('the reference backward equals central finite differences (x, W_ih, b_ih, h0), both forms, lengths, reverse', () => {
    for (const logSpace of [false, true]) {
      for (const reverse of [false, true]) {
        const c = randomCase(kind, reverse ? 11 : 12, 4, 3, 2, 3, { reverse, lens: true, logSpace, strided: false });
        const g = minBackRef(kind, c, c.dy, c.dhN);
        const loss = (): number => {
          const o = minRef(kind, c);
          let sum = 0;
          for (let i = 0; i < o.y.length; i++) sum += c.dy[i] * o.y[i];
          for (let i = 0; i < o.hN.length; i++) sum += c.dhN[i] * o.hN[i];
          return sum;
        };
        for (const key of ['x', 'w_ih', 'b_ih', 'h0'] as (keyof MinGrads & keyof MinInput)[]) {
          const v = c[key] as Float64Array;
          const num = new Float64Array(v.length);
          for (let i = 0; i < v.length; i++) {
            const keep = v[i];
            // a central difference across g's kink at 0 would be wrong; none of these inputs sits there
            v[i] = keep + 1e-6;
            const lp = loss();
            v[i] = keep - 1e-6;
            const lm = loss();
            v[i] = keep;
            num[i] = (lp - lm) / 2e-6;
          }
          expect(problems(`${key} ${logSpace ? 'log' : 'lin'} ${reverse ? 'rev' : 'fwd'}`, g[key], num, { abs: 1e-7, rel: 1e-6 })).toEqual([]);
        }
      }
    }
  });

  describe.each([false, true])('logSpace=%s: wasm vs the f64 reference', (logSpace) => {
    it.each(HS)('H=%i forward (y, hN, padded y = 0, other half untouched) and backward (dk, dh0), simd and relaxed', (H) => {
      for (const c of sweep(kind, H, logSpace)) {
        const ref = minRef(kind, c);
        const gref = minBackRef(kind, c, c.dy, c.dhN);
        const len = (b: number): number => (c.lens ? c.lens[b] : c.T);
        for (const v of VARIANTS) {
          const out = runWasm(rts[v], kind, c);
          const where = `${v} ${c.desc}`;
          expect(problems('y', out.y, ref.y, TOL.fwd), where).toEqual([]);
          expect(problems('hN', out.hN, ref.hN, TOL.fwd), where).toEqual([]);
          expect(problems('dk', out.dpre, gref.dpre, TOL.bwd), where).toEqual([]);
          expect(problems('dh0', out.dh0, gref.h0, TOL.bwd), where).toEqual([]);
          // the forward leaves the pre-activations as they were (backward reads them)
          expect(Array.from(out.gatesAfter), where).toEqual(Array.from(out.pre));
          const G = MIN_GATES[kind];
          for (let t = 0; t < c.T; t++) {
            for (let b = 0; b < c.B; b++) {
              if (t < len(b)) continue;
              const r = t * c.B + b;
              expect(Array.from(out.y.subarray(r * H, (r + 1) * H)), `${where} y padded t=${t} b=${b}`).toEqual(new Array(H).fill(0));
              expect(Array.from(out.dpre.subarray(r * G * H, (r + 1) * G * H)), `${where} dk padded`).toEqual(new Array(G * H).fill(0));
            }
          }
          let touched = 0;
          for (let r = 0; r < c.T * c.B; r++) {
            for (let q = 0; q < c.ldy; q++) if ((q < c.yOff || q >= c.yOff + H) && out.yRaw[r * c.ldy + q] !== SENTINEL) touched++;
          }
          expect(touched, `${where}: y columns outside this direction's half written`).toBe(0);
        }
      }
    });
  });

  it('the comparison can fail: the other form, or a backward without dy, is caught', () => {
    const c = randomCase(kind, 21, 6, 3, 4, 8, { reverse: true, lens: true, logSpace: true, strided: false });
    const out = runWasm(rts.relaxed, kind, c);
    expect(problems('y', out.y, minRef(kind, { ...c, logSpace: false }).y, TOL.fwd).length).toBeGreaterThan(0);
    const noDy = minBackRef(kind, c, new Float64Array(c.dy.length), c.dhN);
    expect(problems('dk', out.dpre, noDy.dpre, TOL.bwd).length).toBeGreaterThan(0);
  });

  it('log-space form stays finite where the linear minLSTM would divide 0 by 0 (k_f, k_i ≪ −88)', () => {
    if (kind !== 'minlstm') return;
    const c = randomCase(kind, 5, 2, 1, 1, 2, { reverse: false, lens: false, logSpace: true, strided: false });
    c.x = [1, 1];
    c.w_ih = [-200, -200, -201, -199, 0.5, -0.25];
    c.b_ih = new Float64Array(6);
    const ref = minLogRef(kind, c);
    for (const v of VARIANTS) {
      const out = runWasm(rts[v], kind, c);
      expect(problems('y', out.y, ref.y, TOL.fwd)).toEqual([]);
      for (const d of out.dpre) expect(Number.isFinite(d)).toBe(true);
    }
  });
});
