// gru_forward (wasm, both binaries) against the f64 reference: size sweep, both reset forms.
import { describe, expect, it } from 'vitest';
import { gruRef } from '../reference/cells';
import { VARIANTS, randomLayer, runCell, sweepSuite, useRuntimes } from './harness';

const rts = useRuntimes();

describe('gru_forward', () => {
  sweepSuite(rts, 'gru', 'gru', [
    { name: 'resetAfter=1 (PyTorch)', opts: { resetAfter: true } },
    { name: 'resetAfter=0 (Cho)', opts: { resetAfter: false } },
  ]);

  // One step, H = I = 1, by hand, in both forms.
  it('matches a hand-computed step in both forms', () => {
    const s = (v: number): number => 1 / (1 + Math.exp(-v));
    const base = { T: 1, B: 1, I: 1, H: 1, x: [1], w_ih: [1, -1, 2], w_hh: [0.5, 0.5, -1], b_hh: [0, 0, 0.5], h0: [0.8] };
    const r = s(1 + 0.4);
    const z = s(-1 + 0.4);
    const nAfter = Math.tanh(2 + r * (-0.8 + 0.5)); // r ⊙ (W_hn h + b_hn)
    const nCho = Math.tanh(2 + 0.5 - 1 * (r * 0.8)); //  W_hn (r ⊙ h) + b_hn
    const hAfter = (1 - z) * nAfter + z * 0.8;
    const hCho = (1 - z) * nCho + z * 0.8;
    expect(gruRef({ ...base, resetAfter: true }).hN[0]).toBeCloseTo(hAfter, 12);
    expect(gruRef({ ...base, resetAfter: false }).hN[0]).toBeCloseTo(hCho, 12);
    for (const v of VARIANTS) {
      const a = runCell(rts[v], 'gru', { ...base, resetAfter: true });
      const c = runCell(rts[v], 'gru', { ...base, resetAfter: false });
      expect(a.hN[0]).toBeCloseTo(hAfter, 5);
      expect(c.hN[0]).toBeCloseTo(hCho, 5);
      expect(Array.from(a.gates)).toEqual([r, z, nAfter].map((e) => expect.closeTo(e, 5)));
      // aux: what gru_backward needs — h·W_hnᵀ + b_hn (reset-after) or r⊙h (Cho)
      expect(a.aux![0]).toBeCloseTo(-0.8 + 0.5, 5);
      expect(c.aux![0]).toBeCloseTo(r * 0.8, 5);
    }
  });

  it('the two forms really differ on a random layer', () => {
    const inp = randomLayer(7, 'gru', 5, 3, 4, 6);
    const a = gruRef({ ...inp, resetAfter: true });
    const b = gruRef({ ...inp, resetAfter: false });
    let d = 0;
    for (let i = 0; i < a.y.length; i++) d = Math.max(d, Math.abs(a.y[i] - b.y[i]));
    expect(d).toBeGreaterThan(1e-3);
  });
});
