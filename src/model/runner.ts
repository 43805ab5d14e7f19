// Compiles a chain of modules bound to one parameter arena into programs (one per input shape,
// cached) and runs them: write inputs → one run_program call → copy outputs out.
import type { Runtime } from '../wasm/load';
import { Arena, type ParamSpec } from '../params/arena';
import { Rng, DEFAULT_SEED } from '../params/rng';
import type { EmitContext, Emitted, Module, StateSlot } from '../layers/module';
import { buildProgram, Program, ProgramBuilder } from '../ir/program';
import { PlanCache } from '../ir/plan-cache';
import { Packs } from './packs';
import { RecurrentCore } from '../layers/recurrent';
import { EmbeddingModule } from '../layers/dense';
import { Tensor } from '../tensor';
import { checkLimit } from '../limits';
import { keysOf } from '../options';
import { DTypeError, ShapeError, StateError, ValueError } from '../errors';
import { checkLengths, checkOptionsObject, checkRngState, checkState, describe } from '../ir/checks';

export { checkLengths, checkOptionsObject, checkState, describe } from '../ir/checks';

/** One compiled program for a (T, B, lengths?, streaming) shape, with its I/O buffers. */
export interface Plan {
  readonly T: number;
  readonly B: number;
  readonly program: Program;
  /** Input staging buffer (user layout: (T,B,F) or (B,T,F) when batchFirst). */
  readonly input: number;
  readonly lens: number;
  /** Output buffer in user layout. */
  readonly output: number;
  readonly outFeatures: number;
  readonly states: StateSlot[];
  /** True when the program reads the runner's packed weight copies (refreshPacks() before each run). */
  readonly packs: boolean;
  /** Workspace elements (the plan cache's bound counts them). */
  readonly elements: number;
  dispose(): void;
}

/** Options of `forward`: per-sequence lengths and initial states. */
export interface RunOptions {
  /** Per-sequence lengths (B), each in [1, T]; steps beyond are padding. */
  lengths?: Int32Array | ArrayLike<number>;
  /** Initial hidden states, (numStates, B, H) where numStates = Σ layers·directions. */
  h0?: Float32Array;
  /** Initial cell states for LSTM layers, same shape as h0. */
  c0?: Float32Array;
}

/** Option keys of forward (a model's, and the worker pool's). */
export const RUN_KEYS = keysOf<RunOptions>()('lengths', 'h0', 'c0');

/** What `forward` returns: the output sequence and the final states (`cN` for LSTMs). */
export interface RunResult {
  /**
   * The output sequence: `(T, B, D·H)` with concatenated directions, else `(T, B, H)` (`(B, T, …)` when
   * batchFirst); 0 past each sequence's length.
   */
  output: Tensor;
  /**
   * Final hidden states `(numLayers·D, B, H)`, index `layer·D + direction`: each sequence's state at its last
   * valid step.
   */
  hN: Tensor;
  /** Final cell states of an LSTM, laid out as `hN`. */
  cN?: Tensor;
}

// Set while a model is rebuilt from a file: its parameters come from the file, so the
// initialisers are not run.
let skipInitialisers = false;
/** Runs `build` with parameter initialisers disabled (the caller fills every parameter). */
export function withoutInitialisers<T>(build: () => T): T {
  skipInitialisers = true;
  try {
    return build();
  } finally {
    skipInitialisers = false;
  }
}

/** An int8 copy of one weight (src/model/quantize.ts): int8 rows of Kp bytes at q, row scales at s. */
export interface QuantWeight {
  q: number;
  s: number;
}

/** True while withoutInitialisers runs (graph models read it too). */
export function initialisersSkipped(): boolean {
  return skipInitialisers;
}

export class Runner {
  readonly arena: Arena;
  /** int8 copies of the weights by full parameter name when the model is quantized, else null. */
  private quantW: Map<string, QuantWeight> | null = null;
  private readonly prefixes: string[];
  private readonly plans = new PlanCache<Plan>();
  /** Plans owned by open streams (each stream has its own state); released with the model. */
  private readonly streamPlans = new Set<Plan>();
  /** Packed weight copies read by batch-1 stream and inference plans (shared by them; src/model/packs.ts). */
  private packSet: Packs | null = null;
  private disposed = false;

  constructor(
    readonly rt: Runtime,
    readonly modules: Module[],
    readonly inFeatures: number,
    readonly batchFirst: boolean,
    prefixed: boolean,
    seed: number = DEFAULT_SEED,
  ) {
    // every check before the first allocation: a refused model takes no memory
    if (typeof batchFirst !== 'boolean') throw new ValueError(`Expected batchFirst to be a boolean, got ${describe(batchFirst)}`);
    if (seed === undefined) seed = DEFAULT_SEED;
    if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) throw new ValueError(`Expected seed to be an integer, got ${describe(seed)}`);
    this.prefixes = modules.map((_, i) => (prefixed ? `${i}.` : ''));
    // shape propagation: every module validates its input width
    let f = inFeatures;
    for (const m of modules) f = m.outFeatures(f);
    const specs: ParamSpec[] = [];
    modules.forEach((m, i) => {
      for (const s of m.paramSpecs()) specs.push({ ...s, name: this.prefixes[i] + s.name });
    });
    const total = specs.reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1), 0);
    checkLimit('maxParameters', total, 'a model with parameters');
    this.arena = new Arena(rt, specs);
    try {
      this.rngState = rt.heap.alloc(4);
    } catch (e) {
      this.arena.dispose();
      throw e;
    }
    const rng = new Rng(seed);
    if (!skipInitialisers) this.arena.initialize(rng);
    // the dropout generator continues the initialiser's stream, so one seed fixes everything
    this.dropoutRngState = rng.state;
  }

  /** Element offset of the dropout generator state (4 u32 words). */
  readonly rngState: number;

  /** The dropout generator state (for checkpoints). */
  get dropoutRngState(): [number, number, number, number] {
    const i32 = this.rt.heap.i32;
    return [0, 1, 2, 3].map((k) => i32[this.rngState + k] >>> 0) as [number, number, number, number];
  }
  set dropoutRngState(s: [number, number, number, number]) {
    checkRngState(s, 'the dropout generator state');
    this.rt.heap.i32.set(s.map((v) => v | 0), this.rngState);
  }

  get inputKind(): 'float' | 'ids' {
    return this.modules[0].inputKind;
  }

  /**
   * The compiled inference plan for this shape: built on first use, then reused from a bounded
   * LRU cache (limits.maxCachedPlans, limits.maxPlanCacheBytes), so a stream of distinct lengths
   * keeps memory bounded.
   */
  plan(T: number, B: number, withLens: boolean): Plan {
    this.check();
    return this.plans.getOrBuild(`${T}x${B}${withLens ? 'L' : ''}`, () => {
      // one row over a long sequence reads W_hh packed (as the kernel would pack it itself per call)
      const pack = B === 1 && T >= this.rt.k.PACK_MIN_T.value && this.packable;
      return this.buildPlan(T, B, withLens, false, pack ? this.packs() : undefined);
    });
  }

  /** Whether plans may read kept packed copies: f32 weights on one thread (a team splits W in place). */
  get packable(): boolean {
    return !this.quantized && this.rt.team === undefined;
  }

  /**
   * A streaming plan (T = 1) owned by one stream: its state slots are that stream's alone. With
   * `packed` (batch 1, f32 weights) it reads packed copies of the weights that the model's packing
   * streams share (src/model/packs.ts).
   */
  openStreamPlan(B: number, packed = false): Plan {
    this.check();
    const p = this.buildPlan(1, B, false, true, packed ? this.packs() : undefined);
    this.streamPlans.add(p);
    return p;
  }

  /** Releases a stream's plan (close(), or the stream was garbage-collected). */
  closeStreamPlan(p: Plan): void {
    if (this.streamPlans.delete(p)) p.dispose();
  }

  private packs(): Packs {
    return (this.packSet ??= new Packs(this.rt, this.arena));
  }

  /** Repacks the packed weight copies if the parameters were written since they were packed. */
  refreshPacks(): void {
    this.packSet?.refresh();
  }

  /** Floats held by packed weight copies (0 when no plan reads any). */
  get packedFloats(): number {
    return this.packSet?.floats ?? 0;
  }

  /** Drops the packed copies when no plan reads them. */
  private dropUnusedPacks(): void {
    if (this.packSet && this.packSet.users === 0) {
      this.packSet.release();
      this.packSet = null;
    }
  }

  /** With `packs`, the plan reads (and while it lives, keeps) the runner's packed copies. */
  private buildPlan(T: number, B: number, withLens: boolean, streaming: boolean, packs?: Packs): Plan {
    let p: Plan;
    try {
      p = buildProgram(this.rt, `a plan of T = ${T}, B = ${B}`, (b) => {
        const g = this.emitForward(b, T, B, withLens, streaming, false, this.modules.length, false, packs);
        const program = b.finish();
        return {
          T, B, program, input: g.input, lens: g.lens, output: g.userOut, outFeatures: g.features, states: g.states,
          packs: packs !== undefined, elements: program.elements,
          dispose: () => {
            program.dispose();
            if (packs) {
              packs.users--;
              this.dropUnusedPacks();
            }
          },
        };
      });
    } catch (e) {
      this.dropUnusedPacks(); // copies made for a plan that could not be built
      throw e;
    }
    if (packs) packs.users++;
    return p;
  }

  /**
   * Emits the forward pass of modules [0, upto) into builder b: input staging (and the
   * batchFirst transpose), every module, and (unless training) the transpose back.
   */
  emitForward(b: ProgramBuilder, T: number, B: number, withLens: boolean, streaming: boolean, training: boolean, upto: number, dropout = training, packs?: Packs) {
    const F = this.inFeatures;
    const input = b.alloc(T * B * F);
    const lens = withLens ? b.alloc(B) : 0;
    let x = input;
    if (this.batchFirst && T > 1) {
      x = b.alloc(T * B * F);
      b.transpose01(x, input, B, T, F);
    }
    const states: StateSlot[] = [];
    const emitted: Emitted[] = [];
    let f = F;
    // state slots are numbered per kind across the model: h over every recurrent (layer,
    // direction), c over the LSTM ones only
    const base = { h: 0, c: 0 };
    const bases: { h: number; c: number }[] = [];
    for (let i = 0; i < upto; i++) {
      const m = this.modules[i];
      bases.push({ ...base });
      const e = m.emit(this.context(b, i, T, B, lens, streaming, training, dropout, packs), x, f);
      emitted.push(e);
      x = e.out;
      f = e.features;
      const next = { ...base };
      for (const s of e.states ?? []) {
        states.push({ ...s, index: base[s.kind] + s.index });
        next[s.kind] = Math.max(next[s.kind], base[s.kind] + s.index + 1);
      }
      Object.assign(base, next);
    }
    let userOut = x;
    if (this.batchFirst && T > 1 && !training) {
      userOut = b.alloc(T * B * f);
      b.transpose01(userOut, x, T, B, f);
    }
    return { b, input, lens, out: x, userOut, features: f, states, emitted, bases };
  }

  /** The emit context of module i (parameter names resolved with its prefix). */
  context(b: ProgramBuilder, i: number, T: number, B: number, lens: number, streaming: boolean, training: boolean, dropout = training, packs?: Packs): EmitContext {
    const prefix = this.prefixes[i];
    return {
      b,
      T,
      B,
      lens,
      streaming,
      training,
      dropout,
      rngState: this.rngState,
      param: (name) => this.arena.offsetOf(prefix + name),
      quant: (name) => this.quantW?.get(prefix + name),
      optParam: (name) => (this.arena.has(prefix + name) ? this.arena.offsetOf(prefix + name) : 0),
      packed: packs && ((name, N, K, apart = 0) => packs.get(b, prefix + name, N, K, apart)),
    };
  }

  /** Parameter-name prefix of module i ('' for a standalone layer, 'i.' in Sequential). */
  prefix(i: number): string {
    return this.prefixes[i];
  }

  /** The recurrent modules that hold state of a kind (h: every recurrent layer; c: LSTMs). */
  private stateModules(kind: 'h' | 'c'): RecurrentCore[] {
    return this.modules.filter((m): m is RecurrentCore => m instanceof RecurrentCore && (kind === 'h' || m.cell.hasCellState));
  }

  /** Vocabulary size of a model whose first module is an embedding (ids in [0, numEmbeddings)). */
  get numEmbeddings(): number {
    const m = this.modules[0];
    if (!(m instanceof EmbeddingModule)) throw new ValueError(`Expected a model starting with an embedding, got ${m.kind}`);
    return m.numEmbeddings;
  }

  /** Number of (layer, direction) state slots of a kind. */
  stateCount(kind: 'h' | 'c' = 'h'): number {
    return this.stateModules(kind).reduce((n, m) => n + m.numLayers * m.directions, 0);
  }

  /**
   * Width of a kind's state tensors (numStates, B, W): the largest hidden size among its layers.
   * When hidden sizes differ, a slot of a smaller layer uses the first H of each row (rest 0).
   */
  stateWidth(kind: 'h' | 'c' = 'h'): number {
    return Math.max(0, ...this.stateModules(kind).map((m) => m.hiddenSize));
  }

  /** Writes the input (already validated) into a plan. */
  writeInput(p: { input: number }, data: Float32Array | Int32Array): void {
    if (data instanceof Int32Array) this.rt.heap.i32.set(data, p.input);
    else this.rt.heap.f32.set(data, p.input);
  }

  /** Writes validated lengths into a plan. */
  writeLengths(p: { lens: number; B: number }, lengths: RunOptions['lengths']): void {
    if (!p.lens) return;
    const i32 = this.rt.heap.i32;
    for (let b = 0; b < p.B; b++) i32[p.lens + b] = lengths![b];
  }

  /** Writes initial states (or zeros) into the plan's state slots. */
  writeStates(p: { B: number; states: StateSlot[] }, h0?: Float32Array, c0?: Float32Array): void {
    const f32 = this.rt.heap.f32;
    for (const s of p.states) {
      const src = s.kind === 'h' ? h0 : c0;
      if (src) copySlot(f32, s.init, s.H, src, (s.index * p.B) * this.stateWidth(s.kind), this.stateWidth(s.kind), p.B, 'in');
      else f32.fill(0, s.init, s.init + p.B * s.H);
    }
  }

  /** Writes (numStates, B, W) tensors (or zeros) into the (B, H) block at where(slot) of each slot. */
  scatterStates(p: { B: number; states: StateSlot[] }, kind: 'h' | 'c', src: Float32Array | undefined, where: (s: StateSlot) => number): void {
    const f32 = this.rt.heap.f32;
    const W = this.stateWidth(kind);
    for (const s of p.states) {
      if (s.kind !== kind) continue;
      if (src) copySlot(f32, where(s), s.H, src, s.index * p.B * W, W, p.B, 'in');
      else f32.fill(0, where(s), where(s) + p.B * s.H);
    }
  }

  /** Copies the final states out as (numStates, B, W) tensors (W: stateWidth). */
  readStates(p: { B: number; states: StateSlot[] }): { hN: Tensor; cN?: Tensor } {
    return { hN: this.gatherStates(p, 'h', (s) => s.final)!, cN: this.gatherStates(p, 'c', (s) => s.final) };
  }

  /** (numStates, B, W) tensor of one kind's slots, reading each slot's (B, H) block at where(slot). */
  gatherStates(p: { B: number; states: StateSlot[] }, kind: 'h' | 'c', where: (s: StateSlot) => number): Tensor | undefined {
    const slots = p.states.filter((s) => s.kind === kind);
    if (!slots.length) return undefined;
    const W = this.stateWidth(kind);
    const f32 = this.rt.heap.f32;
    const out = new Float32Array(this.stateCount(kind) * p.B * W);
    for (const s of slots) copySlot(f32, where(s), s.H, out, s.index * p.B * W, W, p.B, 'out');
    return new Tensor(out, [this.stateCount(kind), p.B, W]);
  }

  /** A full forward pass: validate, write, one wasm call, read. */
  run(x: Tensor<Float32Array> | Tensor<Int32Array>, opts: RunOptions = {}): RunResult {
    this.check();
    checkOptionsObject(opts, 'forward options');
    const { T, B } = this.inputDims(x);
    const lengths = checkLengths(opts.lengths, T, B);
    this.checkStates(opts.h0, opts.c0, B);
    const p = this.plan(T, B, lengths !== undefined);
    if (p.packs) this.refreshPacks();
    this.writeInput(p, x.data);
    this.writeLengths(p, lengths);
    this.writeStates(p, opts.h0, opts.c0);
    p.program.run();
    const outShape = this.batchFirst ? [B, T, p.outFeatures] : [T, B, p.outFeatures];
    const output = new Tensor(this.rt.heap.read(p.output, T * B * p.outFeatures), outShape);
    return { output, ...this.readStates(p) };
  }

  /** Validates optional initial states for a batch of B. */
  checkStates(h0: Float32Array | undefined, c0: Float32Array | undefined, B: number): void {
    if (h0 !== undefined) {
      checkState('h0', h0, this.stateCount('h'), B, this.stateWidth('h'));
      this.checkLogSpaceStates(h0, B);
    }
    if (c0 !== undefined) {
      if (!this.stateCount('c')) throw new ValueError('Expected no c0 for a model without LSTM layers, got c0');
      checkState('c0', c0, this.stateCount('c'), B, this.stateWidth('c'));
    }
  }

  /** The log-space min cells keep log h: their slots of h0 must be >= 0 (log of a negative is NaN). */
  private checkLogSpaceStates(h0: Float32Array, B: number): void {
    const W = this.stateWidth('h');
    let slot = 0;
    for (const m of this.stateModules('h')) {
      const slots = m.numLayers * m.directions;
      if (m.logSpace) {
        for (let i = slot * B * W; i < (slot + slots) * B * W; i++) {
          if (h0[i] < 0) throw new ValueError(`Expected h0 >= 0 in the state slots of a logSpace ${m.kind} layer (slots ${slot}..${slot + slots - 1}), got ${h0[i]} at index ${i}`);
        }
      }
      slot += slots;
    }
  }

  /** (T, B) of an input tensor after checking rank, width, dtype and values. */
  inputDims(x: Tensor<Float32Array> | Tensor<Int32Array>): { T: number; B: number } {
    if (!(x instanceof Tensor)) throw new DTypeError(`Expected input x to be a Tensor (use tensor(data, shape)), got ${describe(x)}`);
    // checked here, at the point of use: a tensor's data may have been swapped after construction
    const n = x.shape.reduce((a, d) => a * d, 1);
    if (!ArrayBuffer.isView(x.data) || (x.data as Float32Array).length !== n) {
      throw new ShapeError(`Expected input x.data to hold ${n} elements for shape [${x.shape.join(', ')}], got ${ArrayBuffer.isView(x.data) ? (x.data as Float32Array).length : describe(x.data)}`);
    }
    const ids = this.inputKind === 'ids';
    const rank = ids ? 2 : 3;
    if (x.shape.length !== rank) {
      const want = ids ? (this.batchFirst ? '(B, T)' : '(T, B)') : this.batchFirst ? '(B, T, F)' : '(T, B, F)';
      throw new ShapeError(`Expected input x of rank ${rank} ${want}, got shape [${x.shape.join(', ')}]`);
    }
    const [d0, d1] = x.shape;
    const T = this.batchFirst ? d1 : d0;
    const B = this.batchFirst ? d0 : d1;
    if (T < 1 || B < 1) throw new ShapeError(`Expected at least one step and one sequence, got shape [${x.shape.join(', ')}]`);
    checkLimit('maxSequenceLength', T, 'input x with a sequence length T');
    if (ids) {
      if (!(x.data instanceof Int32Array)) throw new DTypeError(`Expected token ids as an Int32Array tensor, got ${x.data.constructor.name}`);
      const V = this.numEmbeddings;
      for (let i = 0; i < x.data.length; i++) {
        const v = x.data[i];
        if (v < 0 || v >= V) throw new ValueError(`Expected token ids in [0, ${V}), got ${v} at index ${i}`);
      }
    } else {
      if (!(x.data instanceof Float32Array)) throw new DTypeError(`Expected input x as a Float32Array tensor, got ${x.data.constructor.name}`);
      if (x.shape[2] !== this.inFeatures) {
        throw new ShapeError(`Expected input features ${this.inFeatures}, got ${x.shape[2]} (shape [${x.shape.join(', ')}])`);
      }
      const d = x.data;
      for (let i = 0; i < d.length; i++) {
        if (!Number.isFinite(d[i])) throw new ValueError(`Expected finite values in input x, got ${d[i]} at index ${i}`);
      }
    }
    return { T, B };
  }

  /** Full names of the weights the int8 path replaces: recurrent weight_ih* / weight_hh*, linear weight. */
  int8WeightNames(): string[] {
    const names: string[] = [];
    this.modules.forEach((m, i) => {
      const recurrent = m instanceof RecurrentCore;
      for (const s of m.paramSpecs()) {
        if ((recurrent && /^weight_(ih|hh)_/.test(s.name)) || (m.kind === 'linear' && s.name === 'weight')) names.push(this.prefixes[i] + s.name);
      }
    });
    return names;
  }

  /** True when the model runs on int8 weight copies (inference only). */
  get quantized(): boolean {
    return this.quantW !== null;
  }

  /** Installs (or, with null, drops) int8 weight copies: previous copies and every plan are released. */
  setQuantized(q: Map<string, QuantWeight> | null): void {
    this.check();
    for (const w of this.quantW?.values() ?? []) {
      this.rt.heap.release(w.q);
      this.rt.heap.release(w.s);
    }
    this.quantW = q;
    this.releaseWorkspace();
  }

  dispose(): void {
    if (this.disposed) return;
    this.setQuantized(null);
    this.plans.clear();
    for (const p of this.streamPlans) p.dispose();
    this.streamPlans.clear();
    this.packSet?.release();
    this.packSet = null;
    this.arena.dispose();
    this.rt.heap.release(this.rngState);
    this.disposed = true;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Drops cached plans (their activations) but keeps parameters. */
  releaseWorkspace(): void {
    this.plans.clear();
  }

  /** Cached inference plans (for tests and diagnostics). */
  get cachedPlans(): number {
    return this.plans.size;
  }

  private check(): void {
    if (this.disposed) throw new StateError('Expected a live model, got one whose memory was released by dispose()');
  }
}


/**
 * Copies one state slot between its (B, H) block in wasm memory at `heapOff` and rows of width W
 * at `off` in `arr` (W >= H; the extra columns of a narrower layer are 0 on the way out and
 * ignored on the way in).
 */
function copySlot(f32: Float32Array, heapOff: number, H: number, arr: Float32Array, off: number, W: number, B: number, dir: 'in' | 'out'): void {
  if (W === H) {
    if (dir === 'in') f32.set(arr.subarray(off, off + B * H), heapOff);
    else arr.set(f32.subarray(heapOff, heapOff + B * H), off);
    return;
  }
  for (let b = 0; b < B; b++) {
    if (dir === 'in') f32.set(arr.subarray(off + b * W, off + b * W + H), heapOff + b * H);
    else arr.set(f32.subarray(heapOff + b * H, heapOff + (b + 1) * H), off + b * W);
  }
}
