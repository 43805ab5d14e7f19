// Properties of the three cell kernels that do not need the reference: lengths of T equal no
// lengths bit for bit, y = 0 changes nothing else, the h buffer holds y at valid steps, and huge
// finite pre-activations never produce NaN.
import { describe, expect, it } from 'vitest';
import { GATES, VARIANTS, randomLayer, rng, runCell, useRuntimes, type CellKind, type WasmCellInput } from './harness';

const rts = useRuntimes();

const KINDS: { name: string; kind: CellKind; opts: Partial<WasmCellInput> }[] = [
  { name: 'rnn tanh', kind: 'rnn', opts: {} },
  { name: 'rnn relu', kind: 'rnn', opts: { relu: true } },
  { name: 'lstm peep+clip', kind: 'lstm', opts: { clip: 0.7 } },
  { name: 'gru resetAfter', kind: 'gru', opts: { resetAfter: true } },
  { name: 'gru Cho', kind: 'gru', opts: { resetAfter: false } },
];

describe.each(KINDS)('$name', ({ kind, opts }) => {
  const T = 6;
  const B = 3;
  const H = 7;
  const make = (reverse: boolean): WasmCellInput => {
    const inp: WasmCellInput = { ...randomLayer(42, kind, T, B, 5, H), ...opts, reverse };
    if (kind === 'lstm') inp.peep = Array.from({ length: 3 * H }, (_, i) => Math.cos(i));
    return inp;
  };

  it.each([false, true])('lens all = T is bit-identical to no lens; y = 0 changes nothing (reverse=%s)', (reverse) => {
    for (const v of VARIANTS) {
      const a = runCell(rts[v], kind, make(reverse));
      const b = runCell(rts[v], kind, { ...make(reverse), lens: new Int32Array(B).fill(T) });
      const c = runCell(rts[v], kind, { ...make(reverse), noY: true });
      expect(b.y).toEqual(a.y);
      expect(b.h).toEqual(a.h);
      expect(b.gates).toEqual(a.gates);
      expect(c.h).toEqual(a.h);
      expect(c.gates).toEqual(a.gates);
    }
  });

  it.each([false, true])('the h buffer holds y at valid steps and carries the state at padded ones (reverse=%s)', (reverse) => {
    const lens = new Int32Array([T, 1, 3]);
    for (const v of VARIANTS) {
      const o = runCell(rts[v], kind, { ...make(reverse), lens });
      for (let t = 0; t < T; t++) {
        const ht = reverse ? t : t + 1; // the h row step t writes
        const hp = reverse ? t + 1 : t; // the h row it reads
        for (let b = 0; b < B; b++) {
          const row = o.h.subarray((ht * B + b) * H, (ht * B + b + 1) * H);
          if (t < lens[b]) expect(row).toEqual(o.y!.subarray((t * B + b) * H, (t * B + b + 1) * H));
          else expect(row).toEqual(o.h.subarray((hp * B + b) * H, (hp * B + b + 1) * H));
        }
      }
    }
  });

  // Huge finite pre-activations (and a huge LSTM cell) saturate the gates; nothing becomes NaN.
  // Relu is unbounded, so its state can overflow to ±Inf and Inf−Inf in the next product is NaN by
  // arithmetic, not by the kernel: it is excluded.
  if (!(kind === 'rnn' && opts.relu)) it('huge finite inputs never produce NaN', () => {
    const r = rng(9);
    const huge = [3.4e38, -3.4e38, 1e30, -1e30, 1e10, -1e10, 88.8, -88.8, 89, -89, 1e-40, 0];
    const G = GATES[kind];
    for (const clip of kind === 'lstm' ? [0, 0.7] : [0]) {
      for (const reverse of [false, true]) {
        const base = make(reverse);
        const preGates = Array.from({ length: T * B * G * H }, () => huge[Math.floor(r(0, huge.length))]);
        const inp: WasmCellInput = { ...base, preGates, clip, lens: new Int32Array([T, 2, 5]) };
        if (kind === 'lstm') inp.c0 = Array.from({ length: B * H }, (_, i) => huge[i % huge.length]);
        for (const v of VARIANTS) {
          const o = runCell(rts[v], kind, inp);
          for (const arr of [o.y!, o.h, o.gates, o.hN, o.cN ?? [], o.aux ?? []]) {
            expect(Array.from(arr).some(Number.isNaN)).toBe(false);
          }
          if (kind !== 'lstm') for (const x of o.y!) expect(Math.abs(x)).toBeLessThanOrEqual(1); // tanh / convex mix of ±1
        }
      }
    }
  });
});
