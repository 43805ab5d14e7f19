// importRwkv7: an RWKV-7 checkpoint saved by the official code (BlinkDL/RWKV-LM RWKV-v7, its
// state_dict names and layouts): the .pth itself (src/io/pth.ts reads torch.save's zip + pickle), or a
// safetensors file converted from it with
//   python -c "import torch,safetensors.torch as s;s.save_file({k:v.contiguous() for k,v in torch.load('m.pth',map_location='cpu').items()},'m.safetensors')"
// (BF16/F16/F32/F64 tensors are read; BF16 is what the released models hold). The configuration
// (layers, dim, head size, LoRA ranks, FFN width, vocabulary) comes from the tensors' shapes; every
// tensor is checked by name and shape (FormatError naming it) before a model is built.
import { readSafetensors, type NamedTensor } from '../io/safetensors';
import { readPth } from '../io/pth';
import { readRegularFile } from '../io/files';
import { FormatError } from '../io/format';
import { ValueError, show } from '../errors';
import { checkOptions, keysOf } from '../options';
import { layoutOf, type Rwkv7Config } from './layout';
import { RWKV7 } from './model';
import { WorldTokenizer, type Rwkv7Tokenizer } from './tokenizer';
import { META, OPTIMIZER_TENSOR, checkSavedRun, restoreRun, tokenizerFromMetadata } from './file';
import { quantize } from '../model/quantize';

/** Options of {@link importRwkv7}. */
export interface ImportRwkv7Options {
  /**
   * The vocabulary: a World tokenizer file (`rwkv_vocab_v20230424.txt` format) as a Node path, or
   * its text as `{ text }`. Without it, the vocabulary a file saved by rnn-wasm holds, else none (ids in, ids out).
   */
  vocab?: string | { text: string };
}
const IMPORT_KEYS = keysOf<ImportRwkv7Options>()('vocab');

/** Element count of a shape without its size-1 axes ([1, 1, C] and [C] are the same vector). */
const squeeze = (s: number[]): number[] => s.filter((d) => d !== 1);
const same = (a: number[], b: number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

function need(t: Record<string, NamedTensor>, name: string): NamedTensor {
  const v = t[name];
  if (!v) throw new FormatError(`Expected tensor ${name} in the RWKV-7 checkpoint, got none (is this an RWKV-7 x070 state_dict?)`);
  return v;
}

/** The configuration the checkpoint's shapes imply. */
export function configOf(t: Record<string, NamedTensor>): Rwkv7Config {
  const emb = need(t, 'emb.weight');
  if (emb.shape.length !== 2) throw new FormatError(`Expected emb.weight of shape [vocab, dim], got [${emb.shape.join(', ')}]`);
  const [V, C] = emb.shape;
  // layers: one more than the largest block index any tensor names
  let L = 0;
  for (const name of Object.keys(t)) {
    const m = /^blocks\.(\d+)\./.exec(name);
    if (m) L = Math.max(L, Number(m[1]) + 1);
  }
  if (L === 0) need(t, 'blocks.0.att.key.weight');
  const rk = need(t, 'blocks.0.att.r_k');
  const rs = squeeze(rk.shape);
  const N = rs.length === 2 ? rs[1] : rs[0];
  if (rs.length > 2 || !N || C % N !== 0) throw new FormatError(`Expected blocks.0.att.r_k of shape [heads, head size] with heads·head size = ${C}, got [${rk.shape.join(', ')}]`);
  const rank = (name: string): number => {
    const s = need(t, name).shape;
    if (s.length !== 2 || s[0] !== C) throw new FormatError(`Expected ${name} of shape [${C}, rank], got [${s.join(', ')}]`);
    return s[1];
  };
  const vRank = (): number => (t['blocks.1.att.v1'] ? rank('blocks.1.att.v1') : t['blocks.0.att.v1'] ? rank('blocks.0.att.v1') : rank('blocks.0.att.a1'));
  const fk = need(t, 'blocks.0.ffn.key.weight').shape;
  if (fk.length !== 2 || fk[1] !== C) throw new FormatError(`Expected blocks.0.ffn.key.weight of shape [ffn dim, ${C}], got [${fk.join(', ')}]`);
  return {
    vocabSize: V, dim: C, headSize: N, layers: L, ffnDim: fk[0],
    // layer 0's v1 is unused and may be absent: the rank comes from layer 1 (a 1-layer model without
    // it has no value residual at all, and takes the a rank for its unused block)
    lora: { w: rank('blocks.0.att.w1'), a: rank('blocks.0.att.a1'), v: vRank(), g: rank('blocks.0.att.g1') },
  };
}

/** Builds an RWKV7 from official-named float tensors (shapes checked; FormatError naming a bad one). */
export function rwkv7FromTensors(t: Record<string, NamedTensor>): RWKV7 {
  const c = configOf(t);
  if (c.headSize % 4 !== 0) throw new FormatError(`Expected a head size that is a multiple of 4, got ${c.headSize} (from blocks.0.att.r_k)`);
  if (c.ffnDim % 4 !== 0) throw new FormatError(`Expected an FFN width that is a multiple of 4, got ${c.ffnDim} (from blocks.0.ffn.key.weight)`);
  const { entries } = layoutOf(c);
  const known = new Set(entries.map((e) => e.name));
  for (const e of entries) {
    const v = t[e.name];
    // layer 0 has no value residual: its v0/v1/v2 are unused and may be absent
    if (!v && /^blocks\.0\.att\.v[012]$/.test(e.name)) continue;
    const got = need(t, e.name);
    const vector = e.shape.length === 3 || e.shape.length === 1;
    const ok = vector ? same(squeeze(got.shape), squeeze(e.shape)) : same(got.shape, e.shape);
    if (!ok) throw new FormatError(`Expected ${e.name} of shape [${e.shape.join(', ')}], got [${got.shape.join(', ')}]`);
    for (let i = 0; i < got.data.length; i++) {
      if (!Number.isFinite(got.data[i])) throw new FormatError(`Expected finite values in ${e.name}, got ${got.data[i]} at element ${i}`);
    }
  }
  for (const name of Object.keys(t)) {
    if (!known.has(name)) throw new FormatError(`Expected only RWKV-7 x070 tensors (a ${c.layers}-layer model), got an unknown tensor ${name}`);
  }
  const m = new RWKV7(c);
  try {
    for (const e of entries) if (t[e.name]) m.setParameter(e.name, t[e.name].data);
  } catch (err) {
    m.dispose();
    throw err;
  }
  return m;
}

/**
 * Reads an official RWKV-7 checkpoint (.pth or safetensors bytes, or a Node path to one) and, optionally,
 * its World vocabulary. Call `init()` first.
 */
export async function importRwkv7(input: Uint8Array | ArrayBuffer | string, opts: ImportRwkv7Options = {}): Promise<RWKV7> {
  checkOptions(opts, IMPORT_KEYS, 'importRwkv7 options');
  let bytes: Uint8Array | ArrayBuffer;
  if (typeof input === 'string') bytes = await readRegularFile(input, 'RWKV-7 checkpoint');
  else if (input instanceof Uint8Array || input instanceof ArrayBuffer) bytes = input;
  else throw new ValueError(`Expected safetensors bytes (Uint8Array, ArrayBuffer) or a path, got ${show(input)}`);
  let tokenizer: Rwkv7Tokenizer | null = null;
  if (opts.vocab !== undefined) {
    let text: string;
    if (typeof opts.vocab === 'string') text = new TextDecoder('utf-8').decode(await readRegularFile(opts.vocab, 'vocabulary file'));
    else if (opts.vocab && typeof opts.vocab.text === 'string') text = opts.vocab.text;
    else throw new ValueError(`Expected opts.vocab to be a path or { text }, got ${show(opts.vocab)}`);
    tokenizer = WorldTokenizer.fromText(text);
  }
  // a .pth (torch.save: a zip) or a safetensors file
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const isZip = u8.length >= 4 && u8[0] === 0x50 && u8[1] === 0x4b && u8[2] === 0x03 && u8[3] === 0x04;
  const { tensors, metadata } = isZip ? { tensors: readPth(u8), metadata: undefined } : readSafetensors(u8);
  // a file saved by rnn-wasm carries its vocabulary and int8 flag in the metadata
  tokenizer ??= tokenizerFromMetadata(metadata);
  const q = metadata?.[META.quantized];
  if (q !== undefined && q !== 'int8') throw new FormatError(`Expected metadata ${META.quantized} to be 'int8', got ${JSON.stringify(q)}`);
  // a file saved by rnn-wasm after fitRwkv7 also holds the training run (checked before anything is built)
  const moments = tensors[OPTIMIZER_TENSOR];
  delete tensors[OPTIMIZER_TENSOR];
  const run = checkSavedRun(metadata, moments);
  if (run && q !== undefined) throw new FormatError(`Expected no training run in an int8 file (metadata ${META.quantized}), got one`);
  const m = rwkv7FromTensors(tensors);
  try {
    if (tokenizer && tokenizer.size > m.config.vocabSize) throw new FormatError(`Expected the vocabulary's ids below the model's vocabulary size ${m.config.vocabSize}, got ids up to ${tokenizer.size - 1}`);
    if (run) restoreRun(m, run);
  } catch (e) {
    m.dispose();
    throw e;
  }
  m.tokenizer = tokenizer;
  if (q === 'int8') quantize(m, { weights: 'int8' });
  return m;
}
