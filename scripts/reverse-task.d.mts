// Types of scripts/reverse-task.mjs for the TypeScript tests.
import type { GraphModel } from '../src/graph/model';
export const BOS: number;
export const EOS: number;
export const V: number;
export function prng(seed: number): () => number;
export function makeStrings(rand: () => number, n: number, minLen: number, maxLen: number, exclude?: Set<string>): number[][];
export function buildModel(lib: unknown, o: { attention: boolean; hidden?: number; embed?: number; seed?: number }): GraphModel;
export function batchOf(lib: unknown, strs: number[][]): { inputs: Record<string, unknown>; targets: Record<string, unknown> };
export function train(lib: unknown, model: GraphModel, strs: number[][], o: { steps: number; batchSize?: number; lr?: number; seed?: number; log?: { every: number; fn: (step: number, loss: number) => void } }): number;
export function exactMatch(lib: unknown, model: GraphModel, strs: number[][], batchSize?: number): { accuracy: number; byLength: Map<number, number> };
