// GraphModel: a model built from graph values (src/graph/nodes.ts) with named inputs and outputs.
// One parameter arena (names `<node>.<param>`), programs compiled per shape (src/graph/compile.ts)
// and cached (bounded), one wasm call per forward, per training step, per public backward.
import { PlanCache } from '../ir/plan-cache';
import { runtime, type Runtime } from '../wasm/load';
import { Arena, type ParamSpec } from '../params/arena';
import { Rng, DEFAULT_SEED } from '../params/rng';
import { initialisersSkipped } from '../params/initialisers';
import type { QuantWeight } from '../model/quantize';
import type { Int8Host } from '../model/quantize';
import { checkRngState, checkState } from '../ir/checks';
import { NonFiniteError, StepGuard, clipAndStep, guardedUpdate, paramsFinite, type GuardTarget } from '../train/guard';
import type { Optimizer } from '../train/optim';
import { Tensor } from '../tensor';
import { APPLY_STEP_KEYS, checkOptions, keysOf } from '../options';
import { ShapeError, StateError, ValueError, show } from '../errors';
import { GNode, InputNode, Sym } from './nodes';
import { graphFromSpec, graphSpec, nodeOrder, type GraphSpec } from './spec';
import { compileGraph, measured, type CompileOptions, type Compiled, type LossSpec, type Shape } from './compile';
import { checkFits, memoryError, type Program } from '../ir/program';
import { Decoder, MAX_BEAM, expandRows } from './decoder';
import { int8WeightNames, WeightCopies } from './copies';
import type { Packs } from '../model/packs';
import { checkFeed, outShape, writeParts, type Feed, type Parts } from './feed';
import { RecurrentCore } from '../layers/recurrent';
import { DropoutModule } from '../layers/dense';
import { checkStepOptions, checkTargets, lossSpecs, writeTargets, type GraphBatch, type LossOption, type ResolvedLoss } from './losses';
import { chunkParts, chunkTargets, tbpttAxis } from './tbptt';

const GRAPH_FORWARD_KEYS = keysOf<{ keep?: boolean; training?: boolean }>()('keep', 'training');
const GRAPH_EVALUATE_KEYS = keysOf<{ losses: unknown; training?: boolean }>()('losses', 'training');
const GRAPH_STEP_KEYS = keysOf<GraphStepOptions>()('losses', 'optimizer', 'clipNorm', 'clipValue', 'tbptt', 'onNonFinite');
const GRAPH_DECODER_KEYS = keysOf<{ step: string; context: unknown; beam?: number }>()('step', 'context', 'beam');
const GRAPH_STREAM_KEYS = keysOf<GraphStreamOptions>()('input', 'context', 'batchSize', 'packed');

/** Options of {@link GraphModel.stream}. */
export interface GraphStreamOptions {
  /** The sequence input fed one step at a time (default: the graph's only sequence input). */
  input?: string;
  /** Every other input (vectors, other sequences): run once per start. */
  context?: Feed;
  /** Rows stepped together when the graph has no other input (default 1); else the context's rows. */
  batchSize?: number;
  /** Read packed copies of the f32 weights at batch 1 (default: true at batch 1 with f32 weights on one thread; `true` needs both). */
  packed?: boolean;
}

export type { Feed, FeedValue } from './feed';

/** Options of a graph model's training step: a loss per output, the optimizer and clipping. */
export interface GraphStepOptions {
  /** Loss per output name (crossEntropy on a softmax/logSoftmax output is fused with it). */
  losses: Record<string, LossOption>;
  /** The optimizer that takes the step. */
  optimizer: Optimizer;
  /** Rescale gradients so their global L2 norm is at most this. */
  clipNorm?: number;
  /** Clamp every gradient element to [−clipValue, clipValue]. */
  clipValue?: number;
  /**
   * Truncated BPTT: chunks of this many steps of the graph's one sequence input, one update per
   * chunk, recurrent states carried across chunks without backpropagating through the boundary.
   * Needs only step-wise and unidirectional recurrent nodes after that input, and losses on
   * outputs along its steps (a ValueError otherwise; src/graph/tbptt.ts).
   */
  tbptt?: number;
  /**
   * When a gradient or an updated parameter is NaN/±Inf: 'throw' (default) restores the model,
   * optimizer and dropout generator to before the call and throws a NonFiniteError (a
   * ValueError); 'skip' restores them and returns `skipped: true` (as a layer's trainStep).
   */
  onNonFinite?: 'throw' | 'skip';
}

/** What a graph model's training step returns. */
export interface GraphStepResult {
  /** Σ weight · mean loss over the outputs (with tbptt: each output's mean over every chunk's counted targets). */
  loss: number;
  /** Mean loss of each output. */
  losses: Record<string, number>;
  /** Global gradient norm before clipping (with tbptt: the last chunk's; NaN when skipped). */
  gradNorm: number;
  /** True when the update was skipped (onNonFinite: 'skip'); nothing changed. */
  skipped: boolean;
}

interface Plan {
  c: Compiled;
  program: Program;
  backward: Program | null;
  shape: Shape;
  /** Packed weight copies the program reads (one row over a long sequence), refreshed before each run. */
  packs: Packs | null;
  /** Workspace elements (the plan cache's bound counts them). */
  elements: number;
  dispose(): void;
}

/**
 * What a graph model holds in wasm memory, kept apart from the model so that a model that is
 * garbage-collected without dispose() gives it back (the FinalizationRegistry below; nothing in
 * here may reference the model itself, or it would never be collected).
 */
interface Resources {
  rt: Runtime;
  arena: Arena;
  grad: number;
  rngState: number;
  plans: PlanCache<Plan>;
  /** Open decoders' release functions (a decoder keeps its model alive, not the other way round). */
  decoders: Set<() => void>;
  guard: StepGuard;
  /** int8 and packed weight copies. */
  copies: WeightCopies;
  pending: { p: Plan; B: number; version: number } | null;
  /** The training program of the last evaluate / trainStep run (its initial-state gradients). */
  lastTrain: Plan | null;
  disposed: boolean;
}
function release(r: Resources): void {
  if (r.disposed) return;
  for (const close of [...r.decoders]) close();
  r.copies.dispose();
  r.plans.clear();
  r.pending = null;
  r.lastTrain = null;
  r.guard.dispose();
  r.rt.heap.release(r.grad);
  r.rt.heap.release(r.rngState);
  r.arena.dispose();
  r.disposed = true;
}
// The safety net for graph models (and so every application built on one) that are never disposed.
const graphs = new FinalizationRegistry<Resources>(release);

/** What the step guard copies and restores: the arena and the dropout generator's state at `rngState`. */
function guardTarget(rt: Runtime, arena: Arena, rngState: number): GuardTarget {
  return {
    rt,
    arena,
    get dropoutRngState(): [number, number, number, number] {
      return [0, 1, 2, 3].map((k) => rt.heap.i32[rngState + k] >>> 0) as [number, number, number, number];
    },
    set dropoutRngState(v: [number, number, number, number]) {
      rt.heap.i32.set(v.map((x) => x | 0), rngState);
    },
  };
}

/** Each loss's running sum and count over a step's runs. */
interface Totals {
  sums: number[];
  counts: number[];
  specs: ResolvedLoss[];
}

/** Each loss's mean over its counted targets (`none` when it counted none) and their weighted sum. */
function means(t: Totals, none: number): { loss: number; losses: Record<string, number> } {
  const losses: Record<string, number> = {};
  let loss = 0;
  t.specs.forEach((s, i) => {
    losses[s.name] = t.counts[i] ? t.sums[i] / t.counts[i] : none;
    loss += s.weight * losses[s.name];
  });
  return { loss, losses };
}

/**
 * A model built from `graph.*` nodes, with several named inputs and outputs, compiled to one-call programs:
 * `forward`, `trainStep`, `evaluate`, the public `backward`, step-wise decoding with `decoder()`, parameters
 * and files.
 */
export class GraphModel {
  /** The names of the inputs, in the order given. */
  readonly inputNames: string[];
  /** The names of the outputs. */
  readonly outputNames: string[];
  private readonly rt: Runtime;
  private readonly nodes: GNode[];
  private readonly inputs = new Map<string, InputNode>();
  private readonly outputs = new Map<string, Sym>();
  private readonly arena: Arena;
  private readonly rngState: number;
  private readonly grad: number;
  // bounded LRU (limits.maxCachedPlans, limits.maxPlanCacheBytes): every shape compiles its own plan
  private readonly plans = new PlanCache<Plan>();
  /** int8 copies (after quantize()) and packed copies (one-row decoders) of weights (src/graph/copies.ts). */
  private readonly copies: WeightCopies;
  private readonly res: Resources;
  private get pending(): Resources['pending'] {
    return this.res.pending;
  }
  private set pending(v: Resources['pending']) {
    this.res.pending = v;
  }

  constructor(o: { inputs: Sym[]; outputs: Record<string, Sym>; seed?: number }) {
    if (!o || !Array.isArray(o.inputs)) throw new ValueError(`Expected { inputs: [...], outputs: {...} }, got ${show(o)}`);
    if (!o.outputs || typeof o.outputs !== 'object' || !Object.keys(o.outputs).length) throw new ValueError('Expected at least one named output, got none');
    for (const [i, s] of o.inputs.entries()) {
      if (!(s instanceof Sym) || !(s.node instanceof InputNode)) throw new ValueError(`Expected inputs[${i}] from graph.input(), got ${show(s)}`);
      if (this.inputs.has(s.node.name)) throw new ValueError(`Expected unique input names, got ${s.node.name} twice`);
      this.inputs.set(s.node.name, s.node);
    }
    for (const [name, s] of Object.entries(o.outputs)) {
      if (!(s instanceof Sym) || s.kind === 'ids') throw new ValueError(`Expected output ${name} to be a float graph value, got ${s instanceof Sym ? 'token ids' : String(s)}`);
      this.outputs.set(name, s);
    }
    // every listed input is fed (and written) even when no output depends on it
    this.nodes = nodeOrder([...this.inputs.values()], [...this.outputs.values()]);
    const names = new Set<string>();
    const specs: ParamSpec[] = [];
    for (const n of this.nodes) {
      if (names.has(n.name)) throw new ValueError(`Expected unique node names, got ${n.name} twice`);
      names.add(n.name);
      if (n instanceof InputNode && this.inputs.get(n.name) !== n) throw new ValueError(`Expected every input the outputs depend on in inputs, got ${n.name} missing`);
      for (const s of n.paramSpecs()) specs.push({ ...s, name: n.paramPrefix + s.name });
    }
    this.inputNames = [...this.inputs.keys()];
    this.outputNames = [...this.outputs.keys()];
    this.rt = runtime();
    this.arena = new Arena(this.rt, specs);
    const rng = new Rng(o.seed ?? DEFAULT_SEED);
    if (!initialisersSkipped()) this.arena.initialize(rng);
    // the dropout generator continues the initialiser's stream, as in Sequential
    this.rngState = this.rt.heap.alloc(4);
    this.rt.heap.i32.set(rng.state.map((v) => v | 0), this.rngState);
    this.grad = this.rt.heap.alloc(this.arena.size);
    const { rt, arena, rngState } = this;
    const copies = (this.copies = new WeightCopies(rt, arena));
    // what the guard copies and the finalizer's record hold must not refer to the model itself (a
    // held value that reaches its target keeps it alive forever): the guard's view is made outside
    // this constructor, whose closures share one context with those that capture `this`
    const target = guardTarget(rt, arena, rngState);
    this.guard = new StepGuard(target);
    const res: Resources = { rt, arena, grad: this.grad, rngState, plans: this.plans, decoders: new Set(), guard: this.guard, copies, pending: null, lastTrain: null, disposed: false };
    this.res = res;
    const nodes = this.nodes;
    this.runner = {
      rt,
      arena,
      get dropoutRngState(): [number, number, number, number] {
        return target.dropoutRngState;
      },
      set dropoutRngState(v: [number, number, number, number]) {
        checkRngState(v, 'the dropout generator state');
        target.dropoutRngState = v;
      },
      get quantized(): boolean {
        return copies.quantized;
      },
      get isDisposed(): boolean {
        return res.disposed;
      },
      int8WeightNames: () => int8WeightNames(nodes),
      setQuantized: (q) => this.setQuantized(q),
    };
    graphs.register(this, this.res, this);
  }

  /** @internal what the model file reads and writes (the runtime, the arena, the dropout generator state) and quantize() installs int8 copies through. */
  readonly runner: { rt: Runtime; arena: Arena; dropoutRngState: [number, number, number, number] } & Int8Host;
  /** Makes trainStep and step all-or-nothing (a copy of the parameters and moments, taken per update). */
  private readonly guard: StepGuard;

  /** The graph as plain JSON (stored in model files); GraphModel.fromSpec rebuilds it. With int8 weights it carries quantized: 'int8'. */
  spec(): GraphSpec {
    const s = graphSpec(this.nodes, this.inputNames, this.outputs);
    return this.copies.quantized ? { ...s, quantized: 'int8' } : s;
  }

  // ---- int8 weights (quantize(), src/model/quantize.ts) -----------------------------------------

  /** 'int8' after quantize(model, { weights: 'int8' }), else null. */
  get quantized(): 'int8' | null {
    return this.copies.quantized ? 'int8' : null;
  }

  /**
   * Installs (or, with null, drops) int8 copies. Every compiled program is released (the next
   * ones read the copies) and open decoders are closed (their context ran on the weights before).
   */
  private setQuantized(q: Map<string, QuantWeight> | null): void {
    this.check();
    for (const close of [...this.res.decoders]) close();
    this.copies.setQuantized(q);
    this.plans.clear();
    this.pending = null;
  }

  private checkNotQuantized(what: string): void {
    if (this.copies.quantized) throw new StateError(`Expected a model with f32 weights for ${what}, got one quantized to int8 (inference only)`);
  }

  /** Rebuilds a model from spec() (fresh parameters from the seed). */
  static fromSpec(spec: GraphSpec, opts: { seed?: number } = {}): GraphModel {
    return new GraphModel({ ...graphFromSpec(spec), seed: opts.seed });
  }

  // ---- feeding --------------------------------------------------------------------------------

  /** @internal (also the worker pool's check) */ checkFeed(feed: Feed, skip?: InputNode): { shape: Shape; parts: Parts } {
    return checkFeed(this.inputs, feed, skip);
  }

  private key(shape: Shape, mode: string, extra: string): string {
    const ts = [...this.inputs.values()].map((n) => `${shape.T.get(n) ?? '-'}${shape.lens.has(n) ? 'L' : ''}`).join(',');
    return `${mode}|${shape.B}|${ts}|${extra}`;
  }

  private plan(shape: Shape, mode: 'infer' | 'train' | 'tape', dropout: boolean, losses: LossSpec[] = [], carry = false): Plan {
    this.check();
    const key = this.key(shape, mode, `${dropout ? 'D' : ''}${carry ? 'C' : ''}${losses.map((l) => `${l.name}:${l.loss}`).join(',')}`);
    return this.plans.getOrBuild(key, () => this.compile(shape, mode, dropout, losses, carry));
  }

  private compile(shape: Shape, mode: 'infer' | 'train' | 'tape', dropout: boolean, losses: LossSpec[], carry: boolean): Plan {
    // one row over a long sequence reads W_hh packed, as a layer's inference does (the kernel would
    // otherwise pack it per call): copies kept with the plan, shared with one-row decoders and streams
    const copies = this.copies; // not `this`: the plan cache is part of what the finalizer holds
    const long = mode === 'infer' && shape.B === 1 && Math.max(0, ...shape.T.values()) >= (this.rt.k.PACK_MIN_T.value as number);
    const packs = long ? copies.acquirePacks(1) : null;
    let c: Compiled;
    let program: Program;
    let backward: Program | null = null;
    try {
      c = this.compileChecked(shape, {
        mode, grad: this.grad, rngState: this.rngState, dropout, losses, quant: copies.quantOf(), carry,
        seeds: mode === 'tape' ? [...this.outputs.values()] : undefined, packed: WeightCopies.packedCopy(packs),
      });
      if (mode === 'tape') [program, backward] = c.b.finishSplit(c.split);
      else program = c.b.finish();
    } catch (e) {
      if (packs) copies.releasePacks(packs);
      throw e;
    }
    const res = this.res;
    const p: Plan = {
      c, program, backward, shape, packs, elements: program.elements,
      // evicted (least recently used first) or released: a pending backward over it is gone too
      dispose: () => {
        if (res.pending?.p === p) res.pending = null;
        if (res.lastTrain === p) res.lastTrain = null;
        program.dispose();
        if (packs) copies.releasePacks(packs);
      },
    };
    return p;
  }

  /** compileGraph after a measuring pass: programs that cannot fit fail before anything is allocated. */
  private compileChecked(shape: Shape, o: CompileOptions): Compiled {
    const what = `a plan of T = ${Math.max(1, ...shape.T.values())}, B = ${shape.B}`;
    checkFits(this.rt, what, measured(compileGraph(this.rt, this.arena, this.nodes, shape, { ...o, measure: true })));
    try {
      return compileGraph(this.rt, this.arena, this.nodes, shape, o);
    } catch (e) {
      throw memoryError(e, what);
    }
  }

  private write(p: Plan, parts: Parts): void {
    writeParts(this.rt, p.c, parts);
  }

  private outShape(s: Sym, shape: Shape): number[] {
    return outShape(s, shape);
  }

  private readOutputs(p: Plan): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [name, s] of this.outputs) {
      const shape = this.outShape(s, p.shape);
      out[name] = new Tensor(this.rt.heap.read(p.c.values.get(s)!, shape.reduce((a, b) => a * b, 1)), shape);
    }
    return out;
  }

  // ---- running --------------------------------------------------------------------------------

  /**
   * Every output for a feed (one wasm call). `keep: true` keeps the activations for backward()
   * (`training: true` also draws dropout masks).
   */
  forward(feed: Feed, opts: { keep?: boolean; training?: boolean } = {}): Record<string, Tensor> {
    this.check();
    checkOptions(opts, GRAPH_FORWARD_KEYS, 'forward options');
    opts ??= {};
    for (const k of ['keep', 'training'] as const) {
      if (opts[k] !== undefined && typeof opts[k] !== 'boolean') throw new ValueError(`Expected ${k} to be a boolean, got ${show(opts[k])}`);
    }
    if (opts.training && !opts.keep) throw new ValueError('Expected training only together with keep: true, got training: true');
    if (opts.keep) this.checkNotQuantized('forward(feed, { keep: true })');
    const { shape, parts } = this.checkFeed(feed);
    const p = this.plan(shape, opts.keep ? 'tape' : 'infer', opts.training === true);
    this.write(p, parts);
    p.packs?.refresh(); // the parameters may have been written since the copies were packed
    p.program.run();
    if (opts.keep) this.pending = { p, B: shape.B, version: this.arena.version };
    return this.readOutputs(p);
  }

  /**
   * Backpropagates seeded output gradients (any subset of the outputs, shaped like them; the rest
   * 0) through the last forward(feed, { keep: true }). Parameter gradients accumulate until
   * zeroGrad(). Returns dL/d(input) of every float input.
   */
  backward(dOutputs: Record<string, Tensor | Float32Array>): Record<string, Tensor> {
    this.check();
    this.checkNotQuantized('training');
    const pend = this.pending;
    if (!pend) throw new StateError('Expected forward(feed, { keep: true }) before backward(), got no kept forward (each kept forward allows one backward)');
    // the kept activations are stale once the parameters were written (setParameter, loadStateDict, trainStep, step)
    if (pend.version !== this.arena.version) {
      this.pending = null;
      throw new StateError('Expected backward() on the activations of the last kept forward, got parameters written since that forward (setParameter, loadStateDict, trainStep or step): run forward(feed, { keep: true }) again');
    }
    if (dOutputs === null || typeof dOutputs !== 'object') throw new ValueError(`Expected output gradients as { name: tensor }, got ${show(dOutputs)}`);
    const { p } = pend;
    const vals = new Map<Sym, Float32Array>();
    for (const [name, d] of Object.entries(dOutputs)) {
      const s = this.outputs.get(name);
      if (!s) throw new ValueError(`Expected gradients of outputs ${this.outputNames.join(', ')}, got unknown ${name}`);
      if (s.kind === 'weights') throw new ValueError(`Expected no gradient for the attention weights output ${name}, got one`);
      const shape = this.outShape(s, p.shape);
      const data = d instanceof Tensor ? d.data : d;
      if (d instanceof Tensor && d.shape.join() !== shape.join()) throw new ShapeError(`Expected d${name} of shape [${shape.join(', ')}], got [${d.shape.join(', ')}]`);
      checkState(`d${name}`, data, 1, 1, shape.reduce((a, b) => a * b, 1));
      vals.set(s, data as Float32Array);
    }
    const heap = this.rt.heap;
    for (const [s, off] of p.c.dSeeds) {
      const v = vals.get(s);
      if (v) heap.f32.set(v, off);
      else heap.f32.fill(0, off, off + this.outShape(s, p.shape).reduce((a, b) => a * b, 1));
    }
    p.backward!.run();
    this.pending = null;
    const out: Record<string, Tensor> = {};
    for (const [name, n] of this.inputs) {
      if (n.opts.type === 'ids') continue;
      const s = n.ports[0];
      const shape = s.kind === 'vec' ? [p.shape.B, s.features] : [p.shape.T.get(n)!, p.shape.B, s.features];
      const size = shape.reduce((a, b) => a * b, 1);
      const off = p.c.dInputs.get(n)!;
      out[name] = new Tensor(off ? heap.read(off, size) : new Float32Array(size), shape);
    }
    return out;
  }

  /** One training step: forward, every output's loss, backward, clipping, one optimizer step (one wasm call + the optimizer kernel). */
  trainStep(batch: GraphBatch, o: GraphStepOptions): GraphStepResult {
    this.check();
    this.checkNotQuantized('training');
    checkOptions(o, GRAPH_STEP_KEYS, 'trainStep options');
    checkStepOptions(o);
    if (o.onNonFinite !== undefined && o.onNonFinite !== 'throw' && o.onNonFinite !== 'skip') throw new ValueError(`Expected onNonFinite 'throw' or 'skip', got ${show(o.onNonFinite)}`);
    // all-or-nothing: parameters, moments, step and the dropout generator are saved once the batch
    // has been checked (before the run draws masks) and put back if anything later fails
    const opt = o.optimizer;
    const wasBound = opt.isBoundTo(this.arena);
    let saved = false;
    let gradNorm = 0;
    const acc: Totals = { sums: [], counts: [], specs: [] };
    try {
      const r = this.runLosses(batch, o.losses, true, () => {
        opt.bind(this.rt, this.arena);
        this.guard.save(opt, wasBound);
        saved = true;
      }, o.tbptt, () => {
        gradNorm = clipAndStep(this.rt.k, this.grad, this.arena.size, o, () => paramsFinite(this.runner));
      }, acc);
      this.guard.commit();
      return { ...r, gradNorm, skipped: false };
    } catch (e) {
      if (saved) this.guard.restore();
      else if (!wasBound && opt.isBoundTo(this.arena)) opt.dispose();
      // skipped: the losses of the runs made before the update that failed (NaN where none counted)
      if (saved && e instanceof NonFiniteError && o.onNonFinite === 'skip') return { ...means(acc, NaN), gradNorm: NaN, skipped: true };
      throw e;
    }
  }

  /**
   * Losses of a batch without updating anything; their gradients stay readable through gradient().
   * Dropout is off (PyTorch's eval mode) unless `training: true`, which draws masks as a training
   * step does (and advances the dropout generator; a failed call puts it back).
   */
  evaluate(batch: GraphBatch, o: { losses: Record<string, LossOption>; training?: boolean }): { loss: number; losses: Record<string, number> } {
    this.check();
    this.checkNotQuantized('evaluate (a training program)');
    if (o === null || typeof o !== 'object') throw new ValueError(`Expected options { losses, training? }, got ${show(o)}`);
    checkOptions(o, GRAPH_EVALUATE_KEYS, 'evaluate options');
    if (o.training !== undefined && typeof o.training !== 'boolean') throw new ValueError(`Expected training to be a boolean, got ${show(o.training)}`);
    const rng = this.runner.dropoutRngState;
    try {
      return this.runLosses(batch, o.losses, o.training === true);
    } catch (e) {
      this.runner.dropoutRngState = rng;
      throw e;
    }
  }

  /**
   * @internal dL/d(initial state) of recurrent node `node`'s slots of a kind, (B, H) each in slot
   * order, from the last evaluate or trainStep run (the last chunk with tbptt); null when none ran
   * since the programs were last released.
   */
  initialStateGradients(node: string, kind: 'h' | 'c'): Float32Array[] | null {
    this.check();
    const p = this.res.lastTrain;
    if (!p) return null;
    const n = this.nodes.find((x) => x.name === node);
    const slots = (n && p.c.states.get(n)) ?? [];
    return slots.filter((s) => s.kind === kind).sort((a, b) => a.index - b.index).map((s) => this.rt.heap.read(s.dInit!, p.shape.B * s.H));
  }

  /** @internal Whether an evaluate / trainStep run's program (and its initial-state gradients) is still held. */
  get hasTrainingRun(): boolean {
    return this.res.lastTrain !== null;
  }

  /** Cached compiled programs (for tests and diagnostics). */
  get cachedPlans(): number {
    return this.plans.size;
  }

  /** Drops the cached programs (their activations and a pending backward) but keeps the parameters. */
  releaseWorkspace(): void {
    this.check();
    this.plans.clear();
  }

  /**
   * Checks a batch, runs the training program (whole, or chunk by chunk with `tbptt`), calling
   * `update` after each run; returns each output's mean loss over every run's counted targets.
   */
  private runLosses(batch: GraphBatch, lossOpts: Record<string, LossOption>, dropout: boolean, beforeRun?: () => void, tbptt?: number, update?: () => void, acc: Totals = { sums: [], counts: [], specs: [] }): { loss: number; losses: Record<string, number> } {
    this.check();
    if (batch === null || typeof batch !== 'object') throw new ValueError(`Expected a batch { inputs, targets }, got ${show(batch)}`);
    const specs = lossSpecs(lossOpts, this.outputs);
    const { shape, parts } = this.checkFeed(batch.inputs);
    checkTargets(batch.targets, specs, shape);
    const axis = tbptt === undefined ? null : tbpttAxis(tbptt, this.nodes, this.inputs, specs);
    const T = axis ? shape.T.get(axis)! : 0;
    const k = axis && tbptt! < T ? tbptt! : T;
    beforeRun?.(); // the whole call is valid: from here on, state changes
    const sums = (acc.sums = specs.map(() => 0));
    const counts = (acc.counts = specs.map(() => 0));
    acc.specs = specs;
    const at = (t0: number): number | undefined => (update ? t0 : undefined);
    if (!axis || k === T) this.runChunk(batch.targets, specs, shape, parts, dropout, null, sums, counts, undefined, at(0));
    else {
      let carry: Map<GNode, Float32Array[]> | null = null;
      for (let t0 = 0; t0 < T; t0 += k) {
        const len = Math.min(k, T - t0);
        const cshape: Shape = { T: new Map(shape.T).set(axis, len), B: shape.B, lens: shape.lens };
        const p = this.runChunk(chunkTargets(batch.targets, specs, t0, len), specs, cshape, chunkParts(parts, axis, t0, len, shape.B), dropout, carry, sums, counts, undefined, at(t0));
        update?.();
        // the final states, copied out (the next chunk's plan may evict this one)
        if (t0 + k < T) carry = new Map([...p.c.states].map(([n, slots]) => [n, slots.map((s) => this.rt.heap.read(s.final, shape.B * s.H))]));
      }
      update = undefined;
    }
    update?.();
    return means(acc, 0);
  }

  /** One run of the training program on a (chunk of a) batch, states written from `carry` when given; adds each loss's sum and count. */
  private runChunk(targets: GraphBatch['targets'], specs: ResolvedLoss[], shape: Shape, parts: Parts, dropout: boolean, carry: Map<GNode, Float32Array[]> | null, sums: number[], counts: number[], scales?: number[], finiteAt?: number): Plan {
    const p = this.plan(shape, 'train', dropout, specs.map((s) => ({ name: s.name, sym: s.sym, loss: s.loss })), carry !== null);
    this.write(p, parts);
    if (carry) for (const [n, slots] of p.c.states) slots.forEach((s, i) => this.rt.heap.f32.set(carry.get(n)![i], s.init));
    const n = p.c.losses.map((slot, i) => writeTargets(this.rt, slot, targets[slot.name], specs[i].loss, shape, parts));
    p.c.losses.forEach((slot, i) => {
      this.rt.heap.f32[slot.slot + 2] = scales ? scales[i] : n[i] ? specs[i].weight / n[i] : 0;
    });
    p.program.run();
    this.res.lastTrain = p;
    const got = p.c.losses.map((slot, i) => (n[i] ? this.rt.heap.readF64(slot.slot) : 0));
    // a training step's run: a non-finite loss stops it before its update (and is not counted)
    const bad = got.find((v) => !Number.isFinite(v));
    if (finiteAt !== undefined && bad !== undefined) throw new NonFiniteError(`Expected a finite loss, got ${bad} in the chunk at step ${finiteAt}; nothing was updated`);
    got.forEach((v, i) => {
      sums[i] += v;
      counts[i] += n[i];
    });
    return p;
  }

  // ---- what the worker pool's data-parallel step uses (src/parallel/pool.ts) ---------------

  /** @internal Checks a training batch: the resolved losses, the shape and the validated inputs. */
  checkBatch(batch: GraphBatch, lossOpts: Record<string, LossOption>): { specs: ResolvedLoss[]; shape: Shape; parts: Parts } {
    this.check();
    if (batch === null || typeof batch !== 'object') throw new ValueError(`Expected a batch { inputs, targets }, got ${show(batch)}`);
    const specs = lossSpecs(lossOpts, this.outputs);
    const { shape, parts } = this.checkFeed(batch.inputs);
    checkTargets(batch.targets, specs, shape);
    return { specs, shape, parts };
  }

  /**
   * @internal One shard's share of a step: runs the training program (dropout masks drawn when
   * `dropout`) with each loss's gradient scale = scales[i] (default weight / the shard's own count),
   * leaving the gradient in the arena; returns each loss's mean over the shard and its count.
   */
  shardGradient(batch: GraphBatch, lossOpts: Record<string, LossOption>, dropout: boolean, scales?: number[]): { means: number[]; counts: number[]; grad: Float32Array } {
    this.checkNotQuantized('training');
    const { specs, shape, parts } = this.checkBatch(batch, lossOpts);
    if (scales !== undefined && scales.length !== specs.length) throw new ValueError(`Expected ${specs.length} loss scales, got ${scales.length}`);
    const sums = specs.map(() => 0);
    const counts = specs.map(() => 0);
    this.runChunk(batch.targets, specs, shape, parts, dropout, null, sums, counts, scales);
    return { means: sums.map((v, i) => (counts[i] ? v / counts[i] : 0)), counts, grad: this.rt.heap.read(this.grad, this.arena.size) };
  }

  /** @internal Whether training draws dropout masks (a dropout node, or dropout between stacked recurrent layers). */
  get drawsDropout(): boolean {
    return this.nodes.some((n) => (n.module instanceof DropoutModule && n.module.p > 0) || (n.module instanceof RecurrentCore && n.module.dropout > 0 && n.module.numLayers > 1));
  }

  /**
   * Step-wise decoding: the context (every input but `step`, optionally each row repeated `beam`
   * times for beam search) runs once; then each step(x) runs one step of everything that depends
   * on the step input — embedding → RNN → attention → linear → … — for all rows in one wasm call.
   * reorder(indices) moves the recurrent state rows between steps (new row r = old row indices[r]).
   * With one row and f32 weights on one thread the step reads packed copies of its weights, shared
   * by the model's one-row decoders and released with the last of them (bit-identical results).
   * `beam` is at most MAX_BEAM (1024); a wider one is a ValueError.
   */
  decoder(o: { step: string; context: Feed; beam?: number }): Decoder {
    this.check();
    if (o === null || typeof o !== 'object') throw new ValueError(`Expected decoder options { step, context, beam? }, got ${show(o)}`);
    checkOptions(o, GRAPH_DECODER_KEYS, 'decoder options');
    const beam = o.beam ?? 1;
    if (!Number.isInteger(beam) || beam < 1 || beam > MAX_BEAM) throw new ValueError(`Expected beam to be an integer from 1 to ${MAX_BEAM}, got ${show(o.beam)}`);
    return this.openSteps(this.stepInput(o.step, 'step'), o.context ?? {}, beam);
  }

  /**
   * A stream over the graph's sequence input (as a layer's or Sequential's stream()): each step(x)
   * runs one step of everything downstream of it for `batchSize` rows (given by the context when
   * the graph has other inputs) and returns those outputs; the recurrent states stay in wasm memory
   * between steps; reset() starts again. The context inputs (vectors, other sequences) run once.
   * At batch 1 with f32 weights on one thread the step reads packed weight copies (`packed`,
   * default true there; bit-identical results), as Sequential's batch-1 stream does.
   */
  stream(o: GraphStreamOptions = {}): Decoder {
    this.check();
    if (o === null || typeof o !== 'object') throw new ValueError(`Expected stream options { input?, context?, batchSize?, packed? }, got ${show(o)}`);
    checkOptions(o, GRAPH_STREAM_KEYS, 'stream options');
    const seqs = this.inputNames.filter((n) => this.inputs.get(n)!.opts.type !== 'vector');
    if (o.input === undefined && seqs.length !== 1) throw new ValueError(`Expected input to name the streamed sequence input (one of ${seqs.join(', ')}), got none`);
    const stepIn = this.stepInput(o.input ?? seqs[0], 'input');
    if (o.batchSize !== undefined && !(Number.isInteger(o.batchSize) && o.batchSize >= 1)) throw new ValueError(`Expected batchSize to be a positive integer, got ${show(o.batchSize)}`);
    if (o.packed !== undefined && typeof o.packed !== 'boolean') throw new ValueError(`Expected packed to be a boolean, got ${show(o.packed)}`);
    return this.openSteps(stepIn, o.context ?? {}, 1, o.batchSize, o.packed);
  }

  private stepInput(name: unknown, arg: string): InputNode {
    const n = typeof name === 'string' ? this.inputs.get(name) : undefined;
    if (!n || n.opts.type === 'vector') throw new ValueError(`Expected ${arg} to name a sequence input (${this.inputNames.filter((k) => this.inputs.get(k)!.opts.type !== 'vector').join(', ')}), got ${show(name)}`);
    return n;
  }

  /** The step-wise programs of `stepIn` over a context (decoder and stream). */
  private openSteps(stepIn: InputNode, context: Feed, beam: number, batchSize?: number, packed?: boolean): Decoder {
    const { shape, parts } = this.checkFeed(context, stepIn);
    if (shape.B < 0) shape.B = batchSize ?? 1; // no context input: the rows are the caller's
    else if (batchSize !== undefined && batchSize !== shape.B) throw new ShapeError(`Expected batchSize ${shape.B} (the context's rows), got ${batchSize}`);
    const stepNodes = new Set<GNode>([stepIn]);
    for (const n of this.nodes) if (n.inputs.some((s) => stepNodes.has(s.node))) stepNodes.add(n);
    for (const n of stepNodes) {
      if (n.kind === 'pool') throw new ValueError(`Expected no pooling over the step input's steps in a decoder, got pool node ${n.name}`);
      if (n.module instanceof RecurrentCore && n.module.bidirectional) throw new ValueError(`Expected unidirectional recurrent layers after the step input, got bidirectional ${n.name}`);
    }
    const B = shape.B * beam;
    if (packed && B !== 1) throw new ValueError(`Expected packed: true only with batchSize 1 (one row reads the packed copies), got batchSize ${B}`);
    if (packed && this.copies.quantized) throw new ValueError('Expected packed: true only for f32 weights, got a model quantized to int8 (its weights are read in place)');
    const T = new Map(shape.T);
    T.set(stepIn, 1);
    // one row (as a batch-1 stream): the step reads packed copies of its f32 weights, bit-identical
    // to reading them in place and faster to arrive (the kernels read a copy for a single row only)
    const copies = this.copies;
    const packs = packed === false ? null : copies.acquirePacks(B);
    let c: Compiled;
    try {
      c = this.compileChecked({ T, B, lens: shape.lens }, {
        mode: 'step', stepInput: stepIn, grad: 0, rngState: this.rngState, dropout: false, quant: this.copies.quantOf(), packed: WeightCopies.packedCopy(packs),
      });
    } catch (e) {
      if (packs) this.copies.releasePacks(packs);
      throw e;
    }
    const outs = [...this.outputs].filter(([, s]) => stepNodes.has(s.node) && s.kind !== 'vec')
      .map(([name, s]): [string, Sym, number] => [name, s, s.kind === 'weights' ? T.get(s.node.inputs[1].axis!)! : s.features]);
    return new Decoder(this.rt, c, stepIn, outs, B, expandRows(parts, beam, shape), this.res.decoders, this, packs ? () => copies.releasePacks(packs) : undefined, packs ? () => packs.refresh() : undefined, packs !== null);
  }

  /** Floats held by packed weight copies (0 when no one-row decoder is open). */
  get packedFloats(): number {
    return this.copies.packedFloats;
  }

  // ---- gradients and parameters ------------------------------------------------------------------

  /** Sets every accumulated gradient to 0. */
  zeroGrad(): void {
    this.check();
    this.checkNotQuantized('training');
    this.rt.k.fill_f32(this.grad, 0, this.arena.size);
  }

  /** Clips and steps the optimizer on the accumulated gradients; returns the pre-clip norm. */
  step(optimizer: Optimizer, opts: { clipNorm?: number; clipValue?: number } = {}): number {
    this.check();
    this.checkNotQuantized('training');
    checkOptions(opts, APPLY_STEP_KEYS, 'step options');
    checkStepOptions({ ...opts, optimizer });
    return guardedUpdate(this.guard, this.runner, optimizer, () =>
      clipAndStep(this.rt.k, this.grad, this.arena.size, { ...opts, optimizer }, () => paramsFinite(this.runner)),
    );
  }

  /** A copy of the gradient of parameter `name`. */
  gradient(name: string): Float32Array {
    this.check();
    const e = this.arena.entry(name);
    return this.rt.heap.read(this.grad + e.rel, e.size);
  }

  /** Parameter names (by node: `enc.weight_ih_l0`) and shapes, in arena order. */
  parameters(): { name: string; shape: readonly number[] }[] {
    return this.arena.entries().map((e) => ({ name: e.name, shape: e.shape }));
  }
  /** Total number of scalar parameters. */
  get numParameters(): number {
    return this.arena.entries().reduce((a, e) => a + e.size, 0);
  }
  /** A copy of one parameter. */
  getParameter(name: string): Float32Array {
    this.check();
    return this.arena.get(name);
  }
  /** Overwrites one parameter (validated: size and finite values); refused on a quantized model. */
  setParameter(name: string, values: Float32Array | ArrayLike<number>): void {
    this.check();
    this.checkNotQuantized('setParameter');
    this.arena.set(name, values);
  }
  /** Every parameter as name → copy. */
  stateDict(): Record<string, Float32Array> {
    return Object.fromEntries(this.arena.entries().map((e) => [e.name, this.arena.get(e.name)]));
  }
  /** All-or-nothing: every name must exist and every value be valid before the first write. */
  loadStateDict(sd: Record<string, Float32Array | ArrayLike<number>>): void {
    this.check();
    this.checkNotQuantized('loadStateDict');
    const names = new Set(this.arena.entries().map((e) => e.name));
    for (const k of Object.keys(sd ?? {})) if (!names.has(k)) throw new ValueError(`Expected parameter names of this model, got unknown ${k}`);
    for (const n of names) if (!(n in sd)) throw new ValueError(`Expected a value for every parameter, got none for ${n}`);
    for (const n of names) this.arena.validate(n, sd[n]);
    for (const n of names) this.arena.set(n, sd[n]);
  }

  /** Releases the parameters, gradients and every cached plan. */
  dispose(): void {
    graphs.unregister(this);
    release(this.res);
  }

  /** @internal */ check(): void {
    if (this.res.disposed) throw new StateError('Expected a live model, got one whose memory was released by dispose()');
  }
}
