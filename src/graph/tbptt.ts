// Truncated BPTT for graphs: which graphs allow it, and the chunks of a batch. A step with
// `tbptt: k` runs the training program on steps [0, k), [k, 2k), … of the graph's one sequence
// input, one optimizer update per chunk, each chunk's recurrent nodes starting from the previous
// chunk's final states (carried by the host; no gradient crosses the boundary), as Sequential's
// trainStep does. It needs every step of a chunk to depend only on earlier steps: one sequence
// input, and after it only step-wise nodes and unidirectional recurrent ones.
import { isCellKind } from '../layers/cells';
import { RecurrentCore } from '../layers/recurrent';
import { Tensor } from '../tensor';
import { ValueError, show } from '../errors';
import type { GNode, InputNode } from './nodes';
import type { Parts } from './feed';
import type { ResolvedLoss } from './losses';

/** Nodes that work on each step by itself (what a chunk boundary cannot cut through). */
const STEPWISE = new Set(['input', 'embedding', 'linear', 'dropout', 'softmax', 'logSoftmax', 'tanh', 'concat', 'repeat']);
/** Causal recurrent nodes besides the cells: their state is carried to the next chunk as the cells' is. */
const CAUSAL = new Set(['rwkv7']);

/** Checks `tbptt` and that the graph allows it; returns the sequence input it cuts. */
export function tbpttAxis(tbptt: unknown, nodes: GNode[], inputs: Map<string, InputNode>, losses: ResolvedLoss[]): InputNode {
  if (!(Number.isInteger(tbptt) && (tbptt as number) >= 1)) throw new ValueError(`Expected tbptt to be a positive integer, got ${show(tbptt)}`);
  const seqs = [...inputs.values()].filter((n) => n.opts.type !== 'vector');
  if (seqs.length !== 1) {
    throw new ValueError(`Expected one sequence input for tbptt (the chunks cut its steps), got ${seqs.length}${seqs.length ? ` (${seqs.map((n) => n.name).join(', ')})` : ''}`);
  }
  const axis = seqs[0];
  const after = new Set<GNode>([axis]);
  for (const n of nodes) {
    if (!n.inputs.some((s) => after.has(s.node))) continue;
    after.add(n);
    if (isCellKind(n.kind)) {
      if ((n.module as RecurrentCore).bidirectional) throw new ValueError(`Expected unidirectional recurrent nodes for tbptt, got bidirectional ${n.name} (its reverse pass reads the whole sequence)`);
    } else if (!STEPWISE.has(n.kind) && !CAUSAL.has(n.kind)) {
      throw new ValueError(`Expected only step-wise and unidirectional recurrent nodes after ${axis.name} for tbptt, got ${n.kind} node ${n.name} (it reads every step)`);
    }
  }
  for (const l of losses) {
    if (l.y.kind !== 'seq' || l.y.axis !== axis) throw new ValueError(`Expected losses only on outputs along the steps of ${axis.name} for tbptt, got one on ${l.name} (a ${l.y.kind} value)`);
  }
  return axis;
}

/** The inputs of steps [t0, t0 + len) of the axis input (lengths clipped to the chunk; the rest unchanged). */
export function chunkParts(parts: Parts, axis: InputNode, t0: number, len: number, B: number): Parts {
  const out: Parts = new Map(parts);
  const v = parts.get(axis)!;
  const perStep = B * (axis.opts.type === 'ids' ? 1 : axis.ports[0].features); // (T, B, F) time-major
  const data = v.data.subarray(t0 * perStep, (t0 + len) * perStep) as Float32Array | Int32Array;
  const lengths = v.lengths && Int32Array.from({ length: B }, (_, b) => Math.max(0, Math.min(len, v.lengths![b] - t0)));
  out.set(axis, { data, lengths });
  return out;
}

/** The targets of steps [t0, t0 + len) of every loss (all are on the axis: tbpttAxis checked it). */
export function chunkTargets(targets: Record<string, Tensor<Float32Array> | Tensor<Int32Array>>, losses: ResolvedLoss[], t0: number, len: number): Record<string, Tensor<Float32Array> | Tensor<Int32Array>> {
  const out: Record<string, Tensor<Float32Array> | Tensor<Int32Array>> = {};
  for (const l of losses) {
    const t = targets[l.name];
    const perStep = t.data.length / t.shape[0];
    out[l.name] = new Tensor(t.data.subarray(t0 * perStep, (t0 + len) * perStep), [len, ...t.shape.slice(1)]) as Tensor<Float32Array> | Tensor<Int32Array>;
  }
  return out;
}
