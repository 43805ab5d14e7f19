// WorkerPool: data parallelism over a model's batch axis. Each worker instantiates the Module the
// main thread already compiled and keeps a replica of the model; a call splits the batch into
// contiguous row shards, one per worker, and
//   forward   concatenates the shards' outputs and final states (rows are independent, so the
//             result is the single-thread result bit for bit);
//   trainStep sums the shards' gradients weighted by their share of the counted targets
//             (each worker returns ∇ of its own mean; Σ_k (c_k / C)·∇_k = ∇ of the batch mean),
//             then clips and takes ONE optimizer step on the main model; the next call ships
//             the new parameters.
// Parameters travel in a SharedArrayBuffer (copied in by the main thread once per call) or, where
// that is unavailable (pages without cross-origin isolation), as one copy per task.
import { STEP_KEYS } from '../model/contract';
import type { Model } from '../model/model';
import { GraphModel } from '../graph/model';
import { checkLengths, checkOptionsObject } from '../ir/checks';
import { RUN_KEYS, type RunOptions, type RunResult } from '../model/contract';
import type { Batch, LossKind, StepOptions, StepResult } from '../model/contract';
import { checkBatch, checkLoss, checkStepOptions } from '../model/contract';
import { NonFiniteError, StepGuard } from '../train/guard';
import { Tensor } from '../tensor';
import { StateError, ValueError, show } from '../errors';
import { checkOptions, keysOf } from '../options';
import { putRows, shards, sliceRows, type Arr, type Reply, type Task } from './protocol';
import type { Transport } from './transport';
import { checkPoolOptions, ownBuffers, PoolCore, type WorkerPoolOptions } from './core';
import { poolMemory, reduceAndStep, releaseMemory, releaser, shardRngs, type PoolMemory } from './reduce';

const POOL_EVALUATE_KEYS = keysOf<{ loss: unknown }>()('loss');

export type { WorkerPoolOptions } from './core';

/**
 * Runs a layer or `Sequential` model on several workers (piscina in Node, Web Workers in browsers): `forward`
 * splits the batch into row shards and equals the one-thread call bit for bit; `trainStep` sums the shards'
 * gradients and takes one optimizer step on the main model.
 */
export class WorkerPool extends PoolCore {
  /** The model whose parameters the workers replicate (and trainStep updates). */
  readonly model: Model;
  // the reduced gradient and a scratch (heap offsets, allocated on the first step) and the step
  // guard: what dispose() and, for a pool never disposed, the finalizer release
  private readonly mem: PoolMemory;

  private constructor(model: Model, transport: Transport, timeout?: number) {
    super(model.runner.rt.variant, transport, timeout);
    this.model = model;
    this.mem = poolMemory(model.runner);
    this.held.release = releaser(this.mem);
  }

  /**
   * Starts the workers (each instantiates the main thread's compiled Module; nothing is
   * recompiled) and waits until every one answers. Rejects with a WorkerError if they cannot start.
   */
  static async create(model: Model, opts: WorkerPoolOptions = {}): Promise<WorkerPool> {
    if (model instanceof GraphModel) throw new ValueError('Expected a layer model (LSTM, GRU, RNN or Sequential), got a GraphModel (use GraphWorkerPool.create for graphs)');
    if (!model || typeof model.spec !== 'function' || !model.runner) throw new ValueError(`Expected a model (LSTM, GRU, RNN or Sequential), got ${show(model)}`);
    if (model.runner.isDisposed) throw new StateError('Expected a live model, got one whose memory was released by dispose()');
    const n = await checkPoolOptions(opts);
    // the workers run the binary this model runs on
    return PoolCore.start(model.runner.rt, n, opts, (t) => new WorkerPool(model, t, opts.timeout));
  }

  /** The model's forward pass with the batch split across the workers. */
  forward(x: Tensor<Float32Array> | Tensor<Int32Array>, opts: RunOptions = {}): Promise<RunResult> {
    return this.exclusive(async () => {
      checkOptions(opts, RUN_KEYS, 'WorkerPool.forward options');
      const r = this.live();
      checkOptionsObject(opts, 'forward options');
      opts = opts ?? {};
      const { T, B } = r.inputDims(x);
      const lengths = checkLengths(opts.lengths, T, B);
      r.checkStates(opts.h0, opts.c0, B);
      const parts = shards(B, this.size);
      const F = r.inputKind === 'ids' ? 1 : r.inFeatures;
      const { spec, params } = this.modelRef();
      const tasks = parts.map(([b0, b1]) => {
        const t: Task = {
          kind: 'forward', spec, params: params(),
          x: this.shardSeq(x.data, T, B, F, b0, b1, r.inputKind !== 'ids'),
          lengths: lengths && Int32Array.from({ length: b1 - b0 }, (_, k) => lengths[b0 + k]),
          h0: opts.h0 && this.shardState(opts.h0, 'h', B, b0, b1),
          c0: opts.c0 && this.shardState(opts.c0, 'c', B, b0, b1),
        };
        return { task: t, transfer: transferOf(t) };
      });
      const replies = await this.sendAll(tasks);
      // concatenate along the batch axis
      const outs = replies as Extract<Reply, { kind: 'forward' }>[];
      const O = outs[0].output.shape[2];
      const [outer, inner] = r.batchFirst ? [1, T * O] : [T, O];
      let output = outs[0].output.data; // one shard is already the whole batch
      if (outs.length > 1) {
        output = new Float32Array(T * B * O);
        outs.forEach((o, k) => putRows(output, o.output.data, outer, B, inner, parts[k][0], parts[k][1]));
      }
      const states = (pick: (o: (typeof outs)[number]) => Arr<Float32Array> | undefined) => {
        const first = pick(outs[0]);
        if (!first) return undefined;
        const [S, , H] = first.shape;
        const all = new Float32Array(S * B * H);
        outs.forEach((o, k) => putRows(all, pick(o)!.data, S, B, H, parts[k][0], parts[k][1]));
        return new Tensor(all, [S, B, H]);
      };
      // as model.forward: hN/cN undefined when the model has no such states
      return { output: new Tensor(output, r.batchFirst ? [B, T, O] : [T, B, O]), hN: states((o) => o.hN)!, cN: states((o) => o.cN) };
    });
  }

  /** Mean loss of a batch (forward and backward on the workers); parameters are not changed. */
  evaluate(batch: Batch, opts: { loss: LossKind }): Promise<number> {
    return this.exclusive(async () => {
      checkOptions(opts ?? null, POOL_EVALUATE_KEYS, 'WorkerPool.evaluate options');
      this.trainable();
      const loss = opts!.loss;
      checkLoss(loss);
      return (await this.gradients(batch, loss, false)).loss;
    });
  }

  /**
   * One training step equal to `model.trainStep` on the whole batch (up to float rounding): the
   * workers compute their shards' gradients, the pool reduces them, clips (clipNorm, clipValue)
   * and applies ONE optimizer step to the main model. Dropout masks come from per-worker
   * generators derived from the model's (reproducible for a seed and a worker count). `tbptt`
   * shorter than the batch is not supported here (ValueError).
   */
  trainStep(batch: Batch, o: StepOptions): Promise<StepResult> {
    return this.exclusive(async () => {
      checkOptions(o ?? null, STEP_KEYS, 'WorkerPool.trainStep options');
      const r = this.trainable();
      // the whole call is checked before anything changes: a refused call leaves the optimizer unbound
      if (o === null || typeof o !== 'object') throw new ValueError(`Expected step options { loss, optimizer }, got ${o === null ? 'null' : typeof o}`);
      const { T } = checkBatch(r, batch, o.loss);
      checkStepOptions(o, r.arena, 1);
      if (o.tbptt !== undefined && o.tbptt < T) throw new ValueError(`Expected no tbptt (or tbptt ≥ T = ${T}) for WorkerPool.trainStep, got tbptt ${o.tbptt}; use model.trainStep for truncated BPTT`);
      const rng = r.dropoutRngState;
      let result;
      try {
        result = await this.gradients(batch, o.loss, true);
      } catch (e) {
        r.dropoutRngState = rng; // a crashed or failing worker does not move the generator on
        throw e;
      }
      this.live();
      const wasBound = o.optimizer.isBoundTo(r.arena);
      o.optimizer.bind(r.rt, r.arena);
      const guard = (this.mem.guard ??= new StepGuard(r));
      try {
        guard.save(o.optimizer, wasBound);
      } catch (e) {
        if (!wasBound) o.optimizer.dispose();
        r.dropoutRngState = rng;
        throw e;
      }
      try {
        const gradNorm = reduceAndStep(this.mem, result.weights, result.grads, o);
        guard.commit();
        return { loss: result.loss, gradNorm, skipped: false };
      } catch (e) {
        guard.restore();
        r.dropoutRngState = rng;
        if (e instanceof NonFiniteError && o.onNonFinite === 'skip') return { loss: result.loss, gradNorm: NaN, skipped: true };
        throw e;
      }
    });
  }

  /** Terminates the workers and releases the pool's buffers. Later calls reject with a StateError. */
  async dispose(): Promise<void> {
    if (!(await this.closeWorkers())) return;
    releaseMemory(this.mem);
  }

  // ---- internals --------------------------------------------------------------------------------

  private live() {
    this.checkLive();
    const r = this.model.runner;
    if (r.isDisposed) throw new StateError('Expected a live model, got one whose memory was released by dispose()');
    return r;
  }

  // Training and evaluation need f32 weights (an int8-quantized model is inference only).
  private trainable() {
    const r = this.live();
    if (r.quantized) throw new StateError('Expected a model with f32 weights for training, got one quantized to int8 (inference only)');
    return r;
  }

  // The spec and a parameter source: the shared buffer (filled now, once per call) or a copy per task.
  private modelRef(): { spec: string; params: () => Float32Array } {
    const r = this.model.runner;
    return { spec: JSON.stringify(this.model.spec()), params: this.paramSource(r.rt, r.arena) };
  }

  // (T, B, F) or (B, T, F) (F = 1 for ids) → the rows [b0, b1) with their shape.
  private shardSeq<A extends Float32Array | Int32Array>(data: A, T: number, B: number, F: number, b0: number, b1: number, rank3: boolean): Arr<A> {
    const nb = b1 - b0;
    const bf = this.model.runner.batchFirst;
    const out = bf ? sliceRows(data, 1, B, T * F, b0, b1) : sliceRows(data, T, B, F, b0, b1);
    const shape = bf ? [nb, T] : [T, nb];
    if (rank3) shape.push(F);
    return { data: out, shape };
  }

  // (numStates, B, W) initial states of one kind → rows [b0, b1)
  private shardState(s: Float32Array, kind: 'h' | 'c', B: number, b0: number, b1: number): Float32Array {
    const r = this.model.runner;
    return sliceRows(s, r.stateCount(kind), B, r.stateWidth(kind), b0, b1);
  }

  // Validates the batch, computes every shard's gradient on the workers, and returns the batch
  // mean loss, each shard's weight c_k / C and its gradient.
  private async gradients(batch: Batch, loss: LossKind, training: boolean): Promise<{ loss: number; weights: number[]; grads: Float32Array[] }> {
    const r = this.live();
    const { T, B, lengths, O } = checkBatch(r, batch, loss);
    const parts = shards(B, this.size);
    const bf = r.batchFirst;
    const F = r.inputKind === 'ids' ? 1 : r.inFeatures;
    const Y = loss === 'crossEntropy' ? 1 : O;
    const { spec, params } = this.modelRef();
    const counts = parts.map(([b0, b1]) => countTargets(batch.y, loss, T, B, O, bf, lengths, b0, b1));
    const rngs = training && hasDropout(this.model) ? shardRngs(this.model.runner, parts.length) : undefined;
    const tasks = parts.map(([b0, b1], k) => {
      const y = this.shardSeq(batch.y.data, T, B, Y, b0, b1, loss !== 'crossEntropy');
      const t: Task = {
        kind: 'grad', loss, spec, params: params(),
        x: this.shardSeq(batch.x.data, T, B, F, b0, b1, r.inputKind !== 'ids'), y,
        lengths: lengths && Int32Array.from({ length: b1 - b0 }, (_, k) => lengths[b0 + k]),
        h0: batch.h0 && this.shardState(batch.h0, 'h', B, b0, b1),
        c0: batch.c0 && this.shardState(batch.c0, 'c', B, b0, b1),
        rng: rngs?.[k],
      };
      return { task: t, transfer: transferOf(t) };
    });
    const replies = (await this.sendAll(tasks)) as Extract<Reply, { kind: 'grad' }>[];
    const C = counts.reduce((a, b) => a + b, 0);
    // shard k returned mean_k = sum_k / c_k and ∇mean_k
    const sum = replies.reduce((a, rep, k) => a + rep.loss * counts[k], 0);
    return { loss: C ? sum / C : 0, weights: counts.map((c) => (C ? c / C : 0)), grads: replies.map((rep) => rep.grad) };
  }
}

/** Targets the loss counts in rows [b0, b1): its mean divides by this (as a graph's training program counts them). */
function countTargets(y: Batch['y'], loss: LossKind, T: number, B: number, O: number, bf: boolean, lengths: ArrayLike<number> | undefined, b0: number, b1: number): number {
  let c = 0;
  for (let b = b0; b < b1; b++) {
    const len = lengths ? lengths[b] : T;
    if (loss !== 'crossEntropy') {
      c += len * O;
      continue;
    }
    const ids = y.data as Int32Array;
    for (let t = 0; t < len; t++) if (ids[bf ? b * T + t : t * B + b] >= 0) c++;
  }
  return c;
}

/** Whether the model draws dropout masks in training (a dropout layer or dropout between stacked layers). */
function hasDropout(m: Model): boolean {
  const spec = m.spec() as { layers?: Record<string, unknown>[]; config?: Record<string, unknown> };
  return (spec.layers ?? [spec.config ?? {}]).some(
    (c) => (c.type === 'dropout' && (c.p as number) > 0) || (typeof c.dropout === 'number' && c.dropout > 0 && ((c.numLayers as number) ?? 1) > 1),
  );
}

// A task's own (freshly sliced) buffers move to the worker; shared parameters are never listed.
function transferOf(t: Extract<Task, { kind: 'forward' | 'grad' }>): Transferable[] {
  return ownBuffers([t.x.data, t.lengths, t.h0, t.c0, t.kind === 'grad' ? t.y.data : undefined, t.params]);
}
