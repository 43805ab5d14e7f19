// The architecture of a Forecaster (stored in its model file) and the checks of the series it reads.
import { ValueError, show } from '../../errors';
import { checkCell, type AppCell } from '../common/cells';
import { checkKeys, positiveInt, seedValue } from '../charlm/options';
import { renameFormer, type FormerSizeNames } from '../../options';
import type { ScalingKind } from './scaling';

/**
 * What a forecaster reads and predicts: the horizon from the last state (`many-to-one`), the horizon after
 * every step (`many-to-many`), or a second recurrent stack over the forecast days' known columns (`encoder-
 * decoder`).
 */
export type ForecastMode = 'many-to-one' | 'many-to-many' | 'encoder-decoder';

/** A forecaster's architecture and data layout (stored in its model file). */
export interface ForecasterConfig {
  /** Values per time step of the input series (default 1). */
  features: number;
  /** Columns of the series that are forecast (default [0]). */
  targets: number[];
  /** Steps of history each forecast reads (default 56). */
  window: number;
  /** Steps forecast (default 14). */
  horizon: number;
  /**
   * 'many-to-one' (default): the last state → linear → the next `horizon` steps. 'many-to-many':
   * every step predicts the `horizon` steps after it (more training signal per window); the
   * forecast is the last step's. 'encoder-decoder': the window's final state starts a second
   * recurrent stack that reads the `known` columns of each forecast day (covariates known in
   * advance, such as calendar features) and emits that day's targets — the only mode that sees
   * the days it forecasts.
   */
  mode: ForecastMode;
  /**
   * Columns known in advance for the forecast days (default []): required by, and only allowed
   * with, mode 'encoder-decoder'; distinct from the targets.
   */
  known: number[];
  /** The recurrent cell (default `'lstm'`). */
  cell: AppCell;
  /** Stacked recurrent layers (default 1). */
  numLayers: number;
  /** Hidden units per layer (default 64). */
  hiddenSize: number;
  /** Per-feature scaling fitted on the first training series (default 'standard'). */
  scaling: ScalingKind;
  /**
   * 'window': each window's mean of every target column (after scaling) is subtracted from that
   * column's inputs and from the targets, and added back to the forecast, so a series whose level
   * drifts beyond the training range is forecast from its shape (default 'none').
   */
  level: 'window' | 'none';
  /** Initialiser seed. */
  seed: number;
}

/** Options of a new {@link Forecaster}: any part of its configuration (the rest takes its default). */
export type ForecasterOptions = Partial<ForecasterConfig> & Omit<FormerSizeNames, 'embedding'>;

export const FORECASTER_KEYS = ['features', 'targets', 'known', 'window', 'horizon', 'mode', 'cell', 'numLayers', 'hiddenSize', 'scaling', 'level', 'seed'];

export function checkForecasterConfig(given: ForecasterOptions): ForecasterConfig {
  if (!given || typeof given !== 'object') throw new ValueError(`Expected forecaster options as an object, got ${show(given)}`);
  const o = renameFormer(given, FORECASTER_KEYS, 'forecaster option');
  checkKeys(o, FORECASTER_KEYS, 'forecaster option');
  const features = positiveInt('features', o.features ?? 1, 1 << 16);
  const targets = o.targets ?? [0];
  if (!Array.isArray(targets) || targets.length === 0 || targets.some((t) => !Number.isInteger(t) || t < 0 || t >= features) || new Set(targets).size !== targets.length) {
    throw new ValueError(`Expected targets to be distinct column indices in [0, ${features}), got ${JSON.stringify(o.targets)}`);
  }
  const mode = o.mode ?? 'many-to-one';
  if (!['many-to-one', 'many-to-many', 'encoder-decoder'].includes(mode)) throw new ValueError(`Expected mode 'many-to-one', 'many-to-many' or 'encoder-decoder', got ${show(o.mode)}`);
  const known = o.known ?? [];
  if (!Array.isArray(known) || known.some((k) => !Number.isInteger(k) || k < 0 || k >= features || targets.includes(k)) || new Set(known).size !== known.length) {
    throw new ValueError(`Expected known to be distinct column indices in [0, ${features}) other than the targets, got ${JSON.stringify(o.known)}`);
  }
  if ((mode === 'encoder-decoder') !== known.length > 0) {
    throw new ValueError(`Expected known columns exactly with mode 'encoder-decoder', got mode '${mode}' and known ${JSON.stringify(known)}`);
  }
  const cell = checkCell(o.cell);
  const scaling = o.scaling ?? 'standard';
  if (!['standard', 'minmax', 'none'].includes(scaling)) throw new ValueError(`Expected scaling 'standard', 'minmax' or 'none', got ${show(o.scaling)}`);
  const level = o.level ?? 'none';
  if (level !== 'window' && level !== 'none') throw new ValueError(`Expected level 'window' or 'none', got ${show(o.level)}`);
  return {
    features,
    targets: [...targets],
    known: [...known],
    window: positiveInt('window', o.window ?? 56, 1 << 16),
    horizon: positiveInt('horizon', o.horizon ?? 14, 1 << 16),
    mode,
    cell,
    numLayers: positiveInt('numLayers', o.numLayers ?? 1, 64),
    hiddenSize: positiveInt('hiddenSize', o.hiddenSize ?? 64, 1 << 16),
    scaling,
    level,
    seed: seedValue('seed', o.seed ?? 1),
  };
}

/** A series as rows of `F` finite numbers: number[] (F = 1) or number[][]. */
export function checkSeries(s: unknown, F: number, minRows: number, arg: string): number[][] {
  if (!Array.isArray(s)) throw new ValueError(`Expected ${arg} to be an array of numbers or of rows, got ${s === null ? 'null' : typeof s}`);
  if (s.length < minRows) throw new ValueError(`Expected ${arg} of at least ${minRows} steps, got ${s.length}`);
  const rows = s.map((r, i) => {
    const row = typeof r === 'number' ? [r] : r;
    if (!Array.isArray(row) && !ArrayBuffer.isView(row)) throw new ValueError(`Expected ${arg}[${i}] to be a number or an array of ${F}, got ${JSON.stringify(r)}`);
    const a = Array.from(row as ArrayLike<number>);
    if (a.length !== F) throw new ValueError(`Expected ${arg}[${i}] to have ${F} values, got ${a.length}`);
    for (let f = 0; f < F; f++) if (typeof a[f] !== 'number' || !Number.isFinite(a[f])) throw new ValueError(`Expected finite numbers in ${arg}, got ${show(a[f])} at [${i}][${f}]`);
    return a;
  });
  return rows;
}
