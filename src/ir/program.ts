// Builds and runs op lists for assembly/program.ts: a model is compiled once per (T, B, lengths?)
// shape into a list of kernel calls plus the workspace buffers they use; each forward pass (or
// streaming step) is then one run_program call.
import type { Runtime } from '../wasm/load';
import { MemoryError, RnnWasmError } from '../errors';
import { planOf } from '../wasm/threads';
import { OP, OP_ARITY, OpEmitter } from '../wasm/ops.generated';

// Opcodes and one typed emitter method per op, generated from assembly/ops.table.json.
export { OP, OP_ARITY } from '../wasm/ops.generated';
export { f32word } from '../wasm/words';

/** Argument words of each opcode (raw `op()` calls are checked against it). */
const ARITY_BY_CODE = new Map<number, number>(Object.entries(OP).map(([name, code]) => [code, OP_ARITY[name as keyof typeof OP]]));

/** Merge modes for bidirectional layers, as the MERGE op's `mode` argument (concat needs no op). */
export const MERGE_MODE = { sum: 0, mul: 1, ave: 2 } as const;

/**
 * Workspace buffers and op words of one compiled program. Ops are appended with the typed emitter
 * methods of OpEmitter (`b.gemmNt(y, x, w, bias, M, N, K, 0)`); `op(code, ...words)` stays for raw words.
 */
export class ProgramBuilder extends OpEmitter {
  readonly words: number[] = [];
  /** Word index where each op starts (the threaded runner's plan needs op boundaries). */
  readonly starts: number[] = [];
  private readonly blocks: number[] = [];
  private elements = 0;
  constructor(readonly rt: Runtime) {
    super();
  }

  /** Allocates a zeroed workspace buffer of n elements owned by this program. */
  alloc(n: number): number {
    const off = this.rt.heap.alloc(n);
    this.blocks.push(off);
    this.elements += n;
    return off;
  }

  /**
   * A buffer of n elements that outlives this program (its owner releases it): `make` allocates it.
   * The measuring pass of buildProgram only counts it.
   */
  external(n: number, make: () => number): number {
    void n;
    return make();
  }

  /** Releases every buffer allocated so far (a build that failed half-way gives back what it took). */
  abandon(): void {
    for (const b of this.blocks) this.rt.heap.release(b);
    this.blocks.length = 0;
    this.elements = 0;
  }

  /** Appends one op as raw words; prefer the typed emitter methods (`b.gemmNt(...)`). */
  override op(code: number, ...args: number[]): void {
    this.check(code, args.length);
    this.starts.push(this.words.length);
    this.words.push(code, ...args);
  }

  /** Puts one op (raw words) before every op emitted so far, keeping the op boundaries right. */
  prepend(code: number, ...args: number[]): void {
    this.check(code, args.length);
    const n = 1 + args.length;
    for (let i = 0; i < this.starts.length; i++) this.starts[i] += n;
    this.starts.unshift(0);
    this.words.unshift(code, ...args);
  }

  private check(code: number, words: number): void {
    const n = ARITY_BY_CODE.get(code);
    if (n !== words) {
      throw new RnnWasmError(`Expected ${n === undefined ? 'a known opcode' : `${n} argument words for opcode ${code}`}, got ${n === undefined ? `opcode ${code}` : words}`);
    }
  }

  /**
   * Freezes the op list as two programs over the same buffers: ops [0, at) and [at, end) (a
   * forward that keeps its activations and the backward that reads them). The first owns every
   * buffer: dispose it (disposing the second is a no-op).
   */
  finishSplit(at: number): [Program, Program] {
    const ptr = this.alloc(this.words.length);
    this.rt.heap.i32.set(this.words, ptr);
    const first = this.starts.filter((s) => s < at);
    const second = this.starts.filter((s) => s >= at).map((s) => s - at);
    const plan1 = this.plan(ptr, first, at);
    const plan2 = this.plan(ptr + at, second, this.words.length - at, at);
    return [new Program(this.rt, ptr, at, this.blocks, this.elements, plan1), new Program(this.rt, ptr + at, this.words.length - at, [], 0, plan2)];
  }

  /** Freezes the op list into the heap. */
  finish(): Program {
    const ptr = this.alloc(this.words.length);
    this.rt.heap.i32.set(this.words, ptr);
    return new Program(this.rt, ptr, this.words.length, this.blocks, this.elements, this.plan(ptr, this.starts, this.words.length));
  }

  // The threaded runner's plan of the ops at `starts` (relative to word `from`), when the runtime
  // has a team and some op splits: [element offset, segments].
  private plan(ptr: number, starts: number[], end: number, from = 0): [number, number] | null {
    if (!this.rt.team) return null;
    const segs = planOf(from ? this.words.slice(from) : this.words, ptr, starts, end);
    if (!segs) return null;
    const off = this.alloc(segs.length);
    this.rt.heap.i32.set(segs, off);
    return [off, segs.length / 3];
  }
}

export class Program {
  constructor(
    private readonly rt: Runtime,
    private readonly ptr: number,
    private readonly nwords: number,
    private readonly blocks: number[],
    /** f32 elements of workspace this program holds. */
    readonly elements: number,
    private readonly mtPlan: [number, number] | null = null,
  ) {}

  /** Runs every op once (one boundary crossing), on the runtime's team of threads when it has one. */
  run(): void {
    const team = this.rt.team;
    if (this.mtPlan && team?.open) {
      const r = team.run(this.mtPlan[0], this.mtPlan[1]);
      if (r < 0) throw new RnnWasmError(`Expected a valid program, got an unknown opcode at word ${-r - 1 - this.ptr}`);
      return;
    }
    const r = this.rt.k.run_program(this.ptr, this.nwords);
    if (r < 0) throw new RnnWasmError(`Expected a valid program, got an unknown opcode at word ${-r - 1}`);
  }

  /** Releases every buffer of this program. */
  dispose(): void {
    for (const b of this.blocks) this.rt.heap.release(b);
    this.blocks.length = 0;
  }
}

/** A builder that only counts what a program would allocate (fake offsets; touches no memory). */
export class MeasuringBuilder extends ProgramBuilder {
  total = 0;
  private next = 16;
  override alloc(n: number): number {
    if (!Number.isSafeInteger(n) || n < 0) throw new MemoryError(`Expected a buffer size that wasm memory can hold, got ${n} elements`);
    this.total += n;
    const off = this.next;
    this.next += Math.max(4, Math.ceil(n / 4) * 4);
    return off;
  }
  override external(n: number): number {
    return this.alloc(n);
  }
  override finish(): Program {
    this.alloc(this.words.length);
    return new Program(this.rt, 0, 0, [], this.total);
  }
}

/** f32 elements a wasm32 memory can hold (4 GiB). */
const MAX_ELEMENTS = 2 ** 30;

/**
 * Runs `fill` on a fresh builder and freezes the result. `fill` runs first on a builder that only
 * measures: a program larger than what is left of the 4 GiB a wasm memory can reach is refused with
 * a MemoryError before anything is allocated. When the real build still fails half-way (memory
 * that cannot grow, a shape the layers refuse), every buffer the builder took is released before
 * the error propagates, and a bare RangeError from the memory becomes a MemoryError.
 */
export function buildProgram<R>(rt: Runtime, what: string, fill: (b: ProgramBuilder) => R): R {
  const m = new MeasuringBuilder(rt);
  fill(m);
  checkFits(rt, what, m.total);
  const b = new ProgramBuilder(rt);
  try {
    return fill(b);
  } catch (e) {
    b.abandon();
    throw memoryError(e, what);
  }
}

/** Throws a MemoryError unless `elements` more f32 elements fit in wasm memory (checked before a program allocates anything). */
export function checkFits(rt: Runtime, what: string, elements: number): void {
  const free = MAX_ELEMENTS - rt.heap.liveElements;
  if (elements > free) {
    throw new MemoryError(`Expected ${what} to fit in wasm memory (${free * 4} bytes left of 4 GiB), got one needing ${elements * 4} bytes; nothing was allocated`);
  }
}

/** A failed allocation (RangeError from memory.grow) while building `what` as a MemoryError; other errors as they are. */
export function memoryError(e: unknown, what: string): unknown {
  return e instanceof RangeError ? new MemoryError(`Expected wasm memory for ${what}, got none left (${e.message}); nothing was kept`) : e;
}
