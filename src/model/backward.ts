// The public backward pass at a model's boundary, for composing with other code (an outside loss,
// an encoder trained under someone else's decoder): forward(x, { keep: true }) runs a training
// forward program that keeps its activations; backward({ dOutput, dhN, dcN }) runs the matching
// backward program seeded with those gradients. Parameter gradients ACCUMULATE into the model's
// gradient arena (the one trainStep and gradient() use) until zeroGrad(), as in PyTorch; then
// step(optimizer) clips and steps. One wasm call for the forward, one for the backward.
import { PlanCache } from '../ir/plan-cache';
import type { Runner, RunOptions, RunResult } from './runner';
import { checkLengths, checkState } from '../ir/checks';
import { ProgramBuilder, type Program } from '../ir/program';
import type { BackwardContext, StateSlot } from '../layers/module';
import { clipAndStep, type StepOptions } from './trainer';
import { StepGuard, guardedUpdate, paramsFinite } from '../train/guard';
import type { Optimizer } from '../train/optim';
import { Tensor } from '../tensor';
import { APPLY_STEP_KEYS, checkOptions, keysOf } from '../options';
import { DTypeError, ShapeError, StateError, ValueError, describe, show } from '../errors';

/** Options of `forward`: a run's options plus keeping the activations for `backward()`. */
export interface KeepOptions extends RunOptions {
  /** Keep the activations for backward() (required for backward). */
  keep?: boolean;
  /** Draw dropout masks as a training step does (default false: dropout is the identity). */
  training?: boolean;
}

/** The upstream gradients `backward()` takes, each optional and shaped like `forward`'s results. */
export interface BackwardGradients {
  /** dL/d(output), in the output's layout ((T, B, O), or (B, T, O) when batchFirst); zeros when absent. */
  dOutput?: Tensor | Float32Array;
  /** dL/d(hN), (numStates, B, H) as forward's hN; zeros when absent. */
  dhN?: Float32Array;
  /** dL/d(cN) of the LSTM layers, as forward's cN; zeros when absent. */
  dcN?: Float32Array;
}

const BACKWARD_KEYS = keysOf<BackwardGradients>()('dOutput', 'dhN', 'dcN');

/** What `backward()` returns: the gradients of the inputs and of the initial states. */
export interface BackwardResult {
  /** dL/dx in the input's layout (float inputs only; token ids have no gradient). */
  dx?: Tensor;
  /** dL/dh0, (numStates, B, H). */
  dh0?: Tensor;
  /** dL/dc0 of the LSTM layers. */
  dc0?: Tensor;
}

interface TapePlan {
  T: number;
  B: number;
  forward: Program;
  backward: Program;
  input: number;
  lens: number;
  output: number; // user layout
  outFeatures: number;
  states: StateSlot[];
  dOutput: number; // user layout staging
  dFinal: Map<string, number>; // `${kind}${index}` → (B, H)
  dx: number; // user layout, 0 for ids
  /** Workspace elements (the plan cache's bound counts them). */
  elements: number;
  dispose(): void;
}

/**
 * Forward-with-activations and backward programs of one model, per (T, B, lengths?, dropout) shape,
 * in a bounded LRU (limits.maxCachedPlans, limits.maxPlanCacheBytes).
 */
export class Tape {
  private readonly plans = new PlanCache<TapePlan>();
  private pending: TapePlan | null = null;
  // the parameters' write count when the pending forward ran: any write since (setParameter,
  // loadStateDict, trainStep, an optimizer step) makes its activations stale for backward
  private pendingVersion = -1;

  /** Makes step() all-or-nothing: a non-finite update puts the parameters and moments back. */
  private readonly guard: StepGuard;

  constructor(private readonly runner: Runner, private readonly grad: number) {
    this.guard = new StepGuard(runner);
  }

  private plan(T: number, B: number, withLens: boolean, dropout: boolean): TapePlan {
    const key = `${T}x${B}${withLens ? 'L' : ''}${dropout ? 'D' : ''}`;
    return this.plans.getOrBuild(key, () => this.build(T, B, withLens, dropout));
  }

  private build(T: number, B: number, withLens: boolean, dropout: boolean): TapePlan {
    const r = this.runner;
    const n = r.modules.length;
    const b = new ProgramBuilder(r.rt);
    const g = r.emitForward(b, T, B, withLens, false, true, n, dropout);
    const TB = T * B;
    const O = g.features;
    const bf = r.batchFirst && T > 1;
    let output = g.out;
    if (bf) {
      output = b.alloc(TB * O);
      b.transpose01(output, g.out, T, B, O);
    }
    const at = b.words.length;
    // ---- backward: seeded dOutput (user layout → time-major), dhN/dcN per state slot
    const dOutput = b.alloc(TB * O);
    let d = dOutput;
    if (bf) {
      d = b.alloc(TB * O);
      b.transpose01(d, dOutput, B, T, O);
    }
    const dFinal = new Map<string, number>();
    for (const s of g.states) dFinal.set(`${s.kind}${s.index}`, b.alloc(B * s.H));
    for (let i = n - 1; i >= 0; i--) {
      const m = r.modules[i];
      const e = g.emitted[i];
      if (m.kind === 'softmax' || m.kind === 'logSoftmax') {
        b.softmaxBwd(d, d, e.out, TB, e.features, m.kind === 'logSoftmax' ? 1 : 0);
        continue;
      }
      if (!e.backward) throw new ValueError(`Expected layer ${i} (${m.kind}) to have a backward pass, got none`);
      const ctx = r.context(b, i, T, B, g.lens, false, true);
      const prefix = r.prefix(i);
      const base = g.bases[i];
      const bc: BackwardContext = {
        b,
        param: ctx.param,
        optParam: ctx.optParam,
        grad: (name) => this.grad + r.arena.entry(prefix + name).rel,
        optGrad: (name) => (r.arena.has(prefix + name) ? this.grad + r.arena.entry(prefix + name).rel : 0),
        needInputGrad: i > 0 || m.inputKind === 'float',
        dFinal: (kind, index) => dFinal.get(`${kind}${base[kind] + index}`) ?? 0,
      };
      d = e.backward(bc, d);
    }
    let dx = 0;
    if (r.inputKind === 'float') {
      dx = d;
      if (bf) {
        dx = b.alloc(TB * r.inFeatures);
        b.transpose01(dx, d, T, B, r.inFeatures);
      }
    }
    const [forward, backward] = b.finishSplit(at);
    const p: TapePlan = {
      T, B, forward, backward, input: g.input, lens: g.lens, output, outFeatures: O, states: g.states, dOutput, dFinal, dx,
      elements: forward.elements,
      // evicted (least recently used first) or released: a pending backward over it is gone too
      dispose: () => {
        if (this.pending === p) this.pending = null;
        forward.dispose();
      },
    };
    return p;
  }

  /** Forward pass keeping activations; the next backward() uses them. */
  forward(x: Tensor<Float32Array> | Tensor<Int32Array>, opts: KeepOptions): RunResult {
    const r = this.runner;
    if (opts.training !== undefined && typeof opts.training !== 'boolean') throw new ValueError(`Expected training to be a boolean, got ${show(opts.training)}`);
    const { T, B } = r.inputDims(x);
    const lengths = checkLengths(opts.lengths, T, B);
    r.checkStates(opts.h0, opts.c0, B);
    const p = this.plan(T, B, lengths !== undefined, opts.training === true);
    r.writeInput(p, x.data);
    r.writeLengths(p, lengths);
    r.writeStates(p, opts.h0, opts.c0);
    p.forward.run();
    this.pending = p;
    this.pendingVersion = r.arena.version;
    const shape = r.batchFirst ? [B, T, p.outFeatures] : [T, B, p.outFeatures];
    const output = new Tensor(r.rt.heap.read(p.output, T * B * p.outFeatures), shape);
    return { output, ...r.readStates(p) };
  }

  /** Backpropagates seeded gradients through the last kept forward; accumulates parameter gradients. */
  backward(g: BackwardGradients): BackwardResult {
    const p = this.pending;
    if (!p) throw new StateError('Expected forward(x, { keep: true }) before backward(), got no kept forward (each kept forward allows one backward)');
    const r = this.runner;
    if (r.arena.version !== this.pendingVersion) {
      this.pending = null;
      throw new StateError('Expected backward() on the activations of the last kept forward, got parameters written since that forward (setParameter, loadStateDict, a training or optimizer step): run forward(x, { keep: true }) again');
    }
    if (g === null || typeof g !== 'object' || Array.isArray(g)) throw new ValueError(`Expected a gradients object { dOutput?, dhN?, dcN? }, got ${describe(g)}`);
    checkOptions(g, BACKWARD_KEYS, 'backward gradients');
    const { T, B, outFeatures: O } = p;
    // validate everything before the first write
    let dOut: Float32Array | undefined;
    if (g.dOutput !== undefined) {
      const want = r.batchFirst ? [B, T, O] : [T, B, O];
      dOut = g.dOutput instanceof Tensor ? g.dOutput.data as Float32Array : g.dOutput;
      if (!(dOut instanceof Float32Array)) throw new DTypeError(`Expected dOutput as a Float32Array or float Tensor, got ${(g.dOutput as object)?.constructor?.name ?? typeof g.dOutput}`);
      if (g.dOutput instanceof Tensor && g.dOutput.shape.join() !== want.join()) {
        throw new ShapeError(`Expected dOutput of shape [${want.join(', ')}], got [${g.dOutput.shape.join(', ')}]`);
      }
      checkState('dOutput', dOut, want[0], want[1], want[2]);
    }
    if (g.dhN !== undefined) {
      if (!r.stateCount('h')) throw new ValueError('Expected no dhN for a model without recurrent layers, got dhN');
      checkState('dhN', g.dhN, r.stateCount('h'), B, r.stateWidth('h'));
    }
    if (g.dcN !== undefined) {
      if (!r.stateCount('c')) throw new ValueError('Expected no dcN for a model without LSTM layers, got dcN');
      checkState('dcN', g.dcN, r.stateCount('c'), B, r.stateWidth('c'));
    }
    const heap = r.rt.heap;
    if (dOut) heap.f32.set(dOut, p.dOutput);
    else heap.f32.fill(0, p.dOutput, p.dOutput + T * B * O);
    r.scatterStates(p, 'h', g.dhN, (s) => p.dFinal.get(`h${s.index}`)!);
    r.scatterStates(p, 'c', g.dcN, (s) => p.dFinal.get(`c${s.index}`)!);
    p.backward.run();
    this.pending = null;
    const out: BackwardResult = {};
    if (p.dx) out.dx = new Tensor(heap.read(p.dx, T * B * r.inFeatures), r.batchFirst ? [B, T, r.inFeatures] : [T, B, r.inFeatures]);
    const dh0 = r.gatherStates(p, 'h', (s) => s.dInit!);
    const dc0 = r.gatherStates(p, 'c', (s) => s.dInit!);
    if (dh0) out.dh0 = dh0;
    if (dc0) out.dc0 = dc0;
    return out;
  }

  /** Sets every accumulated gradient to 0. */
  zeroGrad(): void {
    this.runner.rt.k.fill_f32(this.grad, 0, this.runner.arena.size);
  }

  /** Global-norm / value clipping and one optimizer step on the accumulated gradients; returns the pre-clip norm. */
  step(optimizer: Optimizer, o: Pick<StepOptions, 'clipNorm' | 'clipValue'> = {}): number {
    if (!optimizer || typeof (optimizer as Optimizer).apply !== 'function') throw new ValueError(`Expected an optimizer (new Adam(), SGD, …), got ${show(optimizer)}`);
    checkOptions(o, APPLY_STEP_KEYS, 'step options');
    o ??= {};
    for (const k of ['clipNorm', 'clipValue'] as const) {
      const v = o[k];
      if (v !== undefined && !(typeof v === 'number' && v > 0 && Number.isFinite(v))) throw new ValueError(`Expected ${k} to be a positive number, got ${show(v)}`);
    }
    return guardedUpdate(this.guard, this.runner, optimizer, () =>
      clipAndStep(this.runner.rt.k, this.grad, this.runner.arena.size, { ...o, optimizer }, () => paramsFinite(this.runner)),
    );
  }

  dispose(): void {
    this.plans.clear();
    this.pending = null;
    this.guard.dispose();
  }
}
