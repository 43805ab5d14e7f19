// Training an RWKV7 as a language model: one program per (T, B) runs the forward (saving what the
// backward reads, from the zero state), the mean cross-entropy of next tokens and the backward through
// the state recurrence into a gradient block laid out as the parameters; the optimizers of
// src/train/optim step the whole parameter arena in one kernel.
import { buildProgram, type Program } from '../ir/program';
import { ShapeError, StateError, ValueError, show } from '../errors';
import { checkOptions, keysOf } from '../options';
import type { Optimizer } from '../train/optim';
import { blockBuffers, emitForward, stateFloats, stateOffsets, type ForwardPlan } from './forward';
import { emitBackward, gradBuffers } from './backward';
import { checkIds, type RWKV7 } from './model';

/** A batch of B rows, each T input ids and T target ids (the next tokens). */
export interface Rwkv7Batch {
  /** One row of T token ids per sequence. */
  inputs: ArrayLike<number>[];
  /** The token each input position should predict: rows of T ids, as inputs. */
  targets: ArrayLike<number>[];
}

/** Options of {@link Rwkv7Trainer.step}. */
export interface Rwkv7StepOptions {
  /** Rescale the gradients so their global L2 norm is at most this (as clip_grad_norm_). */
  clipNorm?: number;
}
const STEP_KEYS = keysOf<Rwkv7StepOptions>()('clipNorm');

/**
 * Trains an {@link RWKV7} with backpropagation through the state recurrence: one wasm program per
 * batch shape runs the forward, the cross-entropy loss and the backward, and the gradients land in
 * the parameter arena's layout, so the library's optimizers (Adam, SGD, RMSProp) step the model.
 */
export class Rwkv7Trainer {
  /** Steps per row. */
  readonly T: number;
  /** Rows per batch. */
  readonly B: number;
  private readonly prog: Program;
  private readonly plan: ForwardPlan;
  private readonly targets: number;
  private readonly slot: number;
  private readonly nState: number;
  /** @internal element offset of the gradient block (the parameter arena's layout) */
  readonly gradBase: number;
  private disposed = false;

  constructor(private readonly model: RWKV7, T: number, B: number) {
    model.alive();
    if (model.quantized) throw new StateError('Expected a model with f32 weights to train, got an int8-quantized one (inference only)');
    if (!Number.isSafeInteger(T) || T < 1) throw new ValueError(`Expected steps T to be a positive integer, got ${show(T)}`);
    if (!Number.isSafeInteger(B) || B < 1) throw new ValueError(`Expected batch B to be a positive integer, got ${show(B)}`);
    this.T = T;
    this.B = B;
    const c = model.config;
    const rt = model.rt;
    const size = model.arena.size;
    this.nState = B * stateFloats(c);
    const made = buildProgram(rt, `an RWKV-7 training step over ${T} steps × ${B} rows`, (b) => {
      const M = T * B;
      const gradBase = b.alloc(size);
      const stateOff = b.alloc(this.nState);
      const plan: ForwardPlan = {
        T, B,
        ids: b.alloc(M), x: b.alloc(M * c.dim), x0: b.alloc(M * c.dim), stats0: b.alloc(M * 2), xo: b.alloc(M * c.dim),
        statsOut: b.alloc(M * 2), logits: b.alloc(M * c.vocabSize), vfirst: b.alloc(M * c.dim), blocks: [],
      };
      for (let l = 0; l < c.layers; l++) plan.blocks.push(blockBuffers(b, c, T, B, true));
      const targets = b.alloc(M);
      const slot = b.alloc(4);
      const p = (name: string): number => model.offset(name);
      const g = (name: string): number => gradBase + (model.offset(name) - model.arena.base);
      // every step starts from the zero state
      b.fill(stateOff, 0, this.nState);
      emitForward(b, c, p, stateOffsets(c, stateOff, B), plan);
      emitBackward(b, c, p, g, plan, gradBuffers(b, c, T, B), targets, slot, gradBase, size);
      return { prog: b.finish(), plan, targets, slot, gradBase };
    });
    this.prog = made.prog;
    this.plan = made.plan;
    this.targets = made.targets;
    this.slot = made.slot;
    this.gradBase = made.gradBase;
  }

  private load(batch: Rwkv7Batch): void {
    if (!batch || typeof batch !== 'object') throw new ValueError(`Expected a batch { inputs, targets }, got ${show(batch)}`);
    const { inputs, targets } = batch;
    for (const [what, rows] of [['inputs', inputs], ['targets', targets]] as const) {
      if (!Array.isArray(rows) || rows.length !== this.B) throw new ShapeError(`Expected batch.${what} to hold ${this.B} rows, got ${Array.isArray(rows) ? rows.length : show(rows)}`);
    }
    const V = this.model.config.vocabSize;
    const i32 = this.model.rt.heap.i32;
    for (let r = 0; r < this.B; r++) {
      const x = checkIds(inputs[r], V, `batch.inputs[${r}]`);
      const y = checkIds(targets[r], V, `batch.targets[${r}]`);
      if (x.length !== this.T || y.length !== this.T) throw new ShapeError(`Expected rows of ${this.T} ids in batch.inputs[${r}] and batch.targets[${r}], got ${x.length} and ${y.length}`);
      // time-major: row m = t·B + r
      for (let t = 0; t < this.T; t++) {
        i32[this.plan.ids + t * this.B + r] = x[t];
        i32[this.targets + t * this.B + r] = y[t];
      }
    }
  }

  /** Runs forward and backward: the mean cross-entropy; the gradients are left in the gradient block. */
  lossAndGradients(batch: Rwkv7Batch): number {
    this.alive();
    this.load(batch);
    const heap = this.model.rt.heap;
    const M = this.T * this.B;
    heap.f32[this.slot + 2] = 1 / M;
    this.prog.run();
    return heap.readF64(this.slot) / M;
  }

  /** The gradient of parameter `name` from the last lossAndGradients/step, in the official layout. */
  gradient(name: string): Float32Array {
    this.alive();
    return this.model.readBlock(name, this.gradBase);
  }

  /** One training step: loss and gradients, optional clipping, one optimizer update. Returns the loss. */
  step(batch: Rwkv7Batch, optimizer: Optimizer, opts: Rwkv7StepOptions = {}): number {
    const clipNorm = checkStep(optimizer, opts);
    this.model.alive();
    optimizer.checkBindable(this.model.arena);
    const loss = this.lossAndGradients(batch);
    if (!Number.isFinite(loss)) throw new ValueError(`Expected a finite loss, got ${loss}; parameters were not updated`);
    this.update(optimizer, clipNorm);
    return loss;
  }

  /**
   * @internal The update of step() after lossAndGradients: clips the gradient block to a global norm
   * of `clipNorm` (if given) and applies the optimizer. fitRwkv7 calls it only after a finite loss.
   */
  update(optimizer: Optimizer, clipNorm: number | undefined): void {
    this.alive();
    const m = this.model;
    const n = m.arena.size;
    if (clipNorm !== undefined) {
      const norm = Math.sqrt(m.rt.k.sum_squares(this.gradBase, n));
      if (norm > clipNorm) m.rt.k.scale_f32(this.gradBase, clipNorm / (norm + 1e-6), n);
    }
    optimizer.bind(m.rt, m.arena);
    optimizer.apply(this.gradBase);
  }

  /** Releases the trainer's programs and gradient memory (once; the model stays usable). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.prog.dispose();
  }

  private alive(): void {
    if (this.disposed) throw new StateError('Expected a live Rwkv7Trainer, got one that was disposed');
    this.model.alive();
  }
}

/** Validates step()'s optimizer and options; returns the clip norm (undefined: no clipping). */
function checkStep(optimizer: Optimizer, opts: Rwkv7StepOptions): number | undefined {
  checkOptions(opts, STEP_KEYS, 'step options');
  if (opts.clipNorm !== undefined && !(typeof opts.clipNorm === 'number' && opts.clipNorm > 0)) {
    throw new ValueError(`Expected clipNorm to be a positive number, got ${show(opts.clipNorm)}`);
  }
  if (!optimizer || typeof (optimizer as Optimizer).apply !== 'function') throw new ValueError(`Expected an optimizer (SGD, Adam, …), got ${show(optimizer)}`);
  return opts.clipNorm;
}
