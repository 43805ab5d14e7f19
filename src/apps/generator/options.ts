// The architecture of a ConditionalGenerator (stored in its model file), validated before anything
// is built: the cell, sizes, how the conditioning vector enters (initial state, every step, or
// both) and what a condition is (one of named classes → one-hot, or a raw vector of a fixed width).
import { ValueError, show } from '../../errors';
import { checkCell, type AppCell } from '../common/cells';
import { checkKeys, positiveInt, seedValue } from '../charlm/options';
import { renameFormer, type FormerSizeNames } from '../../options';

/** Where the condition enters: the initial state (`state`), the input of every step (`input`), or both. */
export type Conditioning = 'state' | 'input' | 'both';

/** A conditional generator's architecture (stored in its model file). */
export interface GeneratorConfig {
  /** Recurrent cell (default 'lstm'). */
  cell: AppCell;
  /** Stacked recurrent layers (default 1). */
  numLayers: number;
  /** Hidden size (default 128). */
  hiddenSize: number;
  /** Character embedding width (default 32). */
  embeddingDim: number;
  /**
   * Where the condition v enters: 'state' (h0 = tanh(W v + b), and c0 likewise for an LSTM),
   * 'input' (v concatenated to every step's input: h_t = tanh(W_xh x_t + W_hh h_{t−1} + W_ih v) for
   * an RNN), or 'both' (default).
   */
  conditioning: Conditioning;
  /** Class names: a condition is one of them (one-hot). Without classes, conditions are vectors of conditionSize numbers. */
  classes: string[] | null;
  /** Width of the conditioning vector (the number of classes when classes are given). */
  conditionSize: number;
  /** Initialiser seed (default 1). */
  seed: number;
}

/**
 * Options of a new {@link ConditionalGenerator}: any part of its architecture (the rest takes its default).
 */
export type GeneratorOptions = Partial<Omit<GeneratorConfig, 'classes'>> & { classes?: readonly string[] } & FormerSizeNames;

export const CONFIG_KEYS = ['cell', 'numLayers', 'hiddenSize', 'embeddingDim', 'conditioning', 'classes', 'conditionSize', 'seed'];

export function checkGeneratorConfig(given: GeneratorOptions, extra: readonly string[] = []): GeneratorConfig {
  if (!given || typeof given !== 'object') throw new ValueError(`Expected generator options as an object, got ${show(given)}`);
  const o = renameFormer(given, CONFIG_KEYS, 'generator option');
  checkKeys(o, [...CONFIG_KEYS, ...extra], 'generator option');
  const cell = checkCell(o.cell);
  const conditioning = o.conditioning ?? 'both';
  if (!['state', 'input', 'both'].includes(conditioning)) throw new ValueError(`Expected conditioning to be 'state', 'input' or 'both', got ${show(o.conditioning)}`);
  let classes: string[] | null = null;
  if (o.classes !== undefined) {
    if (!Array.isArray(o.classes) || o.classes.length < 1 || o.classes.some((c) => typeof c !== 'string' || c.length === 0)) {
      throw new ValueError(`Expected classes to be a non-empty array of non-empty strings, got ${JSON.stringify(o.classes)}`);
    }
    if (new Set(o.classes).size !== o.classes.length) throw new ValueError(`Expected distinct class names, got ${JSON.stringify(o.classes)}`);
    classes = [...o.classes];
    if (o.conditionSize !== undefined && o.conditionSize !== classes.length) throw new ValueError(`Expected conditionSize ${classes.length} (the number of classes) or none, got ${show(o.conditionSize)}`);
  } else if (o.conditionSize === undefined) {
    throw new ValueError('Expected classes (named conditions) or conditionSize (vector conditions), got neither');
  }
  return {
    cell,
    numLayers: positiveInt('numLayers', o.numLayers ?? 1, 64),
    hiddenSize: positiveInt('hiddenSize', o.hiddenSize ?? 128, 1 << 16),
    embeddingDim: positiveInt('embeddingDim', o.embeddingDim ?? 32, 1 << 16),
    conditioning,
    classes,
    conditionSize: classes ? classes.length : positiveInt('conditionSize', o.conditionSize, 1 << 16),
    seed: seedValue('seed', o.seed ?? 1),
  };
}

/** The conditioning vector of one condition: a class name (one-hot) or conditionSize finite numbers. */
export function conditionVector(c: GeneratorConfig, cond: unknown, arg: string): Float32Array {
  const v = new Float32Array(c.conditionSize);
  if (c.classes) {
    const k = c.classes.indexOf(cond as string);
    if (k < 0) throw new ValueError(`Expected ${arg} to be one of ${c.classes.map((s) => JSON.stringify(s)).join(', ')}, got ${JSON.stringify(cond)}`);
    v[k] = 1;
    return v;
  }
  const a = cond as ArrayLike<number>;
  if (!a || typeof a !== 'object' || a.length !== c.conditionSize) throw new ValueError(`Expected ${arg} to be ${c.conditionSize} numbers, got ${Array.isArray(a) || ArrayBuffer.isView(a) ? `${a.length}` : JSON.stringify(cond)}`);
  for (let i = 0; i < v.length; i++) {
    if (typeof a[i] !== 'number' || !Number.isFinite(a[i])) throw new ValueError(`Expected finite numbers in ${arg}, got ${show(a[i])} at index ${i}`);
    v[i] = a[i];
  }
  return v;
}
