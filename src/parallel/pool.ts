// WorkerPool: one pool for every model (issue 22) — a layer or Sequential, a GraphModel, an
// application built on one (a registered PoolApp, src/parallel/apps.ts: a Seq2Seq), or the bytes of
// any of their model files. Every worker keeps a replica of the model's GRAPH (src/parallel/
// replica.ts; a layer's or Sequential's is its chain graph, src/model/graph-adapter.ts) whose
// parameters are refreshed on every call, and
//   forward    splits the batch into contiguous row shards, one per worker, and concatenates
//              every output along its batch axis (rows are independent: the in-process result
//              bit for bit);
//   trainStep  (and evaluate) computes every shard's gradient on the workers and takes one step
//              on the main model (data parallelism, src/parallel/reduce.ts);
//   run        (translate, …) has the application cut the items into chunks, deals them
//              round-robin to the workers, and each chunk is one in-process call of the
//              application there (of every member, for a pool over an ensemble: createEnsemble),
//              so every result equals the in-process one bit for bit.
// A layer or Sequential keeps its own call forms (forward(x, options), trainStep(batch, { loss, … }))
// and layouts: the pool checks a call with the model's own checks and translates it to and from the
// graph's with the functions the model itself uses (src/model/graph-adapter.ts).
// A quantized model's spec carries quantized: 'int8' (read at every call, so a pool follows a
// quantize() made after it started) and each replica derives the same int8 copies from it.
// Starting, one call at a time, the parameter buffer and failures are the shared PoolCore's.
import type { GraphModel, GraphStepOptions, GraphStepResult } from '../graph/model';
import type { Feed } from '../graph/feed';
import { checkStepOptions as checkGraphStep, type GraphBatch, type LossOption } from '../graph/losses';
import type { Model } from '../model/model';
import type { ModelHost } from '../model/host';
import { checkBatch, checkLoss, checkStepOptions, RUN_KEYS, STEP_KEYS, type Batch, type LossKind, type RunOptions, type RunResult, type StepOptions, type StepResult } from '../model/contract';
import { checkTrainable, modelBatch, modelFeed, modelResult, type ModelGraph } from '../model/graph-adapter';
import { checkLengths, checkOptionsObject } from '../ir/checks';
import { NonFiniteError, StepGuard } from '../train/guard';
import { Tensor } from '../tensor';
import { StateError, ValueError, show } from '../errors';
import { checkOptions, keysOf } from '../options';
import { shards, type Reply } from './protocol';
import { checkPoolOptions, ownBuffers, PoolCore, type Sent, type WorkerPoolOptions } from './core';
import type { Transport } from './transport';
import { poolAppOf, poolApps, type PoolApp, type PoolAppObject } from './apps';
import { isBytes, served, servedFile, servedSource, type PoolSource, type Served } from './source';
import { poolMemory, reduceAndStep, releaseMemory, releaser, shardRngs, type PoolMemory } from './reduce';
import { countShard, joinOutputs, shardInputs, shardTargets } from './shard';

export type { WorkerPoolOptions } from './core';
export type { PoolSource } from './source';

const GRAPH_STEP_KEYS = keysOf<GraphStepOptions>()('losses', 'optimizer', 'clipNorm', 'clipValue', 'tbptt', 'onNonFinite');
const GRAPH_EVALUATE_KEYS = keysOf<{ losses: unknown }>()('losses');
const EVALUATE_KEYS = keysOf<{ loss: unknown }>()('loss');

/** The call forms of each kind: [layer or Sequential, graph]. */
const FORMS: Record<'forward' | 'evaluate' | 'trainStep', [string, string]> = {
  forward: ['forward(x: Tensor, options?)', 'forward(feed), a feed of named inputs'],
  evaluate: ['evaluate({ x, y, … }, { loss })', 'evaluate({ inputs, targets }, { losses })'],
  trainStep: ['trainStep({ x, y, … }, { loss, optimizer, … })', 'trainStep({ inputs, targets }, { losses, optimizer, … })'],
};

const has = (x: unknown, ...keys: string[]): boolean => x !== null && typeof x === 'object' && keys.some((k) => k in x);

/**
 * Runs any model on several workers (piscina in Node, Web Workers in browsers): `forward` splits the batch
 * into row shards and equals the in-process call bit for bit; `trainStep` sums the shards' gradients and
 * takes one optimizer step on the main model; an application's calls (a `Seq2Seq`'s `translate`, an
 * ensemble's) deal length-sorted chunks to the workers. A layer or `Sequential` is called in its own forms
 * (`forward(x, options)`, `trainStep(batch, { loss, … })`), a graph in its (`forward(feed)`,
 * `trainStep({ inputs, targets }, { losses, … })`); the other form is a ValueError.
 */
export class WorkerPool extends PoolCore {
  /** The model the pool serves (and trainStep updates): the layer or Sequential, the graph model, or the application's graph. */
  readonly model: Model | GraphModel;
  /** The application the pool runs (created from one or from its model file: a Seq2Seq), else null. */
  readonly app: PoolAppObject | null;
  /** The other members of an ensemble (createEnsemble), run with `app`; [] otherwise. */
  readonly members: readonly PoolAppObject[];
  /** The graph the workers replicate (a layer's or Sequential's chain graph). */
  private readonly graph: GraphModel;
  /** A layer's or Sequential's layouts, translated at the pool's boundary; null for a graph. */
  private readonly host: ModelHost | null;
  private readonly kind: PoolApp | null;
  private readonly owned: boolean; // created from bytes: the pool disposes the model(s)
  private readonly meta: string;
  /** The other members' metadata (JSON), made once. */
  private readonly memberMeta: string[];
  // the reduced gradient, a scratch and the step guard (allocated on the first training step)
  private readonly mem: PoolMemory;

  private constructor(s: Served, owned: boolean, transport: Transport, timeout?: number, members: readonly PoolAppObject[] = []) {
    super(s.graph.runner.rt.variant, transport, timeout);
    this.model = s.model;
    this.graph = s.graph;
    this.host = s.host;
    this.app = s.app?.obj ?? null;
    this.kind = s.app?.kind ?? null;
    this.members = members;
    this.owned = owned;
    this.meta = s.app ? s.app.kind.meta(s.app.obj) : '';
    this.memberMeta = s.app ? members.map((m) => s.app!.kind.meta(m)) : [];
    this.mem = poolMemory(s.graph.runner);
    this.held.release = releaser(this.mem);
  }

  /**
   * Starts the workers (each instantiates the main thread's compiled Module; nothing is recompiled)
   * and waits until every one answers. From bytes, the pool loads the model (an application when a
   * registered one recognises the file: a Seq2Seq's carries metadata.seq2seq) and disposes it with
   * the pool. Rejects with a WorkerError if the workers cannot start.
   */
  static async create(source: PoolSource, opts: WorkerPoolOptions = {}): Promise<WorkerPool> {
    const n = await checkPoolOptions(opts);
    const owned = isBytes(source);
    const s = owned ? servedFile(source) : servedSource(source);
    try {
      s.graph.check();
      return await PoolCore.start(s.graph.runner.rt, n, opts, (t) => new WorkerPool(s, owned, t, opts.timeout));
    } catch (e) {
      if (owned) (s.app?.obj ?? s.model).dispose();
      throw e;
    }
  }

  /**
   * A pool whose run() (translate) answers with several applications as one (a Seq2Seq ensemble:
   * Seq2Seq.translateEnsemble): the applications, or the bytes of their files (then the pool loads
   * and disposes them). The application checks that they go together (a Seq2Seq: the first one's
   * vocabularies; a ValueError otherwise, before any worker starts).
   */
  static async createEnsemble(sources: readonly (PoolAppObject | Uint8Array | ArrayBuffer)[], opts: WorkerPoolOptions = {}): Promise<WorkerPool> {
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
          const l = servedFile(x as Uint8Array | ArrayBuffer);
          if (!l.app) {
            l.model.dispose();
            throw new ValueError(`Expected the files of an application (a Seq2Seq's), got a plain model file at sources[${loaded.length}]`);
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
      return await PoolCore.start(lead.model.runner.rt, n, opts, (t) => new WorkerPool(served(lead.model, { kind: kind!, obj: lead }), owned, t, opts.timeout, rest));
    } catch (e) {
      if (owned) for (const m of loaded) m.dispose();
      throw e;
    }
  }

  /** Every output of a graph for a feed (as model.forward(feed)), the batch split across the workers; bit-identical to the in-process call. */
  forward(feed: Feed): Promise<Record<string, Tensor>>;
  /** A layer's or Sequential's forward pass (as model.forward(x, options)), the batch split across the workers; bit-identical. */
  forward(x: Tensor<Float32Array> | Tensor<Int32Array>, opts?: RunOptions): Promise<RunResult>;
  forward(x: Feed | Tensor<Float32Array> | Tensor<Int32Array>, opts: RunOptions = {}): Promise<RunResult | Record<string, Tensor>> {
    return this.exclusive(async () => {
      const h = this.host;
      // a feed is a plain object of named inputs; a tensor never is
      const plain = x !== null && typeof x === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(x)) && !has(x, 'data', 'shape');
      this.checkForm('forward', h ? plain : x instanceof Tensor);
      if (!h) {
        this.live();
        return this.shardForward(x as Feed);
      }
      checkOptions(opts, RUN_KEYS, 'WorkerPool.forward options');
      this.live();
      checkOptionsObject(opts, 'forward options');
      opts ??= {};
      const t = x as Tensor<Float32Array> | Tensor<Int32Array>;
      const { T, B } = h.inputDims(t);
      const lengths = checkLengths(opts.lengths, T, B);
      h.checkStates(opts.h0, opts.c0, B);
      return modelResult(h.mg, await this.shardForward(modelFeed(h.mg, t, T, B, lengths, opts.h0, opts.c0)), T, B);
    });
  }

  /** The losses of a graph's batch computed on the workers (dropout off), as model.evaluate; nothing changes. */
  evaluate(batch: GraphBatch, o: { losses: Record<string, LossOption> }): Promise<{ loss: number; losses: Record<string, number> }>;
  /** A layer's or Sequential's mean loss of a batch (forward and backward on the workers), as model.evaluate; nothing changes. */
  evaluate(batch: Batch, o: { loss: LossKind }): Promise<number>;
  evaluate(batch: Batch | GraphBatch, o: { loss: LossKind } | { losses: Record<string, LossOption> }): Promise<number | { loss: number; losses: Record<string, number> }> {
    return this.exclusive(async () => {
      this.checkForm('evaluate', this.host ? has(batch, 'inputs', 'targets') || has(o, 'losses') : has(batch, 'x', 'y') || has(o, 'loss'));
      const h = this.host;
      if (!h) {
        checkOptions(o ?? null, GRAPH_EVALUATE_KEYS, 'WorkerPool.evaluate options');
        this.trainable();
        const { loss, losses } = await this.gradients(batch as GraphBatch, (o as { losses: Record<string, LossOption> }).losses, false);
        return { loss, losses };
      }
      checkOptions(o ?? null, EVALUATE_KEYS, 'WorkerPool.evaluate options');
      this.trainable();
      const loss = (o as { loss: LossKind }).loss;
      checkLoss(loss);
      const { gb, losses } = this.modelBatch(h, batch as Batch, loss);
      return (await this.gradients(gb, losses, false)).loss;
    });
  }

  /**
   * One data-parallel training step equal to `model.trainStep` on the whole batch (up to float rounding):
   * each worker computes its rows' gradient, the pool sums them (each shard weighted by its share of the
   * counted targets; with several losses each worker scales by the batch's counts), clips and takes ONE
   * optimizer step on the main model; the next call ships the new parameters. Dropout masks come from
   * per-worker generators derived from the model's (reproducible for a seed and a worker count).
   * All-or-nothing as trainStep. Truncated BPTT is model.trainStep's (a `tbptt` shorter than the
   * batch is a ValueError).
   */
  trainStep(batch: GraphBatch, o: GraphStepOptions): Promise<GraphStepResult>;
  /** A layer's or Sequential's data-parallel step (as model.trainStep(batch, { loss, optimizer, … })); see the graph form above. */
  trainStep(batch: Batch, o: StepOptions): Promise<StepResult>;
  trainStep(batch: Batch | GraphBatch, o: StepOptions | GraphStepOptions): Promise<StepResult | GraphStepResult> {
    return this.exclusive(async () => {
      this.checkForm('trainStep', this.host ? has(batch, 'inputs', 'targets') || has(o, 'losses') : has(batch, 'x', 'y') || has(o, 'loss'));
      const h = this.host;
      if (!h) {
        const g = o as GraphStepOptions;
        checkOptions(g ?? null, GRAPH_STEP_KEYS, 'WorkerPool.trainStep options');
        this.trainable();
        checkGraphStep(g);
        if (g.tbptt !== undefined) throw new ValueError(`Expected no tbptt for WorkerPool.trainStep, got tbptt ${show(g.tbptt)}; use model.trainStep for truncated BPTT`);
        if (g.onNonFinite !== undefined && g.onNonFinite !== 'throw' && g.onNonFinite !== 'skip') throw new ValueError(`Expected onNonFinite 'throw' or 'skip', got ${show(g.onNonFinite)}`);
        return this.step(batch as GraphBatch, g.losses, g);
      }
      const s = o as StepOptions;
      checkOptions(s ?? null, STEP_KEYS, 'WorkerPool.trainStep options');
      // the whole call is checked (with the model's own checks) before anything changes: a refused
      // call leaves the optimizer unbound
      const r = this.trainable();
      checkStepOptions(s, r.arena, 1);
      const { gb, losses, T } = this.modelBatch(h, batch as Batch, s.loss);
      if (s.tbptt !== undefined && s.tbptt < T) throw new ValueError(`Expected no tbptt (or tbptt ≥ T = ${T}) for WorkerPool.trainStep, got tbptt ${s.tbptt}; use model.trainStep for truncated BPTT`);
      const { loss, gradNorm, skipped } = await this.step(gb, losses, s);
      return { loss, gradNorm, skipped };
    });
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
        const over = kind ? `a ${kind.kind}` : this.host ? 'a layer or Sequential model' : 'a plain GraphModel';
        throw new StateError(`Expected a pool created from an application with ${verb} (${poolApps().filter((a) => a.verbs.includes(verb)).map((a) => a.kind).join(', ') || 'none registered'}) for ${verb}, got one over ${over}`);
      }
      // the whole call is checked by the application before anything is sent
      const chunks = kind.plan(this.app!, verb, items, options);
      if (chunks.length === 0) return [];
      const n = Math.min(this.size, chunks.length);
      // the chunks (length-sorted for a Seq2Seq) spread evenly over the workers
      const mine = Array.from({ length: n }, (_, w) => chunks.filter((_, c) => c % n === w));
      const params = this.paramSource(this.graph.runner.rt, this.graph.runner.arena);
      // the other members' graphs and parameters (a copy per task: the shared buffer holds the first's)
      const spec = JSON.stringify(this.graph.spec()); // per call, as in forward
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

  // ---- internals --------------------------------------------------------------------------------

  private live(): void {
    this.checkLive();
    this.graph.check();
    for (const m of this.members) m.model.check();
  }

  /** Live, f32 weights: what training and evaluation need. */
  private trainable(): GraphModel['runner'] {
    this.live();
    if (this.graph.quantized) throw new StateError('Expected a model with f32 weights for training, got one quantized to int8 (inference only)');
    return this.graph.runner;
  }

  /** A call in the other kind's form (a feed to a layer's pool, a tensor to a graph's) is refused by name. */
  private checkForm(call: keyof typeof FORMS, otherForm: boolean): void {
    if (!otherForm) return;
    const [layer, graph] = FORMS[call];
    const [want, got, over] = this.host ? [layer, graph, 'a layer or Sequential model'] : [graph, layer, 'a graph model'];
    throw new ValueError(`Expected ${want} on a pool over ${over}, got the other form ${got}`);
  }

  /** A layer's or Sequential's batch checked as the model checks it, as the graph's batch and losses. */
  private modelBatch(h: ModelHost, batch: Batch, loss: LossKind): { gb: GraphBatch; losses: Record<string, LossOption>; T: number } {
    checkTrainable(h.modules);
    const { T, B, lengths, O } = checkBatch(h, batch, loss);
    const mg: ModelGraph = h.mg;
    return { gb: modelBatch(mg, batch, T, B, lengths, O, loss), losses: { [mg.trained]: loss }, T };
  }

  /** Every output of the graph for a feed: one shard per worker, joined along the batch axis. */
  private async shardForward(feed: Feed): Promise<Record<string, Tensor>> {
    const { shape, parts } = this.graph.checkFeed(feed);
    const cuts = shards(shape.B, this.size);
    const params = this.paramSource(this.graph.runner.rt, this.graph.runner.arena);
    // read per call: quantize() may have marked the model int8 since the pool started
    const spec = JSON.stringify(this.graph.spec());
    const tasks = cuts.map(([b0, b1]): Sent => {
      const { inputs, own } = shardInputs(parts, shape, b0, b1);
      const task = { kind: 'forward' as const, spec, params: params(), inputs };
      return { task, transfer: ownBuffers([...own, task.params]) };
    });
    const replies = (await this.sendAll(tasks)) as Extract<Reply, { kind: 'forward' }>[];
    return joinOutputs(replies.map((r) => r.outputs), cuts, shape.B);
  }

  /** The step after the checks: the shards' gradients, then one guarded, reduced optimizer step. */
  private async step(batch: GraphBatch, lossOpts: Record<string, LossOption>, o: Pick<GraphStepOptions, 'optimizer' | 'clipNorm' | 'clipValue' | 'onNonFinite'>): Promise<GraphStepResult> {
    const r = this.graph.runner;
    const rng = r.dropoutRngState;
    let res: Shares;
    try {
      res = await this.gradients(batch, lossOpts, true);
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
  }

  /**
   * Validates the batch, has every shard's gradient computed on the workers, and returns the batch's
   * losses with each shard's weight and gradient (Σ_k weight_k·grad_k is the batch's gradient).
   */
  private async gradients(batch: GraphBatch, lossOpts: Record<string, LossOption>, training: boolean): Promise<Shares> {
    const { specs, shape, parts } = this.graph.checkBatch(batch, lossOpts);
    const cuts = shards(shape.B, this.size);
    const counts = cuts.map(([b0, b1]) => specs.map((s) => countShard(s, batch.targets[s.name], shape, parts, b0, b1)));
    const C = specs.map((_, i) => counts.reduce((a, c) => a + c[i], 0));
    // one loss: each shard's gradient of its own mean, weighted by its share; several: each worker
    // scales every loss by the batch's count, and the shards' gradients add up
    const single = specs.length === 1;
    const scales = single ? undefined : specs.map((s, i) => (C[i] ? s.weight / C[i] : 0));
    const weights = counts.map((c) => (!single ? 1 : C[0] ? c[0] / C[0] : 0));
    const rngs = training && this.graph.drawsDropout ? shardRngs(this.graph.runner, cuts.length) : undefined;
    const params = this.paramSource(this.graph.runner.rt, this.graph.runner.arena);
    const spec = JSON.stringify(this.graph.spec());
    const tasks = cuts.map(([b0, b1], k): Sent => {
      const { inputs, own } = shardInputs(parts, shape, b0, b1);
      const targets = shardTargets(specs, batch.targets, shape, b0, b1, own);
      const task = { kind: 'grad' as const, spec, params: params(), inputs, targets, losses: lossOpts, scales, rng: rngs?.[k] };
      return { task, transfer: ownBuffers([...own, task.params]) };
    });
    const replies = (await this.sendAll(tasks)) as Extract<Reply, { kind: 'grad' }>[];
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
}

/** What the workers' shards add up to: the batch's losses, each shard's weight and gradient. */
interface Shares {
  loss: number;
  losses: Record<string, number>;
  weights: number[];
  grads: Float32Array[];
}
