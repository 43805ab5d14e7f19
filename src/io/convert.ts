// Converters between model formats, for the API and the `rnn-wasm convert` command:
//   from  rnnw (our file) · onnx · safetensors (+ a PyTorch architecture) · tfjs (artifacts or model.json + shards)
//   to    rnnw · onnx · safetensors (PyTorch names; the architecture goes into __metadata__)
// Every conversion goes through a model built here, so whatever one side cannot represent is an
// error that names it (e.g. a Keras many-to-one head has no place in a single Sequential).
import { ONNX_EXPORT_KEYS } from './onnx';
import { checkJsonValues, deserialize, deserializeGraph, isGraphFile, serialize, FormatError } from './format';
import { fromOnnx, toOnnx, type OnnxExportOptions } from './onnx';
import { importTorch, matchStateDict, stateDictOf, type TorchArchitecture } from './torch';
import { importKeras, type KerasSource } from './keras';
import { modelToSafetensors, parseSafetensors } from './safetensors';
import { modelFromSpec, modulesFromSpec, type Model, type ModelSpec } from '../model/model';
import { withoutInitialisers } from '../model/runner';
import { ValueError, show } from '../errors';
import { checkOptions, keysOf } from '../options';
import { readRegularFile } from './files';
import { plannedParameters } from './architecture';

const CONVERT_KEYS = keysOf<ConvertOptions>()('from', 'to', 'architecture', 'onnx', 'metadata');

/**
 * The file formats `convert` reads and writes: the library's own `rnnw`, ONNX, safetensors (PyTorch state
 * dicts) and TF.js layers models (read only).
 */
export type ModelFormat = 'rnnw' | 'onnx' | 'safetensors' | 'tfjs';

/**
 * Options of {@link convert}: the formats in and out, and what each needs (a PyTorch architecture, ONNX opset
 * and lengths inputs).
 */
export interface ConvertOptions {
  /** The input's format, or `'auto'` to recognise it from its bytes. */
  from: ModelFormat | 'auto';
  /** The output format. */
  to: Exclude<ModelFormat, 'tfjs'>;
  /** Needed with from 'safetensors': the PyTorch modules the state_dict belongs to. */
  architecture?: TorchArchitecture;
  /** Options of the ONNX export (opset, sequence_lens input). */
  onnx?: OnnxExportOptions;
  /** Extra metadata stored in an rnnw output. */
  metadata?: Record<string, unknown>;
}

/** What {@link convert} reads: a file's bytes, or TF.js artifacts as a save handler receives them. */
export type ConvertInput = Uint8Array | ArrayBuffer | KerasSource;

/** Guesses a file's format from its first bytes: rnnw magic, safetensors header, model.json, else ONNX. */
export function detectFormat(input: Uint8Array | ArrayBuffer): ModelFormat {
  const b = input instanceof Uint8Array ? input : new Uint8Array(input);
  if (b.length >= 8 && new TextDecoder().decode(b.subarray(0, 7)) === 'RNNWASM') return 'rnnw';
  if (b.length >= 9) {
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const n = v.getUint32(0, true) + v.getUint32(4, true) * 2 ** 32;
    if (n > 1 && 8 + n <= b.length && b[8] === 0x7b /* { */) return 'safetensors';
  }
  let i = 0;
  while (i < b.length && (b[i] === 0x20 || b[i] === 0x0a || b[i] === 0x0d || b[i] === 0x09)) i++;
  if (b[i] === 0x7b) return 'tfjs';
  return 'onnx';
}

/** Builds the model a source describes, plus metadata worth keeping about where it came from. */
export function importModel(input: ConvertInput, opts: Pick<ConvertOptions, 'from' | 'architecture'>): { model: Model; metadata: Record<string, unknown> } {
  // convert() passes its whole options object here, so the check is against convert's keys
  checkOptions(opts ?? null, CONVERT_KEYS, 'importModel options');
  const bytesIn = input instanceof Uint8Array || input instanceof ArrayBuffer;
  let from = opts.from;
  if (from === 'auto') {
    if (!bytesIn) from = 'tfjs';
    else from = detectFormat(input);
  }
  if (from === 'tfjs' && bytesIn) {
    throw new ValueError('Expected tfjs input as { modelJson, weights } or save-handler artifacts, got bytes (the weight shards are separate files)');
  }
  if (from !== 'tfjs' && !bytesIn) throw new ValueError(`Expected bytes for a ${from} input, got ${show(input)}`);
  switch (from) {
    case 'rnnw': {
      const { model, metadata } = deserialize(input as Uint8Array);
      return { model, metadata: metadata ?? {} };
    }
    case 'onnx': {
      const imp = fromOnnx(input as Uint8Array);
      return { model: imp.model, metadata: { source: 'onnx', lengthsInput: imp.lengthsInput ?? null, flatOutput: imp.flatOutput } };
    }
    case 'safetensors': {
      if (opts.architecture) return { model: importTorch(input as Uint8Array, opts.architecture), metadata: { source: 'pytorch' } };
      // a file written by convert(…, { to: 'safetensors' }) carries our architecture
      const spec = parseSafetensors(input as Uint8Array).metadata?.['rnn-wasm.model'];
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
        values = matchStateDict(stateDictOf(input as Uint8Array), plannedParameters(modules, sequential), own, own);
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
      try {
        model.loadStateDict(values);
        return { model, metadata: { source: 'safetensors' } };
      } catch (e) {
        model.dispose();
        throw e;
      }
    }
    case 'tfjs': {
      const imp = importKeras(input as KerasSource);
      if (!imp.returnSequences) {
        imp.dispose();
        throw new ValueError('Expected a Keras model whose recurrent layers all return sequences, got return_sequences=False (one model file cannot hold the many-to-one head; use importKeras(...).predict)');
      }
      return { model: imp.model, metadata: { source: 'keras', mask: imp.mask } };
    }
    default:
      throw new ValueError(`Expected from to be rnnw, onnx, safetensors, tfjs or auto, got ${show(from)}`);
  }
}

/** Converts a model between formats; returns the output file's bytes. */
export function convert(input: ConvertInput, opts: ConvertOptions): Uint8Array {
  if (!opts || typeof opts !== 'object') throw new ValueError(`Expected options { from, to }, got ${show(opts)}`);
  checkOptions(opts, CONVERT_KEYS, 'convert options');
  checkOptions(opts.onnx, ONNX_EXPORT_KEYS, 'convert options.onnx');
  if (!['rnnw', 'onnx', 'safetensors'].includes(opts.to)) throw new ValueError(`Expected to to be rnnw, onnx or safetensors, got ${show(opts.to)}`);
  // a graph model file (GraphModel) converts to ONNX (src/io/onnx-graph.ts)
  const bytes = input instanceof ArrayBuffer ? new Uint8Array(input) : input;
  if (opts.to === 'onnx' && bytes instanceof Uint8Array && (opts.from === 'rnnw' || opts.from === 'auto') && isGraphFile(bytes)) {
    const g = deserializeGraph(bytes);
    try {
      return toOnnx(g.model, opts.onnx);
    } finally {
      g.model.dispose();
      g.optimizer?.dispose();
    }
  }
  const { model, metadata } = importModel(input, opts);
  try {
    switch (opts.to) {
      case 'rnnw':
        return serialize(model, { metadata: { ...metadata, ...opts.metadata } });
      case 'onnx':
        return toOnnx(model, opts.onnx);
      case 'safetensors':
        return modelToSafetensors(model, { format: 'pt', 'rnn-wasm.model': JSON.stringify(model.spec()) });
    }
  } finally {
    model.dispose();
  }
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
