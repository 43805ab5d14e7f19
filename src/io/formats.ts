// The model-file formats, one record each: its name, how a file of it is recognised, how a model is
// read from it and written to it, and which kinds of model (layers and Sequential, or graphs) it
// writes. convert(), importModel(), detectFormat() and `rnn-wasm convert` know formats only
// through this table, so a new format is one record here (or a registerFormat call beside its
// reader) — nothing else switches on a format's name.
import { checkJsonValues, deserialize, deserializeGraph, isGraphFile, serialize, FormatError } from './format';
import { fromOnnx, toOnnx, type OnnxExportOptions } from './onnx';
import { importTorch, matchStateDict, stateDictOf, withStateDict, type TorchArchitecture } from './torch';
import { importKeras, type KerasSource } from './keras';
import { modelToSafetensors, parseSafetensors } from './safetensors';
import { modelFromSpec, modulesFromSpec, type Model, type ModelSpec } from '../model/model';
import type { GraphModel } from '../graph/model';
import { withoutInitialisers } from '../params/initialisers';
import { ValueError, show } from '../errors';
import { plannedParameters } from './architecture';
import { readRegularFile } from './files';

/** 'model': a layer or a Sequential (Model); 'graph': a GraphModel. */
export type ModelKind = 'model' | 'graph';

/** What a format's reader and writer may be given (convert's options, read by the formats they concern). */
export interface FormatOptions {
  /** Needed to read a PyTorch safetensors state_dict: the modules it belongs to. */
  architecture?: TorchArchitecture;
  /** Options of the ONNX export (opset, sequence_lens input). */
  onnx?: OnnxExportOptions;
  /** Extra metadata stored in an rnnw output. */
  metadata?: Record<string, unknown>;
}

/** A model read from a file, the metadata worth keeping about where it came from, and what frees it. */
export interface ReadModel {
  /** The model built from the file. */
  model: Model | GraphModel;
  /** Which kind of model it is. */
  kind: ModelKind;
  /** What the file said about its source (names, shapes, versions) worth keeping in a converted file. */
  metadata: Record<string, unknown>;
  /** Releases the model and anything read with it (a graph file's optimizer). */
  dispose(): void;
}

/**
 * One file format of {@link convert}, {@link importModel} and `rnn-wasm convert/info`: how to recognise,
 * read and write it. The built-in ones are in this file's table; {@link registerFormat} adds one.
 */
export interface FileFormat {
  /** The name convert's `from` / `to` and `rnn-wasm convert --to` take. */
  name: string;
  /** Recognises a file of this format from its bytes (detectFormat tries formats in table order). */
  detect?(bytes: Uint8Array): boolean;
  /** The format detectFormat names when no other recognises a file (one format: ONNX, whose reader then says what is wrong). */
  fallback?: boolean;
  /** 'object': read() takes an object, not bytes (tfjs: { modelJson, weights }); detectFormat names it for a non-bytes input. */
  input?: 'bytes' | 'object';
  /** Node: the reader's input from a file path, when it is not the file's bytes (tfjs: model.json and its shards). */
  open?(path: string): Promise<KerasSource>;
  /** Reads a model of one of `accepts` (the kinds the caller can use). */
  read?(input: Uint8Array | KerasSource, o: FormatOptions, accepts: readonly ModelKind[]): ReadModel;
  /** Writes a model of one of `writes`; `metadata`: what reading its source kept. */
  write?(model: Model | GraphModel, o: FormatOptions, metadata: Record<string, unknown>): Uint8Array;
  /** The kinds of model write() takes (default: 'model'). */
  writes?: readonly ModelKind[];
}

const plain = (model: Model, metadata: Record<string, unknown>): ReadModel => ({ model, kind: 'model', metadata, dispose: () => model.dispose() });

/** A safetensors file written by convert(…, { to: 'safetensors' }): its architecture is in the rnn-wasm.model metadata. */
function readOwnSafetensors(bytes: Uint8Array): Model {
  const spec = parseSafetensors(bytes).metadata?.['rnn-wasm.model'];
  if (!spec) throw new ValueError('Expected options.architecture (the PyTorch modules) to import a safetensors state_dict, got none (and no rnn-wasm.model metadata)');
  let parsed: ModelSpec;
  try {
    parsed = JSON.parse(spec);
  } catch {
    throw new FormatError('Expected rnn-wasm.model metadata to be JSON, got unparsable text');
  }
  checkJsonValues(parsed, 'rnn-wasm.model metadata');
  // the architecture from the file is size-checked and matched with the tensors before anything is built
  let values: Record<string, Float32Array>;
  try {
    const { modules, sequential } = modulesFromSpec(parsed);
    const own = sequential ? modules.map((_, i) => `${i}.`) : [''];
    values = matchStateDict(stateDictOf(bytes), plannedParameters(modules, sequential), own, own);
  } catch (e) {
    if (e instanceof FormatError) throw e;
    throw new FormatError(`Expected a buildable architecture in rnn-wasm.model metadata, got: ${(e as Error).message}`);
  }
  let model: Model;
  try {
    model = withoutInitialisers(() => modelFromSpec(parsed));
  } catch (e) {
    throw new FormatError(`Expected a buildable architecture in rnn-wasm.model metadata, got: ${(e as Error).message}`);
  }
  return withStateDict(model, values);
}

// the table (registerFormat appends); a plain array literal, so a bundle that never converts drops it
const formats: FileFormat[] = [
  {
    name: 'rnnw',
    detect: (b) => b.length >= 8 && new TextDecoder().decode(b.subarray(0, 7)) === 'RNNWASM',
    read(input, _o, accepts) {
      const bytes = input as Uint8Array;
      // a graph file is read as a graph where the caller takes one; elsewhere deserialize says what it is
      if (accepts.includes('graph') && isGraphFile(bytes)) {
        const g = deserializeGraph(bytes);
        return { model: g.model, kind: 'graph', metadata: g.metadata ?? {}, dispose: () => (g.model.dispose(), g.optimizer?.dispose()) };
      }
      const { model, metadata } = deserialize(bytes);
      return plain(model, metadata ?? {});
    },
    write: (model, o, metadata) => serialize(model as Model, { metadata: { ...metadata, ...o.metadata } }),
  },
  {
    name: 'onnx',
    // an ONNX ModelProto has no magic: whatever no other format claims goes to the ONNX reader
    fallback: true,
    writes: ['model', 'graph'],
    read(input) {
      const imp = fromOnnx(input as Uint8Array);
      return plain(imp.model, { source: 'onnx', lengthsInput: imp.lengthsInput ?? null, flatOutput: imp.flatOutput });
    },
    write: (model, o) => toOnnx(model, o.onnx),
  },
  {
    name: 'safetensors',
    detect(b) {
      if (b.length < 9) return false;
      const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
      const n = v.getUint32(0, true) + v.getUint32(4, true) * 2 ** 32;
      return n > 1 && 8 + n <= b.length && b[8] === 0x7b; /* { */
    },
    read: (input, o) => (o.architecture ? plain(importTorch(input as Uint8Array, o.architecture), { source: 'pytorch' }) : plain(readOwnSafetensors(input as Uint8Array), { source: 'safetensors' })),
    write: (model) => modelToSafetensors(model as Model, { format: 'pt', 'rnn-wasm.model': JSON.stringify((model as Model).spec()) }),
  },
  {
    name: 'tfjs',
    // a model.json (JSON text); its weight shards are separate files, so the reader takes { modelJson, weights }
    detect(b) {
      let i = 0;
      while (i < b.length && (b[i] === 0x20 || b[i] === 0x0a || b[i] === 0x0d || b[i] === 0x09)) i++;
      return b[i] === 0x7b;
    },
    input: 'object',
    open: readTfjsFiles,
    read(input) {
      if (input instanceof Uint8Array) throw new ValueError('Expected tfjs input as { modelJson, weights } or save-handler artifacts, got bytes (the weight shards are separate files)');
      const imp = importKeras(input);
      if (!imp.returnSequences) {
        imp.dispose();
        throw new ValueError('Expected a Keras model whose recurrent layers all return sequences, got return_sequences=False (one model file cannot hold the many-to-one head; use importKeras(...).predict)');
      }
      return plain(imp.model, { source: 'keras', mask: imp.mask });
    },
  },
];

/** Every registered format, in detection order. */
export function fileFormats(): readonly FileFormat[] {
  return formats;
}

/** The format called `name`, or undefined. */
export function formatNamed(name: unknown): FileFormat | undefined {
  return formats.find((f) => f.name === name);
}

/** "a, b or c" */
export const orList = (names: readonly string[]): string => (names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`);

/** The names of the formats a model can be written to (convert's `to`). */
export function writableFormats(): string[] {
  return formats.filter((f) => f.write).map((f) => f.name);
}

/**
 * Adds a format to the table (detected after the ones before it, before the fallback). Returns the
 * function that removes it again. A name already taken is a ValueError.
 */
export function registerFormat(f: FileFormat): () => void {
  if (!f || typeof f !== 'object' || typeof f.name !== 'string' || !/^[a-z][a-z0-9-]*$/.test(f.name)) throw new ValueError(`Expected a format { name (lower-case letters, digits, '-'), read?, write?, writes?, detect? }, got name ${JSON.stringify((f as { name?: unknown } | null)?.name)}`);
  if (formatNamed(f.name) || f.name === 'auto') throw new ValueError(`Expected a new format name, got '${f.name}' (taken)`);
  if (f.writes !== undefined && (!Array.isArray(f.writes) || f.writes.length === 0 || f.writes.some((k) => k !== 'model' && k !== 'graph'))) throw new ValueError(`Expected writes of format '${f.name}' among 'model', 'graph', got ${JSON.stringify(f.writes)}`);
  if (!f.read && !f.write) throw new ValueError(`Expected format '${f.name}' to read or write models, got neither`);
  if (f.fallback) throw new ValueError(`Expected format '${f.name}' to be recognised by detect (the fallback is ONNX), got fallback`);
  formats.push(f);
  return () => {
    const i = formats.indexOf(f);
    if (i >= 0) formats.splice(i, 1);
  };
}

/**
 * Node: reads a tfjs model.json and the shards its manifest lists (paths relative to it). Every
 * file must be a regular file within limits.maxFileBytes, and a manifest path must stay inside
 * model.json's directory (no `..` segments, no absolute paths): FormatError otherwise.
 */
export async function readTfjsFiles(modelJsonPath: string): Promise<KerasSource> {
  if (typeof modelJsonPath !== 'string' || !modelJsonPath) throw new ValueError(`Expected the path of a model.json, got ${show(modelJsonPath)}`);
  const PATH = 'node:path';
  const path = (await import(/* @vite-ignore */ PATH)) as typeof import('node:path');
  const text = await readRegularFile(modelJsonPath, 'model.json');
  let modelJson: { weightsManifest?: unknown };
  try {
    modelJson = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(text));
  } catch (e) {
    throw new FormatError(`Expected model.json at ${modelJsonPath} to be JSON, got ${(e as Error).message}`);
  }
  checkJsonValues(modelJson, `model.json at ${modelJsonPath}`);
  const manifest = modelJson?.weightsManifest ?? [];
  if (!Array.isArray(manifest) || !manifest.every((g) => g && typeof g === 'object' && Array.isArray(g.paths) && g.paths.every((p: unknown) => typeof p === 'string'))) {
    throw new FormatError('Expected weightsManifest to be a list of { paths: string[], weights }, got another value');
  }
  const dir = path.dirname(modelJsonPath);
  const weights: Record<string, Uint8Array> = Object.create(null);
  for (const p of manifest.flatMap((g: { paths: string[] }) => g.paths)) {
    const parts = p.split(/[\\/]/);
    if (!p || path.isAbsolute(p) || path.win32.isAbsolute(p) || parts.includes('..')) {
      throw new FormatError(`Expected weight shard paths inside the directory of model.json, got ${JSON.stringify(p)}`);
    }
    weights[p] = await readRegularFile(path.join(dir, p), `weight shard ${p}`);
  }
  return { modelJson, weights };
}
