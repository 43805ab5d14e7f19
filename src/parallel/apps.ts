// Applications a WorkerPool serves (a Seq2Seq's translate, …) without parallel/ knowing any:
// an application describes itself once — how to recognise it and its model file on the main
// thread, what its workers rebuild it from, how a call's items are cut into chunks, and how a
// worker answers a chunk — and is registered by the code above both (src/index.ts and the worker
// entries in src/workers/). A pool's call `run(verb, items, options)` sends each worker its chunks;
// each chunk is one in-process call on the worker, so the results equal the in-process ones.
import type { GraphModel } from '../graph/model';
import type { LoadedGraph } from '../io/format';
import { ValueError, show } from '../errors';

/** An application object: holds its graph as `.model`. */
export interface PoolAppObject {
  /** The application's graph model. */
  readonly model: GraphModel;
  /** Releases the application and its model. */
  dispose(): void;
}

/** An application a WorkerPool can serve, described once for the main thread and the workers (see the file header). */
export interface PoolApp<A extends PoolAppObject = PoolAppObject> {
  /** The name tasks carry (unique). */
  readonly kind: string;
  /** The calls it answers (e.g. ['translate']). */
  readonly verbs: readonly string[];
  /** Main thread: whether `x` is this application. */
  owns(x: unknown): x is A;
  /** Main thread: the application from a parsed graph model file, or null when the file is not one of its files. */
  fromFile(l: LoadedGraph): A | null;
  /** Main thread: what a worker rebuilds it from (JSON) beside the graph spec and parameters. */
  meta(a: A): string;
  /** Main thread: throws a ValueError unless these applications can answer together (an ensemble). */
  checkMembers(members: readonly A[]): void;
  /** Main thread: validates a call (before anything is sent) and cuts its items into chunks of item indices, in the order a worker should take them. */
  plan(a: A, verb: string, items: readonly unknown[], options: unknown): number[][];
  /** Worker: the application over a replica graph. */
  rebuild(meta: string, model: GraphModel): A;
  /** Worker: one chunk, answered as one in-process call of the members (one, or an ensemble): one result per item. */
  run(members: readonly A[], verb: string, items: unknown[], options: unknown): unknown[];
}

const apps = new Map<string, PoolApp>();

/** Registers an application (again with the same kind: replaced). */
export function registerPoolApp<A extends PoolAppObject>(app: PoolApp<A>): void {
  apps.set(app.kind, app as unknown as PoolApp);
}

/** The registered application of a task's kind (a worker). */
export function poolApp(kind: string): PoolApp {
  const a = apps.get(kind);
  if (!a) throw new ValueError(`Expected a registered pool application (${[...apps.keys()].join(', ') || 'none'}), got ${show(kind)}`);
  return a;
}

/** The application `x` is, or null. */
export function poolAppOf(x: unknown): PoolApp | null {
  for (const a of apps.values()) if (a.owns(x)) return a;
  return null;
}

/** Every registered application (a file is offered to each). */
export function poolApps(): PoolApp[] {
  return [...apps.values()];
}
