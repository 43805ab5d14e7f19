// What a WorkerPool is created from — a layer or Sequential, a graph model, an application holding
// one (a registered PoolApp, src/parallel/apps.ts) or the bytes of any of their model files —
// resolved on the main thread to what the pool serves: the model, the graph its workers replicate
// (a layer's or Sequential's chain graph, src/model/graph-adapter.ts), the layer's layouts the pool
// translates, and the application.
import { GraphModel } from '../graph/model';
import { deserialize, deserializeGraph, isGraphFile } from '../io/format';
import type { Model } from '../model/model';
import { ModelHost } from '../model/host';
import { ValueError, show } from '../errors';
import { poolAppOf, poolApps, type PoolApp, type PoolAppObject } from './apps';

/** What a WorkerPool serves: a layer or `Sequential`, a graph model, an application holding one (a Seq2Seq), or the bytes of any of their model files. */
export type PoolSource = Model | GraphModel | PoolAppObject | Uint8Array | ArrayBuffer;

/** What a pool runs. */
export interface Served {
  /** The model: the layer or Sequential, the graph, or the application's graph. */
  model: Model | GraphModel;
  /** The graph the workers replicate. */
  graph: GraphModel;
  /** A layer's or Sequential's layouts, translated at the pool's boundary; null for a graph. */
  host: ModelHost | null;
  /** The application holding the graph, and its registered description. */
  app: { kind: PoolApp; obj: PoolAppObject } | null;
}

export const isBytes = (x: unknown): x is Uint8Array | ArrayBuffer => x instanceof Uint8Array || x instanceof ArrayBuffer;
const isLayerModel = (x: unknown): x is Model => x !== null && typeof x === 'object' && (x as Model).runner instanceof ModelHost;

/** A model, or an application (`app`) holding its graph, as what a pool serves. */
export function served(model: Model | GraphModel, app: Served['app'] = null): Served {
  const host = isLayerModel(model) ? model.runner : null;
  return { model, graph: host ? host.graph : (model as GraphModel), host, app };
}

/** A source other than bytes (an application, a GraphModel, a layer or Sequential); a ValueError for anything else. */
export function servedSource(source: unknown): Served {
  const kind = poolAppOf(source);
  if (kind) return served((source as PoolAppObject).model, { kind, obj: source as PoolAppObject });
  if (source instanceof GraphModel || isLayerModel(source)) return served(source);
  const apps = poolApps().map((a) => a.kind).join(', ') || 'none registered';
  throw new ValueError(`Expected a layer or Sequential model, a GraphModel, an application holding one (${apps}) or the bytes of a model file, got ${show(source)}`);
}

/**
 * A model file: a layer's or Sequential's, or a graph's — an application's when a registered one
 * recognises it, else the plain graph. The pool keeps no optimizer a file carries.
 */
export function servedFile(input: Uint8Array | ArrayBuffer): Served {
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  if (!isGraphFile(bytes)) {
    const l = deserialize(bytes);
    l.optimizer?.dispose();
    return served(l.model);
  }
  const l = deserializeGraph(bytes);
  for (const kind of poolApps()) {
    const obj = kind.fromFile(l);
    if (obj) return served(obj.model, { kind, obj });
  }
  l.optimizer?.dispose();
  return served(l.model);
}
