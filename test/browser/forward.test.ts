// In real Chromium: the built package runs a forward pass whose results are bit-identical to
// Node's for the same binary (both the relaxed and the plain SIMD build).
import { describe, expect, it } from 'vitest';
import { commands } from 'vitest/browser';
import * as lib from '../../dist/index.js';
import { forwardSpec, type ForwardSpec } from './spec';

declare module 'vitest/browser' {
  interface BrowserCommands {
    nodeForward(spec: ForwardSpec): Promise<{ variant: string; output: number[]; hN: number[] }>;
  }
}

const cases: ForwardSpec[] = [];
for (const variant of ['relaxed', 'simd'] as const) {
  cases.push({ variant, cell: 'lstm', T: 9, B: 3, I: 5, H: 17, numLayers: 2, bidirectional: true, lengths: [9, 4, 1], seed: 1 });
  cases.push({ variant, cell: 'gru', T: 12, B: 2, I: 8, H: 33, numLayers: 1, bidirectional: false, seed: 2 });
  cases.push({ variant, cell: 'rnn', T: 5, B: 1, I: 3, H: 64, numLayers: 2, bidirectional: true, seed: 3 });
  cases.push({ variant, cell: 'mingru', T: 9, B: 3, I: 5, H: 17, numLayers: 2, bidirectional: true, lengths: [9, 4, 1], seed: 4 });
  cases.push({ variant, cell: 'minlstm', T: 6, B: 2, I: 8, H: 33, numLayers: 1, bidirectional: false, seed: 5 });
}

describe('forward pass in Chromium', () => {
  it.each(cases)('$variant $cell is bit-identical to Node', async (spec) => {
    const here = await forwardSpec(lib, spec);
    const node = await commands.nodeForward(spec);
    expect(here.variant).toBe(spec.variant);
    expect(node.variant).toBe(spec.variant);
    expect(here.output.length).toBeGreaterThan(0);
    // compare bit patterns, not just values within a tolerance
    const bits = (a: number[]) => Array.from(new Uint32Array(Float32Array.from(a).buffer));
    expect(bits(here.output)).toEqual(bits(node.output));
    expect(bits(here.hN)).toEqual(bits(node.hN));
  });
});
