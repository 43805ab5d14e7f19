// Linear-chain CRF output layer: transition, start and end scores over numTags tags, the negative
// log-likelihood of gold tag paths (forward algorithm; gradients by forward–backward) and Viterbi
// decoding, both in wasm (assembly/kernels/crf.ts). Two levels:
//   - emitters (crfParamSpecs, emitCrfNll, emitCrfViterbi) for model graphs: a CRF head's ops in
//     any program, its parameters in the model's arena, its loss in a loss slot like the others;
//   - the standalone `CRF` class: its own arena, gradients and a one-call nll / decode.
import { runtime, type Runtime } from '../wasm/load';
import { Arena, type ParamSpec } from '../params/arena';
import { Rng, DEFAULT_SEED } from '../params/rng';
import { ProgramBuilder, type Program } from '../ir/program';
import { checkLengths } from '../ir/checks';
import { Tensor } from '../tensor';
import type { Optimizer, OptimizerState } from '../train/optim';
import { checkLimit } from '../limits';
import { DTypeError, ShapeError, StateError, ValueError, show } from '../errors';
import { checkOptions, keysOf } from '../options';

const CRF_KEYS = keysOf<CRFOptions>()('numTags', 'seed');
const CRF_NLL_KEYS = keysOf<{ reduction?: unknown }>()('reduction');

/** Parameters of a CRF with K tags (node-local names): transitions (K, K) [from, to], start (K), end (K). */
export function crfParamSpecs(numTags: number): ParamSpec[] {
  const init = { kind: 'uniform' as const, bound: 0.1 }; // as pytorch-crf: U(−0.1, 0.1)
  return [
    { name: 'transitions', shape: [numTags, numTags], init },
    { name: 'start', shape: [numTags], init },
    { name: 'end', shape: [numTags], init },
  ];
}

/** Where a CRF head's inputs and parameters live (element offsets; lengths 0 = every row has T). */
export interface CrfFields {
  emissions: number; // (T, B, K) f32
  lengths: number; // (B) i32, or 0
  transitions: number;
  start: number;
  end: number;
  T: number;
  B: number;
  numTags: number;
}

/** Buffers of an emitted CRF loss: write `tags` and the gradient scale (slot + 2) before a run. */
export interface CrfLossBuffers {
  /** (T, B) i32 gold tags. */
  tags: number;
  /** [f64 loss sum | f32 scale | pad], as every loss op. */
  slot: number;
  /** (T, B, K) gradient of the loss w.r.t. the emissions (0 when not asked for). */
  dEmissions: number;
}

/**
 * Emits the CRF negative log-likelihood: the loss sum goes to `slot`, gradients (scaled by the
 * slot's scale) are ACCUMULATED into dTransitions/dStart/dEnd when given (the gradient arena) and
 * written to dEmissions when `emissionGrad` is true.
 */
export function emitCrfNll(
  b: ProgramBuilder,
  f: CrfFields & { dTransitions?: number; dStart?: number; dEnd?: number; emissionGrad?: boolean },
): CrfLossBuffers {
  const { T, B, numTags: K } = f;
  const tags = b.alloc(T * B);
  const slot = b.alloc(4);
  const dEmissions = f.emissionGrad ? b.alloc(T * B * K) : 0;
  const scratch = b.alloc(b.rt.k.crf_nll_scratch_size(T, B, K));
  b.crfNll(dEmissions, f.dTransitions ?? 0, f.dStart ?? 0, f.dEnd ?? 0, f.emissions, tags, f.transitions, f.start, f.end,
    f.lengths, scratch, T, B, K, slot);
  return { tags, slot, dEmissions };
}

/** Emits Viterbi decoding: best path (T, B) i32 (−1 at padded steps) and its score (B). */
export function emitCrfViterbi(b: ProgramBuilder, f: CrfFields): { path: number; score: number } {
  const { T, B, numTags: K } = f;
  const path = b.alloc(T * B);
  const score = b.alloc(B);
  const scratch = b.alloc(b.rt.k.crf_viterbi_scratch_size(T, B, K));
  b.crfViterbi(path, score, f.emissions, f.transitions, f.start, f.end, f.lengths, scratch, T, B, K);
  return { path, score };
}

/** Options of a linear-chain {@link CRF}. */
export interface CRFOptions {
  /** Number of tags K (≥ 1). */
  numTags: number;
  /** Initialiser seed (transitions, start and end ~ U(−0.1, 0.1)). */
  seed?: number;
}

/** How `nll` reduces the per-sequence losses: mean over sequences (default), sum, or mean over valid steps. */
export type CrfReduction = 'mean' | 'sum' | 'tokenMean';

// The programs and buffers of one (T, B) shape.
interface Plan {
  T: number;
  B: number;
  emissions: number;
  lengths: number;
  loss: CrfLossBuffers;
  pending: number; // parameter gradients of the last nll, added to the gradient arena by backward()
  decode: { path: number; score: number };
  nll: Program;
  viterbi: Program;
}

/** What a CRF holds in wasm memory (kept apart from the CRF so that the finalizer can release it). */
interface Resources {
  rt: Runtime;
  arena: Arena;
  grad: number;
  plan: Plan | null;
  disposed: boolean;
}
function release(r: Resources): void {
  if (r.disposed) return;
  if (r.plan) {
    r.plan.nll.dispose();
    r.plan.viterbi.dispose();
    r.plan = null;
  }
  r.rt.heap.release(r.grad);
  r.arena.dispose();
  r.disposed = true;
}
// The safety net for CRFs that are never disposed: their wasm blocks go back to the heap.
const crfs = new FinalizationRegistry<Resources>(release);

/**
 * A linear-chain CRF over numTags tags. Emissions are time-major (T, B, numTags) scores from the
 * network below; tags (T, B) Int32; lengths (B) integers in [1, T] (default: all T). Padded steps
 * (t ≥ lengths[b]) are never read: their emissions and tags may hold anything.
 */
export class CRF {
  /** Number of tags K. */
  readonly numTags: number;
  private readonly rt: Runtime;
  private readonly arena: Arena;
  private readonly grad: number;
  private readonly res: Resources;
  private get plan(): Plan | null {
    return this.res.plan;
  }
  private set plan(p: Plan | null) {
    this.res.plan = p;
  }
  private hasPending = false;

  constructor(o: CRFOptions) {
    checkOptions(o ?? null, CRF_KEYS, 'CRF options');
    const K = o?.numTags;
    if (typeof K !== 'number' || !Number.isInteger(K) || K < 1) throw new ValueError(`Expected numTags to be a positive integer, got ${show(K)}`);
    const seed = o.seed ?? DEFAULT_SEED;
    if (typeof seed !== 'number' || !Number.isInteger(seed)) throw new ValueError(`Expected seed to be an integer, got ${show(seed)}`);
    checkLimit('maxParameters', K * K + 2 * K, 'CRF parameters');
    this.numTags = K;
    this.rt = runtime();
    this.arena = new Arena(this.rt, crfParamSpecs(K));
    this.arena.initialize(new Rng(seed));
    this.grad = this.rt.heap.alloc(this.arena.size);
    this.res = { rt: this.rt, arena: this.arena, grad: this.grad, plan: null, disposed: false };
    crfs.register(this, this.res, this);
  }

  /**
   * Negative log-likelihood of the gold tags (reduced as `reduction` says). Also computes its
   * gradients in the same wasm call; `backward()` hands them out.
   */
  nll(emissions: Tensor, tags: Tensor<Int32Array>, lengths?: ArrayLike<number>, opts: { reduction?: CrfReduction } = {}): number {
    this.check();
    checkOptions(opts, CRF_NLL_KEYS, 'nll options');
    const red = opts?.reduction ?? 'mean';
    if (red !== 'mean' && red !== 'sum' && red !== 'tokenMean') throw new ValueError(`Expected reduction 'mean', 'sum' or 'tokenMean', got ${show(red)}`);
    const { T, B, lens } = this.checkEmissions(emissions, lengths);
    this.checkTags(tags, T, B, lens);
    const steps = lens ? Array.from(lens).reduce((a, v) => a + v, 0) : T * B;
    const scale = red === 'mean' ? 1 / B : red === 'sum' ? 1 : 1 / steps;
    const p = this.write(emissions, lens, T, B);
    this.rt.heap.i32.set(tags.data, p.loss.tags);
    this.rt.heap.f32[p.loss.slot + 2] = scale;
    p.nll.run();
    this.hasPending = true;
    return this.rt.heap.readF64(p.loss.slot) * scale;
  }

  /**
   * Gradients of the last nll: ADDS its parameter gradients into the ones `gradient(name)` reads
   * (as PyTorch's backward accumulates; `zeroGrad()` resets) and returns d loss / d emissions (T, B, K),
   * 0 at padded steps. Once per nll.
   */
  backward(): Tensor {
    this.check();
    const p = this.plan;
    if (!this.hasPending || !p) throw new StateError('Expected nll() before backward(), got no pending loss (backward runs once per nll)');
    this.hasPending = false;
    this.rt.k.add_f32(this.grad, this.grad, p.pending, this.arena.size);
    return new Tensor(this.rt.heap.read(p.loss.dEmissions, p.T * p.B * this.numTags), [p.T, p.B, this.numTags]);
  }

  /** Best tag path per sequence (Viterbi): tags (T, B) Int32 with −1 at padded steps, and each path's score. */
  decode(emissions: Tensor, lengths?: ArrayLike<number>): { tags: Tensor<Int32Array>; scores: Float32Array } {
    this.check();
    const { T, B, lens } = this.checkEmissions(emissions, lengths);
    const p = this.write(emissions, lens, T, B);
    p.viterbi.run();
    const tags = this.rt.heap.i32.slice(p.decode.path, p.decode.path + T * B);
    return { tags: new Tensor(tags, [T, B]), scores: this.rt.heap.read(p.decode.score, B) };
  }

  /** A copy of the accumulated gradient of `transitions`, `start` or `end`. */
  gradient(name: string): Float32Array {
    const e = this.arena.entry(name);
    return this.rt.heap.read(this.grad + e.rel, e.size);
  }

  /** Resets the accumulated gradients to 0. */
  zeroGrad(): void {
    this.check();
    this.rt.k.fill_f32(this.grad, 0, this.arena.size);
  }

  /** One optimizer update of the parameters from the accumulated gradients (one kernel call). */
  step(optimizer: Optimizer): void {
    this.check();
    if (!optimizer || typeof (optimizer as Optimizer).apply !== 'function') throw new ValueError(`Expected an optimizer (SGD, Adam, …), got ${show(optimizer)}`);
    optimizer.bind(this.rt, this.arena);
    optimizer.apply(this.grad);
  }

  /** Binds an optimizer to this CRF and restores its state (a checkpoint's moments and step; validated before anything is written). */
  loadOptimizerState(optimizer: Optimizer, state: OptimizerState): void {
    this.check();
    optimizer.checkBindable(this.arena);
    const fresh = !optimizer.isBoundTo(this.arena);
    optimizer.bind(this.rt, this.arena);
    try {
      optimizer.loadState(state);
    } catch (e) {
      if (fresh) optimizer.dispose();
      throw e;
    }
  }

  /** Parameter names and shapes: transitions (K, K) [from, to], start (K), end (K). */
  parameters(): { name: string; shape: readonly number[] }[] {
    return this.arena.entries().map((e) => ({ name: e.name, shape: e.shape }));
  }
  /** A copy of one parameter: `'transitions'`, `'start'` or `'end'`. */
  getParameter(name: string): Float32Array {
    return this.arena.get(name);
  }
  /** Overwrites one parameter (validated: dtype, size, finite values). */
  setParameter(name: string, values: Float32Array | ArrayLike<number>): void {
    this.arena.set(name, values);
  }
  /** Every parameter as name → copy. */
  stateDict(): Record<string, Float32Array> {
    const out: Record<string, Float32Array> = {};
    for (const e of this.arena.entries()) out[e.name] = this.arena.get(e.name);
    return out;
  }
  /** Loads every parameter; nothing is written unless all names and values are valid. */
  loadStateDict(sd: Record<string, Float32Array | ArrayLike<number>>): void {
    if (sd === null || typeof sd !== 'object') throw new ValueError(`Expected a state dict object, got ${show(sd)}`);
    const names = this.arena.entries().map((e) => e.name);
    for (const k of Object.keys(sd)) if (!names.includes(k)) throw new ValueError(`Expected parameter names of this CRF (${names.join(', ')}), got unknown ${k}`);
    for (const n of names) if (!(n in sd)) throw new ValueError(`Expected a value for every parameter, got none for ${n}`);
    for (const n of names) this.arena.validate(n, sd[n]);
    for (const n of names) this.arena.set(n, sd[n]);
  }
  /** Releases this CRF's wasm memory. */
  dispose(): void {
    crfs.unregister(this);
    release(this.res);
  }

  private check(): void {
    if (this.res.disposed) throw new StateError('Expected a live CRF, got one whose memory was released by dispose()');
  }

  // Validates emissions (T, B, K) Float32 with finite values at valid steps, and the lengths.
  private checkEmissions(em: Tensor, lengths: ArrayLike<number> | undefined) {
    if (!(em instanceof Tensor) || !(em.data instanceof Float32Array)) {
      throw new DTypeError(`Expected emissions to be a float32 Tensor, got ${em instanceof Tensor ? em.data.constructor.name : typeof em}`);
    }
    const K = this.numTags;
    if (em.shape.length !== 3 || em.shape[2] !== K || em.shape[0] < 1 || em.shape[1] < 1) {
      throw new ShapeError(`Expected emissions of shape (T, B, ${K}) with T, B ≥ 1, got [${em.shape.join(', ')}]`);
    }
    const [T, B] = em.shape;
    checkLimit('maxSequenceLength', T, 'emissions steps T');
    const lens = checkLengths(lengths, T, B);
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        if (lens && t >= lens[b]) continue;
        for (let j = 0; j < K; j++) {
          const v = em.data[(t * B + b) * K + j];
          if (!Number.isFinite(v)) throw new ValueError(`Expected finite emissions at valid steps, got ${v} at [${t}, ${b}, ${j}]`);
        }
      }
    }
    return { T, B, lens };
  }

  // Validates tags (T, B) Int32 with values in [0, K) at valid steps.
  private checkTags(tags: Tensor<Int32Array>, T: number, B: number, lens: ArrayLike<number> | undefined): void {
    if (!(tags instanceof Tensor) || !(tags.data instanceof Int32Array)) {
      throw new DTypeError(`Expected tags to be an Int32 Tensor, got ${tags instanceof Tensor ? tags.data.constructor.name : typeof tags}`);
    }
    if (tags.shape.length !== 2 || tags.shape[0] !== T || tags.shape[1] !== B) {
      throw new ShapeError(`Expected tags of shape (${T}, ${B}) like the emissions, got [${tags.shape.join(', ')}]`);
    }
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        const y = tags.data[t * B + b];
        if ((!lens || t < lens[b]) && !(y >= 0 && y < this.numTags)) {
          throw new ValueError(`Expected tags in [0, ${this.numTags}) at valid steps, got ${y} at [${t}, ${b}]`);
        }
      }
    }
  }

  // Writes validated emissions and lengths into the plan of this shape (rebuilt on a shape change).
  private write(em: Tensor, lens: ArrayLike<number> | undefined, T: number, B: number): Plan {
    if (!this.plan || this.plan.T !== T || this.plan.B !== B) {
      this.dropPlan();
      this.hasPending = false; // the pending gradients were in the old plan
      this.plan = this.build(T, B);
    }
    const p = this.plan;
    this.rt.heap.write(p.emissions, em.data);
    const i32 = this.rt.heap.i32;
    for (let b = 0; b < B; b++) i32[p.lengths + b] = lens ? lens[b] : T;
    return p;
  }

  private build(T: number, B: number): Plan {
    const K = this.numTags;
    const b = new ProgramBuilder(this.rt);
    const emissions = b.alloc(T * B * K);
    const lengths = b.alloc(B);
    const pending = b.alloc(this.arena.size);
    const at = (name: string) => this.arena.offsetOf(name);
    const rel = (name: string) => pending + this.arena.entry(name).rel;
    const fields = { emissions, lengths, transitions: at('transitions'), start: at('start'), end: at('end'), T, B, numTags: K };
    // nll: zero the pending gradients, then one CRF_NLL op accumulating into them
    b.fill(pending, 0, this.arena.size);
    const loss = emitCrfNll(b, { ...fields, dTransitions: rel('transitions'), dStart: rel('start'), dEnd: rel('end'), emissionGrad: true });
    const nll = b.finish();
    const v = new ProgramBuilder(this.rt);
    const decode = emitCrfViterbi(v, fields);
    const viterbi = v.finish();
    return { T, B, emissions, lengths, loss, pending, decode, nll, viterbi };
  }

  private dropPlan(): void {
    if (!this.plan) return;
    this.plan.nll.dispose();
    this.plan.viterbi.dispose();
    this.plan = null;
  }
}
