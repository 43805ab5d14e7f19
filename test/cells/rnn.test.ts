// rnn_forward (wasm, both binaries) against the f64 reference: size sweep, tanh and relu.
import { describe, expect, it } from 'vitest';
import { rnnRef } from '../reference/cells';
import { VARIANTS, runCell, sweepSuite, useRuntimes } from './harness';

const rts = useRuntimes();

describe('rnn_forward', () => {
  sweepSuite(rts, 'rnn', 'rnn-tanh', [{ name: 'tanh', opts: {} }]);
  sweepSuite(rts, 'rnn', 'rnn-relu', [{ name: 'relu', opts: { relu: true } }]);

  // Two steps, H = I = 1, by hand; row 1 has length 1, so in reverse it starts at t = 0 from h0.
  it('matches hand-computed steps (relu and tanh, forward and reverse with a length-1 row)', () => {
    const base = {
      T: 2, B: 2, I: 1, H: 1, x: [1, 3, -1, 5], w_ih: [2], w_hh: [-1], b_ih: [0.1], b_hh: [-0.2],
      h0: [0.5, 0.25], lens: [2, 1],
    };
    // relu, forward, row 0: a0 = 2 + 0.1 − 0.5 − 0.2 = 1.4; a1 = −2 + 0.1 − 1.4 − 0.2 = −3.5 → 0
    // row 1 runs t = 0 only: a0 = 6 + 0.1 − 0.25 − 0.2 = 5.65; output at t = 1 is 0, final = 5.65
    const relu = { y: [1.4, 5.65, 0, 0], hN: [0, 5.65] };
    // tanh, reverse, row 0: t = 1 first from h0: a = −2 + 0.1 − 0.5 − 0.2 = −2.6; then t = 0
    const h1 = Math.tanh(-2.6);
    const h0r0 = Math.tanh(2 + 0.1 - h1 - 0.2);
    const h0r1 = Math.tanh(6 + 0.1 - 0.25 - 0.2); // row 1 starts at its own last step t = 0
    const tanhRev = { y: [h0r0, h0r1, h1, 0], hN: [h0r0, h0r1] };
    const a = rnnRef({ ...base, relu: true });
    const b = rnnRef({ ...base, reverse: true });
    expect(Array.from(a.y)).toEqual(relu.y.map((v) => expect.closeTo(v, 12)));
    expect(Array.from(a.hN)).toEqual(relu.hN.map((v) => expect.closeTo(v, 12)));
    expect(Array.from(b.y)).toEqual(tanhRev.y.map((v) => expect.closeTo(v, 12)));
    expect(Array.from(b.hN)).toEqual(tanhRev.hN.map((v) => expect.closeTo(v, 12)));
    for (const v of VARIANTS) {
      const wa = runCell(rts[v], 'rnn', { ...base, relu: true });
      const wb = runCell(rts[v], 'rnn', { ...base, reverse: true });
      expect(Array.from(wa.y!)).toEqual(relu.y.map((e) => expect.closeTo(e, 5)));
      expect(Array.from(wb.y!)).toEqual(tanhRev.y.map((e) => expect.closeTo(e, 5)));
      expect(Array.from(wb.hN)).toEqual(tanhRev.hN.map((e) => expect.closeTo(e, 5)));
      // saved pre-activations: a_t, 0 at the padded step
      expect(Array.from(wa.gates)).toEqual([1.4, 5.65, -3.5, 0].map((e) => expect.closeTo(e, 5)));
    }
  });
});
