// The worker side of GraphWorkerPool: one replica of the pool's graph model (wrapped in its
// registered application when the pool runs one — src/parallel/apps.ts; one per member for an
// ensemble), rebuilt when the spec changes and given the task's parameters at every task, so it can
// never be stale (a quantized model's int8 copies are derived again from them, as io/format.ts does
// for a file). Shared by the piscina and Web Worker entries through replica.ts.
import { GraphModel } from '../graph/model';
import type { GraphSpec } from '../graph/spec';
import { withoutInitialisers } from '../params/initialisers';
import { applyInt8 } from '../model/quantize';
import { Tensor } from '../tensor';
import { ShapeError } from '../errors';
import type { Arr, GraphInput, Reply, Task } from './protocol';
import type { Feed } from '../graph/feed';
import { poolApp, type PoolAppObject } from './apps';

type Replica = { key: string; model: GraphModel; app: PoolAppObject | null; quantized: boolean };
/** Slot 0: the pool's model; slots 1…: the other members of an ensemble. */
const replicas: (Replica | null)[] = [];

// The replica in `slot` for this spec (and application) with the task's parameters written over its arena.
function graphReplica(spec: string, params: Float32Array, app?: { kind: string; meta: string }, slot = 0): Replica {
  const key = `${spec}\n${app ? `${app.kind}\n${app.meta}` : ''}`;
  let replica = replicas[slot] ?? null;
  if (!replica || replica.key !== key) {
    if (replica) (replica.app ?? replica.model).dispose();
    replicas[slot] = replica = null;
    const parsed = JSON.parse(spec) as GraphSpec;
    const model = withoutInitialisers(() => GraphModel.fromSpec(parsed));
    let obj: PoolAppObject | null = null;
    try {
      if (app) obj = poolApp(app.kind).rebuild(app.meta, model);
    } catch (e) {
      model.dispose();
      throw e;
    }
    replicas[slot] = replica = { key, model, app: obj, quantized: parsed.quantized === 'int8' };
  }
  const a = replica.model.runner.arena;
  if (params.length !== a.size) throw new ShapeError(`Expected ${a.size} parameter values for the replica, got ${params.length}`);
  a.rt.heap.write(a.base, params);
  a.markWritten();
  // a quantized model's int8 copies are derived from the (dequantized) parameters, as the main thread's
  if (replica.quantized) applyInt8(replica.model.runner);
  return replica;
}

/** A shard's inputs as a feed. */
function feedOf(inputs: Record<string, GraphInput>): Feed {
  return Object.fromEntries(
    Object.entries(inputs).map(([name, v]) => {
      const data = new Tensor(v.value.data, v.value.shape) as Tensor<Float32Array> | Tensor<Int32Array>;
      return [name, v.lengths ? { data, lengths: v.lengths } : data];
    }),
  );
}

/** Runs a graph task (graph-forward, graph-grad or app); errors propagate to replica.ts, which returns them as data. */
export function handleGraph(t: Extract<Task, { kind: 'graph-forward' | 'graph-grad' | 'app' }>): Reply {
  if (t.kind === 'graph-grad') {
    const { model } = graphReplica(t.spec, t.params);
    if (t.rng) model.runner.dropoutRngState = t.rng;
    const targets = Object.fromEntries(Object.entries(t.targets).map(([k, a]) => [k, new Tensor(a.data, a.shape) as Tensor<Float32Array> | Tensor<Int32Array>]));
    const r = model.shardGradient({ inputs: feedOf(t.inputs), targets }, t.losses, t.rng !== undefined, t.scales);
    return { ok: true, kind: 'graph-grad', means: r.means, grad: r.grad };
  }
  if (t.kind === 'graph-forward') {
    const { model } = graphReplica(t.spec, t.params);
    const out = model.forward(feedOf(t.inputs));
    const outputs: Record<string, Arr<Float32Array>> = {};
    for (const [name, o] of Object.entries(out)) outputs[name] = { data: o.data as Float32Array, shape: [...o.shape] };
    return { ok: true, kind: 'graph-forward', outputs };
  }
  const kind = poolApp(t.app);
  const lead = graphReplica(t.spec, t.params, { kind: t.app, meta: t.meta }).app!;
  const others = (t.members ?? []).map((m, i) => graphReplica(m.spec, m.params, { kind: t.app, meta: m.meta }, i + 1).app!);
  // replicas of members the task no longer has are released
  for (let k = others.length + 1; k < replicas.length; k++) {
    const r = replicas[k];
    if (r) (r.app ?? r.model).dispose();
  }
  replicas.length = Math.min(replicas.length, others.length + 1);
  // each chunk is one in-process call of the application (of every member, for an ensemble)
  const members = [lead, ...others];
  return { ok: true, kind: 'app', results: t.chunks.map((items) => kind.run(members, t.verb, items, t.options)) };
}
