// Training: one program per (T, B, lengths?) shape holding the forward pass (keeping what backward
// needs), the fused loss, and the backward pass in reverse module order. A training step is:
// write batch → run the program (zeroes gradients first) → global-norm clip → optimizer kernel.
// Truncated BPTT runs the same program chunk by chunk, carrying states without backpropagating
// through the chunk boundary.
import type { Kernels } from '../wasm/abi';
import type { Runner } from '../model/runner';
import { checkLengths } from '../model/runner';
import { OP, f32word, type Program, type ProgramBuilder } from '../model/program';
import type { BackwardContext, StateSlot } from '../layers/module';
import type { Optimizer } from './optim';
import { Tensor } from '../tensor';
import { DTypeError, ShapeError, ValueError } from '../errors';

export type LossKind = 'crossEntropy' | 'mse' | 'bceWithLogits';

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

export interface StepOptions {
  loss: LossKind;
  optimizer: Optimizer;
  /** Rescale gradients so their global L2 norm is at most this. */
  clipNorm?: number;
  /** Clamp every gradient to [−clipValue, clipValue] (after clipNorm). */
  clipValue?: number;
  /** Truncated BPTT: chunks of this many steps, states carried across chunks. */
  tbptt?: number;
}

export interface StepResult {
  /** Mean loss over the counted steps (or elements). */
  loss: number;
  /** Global L2 norm of the gradients before clipping (last chunk for tbptt). */
  gradNorm: number;
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
}

export class Trainer {
  /** Element offset of the gradient arena (same layout as the parameter arena). */
  readonly grad: number;
  private readonly plans = new Map<string, TrainPlan>();
  private readonly trainable: number; // modules in the training graph (trailing softmax dropped)
  private lossKind: LossKind | null = null;
  private last: TrainPlan | null = null;

  constructor(private readonly runner: Runner) {
    this.grad = runner.rt.heap.alloc(runner.arena.size);
    let n = runner.modules.length;
    while (n > 0 && (runner.modules[n - 1].kind === 'softmax' || runner.modules[n - 1].kind === 'logSoftmax')) n--;
    if (n === 0) throw new ValueError('Expected a model with trainable layers, got only softmax');
    for (let i = 1; i < n; i++) {
      const k = runner.modules[i].kind;
      if (k === 'softmax' || k === 'logSoftmax') throw new ValueError(`Expected softmax only at the end of a trained model, got it at layer ${i}`);
    }
    this.trainable = n;
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

  private plan(T: number, B: number, withLens: boolean, loss: LossKind, dropout: boolean): TrainPlan {
    if (this.lossKind !== loss) {
      for (const p of this.plans.values()) p.program.dispose();
      this.plans.clear();
      this.last = null;
      this.lossKind = loss;
    }
    const key = `${T}x${B}${withLens ? 'L' : ''}${dropout ? 'D' : ''}`;
    let p = this.plans.get(key);
    if (p) return p;
    const r = this.runner;
    const g = r.emitForward(T, B, withLens, false, true, this.trainable, dropout);
    const b: ProgramBuilder = g.b;
    const O = g.features;
    const TB = T * B;
    // zero the gradient arena first (the program is the whole step)
    const words = b.words;
    words.unshift(OP.FILL, this.grad, f32word(0), r.arena.size);
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
        b.op(OP.TRANSPOSE01, targets, tIn, B, T, 1);
      }
      b.op(OP.SOFTMAX_CE, dOut, g.out, targets, TB, O, lossSlot);
    } else {
      tIn = b.alloc(TB * O);
      targets = tIn;
      mask = b.alloc(TB * O);
      if (r.batchFirst && T > 1) {
        targets = b.alloc(TB * O);
        b.op(OP.TRANSPOSE01, targets, tIn, B, T, O);
      }
      b.op(loss === 'mse' ? OP.MSE : OP.BCE, dOut, g.out, targets, mask, TB * O, lossSlot);
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
    p = { T, B, program: b.finish(), input: g.input, lens: g.lens, targets: tIn, mask, lossSlot, states: g.states, outFeatures: O };
    this.plans.set(key, p);
    return p;
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

  private validate(batch: Batch, loss: LossKind): { T: number; B: number; lengths?: ArrayLike<number> } {
    if (!batch || typeof batch !== 'object') throw new ValueError(`Expected a batch { x, y, lengths? }, got ${String(batch)}`);
    const { T, B } = this.runner.inputDims(batch.x);
    const lengths = checkLengths(batch.lengths, T, B);
    this.runner.checkStates(batch.h0, batch.c0, B);
    const y = batch.y;
    if (!(y instanceof Tensor)) throw new DTypeError(`Expected targets y as a Tensor, got ${typeof y}`);
    const lead = this.runner.batchFirst ? [B, T] : [T, B];
    if (loss === 'crossEntropy') {
      if (!(y.data instanceof Int32Array)) throw new DTypeError(`Expected crossEntropy targets y as an Int32Array tensor of class ids, got ${y.data.constructor.name}`);
      if (y.shape.length !== 2 || y.shape[0] !== lead[0] || y.shape[1] !== lead[1]) {
        throw new ShapeError(`Expected targets y of shape [${lead.join(', ')}], got [${y.shape.join(', ')}]`);
      }
      const O = this.outWidth();
      for (let i = 0; i < y.data.length; i++) {
        const v = y.data[i];
        if (v < -1 || v >= O) throw new ValueError(`Expected class ids in [0, ${O}) or −1 (ignore) in targets y, got ${v} at index ${i}`);
      }
    } else {
      if (!(y.data instanceof Float32Array)) throw new DTypeError(`Expected ${loss} targets y as a Float32Array tensor, got ${y.data.constructor.name}`);
      const O = this.outWidth();
      if (y.shape.length !== 3 || y.shape[0] !== lead[0] || y.shape[1] !== lead[1] || y.shape[2] !== O) {
        throw new ShapeError(`Expected targets y of shape [${lead.join(', ')}, ${O}], got [${y.shape.join(', ')}]`);
      }
      for (let i = 0; i < y.data.length; i++) {
        if (!Number.isFinite(y.data[i])) throw new ValueError(`Expected finite targets y, got ${y.data[i]} at index ${i}`);
      }
    }
    return { T, B, lengths };
  }

  private outWidth(): number {
    let f = this.runner.inFeatures;
    for (let i = 0; i < this.trainable; i++) f = this.runner.modules[i].outFeatures(f);
    return f;
  }

  private checkOpts(o: StepOptions): void {
    if (!o || !['crossEntropy', 'mse', 'bceWithLogits'].includes(o.loss)) {
      throw new ValueError(`Expected loss 'crossEntropy', 'mse' or 'bceWithLogits', got ${String(o?.loss)}`);
    }
    if (!o.optimizer || typeof (o.optimizer as Optimizer).apply !== 'function') throw new ValueError('Expected an optimizer (new Adam(), SGD, …), got none');
    for (const k of ['clipNorm', 'clipValue'] as const) {
      const v = o[k];
      if (v !== undefined && !(typeof v === 'number' && v > 0 && Number.isFinite(v))) throw new ValueError(`Expected ${k} to be a positive number, got ${String(v)}`);
    }
    if (o.tbptt !== undefined && !(Number.isInteger(o.tbptt) && o.tbptt >= 1)) throw new ValueError(`Expected tbptt to be a positive integer, got ${String(o.tbptt)}`);
  }

  /** Runs forward + loss + backward on one chunk; returns the loss sum and count. */
  private runChunk(batch: Batch, loss: LossKind, T: number, B: number, t0: number, len: number, lengths: ArrayLike<number> | undefined, prev: TrainPlan | null, dropout: boolean): { p: TrainPlan; sum: number; count: number } {
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
    // states: h0/c0 (or zeros) at the start, else the previous chunk's final states (no
    // gradient flows across the chunk boundary)
    if (prev) {
      for (const s of p.states) {
        const ps = prev.states.find((q) => q.kind === s.kind && q.index === s.index)!;
        heap.f32.copyWithin(s.init, ps.final, ps.final + B * s.H);
      }
    } else r.writeStates(p, batch.h0, batch.c0);
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

  /** One optimizer step per chunk (one chunk without tbptt). */
  step(batch: Batch, o: StepOptions): StepResult {
    this.checkOpts(o);
    const { T, B, lengths } = this.validate(batch, o.loss);
    const r = this.runner;
    o.optimizer.bind(r.rt, r.arena);
    const k = o.tbptt && o.tbptt < T ? o.tbptt : T;
    let prev: TrainPlan | null = null;
    let sum = 0;
    let count = 0;
    let gradNorm = 0;
    for (let t0 = 0; t0 < T; t0 += k) {
      const len = Math.min(k, T - t0);
      const c = this.runChunk(batch, o.loss, T, B, t0, len, lengths, prev, true);
      sum += c.sum;
      count += c.count;
      gradNorm = this.clipAndStep(o);
      prev = c.p;
    }
    return { loss: count ? sum / count : 0, gradNorm };
  }

  /**
   * Loss of a batch without updating anything, with dropout off (as in PyTorch's eval mode) unless
   * `training` (masks drawn as in a training step); the gradients of that loss are left in the
   * gradient arena.
   */
  evaluate(batch: Batch, loss: LossKind, training = false): number {
    const { T, B, lengths } = this.validate(batch, loss);
    const c = this.runChunk(batch, loss, T, B, 0, T, lengths, null, training);
    return c.count ? c.sum / c.count : 0;
  }

  private clipAndStep(o: StepOptions): number {
    return clipAndStep(this.runner.rt.k, this.grad, this.runner.arena.size, o);
  }

  dispose(): void {
    for (const p of this.plans.values()) p.program.dispose();
    this.plans.clear();
    this.runner.rt.heap.release(this.grad);
  }
}

/**
 * The end of every training step (the Trainer's and the WorkerPool's): the global gradient norm
 * of the arena at `grad` (n floats), clipping by norm and by value, one optimizer step.
 * Returns the pre-clip norm; a non-finite norm throws before any parameter changes.
 */
export function clipAndStep(k: Kernels, grad: number, n: number, o: Pick<StepOptions, 'optimizer' | 'clipNorm' | 'clipValue'>): number {
  const norm = Math.sqrt(k.sum_squares(grad, n));
  if (!Number.isFinite(norm)) throw new ValueError(`Expected finite gradients, got a gradient norm of ${norm} (check the learning rate and inputs); parameters were not updated`);
  if (o.clipNorm !== undefined && norm > o.clipNorm) k.scale_f32(grad, o.clipNorm / (norm + 1e-6), n);
  if (o.clipValue !== undefined) k.clamp_f32(grad, -o.clipValue, o.clipValue, n);
  o.optimizer.apply(grad);
  return norm;
}
