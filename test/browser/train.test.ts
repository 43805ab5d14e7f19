// In real Chromium: training (BPTT through a 2-layer recurrent stack with dropout and lengths,
// cross-entropy, clipping, Adam) runs in the browser, reduces the loss, and ends with parameters
// bit-identical to Node's for the same binary and seed.
import { describe, expect, it } from 'vitest';
import { commands } from 'vitest/browser';
import * as lib from '../../dist/index.js';
import { trainSpec, type TrainSpec } from './spec';

declare module 'vitest/browser' {
  interface BrowserCommands {
    nodeTrain(spec: TrainSpec): Promise<{ variant: string; losses: number[]; params: number[] }>;
  }
}

const cases: TrainSpec[] = [];
for (const variant of ['relaxed', 'simd'] as const) {
  cases.push({ variant, cell: 'lstm', T: 7, B: 3, I: 4, H: 9, V: 5, steps: 15, dropout: 0.2, lengths: [7, 3, 5], seed: 1 });
  cases.push({ variant, cell: 'gru', T: 6, B: 2, I: 5, H: 16, V: 4, steps: 15, dropout: 0, seed: 2 });
  cases.push({ variant, cell: 'rnn', T: 5, B: 4, I: 3, H: 8, V: 6, steps: 15, dropout: 0.1, lengths: [5, 5, 1, 2], seed: 3 });
  cases.push({ variant, cell: 'minlstm', T: 7, B: 3, I: 4, H: 12, V: 5, steps: 15, dropout: 0.1, lengths: [7, 2, 5], seed: 4 });
}

describe('training in Chromium', () => {
  it.each(cases)('$variant $cell: loss falls and parameters are bit-identical to Node', async (spec) => {
    const here = await trainSpec(lib, spec);
    const node = await commands.nodeTrain(spec);
    expect(here.variant).toBe(spec.variant);
    expect(node.variant).toBe(spec.variant);
    expect(here.losses[spec.steps - 1]).toBeLessThan(here.losses[0]);
    const bits = (a: number[]) => Array.from(new Uint32Array(Float32Array.from(a).buffer));
    expect(here.losses).toEqual(node.losses);
    expect(bits(here.params)).toEqual(bits(node.params));
  });
});
