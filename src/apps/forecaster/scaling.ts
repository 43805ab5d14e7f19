// Input and target scaling of a Forecaster: per feature (x − shift) / scale, fitted on the training
// series once and stored in the model file, so a loaded model scales new inputs and unscales its
// forecasts exactly as in training. 'standard': shift = mean, scale = standard deviation;
// 'minmax': shift = min, scale = max − min; 'none': shift 0, scale 1. A constant feature gets scale 1.
import { ValueError } from '../../errors';

/** How inputs and targets are scaled per feature: to mean 0 and deviation 1, to [0, 1], or not at all. */
export type ScalingKind = 'standard' | 'minmax' | 'none';

/** A fitted scaling: value' = (value − shift) / scale per feature (stored in the model file). */
export interface Scaling {
  /** The kind of scaling. */
  kind: ScalingKind;
  /** Subtracted from each feature. */
  shift: number[];
  /** Each feature is divided by this after the shift. */
  scale: number[];
}

/** Fits per-column scaling on rows (N, F), in f64. */
export function fitScaling(kind: ScalingKind, rows: readonly (readonly number[])[], F: number): Scaling {
  const shift = new Array<number>(F).fill(0);
  const scale = new Array<number>(F).fill(1);
  if (kind === 'none') return { kind, shift, scale };
  for (let f = 0; f < F; f++) {
    let lo = Infinity;
    let hi = -Infinity;
    let sum = 0;
    for (const r of rows) {
      lo = Math.min(lo, r[f]);
      hi = Math.max(hi, r[f]);
      sum += r[f];
    }
    const mean = sum / rows.length;
    let ss = 0;
    for (const r of rows) ss += (r[f] - mean) ** 2;
    const sd = Math.sqrt(ss / rows.length);
    shift[f] = kind === 'standard' ? mean : lo;
    const s = kind === 'standard' ? sd : hi - lo;
    scale[f] = s > 0 ? s : 1;
  }
  return { kind, shift, scale };
}

/** Checks a scaling read from a file. */
export function checkScaling(s: unknown, F: number): Scaling {
  const o = s as Scaling;
  const ok = (a: unknown, pos: boolean) => Array.isArray(a) && a.length === F && a.every((v) => typeof v === 'number' && Number.isFinite(v) && (!pos || v > 0));
  if (!o || !['standard', 'minmax', 'none'].includes(o.kind) || !ok(o.shift, false) || !ok(o.scale, true)) {
    throw new ValueError(`Expected a scaling { kind, shift[${F}], scale[${F}] > 0 }, got ${JSON.stringify(s)?.slice(0, 80)}`);
  }
  return { kind: o.kind, shift: [...o.shift], scale: [...o.scale] };
}
