// GraphWorkerPool: the WorkerPool for graph models — a GraphModel with named inputs, or an
// application built on one (a registered PoolApp, src/parallel/apps.ts: a Seq2Seq), or the bytes of
// either's model file. Each worker keeps a replica of the graph (src/parallel/graph-replica.ts)
// whose parameters are refreshed on every call, and
//   forward    splits the batch into contiguous row shards, one per worker, and concatenates
//              every output along its batch axis (rows are independent: the in-process result
//              bit for bit);
//   trainStep  (and evaluate) computes every shard's gradient on the workers and takes one step
//              on the main model (data parallelism, src/parallel/reduce.ts);
//   run        (translate, …) has the application cut the items into chunks, deals them
//              round-robin to the workers, and each chunk is one in-process call of the
//              application there (of every member, for a pool over an ensemble: createEnsemble),
//              so every result equals the in-process one bit for bit.
// A quantized model's spec carries quantized: 'int8' (read at every call, so a pool follows a
// quantize() made after it started) and each replica derives the same int8 copies from it.
// Starting, one call at a time, the parameter buffer and failures are the shared PoolCore's.
import { GraphModel } from '../graph/model';
import type { Feed } from '../graph/feed';
import { deserializeGraph } from '../io/format';
import { Tensor } from '../tensor';
import { StateError, ValueError, show } from '../errors';
import { putRows, shards, sliceRows, type Arr, type GraphInput, type Reply } from './protocol';
import { checkPoolOptions, ownBuffers, PoolCore, type Sent, type WorkerPoolOptions } from './core';
import type { Transport } from './transport';
import { poolAppOf, poolApps, type PoolApp, type PoolAppObject } from './apps';
import { poolMemory, reduceAndStep, releaseMemory, releaser, shardRngs, type PoolMemory } from './reduce';
import type { GraphStepOptions, GraphStepResult } from '../graph/model';
import type { Parts } from '../graph/feed';
import type { Shape } from '../graph/compile';
import { checkStepOptions, type GraphBatch, type LossOption, type ResolvedLoss } from '../graph/losses';
import { NonFiniteError, StepGuard } from '../train/guard';
import { checkOptions, keysOf } from '../options';

const POOL_STEP_KEYS = keysOf<GraphStepOptions>()('losses', 'optimizer', 'clipNorm', 'clipValue', 'tbptt', 'onNonFinite');
const POOL_EVALUATE_KEYS = keysOf<{ losses: unknown }>()('losses');

/** What a GraphWorkerPool serves: a graph model, an application holding one (a Seq2Seq), or the bytes of a graph model file. */
export type GraphPoolSource = GraphModel | PoolAppObject | Uint8Array | ArrayBuffer;

const isBytes = (x: unknown): x is Uint8Array | ArrayBuffer => x instanceof Uint8Array || x instanceof ArrayBuffer;

/**
 * Runs a graph model, or decodes with a `Seq2Seq` (or an ensemble), on several workers: `forward` splits the
 * batch into row shards and `translate` deals length-sorted chunks to the workers; results equal the in-
 * process calls bit for bit.
 */
export class GraphWorkerPool extends PoolCore {
  /** The graph whose parameters the workers replicate. */
  readonly model: GraphModel;
  /** The application the pool runs (created from one or from its model file: a Seq2Seq), else null. */
  readonly app: PoolAppObject | null;
  /** The other members of an ensemble (createEnsemble), run with `app`; [] otherwise. */
  readonly members: readonly PoolAppObject[];
  private readonly kind: PoolApp | null;
  private readonly owned: boolean; // created from bytes: the pool disposes the model(s)
  private readonly meta: string;
  /** The other members' metadata (JSON), made once. */
  private readonly memberMeta: string[];
  // the reduced gradient, a scratch and the step guard (allocated on the first training step)
  private readonly mem: PoolMemory;

  private constructor(model: GraphModel, app: { kind: PoolApp; obj: PoolAppObject } | null, owned: boolean, transport: Transport, timeout?: number, members: readonly PoolAppObject[] = []) {
    super(model.runner.rt.variant, transport, timeout);
    this.model = model;
    this.app = app?.obj ?? null;
    this.kind = app?.kind ?? null;
    this.members = members;
    this.owned = owned;
    this.meta = app ? app.kind.meta(app.obj) : '';
    this.memberMeta = app ? members.map((m) => app.kind.meta(m)) : [];
    this.mem = poolMemory(model.runner);
    this.held.release = releaser(this.mem);
  }

  /**
   * A pool whose run() (translate) answers with several applications as one (a Seq2Seq ensemble:
   * Seq2Seq.translateEnsemble): the applications, or the bytes of their files (then the pool loads
   * and disposes them). The application checks that they go together (a Seq2Seq: the first one's
   * vocabularies; a ValueError otherwise, before any worker starts).
   */
  static async createEnsemble(sources: readonly (PoolAppObject | Uint8Array | ArrayBuffer)[], opts: WorkerPoolOptions = {}): Promise<GraphWorkerPool> {
    const n = await checkPoolOptions(opts);
    if (!Array.isArray(sources) || sources.length === 0) throw new ValueError(`Expected a non-empty array of applications (Seq2Seq models) or model file bytes, got ${Array.isArray(sources) ? 'an empty array' : typeof sources}`);
    const owned = sources.every(isBytes);
    const first = owned ? null : poolAppOf(sources[0]);
    if (!owned && (!first || !sources.every((x) => first.owns(x)))) throw new ValueError('Expected all members as applications of one kind (Seq2Seq models) or all as model file bytes, got a mixture or something else');
    const loaded: PoolAppObject[] = [];
    try {
      let kind = first;
      for (const x of sources) {
        if (!owned) loaded.push(x as PoolAppObject);
        else {
          const l = fromFile(x as Uint8Array | ArrayBuffer);
          if (!l.app) {
            l.model.dispose();
            throw new ValueError(`Expected the files of an application (a Seq2Seq's), got a plain graph model file at sources[${loaded.length}]`);
          }
          if (kind && l.app.kind !== kind) {
            l.app.obj.dispose();
            throw new ValueError(`Expected members of one kind (${kind.kind}), got ${l.app.kind.kind} at sources[${loaded.length}]`);
          }
          kind = l.app.kind;
          loaded.push(l.app.obj);
        }
      }
      kind!.checkMembers(loaded);
      for (const m of loaded) m.model.check();
      const [lead, ...rest] = loaded;
      return await PoolCore.start(lead.model.runner.rt, n, opts, (t) => new GraphWorkerPool(lead.model, { kind: kind!, obj: lead }, owned, t, opts.timeout, rest));
    } catch (e) {
      if (owned) for (const m of loaded) m.dispose();
      throw e;
    }
  }

  /**
   * Starts the workers (each instantiates the main thread's compiled Module) and waits until every
   * one answers. From bytes, the pool loads the model (an application when a registered one
   * recognises the file: a Seq2Seq's carries metadata.seq2seq) and disposes it with the pool.
   * Rejects with a WorkerError if they cannot start.
   */
  static async create(source: GraphPoolSource, opts: WorkerPoolOptions = {}): Promise<GraphWorkerPool> {
    const n = await checkPoolOptions(opts);
    let app: { kind: PoolApp; obj: PoolAppObject } | null = null;
    let model: GraphModel;
    const owned = isBytes(source);
    const kind = owned ? null : poolAppOf(source);
    if (kind) app = { kind, obj: source as PoolAppObject };
    if (app) model = app.obj.model;
    else if (source instanceof GraphModel) model = source;
    else if (owned) ({ app, model } = fromFile(source));
    else {
      const got = source === null || typeof source !== 'object' ? String(source) : (source as object).constructor?.name ?? 'an object';
      throw new ValueError(`Expected a GraphModel, an application holding one (${poolApps().map((a) => a.kind).join(', ') || 'none registered'}) or the bytes of a graph model file, got ${got}`);
    }
    try {
      model.check();
      return await PoolCore.start(model.runner.rt, n, opts, (t) => new GraphWorkerPool(model, app, owned, t, opts.timeout));
    } catch (e) {
      if (owned) (app?.obj ?? model).dispose();
      throw e;
    }
  }

  /**
   * Every output of the graph for a feed (as model.forward(feed)), the batch split across the
   * workers; bit-identical to the in-process call.
   */
  forward(feed: Feed): Promise<Record<string, Tensor>> {
    return this.exclusive(async () => {
      this.live();
      const { shape, parts } = this.model.checkFeed(feed);
      const B = shape.B;
      const cuts = shards(B, this.size);
      const params = this.paramSource(this.model.runner.rt, this.model.runner.arena);
      // read per call: quantize() may have marked the model int8 since the pool started
      const spec = JSON.stringify(this.model.spec());
      const tasks = cuts.map(([b0, b1]): Sent => {
        const { inputs, own } = shardInputs(parts, shape, b0, b1);
        const task = { kind: 'graph-forward' as const, spec, params: params(), inputs };
        return { task, transfer: ownBuffers([...own, task.params]) };
      });
      const replies = (await this.sendAll(tasks)) as Extract<Reply, { kind: 'graph-forward' }>[];
      // concatenate along the batch axis: (b, F) vectors; (T, b, F) sequences and attention weights
      const out: Record<string, Tensor> = {};
      for (const [name, first] of Object.entries(replies[0].outputs)) {
        const vec = first.shape.length === 2;
        const [outer, inner] = vec ? [1, first.shape[1]] : [first.shape[0], first.shape[2]];
        let data = first.data; // one shard is already the whole batch
        if (replies.length > 1) {
          data = new Float32Array(outer * B * inner);
          replies.forEach((r, k) => putRows(data, r.outputs[name].data, outer, B, inner, cuts[k][0], cuts[k][1]));
        }
        out[name] = new Tensor(data, vec ? [B, inner] : [outer, B, inner]);
      }
      return out;
    });
  }

  /**
   * One data-parallel training step equal to `model.trainStep` on the whole batch (up to float
   * rounding): each worker computes its rows' gradient, the pool sums them (each shard weighted by
   * its share of the counted targets; with several losses each worker scales by the batch's counts),
   * clips and takes ONE optimizer step on the main model; the next call ships the new parameters.
   * Dropout masks come from per-worker generators derived from the model's (reproducible for a
   * seed and a worker count). All-or-nothing as trainStep; tbptt is model.trainStep's (ValueError).
   */
  trainStep(batch: GraphBatch, o: GraphStepOptions): Promise<GraphStepResult> {
    return this.exclusive(async () => {
      checkOptions(o ?? null, POOL_STEP_KEYS, 'GraphWorkerPool.trainStep options');
      const r = this.trainable();
      checkStepOptions(o);
      if (o.tbptt !== undefined) throw new ValueError(`Expected no tbptt for GraphWorkerPool.trainStep, got tbptt ${show(o.tbptt)}; use model.trainStep for truncated BPTT`);
      if (o.onNonFinite !== undefined && o.onNonFinite !== 'throw' && o.onNonFinite !== 'skip') throw new ValueError(`Expected onNonFinite 'throw' or 'skip', got ${show(o.onNonFinite)}`);
      const rng = r.dropoutRngState;
      let res: Shares;
      try {
        res = await this.gradients(batch, o.losses, true);
      } catch (e) {
        r.dropoutRngState = rng; // a crashed or failing worker does not move the generator on
        throw e;
      }
      this.trainable();
      const opt = o.optimizer;
      const wasBound = opt.isBoundTo(r.arena);
      opt.bind(r.rt, r.arena);
      const guard = (this.mem.guard ??= new StepGuard(r));
      try {
        guard.save(opt, wasBound);
      } catch (e) {
        if (!wasBound) opt.dispose();
        r.dropoutRngState = rng;
        throw e;
      }
      try {
        const gradNorm = reduceAndStep(this.mem, res.weights, res.grads, o);
        guard.commit();
        return { loss: res.loss, losses: res.losses, gradNorm, skipped: false };
      } catch (e) {
        guard.restore();
        r.dropoutRngState = rng;
        if (e instanceof NonFiniteError && o.onNonFinite === 'skip') return { loss: res.loss, losses: res.losses, gradNorm: NaN, skipped: true };
        throw e;
      }
    });
  }

  /** The losses of a batch computed on the workers (dropout off), as model.evaluate; nothing changes. */
  evaluate(batch: GraphBatch, o: { losses: Record<string, LossOption> }): Promise<{ loss: number; losses: Record<string, number> }> {
    return this.exclusive(async () => {
      checkOptions(o ?? null, POOL_EVALUATE_KEYS, 'GraphWorkerPool.evaluate options');
      this.trainable();
      const { loss, losses } = await this.gradients(batch, o.losses, false);
      return { loss, losses };
    });
  }

  /** Live, f32 weights: what training and evaluation need. */
  private trainable(): GraphModel['runner'] {
    this.live();
    if (this.model.quantized) throw new StateError('Expected a model with f32 weights for training, got one quantized to int8 (inference only)');
    return this.model.runner;
  }

  /**
   * Validates the batch, has every shard's gradient computed on the workers, and returns the batch's
   * losses with each shard's weight and gradient (Σ_k weight_k·grad_k is the batch's gradient).
   */
  private async gradients(batch: GraphBatch, lossOpts: Record<string, LossOption>, training: boolean): Promise<Shares> {
    const { specs, shape, parts } = this.model.checkBatch(batch, lossOpts);
    const cuts = shards(shape.B, this.size);
    const counts = cuts.map(([b0, b1]) => specs.map((s) => countShard(s, batch.targets[s.name], shape, parts, b0, b1)));
    const C = specs.map((_, i) => counts.reduce((a, c) => a + c[i], 0));
    // one loss: each shard's gradient of its own mean, weighted by its share (as WorkerPool); several:
    // each worker scales every loss by the batch's count, and the shards' gradients add up
    const single = specs.length === 1;
    const scales = single ? undefined : specs.map((s, i) => (C[i] ? s.weight / C[i] : 0));
    const weights = counts.map((c) => (!single ? 1 : C[0] ? c[0] / C[0] : 0));
    const rngs = training && this.model.drawsDropout ? shardRngs(this.model.runner, cuts.length) : undefined;
    const params = this.paramSource(this.model.runner.rt, this.model.runner.arena);
    const spec = JSON.stringify(this.model.spec());
    const tasks = cuts.map(([b0, b1], k): Sent => {
      const { inputs, own } = shardInputs(parts, shape, b0, b1);
      const targets: Record<string, Arr> = {};
      for (const s of specs) {
        const t = batch.targets[s.name];
        const outer = s.y.kind === 'vec' ? 1 : shape.T.get(s.y.axis!)!;
        const inner = t.data.length / (outer * shape.B);
        const data = sliceRows(t.data, outer, shape.B, inner, b0, b1);
        targets[s.name] = { data, shape: [...(s.y.kind === 'vec' ? [] : [outer]), b1 - b0, ...t.shape.slice(s.y.kind === 'vec' ? 1 : 2)] };
        own.push(data);
      }
      const task = { kind: 'graph-grad' as const, spec, params: params(), inputs, targets, losses: lossOpts, scales, rng: rngs?.[k] };
      return { task, transfer: ownBuffers([...own, task.params]) };
    });
    const replies = (await this.sendAll(tasks)) as Extract<Reply, { kind: 'graph-grad' }>[];
    const losses: Record<string, number> = {};
    let loss = 0;
    specs.forEach((s, i) => {
      // shard k reported mean_k = sum_k / c_k
      const sum = replies.reduce((a, rep, k) => a + rep.means[i] * counts[k][i], 0);
      losses[s.name] = C[i] ? sum / C[i] : 0;
      loss += s.weight * losses[s.name];
    });
    return { loss, losses, weights, grads: replies.map((rep) => rep.grad) };
  }

  /**
   * An application's call across the workers (a Seq2Seq's translate: greedy or beam search, n-best
   * lists, attention weights; an ensemble pool's members decode as one): the application cuts the
   * items into chunks, chunk c goes to worker c mod n, and each chunk is one in-process call there,
   * so the results, in input order, equal the in-process call's. Needs a pool created from an
   * application with that verb.
   */
  run(verb: string, items: readonly unknown[], options: unknown = {}): Promise<unknown[]> {
    return this.exclusive(async () => {
      this.live();
      const kind = this.kind;
      if (!kind || !kind.verbs.includes(verb)) {
        throw new StateError(`Expected a pool created from an application with ${verb} (${poolApps().filter((a) => a.verbs.includes(verb)).map((a) => a.kind).join(', ') || 'none registered'}) for ${verb}, got one over ${kind ? `a ${kind.kind}` : 'a plain GraphModel'}`);
      }
      // the whole call is checked by the application before anything is sent
      const chunks = kind.plan(this.app!, verb, items, options);
      if (chunks.length === 0) return [];
      const n = Math.min(this.size, chunks.length);
      // the chunks (length-sorted for a Seq2Seq) spread evenly over the workers
      const mine = Array.from({ length: n }, (_, w) => chunks.filter((_, c) => c % n === w));
      const params = this.paramSource(this.model.runner.rt, this.model.runner.arena);
      // the other members' graphs and parameters (a copy per task: the shared buffer holds the first's)
      const spec = JSON.stringify(this.model.spec()); // per call, as in forward
      const others = this.members.map((m, i) => {
        const a = m.model.runner.arena;
        return { spec: JSON.stringify(m.model.spec()), meta: this.memberMeta[i], params: () => a.rt.heap.read(a.base, a.size) };
      });
      const opts = options === null || typeof options !== 'object' ? options : { ...options };
      const tasks = mine.map((cs): Sent => {
        const members = others.length ? others.map((m) => ({ spec: m.spec, meta: m.meta, params: m.params() })) : undefined;
        const task = { kind: 'app' as const, app: kind.kind, verb, spec, params: params(), meta: this.meta, chunks: cs.map((c) => c.map((i) => items[i])), options: opts, members };
        return { task, transfer: ownBuffers([task.params, ...(members ?? []).map((m) => m.params)]) };
      });
      const replies = (await this.sendAll(tasks)) as Extract<Reply, { kind: 'app' }>[];
      const out = new Array<unknown>(items.length);
      replies.forEach((r, w) => mine[w].forEach((c, j) => c.forEach((i, k) => (out[i] = r.results[j][k]))));
      return out;
    });
  }

  /** run('translate', texts, options): a Seq2Seq pool's translations (Seq2Seq.translate's, in input order). */
  translate(texts: readonly string[], options: object = {}): Promise<unknown[]> {
    return this.run('translate', texts, options);
  }

  /** Terminates the workers (and releases the model when the pool loaded it). Later calls reject with a StateError. */
  async dispose(): Promise<void> {
    if (!(await this.closeWorkers())) return;
    releaseMemory(this.mem);
    if (this.owned) {
      (this.app ?? this.model).dispose();
      for (const m of this.members) m.dispose();
    }
  }

  private live(): this {
    this.checkLive();
    this.model.check();
    for (const m of this.members) m.model.check();
    return this;
  }
}

/** What the workers' shards add up to: the batch's losses, each shard's weight and gradient. */
interface Shares {
  loss: number;
  losses: Record<string, number>;
  weights: number[];
  grads: Float32Array[];
}

/** Rows [b0, b1) of every input: (T, B[, F]) sequences with their lengths, (B, F) vectors. */
function shardInputs(parts: Parts, shape: Shape, b0: number, b1: number): { inputs: Record<string, GraphInput>; own: (Float32Array | Int32Array | undefined)[] } {
  const nb = b1 - b0;
  const B = shape.B;
  const inputs: Record<string, GraphInput> = {};
  const own: (Float32Array | Int32Array | undefined)[] = [];
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

/** Targets a loss counts in rows [b0, b1) (steps past the lengths of its axis and −1 ids do not count), as writeTargets counts them. */
function countShard(s: ResolvedLoss, t: Tensor<Float32Array> | Tensor<Int32Array>, shape: Shape, parts: Parts, b0: number, b1: number): number {
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

/** A graph model file: an application's when a registered one recognises it, else the plain graph (the pool keeps no optimizer). */
function fromFile(bytes: Uint8Array | ArrayBuffer): { app: { kind: PoolApp; obj: PoolAppObject } | null; model: GraphModel } {
  const l = deserializeGraph(bytes);
  for (const kind of poolApps()) {
    const obj = kind.fromFile(l);
    if (obj) return { app: { kind, obj }, model: obj.model };
  }
  l.optimizer?.dispose(); // the pool only runs inference and its own steps
  return { app: null, model: l.model };
}
