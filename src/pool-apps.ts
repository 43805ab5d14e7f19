// The applications the WorkerPool serves (src/parallel/apps.ts), registered in one place for the
// main thread (the WorkerPool the package exports) and the worker entries (src/workers/):
// parallel/ imports none of them. The registration is a pure call, so a page that never uses the
// pool bundles none of the applications.
import { WorkerPool as Pool } from './parallel/pool';
import { registerPoolApp } from './parallel/apps';
import { SEQ2SEQ_POOL_APP } from './apps/seq2seq/pool-app';

/** Registers every application a pool can run (idempotent). */
export function registerPoolApps(): void {
  registerPoolApp(SEQ2SEQ_POOL_APP);
}

function withApps(): typeof Pool {
  registerPoolApps();
  return Pool;
}

/**
 * Runs any model on several workers (piscina in Node, Web Workers in browsers): a layer or `Sequential`, a
 * graph model, an application built on one (a `Seq2Seq`, or an ensemble of them) or the bytes of any of their
 * model files. `forward` splits the batch into row shards and equals the in-process call bit for bit;
 * `trainStep` sums the shards' gradients and takes one optimizer step on the main model; `translate` deals
 * length-sorted chunks to the workers. A layer or `Sequential` is called in its own forms
 * (`forward(x, options)`, `trainStep(batch, { loss, … })`), a graph in its (`forward(feed)`,
 * `trainStep({ inputs, targets }, { losses, … })`); the other form is a ValueError.
 * @class
 */
export const WorkerPool = /* @__PURE__ */ withApps();
export type WorkerPool = Pool;

/** @deprecated use {@link WorkerPool}: the same class, which now serves every model. */
export const GraphWorkerPool = WorkerPool;
/** @deprecated use {@link WorkerPool}. */
export type GraphWorkerPool = WorkerPool;
