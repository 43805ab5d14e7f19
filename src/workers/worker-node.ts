// Piscina worker entry (Node): the compiled Module arrives once through workerData; each task is
// answered by the shared replica code, large results transferred rather than copied.
import { workerData } from 'node:worker_threads';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { handle, setup, transferables } from '../parallel/replica';
import { errorData, type Reply, type Task, type WorkerInit } from '../parallel/protocol';
import { registerPoolApps } from '../pool-apps';

registerPoolApps();

const ready = setup(workerData as WorkerInit).then(
  () => null,
  (e: unknown) => errorData(e),
);

export default async function run(task: Task): Promise<unknown> {
  const failed = await ready;
  const reply: Reply = failed ? { ok: false, error: { name: 'WorkerError', message: `Expected the worker runtime to start, got ${failed.name}: ${failed.message}` } } : handle(task);
  return move({ [transferableSymbol]: transferables(reply), [valueSymbol]: reply } as never);
}
