// Saving an RWKV7: a safetensors file in the official state_dict names and layouts (F32), so the file
// is also a checkpoint the official code and importRwkv7 read; its metadata carries what the official
// format has no place for: the vocabulary (World tokenizer text, or the characters of a char model)
// and whether the weights are int8 (the values stored are then the dequantized ones, and loading
// derives the very same int8 rows again). A model fitRwkv7 trained also carries its run: the settings,
// step and window order in metadata, and Adam's moments as one extra tensor (rnn-wasm.optimizer, in
// the parameter block's layout), so the file resumes the run bit for bit; { training: false } leaves
// them out for a weights-only file (what a strict load_state_dict in PyTorch wants).
import { writeSafetensors, type NamedTensor } from '../io/safetensors';
import { writeFileAtomic } from '../io/files';
import { FormatError } from '../io/format';
import { ValueError, show } from '../errors';
import { checkOptions, keysOf } from '../options';
import { positiveInt, positiveNumber, seedValue } from '../ir/checks';
import { Adam, validateOptimizerState } from '../train/optim';
import type { RWKV7 } from './model';
import type { Rwkv7Run, Rwkv7TrainSettings } from './fit';
import { CharTokenizer, WorldTokenizer, type Rwkv7Tokenizer } from './tokenizer';

/** Metadata keys of a saved RWKV7. */
export const META = { format: 'format', vocabKind: 'rwkv7.vocab', vocabText: 'rwkv7.vocab.text', quantized: 'rwkv7.quantized', training: 'rwkv7.training' } as const;
/** The tensor that holds Adam's moments [m, v] of a saved run (the parameter block's layout). */
export const OPTIMIZER_TENSOR = 'rnn-wasm.optimizer';
export const FORMAT_NAME = 'rnn-wasm rwkv7';

/** Options of {@link rwkv7ToBytes} and {@link saveRwkv7}. */
export interface Rwkv7SaveOptions {
  /** Keep the training run (settings, step, window order, Adam's moments) of a model fitRwkv7 trained (default true). */
  training?: boolean;
}
const SAVE_KEYS = keysOf<Rwkv7SaveOptions>()('training');

/** What the metadata of a saved run holds (the moments are the OPTIMIZER_TENSOR). */
interface SavedRun {
  settings: Rwkv7TrainSettings;
  step: number;
  rng: [number, number, number, number];
  optimizer: { kind: 'adam'; step: number };
}

/**
 * The model as safetensors bytes (official names, F32, metadata as the file header says), with the
 * training run of a model fitRwkv7 trained unless `training` is false (an int8 model keeps none).
 */
export function rwkv7ToBytes(model: RWKV7, opts: Rwkv7SaveOptions = {}): Uint8Array<ArrayBuffer> {
  checkOptions(opts, SAVE_KEYS, 'save options');
  if (opts.training !== undefined && typeof opts.training !== 'boolean') throw new ValueError(`Expected training to be a boolean, got ${show(opts.training)}`);
  model.alive();
  const out: Record<string, NamedTensor> = {};
  for (const { name, shape } of model.parameters()) out[name] = { data: model.getParameter(name), shape };
  const meta: Record<string, string> = { [META.format]: FORMAT_NAME };
  const t = model.tokenizer;
  if (t instanceof WorldTokenizer) {
    meta[META.vocabKind] = 'world';
    meta[META.vocabText] = t.text;
  } else if (t instanceof CharTokenizer) {
    meta[META.vocabKind] = 'chars';
    meta[META.vocabText] = JSON.stringify(t.chars);
  }
  if (model.quantized) meta[META.quantized] = 'int8';
  const run = model.run;
  if (run && opts.training !== false && !model.quantized) {
    const o = run.optimizer.state();
    const saved: SavedRun = { settings: run.settings, step: run.step, rng: run.rng, optimizer: { kind: 'adam', step: o.step } };
    meta[META.training] = JSON.stringify(saved);
    out[OPTIMIZER_TENSOR] = { data: o.buffers, shape: [2, model.arena.size] };
  }
  return writeSafetensors(out, meta);
}

/** Saves to a path (Node), atomically as save() does. */
export async function saveRwkv7(model: RWKV7, path: string, opts: Rwkv7SaveOptions = {}): Promise<void> {
  if (typeof path !== 'string' || path.length === 0) throw new ValueError(`Expected a file path, got ${show(path)}`);
  await writeFileAtomic(path, rwkv7ToBytes(model, opts), 'the RWKV-7 model file');
}

/** The run a saved file's metadata and optimizer tensor describe, checked (FormatError naming the field); null when it has none. */
export function checkSavedRun(meta: Record<string, string> | undefined, moments: NamedTensor | undefined): { saved: SavedRun; moments: Float32Array } | null {
  const text = meta?.[META.training];
  if (text === undefined && moments === undefined) return null;
  if (text === undefined || moments === undefined) throw new FormatError(`Expected both metadata ${META.training} and tensor ${OPTIMIZER_TENSOR} for a saved training run, got only ${text === undefined ? 'the tensor' : 'the metadata'}`);
  let saved: SavedRun;
  try {
    saved = JSON.parse(text) as SavedRun;
  } catch {
    throw new FormatError(`Expected JSON in metadata ${META.training}, got unreadable text`);
  }
  try {
    const s = saved?.settings;
    if (!s || typeof s !== 'object') throw new ValueError(`Expected settings { seqLen, batch, lr, clipNorm, seed }, got ${show(s)}`);
    saved.settings = { seqLen: positiveInt('seqLen', s.seqLen), batch: positiveInt('batch', s.batch, 1 << 16), lr: positiveNumber('lr', s.lr), clipNorm: positiveNumber('clipNorm', s.clipNorm), seed: seedValue('seed', s.seed) };
    if (!Number.isSafeInteger(saved.step) || saved.step < 0) throw new ValueError(`Expected step to be a non-negative integer, got ${show(saved.step)}`);
    const rng = saved.rng;
    if (!Array.isArray(rng) || rng.length !== 4 || rng.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffffffff) || rng.every((w) => w === 0)) throw new ValueError(`Expected rng to be 4 words of 32 bits, not all 0, got ${show(rng)}`);
    validateOptimizerState({ kind: saved.optimizer?.kind, step: saved.optimizer?.step, buffers: moments.data }, { kind: 'adam', nbufs: 2 });
  } catch (e) {
    throw new FormatError(`Expected a valid training run in metadata ${META.training}: ${(e as Error).message}`);
  }
  return { saved, moments: moments.data };
}

/** Puts a checked saved run on a model just read (Adam bound to its parameters, the moments loaded). */
export function restoreRun(m: RWKV7, r: { saved: SavedRun; moments: Float32Array }): void {
  if (r.moments.length !== 2 * m.arena.size) throw new FormatError(`Expected tensor ${OPTIMIZER_TENSOR} of ${2 * m.arena.size} values (2 × this model's parameter block), got ${r.moments.length}`);
  const optimizer = new Adam({ lr: r.saved.settings.lr });
  optimizer.bind(m.rt, m.arena);
  optimizer.loadState({ kind: 'adam', step: r.saved.optimizer.step, buffers: r.moments });
  const run: Rwkv7Run = { settings: r.saved.settings, step: r.saved.step, rng: r.saved.rng, optimizer };
  m.run = run;
}

/** The vocabulary a saved file's metadata holds (null when none). */
export function tokenizerFromMetadata(meta: Record<string, string> | undefined): Rwkv7Tokenizer | null {
  const kind = meta?.[META.vocabKind];
  if (kind === undefined) return null;
  const text = meta?.[META.vocabText];
  if (typeof text !== 'string') throw new FormatError(`Expected metadata ${META.vocabText} with the ${kind} vocabulary, got none`);
  if (kind === 'world') return WorldTokenizer.fromText(text);
  if (kind === 'chars') {
    let chars: unknown;
    try {
      chars = JSON.parse(text);
    } catch {
      throw new FormatError(`Expected a JSON array of characters in metadata ${META.vocabText}, got unreadable text`);
    }
    if (!Array.isArray(chars)) throw new FormatError(`Expected a JSON array of characters in metadata ${META.vocabText}, got ${typeof chars}`);
    try {
      return new CharTokenizer(chars as string[]);
    } catch (e) {
      throw new FormatError(`Expected a valid character vocabulary in metadata ${META.vocabText}, got: ${(e as Error).message}`);
    }
  }
  throw new FormatError(`Expected metadata ${META.vocabKind} to be 'world' or 'chars', got ${JSON.stringify(kind)}`);
}
