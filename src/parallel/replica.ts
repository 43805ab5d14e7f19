// The worker side, shared by the piscina (Node) and Web Worker (browser) entries: instantiate the
// Module the main thread compiled, keep one replica of the pool's model, and answer tasks with
// plain data. Every error is caught and returned as data, so a task always gets a reply.
import { init, runtime, useCompiledModule, useInt8Mode } from '../wasm/load';
import { modelFromSpec, type Model, type ModelSpec } from '../model/model';
import { applyInt8 } from '../model/quantize';
import { withoutInitialisers } from '../params/initialisers';
import { Tensor } from '../tensor';
import { ShapeError, show } from '../errors';
import { errorData, type Arr, type Reply, type Task, type WorkerInit } from './protocol';
import { handleGraph } from './graph-replica';

let model: Model | null = null;
let specText = '';

/** Instantiates the posted Module (no compilation) as this thread's runtime. */
export async function setup(w: WorkerInit): Promise<void> {
  useCompiledModule(w.variant, w.module);
  await init({ variant: w.variant, int8: w.int8 });
}

// The replica for this spec with the task's parameters written over its arena.
function replica(spec: string, params: Float32Array): Model {
  if (!model || spec !== specText) {
    model?.dispose();
    model = null;
    model = withoutInitialisers(() => modelFromSpec(JSON.parse(spec)));
    specText = spec;
  }
  const a = model.runner.arena;
  if (params.length !== a.size) throw new ShapeError(`Expected ${a.size} parameter values for the replica, got ${params.length}`);
  a.rt.heap.write(a.base, params);
  a.markWritten();
  // a quantized model's int8 copies are derived from the (dequantized) parameters, as the main thread's
  if ((JSON.parse(spec) as ModelSpec).quantized === 'int8') applyInt8(model.runner);
  return model;
}

const arr = (t: Tensor): Arr<Float32Array> => ({ data: t.data, shape: [...t.shape] });
const tensorOf = (a: Arr) => new Tensor(a.data, a.shape) as Tensor<Float32Array> | Tensor<Int32Array>;

/** Runs one task; never throws. */
export function handle(t: Task): Reply {
  try {
    if (t.int8) useInt8Mode(t.int8);
    switch (t.kind) {
      case 'ping':
        return { ok: true, kind: 'ping', variant: runtime().variant };
      case 'forward': {
        const m = replica(t.spec, t.params);
        const r = m.forward(tensorOf(t.x), { lengths: t.lengths, h0: t.h0, c0: t.c0 });
        // hN/cN are absent for models without recurrent layers
        return { ok: true, kind: 'forward', output: arr(r.output), hN: r.hN && arr(r.hN), cN: r.cN && arr(r.cN) };
      }
      case 'grad': {
        const m = replica(t.spec, t.params);
        const y = tensorOf(t.y) as Tensor<Int32Array> | Tensor<Float32Array>;
        if (t.rng) m.runner.dropoutRngState = t.rng;
        const loss = m.evaluate({ x: tensorOf(t.x), y, lengths: t.lengths, h0: t.h0, c0: t.c0 }, { loss: t.loss, training: t.rng !== undefined });
        // the gradient of this shard's mean loss, gathered into arena layout
        const a = m.runner.arena;
        const grad = new Float32Array(a.size);
        for (const e of a.entries()) grad.set(m.gradient(e.name), e.rel);
        return { ok: true, kind: 'grad', loss, grad };
      }
      case 'graph-forward':
      case 'graph-grad':
      case 'app':
        return handleGraph(t);
      default:
        throw new TypeError(`Expected a task kind ping, forward, grad, graph-forward, graph-grad or app, got ${show((t as { kind: unknown }).kind)}`);
    }
  } catch (e) {
    return { ok: false, error: errorData(e) };
  }
}

/** The buffers of a reply that can be transferred instead of copied. */
export function transferables(r: Reply): ArrayBuffer[] {
  if (!r.ok) return [];
  if (r.kind === 'forward') return [r.output, r.hN, r.cN].filter((a) => a !== undefined).map((a) => a.data.buffer as ArrayBuffer);
  if (r.kind === 'grad' || r.kind === 'graph-grad') return [r.grad.buffer as ArrayBuffer];
  if (r.kind === 'graph-forward') return Object.values(r.outputs).map((a) => a.data.buffer as ArrayBuffer);
  return [];
}
