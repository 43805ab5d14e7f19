// Training: one program per (T, B, lengths?) shape holding the forward pass (keeping what backward
// needs), the fused loss, and the backward pass in reverse module order. A training step is:
// write batch → run the program (zeroes gradients first) → global-norm clip → optimizer kernel.
// Truncated BPTT runs the same program chunk by chunk, carrying states without backpropagating
// through the chunk boundary. A step is all-or-nothing: the whole call is validated first, and a
// failure after the first update (a later chunk, non-finite values, memory) restores the model,
// the optimizer and the dropout generator (StepGuard).
import type { Kernels } from '../wasm/abi';
import type { Runner } from './runner';
import { OP, buildProgram, f32word, type Program, type ProgramBuilder } from '../ir/program';
import { PlanCache } from '../ir/plan-cache';
import type { BackwardContext, StateSlot } from '../layers/module';
import type { Optimizer } from '../train/optim';
import { checkBatch, checkLoss, checkStepOptions } from './contract';
import { NonFiniteError, StepGuard, paramsFinite } from '../train/guard';
import { Tensor } from '../tensor';
import { ValueError } from '../errors';

import { keysOf } from '../options';

/**
 * The losses: `crossEntropy` (softmax fused, Int32 class targets, −1 ignored), `mse` and `bceWithLogits`
 * (float targets shaped like the output).
 */
export type LossKind = 'crossEntropy' | 'mse' | 'bceWithLogits';

/**
 * One padded batch for `trainStep` and `evaluate`: inputs, targets, and optional lengths and initial states.
 */
export interface Batch {
  /** (T, B, F) floats or (T, B) Int32 token ids ((B, T, …) when the model is batchFirst). */
  x: Tensor<Float32Array> | Tensor<Int32Array>;
  /**
   * crossEntropy: (T, B) Int32 class ids, −1 = ignore (padding, or steps without a label);
   * mse / bceWithLogits: (T, B, O) floats.
   */
  y: Tensor<Int32Array> | Tensor<Float32Array>;
  /** Per-sequence lengths; steps past a sequence's length contribute nothing. */
  lengths?: ArrayLike<number>;
  /** Initial hidden states (numStates, B, H); zeros when absent. */
  h0?: Float32Array;
  /** Initial cell states of LSTM layers, same shape. */
  c0?: Float32Array;
}

/**
 * Options of a training step: the loss, the optimizer, clipping, truncated BPTT and what to do with a non-
 * finite loss.
 */
export interface StepOptions {
  /** The loss (a trailing softmax or logSoftmax layer is folded into `crossEntropy`). */
  loss: LossKind;
  /** The optimizer that takes the step (bound to the model on first use). */
  optimizer: Optimizer;
  /** Rescale gradients so their global L2 norm is at most this. */
  clipNorm?: number;
  /** Clamp every gradient to [−clipValue, clipValue] (after clipNorm). */
  clipValue?: number;
  /** Truncated BPTT: chunks of this many steps, states carried across chunks. */
  tbptt?: number;
  /**
   * When a gradient or an updated parameter is NaN/±Inf: 'throw' (default) restores the model,
   * optimizer and dropout generator to before the call and throws a NonFiniteError (a
   * ValueError); 'skip' restores them and returns `skipped: true`.
   */
  onNonFinite?: 'throw' | 'skip';
}

/** Option keys of trainStep (layers, Sequential and the worker pool). */
export const STEP_KEYS = keysOf<StepOptions>()('loss', 'optimizer', 'clipNorm', 'clipValue', 'tbptt', 'onNonFinite');

/** What a training step returns. */
export interface StepResult {
  /** Mean loss over the counted steps (or elements). */
  loss: number;
  /** Global L2 norm of the gradients before clipping (last chunk for tbptt). */
  gradNorm: number;
  /** True when the update was skipped (onNonFinite: 'skip'); nothing changed. */
  skipped: boolean;
}

interface TrainPlan {
  T: number;
  B: number;
  program: Program;
  input: number;
  lens: number;
  targets: number;
  mask: number;
  lossSlot: number;
  states: StateSlot[];
  outFeatures: number;
  elements: number;
  dispose(): void;
}

export class Trainer {
  /** Element offset of the gradient arena (same layout as the parameter arena). */
  readonly grad: number;
  private readonly plans = new PlanCache<TrainPlan>();
  private readonly trainable: number; // modules in the training graph (trailing softmax dropped)
  private last: TrainPlan | null = null;
  private readonly guard: StepGuard;

  constructor(private readonly runner: Runner) {
    // checked before anything is allocated: a refused model leaks nothing however often it is tried
    let n = runner.modules.length;
    while (n > 0 && (runner.modules[n - 1].kind === 'softmax' || runner.modules[n - 1].kind === 'logSoftmax')) n--;
    if (n === 0) throw new ValueError('Expected a model with trainable layers, got only softmax');
    for (let i = 1; i < n; i++) {
      const k = runner.modules[i].kind;
      if (k === 'softmax' || k === 'logSoftmax') throw new ValueError(`Expected softmax only at the end of a trained model, got it at layer ${i}`);
    }
    this.trainable = n;
    this.grad = runner.rt.heap.alloc(runner.arena.size);
    this.guard = new StepGuard(runner);
  }

  /** A copy of the gradient of parameter `name` from the last step. */
  gradient(name: string): Float32Array {
    const e = this.runner.arena.entry(name);
    return this.runner.rt.heap.read(this.grad + e.rel, e.size);
  }

  /** Gradients w.r.t. the initial states from the last run chunk: (numStates, B, H) each. */
  stateGradients(): { dh0: Tensor; dc0?: Tensor } {
    const p = this.last;
    if (!p) throw new ValueError('Expected a trainStep or evaluate before asking for state gradients, got none');
    return { dh0: this.runner.gatherStates(p, 'h', (s) => s.dInit!)!, dc0: this.runner.gatherStates(p, 'c', (s) => s.dInit!) };
  }

  // Training programs are cached per shape and loss in a bounded LRU (see PlanCache).
  private plan(T: number, B: number, withLens: boolean, loss: LossKind, dropout: boolean): TrainPlan {
    const key = `${loss}:${T}x${B}${withLens ? 'L' : ''}${dropout ? 'D' : ''}`;
    return this.plans.getOrBuild(key, () => buildProgram(this.runner.rt, `a training plan of T = ${T}, B = ${B}`, (b) => this.emitPlan(b, T, B, withLens, loss, dropout)));
  }

  private emitPlan(b: ProgramBuilder, T: number, B: number, withLens: boolean, loss: LossKind, dropout: boolean): TrainPlan {
    const r = this.runner;
    const g = r.emitForward(b, T, B, withLens, false, true, this.trainable, dropout);
    const O = g.features;
    const TB = T * B;
    // zero the gradient arena first (the program is the whole step)
    b.prepend(OP.FILL, this.grad, f32word(0), r.arena.size);
    // loss slot: [f64 loss sum (2 words) | f32 scale | pad]; the host writes the scale per run
    const lossSlot = b.alloc(4);
    const dOut = b.alloc(TB * O);
    let targets: number;
    let mask = 0;
    let tIn: number;
    if (loss === 'crossEntropy') {
      tIn = b.alloc(TB);
      targets = tIn;
      if (r.batchFirst && T > 1) {
        targets = b.alloc(TB);
        b.transpose01(targets, tIn, B, T, 1);
      }
      b.softmaxCe(dOut, g.out, targets, TB, O, lossSlot);
    } else {
      tIn = b.alloc(TB * O);
      targets = tIn;
      mask = b.alloc(TB * O);
      if (r.batchFirst && T > 1) {
        targets = b.alloc(TB * O);
        b.transpose01(targets, tIn, B, T, O);
      }
      b[loss === 'mse' ? 'mse' : 'bce'](dOut, g.out, targets, mask, TB * O, lossSlot);
    }
    // backward, in reverse module order
    let d = dOut;
    for (let i = this.trainable - 1; i >= 0; i--) {
      const e = g.emitted[i];
      if (!e.backward) throw new ValueError(`Expected layer ${i} (${r.modules[i].kind}) to be trainable, got one without a backward pass`);
      const prefix = r.prefix(i);
      const ctx = r.context(b, i, T, B, g.lens, false, true);
      const bc: BackwardContext = {
        b,
        param: ctx.param,
        optParam: ctx.optParam,
        grad: (name) => this.grad + r.arena.entry(prefix + name).rel,
        optGrad: (name) => (r.arena.has(prefix + name) ? this.grad + r.arena.entry(prefix + name).rel : 0),
        needInputGrad: i > 0,
      };
      d = e.backward(bc, d);
    }
    const program = b.finish();
    return {
      T, B, program, input: g.input, lens: g.lens, targets: tIn, mask, lossSlot, states: g.states, outFeatures: O,
      elements: program.elements,
      dispose: () => {
        program.dispose();
        if (this.last?.program === program) this.last = null;
      },
    };
  }

  /** Writes targets (validated) and the loss scale; returns the number of counted targets. */
  private writeTargets(p: TrainPlan, y: Batch['y'], loss: LossKind, lengths: ArrayLike<number> | undefined, t0: number, T: number, fullT: number): number {
    const heap = this.runner.rt.heap;
    const { B, outFeatures: O } = p;
    const bf = this.runner.batchFirst;
    let count = 0;
    if (loss === 'crossEntropy') {
      const i32 = heap.i32;
      const src = y.data as Int32Array;
      for (let t = 0; t < T; t++) {
        for (let b = 0; b < B; b++) {
          const srcIdx = bf ? b * fullT + t0 + t : (t0 + t) * B + b;
          const dst = bf ? b * T + t : t * B + b;
          let v = src[srcIdx];
          if (lengths && t0 + t >= lengths[b]) v = -1;
          if (v >= 0) count++;
          i32[p.targets + dst] = v;
        }
      }
    } else {
      const f32 = heap.f32;
      const src = y.data as Float32Array;
      for (let t = 0; t < T; t++) {
        for (let b = 0; b < B; b++) {
          const srcRow = bf ? b * fullT + t0 + t : (t0 + t) * B + b;
          const dstRow = bf ? b * T + t : t * B + b;
          const on = !lengths || t0 + t < lengths[b] ? 1 : 0;
          f32.set(src.subarray(srcRow * O, srcRow * O + O), p.targets + dstRow * O);
          // mask rows are in time-major order (they pair with the loss input)
          const mrow = t * B + b;
          f32.fill(on, p.mask + mrow * O, p.mask + mrow * O + O);
          count += on * O;
        }
      }
    }
    return count;
  }

  /** Runs forward + loss + backward on one chunk; returns the loss sum and count. */
  private runChunk(batch: Batch, loss: LossKind, T: number, B: number, t0: number, len: number, lengths: ArrayLike<number> | undefined, carry: Float32Array[] | null, dropout: boolean): { p: TrainPlan; sum: number; count: number } {
    const r = this.runner;
    const withLens = lengths !== undefined;
    const p = this.plan(len, B, withLens, loss, dropout);
    const heap = r.rt.heap;
    // input rows [t0, t0+len)
    const F = r.inFeatures;
    const bf = r.batchFirst;
    const x = batch.x.data;
    const view = x instanceof Int32Array ? heap.i32 : heap.f32;
    if (!bf) view.set(x.subarray(t0 * B * F, (t0 + len) * B * F), p.input);
    else for (let b = 0; b < B; b++) view.set(x.subarray((b * T + t0) * F, (b * T + t0 + len) * F), p.input + b * len * F);
    if (withLens) for (let b = 0; b < B; b++) heap.i32[p.lens + b] = Math.max(0, Math.min(len, lengths![b] - t0));
    // states: h0/c0 (or zeros) at the start, else the previous chunk's final states, carried in JS
    // copies (that chunk's plan may have been evicted; no gradient crosses the boundary)
    if (carry) p.states.forEach((s, i) => heap.f32.set(carry[i], s.init));
    else r.writeStates(p, batch.h0, batch.c0);
    const count = this.writeTargets(p, batch.y, loss, lengths, t0, len, T);
    this.setScale(p, count ? 1 / count : 0);
    p.program.run();
    this.last = p;
    return { p, sum: heap.readF64(p.lossSlot), count };
  }

  // The loss op reads its gradient scale (1/count: the gradient of the mean) from the loss slot.
  private setScale(p: TrainPlan, scale: number): void {
    this.runner.rt.heap.f32[p.lossSlot + 2] = scale;
  }

  /** One optimizer step per chunk (one chunk without tbptt); all-or-nothing (see StepGuard). */
  step(batch: Batch, o: StepOptions): StepResult {
    // the whole call is checked before its first side effect: options, the learning rate of
    // every chunk's update, the batch (every chunk reads a slice of it)
    if (o === null || typeof o !== 'object') throw new ValueError(`Expected step options { loss, optimizer }, got ${o === null ? 'null' : typeof o}`);
    const { T, B, lengths } = checkBatch(this.runner, batch, o.loss);
    // tbptt is compared with T only once it is a number (checkStepOptions names a bad one)
    const k = typeof o.tbptt === 'number' && o.tbptt && o.tbptt < T ? o.tbptt : T;
    const r = this.runner;
    checkStepOptions(o, r.arena, Math.ceil(T / k));
    const wasBound = o.optimizer.isBoundTo(r.arena);
    o.optimizer.bind(r.rt, r.arena);
    try {
      this.guard.save(o.optimizer, wasBound);
    } catch (e) {
      if (!wasBound) o.optimizer.dispose();
      throw e;
    }
    let carry: Float32Array[] | null = null;
    let sum = 0;
    let count = 0;
    let gradNorm = 0;
    try {
      for (let t0 = 0; t0 < T; t0 += k) {
        const len = Math.min(k, T - t0);
        const c = this.runChunk(batch, o.loss, T, B, t0, len, lengths, carry, true);
        if (!Number.isFinite(c.sum)) throw new NonFiniteError(`Expected a finite loss, got ${c.sum} in the chunk at step ${t0}; nothing was updated`);
        sum += c.sum;
        count += c.count;
        gradNorm = clipAndStep(r.rt.k, this.grad, r.arena.size, o, () => paramsFinite(r));
        if (t0 + k < T) carry = c.p.states.map((s) => heap(r).read(s.final, B * s.H));
      }
    } catch (e) {
      this.guard.restore();
      if (e instanceof NonFiniteError && o.onNonFinite === 'skip') return { loss: count ? sum / count : NaN, gradNorm: NaN, skipped: true };
      throw e;
    }
    this.guard.commit();
    return { loss: count ? sum / count : 0, gradNorm, skipped: false };
  }

  /**
   * Loss of a batch without updating anything, with dropout off (as in PyTorch's eval mode) unless
   * `training` (masks drawn as in a training step); the gradients of that loss are left in the
   * gradient arena.
   */
  evaluate(batch: Batch, loss: LossKind, training = false): number {
    checkLoss(loss);
    const { T, B, lengths } = checkBatch(this.runner, batch, loss);
    // with dropout masks, a failure must not leave the generator advanced
    const rng = this.runner.dropoutRngState;
    try {
      const c = this.runChunk(batch, loss, T, B, 0, T, lengths, null, training);
      return c.count ? c.sum / c.count : 0;
    } catch (e) {
      this.runner.dropoutRngState = rng;
      throw e;
    }
  }

  dispose(): void {
    this.plans.clear();
    this.guard.dispose();
    this.runner.rt.heap.release(this.grad);
  }
}

const heap = (r: Runner) => r.rt.heap;

/**
 * The end of every training step (the Trainer's and the WorkerPool's): the global gradient norm
 * of the arena at `grad` (n floats), clipping by norm and by value, one optimizer step, then the
 * check that every parameter is still finite. Returns the pre-clip norm; a non-finite norm (before
 * the update) or parameter (after it) throws a NonFiniteError, and the caller's StepGuard restores.
 */
export function clipAndStep(k: Kernels, grad: number, n: number, o: Pick<StepOptions, 'optimizer' | 'clipNorm' | 'clipValue'> & Partial<StepOptions>, finite: () => boolean): number {
  const norm = Math.sqrt(k.sum_squares(grad, n));
  if (!Number.isFinite(norm)) throw new NonFiniteError(`Expected finite gradients, got a gradient norm of ${norm} (check the learning rate and inputs); nothing was updated`);
  if (o.clipNorm !== undefined && norm > o.clipNorm) k.scale_f32(grad, o.clipNorm / (norm + 1e-6), n);
  if (o.clipValue !== undefined) k.clamp_f32(grad, -o.clipValue, o.clipValue, n);
  o.optimizer.apply(grad);
  if (!finite()) {
    throw new NonFiniteError(`Expected finite parameters after the ${o.optimizer.kind} update (lr ${o.optimizer.checkedLr(o.optimizer.step - 1)}), got NaN or ±Inf; the model and optimizer were restored`);
  }
  return norm;
}
