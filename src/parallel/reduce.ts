// The main thread's half of the WorkerPool's data-parallel step: per-shard dropout
// generators derived from the model's, and the reduction Σ_k w_k·∇_k of the shards' gradients into
// a gradient buffer followed by the one clipped optimizer step (clipAndStep), under a StepGuard.
// The buffers live in the model's heap and are released with the pool (or by its finalizer).
import type { Runtime } from '../wasm/load';
import type { Arena } from '../params/arena';
import { clipAndStep } from '../train/guard';
import { StepGuard, paramsFinite, type GuardTarget } from '../train/guard';
import type { Optimizer } from '../train/optim';
import type { RngState } from './protocol';

/** The pool's own wasm blocks (in its model's heap) and step guard. */
export interface PoolMemory {
  readonly runner: GuardTarget & { readonly isDisposed: boolean };
  grad: number;
  scratch: number;
  guard: StepGuard | null;
}

export const poolMemory = (runner: PoolMemory['runner']): PoolMemory => ({ runner, grad: 0, scratch: 0, guard: null });

/** Releases a pool's blocks once (left alone once its model was disposed: the heap took them back). */
export function releaseMemory(mem: PoolMemory): void {
  // the blocks live in the runtime's heap, which outlives the model: they are released even when
  // the model was disposed (or finalized) first — skipping them then leaked them for good
  const heap = mem.runner.rt.heap;
  if (mem.grad) heap.release(mem.grad);
  if (mem.scratch) heap.release(mem.scratch);
  mem.guard?.dispose();
  mem.grad = mem.scratch = 0;
  mem.guard = null;
}

/** The finalizer's release function, made outside the pool so that it refers to no pool. */
export function releaser(mem: PoolMemory): () => void {
  return () => releaseMemory(mem);
}

/**
 * One dropout generator state per shard, derived from the model's generator, which then moves on:
 * training through a pool is reproducible for a given seed and worker count (the masks differ from
 * a single-thread step's, as any data-parallel split's do).
 */
export function shardRngs(target: Pick<GuardTarget, 'dropoutRngState'>, n: number): RngState[] {
  const s = target.dropoutRngState;
  const derive = (salt: number): RngState => {
    const w = s.map((v, i) => mix32(v ^ mix32(salt * 4 + i + 1))) as RngState;
    if (w.every((v) => v === 0)) w[0] = 1; // xoshiro's one forbidden state
    return w;
  };
  const out = Array.from({ length: n }, (_, k) => derive(k));
  target.dropoutRngState = derive(0x9e3779b9);
  return out;
}

/** murmur3's 32-bit finaliser: a bijective mix, so distinct inputs give distinct words. */
function mix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Σ_k weights[k]·grads[k] into the pool's gradient buffer (wasm kernels over the arena), then
 * clipping and one optimizer step as a model's trainStep does. Returns the pre-clip global norm.
 */
export function reduceAndStep(mem: PoolMemory, weights: number[], grads: Float32Array[], o: { optimizer: Optimizer; clipNorm?: number; clipValue?: number }): number {
  const { rt, arena } = mem.runner as { rt: Runtime; arena: Arena };
  const n = arena.size;
  const heap = rt.heap;
  const k = rt.k;
  if (!mem.grad) mem.grad = heap.alloc(n);
  if (!mem.scratch && grads.length > 1) mem.scratch = heap.alloc(n);
  heap.write(mem.grad, grads[0]);
  k.scale_f32(mem.grad, weights[0], n);
  for (let i = 1; i < grads.length; i++) {
    heap.write(mem.scratch, grads[i]);
    k.scale_f32(mem.scratch, weights[i], n);
    k.add_f32(mem.grad, mem.grad, mem.scratch, n);
  }
  return clipAndStep(k, mem.grad, n, o, () => paramsFinite(mem.runner));
}
