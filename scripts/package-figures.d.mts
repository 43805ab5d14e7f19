// Types of scripts/package-figures.mjs for the TypeScript tests.
export interface PackageFigures {
  tarball: { packed: number; unpacked: number; files: number; paths: string[] };
  dependencies: string[];
  packages: number;
  consumerNodeModules: number;
  tree: { name: string; version: string; bytes: number }[];
}
export function packageFigures(): PackageFigures;
export function runtimeTree(deps: string[], from?: string): { name: string; version: string; dir: string; bytes: number }[];
