// The worker side, shared by the piscina (Node) and Web Worker (browser) entries: instantiate the
// Module the main thread compiled and answer tasks with plain data. A worker keeps one replica of
// the pool's graph (wrapped in its registered application when the pool runs one —
// src/parallel/apps.ts; one per member for an ensemble), rebuilt when the spec changes and given
// the task's parameters at every task, so it can never be stale (a quantized model's int8 copies
// are derived again from them, as io/format.ts does for a file). Every error is caught and
// returned as data, so a task always gets a reply.
import { init, runtime, useCompiledModule, useInt8Mode } from '../wasm/load';
import { GraphModel } from '../graph/model';
import type { GraphSpec } from '../graph/spec';
import type { Feed } from '../graph/feed';
import { withoutInitialisers } from '../params/initialisers';
import { applyInt8 } from '../model/quantize';
import { Tensor } from '../tensor';
import { ShapeError, show } from '../errors';
import { errorData, type Arr, type GraphInput, type Reply, type Task, type WorkerInit } from './protocol';
import { poolApp, type PoolAppObject } from './apps';

/** Instantiates the posted Module (no compilation) as this thread's runtime. */
export async function setup(w: WorkerInit): Promise<void> {
  useCompiledModule(w.variant, w.module);
  await init({ variant: w.variant, int8: w.int8 });
}

type Replica = { key: string; model: GraphModel; app: PoolAppObject | null; quantized: boolean };
/** Slot 0: the pool's model; slots 1…: the other members of an ensemble. */
const replicas: (Replica | null)[] = [];

// The replica in `slot` for this spec (and application) with the task's parameters written over its arena.
function replica(spec: string, params: Float32Array, app?: { kind: string; meta: string }, slot = 0): Replica {
  const key = `${spec}\n${app ? `${app.kind}\n${app.meta}` : ''}`;
  let r = replicas[slot] ?? null;
  if (!r || r.key !== key) {
    if (r) (r.app ?? r.model).dispose();
    replicas[slot] = r = null;
    const parsed = JSON.parse(spec) as GraphSpec;
    const model = withoutInitialisers(() => GraphModel.fromSpec(parsed));
    let obj: PoolAppObject | null = null;
    try {
      if (app) obj = poolApp(app.kind).rebuild(app.meta, model);
    } catch (e) {
      model.dispose();
      throw e;
    }
    replicas[slot] = r = { key, model, app: obj, quantized: parsed.quantized === 'int8' };
  }
  const a = r.model.runner.arena;
  if (params.length !== a.size) throw new ShapeError(`Expected ${a.size} parameter values for the replica, got ${params.length}`);
  a.rt.heap.write(a.base, params);
  a.markWritten();
  // a quantized model's int8 copies are derived from the (dequantized) parameters, as the main thread's
  if (r.quantized) applyInt8(r.model.runner);
  return r;
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

/** An application's chunks, each answered as one in-process call of the members (the lead and an ensemble's others). */
function runApp(t: Extract<Task, { kind: 'app' }>): Reply {
  const kind = poolApp(t.app);
  const lead = replica(t.spec, t.params, { kind: t.app, meta: t.meta }).app!;
  const others = (t.members ?? []).map((m, i) => replica(m.spec, m.params, { kind: t.app, meta: m.meta }, i + 1).app!);
  // replicas of members the task no longer has are released
  for (let k = others.length + 1; k < replicas.length; k++) {
    const r = replicas[k];
    if (r) (r.app ?? r.model).dispose();
  }
  replicas.length = Math.min(replicas.length, others.length + 1);
  const members = [lead, ...others];
  return { ok: true, kind: 'app', results: t.chunks.map((items) => kind.run(members, t.verb, items, t.options)) };
}

/** Runs one task; never throws. */
export function handle(t: Task): Reply {
  try {
    if (t.int8) useInt8Mode(t.int8);
    switch (t.kind) {
      case 'ping':
        return { ok: true, kind: 'ping', variant: runtime().variant };
      case 'forward': {
        const out = replica(t.spec, t.params).model.forward(feedOf(t.inputs));
        const outputs: Record<string, Arr<Float32Array>> = {};
        for (const [name, o] of Object.entries(out)) outputs[name] = { data: o.data as Float32Array, shape: [...o.shape] };
        return { ok: true, kind: 'forward', outputs };
      }
      case 'grad': {
        const { model } = replica(t.spec, t.params);
        if (t.rng) model.runner.dropoutRngState = t.rng;
        const targets = Object.fromEntries(Object.entries(t.targets).map(([k, a]) => [k, new Tensor(a.data, a.shape) as Tensor<Float32Array> | Tensor<Int32Array>]));
        const r = model.shardGradient({ inputs: feedOf(t.inputs), targets }, t.losses, t.rng !== undefined, t.scales);
        return { ok: true, kind: 'grad', means: r.means, grad: r.grad };
      }
      case 'app':
        return runApp(t);
      default:
        throw new TypeError(`Expected a task kind ping, forward, grad or app, got ${show((t as { kind: unknown }).kind)}`);
    }
  } catch (e) {
    return { ok: false, error: errorData(e) };
  }
}

/** The buffers of a reply that can be transferred instead of copied. */
export function transferables(r: Reply): ArrayBuffer[] {
  if (!r.ok) return [];
  if (r.kind === 'grad') return [r.grad.buffer as ArrayBuffer];
  if (r.kind === 'forward') return Object.values(r.outputs).map((a) => a.data.buffer as ArrayBuffer);
  return [];
}
