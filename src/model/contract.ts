// The contract of a training call, in one place for the Trainer and the WorkerPool: the loss
// name, the step options (clipping, tbptt, onNonFinite, the optimizer and the learning rates its
// schedule gives for every update the call will make) and the batch (inputs, lengths, initial
// states, targets). Everything is checked before the first side effect of a call.
import type { Runner } from './runner';
import { checkLengths, checkOptionsObject, describe } from './runner';
import type { Arena } from '../params/arena';
import { Optimizer } from '../train/optim';
import { Tensor } from '../tensor';
import { DTypeError, ShapeError, ValueError } from '../errors';
import type { Batch, LossKind, StepOptions } from './trainer';

const LOSSES: readonly LossKind[] = ['crossEntropy', 'mse', 'bceWithLogits'];

/** Throws a ValueError unless `loss` names a loss. */
export function checkLoss(loss: unknown): asserts loss is LossKind {
  if (!LOSSES.includes(loss as LossKind)) throw new ValueError(`Expected loss 'crossEntropy', 'mse' or 'bceWithLogits', got ${describe(loss)}`);
}

/**
 * Checks the step options of a call that makes `updates` optimizer steps on `arena`: every value,
 * that the optimizer may be bound to this arena, and the learning rate of each of those steps.
 */
export function checkStepOptions(o: StepOptions, arena: Arena, updates: number): void {
  if (o === null || typeof o !== 'object') throw new ValueError(`Expected step options { loss, optimizer }, got ${describe(o)}`);
  checkLoss(o.loss);
  if (!(o.optimizer instanceof Optimizer)) throw new ValueError(`Expected an optimizer (new Adam(), SGD, …), got ${describe(o.optimizer)}`);
  for (const k of ['clipNorm', 'clipValue'] as const) {
    const v = o[k];
    if (v !== undefined && !(typeof v === 'number' && v > 0 && Number.isFinite(v))) throw new ValueError(`Expected ${k} to be a positive number, got ${describe(v)}`);
  }
  if (o.tbptt !== undefined && !(Number.isInteger(o.tbptt) && o.tbptt >= 1)) throw new ValueError(`Expected tbptt to be a positive integer, got ${describe(o.tbptt)}`);
  if (o.onNonFinite !== undefined && o.onNonFinite !== 'throw' && o.onNonFinite !== 'skip') {
    throw new ValueError(`Expected onNonFinite 'throw' or 'skip', got ${describe(o.onNonFinite)}`);
  }
  o.optimizer.checkBindable(arena);
  for (let i = 0; i < updates; i++) o.optimizer.checkedLr(o.optimizer.step + i);
}

/** Output width of the trained graph (a trailing softmax/logSoftmax is folded into the loss). */
export function trainedWidth(r: Runner): number {
  let f = r.inFeatures;
  for (const mod of r.modules) {
    if (mod.kind === 'softmax' || mod.kind === 'logSoftmax') break;
    f = mod.outFeatures(f);
  }
  return f;
}

/** Checks a batch for a loss; returns its (T, B), lengths and output width. */
export function checkBatch(r: Runner, batch: Batch, loss: LossKind): { T: number; B: number; lengths?: ArrayLike<number>; O: number } {
  checkLoss(loss);
  if (batch === null || typeof batch !== 'object') throw new ValueError(`Expected a batch { x, y, lengths? }, got ${describe(batch)}`);
  checkOptionsObject(batch, 'batch');
  const { T, B } = r.inputDims(batch.x);
  const lengths = checkLengths(batch.lengths, T, B);
  r.checkStates(batch.h0, batch.c0, B);
  const O = trainedWidth(r);
  const y = batch.y;
  if (!(y instanceof Tensor)) throw new DTypeError(`Expected targets y as a Tensor, got ${describe(y)}`);
  const lead = r.batchFirst ? [B, T] : [T, B];
  const shape = loss === 'crossEntropy' ? lead : [...lead, O];
  const ce = loss === 'crossEntropy';
  if (ce ? !(y.data instanceof Int32Array) : !(y.data instanceof Float32Array)) {
    throw new DTypeError(ce ? `Expected crossEntropy targets y as an Int32Array tensor of class ids, got ${describe(y.data)}` : `Expected ${loss} targets y as a Float32Array tensor, got ${describe(y.data)}`);
  }
  if (y.shape.length !== shape.length || y.shape.some((d, i) => d !== shape[i])) {
    throw new ShapeError(`Expected targets y of shape [${shape.join(', ')}], got [${y.shape.join(', ')}]`);
  }
  const n = shape.reduce((a, d) => a * d, 1);
  if (ce) {
    if (y.data.length !== n) throw new ShapeError(`Expected targets y.data to hold ${n} elements, got ${y.data.length}`);
    for (let i = 0; i < n; i++) {
      const v = y.data[i];
      if (v < -1 || v >= O) throw new ValueError(`Expected class ids in [0, ${O}) or −1 (ignore) in targets y, got ${v} at index ${i}`);
    }
  } else {
    if (y.data.length !== n) throw new ShapeError(`Expected targets y.data to hold ${n} elements, got ${y.data.length}`);
    for (let i = 0; i < n; i++) if (!Number.isFinite(y.data[i])) throw new ValueError(`Expected finite targets y, got ${y.data[i]} at index ${i}`);
  }
  return { T, B, lengths, O };
}
