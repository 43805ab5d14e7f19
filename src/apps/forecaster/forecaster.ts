// Forecaster: time-series regression on the model graph. A window of `window` steps of F features
// (scaled) → RNN/LSTM/GRU stack → the next `horizon` steps of the target columns: many-to-one
// (the last state → linear), many-to-many (every step predicts the horizon after it; MSE over
// every step) or encoder-decoder (the window's final state starts a decoder that reads the columns
// known in advance — calendar features — of each forecast day and emits its targets). Trained with MSE in scaled units on every window of a series; the scaling,
// architecture and training state travel in the model file.
import { cellNode } from '../common/cells';
import * as g from '../../graph/nodes';
import { GraphModel } from '../../graph/model';
import { architectureOf, specOf, type GraphParts } from '../../graph/spec';
import { Adam, type Optimizer } from '../../train/optim';
import { deserializeGraph, FormatError, isObject, type SaveOptions } from '../../io/format';
import { loadGraph } from '../../io/files';
import { Tensor } from '../../tensor';
import { ValueError, show, describe } from '../../errors';
import { checkKeys } from '../charlm/options';
import { checkLoop, graphStep, resolveLoopSettings, runLoop, type LoopOptions, type LoopResult } from '../graph-loop';
import { GraphApp, type TrainingState } from '../graph-app';
import { checkForecasterConfig, checkSeries, type ForecasterConfig, type ForecasterOptions } from './options';
import { checkScaling, fitScaling, type Scaling } from './scaling';

/** A time series: one number per step (one feature), or one row of `features` numbers per step. */
export type Series = readonly number[] | readonly (readonly number[])[];

/** Options of `Forecaster.train`: the shared training loop's options and the held-out fraction. */
export interface ForecasterTrainOptions extends LoopOptions {
  /** Held-out windows: the fraction of the series at its end whose steps are forecast (default 0.1), or 0. */
  validation?: number;
}

/** What `Forecaster.evaluate` returns: the errors of the forecasts it made, in the series' units. */
export interface ForecastErrors {
  /** Mean absolute and root-mean-square error over every forecast step and target, in the series' units. */
  mae: number;
  /** Root-mean-square error, in the same units. */
  rmse: number;
  /** Forecasts made (windows). */
  windows: number;
}

// Version 2 files carry `known` columns (encoder-decoder); every other model is written as version 1,
// which older readers still load.
const FILE_VERSION = 2;

/**
 * Time-series forecasting on the model graph: a window of steps → RNN/LSTM/GRU → the next `horizon` steps of
 * the target columns, many-to-one, many-to-many or encoder-decoder with covariates known in advance. Inputs
 * and targets are scaled with statistics stored in the model file, so forecasts come back in the series'
 * units.
 */
export class Forecaster extends GraphApp {
  /** The architecture and data layout. */
  readonly config: Readonly<ForecasterConfig>;
  /** The network (a graph model). */
  readonly model: GraphModel;
  private scalingFit: Scaling | null;

  constructor(o: ForecasterOptions = {}, restored?: { model: GraphModel; scaling: Scaling | null; optimizer?: Optimizer; training?: TrainingState }) {
    super();
    this.config = Object.freeze(checkForecasterConfig(o));
    this.model = restored?.model ?? buildGraph(this.config);
    this.scalingFit = restored?.scaling ?? null;
    this.optimizer = restored?.optimizer ?? null;
    this.training = restored?.training ?? null;
  }

  /** The scaling fitted on the first training series (null before training). */
  get scaling(): Readonly<Scaling> | null {
    return this.scalingFit;
  }

  /** Trains on every window of the series (MSE in scaled units); a later call or a loaded checkpoint continues the run. */
  async train(series: Series, o: ForecasterTrainOptions): Promise<LoopResult> {
    const run = checkLoop(o, ['validation'], 'train');
    const { batchSize, lr, clipNorm, seed } = o;
    const settings = resolveLoopSettings({ batchSize, lr, clipNorm, seed }, this.training?.settings, this.config.seed);
    if (this.optimizer && this.optimizer.lr !== settings.lr) throw new ValueError(`Expected lr ${this.optimizer.lr} (the optimizer's), got ${settings.lr}`);
    const { window: W, horizon: Hz } = this.config;
    const rows = checkSeries(series, this.config.features, W + Hz, 'series');
    // the held-out fraction decides the training windows: a resumed run keeps the checkpoint's
    const stored = this.training?.validation;
    const v = o.validation ?? stored ?? 0.1;
    if (typeof v !== 'number' || !(v >= 0 && v < 1)) throw new ValueError(`Expected validation to be a fraction in [0, 1), got ${show(o.validation)}`);
    if (stored !== undefined && v !== stored) throw new ValueError(`Expected validation ${stored} (the checkpoint's, to resume the same run), got ${v}`);
    const cut = v > 0 ? Math.floor(rows.length * (1 - v)) : rows.length;
    if (cut < W + Hz) throw new ValueError(`Expected at least ${W + Hz} training steps before the validation part, got ${cut}`);
    // everything is validated: from here on the model changes
    this.scalingFit ??= fitScaling(this.config.scaling, rows.slice(0, cut), this.config.features);
    const scaled = this.scale(rows);
    const trainStarts = range(W, cut - Hz);
    const validStarts = v > 0 ? range(Math.max(W, cut), rows.length - Hz) : [];
    this.training ??= { settings, step: 0, validation: v };
    this.optimizer ??= new Adam({ lr: settings.lr });
    return runLoop({
      settings, state: this.training, examples: trainStarts.length,
      step: graphStep(this.model, this.optimizer, { y: 'mse' }, settings.clipNorm, (idx) => this.batch(scaled, idx.map((i) => trainStarts[i]))),
      validate: validStarts.length ? () => this.scaledLoss(scaled, validStarts) : null,
      snapshot: () => this.model.stateDict(),
      restore: (s) => this.model.loadStateDict(s as Record<string, Float32Array>),
    }, run);
  }

  /**
   * The next `horizon` steps after history (its last `window` rows): rows of the target columns, in
   * the series' units. An encoder-decoder forecaster also needs `future`: the `horizon` rows of its
   * known columns (in the order of `config.known`) for the days it forecasts.
   */
  forecast(history: Series, future?: Series): number[][] {
    const { features: F, window: W, horizon: Hz, known } = this.config;
    const rows = checkSeries(history, F, W, 'history');
    if (!known.length) {
      if (future !== undefined) throw new ValueError(`Expected no future rows (this forecaster has no known columns), got ${typeof future}`);
      return this.predict(this.scale(rows), [rows.length])[0];
    }
    if (future === undefined) throw new ValueError(`Expected future: ${Hz} rows of the known columns [${known.join(', ')}], got none`);
    const ahead = checkSeries(future, known.length, Hz, 'future');
    if (ahead.length !== Hz) throw new ValueError(`Expected future of ${Hz} rows (the horizon), got ${ahead.length}`);
    // the forecast days as full rows: known columns filled, the rest never read
    const tail = rows.slice(-W);
    const days = ahead.map((r) => {
      const row = new Array<number>(F).fill(0);
      known.forEach((k, i) => (row[k] = r[i]));
      return row;
    });
    return this.predict(this.scale([...tail, ...days]), [W])[0];
  }

  /** Forecasts at each start (the first forecast step) of a series, batched: starts in [window, length]. */
  forecastAt(series: Series, starts: readonly number[]): number[][][] {
    const rows = checkSeries(series, this.config.features, this.config.window, 'series');
    if (!Array.isArray(starts)) throw new ValueError(`Expected starts to be an array of indices, got ${show(starts)}`);
    // an encoder-decoder reads the known columns of the forecast days from the series
    const last = rows.length - (this.config.known.length ? this.config.horizon : 0);
    starts.forEach((s, i) => {
      if (!Number.isInteger(s) || s < this.config.window || s > last) throw new ValueError(`Expected starts[${i}] in [${this.config.window}, ${last}], got ${show(s)}`);
    });
    return this.predict(this.scale(rows), starts);
  }

  /** Errors of the forecasts starting at every step from `from` (default window) whose horizon lies inside the series. */
  evaluate(series: Series, o: { from?: number; stride?: number } = {}): ForecastErrors {
    if (!o || typeof o !== 'object') throw new ValueError(`Expected evaluate options as an object, got ${show(o)}`);
    checkKeys(o, ['from', 'stride'], 'evaluate option');
    const rows = checkSeries(series, this.config.features, this.config.window + this.config.horizon, 'series');
    const { window: W, horizon: Hz, targets } = this.config;
    const from = o.from ?? W;
    const stride = o.stride ?? 1;
    if (!Number.isInteger(from) || from < W || from > rows.length - Hz) throw new ValueError(`Expected from in [${W}, ${rows.length - Hz}], got ${show(o.from)}`);
    if (!Number.isInteger(stride) || stride < 1) throw new ValueError(`Expected stride to be a positive integer, got ${show(o.stride)}`);
    const starts: number[] = [];
    for (let s = from; s <= rows.length - Hz; s += stride) starts.push(s);
    const preds = this.predict(this.scale(rows), starts);
    let abs = 0;
    let sq = 0;
    let n = 0;
    preds.forEach((p, w) => p.forEach((row, k) => row.forEach((v, j) => {
      const e = v - rows[starts[w] + k][targets[j]];
      abs += Math.abs(e);
      sq += e * e;
      n++;
    })));
    return { mae: abs / n, rmse: Math.sqrt(sq / n), windows: starts.length };
  }

  /** A forecaster from the bytes of its model file. */
  static deserialize(bytes: Uint8Array | ArrayBuffer): Forecaster {
    return fromLoaded(deserializeGraph(bytes));
  }
  /** A forecaster from a model file (a path in Node, or bytes, or a Blob). */
  static async load(source: string | Uint8Array | ArrayBuffer | Blob): Promise<Forecaster> {
    return fromLoaded(await loadGraph(source));
  }
  protected fileParts(training: TrainingState | undefined): Pick<SaveOptions, 'metadata'> {
    // a forecaster without known-future columns is written as version 1, which older readers take
    const { known, ...v1 } = this.config;
    const forecaster: Record<string, unknown> = known.length ? { version: FILE_VERSION, config: this.config, scaling: this.scalingFit } : { version: 1, config: v1, scaling: this.scalingFit };
    if (training) forecaster.training = training;
    return { metadata: { forecaster } };
  }

  private scale(rows: number[][]): number[][] {
    const s = this.scalingFit;
    if (!s) throw new ValueError('Expected a trained forecaster (its scaling is fitted by train()), got an untrained one');
    return rows.map((r) => r.map((v, f) => (v - s.shift[f]) / s.scale[f]));
  }

  /**
   * One batch: windows ending before each start; targets the horizon after the last step
   * (many-to-one), after every step (many-to-many), or one row per forecast day (encoder-decoder).
   */
  private batch(scaled: number[][], starts: number[]): { inputs: Record<string, Tensor>; targets: { y: Tensor } } {
    const { window: W, horizon: Hz, targets, mode } = this.config;
    const B = starts.length;
    const O = targets.length;
    const { inputs, levels } = this.windows(scaled, starts);
    if (mode === 'encoder-decoder') {
      const y = new Float32Array(Hz * B * O);
      starts.forEach((s, b) => {
        for (let h = 0; h < Hz; h++) for (let j = 0; j < O; j++) y[(h * B + b) * O + j] = scaled[s + h][targets[j]] - levels[b * O + j];
      });
      return { inputs, targets: { y: new Tensor(y, [Hz, B, O]) } };
    }
    const steps = mode === 'many-to-one' ? 1 : W;
    const y = new Float32Array(steps * B * Hz * O);
    for (let k = 0; k < steps; k++) {
      starts.forEach((s, b) => {
        const after = mode === 'many-to-one' ? s : s - W + k + 1; // first step this output predicts
        for (let h = 0; h < Hz; h++) for (let j = 0; j < O; j++) y[((k * B + b) * Hz + h) * O + j] = scaled[after + h][targets[j]] - levels[b * O + j];
      });
    }
    return { inputs, targets: { y: new Tensor(y, mode === 'many-to-one' ? [B, Hz * O] : [W, B, Hz * O]) } };
  }

  /**
   * Inputs x (W, B, F) of the windows before each start (and, with known columns, future (Hz, B, K):
   * those columns of the forecast days), and each window's level per target column (0 unless level 'window').
   */
  private windows(scaled: number[][], starts: readonly number[]): { inputs: Record<string, Tensor>; levels: Float64Array } {
    const { window: W, horizon: Hz, features: F, targets, known, level } = this.config;
    const B = starts.length;
    const O = targets.length;
    const x = new Float32Array(W * B * F);
    const levels = new Float64Array(B * O);
    starts.forEach((s, b) => {
      if (level === 'window') {
        targets.forEach((f, j) => {
          let m = 0;
          for (let t = s - W; t < s; t++) m += scaled[t][f];
          levels[b * O + j] = m / W;
        });
      }
      for (let t = 0; t < W; t++) {
        const row = scaled[s - W + t].slice();
        targets.forEach((f, j) => (row[f] -= levels[b * O + j]));
        x.set(row, (t * B + b) * F);
      }
    });
    const inputs: Record<string, Tensor> = { x: new Tensor(x, [W, B, F]) };
    const K = known.length;
    if (K) {
      const future = new Float32Array(Hz * B * K);
      starts.forEach((s, b) => {
        for (let h = 0; h < Hz; h++) known.forEach((k, i) => (future[(h * B + b) * K + i] = scaled[s + h][k]));
      });
      inputs.future = new Tensor(future, [Hz, B, K]);
    }
    return { inputs, levels };
  }

  private scaledLoss(scaled: number[][], starts: number[]): number {
    let sum = 0;
    for (let i = 0; i < starts.length; i += 256) {
      const part = starts.slice(i, i + 256);
      sum += this.model.evaluate(this.batch(scaled, part), { losses: { y: 'mse' } }).loss * part.length;
    }
    return sum / starts.length;
  }

  /** Unscaled forecasts (horizon × targets) at each start, in batches of 256 windows. */
  private predict(scaled: number[][], starts: readonly number[]): number[][][] {
    const { window: W, horizon: Hz, targets, mode } = this.config;
    const s = this.scalingFit!;
    const O = targets.length;
    const out: number[][][] = [];
    for (let i = 0; i < starts.length; i += 256) {
      const part = starts.slice(i, i + 256);
      const B = part.length;
      const { inputs, levels } = this.windows(scaled, part);
      const y = this.model.forward(inputs).y.data;
      const base = mode === 'many-to-many' ? (W - 1) * B * Hz * O : 0; // the last step's outputs
      // (B, Hz·O) from a many-to-one head or many-to-many's last step; (Hz, B, O) from a decoder
      const at = mode === 'encoder-decoder' ? (b: number, h: number) => (h * B + b) * O : (b: number, h: number) => base + (b * Hz + h) * O;
      for (let b = 0; b < B; b++) {
        out.push(Array.from({ length: Hz }, (_, h) => targets.map((f, j) => (y[at(b, h) + j] + levels[b * O + j]) * s.scale[f] + s.shift[f])));
      }
    }
    return out;
  }
}

const range = (a: number, b: number): number[] => (b >= a ? Array.from({ length: b - a + 1 }, (_, i) => a + i) : []);

function buildGraph(c: ForecasterConfig): GraphModel {
  return new GraphModel(graphParts(c));
}
function graphParts(c: ForecasterConfig): GraphParts {
  const x = g.input('x', { type: 'float', features: c.features });
  const stack = (v: g.Sym, name: string, initialState?: g.RecurrentNodeOptions['initialState']): g.RecurrentSyms => {
    const rec = { hiddenSize: c.hiddenSize, numLayers: c.numLayers, name, initialState };
    return cellNode(c.cell, v, rec, { forgetBias: true });
  };
  const r = stack(x, 'rnn');
  if (c.mode === 'encoder-decoder') {
    // the decoder starts from the encoder's final states and reads the known columns of each forecast day
    const future = g.input('future', { type: 'float', features: c.known.length });
    const d = stack(future, 'decoder', { h: r.hN, c: r.cN });
    const y = g.linear(d.output, { outFeatures: c.targets.length, name: 'head' });
    return { inputs: [x, future], outputs: { y }, seed: c.seed };
  }
  const last = c.mode === 'many-to-one' ? g.pool(r.output, { mode: 'last', name: 'last' }) : r.output;
  const y = g.linear(last, { outFeatures: c.horizon * c.targets.length, name: 'head' });
  return { inputs: [x], outputs: { y }, seed: c.seed };
}

function fromLoaded(l: { model: GraphModel; metadata?: Record<string, unknown>; optimizer?: Optimizer }): Forecaster {
  try {
    const meta = l.metadata?.forecaster as { version?: number; config?: ForecasterConfig; scaling?: unknown; training?: TrainingState } | undefined;
    if (!meta || (meta.version !== 1 && meta.version !== FILE_VERSION) || !isObject(meta.config)) throw new FormatError(`Expected a forecaster file (metadata.forecaster version 1 or ${FILE_VERSION}), got ${meta ? `version ${show(meta.version)} and config ${describe(meta.config)}` : 'a model without it'}`);
    if (meta.version === 1 && 'known' in meta.config) throw new FormatError('Expected no known columns in a version 1 forecaster file, got some');
    const scaling = meta.scaling == null ? null : checkScaling(meta.scaling, meta.config.features);
    const f = new Forecaster(meta.config, { model: l.model, scaling, optimizer: l.optimizer, training: meta.training });
    // compared as specs: no second model is built from the metadata (the int8 marker aside)
    const same = architectureOf(specOf(graphParts(f.config))) === architectureOf(l.model.spec());
    if (!same) throw new FormatError('Expected the graph metadata.forecaster describes, got another graph');
    return f;
  } catch (e) {
    l.optimizer?.dispose();
    l.model.dispose();
    if (e instanceof ValueError) throw new FormatError(`Expected a valid forecaster file, got: ${e.message}`);
    throw e;
  }
}
