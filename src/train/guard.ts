// What makes a training call all-or-nothing: before its first update, the parameters, the
// optimizer's moments and step and the dropout generator are copied aside (one wasm copy per
// buffer, into a block this guard keeps for the model); a call that fails half-way — a later
// tbptt chunk, a gradient or parameter that turned non-finite, memory that ran out, a worker
// that crashed — puts every one of them back before its error propagates.
import type { Runtime } from '../wasm/load';
import type { Arena } from '../params/arena';
import type { Optimizer } from './optim';
import type { Kernels } from '../wasm/abi';
import { ValueError } from '../errors';

/** Gradients or parameters became NaN/±Inf in a step; everything was restored to before the step. */
export class NonFiniteError extends ValueError {
  /** `'NonFiniteError'`: the class name as a string, so that it survives a minifier and crosses worker boundaries. */
  override name = 'NonFiniteError';
}

/** What a guard copies: the arena, the runtime it lives in and the dropout generator (a graph's view of itself, or a layer's ModelHost). */
export interface GuardTarget {
  readonly rt: Runtime;
  readonly arena: Arena;
  dropoutRngState: [number, number, number, number];
  readonly isDisposed?: boolean;
}

export class StepGuard {
  private block = 0; // heap offset of the copies: [parameters | moment buffer 0 | moment buffer 1 …]
  private capacity = 0;
  private saved: { opt: Optimizer; step: number; nbufs: number; rng: [number, number, number, number]; wasBound: boolean } | null = null;

  constructor(private readonly runner: GuardTarget) {}

  /** Copies the parameters, the optimizer's moments and step, and the dropout generator aside. */
  save(opt: Optimizer, wasBound: boolean): void {
    const r = this.runner;
    const n = r.arena.size;
    const bufs = opt.isBoundTo(r.arena) ? opt.buffers : [];
    const need = n * (1 + bufs.length);
    const heap = r.rt.heap;
    if (need > this.capacity) {
      const block = heap.alloc(need); // allocated before the old block is released: a failure keeps the old one
      if (this.block) heap.release(this.block);
      this.block = block;
      this.capacity = need;
    }
    const k = r.rt.k;
    k.copy_f32(this.block, r.arena.base, n);
    bufs.forEach((b, i) => k.copy_f32(this.block + (i + 1) * n, b, n));
    this.saved = { opt, step: opt.step, nbufs: bufs.length, rng: r.dropoutRngState, wasBound };
  }

  /** Puts back what save() copied; unbinds an optimizer that the failed call bound. */
  restore(): void {
    const s = this.saved;
    if (!s) return;
    const r = this.runner;
    const n = r.arena.size;
    const k = r.rt.k;
    k.copy_f32(r.arena.base, this.block, n);
    r.arena.markWritten();
    const bufs = s.opt.isBoundTo(r.arena) ? s.opt.buffers : [];
    for (let i = 0; i < Math.min(bufs.length, s.nbufs); i++) k.copy_f32(bufs[i], this.block + (i + 1) * n, n);
    s.opt.step = s.step;
    r.dropoutRngState = s.rng;
    if (!s.wasBound) s.opt.dispose();
    this.saved = null;
  }

  /** Forgets the copies (the call succeeded). */
  commit(): void {
    this.saved = null;
  }

  dispose(): void {
    // the block lives in the runtime's heap, which outlives the model it guards
    if (this.block) this.runner.rt.heap.release(this.block);
    this.block = this.capacity = 0;
  }
}

/**
 * Whether every parameter in the arena is finite: one wasm pass (Σ x² is NaN/Inf when any value
 * is), then, only when that pass overflows, a scan that tells a real NaN/Inf from a sum that
 * overflowed on large finite values.
 */
/**
 * One optimizer update, all-or-nothing: binds `opt` (unbinding it again if this call bound it and
 * failed), saves the parameters, moments, step and generator, runs `update`, and puts everything
 * back if `update` throws (a non-finite gradient norm or parameter, memory that ran out).
 */
export function guardedUpdate<T>(guard: StepGuard, target: GuardTarget, opt: Optimizer, update: () => T): T {
  const wasBound = opt.isBoundTo(target.arena);
  opt.bind(target.rt, target.arena);
  try {
    guard.save(opt, wasBound);
  } catch (e) {
    if (!wasBound) opt.dispose();
    throw e;
  }
  try {
    const out = update();
    guard.commit();
    return out;
  } catch (e) {
    guard.restore();
    throw e;
  }
}

export function paramsFinite(runner: Pick<GuardTarget, 'arena' | 'rt'>): boolean {
  const { base, size } = runner.arena;
  if (Number.isFinite(runner.rt.k.sum_squares(base, size))) return true;
  const view = runner.rt.heap.view(base, size);
  for (let i = 0; i < view.length; i++) if (!Number.isFinite(view[i])) return false;
  return true;
}

/**
 * The end of every training step (a graph's trainStep and step, and the worker pools'): the global gradient norm
 * of the arena at `grad` (n floats), clipping by norm and by value, one optimizer step, then the
 * check that every parameter is still finite. Returns the pre-clip norm; a non-finite norm (before
 * the update) or parameter (after it) throws a NonFiniteError, and the caller's StepGuard restores.
 */
export function clipAndStep(k: Kernels, grad: number, n: number, o: { optimizer: Optimizer; clipNorm?: number; clipValue?: number }, finite: () => boolean): number {
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
