// Types of scripts/build.mjs for the TypeScript tests.
export interface Step {
  name: string;
  inputs: string[];
  tools?: string[];
  outputs: () => string[];
  run: () => void | Promise<void>;
}
export const root: string;
export function listFiles(base: string, path: string): string[];
export function hashFiles(base: string, files: string[], extra?: string[]): string;
export function toolVersion(base: string, name: string): string;
export function inputHash(step: Step, base?: string): string;
export function runStep(step: Step, opts?: { base?: string; stampDir?: string; force?: boolean; log?: (s: string) => void }): Promise<'built' | 'skipped'>;
export function steps(opts?: { dts?: boolean }): Step[];
