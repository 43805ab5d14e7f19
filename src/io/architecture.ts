// What an architecture from a file or an importer will allocate, computed before anything is
// allocated: its layer count (limits.maxLayers) and every parameter's name and shape, whose total
// is held to limits.maxParameters. Loaders compare this list with what the file holds and only
// then build the model, so a hostile size never reaches the wasm heap.
import type { Layer } from '../layers/module';
import { RecurrentCore } from '../layers/recurrent';
import { checkLimit } from '../limits';

export interface PlannedParameter {
  name: string;
  shape: number[];
  /** Elements (product of the shape). */
  size: number;
}

/** Throws (ValueError naming limits.maxLayers) when `count` layers are more than allowed. */
export function checkLayerCount(count: number, what: string): void {
  checkLimit('maxLayers', count, what);
}

/**
 * The parameters `modules` will own, in arena order, named as the model will name them
 * (`${i}.` prefixes for a Sequential). Checks maxLayers first, so listing them is cheap, and
 * maxParameters on the total.
 */
export function plannedParameters(modules: Layer[], sequential: boolean): PlannedParameter[] {
  const layerCount = modules.reduce((n, m) => n + (m instanceof RecurrentCore ? m.numLayers * m.directions : 1), 0);
  checkLayerCount(layerCount, 'the layers of the architecture');
  const out: PlannedParameter[] = [];
  let total = 0;
  modules.forEach((m, i) => {
    for (const s of m.paramSpecs()) {
      const size = s.shape.reduce((a, b) => a * b, 1);
      total += size;
      out.push({ name: (sequential ? `${i}.` : '') + s.name, shape: [...s.shape], size });
    }
  });
  checkLimit('maxParameters', total, 'the parameters of the architecture');
  return out;
}

/** "name[d0,d1]" list of parameters, for messages that compare two lists. */
export function describeParameters(params: readonly { name: string; shape: readonly number[] }[]): string {
  return params.map((p) => `${p.name}[${p.shape.join(',')}]`).join(' ');
}
