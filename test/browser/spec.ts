// A forward pass described by plain data, run the same way in Node and in Chromium.
export interface ForwardSpec {
  variant: 'simd' | 'relaxed';
  cell: 'rnn' | 'lstm' | 'gru';
  T: number;
  B: number;
  I: number;
  H: number;
  numLayers: number;
  bidirectional: boolean;
  lengths?: number[];
  seed: number;
}

type Lib = typeof import('../../dist/index.js');

/** Runs the spec with a library instance; returns output and hN as plain arrays. */
export async function forwardSpec(lib: Lib, s: ForwardSpec): Promise<{ variant: string; output: number[]; hN: number[] }> {
  const { variant } = await lib.init({ variant: s.variant });
  const Ctor = s.cell === 'rnn' ? lib.RNN : s.cell === 'lstm' ? lib.LSTM : lib.GRU;
  const m = new Ctor({ inputSize: s.I, hiddenSize: s.H, numLayers: s.numLayers, bidirectional: s.bidirectional, seed: s.seed });
  const x = new Float32Array(s.T * s.B * s.I);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.37 + s.seed);
  const r = m.forward(lib.tensor(x, [s.T, s.B, s.I]), { lengths: s.lengths });
  m.dispose();
  return { variant, output: Array.from(r.output.data), hN: Array.from(r.hN.data) };
}
