// The playground's settings: one table of fields (id, what it sets, a one-line explanation shown
// under it), three presets that fill them, and the rule for when a field may be edited. A field is
// enabled only when what it holds will be used by the next press of Train: the architecture when no
// model exists yet, the training settings while the model has none stored (a checkpoint resumes
// with its own, so they are shown and locked), the step budget whenever nothing is training.
// No imports from the library: the end-to-end test reads the presets from here.

export type FieldKind = 'architecture' | 'training' | 'run';

export interface Field {
  id: string;
  label: string;
  kind: FieldKind;
  /** The one-line explanation shown under the field (and as its title). */
  hint: string;
}

export const FIELDS: readonly Field[] = [
  { id: 'cell', label: 'Cell', kind: 'architecture', hint: 'LSTM/GRU gate their memory, RNN is plain tanh, minGRU/minLSTM gate on the input only; RWKV-7: a delta-rule state.' },
  { id: 'layers', label: 'Layers', kind: 'architecture', hint: 'Recurrent layers stacked; more can model longer patterns but train slower.' },
  { id: 'hidden', label: 'Hidden size', kind: 'architecture', hint: "Units per layer; RWKV-7: its width, rounded to heads of 16 (one N×N state each). Cost grows with its square." },
  { id: 'embedding', label: 'Embedding', kind: 'architecture', hint: 'Width of the vector each character becomes before the first layer (RWKV-7 uses its width).' },
  { id: 'lr', label: 'Learning rate', kind: 'training', hint: "Adam's step size: too high and the loss jumps about, too low and it crawls." },
  { id: 'seqLen', label: 'Window', kind: 'training', hint: 'Characters per training window: how far back each gradient reaches.' },
  { id: 'batchSize', label: 'Batch', kind: 'training', hint: 'Windows averaged per step: larger is smoother, each step slower.' },
  { id: 'steps', label: 'Steps', kind: 'run', hint: 'Training steps of one press of Train or Resume (Stop ends it early).' },
];

export interface Settings {
  cell: 'lstm' | 'gru' | 'rnn' | 'mingru' | 'minlstm' | 'rwkv7';
  layers: number;
  hidden: number;
  embedding: number;
  lr: number;
  seqLen: number;
  batchSize: number;
  steps: number;
}

export interface Preset {
  name: 'tiny' | 'medium' | 'deep';
  /** One line on what to expect. */
  about: string;
  settings: Settings;
}

export const PRESETS: readonly Preset[] = [
  { name: 'tiny', about: 'The quickest: learns letters, spaces and short words.', settings: { cell: 'lstm', layers: 1, hidden: 64, embedding: 16, lr: 0.01, seqLen: 64, batchSize: 16, steps: 600 } },
  { name: 'medium', about: 'Wider and longer: learns words and some phrases of the corpus.', settings: { cell: 'lstm', layers: 1, hidden: 128, embedding: 32, lr: 0.005, seqLen: 64, batchSize: 16, steps: 2000 } },
  { name: 'deep', about: 'Three stacked layers, the slowest per step; watch validation for memorising.', settings: { cell: 'lstm', layers: 3, hidden: 128, embedding: 32, lr: 0.003, seqLen: 64, batchSize: 16, steps: 2500 } },
];

/** Whether a field's value would be used by the next Train press, given the page's state. */
export function editable(kind: FieldKind, s: { training: boolean; hasModel: boolean; hasStoredSettings: boolean }): boolean {
  if (s.training) return false;
  if (kind === 'architecture') return !s.hasModel;
  if (kind === 'training') return !s.hasStoredSettings;
  return true;
}
