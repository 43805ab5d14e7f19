// Loads the wasm once: picks the relaxed-SIMD binary when this engine validates it, else the
// plain SIMD128 binary, and instantiates it over the heap's memory.
import { ABI_VERSION, type Kernels } from './abi';
import { Heap } from './heap';
import { RnnWasmError, StateError, ValueError, show, WorkerError } from '../errors';
import { checkOptions, keysOf } from '../options';
import { Team, coreCount, threadsUnavailable, type MtKernels } from './threads';

const INIT_KEYS = keysOf<InitOptions>()('variant', 'threads', 'int8');

/** Which binary is running: `relaxed` (SIMD128 + relaxed SIMD) or `simd` (plain SIMD128). */
export type Variant = 'relaxed' | 'simd';

/** How int8-weight products quantize their activations (assembly/kernels/int8.ts). */
export type Int8Mode = 'exact' | 'fast';

export interface Runtime {
  readonly variant: Variant;
  /** The int8 activation mode of this runtime's memory. */
  readonly int8: Int8Mode;
  /** True when this engine computes the relaxed integer dot product as the spec says (fast int8 uses it). */
  readonly relaxedDot: boolean;
  readonly heap: Heap;
  readonly k: Kernels;
  /** The team running each program when more than one thread was asked for and granted. */
  readonly team?: Team;
}

/** Options of {@link init}: which binary to load and how many threads a sequence runs on. */
export interface InitOptions {
  /** Force a binary; `auto` (default) picks relaxed when `WebAssembly.validate` accepts it. */
  variant?: Variant | 'auto';
  /**
   * Threads per sequence (default 1): each step's recurrent matvec and the large GEMMs are split
   * across this many threads sharing one wasm memory, bit-identical to one thread. Needs
   * SharedArrayBuffer (browsers: a cross-origin isolated page); without it the runtime runs on one
   * thread and `init()` says why in `threadsNote` (as when the helper threads cannot start). At
   * most THREADS_PER_CORE (4) × the cores the engine reports and MAX_THREADS (64): beyond, a ValueError.
   */
  threads?: number;
  /**
   * Activations of int8-weight products (models after `quantize`): `exact` quantizes each input row
   * to 11 bits (±1023) and sums with the SIMD128 i16 dot product; `fast` quantizes to 7 bits (±63)
   * and, where the engine's relaxed integer dot product computes what the spec says (probed at init:
   * Chromium does, Node 20 does not), reads 16 weights per instruction with it. Each mode gives the
   * same results on every engine. `auto` (default): `fast` when the probe passes, else `exact`.
   */
  int8?: Int8Mode | 'auto';
}

/** What init() loaded. */
export interface InitInfo {
  /** The binary in use: `'relaxed'` (SIMD128 + relaxed SIMD) or `'simd'` (plain SIMD128). */
  variant: Variant;
  /** The int8 activation mode in use (see InitOptions.int8). */
  int8: Int8Mode;
  /** Whether this engine's relaxed integer dot product passed the probe. */
  relaxedDot: boolean;
  /** Threads each program runs on (1 when threads were not asked for, or could not be had). */
  threads: number;
  /** Why fewer threads than asked for are running ('' when none are missing). */
  threadsNote: string;
}

/** Largest `threads` accepted on any machine. */
export const MAX_THREADS = 64;
/** Threads per core accepted: more only queue on the cores (64 threads on 2 cores took 20 s to start and made a forward 60× slower). */
export const THREADS_PER_CORE = 4;

/** Largest `threads` accepted here: THREADS_PER_CORE × the cores the engine reports, at most MAX_THREADS. */
export async function maxThreads(): Promise<number> {
  return Math.min(MAX_THREADS, THREADS_PER_CORE * (await coreCount()));
}

// A tiny module whose only function uses f32x4.relaxed_madd: (func (result v128) zeros×3 relaxed_madd)
const RELAXED_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, 0x03,
  0x02, 0x01, 0x00, 0x0a, 0x3d, 0x01, 0x3b, 0x00, 0xfd, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xfd, 0x0c, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xfd, 0x0c, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xfd, 0x85,
  0x02, 0x0b,
]);

function decode(b64: string): Uint8Array<ArrayBuffer> {
  const B = (globalThis as { Buffer?: { from(s: string, e: string): Uint8Array } }).Buffer;
  if (B) {
    const b = B.from(b64, 'base64');
    const out = new Uint8Array(new ArrayBuffer(b.length));
    out.set(b);
    return out;
  }
  const s = atob(b64);
  const out = new Uint8Array(new ArrayBuffer(s.length));
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** True when this engine accepts relaxed SIMD (f32x4.relaxed_madd). */
export function relaxedSimdSupported(): boolean {
  try {
    return WebAssembly.validate(RELAXED_PROBE);
  } catch {
    return false;
  }
}

const modules = new Map<Variant, Promise<WebAssembly.Module>>();
const mtModules = new Map<Variant, Promise<WebAssembly.Module>>();

// Each base64 binary is its own module (dist/binary-<variant>[-mt].js, imported by both the ESM
// and the CJS build, so the package ships each once), imported on the first compile of that
// variant only: a page's bundler makes each one a separate chunk, and the page fetches the one
// init() picks; the threaded ones only when threads are asked for. Workers, which are handed the
// compiled Module, load none. The imports are literal so that bundlers see each one.
function wasmBase64(variant: Variant, mt: boolean): Promise<string> {
  const binary = mt
    ? variant === 'relaxed' ? import('./binary-relaxed-mt.js') : import('./binary-simd-mt.js')
    : variant === 'relaxed' ? import('./binary-relaxed.js') : import('./binary-simd.js');
  return binary.then((b) => b.WASM_BASE64);
}

/** The compiled threaded module (shared imported memory) for a variant. */
function compiledMtModule(variant: Variant): Promise<WebAssembly.Module> {
  let m = mtModules.get(variant);
  if (!m) {
    m = wasmBase64(variant, true).then((b64) => WebAssembly.compile(decode(b64)));
    mtModules.set(variant, m);
  }
  return m;
}

async function checkThreads(threads: unknown): Promise<number> {
  if (threads === undefined) return 1;
  const max = await maxThreads();
  if (typeof threads !== 'number' || !Number.isInteger(threads) || threads < 1 || threads > max) {
    const why = max < MAX_THREADS ? ` (${THREADS_PER_CORE} × the ${max / THREADS_PER_CORE} cores this engine reports)` : '';
    throw new ValueError(`Expected threads to be an integer from 1 to ${max}${why}, got ${show(threads)}`);
  }
  return threads;
}

/** The compiled module for a variant (compiled once per variant, shareable with workers). */
export function compiledModule(variant: Variant): Promise<WebAssembly.Module> {
  let m = modules.get(variant);
  if (!m) {
    m = wasmBase64(variant, false).then((b64) => WebAssembly.compile(decode(b64)));
    modules.set(variant, m);
  }
  return m;
}

/** @internal Workers: use a Module compiled by the main thread (posted to them) instead of compiling. */
export function useCompiledModule(variant: Variant, module: WebAssembly.Module): void {
  modules.set(variant, Promise.resolve(module));
}

/**
 * Instantiates a fresh runtime (own memory and heap) of the given variant; with `threads` > 1 (and
 * SharedArrayBuffer available) over a shared memory with a team of helper threads.
 */
export async function createRuntime(opts: InitOptions = {}): Promise<Runtime & { threadsNote: string }> {
  const want = opts.variant ?? 'auto';
  if (want !== 'auto' && want !== 'relaxed' && want !== 'simd') {
    throw new ValueError(`Expected variant 'auto', 'relaxed' or 'simd', got ${show(want)}`);
  }
  const threads = await checkThreads(opts.threads);
  const int8Want = checkInt8(opts.int8);
  const relaxedOk = relaxedSimdSupported();
  if (want === 'relaxed' && !relaxedOk) {
    throw new RnnWasmError(
      "Expected an engine with relaxed SIMD for variant 'relaxed', got one without it " +
        '(Node 20: run with --experimental-wasm-relaxed-simd)',
    );
  }
  const variant: Variant = want === 'auto' ? (relaxedOk ? 'relaxed' : 'simd') : want;
  const missing = threads > 1 ? threadsUnavailable() : '';
  const threadsNote = missing ? `Expected ${threads} threads, got 1: ${missing}` : '';
  const mt = threads > 1 && !missing;
  const heap = mt ? new Heap(32, undefined, true) : new Heap();
  const module = await (mt ? compiledMtModule(variant) : compiledModule(variant));
  const instance = await WebAssembly.instantiate(module, { env: { memory: heap.memory } });
  const k = instance.exports as unknown as Kernels;
  const abi = k.ABI_VERSION.value as number;
  if (abi !== ABI_VERSION) throw new RnnWasmError(`Expected wasm ABI version ${ABI_VERSION}, got ${abi}`);
  const built: Variant = k.build_info() & 1 ? 'relaxed' : 'simd';
  if (built !== variant) throw new RnnWasmError(`Expected the ${variant} binary, got the ${built} binary`);
  if (mt !== !!(k.build_info() & 2)) throw new RnnWasmError(`Expected the ${mt ? 'threaded' : 'single-thread'} binary, got the other one (a build error)`);
  const reserved = k.reserved_end();
  if (reserved <= 0) throw new RnnWasmError('Expected the wasm static data to end below its kernel scratch, got an overlap (a build error)');
  heap.reserve(reserved);
  const relaxedDot = k.q8_dot_probe() === 1;
  const int8 = setInt8Mode(k, int8Want, relaxedDot);
  let team: Team | undefined;
  if (mt) {
    try {
      team = await Team.start(threads, module, k as unknown as MtKernels, heap);
    } catch (e) {
      // helper threads that cannot start (a sandbox, a worker limit): one thread, and init says why
      if (!(e instanceof WorkerError)) throw e;
      const one = await createRuntime({ variant, threads: 1, int8: int8Want });
      return { ...one, threadsNote: `Expected ${threads} threads, got 1: the helper threads did not start (${e.message})` };
    }
  }
  return { variant, int8, relaxedDot, heap, k, team, threadsNote };
}

function checkInt8(v: unknown): Int8Mode | 'auto' {
  if (v === undefined) return 'auto';
  if (v !== 'auto' && v !== 'exact' && v !== 'fast') throw new ValueError(`Expected int8 'auto', 'exact' or 'fast', got ${show(v)}`);
  return v;
}

/** Writes the int8 activation mode into the runtime's memory (every thread of a team reads it there). */
function setInt8Mode(k: Kernels, want: Int8Mode | 'auto', relaxedDot: boolean): Int8Mode {
  const int8: Int8Mode = want === 'auto' ? (relaxedDot ? 'fast' : 'exact') : want;
  const code = int8 === 'exact' ? k.Q8_EXACT : relaxedDot ? k.Q8_FAST_RELAXED : k.Q8_FAST;
  k.q8_set_mode(code.value as number);
  return int8;
}

let current: (Runtime & { threadsNote: string }) | null = null;
/** The int8 mode last asked of init() (a runtime replaced for another variant or team keeps it). */
let int8Asked: Int8Mode | 'auto' = 'auto';
let warned = '';

/**
 * Loads the wasm runtime once (later calls return the same one unless a variant or a different
 * number of threads is asked for; a replaced runtime's helper threads are stopped, and models built
 * on it keep working on one thread).
 */
export function init(opts: InitOptions = {}): Promise<InitInfo> {
  // one at a time: two concurrent calls asking for different teams would otherwise both start one,
  // and the loser's helper threads would never be stopped
  const run = initQueue.then(() => initNow(opts));
  initQueue = run.catch(() => undefined);
  return run;
}
let initQueue: Promise<unknown> = Promise.resolve();

async function initNow(opts: InitOptions): Promise<InitInfo> {
  checkOptions(opts, INIT_KEYS, 'init options');
  const threads = await checkThreads(opts.threads);
  const int8Want = checkInt8(opts.int8);
  const cur = current;
  const curThreads = cur?.team?.open ? cur.team.n : 1;
  const variantChanges = !!opts.variant && opts.variant !== 'auto' && opts.variant !== cur?.variant;
  const threadsChange = opts.threads !== undefined && threads !== curThreads && !(cur?.threadsNote && threads > 1);
  if (!cur || variantChanges || threadsChange) {
    if (opts.int8 !== undefined) int8Asked = int8Want;
    current = await createRuntime({ variant: opts.variant, threads: opts.threads ?? curThreads, int8: int8Asked });
    if (cur?.team) await cur.team.close();
  } else if (opts.int8 !== undefined) {
    // the mode is one word of the runtime's memory: switching it rebuilds nothing
    int8Asked = int8Want;
    (cur as { int8: Int8Mode }).int8 = setInt8Mode(cur.k, int8Want, cur.relaxedDot);
  }
  const rt = current!;
  if (rt.threadsNote && warned !== rt.threadsNote) {
    warned = rt.threadsNote;
    console.warn(`rnn-wasm: ${rt.threadsNote}; running on one thread`);
  }
  return { variant: rt.variant, int8: rt.int8, relaxedDot: rt.relaxedDot, threads: rt.team?.open ? rt.team.n : 1, threadsNote: rt.threadsNote };
}

/**
 * Sets the loaded runtime's int8 activation mode at once (a worker replica follows the mode its
 * pool's main thread has when each task is sent); `init({ int8 })` is the public form.
 */
export function useInt8Mode(mode: Int8Mode): void {
  const rt = runtime() as { int8: Int8Mode; k: Kernels; relaxedDot: boolean };
  if (rt.int8 !== mode) rt.int8 = setInt8Mode(rt.k, mode, rt.relaxedDot);
}

/** Stops the helper threads of the loaded runtime (programs then run on the calling thread). */
export async function closeThreads(): Promise<void> {
  if (current?.team) await current.team.close();
}

/** The loaded runtime; throws a StateError before `init()` has resolved. */
export function runtime(): Runtime {
  if (!current) throw new StateError('Expected init() to have resolved before use, got no runtime (await init() first)');
  return current;
}
