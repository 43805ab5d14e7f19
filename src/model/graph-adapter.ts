// The graph of a layer or a Sequential (issue 22: the graph is the only engine): a chain of nodes
// wrapping the very modules the layers are made of (an rwkv7 layer becomes the graph's rwkv7 node
// with the same stack), named so that the graph's parameter arena is
// the model's — same names (`0.weight_ih_l0`, or `weight_ih_l0` for a standalone layer), same order,
// same initial values for a seed — and computes what the former Sequential runner computed, bit for
// bit (the engine fixtures, test/model/engine-fixtures.test.ts).
// The model's own layouts are translated at the boundary: batch-first tensors are transposed,
// initial and final states (numStates, B, W) over every recurrent layer become one vector input
// `h0_<i>` / `c0_<i>` and one output `hN_<i>` / `cN_<i>` (B, S·H) per recurrent layer i, and a
// trailing softmax is left out of training through the `logits` output (folded into the loss).
// The translation (modelFeed, modelResult, modelBatch) is written once here for the model and the
// worker pool, which runs the same graph on its workers.
import { GraphModel } from '../graph/model';
import { GNode, InputNode, input, type Sym } from '../graph/nodes';
import type { Layer, Module } from '../layers/module';
import { RecurrentCore } from '../layers/recurrent';
import { EmbeddingModule } from '../layers/dense';
import { Rwkv7Module } from '../layers/rwkv7';
import { Tensor } from '../tensor';
import { ValueError } from '../errors';
import type { Feed } from '../graph/feed';
import type { GraphBatch } from '../graph/losses';
import type { Batch, LossKind, RunResult } from './contract';

/** One recurrent layer's state input and output of one kind in the graph, and its slots in the model's (numStates, B, W) tensors. */
export interface StatePort {
  kind: 'h' | 'c';
  /** The recurrent layer's node (`l<i>`). */
  node: string;
  input: string;
  output: string;
  /** First slot of this layer among the kind's slots, and its slots (layers · directions). */
  base: number;
  S: number;
  H: number;
}

export interface ModelGraph {
  graph: GraphModel;
  states: StatePort[];
  /** Output the losses read: `logits` when the stack ends with softmax layers, else `output`. */
  trained: string;
  batchFirst: boolean;
  /** Steps' features of the input (1 for token ids). */
  inFeatures: number;
}

/** The chain graph of `modules` (parameters prefixed `<index>.` when `prefixed`). */
export function modelGraph(modules: Layer[], inFeatures: number, batchFirst: boolean, prefixed: boolean, seed?: number): ModelGraph {
  const first = modules[0];
  const x = first instanceof EmbeddingModule ? input('x', { type: 'ids', vocabSize: first.numEmbeddings }) : input('x', { type: 'float', features: inFeatures });
  const axis = x.node as InputNode;
  const inputs: Sym[] = [x];
  const outputs: Record<string, Sym> = {};
  const states: StatePort[] = [];
  const base = { h: 0, c: 0 };
  let cur = x;
  let logits: Sym | null = null;
  modules.forEach((m, i) => {
    const tail = m.kind === 'softmax' || m.kind === 'logSoftmax';
    if (tail && logits === null) logits = cur;
    if (!tail) logits = null; // softmax only counts at the end
    let n: GNode;
    if (m instanceof RecurrentCore) {
      const S = m.numLayers * m.directions;
      const H = m.hiddenSize;
      const nodeInputs = [cur];
      const init: Record<string, number> = {};
      const kinds: ('h' | 'c')[] = m.cell.hasCellState ? ['h', 'c'] : ['h'];
      for (const k of kinds) {
        const v = input(`${k}0_${i}`, { type: 'vector', features: S * H });
        init[k] = nodeInputs.length;
        nodeInputs.push(v);
        inputs.push(v);
        states.push({ kind: k, node: `l${i}`, input: `${k}0_${i}`, output: `${k}N_${i}`, base: base[k], S, H });
        base[k] += S;
      }
      n = new GNode(m.kind, `l${i}`, nodeInputs, m, { init });
      cur = n.port('seq', m.outputSize, axis);
      outputs[`hN_${i}`] = n.port('vec', S * H, null);
      if (m.cell.hasCellState) outputs[`cN_${i}`] = n.port('vec', S * H, null);
    } else if (m instanceof Rwkv7Module) {
      // the graph's rwkv7 node, as graph.rwkv7 builds it (no module: its emitter and parameters come from the stack)
      n = new GNode('rwkv7', `l${i}`, [cur], null, { stack: m.stack });
      cur = n.port('seq', m.outFeatures(cur.features), axis);
    } else {
      // every other layer emits itself (Sequential accepts only these and the rwkv7 layer)
      n = new GNode(m.kind, `l${i}`, [cur], m as Module);
      cur = n.port('seq', m.outFeatures(cur.kind === 'ids' ? 1 : cur.features), axis);
    }
    n.paramPrefix = prefixed ? `${i}.` : '';
  });
  outputs.output = cur;
  if (logits !== null && (logits as Sym).kind !== 'ids') outputs.logits = logits;
  const graph = new GraphModel({ inputs, outputs, seed });
  return { graph, states, trained: outputs.logits ? 'logits' : 'output', batchFirst, inFeatures: x.kind === 'ids' ? 1 : inFeatures };
}

/** (d0, d1, F) → (d1, d0, F): batch-first ↔ time-major (a copy). */
export function swap01<A extends Float32Array | Int32Array>(a: A, d0: number, d1: number, F: number): A {
  const out = new (a.constructor as new (n: number) => A)(a.length);
  for (let i = 0; i < d0; i++) for (let j = 0; j < d1; j++) out.set(a.subarray((i * d1 + j) * F, (i * d1 + j + 1) * F), (j * d0 + i) * F);
  return out;
}

/** Width of a kind's state tensors (the widest layer's H) and its number of slots. */
export function stateShape(mg: ModelGraph, kind: 'h' | 'c'): { S: number; W: number } {
  const ps = mg.states.filter((p) => p.kind === kind);
  return { S: ps.reduce((a, p) => a + p.S, 0), W: Math.max(0, ...ps.map((p) => p.H)) };
}

/** The state inputs of a batch of B from the model's (numStates, B, W) tensors (zeros when absent). */
export function stateFeed(mg: ModelGraph, B: number, h0?: Float32Array, c0?: Float32Array): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const p of mg.states) {
    const src = p.kind === 'h' ? h0 : c0;
    const { W } = stateShape(mg, p.kind);
    const v = new Float32Array(B * p.S * p.H);
    if (src) for (let k = 0; k < p.S; k++) for (let b = 0; b < B; b++) v.set(src.subarray(((p.base + k) * B + b) * W, ((p.base + k) * B + b) * W + p.H), (b * p.S + k) * p.H);
    out[p.input] = new Tensor(v, [B, p.S * p.H]);
  }
  return out;
}

/** The model's (numStates, B, W) tensor of a kind from the graph's per-layer (B, S·H) values (undefined when the model has none). */
export function gatherStates(mg: ModelGraph, kind: 'h' | 'c', B: number, values: (p: StatePort) => Float32Array): Tensor | undefined {
  const ps = mg.states.filter((p) => p.kind === kind);
  if (!ps.length) return undefined;
  const { S, W } = stateShape(mg, kind);
  const out = new Float32Array(S * B * W);
  for (const p of ps) {
    const v = values(p);
    for (let k = 0; k < p.S; k++) for (let b = 0; b < B; b++) out.set(v.subarray((b * p.S + k) * p.H, (b * p.S + k + 1) * p.H), ((p.base + k) * B + b) * W);
  }
  return new Tensor(out, [S, B, W]);
}

/** The model's (numStates, B, W) tensor of a kind from each layer's slots as (B, H) blocks in slot order (undefined when the model has none). */
export function gatherSlots(mg: ModelGraph, kind: 'h' | 'c', B: number, blocks: (p: StatePort) => Float32Array[]): Tensor | undefined {
  return gatherStates(mg, kind, B, (p) => {
    const v = new Float32Array(B * p.S * p.H);
    blocks(p).forEach((blk, k) => {
      for (let b = 0; b < B; b++) v.set(blk.subarray(b * p.H, (b + 1) * p.H), (b * p.S + k) * p.H);
    });
    return v;
  });
}

/** The graph's (B, S·H) values of every layer of a kind from the model's (numStates, B, W) tensor. */
export function scatterStates(mg: ModelGraph, kind: 'h' | 'c', B: number, t: Float32Array | undefined, name: (p: StatePort) => string): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  if (!t) return out;
  const feed = stateFeed(mg, B, kind === 'h' ? t : undefined, kind === 'c' ? t : undefined);
  for (const p of mg.states) if (p.kind === kind) out[name(p)] = feed[p.input].data as Float32Array;
  return out;
}

/** A sequence tensor in the graph's time-major layout. */
export function timeMajor<A extends Float32Array | Int32Array>(mg: ModelGraph, data: A, T: number, B: number, F: number): A {
  return mg.batchFirst && T > 1 ? swap01(data, B, T, F) : data;
}

/** A model's inputs as the graph's feed (time-major; states as one vector input per recurrent layer). */
export function modelFeed(mg: ModelGraph, x: Tensor<Float32Array> | Tensor<Int32Array>, T: number, B: number, lengths?: ArrayLike<number>, h0?: Float32Array, c0?: Float32Array): Feed {
  const F = mg.inFeatures;
  const ids = x.data instanceof Int32Array;
  const xt = new Tensor(timeMajor(mg, x.data, T, B, F), ids ? [T, B] : [T, B, F]) as Tensor<Float32Array> | Tensor<Int32Array>;
  return { x: lengths ? { data: xt, lengths } : xt, ...stateFeed(mg, B, h0, c0) };
}

/** The graph's outputs as a model's forward result (its layout; hN/cN undefined without such states). */
export function modelResult(mg: ModelGraph, outs: Record<string, Tensor>, T: number, B: number): RunResult {
  const out = outs.output;
  const O = out.shape[out.shape.length - 1];
  const data = out.data as Float32Array;
  const output = mg.batchFirst ? new Tensor(T > 1 ? swap01(data, T, B, O) : data, [B, T, O]) : out;
  const states = (kind: 'h' | 'c') => gatherStates(mg, kind, B, (p) => outs[p.output].data as Float32Array);
  return { output, hN: states('h')!, cN: states('c') };
}

/** A model's batch (checked by checkBatch) as the graph's batch: its inputs and the trained output's targets. */
export function modelBatch(mg: ModelGraph, batch: Batch, T: number, B: number, lengths: ArrayLike<number> | undefined, O: number, loss: LossKind): GraphBatch {
  const ce = loss === 'crossEntropy';
  const y = batch.y;
  const yt = new Tensor(timeMajor(mg, y.data, T, B, ce ? 1 : O), ce ? [T, B] : [T, B, O]) as Tensor<Float32Array> | Tensor<Int32Array>;
  return { inputs: modelFeed(mg, batch.x, T, B, lengths, batch.h0, batch.c0), targets: { [mg.trained]: yt } };
}

/** Training needs trainable layers, with softmax only at the end (folded into the loss). */
export function checkTrainable(mods: readonly Layer[]): void {
  let n = mods.length;
  while (n > 0 && (mods[n - 1].kind === 'softmax' || mods[n - 1].kind === 'logSoftmax')) n--;
  if (n === 0) throw new ValueError('Expected a model with trainable layers, got only softmax');
  for (let i = 1; i < n; i++) {
    const k = mods[i].kind;
    if (k === 'softmax' || k === 'logSoftmax') throw new ValueError(`Expected softmax only at the end of a trained model, got it at layer ${i}`);
  }
}
