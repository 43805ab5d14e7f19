// In real Chromium: an encoder–decoder graph with attention trains (loss falls) and decodes step by
// step with parameters, losses and logits bit-identical to Node's for the same binary and seed.
import { describe, expect, it } from 'vitest';
import { commands } from 'vitest/browser';
import * as lib from '../../dist/index.js';
import { graphTrainSpec, type GraphSpecRun } from './spec';

declare module 'vitest/browser' {
  interface BrowserCommands {
    nodeGraphTrain(spec: GraphSpecRun): Promise<{ variant: string; losses: number[]; params: number[]; logits: number[] }>;
  }
}

describe('model graph in Chromium', () => {
  it.each([{ variant: 'relaxed', steps: 12, seed: 4 }, { variant: 'simd', steps: 12, seed: 5 }] as GraphSpecRun[])('$variant: training and step-wise decoding are bit-identical to Node', async (spec) => {
    const here = await graphTrainSpec(lib, spec);
    const node = await commands.nodeGraphTrain(spec);
    expect(here.variant).toBe(spec.variant);
    expect(node.variant).toBe(spec.variant);
    expect(here.losses[spec.steps - 1]).toBeLessThan(here.losses[0]);
    const bits = (a: number[]) => Array.from(new Uint32Array(Float32Array.from(a).buffer));
    expect(here.losses).toEqual(node.losses);
    expect(bits(here.params)).toEqual(bits(node.params));
    expect(bits(here.logits)).toEqual(bits(node.logits));
  });
});
