// Optimizers: each keeps its moment buffers in one heap block laid out like the parameter arena,
// so a step is one kernel call over the whole arena. Learning-rate schedules are plain functions
// of the step count, checked when made and at every step (a rate that is NaN, infinite or
// negative is refused before the update). Optimizer state (from a file or loadState) is validated
// before anything is written.
import type { Runtime } from '../wasm/load';
import type { Arena } from '../params/arena';
import { ValueError, show } from '../errors';
import type { Kernels } from '../wasm/abi';
import { checkOptions, keysOf } from '../options';
import { positiveInt as posInt } from '../ir/checks';

const SGD_KEYS = keysOf<SGDOptions>()('lr', 'momentum', 'dampening', 'nesterov', 'weightDecay', 'schedule');
const RMSPROP_KEYS = keysOf<RMSPropOptions>()('lr', 'alpha', 'eps', 'momentum', 'weightDecay', 'schedule');
export const ADAM_KEYS = keysOf<AdamOptions>()('lr', 'beta1', 'beta2', 'eps', 'weightDecay', 'schedule');

/** The optimizer kernels a step calls. */
type K = Pick<Kernels, 'sgd_step' | 'rmsprop_step' | 'adam_step'>;

/** A learning-rate schedule: the rate for step t (0-based) given the base rate. */
export type Schedule = (step: number, baseLr: number) => number;


/**
 * Learning-rate schedules, each a function of the step count; pass one as `schedule` to an optimizer. Each is
 * checked when made, and the rate it gives at every step.
 */
export const schedules = {
  /** lr · gamma^floor(t / stepSize) */
  step: (stepSize: number, gamma = 0.1): Schedule => {
    posInt('stepSize', stepSize);
    num('gamma', gamma, 0);
    return (t, lr) => lr * gamma ** Math.floor(t / stepSize);
  },
  /** lr · gamma^t */
  exponential: (gamma: number): Schedule => {
    num('gamma', gamma, 0);
    return (t, lr) => lr * gamma ** t;
  },
  /** cosine from lr to minLr over `total` steps, then minLr */
  cosine: (total: number, minLr = 0): Schedule => {
    posInt('total', total);
    num('minLr', minLr, 0);
    return (t, lr) => minLr + ((lr - minLr) * (1 + Math.cos(Math.PI * Math.min(t, total) / total))) / 2;
  },
  /** linear warmup over `warmup` steps, then `after` (default constant) */
  warmup: (warmup: number, after?: Schedule): Schedule => {
    posInt('warmup', warmup);
    if (after !== undefined && typeof after !== 'function') throw new ValueError(`Expected after to be a schedule function, got ${typeof after}`);
    return (t, lr) => (t < warmup ? (lr * (t + 1)) / warmup : after ? after(t - warmup, lr) : lr);
  },
};

function num(name: string, v: unknown, lo: number, hi = Infinity, loOpen = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || (loOpen ? v <= lo : v < lo) || v > hi) {
    throw new ValueError(`Expected ${name} to be a finite number in ${loOpen ? '(' : '['}${lo}, ${hi}], got ${show(v)}`);
  }
  return v;
}

/** An optimizer's state as plain data: its kind, step count and moment buffers (what checkpoints store). */
export interface OptimizerState {
  /** The optimizer: `'sgd'`, `'rmsprop'`, `'adam'` or `'adamw'`. */
  kind: string;
  /** Updates taken so far (Adam's bias correction reads it). */
  step: number;
  /** Moment buffers, concatenated in the order the optimizer defines. */
  buffers: Float32Array;
}

/** The optimizer kinds a state or a file may name. */
export const OPTIMIZER_KINDS: readonly string[] = ['sgd', 'rmsprop', 'adam', 'adamw'];

/**
 * Throws a ValueError naming the field unless `s` is a usable optimizer state: a known kind
 * (`kind`, when given, must match), a step that is a non-negative integer, moment buffers that are
 * a Float32Array of `values` finite numbers (when given), and second moments (Adam's v, RMSProp's
 * square average: the buffer at index `nonNegative` of `nbufs`) that are not negative. The file
 * reader calls this before it builds anything from a file's optimizer section.
 */
export function validateOptimizerState(s: unknown, expect: { kind?: string; values?: number; nbufs?: number } = {}): asserts s is OptimizerState {
  if (s === null || typeof s !== 'object') throw new ValueError(`Expected an optimizer state { kind, step, buffers }, got ${s === null ? 'null' : typeof s}`);
  const { kind, step, buffers } = s as Record<string, unknown>;
  if (typeof kind !== 'string' || !OPTIMIZER_KINDS.includes(kind)) throw new ValueError(`Expected optimizer state kind among ${OPTIMIZER_KINDS.join(', ')}, got ${JSON.stringify(kind) ?? String(kind)}`);
  if (expect.kind !== undefined && kind !== expect.kind) throw new ValueError(`Expected optimizer state of kind ${expect.kind}, got ${kind}`);
  if (typeof step !== 'number' || !Number.isSafeInteger(step) || step < 0) throw new ValueError(`Expected optimizer state step to be a non-negative integer, got ${JSON.stringify(step) ?? String(step)}`);
  if (!(buffers instanceof Float32Array)) throw new ValueError(`Expected optimizer state buffers as a Float32Array, got ${buffers === null ? 'null' : typeof buffers}`);
  if (expect.values !== undefined && buffers.length !== expect.values) throw new ValueError(`Expected ${expect.values} optimizer state values, got ${buffers.length}`);
  // Adam/AdamW: [m, v]; RMSProp: [square average, momentum?]
  const second = kind === 'adam' || kind === 'adamw' ? 1 : kind === 'rmsprop' ? 0 : -1;
  const per = expect.nbufs ? buffers.length / expect.nbufs : 0;
  for (let i = 0; i < buffers.length; i++) {
    const v = buffers[i];
    if (!Number.isFinite(v)) throw new ValueError(`Expected finite optimizer state buffers, got ${v} at index ${i}`);
    if (v < 0 && per > 0 && Math.floor(i / per) === second) throw new ValueError(`Expected non-negative second moments in the optimizer state buffers, got ${v} at index ${i}`);
  }
}

// Releases the moment buffers of an optimizer that was garbage-collected while bound.
const optimizers = new FinalizationRegistry<{ rt: Runtime; bufs: number[] }>(({ rt, bufs }) => {
  for (const b of bufs) rt.heap.release(b);
});

/**
 * The base of SGD, RMSProp, Adam and AdamW: hyperparameters, an optional schedule, and moment buffers in wasm
 * memory laid out like the parameter arena, so one update is one kernel over every parameter.
 */
export abstract class Optimizer {
  /** Base learning rate (a schedule scales it per step). */
  readonly lr: number;
  /** Weight decay (L2 added to the gradient; decoupled from it in AdamW). */
  readonly weightDecay: number;
  /** The learning-rate schedule, if any. */
  readonly schedule?: Schedule;
  /** Steps taken so far. */
  step = 0;
  protected rt: Runtime | null = null;
  protected arena: Arena | null = null;
  protected bufs: number[] = [];
  protected constructor(o: { lr?: number; weightDecay?: number; schedule?: Schedule }, defaultLr: number, keys: readonly string[]) {
    checkOptions(o, keys, `${new.target.name} options`);
    this.lr = num('lr', o.lr ?? defaultLr, 0, Infinity, true);
    this.weightDecay = num('weightDecay', o.weightDecay ?? 0, 0);
    if (o.schedule !== undefined && typeof o.schedule !== 'function') throw new ValueError(`Expected schedule to be a function, got ${typeof o.schedule}`);
    this.schedule = o.schedule;
  }
  /** The optimizer's name in files: `'sgd'`, `'rmsprop'`, `'adam'` or `'adamw'`. */
  abstract readonly kind: string;
  protected abstract readonly nbufs: number;
  /** Moment buffers per parameter (0–2): what state() and a checkpoint hold per parameter. */
  get numBuffers(): number {
    return this.nbufs;
  }

  /** Learning rate in force for the next step. */
  currentLr(): number {
    return this.schedule ? this.schedule(this.step, this.lr) : this.lr;
  }

  /** The learning rate of step `t`; a ValueError when the schedule gives NaN, ±Inf or a negative rate. */
  checkedLr(t: number): number {
    const lr = this.schedule ? this.schedule(t, this.lr) : this.lr;
    if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) {
      throw new ValueError(`Expected a finite learning rate ≥ 0 from the schedule at step ${t}, got ${show(lr)}; parameters were not updated`);
    }
    return lr;
  }

  /** @internal throws unless this optimizer may be bound to `arena` (unbound, or bound to it already). */
  checkBindable(arena: Arena): void {
    if (this.arena && this.arena !== arena) throw new ValueError('Expected an optimizer used with one model only, got a second model');
  }

  /** @internal whether the moment buffers belong to `arena`. */
  isBoundTo(arena: Arena): boolean {
    return this.arena === arena;
  }

  /** @internal heap offsets of the moment buffers (each the arena's size). */
  get buffers(): readonly number[] {
    return this.bufs;
  }

  /** @internal binds to a model's arena (allocating zeroed moment buffers) the first time it is used. */
  bind(rt: Runtime, arena: Arena): void {
    if (this.arena === arena) return;
    this.checkBindable(arena);
    const bufs: number[] = [];
    try {
      for (let i = 0; i < this.nbufs; i++) bufs.push(rt.heap.alloc(arena.size));
    } catch (e) {
      for (const b of bufs) rt.heap.release(b);
      throw e;
    }
    this.rt = rt;
    this.arena = arena;
    this.bufs = bufs;
    optimizers.register(this, { rt, bufs }, this);
  }

  /** One update of every parameter from the gradient arena at `grad`. */
  apply(grad: number): void {
    const lr = this.checkedLr(this.step);
    this.update(this.rt!.k, this.arena!.base, grad, this.arena!.size, lr);
    this.arena!.markWritten();
    this.step++;
  }
  protected abstract update(k: K, p: number, g: number, n: number, lr: number): void;

  /** Step count and moment buffers (for checkpoints). */
  state(): OptimizerState {
    const n = this.arena ? this.arena.size : 0;
    const out = new Float32Array(this.bufs.length * n);
    this.bufs.forEach((b, i) => out.set(this.rt!.heap.view(b, n), i * n));
    return { kind: this.kind, step: this.step, buffers: out };
  }
  /** Restores a state (validated first: kind, step, sizes, finite moments; nothing is written otherwise). */
  loadState(s: OptimizerState): void {
    const n = this.arena ? this.arena.size : 0;
    // an optimizer saved before its first step has no moments yet: they are zero, as bind() leaves them
    const unstepped = s?.step === 0 && s?.buffers?.length === 0;
    validateOptimizerState(s, { kind: this.kind, values: unstepped ? 0 : this.bufs.length * n, nbufs: this.bufs.length });
    if (unstepped) {
      for (const b of this.bufs) this.rt!.heap.f32.fill(0, b, b + n);
      this.step = 0;
      return;
    }
    this.bufs.forEach((b, i) => this.rt!.heap.f32.set(s.buffers.subarray(i * n, (i + 1) * n), b));
    this.step = s.step;
  }
  /** Releases the optimizer's moment buffers (wasm memory) for reuse. */
  dispose(): void {
    optimizers.unregister(this);
    if (this.rt) for (const b of this.bufs) this.rt.heap.release(b);
    this.bufs = [];
    this.arena = null;
  }
}

/** Options of SGD, as in PyTorch. */
export interface SGDOptions {
  /** Learning rate (default 0.01). */
  lr?: number;
  /** Momentum factor (default 0). */
  momentum?: number;
  /** Dampening of the momentum, in [0, 1] (default 0). */
  dampening?: number;
  /** Nesterov momentum (default false). */
  nesterov?: boolean;
  /** L2 weight decay added to the gradient (default 0). */
  weightDecay?: number;
  /** Learning-rate schedule (see `schedules`). */
  schedule?: Schedule;
}
/** SGD with optional (Nesterov) momentum, as torch.optim.SGD. */
export class SGD extends Optimizer {
  readonly kind = 'sgd';
  /** Momentum factor. */
  readonly momentum: number;
  /** Dampening of the momentum. */
  readonly dampening: number;
  /** Whether the momentum is Nesterov's. */
  readonly nesterov: boolean;
  protected get nbufs(): number {
    return this.momentum > 0 ? 1 : 0;
  }
  constructor(o: SGDOptions = {}) {
    super(o, 0.01, SGD_KEYS);
    this.momentum = num('momentum', o.momentum ?? 0, 0);
    this.dampening = num('dampening', o.dampening ?? 0, 0, 1);
    this.nesterov = o.nesterov ?? false;
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new ValueError('Expected momentum > 0 and dampening 0 for Nesterov, got otherwise');
    }
  }
  protected update(k: K, p: number, g: number, n: number, lr: number): void {
    k.sgd_step(p, this.bufs[0] ?? 0, g, n, lr, this.momentum, this.dampening, this.nesterov ? 1 : 0, this.weightDecay, this.step === 0 ? 1 : 0);
  }
}

/** Options of RMSProp, as in PyTorch. */
export interface RMSPropOptions {
  /** Learning rate (default 0.01). */
  lr?: number;
  /** Smoothing constant of the squared-gradient average, in [0, 1] (default 0.99). */
  alpha?: number;
  /** Added to the denominator (default 1e-8). */
  eps?: number;
  /** Momentum factor (default 0). */
  momentum?: number;
  /** L2 weight decay added to the gradient (default 0). */
  weightDecay?: number;
  /** Learning-rate schedule (see `schedules`). */
  schedule?: Schedule;
}
/** RMSProp, as torch.optim.RMSprop (non-centered). */
export class RMSProp extends Optimizer {
  readonly kind = 'rmsprop';
  /** Smoothing constant of the squared-gradient average. */
  readonly alpha: number;
  /** Added to the denominator. */
  readonly eps: number;
  /** Momentum factor. */
  readonly momentum: number;
  protected get nbufs(): number {
    return this.momentum > 0 ? 2 : 1;
  }
  constructor(o: RMSPropOptions = {}) {
    super(o, 0.01, RMSPROP_KEYS);
    this.alpha = num('alpha', o.alpha ?? 0.99, 0, 1);
    this.eps = num('eps', o.eps ?? 1e-8, 0, Infinity, true);
    this.momentum = num('momentum', o.momentum ?? 0, 0);
  }
  protected update(k: K, p: number, g: number, n: number, lr: number): void {
    k.rmsprop_step(p, this.bufs[0], this.bufs[1] ?? 0, g, n, lr, this.alpha, this.eps, this.momentum, this.weightDecay);
  }
}

/** Options of Adam and AdamW, as in PyTorch. */
export interface AdamOptions {
  /** Learning rate (default 1e-3). */
  lr?: number;
  /** Decay of the first-moment average, in [0, 1] (default 0.9). */
  beta1?: number;
  /** Decay of the second-moment average, in [0, 1] (default 0.999). */
  beta2?: number;
  /** Added to the denominator (default 1e-8). */
  eps?: number;
  /**
   * Weight decay: Adam adds it to the gradient (default 0), AdamW decays the weights directly (default 0.01).
   */
  weightDecay?: number;
  /** Learning-rate schedule (see `schedules`). */
  schedule?: Schedule;
}
/** Adam (L2 weight decay added to the gradient), as torch.optim.Adam. */
export class Adam extends Optimizer {
  readonly kind: string = 'adam';
  /** Decay of the first-moment average. */
  readonly beta1: number;
  /** Decay of the second-moment average. */
  readonly beta2: number;
  /** Added to the denominator. */
  readonly eps: number;
  protected readonly decoupled: boolean = false;
  protected get nbufs(): number {
    return 2;
  }
  constructor(o: AdamOptions = {}) {
    super(o, 0.001, ADAM_KEYS);
    this.beta1 = num('beta1', o.beta1 ?? 0.9, 0, 1);
    this.beta2 = num('beta2', o.beta2 ?? 0.999, 0, 1);
    this.eps = num('eps', o.eps ?? 1e-8, 0, Infinity, true);
  }
  protected update(k: K, p: number, g: number, n: number, lr: number): void {
    const t = this.step + 1;
    k.adam_step(p, this.bufs[0], this.bufs[1], g, n, lr, this.beta1, this.beta2, this.eps, this.weightDecay, this.decoupled ? 1 : 0, 1 - this.beta1 ** t, 1 - this.beta2 ** t);
  }
}
/** AdamW: decoupled weight decay (default 0.01), as torch.optim.AdamW. */
export class AdamW extends Adam {
  override readonly kind = 'adamw';
  protected override readonly decoupled = true;
  constructor(o: AdamOptions = {}) {
    checkOptions(o, ADAM_KEYS, 'AdamW options');
    super({ weightDecay: 0.01, ...o });
  }
}
