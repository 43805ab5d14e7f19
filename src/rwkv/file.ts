// Saving an RWKV7: a safetensors file in the official state_dict names and layouts (F32), so the file
// is also a checkpoint the official code and importRwkv7 read; its metadata carries what the official
// format has no place for: the vocabulary (World tokenizer text, or the characters of a char model)
// and whether the weights are int8 (the values stored are then the dequantized ones, and loading
// derives the very same int8 rows again).
import { writeSafetensors, type NamedTensor } from '../io/safetensors';
import { writeFileAtomic } from '../io/files';
import { FormatError } from '../io/format';
import { ValueError, show } from '../errors';
import type { RWKV7 } from './model';
import { CharTokenizer, WorldTokenizer, type Rwkv7Tokenizer } from './tokenizer';

/** Metadata keys of a saved RWKV7. */
export const META = { format: 'format', vocabKind: 'rwkv7.vocab', vocabText: 'rwkv7.vocab.text', quantized: 'rwkv7.quantized' } as const;
export const FORMAT_NAME = 'rnn-wasm rwkv7';

/** The model as safetensors bytes (official names, F32, metadata as the file header says). */
export function rwkv7ToBytes(model: RWKV7): Uint8Array<ArrayBuffer> {
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
  return writeSafetensors(out, meta);
}

/** Saves to a path (Node), atomically as save() does. */
export async function saveRwkv7(model: RWKV7, path: string): Promise<void> {
  if (typeof path !== 'string' || path.length === 0) throw new ValueError(`Expected a file path, got ${show(path)}`);
  await writeFileAtomic(path, rwkv7ToBytes(model), 'the RWKV-7 model file');
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
