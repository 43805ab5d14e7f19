// lstm_forward (wasm, both binaries) against the f64 reference: size sweep, peepholes, ONNX clip.
import { describe, expect, it } from 'vitest';
import { lstmRef } from '../reference/cells';
import { VARIANTS, runCell, sweepSuite, useRuntimes } from './harness';

const rts = useRuntimes();

describe('lstm_forward', () => {
  sweepSuite(rts, 'lstm', 'lstm', [
    { name: 'plain', opts: {} },
    { name: 'peepholes', opts: { peep: true } },
    { name: 'clip 1', opts: { clip: 1 } },
    { name: 'peepholes + clip 0.5', opts: { peep: true, clip: 0.5 } },
  ]);

  // One step, H = I = 1, written out by hand: pins the reference (and the kernel) to the ONNX
  // formulas — peepholes i,f on c_{t-1}, o on c_t, and clip on each gate pre-activation after the
  // peephole term, never on the cell.
  it('matches a hand-computed step with peepholes and clip (clip after the peephole, cell unclipped)', () => {
    const s = (v: number): number => 1 / (1 + Math.exp(-v));
    const inp = {
      T: 1, B: 1, I: 1, H: 1, x: [1], w_ih: [3, -3, 2, 0.5], w_hh: [0, 0, 0, 0],
      h0: [0], c0: [2], peep: [1, 1, -4], clip: 2,
    };
    // a_i = 3 + 1·2 = 5 → clipped to 2; a_f = −3 + 2 = −1; a_g = 2 (at the bound)
    const c = s(-1) * 2 + s(2) * Math.tanh(2); // ≈ 1.387
    // a_o = 0.5 − 4·c ≈ −5.05 → clipped to −2
    const h = s(-2) * Math.tanh(c);
    const ref = lstmRef(inp);
    expect(ref.cN![0]).toBeCloseTo(c, 12);
    expect(ref.hN[0]).toBeCloseTo(h, 12);
    expect(Array.from(ref.gates)).toEqual([s(2), s(-1), Math.tanh(2), s(-2)].map((v) => expect.closeTo(v, 12)));
    // without clip the result differs: the clip is really applied
    const noClip = lstmRef({ ...inp, clip: 0 });
    expect(Math.abs(noClip.hN[0] - ref.hN[0])).toBeGreaterThan(1e-2);
    // a cell state above the clip bound passes through unclipped
    const big = lstmRef({ ...inp, c0: [10], peep: [0, 0, 0], clip: 0.5 });
    expect(big.cN![0]).toBeCloseTo(s(-0.5) * 10 + s(0.5) * Math.tanh(0.5), 12);
    for (const v of VARIANTS) {
      const out = runCell(rts[v], 'lstm', inp);
      expect(out.cN![0]).toBeCloseTo(c, 5);
      expect(out.hN[0]).toBeCloseTo(h, 5);
      const outBig = runCell(rts[v], 'lstm', { ...inp, c0: [10], peep: [0, 0, 0], clip: 0.5 });
      expect(outBig.cN![0]).toBeCloseTo(big.cN![0], 5);
    }
  });

  it('clip changes the result of a realistic layer (the sweep exercises it)', () => {
    const r = (k: number) => Array.from({ length: k }, (_, i) => Math.sin(1.7 * i + 0.3) * 1.5);
    const base = { T: 4, B: 2, I: 3, H: 5, x: r(24), w_ih: r(60), w_hh: r(100), h0: r(10), c0: r(10) };
    const a = lstmRef(base);
    const b = lstmRef({ ...base, clip: 0.5 });
    let d = 0;
    for (let i = 0; i < a.y.length; i++) d = Math.max(d, Math.abs(a.y[i] - b.y[i]));
    expect(d).toBeGreaterThan(1e-2);
  });
});
