// The worker side of GraphWorkerPool: one replica of the pool's graph model (wrapped in a Seq2Seq
// when the pool decodes; one per member for an ensemble), rebuilt when the spec changes and given
// the task's parameters at every task, so it can never be stale (a quantized model's int8 copies are
// derived again from them, as io/format.ts does for a file). Shared by the piscina and Web
// Worker entries through replica.ts.
import { GraphModel } from '../graph/model';
import type { GraphSpec } from '../graph/spec';
import { Seq2Seq } from '../apps/seq2seq/seq2seq';
import { TokenVocab } from '../apps/seq2seq/vocab';
import type { Seq2SeqConfig } from '../apps/seq2seq/config';
import { withoutInitialisers } from '../model/runner';
import { applyInt8 } from '../model/quantize';
import { Tensor } from '../tensor';
import { ShapeError } from '../errors';
import type { Arr, GraphInput, Reply, Task } from './protocol';
import type { Feed } from '../graph/feed';

/** What a Seq2Seq replica needs beside its graph: the config and both vocabularies (JSON in the task). */
export interface Seq2SeqMeta {
  config: Seq2SeqConfig;
  source: string[];
  target: string[];
}

type Replica = { key: string; model: GraphModel; s2s: Seq2Seq | null; quantized: boolean };
/** Slot 0: the pool's model; slots 1…: the other members of an ensemble. */
const replicas: (Replica | null)[] = [];

// The replica in `slot` for this spec (and Seq2Seq metadata) with the task's parameters written over its arena.
function graphReplica(spec: string, params: Float32Array, meta?: string, slot = 0): Replica {
  const key = `${spec}\n${meta ?? ''}`;
  let replica = replicas[slot] ?? null;
  if (!replica || replica.key !== key) {
    if (replica) (replica.s2s ?? replica.model).dispose();
    replicas[slot] = replica = null;
    const parsed = JSON.parse(spec) as GraphSpec;
    const model = withoutInitialisers(() => GraphModel.fromSpec(parsed));
    let s2s: Seq2Seq | null = null;
    try {
      if (meta) s2s = seq2seqOf(JSON.parse(meta) as Seq2SeqMeta, model);
    } catch (e) {
      model.dispose();
      throw e;
    }
    replicas[slot] = replica = { key, model, s2s, quantized: parsed.quantized === 'int8' };
  }
  const a = replica.model.runner.arena;
  if (params.length !== a.size) throw new ShapeError(`Expected ${a.size} parameter values for the replica, got ${params.length}`);
  a.rt.heap.write(a.base, params);
  a.markWritten();
  // a quantized model's int8 copies are derived from the (dequantized) parameters, as the main thread's
  if (replica.quantized) applyInt8(replica.model.runner);
  return replica;
}

function seq2seqOf(m: Seq2SeqMeta, model: GraphModel): Seq2Seq {
  const { sourceTokens, targetTokens, ...rest } = m.config;
  return new Seq2Seq({ ...rest, source: new TokenVocab(sourceTokens, m.source), target: new TokenVocab(targetTokens, m.target) }, model);
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

/** Runs a graph task (graph-forward, graph-grad or translate); errors propagate to replica.ts, which returns them as data. */
export function handleGraph(t: Extract<Task, { kind: 'graph-forward' | 'graph-grad' | 'translate' }>): Reply {
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
  const { s2s } = graphReplica(t.spec, t.params, t.seq2seq);
  const others = (t.members ?? []).map((m, i) => graphReplica(m.spec, m.params, m.seq2seq, i + 1).s2s!);
  // replicas of members the task no longer has are released
  for (let k = others.length + 1; k < replicas.length; k++) {
    const r = replicas[k];
    if (r) (r.s2s ?? r.model).dispose();
  }
  replicas.length = Math.min(replicas.length, others.length + 1);
  // each chunk is one in-process translate() (or translateEnsemble()) call of the same texts in the same order
  const members = [s2s!, ...others];
  return {
    ok: true, kind: 'translate',
    translations: t.chunks.map((texts) => (others.length ? Seq2Seq.translateEnsemble(members, texts, t.options) : s2s!.translate(texts, t.options))),
  };
}
