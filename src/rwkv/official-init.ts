// The official RWKV-7 initialisation as one initialiser per parameter (BlinkDL/RWKV-LM RWKV-v7/train_temp
// src/model.py RWKV_Tmix_x070 / RWKV_CMix_x070 / RWKV.__init__): per-channel shift and decay curves
// that depend on the layer's depth, zero first LoRA factors and output projections, small uniform
// matrices elsewhere (uniform where the official code draws orthogonal ones, of the same scale).
// createRwkv7 (src/rwkv/init.ts) and the graph's rwkv7 node (src/rwkv/stack.ts) both read it.
import type { Init } from '../params/arena';
import { MIX_NAMES, type Rwkv7StackConfig } from './layout';

/** A per-channel vector as an initialiser: C slices of one constant each. */
const channels = (C: number, f: (i: number) => number): Init => ({ kind: 'slices', parts: Array.from({ length: C }, (_, i) => ({ kind: 'const', value: f(i) })) });
const uniform = (bound: number): Init => ({ kind: 'uniform', bound });
const ZEROS: Init = { kind: 'zeros' };

/**
 * The official initialiser of parameter `name` (its official layout) for a model or stack of shape
 * `c`: `emb.weight` and `head.weight` only where the model has them.
 */
export function officialInit(c: Rwkv7StackConfig, name: string): Init {
  const C = c.dim;
  const N = c.headSize;
  const L = c.layers;
  if (name === 'emb.weight') return uniform(1e-4);
  if (name === 'head.weight') return uniform(0.5 / Math.sqrt(C));
  if (name === 'ln_out.weight') return { kind: 'const', value: 1 };
  const m = /^blocks\.(\d+)\.(.+)$/.exec(name);
  if (!m) return ZEROS; // ln_out.bias
  const l = Number(m[1]);
  const p = m[2];
  const r01 = L > 1 ? l / (L - 1) : 0; // 0 to 1
  const r1 = 1 - l / L; // 1 to almost 0
  const ddd = (i: number): number => i / C;
  const linear = (i: number): number => i / (C - 1 || 1) - 0.5;
  const zig = (i: number): number => {
    const z = N > 1 ? ((i % N) - (N - 1) / 2) / ((N - 1) / 2) : 0;
    return z * Math.abs(z);
  };
  const mixPow = [0.2, 0.9, 0.7, 0.7, 0.9, 0.2];
  const mix = MIX_NAMES.indexOf(p.slice(4) as (typeof MIX_NAMES)[number]);
  if (p.startsWith('att.') && mix >= 0) return channels(C, (i) => 1 - ddd(i) ** (mixPow[mix] * r1));
  const rank: Record<string, number> = { 'att.w2': c.lora.w, 'att.a2': c.lora.a, 'att.v2': c.lora.v, 'att.g2': c.lora.g };
  if (rank[p] !== undefined) return uniform(0.1 / Math.sqrt(rank[p]));
  switch (p) {
    case 'ln0.weight':
    case 'ln1.weight':
    case 'ln2.weight':
      return { kind: 'const', value: 1 };
    case 'att.w0': return channels(C, (i) => -6 + 6 * (i / (C - 1 || 1)) ** (1 + r01 ** 0.3) + 0.5 + zig(i) * 2.5);
    case 'att.a0': return channels(C, (i) => -0.19 + zig(i) * 0.3 + linear(i) * 0.4);
    case 'att.v0': return channels(C, (i) => 0.73 - linear(i) * 0.4);
    case 'att.k_k': return channels(C, (i) => 0.71 - linear(i) * 0.1);
    case 'att.k_a': return { kind: 'const', value: 1.02 };
    case 'att.r_k': return { kind: 'const', value: -0.04 };
    case 'att.receptance.weight': return uniform(0.5 / Math.sqrt(C));
    case 'att.key.weight': return uniform(0.05 / Math.sqrt(C));
    case 'att.value.weight': return uniform(0.5 / Math.sqrt(C));
    case 'att.ln_x.weight': return { kind: 'const', value: ((1 + l) / L) ** 0.7 };
    case 'ffn.x_k': return channels(C, (i) => 1 - ddd(i) ** (r1 ** 4));
    case 'ffn.key.weight': return uniform(0.5 / Math.sqrt(C));
    default: return ZEROS; // biases, the first LoRA factors, the output projections
  }
}
