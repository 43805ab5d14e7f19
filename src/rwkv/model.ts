// RWKV7: an RWKV-7 "Goose" language model on the wasm kernels. Parameters live in one heap block
// (src/rwkv/layout.ts); a forward is one op list (src/rwkv/forward.ts) run by one wasm call, over a
// whole sequence or one streaming step, against a state block that carries over between calls.
import { runtime, type Runtime } from '../wasm/load';
import { buildProgram, type Program } from '../ir/program';
import { ShapeError, StateError, ValueError, show } from '../errors';
import { Arena } from '../params/arena';
import { checkConfig, fromBlock, layoutOf, toBlock, type ParamEntry, type Rwkv7Config } from './layout';
import { blockBuffers, emitForward, stateFloats, stateOffsets, type ForwardPlan } from './forward';
import type { QuantWeight } from '../model/quantize';
import type { Int8Host } from '../model/quantize';
import type { Rwkv7Tokenizer } from './tokenizer';
import type { Rwkv7Run, Rwkv7TrainSettings } from './fit';

/** A recurrent state of one sequence: per layer the two token-shift vectors and the H·N·N wkv state. */
export interface Rwkv7State {
  /** Layer-major: att shift (C), wkv (H, N, N) [value index, key index], ffn shift (C) per layer. */
  data: Float32Array;
}

/** What a forward returns. */
export interface Rwkv7Output {
  /** (T, vocabSize) row-major. */
  logits: Float32Array;
  /** The state after the last step. */
  state: Rwkv7State;
}

/** Checks token ids: integers in [0, V). */
export function checkIds(ids: unknown, V: number, what: string): number[] {
  if (!Array.isArray(ids) && !ArrayBuffer.isView(ids)) throw new ValueError(`Expected ${what} to be an array of token ids, got ${show(ids)}`);
  const a = Array.from(ids as ArrayLike<number>);
  if (a.length === 0) throw new ShapeError(`Expected ${what} to hold at least one token id, got none`);
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (!Number.isInteger(v) || v < 0 || v >= V) throw new ValueError(`Expected ${what}[${i}] to be an integer token id in [0, ${V}), got ${show(v)}`);
  }
  return a;
}

/**
 * An RWKV-7 ("Goose") language model: embedding, the stack of time-mix (generalised delta-rule state)
 * and channel-mix blocks, and the head, with its parameters in one wasm arena under the official
 * state_dict names. `forward` runs a whole sequence in one wasm call; `stream()` feeds one token per
 * call with the state kept in wasm memory (bit-identical to the whole sequence). Made by
 * {@link createRwkv7} or {@link importRwkv7}; trained by {@link Rwkv7Trainer} / {@link fitRwkv7}.
 */
export class RWKV7 {
  /** The architecture: vocabulary size, width, heads, layers, low-rank sizes. */
  readonly config: Rwkv7Config;
  /** The vocabulary (World tokenizer or characters), when the model has one. */
  tokenizer: Rwkv7Tokenizer | null = null;
  /** @internal int8 copies of the projection weights (quantize(model, { weights: 'int8' })) */
  quant: Map<string, QuantWeight> | null = null;
  /** @internal the training run fitRwkv7 continues (settings, step, window order, Adam), saved in the model's file */
  run: Rwkv7Run | null = null;
  /** @internal bumped when the int8 copies change: streams rebuild their programs */
  quantVersion = 0;
  /** @internal */ readonly rt: Runtime;
  /** @internal */ readonly entries: ParamEntry[];
  private readonly byName = new Map<string, ParamEntry>();
  /** @internal the parameter block (gradients and optimizer moments use its layout) */ readonly arena: Arena;
  private disposed = false;

  /** A model with every parameter 0 (fill them with setParameter, or use importRwkv7). */
  constructor(config: Rwkv7Config) {
    checkConfig(config);
    this.config = { ...config, lora: { ...config.lora } };
    this.rt = runtime();
    const { entries, total } = layoutOf(this.config);
    this.entries = entries;
    for (const e of entries) this.byName.set(e.name, e);
    // the arena lays parameters out as layoutOf does (same order, 4-element alignment), internal shapes
    const shape = (e: ParamEntry): number[] => (e.transposed ? [e.shape[1], e.shape[0]] : e.shape);
    this.arena = new Arena(this.rt, entries.map((e) => ({ name: e.name, shape: shape(e), init: { kind: 'zeros' } })));
    if (this.arena.size !== total) throw new RangeError(`Expected the arena to hold ${total} elements, got ${this.arena.size}`);
  }

  /** Training steps fitRwkv7 has taken on this model (its file keeps the count). */
  get step(): number {
    return this.run?.step ?? 0;
  }

  /** The settings of the training run fitRwkv7 continues (null before the first call). */
  get trainSettings(): Rwkv7TrainSettings | null {
    return this.run ? { ...this.run.settings } : null;
  }

  /** Parameter names and official shapes, in state_dict order. */
  parameters(): { name: string; shape: number[] }[] {
    return this.entries.map((e) => ({ name: e.name, shape: [...e.shape] }));
  }

  /** Element count of all parameters. */
  get parameterCount(): number {
    return this.entries.reduce((s, e) => s + e.size, 0);
  }

  private entry(name: string): ParamEntry {
    const e = this.byName.get(name);
    if (!e) throw new ValueError(`Expected a parameter name of this RWKV-7 model (e.g. blocks.0.att.key.weight), got ${JSON.stringify(name)}`);
    return e;
  }

  /** @internal element offset of a parameter in the heap */
  offset(name: string): number {
    return this.arena.base + this.entry(name).offset;
  }

  /** @internal the official-layout copy of parameter `name` from a block-layout buffer at `base` */
  readBlock(name: string, base: number): Float32Array {
    return fromBlock(this.entry(name), this.rt.heap.f32, base + this.entry(name).offset);
  }

  /** Whether the projections run on int8 weights (inference only). */
  get quantized(): boolean {
    return this.quant !== null;
  }

  /**
   * @internal The int8 host the library's quantize() drives: every gemm_nt weight (the r/k/v/output
   * projections, the low-rank maps, the FFN and the head) gets an int8 copy.
   */
  get runner(): Int8Host {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const m = this;
    return {
      rt: m.rt,
      arena: m.arena,
      get quantized() {
        return m.quantized;
      },
      get isDisposed() {
        return m.disposed;
      },
      int8WeightNames: () => m.entries.filter((e) => e.shape.length === 2 && !/(emb\.weight|r_k)$/.test(e.name)).map((e) => e.name),
      setQuantized: (q) => m.setQuant(q),
    };
  }

  private setQuant(q: Map<string, QuantWeight> | null): void {
    if (this.quant) {
      for (const w of this.quant.values()) {
        this.rt.heap.release(w.q);
        if (w.s) this.rt.heap.release(w.s);
      }
    }
    this.quant = q;
    this.quantVersion++;
  }

  /** A copy of one parameter in the official layout. */
  getParameter(name: string): Float32Array {
    this.alive();
    return fromBlock(this.entry(name), this.rt.heap.f32, this.offset(name));
  }

  /** Sets one parameter from data in the official layout (its element count must match). */
  setParameter(name: string, data: ArrayLike<number>): void {
    this.alive();
    if (this.quant) throw new StateError(`Expected a model with f32 weights to set ${name}, got an int8-quantized one (inference only)`);
    const e = this.entry(name);
    if (!data || typeof data.length !== 'number' || data.length !== e.size) {
      throw new ShapeError(`Expected ${e.size} elements for ${name} of shape [${e.shape.join(', ')}], got ${show(data?.length)}`);
    }
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) throw new ValueError(`Expected finite values for ${name}, got ${show(data[i])} at ${i}`);
    }
    toBlock(e, data, this.rt.heap.f32, this.offset(name));
    this.arena.markWritten();
  }

  /** A zero state (the start of a sequence). */
  newState(): Rwkv7State {
    return { data: new Float32Array(stateFloats(this.config)) };
  }

  /** A stream: state kept in wasm memory, one wasm call per step for the whole stack. Dispose it. */
  stream(state?: Rwkv7State): Rwkv7Stream {
    this.alive();
    return new Rwkv7Stream(this, state);
  }

  /**
   * Logits of every step of `ids` from `state` (default: the zero state), and the state after the
   * last step. One wasm call for the whole sequence.
   */
  forward(ids: ArrayLike<number>, state?: Rwkv7State): Rwkv7Output {
    const s = this.stream(state);
    try {
      const logits = s.run(ids);
      return { logits, state: s.getState() };
    } finally {
      s.dispose();
    }
  }

  /**
   * Greedy continuation: feeds `prompt`, then appends the argmax token `n` times (each fed back).
   * The prompt is one whole-sequence call, every new token one streaming step.
   */
  greedy(prompt: ArrayLike<number>, n: number): number[] {
    if (!Number.isSafeInteger(n) || n < 0) throw new ValueError(`Expected n to be a non-negative integer, got ${show(n)}`);
    const s = this.stream();
    try {
      const all = s.run(prompt);
      let last = all.subarray(all.length - this.config.vocabSize);
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        const tok = argmax(last);
        out.push(tok);
        if (i + 1 < n) last = s.step(tok);
      }
      return out;
    } finally {
      s.dispose();
    }
  }

  /** Frees the parameters; the model cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.setQuant(null);
    this.run?.optimizer.dispose();
    this.run = null;
    this.disposed = true;
    this.arena.dispose();
  }

  /** @internal */
  alive(): void {
    if (this.disposed) throw new StateError('Expected a live RWKV7 model, got one that was disposed');
  }
}

/** Index of the largest value (the first on ties). */
export function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

/** A sequence being fed to an RWKV7: its state lives in wasm memory between calls. */
export class Rwkv7Stream {
  private readonly stateOff: number;
  private readonly nState: number;
  /** Programs by T (T = 1 is the streaming step; one whole-sequence length is kept besides). */
  private readonly programs = new Map<number, { prog: Program; plan: ForwardPlan }>();
  private disposed = false;

  constructor(private readonly model: RWKV7, state?: Rwkv7State) {
    this.nState = stateFloats(model.config);
    this.stateOff = model.rt.heap.alloc(this.nState);
    if (state) this.setState(state);
  }

  /** Replaces the state (a copy of `state.data` is taken). */
  setState(state: Rwkv7State): void {
    this.alive();
    const d = state?.data;
    if (!(d instanceof Float32Array)) throw new ValueError(`Expected state.data to be a Float32Array, got ${show(d)}`);
    if (d.length !== this.nState) throw new ShapeError(`Expected state.data of ${this.nState} floats (this model's state), got ${d.length}`);
    this.model.rt.heap.f32.set(d, this.stateOff);
  }

  /** A copy of the current state. */
  getState(): Rwkv7State {
    this.alive();
    return { data: this.model.rt.heap.f32.slice(this.stateOff, this.stateOff + this.nState) };
  }

  /** Resets to the zero state. */
  reset(): void {
    this.alive();
    this.model.rt.heap.f32.fill(0, this.stateOff, this.stateOff + this.nState);
  }

  private builtFor = -1;

  private program(T: number): { prog: Program; plan: ForwardPlan } {
    if (this.builtFor !== this.model.quantVersion) {
      // the int8 copies changed: programs that read the old ones are rebuilt
      for (const p of this.programs.values()) p.prog.dispose();
      this.programs.clear();
      this.builtFor = this.model.quantVersion;
    }
    const hit = this.programs.get(T);
    if (hit) return hit;
    // keep the step program and one other length
    for (const [t, p] of this.programs) {
      if (t !== 1) {
        p.prog.dispose();
        this.programs.delete(t);
      }
    }
    const m = this.model;
    const c = m.config;
    const made = buildProgram(m.rt, `an RWKV-7 forward over ${T} steps`, (b) => {
      const M = T;
      const plan: ForwardPlan = {
        T, B: 1,
        ids: b.alloc(M), x: b.alloc(M * c.dim), x0: 0, stats0: 0, xo: b.alloc(M * c.dim), statsOut: 0,
        logits: b.alloc(M * c.vocabSize), vfirst: b.alloc(M * c.dim), blocks: [],
      };
      const shared = blockBuffers(b, c, T, 1, false);
      for (let l = 0; l < c.layers; l++) plan.blocks.push(shared);
      emitForward(b, c, (name) => m.offset(name), stateOffsets(c, this.stateOff, 1), plan, m.quant);
      return { prog: b.finish(), plan };
    });
    this.programs.set(T, made);
    return made;
  }

  /** Feeds `ids` (one wasm call) and returns the logits of every step, (T, vocabSize). */
  run(ids: ArrayLike<number>): Float32Array {
    this.alive();
    const m = this.model;
    const a = checkIds(ids, m.config.vocabSize, 'ids');
    const { prog, plan } = this.program(a.length);
    m.rt.heap.i32.set(a, plan.ids);
    prog.run();
    return m.rt.heap.f32.slice(plan.logits, plan.logits + a.length * m.config.vocabSize);
  }

  /** Feeds one token (one wasm call for the whole stack) and returns its logits (vocabSize). */
  step(id: number): Float32Array {
    return this.run([id]);
  }

  /** Releases the stream's state and programs (once; later calls do nothing). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const p of this.programs.values()) p.prog.dispose();
    this.programs.clear();
    this.model.rt.heap.release(this.stateOff);
  }

  private alive(): void {
    if (this.disposed) throw new StateError('Expected a live Rwkv7Stream, got one that was disposed');
    this.model.alive();
  }
}
