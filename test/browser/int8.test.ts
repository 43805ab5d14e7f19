// In real Chromium, whose relaxed integer dot product computes what the spec says: init picks the
// fast int8 mode and runs it with i32x4.relaxed_dot_i8x16_i7x16_add_s (16 weights an instruction),
// and the quantized models' outputs are bit-identical to Node's fast mode, which reaches the same
// integer sums with the SIMD128 i16 dot product (Node 20's relaxed dot fails the probe). The exact
// mode is bit-identical across the two engines as well.
import { describe, expect, it } from 'vitest';
import { commands } from 'vitest/browser';
import * as lib from '../../dist/index.js';
import { forwardSpec, type ForwardSpec } from './spec';

type Run = { variant: string; int8: string; relaxedDot: boolean; output: number[]; hN: number[] };
declare module 'vitest/browser' {
  interface BrowserCommands {
    nodeForward(spec: ForwardSpec): Promise<Run>;
  }
}

const cases: ForwardSpec[] = [];
for (const int8 of ['fast', 'exact'] as const) {
  cases.push({ variant: 'relaxed', int8, cell: 'lstm', T: 9, B: 3, I: 5, H: 17, numLayers: 2, bidirectional: true, lengths: [9, 4, 1], seed: 1 });
  cases.push({ variant: 'relaxed', int8, cell: 'gru', T: 12, B: 1, I: 45, H: 64, numLayers: 1, bidirectional: false, seed: 2 });
  cases.push({ variant: 'relaxed', int8, cell: 'rnn', T: 5, B: 2, I: 3, H: 80, numLayers: 2, bidirectional: true, seed: 3 });
  cases.push({ variant: 'simd', int8, cell: 'lstm', T: 7, B: 2, I: 13, H: 29, numLayers: 1, bidirectional: false, seed: 4 });
}
const bits = (a: number[]) => Array.from(new Uint32Array(Float32Array.from(a).buffer));

describe('int8 in Chromium', () => {
  it('the relaxed binary passes the relaxed-dot probe here, and auto picks the fast mode; the plain binary never does', async () => {
    const relaxed = await lib.init({ variant: 'relaxed', int8: 'auto' });
    expect(relaxed.relaxedDot).toBe(true);
    expect(relaxed.int8).toBe('fast');
    const simd = await lib.init({ variant: 'simd', int8: 'auto' });
    expect(simd.relaxedDot).toBe(false);
    expect(simd.int8).toBe('exact');
  });

  it.each(cases)('$variant $int8 $cell (H $H): bit-identical to Node', async (spec) => {
    const here = await forwardSpec(lib, spec);
    const node = await commands.nodeForward(spec);
    expect(here.int8).toBe(spec.int8);
    expect(node.int8).toBe(spec.int8);
    expect(here.relaxedDot).toBe(spec.variant === 'relaxed');
    expect(node.relaxedDot).toBe(false);
    expect(here.output.length).toBeGreaterThan(0);
    expect(bits(here.output)).toEqual(bits(node.output));
    expect(bits(here.hN)).toEqual(bits(node.hN));
  });

  it('the two modes differ (7-bit against 11-bit activations) by a bounded amount', async () => {
    const spec = cases[0];
    const fast = await forwardSpec(lib, spec);
    const exact = await forwardSpec(lib, { ...spec, int8: 'exact' });
    const diff = Math.max(...fast.output.map((v, i) => Math.abs(v - exact.output[i])));
    expect(diff).toBeGreaterThan(0);
    expect(diff).toBeLessThan(0.05);
  });
});
