// Browser-test commands that run in Node (the vitest process): the same built package, the same
// model spec, so a browser test can compare Chromium's results with Node's for the same binary.
import v8 from 'node:v8';
import type { BrowserCommand } from 'vitest/node';
import { forwardSpec, graphTrainSpec, trainSpec, type ForwardSpec, type GraphSpecRun, type TrainSpec } from './spec';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

export const nodeForward: BrowserCommand<[ForwardSpec]> = async (_ctx, spec) => {
  const lib = await import('../../dist/index.js');
  return forwardSpec(lib, spec);
};

export const nodeTrain: BrowserCommand<[TrainSpec]> = async (_ctx, spec) => {
  const lib = await import('../../dist/index.js');
  return trainSpec(lib, spec);
};

export const nodeGraphTrain: BrowserCommand<[GraphSpecRun]> = async (_ctx, spec) => {
  const lib = await import('../../dist/index.js');
  return graphTrainSpec(lib, spec);
};
