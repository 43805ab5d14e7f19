// One sequence on several threads: helper threads (worker_threads in Node, Web Workers in
// browsers) instantiate the threaded build over the runtime's shared memory and sit in mt_helper
// (assembly/mt/runner.ts); the calling thread runs a program as thread 0 of the team through a plan
// that says which ops split (the recurrent forward kernels by hidden units, GEMMs by rows or output
// columns) and where the team meets. Results are bit-identical to one thread.
import type { Heap } from './heap';
import { show, WorkerError } from '../errors';
import { splitWork } from './ops.generated';

/** The exports of the threaded build beyond the single-thread ones. */
export interface MtKernels {
  run_plan_mt(ctrl: number, plan: number, nseg: number, n: number, canWait: number): number;
  mt_quit(ctrl: number): void;
  CTRL_WORDS: WebAssembly.Global;
}

const SEG_SERIAL = 0;
const SEG_SPLIT = 1;
const SEG_BARRIER = 2;
// Opcodes that split and their work: `split` and `splitWork` in assembly/ops.table.json, generated
// into splitWork here and split_op in the runner (assembly/mt/split.generated.ts).
// An op whose work is below this many multiply-adds stays on thread 0 (a barrier costs more than it saves).
const MIN_SPLIT_MACS = 1 << 15;
const Q8_SCRATCH_ELEMENTS = (16384 * 2) / 4; // 2·Q8_MAX_K bytes (assembly/util/scratch.ts)

// A specifier in a variable keeps browser bundlers from pulling a Node-only module into a page.
const nodeImport = (name: string): Promise<unknown> => import(/* @vite-ignore */ name);
const isNode = (): boolean => typeof process !== 'undefined' && !!(process as { versions?: { node?: string } }).versions?.node;

/**
 * Why this engine cannot run threads ('' when it can): it needs SharedArrayBuffer and, in browsers,
 * cross-origin isolation (the page served with `Cross-Origin-Opener-Policy: same-origin` and
 * `Cross-Origin-Embedder-Policy: require-corp`), and a Worker constructor.
 */
/**
 * The cores this engine reports: os.availableParallelism() in Node, navigator.hardwareConcurrency
 * in browsers, 4 when neither says.
 */
export async function coreCount(): Promise<number> {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: unknown } }).navigator?.hardwareConcurrency;
  if (typeof nav === 'number' && nav >= 1) return nav;
  if (isNode()) {
    const os = (await nodeImport('node:os')) as { availableParallelism?: () => number; cpus: () => unknown[] };
    return os.availableParallelism?.() ?? Math.max(1, os.cpus().length);
  }
  return 4;
}

export function threadsUnavailable(): string {
  const g = globalThis as { SharedArrayBuffer?: unknown; crossOriginIsolated?: boolean; Worker?: unknown };
  const serve = '(serve it with COOP: same-origin and COEP: require-corp)';
  if (typeof g.SharedArrayBuffer !== 'function') {
    return g.crossOriginIsolated === false ? `SharedArrayBuffer is not available: the page is not cross-origin isolated ${serve}` : 'SharedArrayBuffer is not available';
  }
  if (g.crossOriginIsolated === false) return `the page is not cross-origin isolated ${serve}`;
  if (!isNode() && typeof g.Worker !== 'function') return 'Worker is not available';
  return '';
}

// 1 when this thread may block in Atomics.wait (everywhere but a browser's main thread).
function canBlock(): number {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return 1;
  } catch {
    return 0;
  }
}

/** The plan segments of a program (i32 triples kind, start, words) or null when no op splits. */
export function planOf(words: ArrayLike<number>, base: number, starts: readonly number[], end: number): number[] | null {
  const segs: number[] = [];
  let serial = -1;
  let splits = 0;
  for (let i = 0; i < starts.length; i++) {
    const s = starts[i];
    if (worthSplitting(words, s)) {
      if (serial >= 0) segs.push(SEG_SERIAL, base + serial, s - serial, SEG_BARRIER, 0, 0);
      serial = -1;
      segs.push(SEG_SPLIT, base + s, (i + 1 < starts.length ? starts[i + 1] : end) - s, SEG_BARRIER, 0, 0);
      splits++;
    } else if (serial < 0) serial = s;
  }
  if (splits === 0) return null;
  if (serial >= 0) segs.push(SEG_SERIAL, base + serial, end - serial, SEG_BARRIER, 0, 0);
  return segs;
}

// Whether the op at s is worth splitting (a split op without splitWork always is).
function worthSplitting(words: ArrayLike<number>, s: number): boolean {
  return splitWork(words, s) >= MIN_SPLIT_MACS;
}

interface Helper {
  done: Promise<void>;
  stop(): Promise<void>;
}

// The helper's body (the same in Node and in browsers): instantiate, say ready, run mt_helper.
// A trap inside it marks the team dead (ctrl word 52) and wakes every waiter, so the caller's
// run_plan_mt returns instead of waiting for a share that will never come.
const HELPER_BODY = `
const run = (d, post) => WebAssembly.instantiate(d.module, { env: { memory: d.memory } }).then((inst) => {
  post('ready');
  try {
    inst.exports.mt_helper(d.ctrl, d.tid, d.n, d.gen0, d.scratch);
    post('quit');
  } catch (e) {
    const i = new Int32Array(d.memory.buffer);
    Atomics.store(i, d.ctrl + 52, 1);
    Atomics.notify(i, d.ctrl + 32);
    Atomics.notify(i, d.ctrl);
    post('died: ' + (e && e.message));
  }
}, (e) => post('error: ' + (e && e.message)));
`;
const NODE_HELPER = `${HELPER_BODY}
const { parentPort, workerData } = require('node:worker_threads');
run(workerData, (m) => parentPort.postMessage(m));
`;
const WEB_HELPER = `${HELPER_BODY}
onmessage = (ev) => run(ev.data, (m) => postMessage(m));
`;

interface HelperInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  ctrl: number;
  tid: number;
  n: number;
  gen0: number;
  scratch: number;
}

type Port = {
  on?(e: string, f: (m: unknown) => void): void;
  addEventListener?(e: string, f: (m: { data?: unknown; message?: string }) => void): void;
  postMessage(m: unknown): void;
  terminate(): unknown;
  unref?(): void;
};

// Settles `ready` from the helper's first message ('ready' or 'error: …').
function onFirstMessage(m: unknown, resolve: () => void, reject: (e: Error) => void): void {
  if (m === 'ready') resolve();
  else if (typeof m === 'string' && m.startsWith('error')) reject(new WorkerError(`Expected a helper thread to instantiate the threaded wasm, got ${m}`));
}

// Starts one helper; resolves once it has instantiated the module (and is entering mt_helper).
async function startHelper(init: HelperInit): Promise<Helper> {
  let exited!: () => void;
  const done = new Promise<void>((r) => (exited = r));
  let worker: Port;
  if (isNode()) {
    const wt = (await nodeImport('node:worker_threads')) as { Worker: new (code: string, o: object) => Port };
    // the helper is CommonJS: an inherited --input-type=module (node --input-type=module -e …) would make it ESM
    const execArgv = process.execArgv.some((a) => a.startsWith('--input-type')) ? process.execArgv.filter((a) => !a.startsWith('--input-type')) : undefined;
    let w: Port;
    try {
      w = new wt.Worker(NODE_HELPER, { eval: true, workerData: init, ...(execArgv ? { execArgv } : {}) });
    } catch (e) {
      throw new WorkerError(`Expected a helper thread to start, got ${(e as Error)?.message ?? show(e)}`);
    }
    worker = w;
    const started = new Promise<void>((resolve, reject) => {
      w.on!('message', (m) => onFirstMessage(m, resolve, reject));
      w.on!('error', (e) => reject(new WorkerError(`Expected a helper thread to start, got ${(e as Error).message}`)));
      w.on!('exit', () => {
        exited();
        reject(new WorkerError('Expected a helper thread to start, got its exit'));
      });
    });
    await started;
    // the helper blocks in wasm between jobs: once started it must not keep the process alive.
    // unref() comes after the 'message' listener, which refs the worker's port again (Node 20)
    w.unref!();
  } else {
    const url = URL.createObjectURL(new Blob([WEB_HELPER], { type: 'text/javascript' }));
    const w = new (globalThis as unknown as { Worker: new (u: string) => Port }).Worker(url);
    worker = w;
    await new Promise<void>((resolve, reject) => {
      w.addEventListener!('message', (e) => onFirstMessage(e.data, () => (URL.revokeObjectURL(url), resolve()), reject));
      w.addEventListener!('error', (e) => reject(new WorkerError(`Expected a helper thread to start, got ${e.message ?? 'an error event'}`)));
      w.postMessage(init);
    });
  }
  return {
    done,
    async stop() {
      await worker.terminate();
      if (!isNode()) exited(); // Web Workers have no exit event: terminate() ends them at once
      await done;
    },
  };
}

/** A team of n threads over one shared heap: this thread is thread 0, n − 1 helpers. */
export class Team {
  private closed = false;
  private closing: Promise<void> | null = null;
  private helpers: Helper[] = [];
  private live = 0;
  private readonly wait = canBlock();
  /** Plans run on the team so far. */
  runs = 0;

  private constructor(
    readonly n: number,
    private readonly k: MtKernels,
    private readonly heap: Heap,
    private readonly ctrl: number,
    private readonly scratch: number[],
  ) {}

  /** Starts n − 1 helpers over the heap's shared memory, all running the compiled threaded module. */
  static async start(n: number, module: WebAssembly.Module, k: MtKernels, heap: Heap): Promise<Team> {
    const ctrlWords = k.CTRL_WORDS.value as number;
    const ctrl = heap.alloc(ctrlWords);
    const scratch: number[] = [];
    for (let i = 1; i < n; i++) scratch.push(heap.alloc(Q8_SCRATCH_ELEMENTS));
    const team = new Team(n, k, heap, ctrl, scratch);
    const gen0 = heap.i32[ctrl];
    const started = await Promise.allSettled(
      scratch.map((s, i) => startHelper({ module, memory: heap.memory, ctrl, tid: i + 1, n, gen0, scratch: s * 4 })),
    );
    for (const r of started) if (r.status === 'fulfilled') team.adopt(r.value);
    const failed = started.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failed) {
      await team.close();
      throw failed.reason;
    }
    return team;
  }

  private adopt(h: Helper): void {
    this.helpers.push(h);
    this.live++;
    void h.done.then(() => this.live--);
  }

  /** Helper threads still running (0 after close()). */
  get liveHelpers(): number {
    return this.live;
  }

  /** False once close() has begun: programs then run on the calling thread alone. */
  get open(): boolean {
    return !this.closed;
  }

  /** Runs a plan (element offset, segment count); returns run_plan_mt's result. */
  run(plan: number, nseg: number): number {
    this.runs++;
    const r = this.k.run_plan_mt(this.ctrl, plan, nseg, this.n, this.wait);
    if (r === 1) {
      void this.close();
      throw new WorkerError('Expected every helper thread to run its share of the program, got a helper that stopped with an error; its threads are closed and later calls run on one thread');
    }
    return r;
  }

  /** Stops every helper (they leave mt_helper, then the threads are terminated). Idempotent. */
  close(): Promise<void> {
    if (!this.closing) {
      this.closed = true;
      this.k.mt_quit(this.ctrl);
      this.closing = Promise.all(this.helpers.map((h) => h.stop())).then(() => {
        this.heap.release(this.ctrl);
        for (const s of this.scratch) this.heap.release(s);
      });
    }
    return this.closing;
  }
}
