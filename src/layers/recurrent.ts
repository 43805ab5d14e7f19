// Recurrent layers (RNN, LSTM, GRU, minGRU, minLSTM): config, parameter table (PyTorch names, shapes
// and gate orders), and the kernel calls of a forward pass: per layer and direction one input-projection
// GEMM over all T·B rows, then one fused whole-sequence cell kernel (for the min cells, which have no
// weight_hh, an elementwise scan).
import type { Init, ParamSpec } from '../params/arena';
import type { BackwardContext, EmitContext, Emitted, Module, StateSlot } from './module';
import { MERGE_MODE } from '../ir/program';
import { CELLS, type CellDescriptor, type CellKind } from './cells';
import { ShapeError, ValueError, show } from '../errors';
import { checkOptions, keysOf } from '../options';
import { checkLimit } from '../limits';
import { positiveInt as posInt } from '../ir/checks';

/** Option keys of RNN/LSTM/GRU and layers.rnn/lstm/gru (every cell's options). */
export const RECURRENT_KEYS = keysOf<AnyCellOptions>()(
  'inputSize', 'hiddenSize', 'numLayers', 'bidirectional', 'mergeMode', 'batchFirst', 'bias', 'seed', 'dropout', 'init',
  'nonlinearity', 'peepholes', 'cellClip', 'resetAfter', 'logSpace',
);
const RECURRENT_INIT_KEYS = keysOf<RecurrentInit>()('weightIh', 'weightHh', 'bias', 'forgetBias');

export type { CellKind } from './cells';
/**
 * How the two directions of a bidirectional layer combine: `concat` (PyTorch), or Keras' `sum`, `mul`, `ave`.
 */
export type MergeMode = 'concat' | 'sum' | 'mul' | 'ave';

/** Options every recurrent layer takes (RNN, LSTM, GRU, minGRU, minLSTM), named as in PyTorch. */
export interface RecurrentOptions {
  /** Input features I. */
  inputSize: number;
  /** Hidden units H per layer and direction. */
  hiddenSize: number;
  /** Stacked layers (default 1). */
  numLayers?: number;
  /** Run a reverse direction too (default false). */
  bidirectional?: boolean;
  /** How the two directions' outputs combine: 'concat' (default, PyTorch), 'sum', 'mul', 'ave' (Keras). */
  mergeMode?: MergeMode;
  /** Inputs and outputs are (B, T, F) instead of time-major (T, B, F) (default false). */
  batchFirst?: boolean;
  /** Learnable biases b_ih and b_hh (default true; b_ih only for the min cells, which have no W_hh). */
  bias?: boolean;
  /** Seed of the initialiser (default: a fixed seed, so models are reproducible). */
  seed?: number;
  /** Dropout probability on the outputs of every layer but the last, in training (default 0). */
  dropout?: number;
  /** Initialisers; default PyTorch's U(−1/√H, 1/√H) for everything. */
  init?: RecurrentInit;
}

/** How a recurrent layer initialises its weights and biases (each default: PyTorch's uniform). */
export interface RecurrentInit {
  /** weight_ih: 'uniform' (PyTorch default) or 'glorot' (Glorot/Xavier uniform). */
  weightIh?: 'uniform' | 'glorot';
  /** weight_hh: 'uniform' (default), 'glorot', or 'orthogonal' (each gate's H×H block). */
  weightHh?: 'uniform' | 'glorot' | 'orthogonal';
  /** Biases: 'uniform' (default) or 'zeros'. */
  bias?: 'uniform' | 'zeros';
  /** LSTM only: set the forget gate's b_ih to this and its b_hh to 0 (e.g. 1, as Jozefowicz et al.). */
  forgetBias?: number;
}
/** Options of a vanilla RNN: the common ones and the nonlinearity (`tanh`, the default, or `relu`). */
export interface RNNOptions extends RecurrentOptions {
  /** The activation: `'tanh'` (default) or `'relu'`. */
  nonlinearity?: 'tanh' | 'relu';
}
/** Options of an LSTM: the common ones, peepholes and cell clip. */
export interface LSTMOptions extends RecurrentOptions {
  /** Peephole connections p_i, p_f (see c_{t-1}) and p_o (sees c_t), as in ONNX (default false). */
  peepholes?: boolean;
  /** Clip gate pre-activations to [-cellClip, cellClip] as ONNX's `clip` (default: none). */
  cellClip?: number;
}
/** Options of a GRU: the common ones and the form of the candidate (`resetAfter`). */
export interface GRUOptions extends RecurrentOptions {
  /** true (default): PyTorch/cuDNN/Keras form n = tanh(W_in x + b_in + r⊙(W_hn h + b_hn));
   *  false: Cho et al. form n = tanh(W_in x + b_in + b_hn + W_hn (r⊙h)). */
  resetAfter?: boolean;
}

/** Options of a minGRU layer (Feng et al. 2024): the common ones and the log-space variant. */
export interface MinGRUOptions extends RecurrentOptions {
  /** The paper's log-space variant (default false): candidate g(k_h) = k_h + ½ (k_h ≥ 0) else σ(k_h),
   *  states stay positive and the scan runs on logarithms. Initial states must then be ≥ 0. */
  logSpace?: boolean;
}
/** Options of a minLSTM layer (Feng et al. 2024): the common ones and the log-space variant. */
export interface MinLSTMOptions extends RecurrentOptions {
  /** The paper's log-space variant (default false), as MinGRUOptions.logSpace. */
  logSpace?: boolean;
}
/** Every cell's options (each cell accepts its own subset; RecurrentCore checks which). */
export type AnyCellOptions = RNNOptions & LSTMOptions & GRUOptions & MinGRUOptions & MinLSTMOptions;

function bool(name: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw new ValueError(`Expected ${name} to be a boolean, got ${show(v)}`);
  return v;
}

/** The layer shared by RNN, LSTM, GRU, minGRU and minLSTM. */
export class RecurrentCore implements Module {
  readonly kind: CellKind;
  readonly inputKind = 'float' as const;
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly bidirectional: boolean;
  readonly mergeMode: MergeMode;
  readonly batchFirst: boolean;
  readonly bias: boolean;
  readonly nonlinearity: 'tanh' | 'relu';
  readonly peepholes: boolean;
  readonly cellClip: number;
  readonly resetAfter: boolean;
  readonly logSpace: boolean;
  readonly dropout: number;
  readonly init: Required<Omit<RecurrentInit, 'forgetBias'>> & { forgetBias?: number };

  constructor(kind: CellKind, o: AnyCellOptions) {
    checkOptions(o ?? null, RECURRENT_KEYS, `${kind.toUpperCase()} options`);
    checkOptions(o.init, RECURRENT_INIT_KEYS, `${kind.toUpperCase()} options.init`);
    this.kind = kind;
    this.inputSize = posInt('inputSize', o.inputSize);
    this.hiddenSize = posInt('hiddenSize', o.hiddenSize);
    this.numLayers = o.numLayers === undefined ? 1 : posInt('numLayers', o.numLayers);
    this.bidirectional = bool('bidirectional', o.bidirectional, false);
    // one parameter table entry, program op and state slot per layer and direction: a deeper stack
    // is a hostile or broken architecture, refused before anything is built for it
    checkLimit('maxLayers', this.numLayers * (this.bidirectional ? 2 : 1), 'numLayers (each direction counted once)');
    this.batchFirst = bool('batchFirst', o.batchFirst, false);
    this.bias = bool('bias', o.bias, true);
    const mm = o.mergeMode ?? 'concat';
    if (!['concat', 'sum', 'mul', 'ave'].includes(mm)) {
      throw new ValueError(`Expected mergeMode 'concat', 'sum', 'mul' or 'ave', got ${show(mm)}`);
    }
    this.mergeMode = mm;
    const nl = o.nonlinearity ?? 'tanh';
    if (nl !== 'tanh' && nl !== 'relu') throw new ValueError(`Expected nonlinearity 'tanh' or 'relu', got ${show(nl)}`);
    if (kind !== 'rnn' && o.nonlinearity !== undefined) throw new ValueError(`Expected no nonlinearity option for ${kind}, got ${nl}`);
    this.nonlinearity = nl;
    if (kind !== 'lstm' && (o.peepholes !== undefined || o.cellClip !== undefined)) {
      throw new ValueError(`Expected peepholes/cellClip only for lstm, got them for ${kind}`);
    }
    this.peepholes = bool('peepholes', o.peepholes, false);
    const clip = o.cellClip ?? 0;
    if (typeof clip !== 'number' || !(clip >= 0) || !Number.isFinite(clip)) {
      throw new ValueError(`Expected cellClip to be a finite number >= 0 (0 = none), got ${show(clip)}`);
    }
    this.cellClip = clip;
    if (kind !== 'gru' && o.resetAfter !== undefined) throw new ValueError(`Expected resetAfter only for gru, got it for ${kind}`);
    this.resetAfter = bool('resetAfter', o.resetAfter, true);
    if (!CELLS[kind].optionKeys.includes('logSpace') && o.logSpace !== undefined) {
      throw new ValueError(`Expected logSpace only for mingru or minlstm, got it for ${kind}`);
    }
    this.logSpace = bool('logSpace', o.logSpace, false);
    const dp = o.dropout ?? 0;
    if (typeof dp !== 'number' || !(dp >= 0 && dp < 1)) throw new ValueError(`Expected dropout in [0, 1), got ${show(dp)}`);
    this.dropout = dp;
    const ini = o.init ?? {};
    if (typeof ini !== 'object') throw new ValueError(`Expected init to be an object, got ${show(ini)}`);
    const pick = <T extends string>(name: string, v: T | undefined, ok: T[], d: T): T => {
      if (v === undefined) return d;
      if (!ok.includes(v)) throw new ValueError(`Expected init.${name} to be one of ${ok.join(', ')}, got ${show(v)}`);
      return v;
    };
    if (ini.weightHh !== undefined && !CELLS[kind].recurrentWeight) {
      throw new ValueError(`Expected no init.weightHh for ${kind} (it has no weight_hh), got ${String(ini.weightHh)}`);
    }
    if (ini.forgetBias !== undefined) {
      if (kind !== 'lstm') throw new ValueError(`Expected init.forgetBias only for lstm, got it for ${kind}`);
      if (typeof ini.forgetBias !== 'number' || !Number.isFinite(ini.forgetBias)) throw new ValueError(`Expected init.forgetBias to be a finite number, got ${show(ini.forgetBias)}`);
    }
    this.init = {
      weightIh: pick('weightIh', ini.weightIh, ['uniform', 'glorot'], 'uniform'),
      weightHh: pick('weightHh', ini.weightHh, ['uniform', 'glorot', 'orthogonal'], 'uniform'),
      bias: pick('bias', ini.bias, ['uniform', 'zeros'], 'uniform'),
      forgetBias: ini.forgetBias,
    };
    // before any model allocates it (or builds one object per layer): a layer too large for the
    // limit is refused by its sizes, counted arithmetically
    checkLimit('maxParameters', this.parameterCount, `the parameters of ${kind}(inputSize ${this.inputSize}, hiddenSize ${this.hiddenSize}, numLayers ${this.numLayers})`);
  }

  /** Number of scalar parameters (what paramSpecs() lists), computed without listing them. */
  get parameterCount(): number {
    const H = this.hiddenSize;
    const GH = this.gates * H;
    const hh = this.cell.recurrentWeight;
    const perLayer = (hh ? GH * H : 0) + (this.bias ? (hh ? 2 : 1) * GH : 0) + (this.peepholes ? 3 * H : 0);
    return this.directions * (GH * this.inputSize + (this.numLayers - 1) * GH * this.outputSize + this.numLayers * perLayer);
  }

  /** The cell's description (gates, states, kernels' emitters): src/layers/cells.ts. */
  get cell(): CellDescriptor {
    return CELLS[this.kind];
  }
  get gates(): number {
    return this.cell.gates;
  }
  get directions(): number {
    return this.bidirectional ? 2 : 1;
  }
  /** Width of one layer's output. */
  get outputSize(): number {
    return this.bidirectional && this.mergeMode === 'concat' ? 2 * this.hiddenSize : this.hiddenSize;
  }

  /** Input width of layer l. */
  layerInput(l: number): number {
    return l === 0 ? this.inputSize : this.outputSize;
  }

  paramSpecs(): ParamSpec[] {
    const H = this.hiddenSize;
    const GH = this.gates * H;
    const bound = 1 / Math.sqrt(H);
    const init: Init = { kind: 'uniform', bound };
    const glorot = (fanIn: number, fanOut: number): Init => ({ kind: 'uniform', bound: Math.sqrt(6 / (fanIn + fanOut)) });
    const G = this.gates;
    const biasInit = (ih: boolean): Init => {
      const base: Init = this.init.bias === 'zeros' ? { kind: 'zeros' } : init;
      if (this.init.forgetBias === undefined) return base;
      // gate order i, f, g, o: the forget slice is the second quarter
      const f: Init = ih ? { kind: 'const', value: this.init.forgetBias } : { kind: 'zeros' };
      return { kind: 'slices', parts: [base, f, base, base] };
    };
    const specs: ParamSpec[] = [];
    for (let l = 0; l < this.numLayers; l++) {
      for (let d = 0; d < this.directions; d++) {
        const sfx = `_l${l}${d ? '_reverse' : ''}`;
        const I = this.layerInput(l);
        const ih: Init = this.init.weightIh === 'glorot' ? glorot(I, GH) : init;
        const hh: Init =
          this.init.weightHh === 'orthogonal' ? { kind: 'orthogonal', blocks: G, gain: 1 } : this.init.weightHh === 'glorot' ? glorot(H, GH) : init;
        specs.push({ name: `weight_ih${sfx}`, shape: [GH, I], init: ih });
        const rec = this.cell.recurrentWeight;
        if (rec) specs.push({ name: `weight_hh${sfx}`, shape: [GH, H], init: hh });
        if (this.bias) {
          specs.push({ name: `bias_ih${sfx}`, shape: [GH], init: biasInit(true) });
          if (rec) specs.push({ name: `bias_hh${sfx}`, shape: [GH], init: biasInit(false) });
        }
        if (this.peepholes) specs.push({ name: `weight_peep${sfx}`, shape: [3 * H], init });
      }
    }
    return specs;
  }

  outFeatures(inFeatures: number): number {
    if (inFeatures !== this.inputSize) {
      throw new ShapeError(`Expected input features ${this.inputSize} (inputSize) for ${this.kind}, got ${inFeatures}`);
    }
    return this.outputSize;
  }

  emit(ctx: EmitContext, input: number, inFeatures: number): Emitted {
    this.outFeatures(inFeatures);
    const { b, T, B, lens } = ctx;
    const H = this.hiddenSize;
    const G = this.gates;
    const D = this.directions;
    const TB = T * B;
    const states: StateSlot[] = [];
    // what backward needs, per layer and direction
    interface Saved {
      sfx: string;
      d: number;
      gates: number;
      h: number;
      c: number;
      aux: number;
      dh0: number;
      dc0: number;
    }
    const saved: { x: number; I: number; cat: number; merged: number; dirs: Saved[]; mask: number }[] = [];
    let x = input;
    for (let l = 0; l < this.numLayers; l++) {
      const I = this.layerInput(l);
      // concat output of both directions; merged afterwards for sum/mul/ave
      const cat = b.alloc(TB * D * H);
      const dirs: Saved[] = [];
      for (let d = 0; d < D; d++) {
        const sfx = `_l${l}${d ? '_reverse' : ''}`;
        const idx = l * D + d;
        const gates = b.alloc(TB * G * H);
        const h = b.alloc((T + 1) * B * H);
        const hInit = d === 0 ? h : h + T * B * H;
        const hFinal = d === 0 ? h + T * B * H : h;
        const rec = this.cell.recurrentWeight;
        const w_ih = ctx.param(`weight_ih${sfx}`);
        const w_hh = rec ? ctx.param(`weight_hh${sfx}`) : 0;
        const b_ih = ctx.optParam(`bias_ih${sfx}`);
        const b_hh = rec ? ctx.optParam(`bias_hh${sfx}`) : 0;
        const y = cat + d * H;
        const sv: Saved = { sfx, d, gates, h, c: 0, aux: 0, dh0: 0, dc0: 0 };
        // int8 copies of the weights in inference programs of a quantized model (src/model/quantize.ts)
        const qih = ctx.training ? undefined : ctx.quant?.(`weight_ih${sfx}`);
        const qhh = ctx.training || !rec ? undefined : ctx.quant?.(`weight_hh${sfx}`);
        ctx.loadState?.('h', idx, hInit, H);
        // packed copies kept for batch-1 plans (src/model/packs.ts); W_ih only when one row multiplies it
        const pih = qih || ctx.training || TB !== 1 ? undefined : ctx.packed?.(`weight_ih${sfx}`, G * H, I);
        const phh = qhh || ctx.training || !rec ? undefined : ctx.packed?.(`weight_hh${sfx}`, G * H, H, this.cell.hhApart(this));
        if (qih) b.gemmQ8(gates, x, qih.q, qih.s, b_ih, TB, G * H, I, 0);
        else if (pih) b.gemmPk(gates, x, w_ih, pih, b_ih, TB, G * H, I, 0);
        else b.gemmNt(gates, x, w_ih, b_ih, TB, G * H, I, 0);
        const cell = this.cell;
        if (cell.hasCellState) sv.c = b.alloc((T + 1) * B * H);
        if (cell.auxPerRow) sv.aux = b.alloc(TB * cell.auxPerRow * H);
        const cInit = d === 0 ? sv.c : sv.c + T * B * H;
        if (cell.hasCellState) ctx.loadState?.('c', idx, cInit, H);
        const peep = this.peepholes ? ctx.param(`weight_peep${sfx}`) : 0;
        cell.forward({ b, cfg: this, gates, h, c: sv.c, aux: sv.aux, y, w_hh, b_hh, peep, lens, T, B, H, ldy: D * H, reverse: d, q: qhh, pk: phh });
        if (cell.hasCellState) {
          const cFinal = d === 0 ? sv.c + T * B * H : sv.c;
          if (ctx.training) sv.dc0 = b.alloc(B * H);
          states.push({ kind: 'c', index: idx, init: cInit, final: cFinal, H, dInit: sv.dc0 || undefined });
          if (ctx.streaming) b.copy(cInit, cFinal, B * H);
        }
        if (ctx.training) sv.dh0 = b.alloc(B * H);
        states.push({ kind: 'h', index: idx, init: hInit, final: hFinal, H, dInit: sv.dh0 || undefined });
        if (ctx.streaming) b.copy(hInit, hFinal, B * H);
        dirs.push(sv);
      }
      let merged = 0;
      if (D === 2 && this.mergeMode !== 'concat') {
        merged = b.alloc(TB * H);
        b.merge(merged, cat, TB, H, MERGE_MODE[this.mergeMode as Exclude<MergeMode, 'concat'>]);
      }
      const out = merged || cat;
      // dropout between stacked layers (training steps only; inference and evaluate: the identity)
      let mask = 0;
      let next = out;
      if (ctx.dropout && this.dropout > 0 && l < this.numLayers - 1) {
        const n = TB * this.outputSize;
        mask = b.alloc(n);
        next = b.alloc(n);
        b.dropout(next, mask, out, ctx.rngState, n, this.dropout);
      }
      saved.push({ x, I, cat, merged, dirs, mask });
      x = next;
    }
    if (!ctx.training) return { out: x, features: this.outputSize, states };

    const backward = (bc: BackwardContext, dOut: number): number => {
      const bb = bc.b;
      let dY = dOut;
      for (let l = this.numLayers - 1; l >= 0; l--) {
        const { x: xl, I, cat, merged, dirs, mask } = saved[l];
        // through the dropout applied to this layer's output
        if (mask) bb.mul(dY, dY, mask, TB * this.outputSize);
        // gradient of the concat buffer
        let dcat = dY;
        if (merged) {
          dcat = bb.alloc(TB * D * H);
          bb.mergeBwd(dcat, dY, cat, TB, H, MERGE_MODE[this.mergeMode as Exclude<MergeMode, 'concat'>]);
        }
        const needDx = l > 0 || bc.needInputGrad;
        const dx = needDx ? bb.alloc(TB * I) : 0;
        dirs.forEach((sv, di) => {
          const { sfx, d, gates, h, c, aux } = sv;
          const rec = this.cell.recurrentWeight;
          const w_ih = bc.param(`weight_ih${sfx}`);
          const w_hh = rec ? bc.param(`weight_hh${sfx}`) : 0;
          const dw_ih = bc.grad(`weight_ih${sfx}`);
          const dw_hh = rec ? bc.grad(`weight_hh${sfx}`) : 0;
          const db_ih = bc.optGrad(`bias_ih${sfx}`);
          const db_hh = rec ? bc.optGrad(`bias_hh${sfx}`) : 0;
          const dgates = bb.alloc(TB * G * H);
          const hprev = d === 0 ? h : h + B * H; // rows [0,T) fwd, [1,T] rev
          const dy = dcat + d * H;
          const idx = l * D + d;
          const dhN = bc.dFinal?.('h', idx) ?? 0;
          const peep = this.peepholes ? bc.param(`weight_peep${sfx}`) : 0;
          const dpeep = this.peepholes ? bc.grad(`weight_peep${sfx}`) : 0;
          const dcN = this.cell.hasCellState ? (bc.dFinal?.('c', idx) ?? 0) : 0;
          this.cell.backward({
            b: bb, cfg: this, gates, h, c, aux, w_hh, peep, lens, T, B, H, ldy: D * H, reverse: d,
            dgates, dh0: sv.dh0, dc0: sv.dc0, dpeep, dy, dhN, dcN, hprev, dw_hh, db_hh,
          });
          bb.gemmTn(dw_ih, dgates, xl, G * H, I, TB, 1);
          if (db_ih) bb.colsum(db_ih, dgates, TB, G * H, 1);
          if (dx) bb.gemmNn(dx, dgates, w_ih, TB, I, G * H, di > 0 ? 1 : 0);
        });
        dY = dx;
      }
      return dY;
    };
    return { out: x, features: this.outputSize, states, backward };
  }

  config(): Record<string, unknown> {
    const c: Record<string, unknown> = {
      type: this.kind,
      inputSize: this.inputSize,
      hiddenSize: this.hiddenSize,
      numLayers: this.numLayers,
      bidirectional: this.bidirectional,
      mergeMode: this.mergeMode,
      batchFirst: this.batchFirst,
      bias: this.bias,
      dropout: this.dropout,
    };
    for (const k of this.cell.optionKeys) c[k] = this[k];
    return c;
  }
}
