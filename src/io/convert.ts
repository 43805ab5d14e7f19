// Converters between model formats, for the API and the `rnn-wasm convert` command, over the format
// table of ./formats.ts (built in: from rnnw · onnx · safetensors (+ a PyTorch architecture) · tfjs;
// to rnnw · onnx · safetensors). Every conversion goes through a model built here, so whatever one
// side cannot represent is an error that names it (e.g. a Keras many-to-one head has no place in a
// single Sequential).
import { ONNX_EXPORT_KEYS } from './onnx';
import type { KerasSource } from './keras';
import type { Model } from '../model/model';
import { ValueError, show } from '../errors';
import { checkOptions, keysOf } from '../options';
import { fileFormats, formatNamed, orList, writableFormats, type FileFormat, type FormatOptions, type ModelKind, type ReadModel } from './formats';

export { registerFormat, fileFormats, readTfjsFiles, type FileFormat, type FormatOptions, type ModelKind, type ReadModel } from './formats';

const CONVERT_KEYS = keysOf<ConvertOptions>()('from', 'to', 'architecture', 'onnx', 'metadata');

/**
 * The built-in file formats `convert` reads and writes: the library's own `rnnw`, ONNX, safetensors
 * (PyTorch state dicts) and TF.js layers models (read only); more may be registered with registerFormat.
 */
export type ModelFormat = 'rnnw' | 'onnx' | 'safetensors' | 'tfjs';

/**
 * Options of {@link convert}: the formats in and out, and what each needs (a PyTorch architecture, ONNX opset
 * and lengths inputs, metadata).
 */
export interface ConvertOptions extends FormatOptions {
  /** The input's format (a built-in or a registered one), or `'auto'` to recognise it from its bytes. */
  from: ModelFormat | 'auto' | (string & {});
  /** The output format (a built-in or a registered one). */
  to: Exclude<ModelFormat, 'tfjs'> | (string & {});
}

/** What {@link convert} reads: a file's bytes, or TF.js artifacts as a save handler receives them. */
export type ConvertInput = Uint8Array | ArrayBuffer | KerasSource;

/** Guesses a file's format from its first bytes: the first registered format whose detect() claims it (rnnw magic, safetensors header, model.json, …), else ONNX. */
export function detectFormat(input: Uint8Array | ArrayBuffer): ModelFormat {
  const b = input instanceof Uint8Array ? input : new Uint8Array(input);
  const f = fileFormats().find((x) => x.detect?.(b)) ?? fileFormats().find((x) => x.fallback)!;
  return f.name as ModelFormat;
}

/** Reads `input` as `opts.from` (or the detected format) into a model of one of `accepts`. */
function readInput(input: ConvertInput, opts: Pick<ConvertOptions, 'from'> & FormatOptions, accepts: readonly ModelKind[]): ReadModel {
  const bytesIn = input instanceof Uint8Array || input instanceof ArrayBuffer;
  let f: FileFormat | undefined;
  if (opts.from === 'auto') f = bytesIn ? formatNamed(detectFormat(input)) : fileFormats().find((x) => x.input === 'object');
  else f = formatNamed(opts.from);
  const readers = fileFormats().filter((x) => x.read).map((x) => x.name);
  if (!f?.read) throw new ValueError(`Expected from to be ${orList([...readers, 'auto'])}, got ${show(opts.from)}`);
  if (f.input !== 'object' && !bytesIn) throw new ValueError(`Expected bytes for a ${f.name} input, got ${show(input)}`);
  return f.read(input instanceof ArrayBuffer ? new Uint8Array(input) : input, opts, accepts);
}

/** Builds the model a source describes, plus metadata worth keeping about where it came from. */
export function importModel(input: ConvertInput, opts: Pick<ConvertOptions, 'from' | 'architecture'>): { model: Model; metadata: Record<string, unknown> } {
  // convert() passes its whole options object here, so the check is against convert's keys
  checkOptions(opts ?? null, CONVERT_KEYS, 'importModel options');
  const { model, metadata } = readInput(input, opts, ['model']);
  return { model: model as Model, metadata };
}

/** Converts a model between formats; returns the output file's bytes. Every conversion goes through a model built here. */
export function convert(input: ConvertInput, opts: ConvertOptions): Uint8Array {
  if (!opts || typeof opts !== 'object') throw new ValueError(`Expected options { from, to }, got ${show(opts)}`);
  checkOptions(opts, CONVERT_KEYS, 'convert options');
  checkOptions(opts.onnx, ONNX_EXPORT_KEYS, 'convert options.onnx');
  const to = formatNamed(opts.to);
  if (!to?.write) throw new ValueError(`Expected to to be ${orList(writableFormats())}, got ${show(opts.to)}`);
  const writes = to.writes ?? ['model'];
  const src = readInput(input, opts, writes);
  try {
    if (!writes.includes(src.kind)) throw new ValueError(`Expected a ${orList(writes)} model to write as ${to.name}, got a ${src.kind} model`);
    return to.write(src.model, opts, src.metadata);
  } finally {
    src.dispose();
  }
}
