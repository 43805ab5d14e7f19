// The worker pool of the batch tools and of `serve`: piscina threads, each running
// dist/batch-worker.js (src/cli/batch-worker.ts) with one application runner. piscina is
// imported when a pool starts, so the library stays importable where there are no threads.
import type { AppKind, TranslateVerbOptions } from './app';

/** What every worker thread is started with. */
export interface AppWorkerData {
  /** The application kind; when absent the worker finds it from the model file. */
  kind?: AppKind;
  models: Uint8Array[];
  translate?: TranslateVerbOptions;
  /** Line tasks: 'jsonl' ({"id", "text"} per line) or 'text' (the line is the text, id = line number). */
  format?: 'jsonl' | 'text';
  /** A longer text is answered with an error record. */
  maxChars?: number;
  /** Threads of each worker's model calls (init({ threads })); one when absent. */
  threads?: number;
}

/** The part of a piscina pool the callers use. */
export interface AppPool {
  run(task: unknown, o?: { transferList?: ArrayBuffer[] }): Promise<unknown>;
  destroy(): Promise<void>;
}

const nodeImport = (name: string): Promise<Record<string, unknown>> => import(/* @vite-ignore */ name);

/**
 * `workers` threads each holding the application; `workerMemoryMb` caps each one's JS heap.
 * `tasksPerWorker` > 1 posts the next task(s) to a worker while it runs one, so it starts the next
 * without waiting for the main thread to take its answer (the batch tools' long streams of tasks).
 */
export async function startAppPool(data: AppWorkerData, workers: number, workerMemoryMb?: number, workerFile?: string | URL, tasksPerWorker = 1): Promise<AppPool> {
  const { Piscina } = (await nodeImport('piscina')) as { Piscina: new (o: object) => AppPool };
  const ext = import.meta.url.endsWith('.cjs') ? 'cjs' : 'js';
  return new Piscina({
    filename: (workerFile ?? new URL(`./batch-worker.${ext}`, import.meta.url)).toString(), minThreads: workers, maxThreads: workers, idleTimeout: 2 ** 31 - 1, workerData: data, concurrentTasksPerWorker: tasksPerWorker,
    resourceLimits: workerMemoryMb ? { maxOldGenerationSizeMb: workerMemoryMb, maxYoungGenerationSizeMb: Math.max(1, Math.min(16, workerMemoryMb >> 2)) } : undefined,
  });
}
