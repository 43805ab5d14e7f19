// The applications GraphWorkerPool serves (src/parallel/apps.ts), registered in one place for the
// main thread (the GraphWorkerPool the package exports) and the worker entries (src/workers/):
// parallel/ imports none of them. The registration is a pure call, so a page that never uses the
// pool bundles none of the applications.
import { GraphWorkerPool as Pool } from './parallel/graph-pool';
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

/** The worker pool for graph models and the applications built on them (src/parallel/graph-pool.ts). */
export const GraphWorkerPool = /* @__PURE__ */ withApps();
export type GraphWorkerPool = Pool;
