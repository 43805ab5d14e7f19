// One description per recurrent cell, beside its kernels (assembly/cells/rnn.ts, lstm.ts, gru.ts,
// mingru.ts, minlstm.ts): gate blocks per unit, whether it has a recurrent weight W_hh, which states it
// carries, its cell-specific options, the ops its forward (f32 weights, read in place or from a
// kept packed copy, or int8 weights) and backward emit, the gate an application's forget-gate bias
// sets, and how PyTorch, ONNX and Keras name and lay it out. Layers, models, graphs, the quantizer,
// the importers and exporters and the applications look a cell up here instead of switching on its
// kind; registerCell adds one.
import type { ProgramBuilder } from '../ir/program';
import { ValueError } from '../errors';

/** The cells the interchange formats (PyTorch nn.RNN/LSTM/GRU, ONNX, Keras) also define. */
export type ClassicCellKind = 'rnn' | 'lstm' | 'gru';
/** The recurrent cells: the classic `rnn`, `lstm`, `gru` and the minimal `mingru`, `minlstm`. */
export type CellKind = ClassicCellKind | 'mingru' | 'minlstm';
export type StateKind = 'h' | 'c';

/** The cell-specific settings a layer carries (each cell reads its own). */
export interface CellConfig {
  readonly nonlinearity: 'tanh' | 'relu';
  readonly peepholes: boolean;
  readonly cellClip: number;
  readonly resetAfter: boolean;
  readonly logSpace: boolean;
}

/** Buffers and sizes of one layer and direction's cell, shared by forward and backward. */
export interface CellRun {
  readonly b: ProgramBuilder;
  readonly cfg: CellConfig;
  /** (T, B, gates·H) input projections on entry; activated gates after the forward. */
  readonly gates: number;
  /** (T+1, B, H) hidden states (h[0] initial for the forward direction, h[T] for the reverse). */
  readonly h: number;
  /** (T+1, B, H) cell states (cells with a c state), else 0. */
  readonly c: number;
  /** (T, B, H) saved candidate input of a Cho-form GRU / its reset-after term, else 0. */
  readonly aux: number;
  /** (gates·H, H) recurrent weight; 0 for a cell without one (`recurrentWeight` false). */
  readonly w_hh: number;
  /** (3H) peephole weights (LSTM with peepholes), else 0. */
  readonly peep: number;
  /** (B) i32 lengths, or 0. */
  readonly lens: number;
  readonly T: number;
  readonly B: number;
  readonly H: number;
  /** Row stride of the output (D·H). */
  readonly ldy: number;
  /** 1 for the reverse direction. */
  readonly reverse: number;
}

export interface CellForward extends CellRun {
  /** (T, B, ·) output columns of this direction (stride ldy). */
  readonly y: number;
  readonly b_hh: number;
  /** int8 copy of W_hh (inference programs of a quantized model). */
  readonly q?: { q: number; s: number };
  /** A packed copy of W_hh (pack_hh with `hhApart`) that batch-1 stream programs keep; 0 = none. */
  readonly pk?: number;
}

export interface CellBackward extends CellRun {
  /** (T, B, gates·H) gradient of the gate pre-activations (written). */
  readonly dgates: number;
  readonly dh0: number;
  readonly dc0: number;
  readonly dpeep: number;
  /** Upstream gradients: output columns (stride ldy), final h and c (0 = none). */
  readonly dy: number;
  readonly dhN: number;
  readonly dcN: number;
  /** h_{t-1} rows for dW_hh, and where dW_hh / db_hh accumulate (db_hh 0 = no bias). */
  readonly hprev: number;
  readonly dw_hh: number;
  readonly db_hh: number;
}

/** One choice of an ONNX node's `activations` for one direction (lower case), and the settings it stands for. */
export interface ActivationChoice {
  readonly acts: readonly string[];
  readonly cfg: Partial<CellConfig>;
}

/** An ONNX attribute the exporter writes (an integer or a float). */
export interface OnnxAttribute {
  readonly name: string;
  readonly int?: number;
  readonly float?: number;
}

/**
 * How the interchange formats define a cell that they also have: names, gate-block orders and
 * the cell's own attributes. The importers (PyTorch, ONNX, Keras/tfjs) and the ONNX exporter read
 * only this; a cell without it is refused by them with a message that names it.
 */
export interface CellInterchange {
  /** PyTorch module type (`nn.LSTM` → 'LSTM'), ONNX operator, Keras/tfjs layer class. */
  readonly torch: string;
  readonly onnx: string;
  readonly keras: string;
  /** ONNX gate block k ← our block onnxFromOurs[k] (ONNX LSTM i,o,f,c; GRU z,r,h). */
  readonly onnxFromOurs: readonly number[];
  /** Our gate block k ← Keras block oursFromKeras[k] (Keras LSTM i,f,c,o; GRU z,r,h). */
  readonly oursFromKeras: readonly number[];
  /** The ONNX activations it runs, the first being ONNX's default; the last of each is the candidate's (Keras `activation`). */
  readonly activations: readonly ActivationChoice[];
  /** The cell's own ONNX attributes for a layer's settings. */
  onnxAttributes(cfg: CellConfig): OnnxAttribute[];
  /** The cell's own options from an ONNX node `where` (its integer attributes, whether it has peepholes P, its clip); `bad` refuses what the cell cannot honour. */
  fromOnnx(a: { int(name: string): number; peepholes: boolean; clip: number; where: string }, bad: (message: string) => never): Record<string, unknown>;
  /** The cell's own options from a PyTorch module's fields. */
  fromTorch(m: Record<string, unknown>): Record<string, unknown>;
  /** The cell's own options from a Keras layer config (`tfjs`: written by TF.js, whose defaults differ). */
  fromKeras(config: Record<string, unknown>, tfjs: boolean): Record<string, unknown>;
  /** Rows of a Keras bias for these options: 1 (input bias only), or 2 (input and recurrent, GRU reset_after). */
  kerasBiasRows(options: Record<string, unknown>): 1 | 2;
}

export interface CellDescriptor {
  readonly kind: CellKind;
  /** Gate blocks of H rows per unit in W_ih / W_hh (PyTorch order, `gateOrder`). */
  readonly gates: number;
  readonly gateOrder: readonly string[];
  /** True when the cell has weight_hh/bias_hh (h_{t-1} enters the gates); false for the min cells,
   *  whose gates see x_t only, so the whole layer is one GEMM plus an elementwise scan. */
  readonly recurrentWeight: boolean;
  /** The states it carries between steps: h, and c for an LSTM. */
  readonly states: readonly StateKind[];
  readonly hasCellState: boolean;
  /** Elements per (T·B) row of the saved `aux` buffer (0: none). */
  readonly auxPerRow: number;
  /** Options (and config() keys) only this cell takes. */
  readonly optionKeys: readonly (keyof CellConfig)[];
  /** pack_hh's `apart` for this cell's W_hh: 1 when its last H rows multiply another input (GRU Cho form). */
  hhApart(cfg: CellConfig): number;
  /** Emits the whole-sequence cell kernel. */
  forward(a: CellForward): void;
  /** Emits the cell's backward and accumulates dW_hh and db_hh (cells that have them). */
  backward(a: CellBackward): void;
  /** The gate block an application's `forgetBias` initialiser sets (LSTM's f), or -1: the cell keeps its default bias. */
  readonly forgetGate: number;
  /** Names and layouts in PyTorch, ONNX and Keras files (absent: a cell only this library has). */
  readonly interchange?: CellInterchange;
}

const noOptions = (): Record<string, unknown> => ({});

const relu = (cfg: CellConfig): number => (cfg.nonlinearity === 'relu' ? 1 : 0);
const resetAfter = (cfg: CellConfig): number => (cfg.resetAfter ? 1 : 0);
const logSpace = (cfg: CellConfig): number => (cfg.logSpace ? 1 : 0);

/** dW_hh += dgates^T · h_{t-1}; db_hh += Σ dgates (the form of every cell whose W_hh sees h_{t-1} whole). */
function hiddenGrads(a: CellBackward, G: number): void {
  const { b, T, B, H } = a;
  b.gemmTn(a.dw_hh, a.dgates, a.hprev, G * H, H, T * B, 1);
  if (a.db_hh) b.colsum(a.db_hh, a.dgates, T * B, G * H, 1);
}

const RNN: CellDescriptor = {
  kind: 'rnn',
  recurrentWeight: true,
  gates: 1,
  gateOrder: ['h'],
  states: ['h'],
  hasCellState: false,
  auxPerRow: 0,
  optionKeys: ['nonlinearity'],
  hhApart: () => 0,
  forward(a) {
    const { b, q } = a;
    if (q) b.rnnQ8(a.gates, a.h, a.y, q.q, q.s, a.b_hh, a.lens, a.T, a.B, a.H, a.ldy, a.reverse, relu(a.cfg));
    else if (a.pk) b.rnnPk(a.gates, a.h, a.y, a.w_hh, a.pk, a.b_hh, a.lens, a.T, a.B, a.H, a.ldy, a.reverse, relu(a.cfg));
    else b.rnn(a.gates, a.h, a.y, a.w_hh, a.b_hh, a.lens, a.T, a.B, a.H, a.ldy, a.reverse, relu(a.cfg));
  },
  backward(a) {
    const scratch = a.b.alloc(a.B * a.H);
    a.b.rnnBwd(a.dgates, a.dh0, a.dy, a.dhN, a.h, a.w_hh, a.lens, scratch, a.T, a.B, a.H, a.ldy, a.reverse, relu(a.cfg));
    hiddenGrads(a, 1);
  },
  forgetGate: -1,
  interchange: {
    torch: 'RNN', onnx: 'RNN', keras: 'SimpleRNN',
    onnxFromOurs: [0], oursFromKeras: [0],
    activations: [{ acts: ['tanh'], cfg: { nonlinearity: 'tanh' } }, { acts: ['relu'], cfg: { nonlinearity: 'relu' } }],
    onnxAttributes: () => [],
    fromOnnx: noOptions,
    fromTorch: (m) => ({ nonlinearity: m.nonlinearity ?? 'tanh' }),
    fromKeras: noOptions,
    kerasBiasRows: () => 1,
  },
};

const LSTM: CellDescriptor = {
  kind: 'lstm',
  recurrentWeight: true,
  gates: 4,
  gateOrder: ['i', 'f', 'g', 'o'],
  states: ['h', 'c'],
  hasCellState: true,
  auxPerRow: 0,
  optionKeys: ['peepholes', 'cellClip'],
  hhApart: () => 0,
  forward(a) {
    const { b, q } = a;
    if (q) b.lstmQ8(a.gates, a.h, a.c, a.y, q.q, q.s, a.b_hh, a.peep, a.lens, a.T, a.B, a.H, a.ldy, a.reverse, a.cfg.cellClip);
    else if (a.pk) b.lstmPk(a.gates, a.h, a.c, a.y, a.w_hh, a.pk, a.b_hh, a.peep, a.lens, a.T, a.B, a.H, a.ldy, a.reverse, a.cfg.cellClip);
    else b.lstm(a.gates, a.h, a.c, a.y, a.w_hh, a.b_hh, a.peep, a.lens, a.T, a.B, a.H, a.ldy, a.reverse, a.cfg.cellClip);
  },
  backward(a) {
    const scratch = a.b.alloc(a.B * 2 * a.H);
    a.b.lstmBwd(a.dgates, a.dh0, a.dc0, a.dpeep, a.dy, a.dhN, a.dcN, a.gates, a.h, a.c, a.w_hh, a.peep, a.lens, scratch,
      a.T, a.B, a.H, a.ldy, a.reverse, a.cfg.cellClip);
    hiddenGrads(a, 4);
  },
  forgetGate: 1,
  interchange: {
    torch: 'LSTM', onnx: 'LSTM', keras: 'LSTM',
    onnxFromOurs: [0, 3, 1, 2], oursFromKeras: [0, 1, 2, 3],
    activations: [{ acts: ['sigmoid', 'tanh', 'tanh'], cfg: {} }],
    onnxAttributes: (cfg) => [{ name: 'input_forget', int: 0 }, ...(cfg.cellClip > 0 ? [{ name: 'clip', float: cfg.cellClip }] : [])],
    fromOnnx(a, bad) {
      if (a.int('input_forget') !== 0) bad(`Expected input_forget 0 at ${a.where}, got 1 (coupled input/forget gates are not supported)`);
      return { peepholes: a.peepholes, cellClip: a.clip };
    },
    fromTorch: noOptions,
    fromKeras: noOptions,
    kerasBiasRows: () => 1,
  },
};

const GRU: CellDescriptor = {
  kind: 'gru',
  recurrentWeight: true,
  gates: 3,
  gateOrder: ['r', 'z', 'n'],
  states: ['h'],
  hasCellState: false,
  auxPerRow: 1,
  optionKeys: ['resetAfter'],
  hhApart: (cfg) => (cfg.resetAfter ? 0 : 1),
  forward(a) {
    const { b, q } = a;
    const scratch = b.alloc(a.B * 3 * a.H);
    if (q) b.gruQ8(a.gates, a.aux, a.h, a.y, scratch, q.q, q.s, a.b_hh, a.lens, a.T, a.B, a.H, a.ldy, a.reverse, resetAfter(a.cfg));
    else if (a.pk) b.gruPk(a.gates, a.aux, a.h, a.y, scratch, a.w_hh, a.pk, a.b_hh, a.lens, a.T, a.B, a.H, a.ldy, a.reverse, resetAfter(a.cfg));
    else b.gru(a.gates, a.aux, a.h, a.y, scratch, a.w_hh, a.b_hh, a.lens, a.T, a.B, a.H, a.ldy, a.reverse, resetAfter(a.cfg));
  },
  backward(a) {
    const { b, T, B, H } = a;
    const TB = T * B;
    const dg_rz = b.alloc(TB * 2 * H);
    const dg_n = b.alloc(TB * H);
    const scratch = b.alloc(B * 2 * H);
    b.gruBwd(a.dgates, dg_rz, dg_n, a.dh0, a.dy, a.dhN, a.gates, a.aux, a.h, a.w_hh, a.lens, scratch, T, B, H, a.ldy, a.reverse, resetAfter(a.cfg));
    // rows r,z of dW_hh see h_{t-1}; rows n see h_{t-1} (reset-after) or r⊙h_{t-1} (Cho)
    b.gemmTn(a.dw_hh, dg_rz, a.hprev, 2 * H, H, TB, 1);
    b.gemmTn(a.dw_hh + 2 * H * H, dg_n, a.cfg.resetAfter ? a.hprev : a.aux, H, H, TB, 1);
    if (a.db_hh) {
      b.colsum(a.db_hh, dg_rz, TB, 2 * H, 1);
      b.colsum(a.db_hh + 2 * H, dg_n, TB, H, 1);
    }
  },
  forgetGate: -1,
  interchange: {
    torch: 'GRU', onnx: 'GRU', keras: 'GRU',
    onnxFromOurs: [1, 0, 2], oursFromKeras: [1, 0, 2],
    activations: [{ acts: ['sigmoid', 'tanh'], cfg: {} }],
    onnxAttributes: (cfg) => [{ name: 'linear_before_reset', int: cfg.resetAfter ? 1 : 0 }],
    fromOnnx: (a) => ({ resetAfter: a.int('linear_before_reset') !== 0 }),
    // PyTorch's GRU is the reset-after form
    fromTorch: () => ({ resetAfter: true }),
    // Keras 2.4+ defaults to reset_after=True; TF.js layers only has the Cho form
    fromKeras: (c, tfjs) => ({ resetAfter: c.reset_after === undefined ? !tfjs : !!c.reset_after }),
    kerasBiasRows: (o) => (o.resetAfter ? 2 : 1),
  },
};

// minGRU / minLSTM (Feng et al. 2024): no W_hh, so no int8 or packed recurrent copy either (q and pk
// never reach them; their W_ih gets the int8/packed GEMM like every cell's). The forward leaves the
// pre-activations in `gates` and the backward recomputes the gates from them (assembly/cells/mingru.ts).
/** A min cell: gate blocks over x only, h its one state, one scan kernel each way (op names `<kind>`, `<kind>Bwd`). */
function minCell(kind: 'mingru' | 'minlstm', gateOrder: readonly string[]): CellDescriptor {
  const fwd = kind === 'mingru' ? 'mingru' : 'minlstm';
  const bwd = kind === 'mingru' ? 'mingruBwd' : 'minlstmBwd';
  return {
    kind,
    recurrentWeight: false,
    gates: gateOrder.length,
    gateOrder,
    states: ['h'],
    hasCellState: false,
    auxPerRow: 0,
    optionKeys: ['logSpace'],
    hhApart: () => 0,
    forward(a) {
      a.b[fwd](a.h, a.y, a.gates, a.lens, a.T, a.B, a.H, a.ldy, a.reverse, logSpace(a.cfg));
    },
    backward(a) {
      const scratch = a.b.alloc(a.B * a.H);
      a.b[bwd](a.dgates, a.dh0, a.dy, a.dhN, a.gates, a.h, a.lens, scratch, a.T, a.B, a.H, a.ldy, a.reverse, logSpace(a.cfg));
    },
    // an application's forgetBias is an LSTM's (Jozefowicz et al.); the min cells keep their defaults
    forgetGate: -1,
  };
}
const MINGRU = minCell('mingru', ['z', 'h']);
const MINLSTM = minCell('minlstm', ['f', 'i', 'h']);

/** Every recurrent cell, by kind (registerCell adds more). */
export const CELLS: Readonly<Record<CellKind, CellDescriptor>> = { lstm: LSTM, gru: GRU, rnn: RNN, mingru: MINGRU, minlstm: MINLSTM };

/** Every cell kind, in registry order (what `--cell` and the apps' `cell` option accept). */
export const CELL_KINDS: readonly CellKind[] = Object.keys(CELLS) as CellKind[];

/** True for 'rnn', 'lstm' and 'gru': the cells PyTorch, ONNX and Keras files can hold. */
export function isClassicCellKind(kind: unknown): kind is ClassicCellKind {
  return kind === 'rnn' || kind === 'lstm' || kind === 'gru';
}

/** True for a kind in CELLS ('lstm', 'gru', 'rnn', 'mingru', 'minlstm' and any registered one). */
export function isCellKind(kind: unknown): kind is CellKind {
  return typeof kind === 'string' && Object.hasOwn(CELLS, kind);
}

/** The cell whose PyTorch module, ONNX operator or Keras class (`by`) is `name`, if any. */
export function cellByInterchangeName(by: 'torch' | 'onnx' | 'keras', name: unknown): CellDescriptor | undefined {
  return Object.values(CELLS).find((c: CellDescriptor) => c.interchange !== undefined && c.interchange[by] === name);
}

/** The interchange names (`by`) of every cell that has them, in registry order: "RNN, LSTM, GRU". */
export function interchangeNames(by: 'torch' | 'onnx' | 'keras'): string[] {
  return Object.values(CELLS).flatMap((c: CellDescriptor) => (c.interchange ? [c.interchange[by]] : []));
}

/**
 * Adds a cell to the registry: its kind is then a layer type (`new RecurrentCore(kind, o)`, a
 * Sequential or graph layer, a model file's `type`) and an application's `cell`, trained, saved and
 * loaded through the generic paths, and exported to ONNX when it has `interchange`. Its kernels must
 * be ops of the op table. Returns the function that removes it again; a taken kind is a ValueError.
 */
export function registerCell(d: CellDescriptor): () => void {
  const kind = d?.kind as string;
  if (typeof kind !== 'string' || !/^[a-z][a-z0-9]*$/.test(kind)) throw new ValueError(`Expected a cell kind of lower-case letters and digits, got ${JSON.stringify(kind)}`);
  if (isCellKind(kind)) throw new ValueError(`Expected a new cell kind, got '${kind}' (taken)`);
  if (!Number.isInteger(d.gates) || d.gates < 1 || d.gateOrder.length !== d.gates) throw new ValueError(`Expected gates ≥ 1 and one gateOrder name per gate for cell '${kind}', got gates ${String(d.gates)} and gateOrder [${d.gateOrder.join(', ')}]`);
  if (d.hasCellState !== d.states.includes('c')) throw new ValueError(`Expected hasCellState to say whether states include 'c' for cell '${kind}', got ${String(d.hasCellState)} with states [${d.states.join(', ')}]`);
  const table = CELLS as Record<string, CellDescriptor>;
  const kinds = CELL_KINDS as string[];
  table[kind] = d;
  kinds.push(kind);
  return () => {
    if (table[kind] !== d) return;
    delete table[kind];
    kinds.splice(kinds.indexOf(kind), 1);
  };
}
