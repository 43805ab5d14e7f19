// Optimizers: each keeps its moment buffers in one heap block laid out like the parameter arena,
// so a step is one kernel call over the whole arena. Learning-rate schedules are plain functions
// of the step count.
import type { Runtime } from '../wasm/load';
import type { Arena } from '../params/arena';
import { ValueError } from '../errors';
import { checkOptions, OPTION_KEYS } from '../options';

type K = {
  sgd_step(p: number, buf: number, g: number, n: number, lr: number, momentum: number, dampening: number, nesterov: number, wd: number, first: number): void;
  rmsprop_step(p: number, sq: number, buf: number, g: number, n: number, lr: number, alpha: number, eps: number, momentum: number, wd: number): void;
  adam_step(p: number, m: number, v: number, g: number, n: number, lr: number, b1: number, b2: number, eps: number, wd: number, decoupled: number, bc1: number, bc2: number): void;
};

/** A learning-rate schedule: the rate for step t (0-based) given the base rate. */
export type Schedule = (step: number, baseLr: number) => number;

export const schedules = {
  /** lr · gamma^floor(t / stepSize) */
  step: (stepSize: number, gamma = 0.1): Schedule => (t, lr) => lr * gamma ** Math.floor(t / stepSize),
  /** lr · gamma^t */
  exponential: (gamma: number): Schedule => (t, lr) => lr * gamma ** t,
  /** cosine from lr to minLr over `total` steps, then minLr */
  cosine: (total: number, minLr = 0): Schedule => (t, lr) => minLr + ((lr - minLr) * (1 + Math.cos(Math.PI * Math.min(t, total) / total))) / 2,
  /** linear warmup over `warmup` steps, then `after` (default constant) */
  warmup: (warmup: number, after?: Schedule): Schedule => (t, lr) =>
    t < warmup ? (lr * (t + 1)) / warmup : after ? after(t - warmup, lr) : lr,
};

function num(name: string, v: unknown, lo: number, hi = Infinity, loOpen = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || (loOpen ? v <= lo : v < lo) || v > hi) {
    throw new ValueError(`Expected ${name} to be a finite number in ${loOpen ? '(' : '['}${lo}, ${hi}], got ${String(v)}`);
  }
  return v;
}

export interface OptimizerState {
  kind: string;
  step: number;
  /** Moment buffers, concatenated in the order the optimizer defines. */
  buffers: Float32Array;
}

export abstract class Optimizer {
  readonly lr: number;
  readonly weightDecay: number;
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
  abstract readonly kind: string;
  protected abstract readonly nbufs: number;

  /** Learning rate in force for the next step. */
  currentLr(): number {
    return this.schedule ? this.schedule(this.step, this.lr) : this.lr;
  }

  /** Binds to a model's arena (allocating zeroed moment buffers) the first time it is used. */
  bind(rt: Runtime, arena: Arena): void {
    if (this.arena === arena) return;
    if (this.arena) throw new ValueError('Expected an optimizer used with one model only, got a second model');
    this.rt = rt;
    this.arena = arena;
    this.bufs = Array.from({ length: this.nbufs }, () => rt.heap.alloc(arena.size));
  }

  /** One update of every parameter from the gradient arena at `grad`. */
  apply(grad: number): void {
    const lr = this.currentLr();
    this.update(this.rt!.k as unknown as K, this.arena!.base, grad, this.arena!.size, lr);
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
  loadState(s: OptimizerState): void {
    if (s.kind !== this.kind) throw new ValueError(`Expected optimizer state of kind ${this.kind}, got ${s.kind}`);
    const n = this.arena ? this.arena.size : 0;
    // an optimizer saved before its first step has no moments yet: they are zero, as bind() leaves them
    if (s.buffers.length === 0 && s.step === 0) {
      for (const b of this.bufs) this.rt!.heap.f32.fill(0, b, b + n);
      this.step = 0;
      return;
    }
    if (s.buffers.length !== this.bufs.length * n) throw new ValueError(`Expected ${this.bufs.length * n} optimizer values, got ${s.buffers.length}`);
    this.bufs.forEach((b, i) => this.rt!.heap.f32.set(s.buffers.subarray(i * n, (i + 1) * n), b));
    this.step = s.step;
  }
  dispose(): void {
    if (this.rt) for (const b of this.bufs) this.rt.heap.release(b);
    this.bufs = [];
    this.arena = null;
  }
}

export interface SGDOptions {
  lr?: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  weightDecay?: number;
  schedule?: Schedule;
}
/** SGD with optional (Nesterov) momentum, as torch.optim.SGD. */
export class SGD extends Optimizer {
  readonly kind = 'sgd';
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;
  protected get nbufs(): number {
    return this.momentum > 0 ? 1 : 0;
  }
  constructor(o: SGDOptions = {}) {
    super(o, 0.01, OPTION_KEYS.sgd);
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

export interface RMSPropOptions {
  lr?: number;
  alpha?: number;
  eps?: number;
  momentum?: number;
  weightDecay?: number;
  schedule?: Schedule;
}
/** RMSProp, as torch.optim.RMSprop (non-centered). */
export class RMSProp extends Optimizer {
  readonly kind = 'rmsprop';
  readonly alpha: number;
  readonly eps: number;
  readonly momentum: number;
  protected get nbufs(): number {
    return this.momentum > 0 ? 2 : 1;
  }
  constructor(o: RMSPropOptions = {}) {
    super(o, 0.01, OPTION_KEYS.rmsprop);
    this.alpha = num('alpha', o.alpha ?? 0.99, 0, 1);
    this.eps = num('eps', o.eps ?? 1e-8, 0, Infinity, true);
    this.momentum = num('momentum', o.momentum ?? 0, 0);
  }
  protected update(k: K, p: number, g: number, n: number, lr: number): void {
    k.rmsprop_step(p, this.bufs[0], this.bufs[1] ?? 0, g, n, lr, this.alpha, this.eps, this.momentum, this.weightDecay);
  }
}

export interface AdamOptions {
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  schedule?: Schedule;
}
/** Adam (L2 weight decay added to the gradient), as torch.optim.Adam. */
export class Adam extends Optimizer {
  readonly kind: string = 'adam';
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  protected readonly decoupled: boolean = false;
  protected get nbufs(): number {
    return 2;
  }
  constructor(o: AdamOptions = {}) {
    super(o, 0.001, OPTION_KEYS.adam);
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
    checkOptions(o, OPTION_KEYS.adam, 'AdamW options');
    super({ weightDecay: 0.01, ...o });
  }
}
