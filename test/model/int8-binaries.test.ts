// What an int8 model gives in the two binaries (plain SIMD and relaxed SIMD), as the README states
// it: the int8 matrix products are integer sums scaled the same way in both (bit for bit, the
// kernel-level check is test/kernels/int8.test.ts), but the rest of a step — input rows quantized
// from f32, gate activations and the cell update, where the relaxed binary fuses multiply-adds —
// is not, so whole-model outputs differ by a little. The README gives the bound asserted here
// (5e-5) and the figures this test prints (LSTM 1.4e-5, GRU 4e-8); that they differ at all is
// asserted too.
import { afterAll, describe, expect, it } from 'vitest';
import { init, LSTM, GRU, quantize, tensor } from '../../src/index';

const T = 128;
const I = 64;
const H = 256;
const BOUND = 5e-5; // the README's "below 5e-5"

function input(): Float32Array {
  return Float32Array.from({ length: T * I }, (_, i) => Math.sin(i * 0.37) * 0.8);
}

/** The int8 model's output in one binary. */
async function outputIn(variant: 'simd' | 'relaxed', kind: 'lstm' | 'gru'): Promise<Float32Array> {
  await init({ variant });
  const model = kind === 'lstm' ? new LSTM({ inputSize: I, hiddenSize: H, seed: 1 }) : new GRU({ inputSize: I, hiddenSize: H, seed: 1 });
  try {
    quantize(model, { weights: 'int8' });
    return Float32Array.from(model.forward(tensor(input(), [T, 1, I])).output.data);
  } finally {
    model.dispose();
  }
}

afterAll(async () => {
  await init({ variant: 'auto' });
});

describe('int8 models across the plain and the relaxed binary', () => {
  it.each(['lstm', 'gru'] as const)('%s 64→256, 128 steps: outputs differ, by less than the README bound', async (kind) => {
    const a = await outputIn('simd', kind);
    const b = await outputIn('relaxed', kind);
    let max = 0;
    for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
    console.log(`int8 ${kind} ${I}→${H}, T=${T}: max |simd − relaxed| = ${max.toExponential(2)}`);
    expect(max).toBeGreaterThan(0);
    expect(max).toBeLessThan(BOUND);
  });
});
