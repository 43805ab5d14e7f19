// Types of scripts/bundle-figures.mjs for the TypeScript tests.
export interface Chunk {
  bytes: number;
  imports: string[];
  dynamicImports: string[];
  inputs: string[];
  entry: string | null;
}
export type ChunkGraph = Record<string, Chunk>;
export interface FileSize {
  file: string;
  bytes: number;
  gzip: number;
}
export interface Loads {
  files: FileSize[];
  gzip: number;
}
export const BINARIES: string[];
export const PAGE_SOURCE: string;
export function gzipped(bytes: Uint8Array): number;
export function chunkGraph(metafile: unknown): ChunkGraph;
export function staticClosure(graph: ChunkGraph, files: string[]): string[];
export function binaryChunk(graph: ChunkGraph, name: string): string;
export interface PageFigures {
  dir: string;
  graph: ChunkGraph;
  entry: string;
  base: string[];
  binaries: Record<string, FileSize>;
  relaxed: Loads;
}
export function pageFigures(dir?: string): Promise<PageFigures>;
export interface PlaygroundFigures {
  dir: string;
  graph: ChunkGraph;
  main: string;
  worker: string;
  shared: string[];
  binaries: Record<string, string>;
  relaxed: Loads;
  apart: { main: { bytes: number; gzip: number }; worker: { bytes: number; gzip: number }; gzip: number };
}
export function playgroundFigures(dir?: string): Promise<PlaygroundFigures>;
