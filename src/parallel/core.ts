// The machinery under the WorkerPool (src/parallel/pool.ts), apart from what it runs: starting the
// workers on the main thread's compiled Module and checking that each answers, one call at a time,
// the parameter buffer the workers read (a SharedArrayBuffer filled once per call, or a copy per
// task where pages are not cross-origin isolated), and sending one task per worker with every
// failure turned into a typed error.
import { compiledModule, runtime, type Runtime, type Variant } from '../wasm/load';
import type { Arena } from '../params/arena';
import { checkOptionsObject } from '../ir/checks';
import { StateError, ValueError, show } from '../errors';
import { checkOptions, keysOf } from '../options';
import { checkReply, WorkerError, type Reply, type Task } from './protocol';
import { hardwareThreads, openTransport, type Transport } from './transport';

const WORKER_POOL_KEYS = keysOf<WorkerPoolOptions>()('workers', 'timeout', 'startTimeout', 'workerUrl');

/** Options of `WorkerPool.create` and `WorkerPool.createEnsemble`. */
export interface WorkerPoolOptions {
  /** Number of workers (default: the machine's hardware threads). */
  workers?: number;
  /** Reject a call with a WorkerError when its workers have not answered within this many ms. */
  timeout?: number;
  /** Reject create() with a WorkerError when the workers have not started within this many ms (default 60 000). */
  startTimeout?: number;
  /** URL or path of the worker script (default: the built entry shipped beside this bundle). */
  workerUrl?: string | URL;
}

/** A task with the buffers that move to its worker. */
export interface Sent {
  task: Task;
  transfer: Transferable[];
}

/** Validates pool options (every key and value) before any worker starts; returns the worker count. */
export async function checkPoolOptions(opts: WorkerPoolOptions): Promise<number> {
  checkOptions(opts, WORKER_POOL_KEYS, 'WorkerPool options');
  checkOptionsObject(opts, 'WorkerPool options');
  const n = opts.workers ?? (await hardwareThreads());
  if (!Number.isInteger(n) || n < 1) throw new ValueError(`Expected workers to be a positive integer, got ${show(opts.workers)}`);
  for (const k of ['timeout', 'startTimeout'] as const) {
    const v = opts[k];
    if (v !== undefined && !(typeof v === 'number' && v > 0)) throw new ValueError(`Expected ${k} to be a positive number of ms, got ${show(v)}`);
  }
  return n;
}

/** What a pool's safety net releases: its workers, and what its subclass registered (wasm blocks). */
interface PoolHeld {
  transport: Transport | null;
  release: (() => void) | null;
}
// The safety net for pools that are never disposed: the workers are closed (so they no longer keep
// the process alive) and the pool's wasm blocks go back to the heap. The held record refers to no
// pool: a held value that reaches its target would keep it alive forever.
const pools = new FinalizationRegistry<PoolHeld>((h) => {
  h.release?.();
  h.release = null;
  const t = h.transport;
  h.transport = null;
  if (t) t.close().catch(() => undefined);
});

export abstract class PoolCore {
  /** Which binary the workers run (the main thread's). */
  readonly variant: Variant;
  protected transport: Transport | null;
  protected readonly timeout?: number;
  private shared: Float32Array | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  /** What the finalizer releases if the pool is dropped without dispose(); a subclass sets `release`. */
  protected readonly held: PoolHeld;

  protected constructor(variant: Variant, transport: Transport, timeout?: number) {
    this.variant = variant;
    this.transport = transport;
    this.timeout = timeout;
    this.held = { transport, release: null };
    pools.register(this, this.held, this);
  }

  /**
   * Starts n workers on the runtime's compiled Module, builds the pool over them and waits until
   * every worker answers a ping with the same binary. Rejects with a WorkerError (workers closed)
   * if they cannot start.
   */
  protected static async start<P extends PoolCore>(rt: Runtime, n: number, opts: WorkerPoolOptions, make: (t: Transport) => P): Promise<P> {
    const module = await compiledModule(rt.variant);
    const transport = await openTransport(n, { module, variant: rt.variant, int8: rt.int8 }, opts.workerUrl);
    const pool = make(transport);
    try {
      const pings = Array.from({ length: n }, (): Sent => ({ task: { kind: 'ping' }, transfer: [] }));
      const replies = await pool.sendAll(pings, opts.startTimeout ?? 60_000);
      for (const r of replies) {
        if (r.kind === 'ping' && r.variant !== rt.variant) throw new WorkerError(`Expected workers to run the ${rt.variant} binary, got ${r.variant}`);
      }
    } catch (e) {
      await transport.close();
      throw e;
    }
    return pool;
  }

  /** Number of workers. */
  get size(): number {
    return this.transport ? this.transport.size : 0;
  }

  /** Closes the workers once; false when they were already closed. */
  protected async closeWorkers(): Promise<boolean> {
    const t = this.transport;
    if (!t) return false;
    this.transport = null;
    pools.unregister(this);
    this.held.transport = null;
    await t.close();
    return true;
  }

  protected checkLive(): void {
    if (!this.transport) throw new StateError('Expected a live WorkerPool, got one whose workers were terminated by dispose()');
  }

  // Calls run one at a time: each writes the shared parameter buffer its workers read.
  protected exclusive<R>(fn: () => Promise<R>): Promise<R> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  // A parameter source for this call's tasks: the shared buffer (filled now, once per call) or a copy per task.
  protected paramSource(rt: Runtime, arena: Arena): () => Float32Array {
    const heap = rt.heap;
    const canShare = typeof SharedArrayBuffer === 'function' && (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated !== false;
    if (canShare) {
      if (!this.shared || this.shared.length !== arena.size) this.shared = new Float32Array(new SharedArrayBuffer(arena.size * 4));
      this.shared.set(heap.view(arena.base, arena.size));
      const s = this.shared;
      return () => s;
    }
    return () => heap.read(arena.base, arena.size);
  }

  /**
   * Sends task i to worker i and waits for all of them (so none still reads the shared buffer
   * when the next call writes it); the first failure is rethrown as a typed error.
   */
  protected async sendAll(tasks: Sent[], timeout = this.timeout): Promise<Extract<Reply, { ok: true }>[]> {
    const t = this.transport;
    if (!t) throw new StateError('Expected a live WorkerPool, got one whose workers were terminated by dispose()');
    // one timeout signal per task: 64 tasks listening on one signal tripped Node's MaxListeners warning
    const signal = () => (timeout ? AbortSignal.timeout(timeout) : undefined);
    const int8 = runtime().int8;
    const settled = await Promise.allSettled(tasks.map((x, i) => t.run(i, { ...x.task, int8 }, x.transfer, signal())));
    const out: Extract<Reply, { ok: true }>[] = [];
    for (let i = 0; i < settled.length; i++) {
      const s = settled[i];
      if (s.status === 'rejected') throw s.reason instanceof Error ? s.reason : new WorkerError(`Expected worker ${i} to finish, got ${show(s.reason)}`);
      out.push(checkReply(s.value, tasks[i].task.kind, `worker ${i}`));
    }
    return out;
  }
}

/** The task's own (freshly sliced) buffers, each once; shared parameters are never listed. */
export function ownBuffers(arrays: (Float32Array | Int32Array | undefined)[]): Transferable[] {
  const out: ArrayBuffer[] = [];
  for (const a of arrays) if (a && a.buffer instanceof ArrayBuffer && !out.includes(a.buffer)) out.push(a.buffer);
  return out;
}
