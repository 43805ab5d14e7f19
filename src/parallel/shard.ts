// The main thread's side of a batch split across the workers: a graph's inputs and targets cut into
// contiguous row shards (src/parallel/protocol.ts slices the arrays), the shards' outputs joined
// back along the batch axis, and the targets a loss counts in each shard (what weights the shards'
// gradients).
import { Tensor } from '../tensor';
import type { Parts } from '../graph/feed';
import type { Shape } from '../graph/compile';
import type { GraphBatch, ResolvedLoss } from '../graph/losses';
import { putRows, sliceRows, type Arr, type GraphInput } from './protocol';

type Own = (Float32Array | Int32Array | undefined)[];

/** Rows [b0, b1) of every input: (T, B[, F]) sequences with their lengths, (B, F) vectors; `own` lists the new arrays. */
export function shardInputs(parts: Parts, shape: Shape, b0: number, b1: number): { inputs: Record<string, GraphInput>; own: Own } {
  const nb = b1 - b0;
  const B = shape.B;
  const inputs: Record<string, GraphInput> = {};
  const own: Own = [];
  for (const [n, v] of parts) {
    // every input is (outer, B, inner): (T, B, F) or (T, B) sequences, (1, B, F) vectors
    const T = shape.T.get(n);
    const inner = v.data.length / ((T ?? 1) * B);
    const data = sliceRows(v.data, T ?? 1, B, inner, b0, b1);
    const dims = T === undefined ? [nb, inner] : n.opts.type === 'ids' ? [T, nb] : [T, nb, inner];
    const lengths = v.lengths && Int32Array.from({ length: nb }, (_, k) => v.lengths![b0 + k]);
    inputs[n.name] = { value: { data, shape: dims }, lengths };
    own.push(data, lengths);
  }
  return { inputs, own };
}

/** Rows [b0, b1) of every loss's targets ((T, B[, F]) sequences or (B, F) vectors); the new arrays are pushed to `own`. */
export function shardTargets(specs: ResolvedLoss[], targets: GraphBatch['targets'], shape: Shape, b0: number, b1: number, own: Own): Record<string, Arr> {
  const out: Record<string, Arr> = {};
  for (const s of specs) {
    const t = targets[s.name];
    const vec = s.y.kind === 'vec';
    const outer = vec ? 1 : shape.T.get(s.y.axis!)!;
    const inner = t.data.length / (outer * shape.B);
    const data = sliceRows(t.data, outer, shape.B, inner, b0, b1);
    out[s.name] = { data, shape: [...(vec ? [] : [outer]), b1 - b0, ...t.shape.slice(vec ? 1 : 2)] };
    own.push(data);
  }
  return out;
}

/** The shards' outputs joined along the batch axis: (b, F) vectors; (T, b, F) sequences and attention weights. */
export function joinOutputs(shards: Record<string, Arr<Float32Array>>[], cuts: [number, number][], B: number): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [name, first] of Object.entries(shards[0])) {
    const vec = first.shape.length === 2;
    const [outer, inner] = vec ? [1, first.shape[1]] : [first.shape[0], first.shape[2]];
    let data = first.data; // one shard is already the whole batch
    if (shards.length > 1) {
      data = new Float32Array(outer * B * inner);
      shards.forEach((o, k) => putRows(data, o[name].data, outer, B, inner, cuts[k][0], cuts[k][1]));
    }
    out[name] = new Tensor(data, vec ? [B, inner] : [outer, B, inner]);
  }
  return out;
}

/** Targets a loss counts in rows [b0, b1) (steps past the lengths of its axis and −1 ids do not count), as writeTargets counts them. */
export function countShard(s: ResolvedLoss, t: Tensor<Float32Array> | Tensor<Int32Array>, shape: Shape, parts: Parts, b0: number, b1: number): number {
  const B = shape.B;
  const seq = s.y.kind !== 'vec';
  const T = seq ? shape.T.get(s.y.axis!)! : 1;
  const lengths = seq ? parts.get(s.y.axis!)?.lengths : undefined;
  const W = s.loss === 'crossEntropy' ? 1 : s.y.features;
  let c = 0;
  for (let b = b0; b < b1; b++) {
    const len = lengths ? lengths[b] : T;
    for (let step = 0; step < len; step++) {
      if (s.loss !== 'crossEntropy') c += W;
      else if ((t.data as Int32Array)[step * B + b] >= 0) c++;
    }
  }
  return c;
}
