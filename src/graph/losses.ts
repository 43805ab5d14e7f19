// The losses of a graph's outputs: option checks, target validation (whole call before any write)
// and writing targets with each output's valid steps (its time axis' lengths) as the mask.
import type { Runtime } from '../wasm/load';
import type { LossKind } from '../model/contract';
import type { Optimizer } from '../train/optim';
import { Tensor } from '../tensor';
import { DTypeError, ShapeError, ValueError, show } from '../errors';
import type { InputNode, Sym } from './nodes';
import type { LossSlot, Shape } from './compile';
import type { Feed } from './model';
import { valuesScanned } from './feed';

/** The loss of one graph output: its kind, or its kind and weight in the total loss (default 1). */
export type LossOption = LossKind | { loss: LossKind; weight?: number };

/**
 * One batch for a graph model's `trainStep` and `evaluate`: the inputs by name and the targets of the outputs
 * that have a loss.
 */
export interface GraphBatch {
  /** The model's inputs by name, with their lengths. */
  inputs: Feed;
  /** Per loss output: crossEntropy Int32 class ids ((T, B) for sequences, (B) for vectors; −1 = ignore); mse / bceWithLogits floats shaped like the output. */
  targets: Record<string, Tensor<Float32Array> | Tensor<Int32Array>>;
}

export interface ResolvedLoss {
  name: string;
  sym: Sym;
  /** The value the loss reads (a softmax output's input for crossEntropy). */
  y: Sym;
  loss: LossKind;
  weight: number;
}

const KINDS = ['crossEntropy', 'mse', 'bceWithLogits'];

export function lossSpecs(opts: Record<string, LossOption>, outputs: Map<string, Sym>): ResolvedLoss[] {
  if (opts === null || typeof opts !== 'object' || !Object.keys(opts).length) throw new ValueError(`Expected losses as { output: 'crossEntropy' | 'mse' | 'bceWithLogits' | { loss, weight } }, got ${show(opts)}`);
  return Object.entries(opts).map(([name, o]) => {
    const sym = outputs.get(name);
    if (!sym) throw new ValueError(`Expected losses on outputs ${[...outputs.keys()].join(', ')}, got unknown ${name}`);
    if (sym.kind === 'weights') throw new ValueError(`Expected a loss on a sequence or vector output, got one on the attention weights ${name}`);
    const loss = typeof o === 'string' ? o : o?.loss;
    const weight = typeof o === 'string' ? 1 : o.weight ?? 1;
    if (!KINDS.includes(loss as string)) throw new ValueError(`Expected loss of ${name} to be one of ${KINDS.join(', ')}, got ${show(loss)}`);
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) throw new ValueError(`Expected loss weight of ${name} to be a finite number >= 0, got ${show(weight)}`);
    const fused = loss === 'crossEntropy' && (sym.node.kind === 'softmax' || sym.node.kind === 'logSoftmax');
    return { name, sym, y: fused ? sym.node.inputs[0] : sym, loss: loss as LossKind, weight };
  });
}

/** Rows of a value: (T, B) for sequences, (B) for vectors. */
function lead(y: Sym, shape: Shape): number[] {
  return y.kind === 'vec' ? [shape.B] : [shape.T.get(y.axis as InputNode)!, shape.B];
}

export function checkTargets(targets: GraphBatch['targets'], specs: ResolvedLoss[], shape: Shape): void {
  if (targets === null || typeof targets !== 'object') throw new ValueError(`Expected targets as { output: tensor }, got ${show(targets)}`);
  for (const k of Object.keys(targets)) if (!specs.some((s) => s.name === k)) throw new ValueError(`Expected targets only for outputs with a loss, got ${k}`);
  for (const s of specs) {
    const t = targets[s.name];
    if (!(t instanceof Tensor)) throw new DTypeError(`Expected targets.${s.name} as a Tensor, got ${show(t)}`);
    const L = lead(s.y, shape);
    const W = s.y.features;
    if (s.loss === 'crossEntropy') {
      if (!(t.data instanceof Int32Array)) throw new DTypeError(`Expected targets.${s.name} as an Int32Array tensor of class ids, got ${t.data.constructor.name}`);
      if (t.shape.join() !== L.join()) throw new ShapeError(`Expected targets.${s.name} of shape [${L.join(', ')}], got [${t.shape.join(', ')}]`);
      if (!valuesScanned()) for (let i = 0; i < t.data.length; i++) {
        if (t.data[i] < -1 || t.data[i] >= W) throw new ValueError(`Expected class ids in [0, ${W}) or −1 in targets.${s.name}, got ${t.data[i]} at index ${i}`);
      }
    } else {
      if (!(t.data instanceof Float32Array)) throw new DTypeError(`Expected targets.${s.name} as a Float32Array tensor, got ${t.data.constructor.name}`);
      if (t.shape.join() !== [...L, W].join()) throw new ShapeError(`Expected targets.${s.name} of shape [${[...L, W].join(', ')}], got [${t.shape.join(', ')}]`);
      if (!valuesScanned()) for (let i = 0; i < t.data.length; i++) if (!Number.isFinite(t.data[i])) throw new ValueError(`Expected finite targets.${s.name}, got ${t.data[i]} at index ${i}`);
    }
  }
}

/** Writes one output's targets (steps past the axis' lengths ignored); returns the counted targets. */
export function writeTargets(rt: Runtime, slot: LossSlot, t: Tensor<Float32Array> | Tensor<Int32Array>, loss: LossKind, shape: Shape, parts: Map<InputNode, { lengths?: ArrayLike<number> }>): number {
  const heap = rt.heap;
  const B = shape.B;
  const lengths = slot.axis ? parts.get(slot.axis)?.lengths : undefined;
  const valid = (row: number): boolean => !lengths || Math.floor(row / B) < lengths[row % B];
  let count = 0;
  if (loss === 'crossEntropy') {
    const src = t.data as Int32Array;
    for (let r = 0; r < slot.rows; r++) {
      const v = valid(r) ? src[r] : -1;
      heap.i32[slot.targets + r] = v;
      if (v >= 0) count++;
    }
    return count;
  }
  heap.f32.set(t.data as Float32Array, slot.targets);
  const W = slot.width;
  for (let r = 0; r < slot.rows; r++) {
    const on = valid(r) ? 1 : 0;
    heap.f32.fill(on, slot.mask + r * W, slot.mask + (r + 1) * W);
    count += on * W;
  }
  return count;
}

export function checkStepOptions(o: { optimizer: Optimizer; clipNorm?: number; clipValue?: number }): void {
  if (o === null || typeof o !== 'object') throw new ValueError(`Expected step options, got ${show(o)}`);
  if (!o.optimizer || typeof (o.optimizer as Optimizer).apply !== 'function') throw new ValueError(`Expected an optimizer (new Adam(), SGD, …), got ${show(o.optimizer)}`);
  for (const k of ['clipNorm', 'clipValue'] as const) {
    const v = o[k];
    if (v !== undefined && !(typeof v === 'number' && v > 0 && Number.isFinite(v))) throw new ValueError(`Expected ${k} to be a positive number, got ${show(v)}`);
  }
}
