// RWKV-7 parameter layout: the official state_dict names and shapes (BlinkDL/RWKV-LM RWKV-v7/train_temp
// src/model.py), where each tensor sits in the model's one parameter block, and the configuration a
// checkpoint implies. The low-rank maps are stored transposed inside the block (w1 (C, D) as (D, C),
// w2 (D, C) as (C, D)) so every projection is one gemm_nt; getParameter/setParameter speak the
// official layout. The six time-mix shift vectors x_r … x_g sit next to each other: the shift kernel
// reads them as one (6, C) table.
import { ValueError } from '../errors';

/** The shape of an RWKV-7 model (`n_layer`, `n_embd`, `head_size`, the LoRA ranks, the FFN width). */
export interface Rwkv7Config {
  /** Vocabulary size (rows of emb.weight and head.weight). */
  vocabSize: number;
  /** Channels C (`n_embd`), a multiple of headSize. */
  dim: number;
  /** Head size N (64 in the released models), a multiple of 4. */
  headSize: number;
  /** Blocks. */
  layers: number;
  /** Hidden width of the channel mix (4·dim in the released models). */
  ffnDim: number;
  /** Ranks of the decay, in-context-rate, value-residual and gate low-rank maps. */
  lora: { w: number; a: number; v: number; g: number };
}

/** The shape of a stack of RWKV-7 blocks without the embedding and the head (the graph's rwkv7 node). */
export type Rwkv7StackConfig = Omit<Rwkv7Config, 'vocabSize'>;

/** One parameter: official name and shape, element offset in the block, stored transposed or not. */
export interface ParamEntry {
  name: string;
  shape: number[];
  size: number;
  offset: number;
  transposed: boolean;
}

/** The time-mix shift vectors in the order the shift kernel reads them (r, w, k, v, a, g). */
export const MIX_NAMES = ['x_r', 'x_w', 'x_k', 'x_v', 'x_a', 'x_g'] as const;

const isInt = (n: unknown, lo: number): n is number => Number.isSafeInteger(n) && (n as number) >= lo;

/** Validates a configuration (ValueError naming the field). */
export function checkConfig(c: Rwkv7Config): void {
  for (const k of ['vocabSize', 'dim', 'headSize', 'layers', 'ffnDim'] as const) {
    if (!isInt(c[k], 1)) throw new ValueError(`Expected config.${k} to be a positive integer, got ${String(c[k])}`);
  }
  for (const k of ['w', 'a', 'v', 'g'] as const) {
    if (!isInt(c.lora?.[k], 1)) throw new ValueError(`Expected config.lora.${k} to be a positive integer, got ${String(c.lora?.[k])}`);
  }
  if (c.headSize % 4 !== 0) throw new ValueError(`Expected config.headSize to be a multiple of 4, got ${c.headSize}`);
  if (c.dim % c.headSize !== 0) throw new ValueError(`Expected config.dim to be a multiple of headSize ${c.headSize}, got ${c.dim}`);
  if (c.ffnDim % 4 !== 0) throw new ValueError(`Expected config.ffnDim to be a multiple of 4, got ${c.ffnDim}`);
}

/** Every parameter in block order; `total` elements in all. */
export function layoutOf(c: Rwkv7Config): { entries: ParamEntry[]; total: number } {
  const C = c.dim;
  const H = c.dim / c.headSize;
  const entries: ParamEntry[] = [];
  let off = 0;
  const add = (name: string, shape: number[], transposed = false): void => {
    const size = shape.reduce((a, b) => a * b, 1);
    entries.push({ name, shape, size, offset: off, transposed });
    off += Math.ceil(size / 4) * 4; // 16-byte aligned rows for the SIMD loads
  };
  const vec = [1, 1, C];
  add('emb.weight', [c.vocabSize, C]);
  for (let l = 0; l < c.layers; l++) {
    const b = `blocks.${l}.`;
    if (l === 0) {
      add(b + 'ln0.weight', [C]);
      add(b + 'ln0.bias', [C]);
    }
    add(b + 'ln1.weight', [C]);
    add(b + 'ln1.bias', [C]);
    add(b + 'ln2.weight', [C]);
    add(b + 'ln2.bias', [C]);
    const a = b + 'att.';
    for (const m of MIX_NAMES) add(a + m, vec);
    add(a + 'w0', vec);
    add(a + 'w1', [C, c.lora.w], true);
    add(a + 'w2', [c.lora.w, C], true);
    add(a + 'a0', vec);
    add(a + 'a1', [C, c.lora.a], true);
    add(a + 'a2', [c.lora.a, C], true);
    add(a + 'v0', vec);
    add(a + 'v1', [C, c.lora.v], true);
    add(a + 'v2', [c.lora.v, C], true);
    add(a + 'g1', [C, c.lora.g], true);
    add(a + 'g2', [c.lora.g, C], true);
    add(a + 'k_k', vec);
    add(a + 'k_a', vec);
    add(a + 'r_k', [H, c.headSize]);
    for (const m of ['receptance', 'key', 'value', 'output']) add(`${a}${m}.weight`, [C, C]);
    add(a + 'ln_x.weight', [C]);
    add(a + 'ln_x.bias', [C]);
    const f = b + 'ffn.';
    add(f + 'x_k', vec);
    add(f + 'key.weight', [c.ffnDim, C]);
    add(f + 'value.weight', [C, c.ffnDim]);
  }
  add('ln_out.weight', [C]);
  add('ln_out.bias', [C]);
  add('head.weight', [c.vocabSize, C]);
  // the shift kernel reads x_r … x_g as one (6, C) table: C is a multiple of 4, so they are adjacent
  return { entries, total: off };
}

/** Copies official-layout data into block layout (transposing a low-rank map). */
export function toBlock(e: ParamEntry, src: ArrayLike<number>, dst: Float32Array, at: number): void {
  if (!e.transposed) {
    dst.set(src as ArrayLike<number>, at);
    return;
  }
  const [R, K] = e.shape;
  for (let i = 0; i < R; i++) for (let j = 0; j < K; j++) dst[at + j * R + i] = src[i * K + j];
}

/** Reads block-layout data back into the official layout. */
export function fromBlock(e: ParamEntry, src: Float32Array, at: number): Float32Array {
  if (!e.transposed) return src.slice(at, at + e.size);
  const [R, K] = e.shape;
  const out = new Float32Array(e.size);
  for (let i = 0; i < R; i++) for (let j = 0; j < K; j++) out[i * K + j] = src[at + j * R + i];
  return out;
}
