// Training and running a CharLM in a Web Worker (or any message port): serveCharLM() is the worker
// side, CharLMWorker (worker-client.ts) the page side. One CharLM lives in the worker. Requests are
// { id, op, args } and are answered { id, ok, value } or { id, ok: false, error: { name, message } };
// a train request also sends { id, progress } at most every `progressMs`. Requests that arrive
// while training runs are served between steps (the loop yields every ~50 ms), so the page can
// sample, stop or ask for hidden states mid-run. Model files cross as bytes (transferred).
import { init, type Variant } from '../../wasm/load';
import { StateError, ValueError, show } from '../../errors';
import { CharLM } from './charlm';
import { hiddenStates } from './activations';
import { checkKeys } from './options';
import type { TrainOptions, TrainProgress } from './train';

/** What serveCharLM needs of its scope: a dedicated worker's `self`, or a MessagePort. */
export interface MessageScope {
  /** Listens for requests. */
  addEventListener(type: 'message', fn: (e: MessageEvent) => void): void;
  /** Sends a reply, transferring the listed buffers. */
  postMessage(message: unknown, transfer?: Transferable[]): void;
}

/** Summary of the model in the worker, sent after create/load/train. */
export interface CharLMInfo {
  /** The binary the worker runs: `'relaxed'` or `'simd'`. */
  variant: Variant;
  /** The architecture. */
  config: CharLM['config'];
  /** The vocabulary, by id. */
  vocabulary: string[];
  /** Training steps taken so far. */
  step: number;
  /** Number of scalar parameters. */
  numParameters: number;
}

export interface WorkerRequest {
  id: number;
  op: string;
  args: unknown[];
}

const SERVE_KEYS = ['progressMs'];
const OPS = ['create', 'load', 'train', 'stop', 'sample', 'complete', 'bitsPerChar', 'hiddenStates', 'serialize', 'info', 'dispose'];

/**
 * Serves one CharLM over `scope` (default: the worker's global scope). Call it once at the top
 * of a worker script: `serveCharLM();`. `progressMs` (default 100) spaces progress messages.
 */
export function serveCharLM(scope: MessageScope = globalThis as unknown as MessageScope, o: { progressMs?: number } = {}): void {
  if (!scope || typeof scope.postMessage !== 'function' || typeof scope.addEventListener !== 'function') throw new ValueError(`Expected scope to have postMessage and addEventListener, got ${show(scope)}`);
  if (!o || typeof o !== 'object') throw new ValueError(`Expected serveCharLM options as an object, got ${show(o)}`);
  checkKeys(o, SERVE_KEYS, 'serveCharLM option');
  const progressMs = o.progressMs ?? 100;
  if (!(typeof progressMs === 'number' && progressMs >= 0 && Number.isFinite(progressMs))) throw new ValueError(`Expected progressMs to be a non-negative number, got ${show(o.progressMs)}`);
  const server = new Server(scope, progressMs);
  scope.addEventListener('message', (e) => void server.handle(e.data as WorkerRequest));
  (scope as { start?: () => void }).start?.();
}

class Server {
  private lm: CharLM | null = null;
  private training: AbortController | null = null;
  private readonly ready: Promise<{ variant: Variant }> = init();

  constructor(private readonly scope: MessageScope, private readonly progressMs: number) {}

  async handle(req: WorkerRequest): Promise<void> {
    const { id } = req;
    try {
      if (!OPS.includes(req.op) || !Array.isArray(req.args)) throw new ValueError(`Expected op among ${OPS.join(', ')} with an args array, got ${show(req.op)}`);
      const { variant } = await this.ready;
      const value = await this.run(req, variant);
      const transfer = value instanceof Uint8Array ? [value.buffer] : value && typeof value === 'object' && 'values' in value ? [(value as { values: Float32Array }).values.buffer] : [];
      this.scope.postMessage({ id, ok: true, value }, transfer as Transferable[]);
    } catch (e) {
      const err = e instanceof Error ? { name: e.name, message: e.message } : { name: 'Error', message: String(e) };
      this.scope.postMessage({ id, ok: false, error: err });
    }
  }

  private model(): CharLM {
    if (!this.lm) throw new StateError('Expected a model in the worker (send create or load first), got none');
    return this.lm;
  }

  private idle(op: string): void {
    if (this.training) throw new StateError(`Expected no training in progress for ${op}, got one (stop it first)`);
  }

  private info(variant: Variant): CharLMInfo {
    const lm = this.model();
    return { variant, config: lm.config, vocabulary: [...lm.vocabulary.tokens], step: lm.step, numParameters: lm.model.numParameters };
  }

  private replace(lm: CharLM): void {
    this.lm?.dispose();
    this.lm = lm;
  }

  private async run(req: WorkerRequest, variant: Variant): Promise<unknown> {
    const a = req.args;
    switch (req.op) {
      case 'create':
        this.idle('create');
        this.replace(CharLM.fromText(a[0] as string, (a[1] ?? {}) as object));
        return this.info(variant);
      case 'load':
        this.idle('load');
        this.replace(CharLM.deserialize(a[0] as Uint8Array));
        return this.info(variant);
      case 'train':
        return this.train(req.id, a[0] as string, (a[1] ?? {}) as TrainOptions, variant);
      case 'stop':
        this.training?.abort();
        return this.training !== null;
      case 'sample':
        return this.model().sample((a[0] ?? {}) as object);
      case 'complete':
        return this.model().complete(a[0] as string, (a[1] ?? {}) as object);
      case 'bitsPerChar':
        return this.model().bitsPerChar(a[0] as string);
      case 'hiddenStates':
        return hiddenStates(this.model(), a[0] as string);
      case 'serialize':
        return this.model().serialize((a[0] ?? {}) as object);
      case 'info':
        return this.info(variant);
      default: // 'dispose'
        this.idle('dispose');
        this.lm?.dispose();
        this.lm = null;
        return null;
    }
  }

  private async train(id: number, text: string, o: TrainOptions, variant: Variant) {
    const lm = this.model();
    this.idle('train');
    if (!o || typeof o !== 'object') throw new ValueError(`Expected train options as an object, got ${show(o)}`);
    if ('onProgress' in o || 'signal' in o) throw new ValueError('Expected train options without onProgress or signal (they do not cross postMessage; use the client), got one');
    const ac = new AbortController();
    let last = -Infinity;
    let pending: TrainProgress | null = null;
    const send = (p: TrainProgress) => this.scope.postMessage({ id, progress: p });
    this.training = ac;
    try {
      const result = await lm.train(text, {
        ...o,
        signal: ac.signal,
        onProgress: (p) => {
          const t = performance.now();
          if (t - last >= this.progressMs) {
            send(p);
            last = t;
            pending = null;
          } else pending = p;
        },
      });
      if (pending) send(pending);
      return { result, info: this.info(variant) };
    } finally {
      this.training = null;
    }
  }
}
