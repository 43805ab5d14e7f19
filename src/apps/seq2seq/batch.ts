// Batches of a Seq2Seq model: source ids (Ts, B) with lengths; the teacher-forced decoder input
// <s> + target (Tt, B) and the targets target + </s> (padding −1, ignored by the loss).
import { Tensor } from '../../tensor';
import type { FeedValue } from '../../graph/feed';
import type { GraphBatch } from '../../graph/losses';
import { BOS, EOS, PAD } from './vocab';

/** The source feed of a batch of id sequences (each at least one token long). */
export function sourceFeed(srcs: readonly Int32Array[]): FeedValue {
  const B = srcs.length;
  const Ts = Math.max(...srcs.map((s) => s.length));
  const data = new Int32Array(Ts * B).fill(PAD);
  srcs.forEach((s, b) => s.forEach((id, t) => (data[t * B + b] = id)));
  return { data: new Tensor(data, [Ts, B]), lengths: srcs.map((s) => s.length) };
}

/** A teacher-forced training batch. */
export function trainBatch(srcs: readonly Int32Array[], tgts: readonly Int32Array[]): GraphBatch {
  const B = srcs.length;
  const Tt = Math.max(...tgts.map((t) => t.length)) + 1;
  const x = new Int32Array(Tt * B).fill(PAD);
  const y = new Int32Array(Tt * B).fill(-1);
  tgts.forEach((tg, b) => {
    x[b] = BOS;
    tg.forEach((id, t) => {
      x[(t + 1) * B + b] = id;
      y[t * B + b] = id;
    });
    y[tg.length * B + b] = EOS;
  });
  return {
    inputs: { src: sourceFeed(srcs), tgt: { data: new Tensor(x, [Tt, B]), lengths: tgts.map((t) => t.length + 1) } },
    targets: { logits: new Tensor(y, [Tt, B]) },
  };
}

/** log softmax of row r of (B, V) logits, in f64. */
export function logSoftmaxRow(logits: Float32Array, r: number, V: number): Float64Array {
  const out = new Float64Array(V);
  let mx = -Infinity;
  for (let v = 0; v < V; v++) mx = Math.max(mx, logits[r * V + v]);
  let z = 0;
  for (let v = 0; v < V; v++) z += Math.exp(logits[r * V + v] - mx);
  const lz = mx + Math.log(z);
  for (let v = 0; v < V; v++) out[v] = logits[r * V + v] - lz;
  return out;
}

/** Indices of items grouped into chunks of similar length (order within the result restored by the caller). */
export function chunksByLength(lengths: readonly number[], size: number): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a] - lengths[b] || a - b);
  const out: number[][] = [];
  for (let i = 0; i < order.length; i += size) out.push(order.slice(i, i + size));
  return out;
}
