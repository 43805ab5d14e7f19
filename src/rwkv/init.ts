// A new RWKV-7 with the official initialisation (BlinkDL/RWKV-LM RWKV-v7/train_temp src/model.py
// RWKV_Tmix_x070 / RWKV_CMix_x070 / RWKV.__init__): per-channel shift and decay curves that depend on
// the layer's depth, zero first LoRA factors and output projections, small uniform matrices elsewhere.
// Where the official code draws orthogonal matrices (the second LoRA factors, the FFN key, the head),
// this draws uniform ones of the same scale, so a seed gives the same model everywhere.
import { Rng } from '../params/rng';
import { ValueError, show } from '../errors';
import { MIX_NAMES, type Rwkv7Config } from './layout';
import { RWKV7 } from './model';

/** An RWKV7 of `config`, initialised as the official trainer does (deterministic in `seed`). */
export function createRwkv7(config: Rwkv7Config, seed = 0): RWKV7 {
  if (!Number.isSafeInteger(seed)) throw new ValueError(`Expected seed to be an integer, got ${show(seed)}`);
  const m = new RWKV7(config);
  try {
    fillOfficialInit(m, new Rng(seed));
  } catch (e) {
    m.dispose();
    throw e;
  }
  return m;
}

function fillOfficialInit(m: RWKV7, rng: Rng): void {
  const c = m.config;
  const C = c.dim;
  const N = c.headSize;
  const L = c.layers;
  const vec = (f: (i: number) => number): Float32Array => Float32Array.from({ length: C }, (_, i) => f(i));
  const uni = (n: number, bound: number): Float32Array => Float32Array.from({ length: n }, () => (rng.uniform() * 2 - 1) * bound);
  const set = (name: string, v: Float32Array): void => m.setParameter(name, v);
  set('emb.weight', uni(c.vocabSize * C, 1e-4));
  for (let l = 0; l < L; l++) {
    const b = `blocks.${l}.`;
    const ones = vec(() => 1);
    for (const ln of l === 0 ? ['ln0', 'ln1', 'ln2'] : ['ln1', 'ln2']) set(`${b}${ln}.weight`, ones);
    const r01 = L > 1 ? l / (L - 1) : 0; // 0 to 1
    const r1 = 1 - l / L; // 1 to almost 0
    const ddd = (i: number): number => i / C;
    const a = b + 'att.';
    const mixPow = [0.2, 0.9, 0.7, 0.7, 0.9, 0.2];
    MIX_NAMES.forEach((n, k) => set(a + n, vec((i) => 1 - ddd(i) ** (mixPow[k] * r1))));
    const linear = (i: number): number => i / (C - 1 || 1) - 0.5;
    const zig = (i: number): number => {
      const z = N > 1 ? ((i % N) - (N - 1) / 2) / ((N - 1) / 2) : 0;
      return z * Math.abs(z);
    };
    set(a + 'w0', vec((i) => -6 + 6 * (i / (C - 1 || 1)) ** (1 + r01 ** 0.3) + 0.5 + zig(i) * 2.5));
    set(a + 'a0', vec((i) => -0.19 + zig(i) * 0.3 + linear(i) * 0.4));
    set(a + 'v0', vec((i) => 0.73 - linear(i) * 0.4));
    for (const [k, rank] of [['w', c.lora.w], ['a', c.lora.a], ['v', c.lora.v], ['g', c.lora.g]] as const) {
      set(`${a}${k}2`, uni(rank * C, 0.1 / Math.sqrt(rank)));
    }
    set(a + 'k_k', vec((i) => 0.71 - linear(i) * 0.1));
    set(a + 'k_a', vec(() => 1.02));
    set(a + 'r_k', Float32Array.from({ length: C }, () => -0.04));
    set(a + 'receptance.weight', uni(C * C, 0.5 / Math.sqrt(C)));
    set(a + 'key.weight', uni(C * C, 0.05 / Math.sqrt(C)));
    set(a + 'value.weight', uni(C * C, 0.5 / Math.sqrt(C)));
    set(a + 'ln_x.weight', vec(() => ((1 + l) / L) ** 0.7));
    const f = b + 'ffn.';
    set(f + 'x_k', vec((i) => 1 - ddd(i) ** (r1 ** 4)));
    set(f + 'key.weight', uni(c.ffnDim * C, 0.5 / Math.sqrt(C)));
  }
  set('ln_out.weight', vec(() => 1));
  set('head.weight', uni(c.vocabSize * C, 0.5 / Math.sqrt(C)));
}
