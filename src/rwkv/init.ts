// A new RWKV-7 with the official initialisation (BlinkDL/RWKV-LM RWKV-v7/train_temp src/model.py
// RWKV_Tmix_x070 / RWKV_CMix_x070 / RWKV.__init__): per-channel shift and decay curves that depend on
// the layer's depth, zero first LoRA factors and output projections, small uniform matrices elsewhere.
// Where the official code draws orthogonal matrices (the second LoRA factors, the FFN key, the head),
// this draws uniform ones of the same scale, so a seed gives the same model everywhere. The table of
// initialisers (src/rwkv/official-init.ts) also serves the graph's rwkv7 node.
import { Rng } from '../params/rng';
import { fillInit } from '../params/arena';
import { ValueError, show } from '../errors';
import type { Rwkv7Config } from './layout';
import { officialInit } from './official-init';
import { RWKV7 } from './model';

/** An RWKV7 of `config`, initialised as the official trainer does (deterministic in `seed`). */
export function createRwkv7(config: Rwkv7Config, seed = 0): RWKV7 {
  if (!Number.isSafeInteger(seed)) throw new ValueError(`Expected seed to be an integer, got ${show(seed)}`);
  const m = new RWKV7(config);
  try {
    // parameters in state_dict order, each drawn in its official layout
    const rng = new Rng(seed);
    for (const { name, shape } of m.parameters()) {
      const v = new Float32Array(shape.reduce((a, b) => a * b, 1));
      fillInit(v, officialInit(m.config, name), shape, rng);
      m.setParameter(name, v);
    }
  } catch (e) {
    m.dispose();
    throw e;
  }
  return m;
}
