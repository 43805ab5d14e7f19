// Web Worker entry (browser): the first message carries the compiled Module; every later message
// is { id, task } and is answered with { id, reply }, large results transferred.
import { handle, setup, transferables } from '../parallel/replica';
import { errorData, type Reply, type Task, type WorkerInit } from '../parallel/protocol';
import { registerPoolApps } from '../pool-apps';

registerPoolApps();

interface Scope {
  onmessage: ((e: MessageEvent) => void) | null;
  postMessage(m: unknown, transfer?: Transferable[]): void;
}
const scope = globalThis as unknown as Scope;
let ready: Promise<ReturnType<typeof errorData> | null> | null = null;

scope.onmessage = async (e: MessageEvent) => {
  const msg = e.data as { init?: WorkerInit; id?: number; task?: Task };
  if (msg.init) {
    ready = setup(msg.init).then(() => null, (err: unknown) => errorData(err));
    return;
  }
  const failed = ready ? await ready : { name: 'WorkerError', message: 'no init message' };
  const reply: Reply = failed ? { ok: false, error: { name: 'WorkerError', message: `Expected the worker runtime to start, got ${failed.name}: ${failed.message}` } } : handle(msg.task!);
  scope.postMessage({ id: msg.id, reply }, transferables(reply));
};
