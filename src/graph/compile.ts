// Compiles a graph (nodes in topological order) for one shape — the steps of each sequence input,
// the batch, which inputs carry lengths — into the op-list programs of src/ir/program.ts:
// inference (one program), training (zero the gradients, forward keeping activations, every
// output's loss, backward in reverse node order: one program, one wasm call per step), and the
// public backward (forward and backward as two programs over the same buffers).
// Gradients of values flow by buffer: the first consumer's gradient buffer becomes the value's,
// later consumers add into it (ADD), so a chain compiles to exactly Sequential's ops.
import type { BackwardContext, EmitContext, Module, StateSlot } from '../layers/module';
import type { RecurrentCore } from '../layers/recurrent';
import { isCellKind } from '../layers/cells';
import type { Arena } from '../params/arena';
import { MeasuringBuilder, ProgramBuilder } from '../ir/program';
import type { Runtime } from '../wasm/load';
import type { QuantWeight } from '../model/quantize';
import type { LossKind } from '../model/contract';
import { GNode, InputNode, Sym } from './nodes';
import { emitAttention } from './attention';
import { emitRwkv7 } from './rwkv7';
import { ROW_EMITTERS } from './row-nodes';

export interface Shape {
  /** Steps per sequence input. */
  T: Map<InputNode, number>;
  B: number;
  /** Sequence inputs that carry lengths. */
  lens: Set<InputNode>;
}

export interface LossSpec {
  name: string;
  sym: Sym;
  loss: LossKind;
}

export interface LossSlot {
  name: string;
  slot: number; // [f64 sum | f32 scale | pad]
  targets: number;
  mask: number; // mse / bce
  rows: number;
  width: number;
  axis: InputNode | null;
}

/** Everything the host reads and writes around a compiled program. */
export interface Compiled {
  b: ProgramBuilder;
  /** Step programs: the once-per-start part (context nodes, initial states); `b` is the step. */
  pre: ProgramBuilder | null;
  stepNodes: Set<GNode> | null;
  carried: [number, number][];
  /** Every recurrent node's state slots (init / final blocks; truncated BPTT carries them). */
  states: Map<GNode, StateSlot[]>;
  /** Staging buffer of each input (floats or ids) and of each input's lengths. */
  inputs: Map<InputNode, number>;
  lens: Map<InputNode, number>;
  /** Forward value of every port. */
  values: Map<Sym, number>;
  /** Word index where the backward starts (tape programs). */
  split: number;
  losses: LossSlot[];
  /** Tape programs: seeded output gradients (staging) and input gradients. */
  dSeeds: Map<Sym, number>;
  dInputs: Map<InputNode, number>;
}

export interface Env {
  b: ProgramBuilder;
  shape: Shape;
  arena: Arena;
  grad: number; // gradient arena base (0: inference)
  rngState: number;
  training: boolean;
  dropout: boolean;
  lens: Map<InputNode, number>;
  values: Map<Sym, number>;
  grads: Map<Sym, number>;
  /** Tape programs: inputs' gradients are wanted. */
  inputGrads: boolean;
  /** Step programs: the nodes that run once per step (the rest run once, in `pre`). */
  stepNodes: Set<GNode> | null;
  /** Step programs: the builder of the once-per-start part (context and initial states). */
  pre: ProgramBuilder | null;
  /** Step programs: the (B, H) state blocks carried from step to step ([offset, H]). */
  carried: [number, number][];
  /** Truncated-BPTT chunks after the first: recurrent nodes start from states the host writes (no initialState copies, no gradient to their sources). */
  carry: boolean;
  /** Every recurrent node's state slots (init / final blocks), for the host to carry between chunks. */
  states: Map<GNode, StateSlot[]>;
  /** Inference and step programs of a quantized model: the int8 copy of a parameter (full name). */
  quant?: (name: string) => QuantWeight | undefined;
  /** Batch-1 step programs: a kept packed copy of a parameter (src/model/packs.ts), for the step nodes. */
  packed?: PackedCopy;
}

/** The offset of a packed copy of parameter `name` (N, K) for a program that `b` builds (Packs.get). */
export type PackedCopy = (b: ProgramBuilder, name: string, N: number, K: number, apart: number) => number;

const rowsOf = (env: Env, s: Sym): number => (s.kind === 'vec' ? env.shape.B : env.shape.T.get(s.axis!)! * env.shape.B);
const sizeOf = (env: Env, s: Sym): number => rowsOf(env, s) * (s.kind === 'weights' ? 0 : s.features);

/** Adds a gradient buffer (contiguous, the value's full size) to a value's gradient. */
export function addGrad(env: Env, s: Sym, off: number): void {
  const g = env.grads.get(s);
  if (g === undefined) env.grads.set(s, off);
  else env.b.add(g, off, sizeOf(env, s));
}

/** The gradient of a value, or a zero buffer (filled by the program itself) when nothing flowed into it. */
export function gradOf(env: Env, s: Sym): number {
  let g = env.grads.get(s);
  if (g === undefined) {
    const n = sizeOf(env, s);
    g = env.b.alloc(n);
    env.b.fill(g, 0, n);
    env.grads.set(s, g);
  }
  return g;
}

/** Whether a value needs its gradient: anything but an input, unless input gradients are wanted. */
export const wantsGrad = (env: Env, s: Sym): boolean => s.kind !== 'ids' && (!(s.node instanceof InputNode) || env.inputGrads);

function moduleContext(env: Env, n: GNode, T: number, lens: number): EmitContext {
  const p = (name: string): string => n.paramPrefix + name;
  const b = env.b;
  return {
    b, T, B: env.shape.B, lens, streaming: env.stepNodes?.has(n) ?? false, training: env.training, dropout: env.dropout, rngState: env.rngState,
    param: (name) => env.arena.offsetOf(p(name)),
    // recurrent and linear modules read int8 copies in inference (a layer's too: it runs on its graph); the rest never ask
    quant: env.quant && !env.training ? (name) => env.quant!(p(name)) : undefined,
    // a batch-1 step reads packed copies of the step nodes' weights, as a Sequential stream does
    // (and a one-row inference over a long sequence reads them for every node, as a layer's does)
    packed: env.packed && !env.training && (env.stepNodes?.has(n) ?? true) ? (name, N, K, apart = 0) => env.packed!(b, p(name), N, K, apart) : undefined,
    optParam: (name) => (env.arena.has(p(name)) ? env.arena.offsetOf(p(name)) : 0),
  };
}

export type Backward = () => void;

/** What every emitter gets: the node's first input, its value, its steps and lengths, the output port. */
export interface At {
  x: Sym;
  xv: number;
  T: number;
  lens: number;
  out: Sym;
  bctx: (m: Module) => BackwardContext;
}

/** Emits one node's forward; returns its backward emitter (training / tape programs). */
function emitNode(env: Env, n: GNode): Backward | null {
  const x = n.inputs[0];
  const T = x && x.kind !== 'vec' ? env.shape.T.get(x.axis!)! : 1;
  const lens = x?.axis ? env.lens.get(x.axis) ?? 0 : 0;
  const bctx = (m: Module): BackwardContext => {
    const ctx = moduleContext(env, n, T, lens);
    const pre = (name: string): string => n.paramPrefix + name;
    return {
      b: env.b, param: ctx.param, optParam: ctx.optParam,
      grad: (name: string) => env.grad + env.arena.entry(pre(name)).rel,
      optGrad: (name: string) => (env.arena.has(pre(name)) ? env.grad + env.arena.entry(pre(name)).rel : 0),
      needInputGrad: m.inputKind === 'float' && wantsGrad(env, x),
    };
  };
  const at: At = { x, xv: x ? env.values.get(x)! : 0, T, lens, out: n.ports[0], bctx };
  if (isCellKind(n.kind)) return emitRecurrent(env, n, T, lens, bctx);
  if (n.kind === 'attention') return emitAttention(env, n);
  if (n.kind === 'rwkv7') return emitRwkv7(env, n, at);
  if (n.module) return emitModule(env, n, at);
  const emit = ROW_EMITTERS[n.kind];
  if (!emit) throw new Error(`graph: no emitter for node kind ${n.kind}`);
  return emit(env, n, at);
}

/** embedding, linear, dropout, softmax, logSoftmax: the Sequential module over T·B (or B) rows. */
function emitModule(env: Env, n: GNode, { x, xv, T, lens, out, bctx }: At): Backward | null {
  const e = n.module!.emit(moduleContext(env, n, T, lens), xv, x.features);
  env.values.set(out, e.out);
  if (!env.training) return null;
  if (n.kind === 'softmax' || n.kind === 'logSoftmax') {
    return () => {
      const d = gradOf(env, out);
      env.b.softmaxBwd(d, d, e.out, T * env.shape.B, out.features, n.kind === 'logSoftmax' ? 1 : 0);
      if (wantsGrad(env, x)) addGrad(env, x, d);
    };
  }
  return () => {
    const dx = e.backward!(bctx(n.module!), gradOf(env, out));
    if (dx && wantsGrad(env, x)) addGrad(env, x, dx);
  };
}

/** A recurrent node: the module's kernels, initial states copied in from other nodes, hN / cN ports. */
function emitRecurrent(env: Env, n: GNode, T: number, lens: number, bctx: (m: Module) => BackwardContext): Backward | null {
  const { b } = env;
  const B = env.shape.B;
  const init = n.opts.init as Record<'h' | 'c', number>;
  const core = n.module as RecurrentCore;
  const H = core.hiddenSize;
  const ctx = moduleContext(env, n, T, lens);
  // a carried chunk starts from the host-written blocks: its sources do not reach it
  const src = (kind: 'h' | 'c'): Sym | undefined => (init[kind] === undefined || env.carry ? undefined : n.inputs[init[kind]]);
  const stateCols = (kind: 'h' | 'c'): number => src(kind)?.features ?? 0;
  // a step program loads initial states once per start (in `pre`), then carries them step to step
  const streaming = env.stepNodes?.has(n) ?? false;
  const lb = streaming ? env.pre! : b;
  ctx.loadState = (kind, index, at) => {
    const s = src(kind);
    if (s) lb.copyRows(at, H, env.values.get(s)! + index * H, s.features, B, H, 0);
    else if (streaming) lb.fill(at, 0, B * H);
    if (streaming) env.carried.push([at, H]);
  };
  const x = n.inputs[0];
  const e = core.emit(ctx, env.values.get(x)!, x.features);
  env.values.set(n.ports[0], e.out);
  env.states.set(n, e.states ?? []);
  // hN / cN ports: (B, S·H), slot k at columns [kH, (k+1)H)
  const slots = (kind: 'h' | 'c'): StateSlot[] => (e.states ?? []).filter((s) => s.kind === kind).sort((a, c) => a.index - c.index);
  const S = slots('h').length;
  const portOf = (kind: 'h' | 'c'): Sym | undefined => (kind === 'h' ? n.ports[1] : n.ports[2]);
  for (const kind of ['h', 'c'] as const) {
    const p = portOf(kind);
    if (!p) continue;
    const ss = slots(kind);
    if (S === 1) env.values.set(p, ss[0].final);
    else {
      const y = b.alloc(B * S * H);
      for (const s of ss) b.copyRows(y + s.index * H, S * H, s.final, H, B, H, 0);
      env.values.set(p, y);
    }
  }
  // inputs' states with no source start at 0 (their blocks were zeroed at allocation and the kernels never write them)
  if (!env.training) return null;
  return () => {
    const bc = bctx(core);
    const dFinal = (kind: 'h' | 'c', index: number): number => {
      const p = portOf(kind);
      if (!p || !env.grads.has(p)) return 0;
      const g = env.grads.get(p)!;
      if (S === 1) return g;
      const d = b.alloc(B * H);
      b.copyRows(d, H, g + index * H, S * H, B, H, 0);
      return d;
    };
    const dx = e.backward!({ ...bc, dFinal }, gradOf(env, n.ports[0]));
    if (dx && wantsGrad(env, x)) addGrad(env, x, dx);
    // initial states that came from other nodes: their gradient flows back there
    for (const kind of ['h', 'c'] as const) {
      const s = src(kind);
      if (!s || !wantsGrad(env, s)) continue;
      const cols = stateCols(kind);
      let g = env.grads.get(s);
      if (g === undefined) {
        g = b.alloc(B * cols);
        b.fill(g, 0, B * cols);
        env.grads.set(s, g);
      }
      for (const sl of slots(kind)) b.copyRows(g + sl.index * H, cols, sl.dInit!, H, B, H, 1);
    }
  };
}

export interface CompileOptions {
  mode: 'infer' | 'train' | 'tape' | 'step';
  /** Step programs: the input fed one step at a time. */
  stepInput?: InputNode;
  /** Gradient arena base (train / tape). */
  grad: number;
  rngState: number;
  /** Draw dropout masks. */
  dropout: boolean;
  losses?: LossSpec[];
  /** Tape: the outputs whose gradients the caller seeds. */
  seeds?: Sym[];
  /** A quantized model's int8 copies by parameter name (inference and step programs read them). */
  quant?: (name: string) => QuantWeight | undefined;
  /** Step programs of one row (the step nodes' weights) and one-row inference over a long sequence: kept packed copies. */
  packed?: PackedCopy;
  /** Training chunks after the first of a truncated-BPTT step (Env.carry). */
  carry?: boolean;
  /** Only count what the program would allocate (MeasuringBuilder: fake offsets, no memory touched). */
  measure?: boolean;
}

/** Compiles the nodes (topological order) for one shape. */
export function compileGraph(rt: Runtime, arena: Arena, nodes: GNode[], shape: Shape, o: CompileOptions): Compiled {
  const make = (): ProgramBuilder => (o.measure ? new MeasuringBuilder(rt) : new ProgramBuilder(rt));
  const b = make();
  const stepNodes = o.mode === 'step' ? dependents(nodes, o.stepInput!) : null;
  const pre = stepNodes ? make() : null;
  try {
    return emitGraph(b, pre, stepNodes, arena, nodes, shape, o);
  } catch (e) {
    // every buffer taken so far goes back to the heap
    b.abandon();
    pre?.abandon();
    throw e;
  }
}

/** Elements the programs of compileGraph(…, { measure: true }) would allocate, words included. */
export function measured(c: Compiled): number {
  const total = (x: ProgramBuilder | null) => (x ? (x.finish(), (x as MeasuringBuilder).total) : 0);
  return total(c.b) + total(c.pre);
}

function emitGraph(b: ProgramBuilder, pre: ProgramBuilder | null, stepNodes: Set<GNode> | null, arena: Arena, nodes: GNode[], shape: Shape, o: CompileOptions): Compiled {
  const training = o.mode === 'train' || o.mode === 'tape';
  const env: Env = {
    b: pre ?? b, shape, arena, grad: o.grad, rngState: o.rngState, training, dropout: o.dropout,
    lens: new Map(), values: new Map(), grads: new Map(), inputGrads: o.mode === 'tape', stepNodes, pre, carried: [],
    carry: o.carry === true, states: new Map(),
    quant: training ? undefined : o.quant,
    packed: o.mode === 'step' || o.mode === 'infer' ? o.packed : undefined,
  };
  const inputs = new Map<InputNode, number>();
  for (const n of nodes) {
    if (!(n instanceof InputNode)) continue;
    const p = n.ports[0];
    const off = b.alloc(sizeOf(env, p));
    inputs.set(n, off);
    env.values.set(p, off);
    if (shape.lens.has(n)) env.lens.set(n, b.alloc(shape.B));
  }
  // a training step starts by zeroing the gradient arena (the program is the whole step)
  if (o.mode === 'train') b.fill(o.grad, 0, arena.size);
  const backwards = nodes.map((n) => {
    env.b = stepNodes?.has(n) ? b : pre ?? b;
    return n instanceof InputNode ? null : emitNode(env, n);
  });
  env.b = b;
  const split = b.words.length;
  const losses: LossSlot[] = [];
  for (const l of o.losses ?? []) losses.push(emitLoss(env, l));
  const dSeeds = new Map<Sym, number>();
  for (const s of o.seeds ?? []) {
    if (s.kind === 'weights') continue;
    const off = b.alloc(sizeOf(env, s));
    dSeeds.set(s, off);
    addGrad(env, s, off);
  }
  if (training) {
    // reverse node order; a node none of whose outputs received a gradient contributes nothing
    for (let i = nodes.length - 1; i >= 0; i--) {
      const bw = backwards[i];
      if (bw && nodes[i].ports.some((p) => env.grads.has(p))) bw();
    }
  }
  const dInputs = new Map<InputNode, number>();
  if (o.mode === 'tape') for (const n of inputs.keys()) dInputs.set(n, env.grads.get(n.ports[0]) ?? 0);
  return { b, pre, inputs, lens: env.lens, values: env.values, split, losses, dSeeds, dInputs, stepNodes, carried: env.carried, states: env.states };
}

/** The nodes whose values depend on `input` (it included). */
function dependents(nodes: GNode[], input: InputNode): Set<GNode> {
  const dep = new Set<GNode>([input]);
  for (const n of nodes) if (n.inputs.some((s) => dep.has(s.node))) dep.add(n);
  return dep;
}

/** One output's loss op; crossEntropy on a softmax / logSoftmax output is fused with it (applied to its input). */
function emitLoss(env: Env, l: LossSpec): LossSlot {
  const { b } = env;
  let y = l.sym;
  if (l.loss === 'crossEntropy' && (y.node.kind === 'softmax' || y.node.kind === 'logSoftmax')) y = y.node.inputs[0];
  const rows = rowsOf(env, y);
  const W = y.features;
  const slot = b.alloc(4);
  const dy = b.alloc(rows * W);
  const yv = env.values.get(y)!;
  let targets: number;
  let mask = 0;
  if (l.loss === 'crossEntropy') {
    targets = b.alloc(rows);
    b.softmaxCe(dy, yv, targets, rows, W, slot);
  } else {
    targets = b.alloc(rows * W);
    mask = b.alloc(rows * W);
    b[l.loss === 'mse' ? 'mse' : 'bce'](dy, yv, targets, mask, rows * W, slot);
  }
  addGrad(env, y, dy);
  return { name: l.name, slot, targets, mask, rows, width: W, axis: y.kind === 'vec' ? null : y.axis };
}
