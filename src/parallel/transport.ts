// How the pool reaches its workers: piscina in Node, Web Workers in browsers. Both send the
// compiled WebAssembly.Module once per worker (piscina: workerData) and turn every failure — a
// worker that cannot start, exits, throws outside a task, or misses the deadline — into a
// rejected promise carrying a WorkerError, so a call never hangs on a dead worker.
import { WorkerError, type Reply, type Task, type WorkerInit } from './protocol';
import { show } from '../errors';

export interface Transport {
  readonly size: number;
  /** Runs a task on worker i (piscina picks the worker itself; tasks are self-contained). */
  run(i: number, task: Task, transfer: Transferable[], signal?: AbortSignal): Promise<Reply>;
  close(): Promise<void>;
}

const isNode = (): boolean => typeof process !== 'undefined' && !!(process as { versions?: { node?: string } }).versions?.node;

// Specifiers in variables keep browser bundlers from pulling Node-only packages into a page.
const nodeImport = (name: string): Promise<Record<string, unknown>> => import(/* @vite-ignore */ name);

/** Hardware threads of this machine (navigator in browsers, os.availableParallelism in Node). */
export async function hardwareThreads(): Promise<number> {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  if (nav?.hardwareConcurrency) return nav.hardwareConcurrency;
  if (isNode()) return ((await nodeImport('node:os')).availableParallelism as () => number)();
  return 1;
}

function failure(e: unknown, signal?: AbortSignal): WorkerError {
  if (signal?.aborted) return new WorkerError(`Expected the worker to answer in time, got no answer before the deadline (${show((signal.reason as Error)?.message ?? signal.reason)})`);
  const err = e as Error;
  return new WorkerError(`Expected the worker to finish its task, got ${err?.name ?? 'Error'}: ${err?.message ?? String(e)}`);
}

// ---- Node: piscina ----------------------------------------------------------------------------

type PiscinaLike = {
  run(task: unknown, o: { transferList?: Transferable[]; signal?: AbortSignal }): Promise<unknown>;
  destroy(): Promise<void>;
};

class PiscinaTransport implements Transport {
  private constructor(readonly size: number, private readonly p: PiscinaLike) {}

  static async open(url: string, size: number, init: WorkerInit): Promise<PiscinaTransport> {
    const mod = await nodeImport('piscina');
    const Piscina = (mod.Piscina ?? mod.default) as new (o: object) => PiscinaLike;
    // a fixed set of threads, one task at a time each, never retired for idleness
    const p = new Piscina({ filename: url, minThreads: size, maxThreads: size, idleTimeout: 2 ** 31 - 1, concurrentTasksPerWorker: 1, workerData: init });
    return new PiscinaTransport(size, p);
  }

  async run(_i: number, task: Task, transfer: Transferable[], signal?: AbortSignal): Promise<Reply> {
    try {
      return (await this.p.run(task, { transferList: transfer, signal })) as Reply;
    } catch (e) {
      throw failure(e, signal);
    }
  }

  close(): Promise<void> {
    return this.p.destroy();
  }
}

// ---- browsers: Web Workers ----------------------------------------------------------------------

interface Pending {
  worker: number;
  resolve(r: Reply): void;
  reject(e: Error): void;
}

class WebTransport implements Transport {
  private readonly workers: (Worker | null)[] = [];
  private readonly failures: number[] = []; // consecutive failures per worker (reset by a reply)
  private readonly pending = new Map<number, Pending>();
  private next = 1;
  private closed = false;

  constructor(readonly size: number, private readonly url: string | URL | null, private readonly init: WorkerInit) {
    for (let i = 0; i < size; i++) {
      this.failures.push(0);
      this.workers.push(this.spawn(i));
    }
  }

  // A worker that fails outside a task (script error, crash) rejects what it holds and is
  // replaced, up to 3 times in a row; then its slot stays empty and its tasks reject at once.
  private spawn(i: number): Worker {
    const w = this.url
      ? new Worker(this.url, { type: 'module' })
      : new Worker(new URL('./worker-web.js', import.meta.url), { type: 'module' });
    w.onmessage = (e: MessageEvent) => {
      const { id, reply } = e.data as { id: number; reply: Reply };
      const p = this.pending.get(id);
      if (!p) return;
      this.pending.delete(id);
      this.failures[i] = 0;
      p.resolve(reply);
    };
    const broken = (what: string) => {
      if (this.workers[i] !== w) return; // an already replaced worker
      this.fail(i, new WorkerError(`Expected worker ${i} to run, got ${what}`));
      this.replace(i);
    };
    w.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      broken(`an error: ${e.message || 'the worker script failed to load'}`);
    };
    w.onmessageerror = () => broken('a message it could not deserialise');
    w.postMessage({ init: this.init });
    return w;
  }

  private fail(i: number, err: Error): void {
    for (const [id, p] of this.pending) {
      if (p.worker !== i) continue;
      this.pending.delete(id);
      p.reject(err);
    }
  }

  private replace(i: number): void {
    this.workers[i]?.terminate();
    this.workers[i] = null;
    if (!this.closed && ++this.failures[i] <= 3) this.workers[i] = this.spawn(i);
  }

  run(i: number, task: Task, transfer: Transferable[], signal?: AbortSignal): Promise<Reply> {
    if (this.closed) return Promise.reject(new WorkerError('Expected a live pool, got one whose workers were terminated'));
    const w = this.workers[i];
    if (!w) return Promise.reject(new WorkerError(`Expected worker ${i} to run, got one that failed to start 3 times in a row`));
    return new Promise<Reply>((resolve, reject) => {
      const id = this.next++;
      this.pending.set(id, { worker: i, resolve, reject });
      signal?.addEventListener('abort', () => {
        if (!this.pending.has(id)) return;
        // a worker stuck in a task cannot be interrupted: replace it
        this.fail(i, failure(null, signal));
        this.replace(i);
      }, { once: true });
      w.postMessage({ id, task }, transfer);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (let i = 0; i < this.workers.length; i++) {
      this.workers[i]?.terminate();
      this.fail(i, new WorkerError('Expected the task to finish, got the pool disposed while it ran'));
    }
  }
}

/** Piscina under Node, Web Workers elsewhere. */
export async function openTransport(size: number, init: WorkerInit, url?: string | URL): Promise<Transport> {
  if (isNode()) {
    let u = url ? String(url) : '';
    if (!u) {
      const here = import.meta.url;
      // from source (vitest on src/): the built entry in dist/; built: the entry beside this bundle
      u = here.endsWith('.ts') ? new URL('../../dist/worker-node.js', here).href : new URL(`./worker-node${here.endsWith('.cjs') ? '.cjs' : '.js'}`, here).href;
    }
    return PiscinaTransport.open(u, size, init);
  }
  if (typeof Worker !== 'function') throw new WorkerError('Expected Web Workers or Node worker threads, got neither in this environment');
  return new WebTransport(size, url ?? null, init);
}
