// Option contracts of CharLM: the architecture (stored in the model file) and the training
// settings (stored with a checkpoint so a resumed run continues the same way). Every check runs
// before anything changes; an unknown key is an error that names it.
import { ValueError, show } from '../../errors';
import { checkCell, type AppCell } from '../common/cells';
import type { UnknownPolicy } from './vocab';
import { checkKeys, renameFormer, type FormerSizeNames } from '../../options';
import { positiveInt as anyPositiveInt, positiveNumber, seedValue } from '../../ir/checks';

/** The recurrent cell of an application: `rnn`, `lstm`, `gru`, `mingru` or `minlstm`. */
export type CellKind = AppCell;

/** A CharLM's architecture (stored in its model file). */
export interface CharLMConfig {
  /** Recurrent cell (default 'lstm'). */
  cell: CellKind;
  /** Stacked recurrent layers (default 1). */
  numLayers: number;
  /** Hidden size of every recurrent layer (default 256). */
  hiddenSize: number;
  /** Embedding width (default 64). */
  embeddingDim: number;
  /** Dropout between stacked recurrent layers, in [0, 1) (default 0). */
  dropout: number;
  /** Initialiser seed (default 1). */
  seed: number;
}

/**
 * Options of a new {@link CharLM}: any part of the architecture (the rest takes its default) and the unknown-
 * character policy.
 */
export interface CharLMOptions extends Partial<CharLMConfig>, FormerSizeNames {
  /** Characters outside the vocabulary: 'unk' maps them to `<unk>` (default), 'error' throws. */
  unknown?: UnknownPolicy;
}

/** Training settings that shape the run (kept in checkpoints; a resumed run must not change them). */
export interface TrainSettings {
  /** Characters per training window (the unrolled length T, default 64). */
  seqLen: number;
  /** Windows per batch (default 32). */
  batchSize: number;
  /** Truncated BPTT: each window is trained in chunks of this many steps, state carried (default seqLen). */
  tbptt: number;
  /** 'random' windows at seeded offsets, or 'sequential': B streams walk the text in order (default 'random'). */
  order: 'random' | 'sequential';
  /** Adam learning rate (default 2e-3). */
  lr: number;
  /** Global gradient-norm clip (default 5). */
  clipNorm: number;
  /** Seed of the data order (default: the model's seed). */
  seed: number;
}

export { checkKeys, seedValue };
/** An integer in [1, max] (default 2^30). */
export const positiveInt = (name: string, v: unknown, max = 1 << 30): number => anyPositiveInt(name, v, max);

const CONFIG_KEYS = ['cell', 'numLayers', 'hiddenSize', 'embeddingDim', 'dropout', 'seed', 'unknown'];
export const SETTING_KEYS: (keyof TrainSettings)[] = ['seqLen', 'batchSize', 'tbptt', 'order', 'lr', 'clipNorm', 'seed'];

/** The architecture with defaults filled in, validated. */
export function checkConfig(given: CharLMOptions): CharLMConfig & { unknown: UnknownPolicy } {
  if (!given || typeof given !== 'object') throw new ValueError(`Expected CharLM options as an object, got ${show(given)}`);
  const o = renameFormer(given, CONFIG_KEYS, 'CharLM option');
  checkKeys(o, [...CONFIG_KEYS, 'vocabulary'], 'CharLM option');
  const cell = checkCell(o.cell);
  const dropout = o.dropout ?? 0;
  if (!(typeof dropout === 'number' && dropout >= 0 && dropout < 1)) throw new ValueError(`Expected dropout in [0, 1), got ${show(o.dropout)}`);
  const unknown = o.unknown ?? 'unk';
  if (unknown !== 'unk' && unknown !== 'error') throw new ValueError(`Expected unknown to be 'unk' or 'error', got ${show(o.unknown)}`);
  return {
    cell,
    numLayers: positiveInt('numLayers', o.numLayers ?? 1, 64),
    hiddenSize: positiveInt('hiddenSize', o.hiddenSize ?? 256, 1 << 16),
    embeddingDim: positiveInt('embeddingDim', o.embeddingDim ?? 64, 1 << 16),
    dropout,
    seed: seedValue('seed', o.seed ?? 1),
    unknown,
  };
}

/**
 * Training settings: `given` over `stored` (a checkpoint's, which a resumed run must keep) over
 * the defaults. A given setting that differs from the stored one is a ValueError naming it.
 */
export function resolveSettings(given: Partial<TrainSettings>, stored: TrainSettings | undefined, modelSeed: number): TrainSettings {
  if (stored) {
    for (const k of SETTING_KEYS) {
      if (given[k] !== undefined && given[k] !== stored[k]) {
        throw new ValueError(`Expected ${k} ${show(stored[k])} (the checkpoint's, to resume the same run), got ${show(given[k])}`);
      }
    }
    return { ...stored };
  }
  const seqLen = positiveInt('seqLen', given.seqLen ?? 64, 1 << 16);
  const order = given.order ?? 'random';
  if (order !== 'random' && order !== 'sequential') throw new ValueError(`Expected order to be 'random' or 'sequential', got ${show(given.order)}`);
  const tbptt = positiveInt('tbptt', given.tbptt ?? seqLen, 1 << 16);
  if (tbptt > seqLen) throw new ValueError(`Expected tbptt ≤ seqLen (${seqLen}), got ${tbptt}`);
  return {
    seqLen,
    batchSize: positiveInt('batchSize', given.batchSize ?? 32, 1 << 16),
    tbptt,
    order,
    lr: positiveNumber('lr', given.lr ?? 2e-3),
    clipNorm: positiveNumber('clipNorm', given.clipNorm ?? 5),
    seed: seedValue('seed', given.seed ?? modelSeed),
  };
}
