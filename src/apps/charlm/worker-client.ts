// The page side of serveCharLM (worker.ts): a CharLMWorker wraps a Worker (or a MessagePort)
// whose script called serveCharLM(), and gives the CharLM API as promises. Errors thrown in the
// worker are rebuilt with their class (ValueError, StateError, FormatError …); a worker that dies
// or fails to load rejects every pending call with WorkerError.
import { DTypeError, RnnWasmError, ShapeError, StateError, ValueError, show } from '../../errors';
import { FormatError } from '../../io/format';
import { WorkerError } from '../../parallel/protocol';
import type { CharLMOptions } from './options';
import type { SampleOptions, CompleteOptions } from './charlm';
import type { TrainOptions, TrainProgress, TrainResult } from './train';
import type { CharLMInfo, WorkerRequest } from './worker';
import type { HiddenStates } from './activations';

/** A Worker, or a MessagePort whose other end runs serveCharLM. */
export interface WorkerLike {
  /** Listens for messages and errors. */
  addEventListener(type: 'message' | 'error' | 'messageerror', fn: (e: Event) => void): void;
  /** Sends a message, transferring the listed buffers. */
  postMessage(message: unknown, transfer?: Transferable[]): void;
  /** Stops a worker. */
  terminate?(): void;
  /** Closes a message port. */
  close?(): void;
}

/** Train options for the worker: budgets and settings as for CharLM.train, plus page-side hooks. */
export interface WorkerTrainOptions extends Omit<TrainOptions, 'onProgress' | 'signal' | 'workers'> {
  /** Called with the worker's progress messages (at most every `progressMs` of serveCharLM). */
  onProgress?: (p: TrainProgress) => void;
  /** Aborting it stops training between steps (as stop()). */
  signal?: AbortSignal;
}

const ERRORS: Record<string, new (m: string) => RnnWasmError> = { ShapeError, DTypeError, ValueError, StateError, FormatError, WorkerError, RnnWasmError };

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  onProgress?: (p: TrainProgress) => void;
}

/**
 * The page side of a CharLM running in a worker (whose script calls {@link serveCharLM}): the CharLM methods
 * as promises, training with progress messages and `stop()`, the model file as bytes. Errors keep their
 * class; a worker that dies rejects pending calls with `WorkerError`.
 */
export class CharLMWorker {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private dead: WorkerError | null = null;

  /** Wraps a worker whose script calls serveCharLM() (e.g. `new Worker(url, { type: 'module' })`). */
  constructor(private readonly worker: WorkerLike) {
    if (!worker || typeof worker.postMessage !== 'function' || typeof worker.addEventListener !== 'function') throw new ValueError(`Expected a Worker or MessagePort, got ${show(worker)}`);
    worker.addEventListener('message', (e) => this.receive((e as MessageEvent).data));
    worker.addEventListener('error', (e) => this.fail(`Expected the worker to run, got an error: ${(e as ErrorEvent).message ?? 'script failed to load'}`));
    worker.addEventListener('messageerror', () => this.fail('Expected readable messages from the worker, got one that could not be deserialized'));
    (worker as { start?: () => void }).start?.();
  }

  /** A new model in the worker whose vocabulary is text's characters (options as CharLM.fromText). */
  create(text: string, o: CharLMOptions = {}): Promise<CharLMInfo> {
    return this.call('create', [text, o]) as Promise<CharLMInfo>;
  }

  /** Loads a model file (bytes, ArrayBuffer or Blob — e.g. one the CLI wrote) into the worker. */
  async load(source: Uint8Array | ArrayBuffer | Blob): Promise<CharLMInfo> {
    const bytes = typeof Blob !== 'undefined' && source instanceof Blob ? new Uint8Array(await source.arrayBuffer()) : source;
    if (!(bytes instanceof Uint8Array || bytes instanceof ArrayBuffer)) throw new ValueError(`Expected a Uint8Array, ArrayBuffer or Blob, got ${show(source)}`);
    return this.call('load', [bytes]) as Promise<CharLMInfo>;
  }

  /** Trains in the worker; resolves when the budget is spent or stop() was called (stopped 'signal'). Call again to resume. */
  async train(text: string, o: WorkerTrainOptions): Promise<{ result: TrainResult; info: CharLMInfo }> {
    if (!o || typeof o !== 'object') throw new ValueError(`Expected train options as an object, got ${show(o)}`);
    const { onProgress, signal, ...rest } = o;
    if (onProgress !== undefined && typeof onProgress !== 'function') throw new ValueError(`Expected onProgress to be a function, got ${typeof onProgress}`);
    if (signal !== undefined && !(typeof signal === 'object' && signal !== null && 'aborted' in signal)) throw new ValueError(`Expected signal to be an AbortSignal, got ${show(signal)}`);
    const stop = () => void this.stop();
    signal?.addEventListener('abort', stop);
    try {
      return (await this.call('train', [text, rest], onProgress)) as { result: TrainResult; info: CharLMInfo };
    } finally {
      signal?.removeEventListener('abort', stop);
    }
  }

  /** Asks a running train() to stop after its current step; resolves true if one was running. */
  stop(): Promise<boolean> {
    return this.call('stop', []) as Promise<boolean>;
  }

  /** Samples text from the model (as `CharLM.sample`). */
  sample(o: SampleOptions = {}): Promise<string> {
    return this.call('sample', [o]) as Promise<string>;
  }

  /** Completes a prompt (as `CharLM.complete`). */
  complete(prompt: string, o: CompleteOptions = {}): Promise<string> {
    return this.call('complete', [prompt, o]) as Promise<string>;
  }

  /** Bits per character of a text under the model (as `CharLM.bitsPerChar`). */
  bitsPerChar(text: string): Promise<number> {
    return this.call('bitsPerChar', [text]) as Promise<number>;
  }

  /** The last recurrent layer's hidden state after each character of text. */
  hiddenStates(text: string): Promise<HiddenStates> {
    return this.call('hiddenStates', [text]) as Promise<HiddenStates>;
  }

  /** The model file's bytes (the same format CharLM.serialize and the CLI write). */
  serialize(o: { optimizer?: boolean } = {}): Promise<Uint8Array<ArrayBuffer>> {
    return this.call('serialize', [o]) as Promise<Uint8Array<ArrayBuffer>>;
  }

  /** A summary of the model in the worker: binary, configuration, vocabulary, step and size. */
  info(): Promise<CharLMInfo> {
    return this.call('info', []) as Promise<CharLMInfo>;
  }

  /** Terminates the worker (or closes the port); pending calls reject with WorkerError. */
  terminate(): void {
    this.worker.terminate?.();
    this.worker.close?.();
    this.fail('Expected a live worker, got one that was terminated');
  }

  private call(op: string, args: unknown[], onProgress?: (p: TrainProgress) => void): Promise<unknown> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress });
      const req: WorkerRequest = { id, op, args };
      try {
        this.worker.postMessage(req);
      } catch (e) {
        this.pending.delete(id);
        reject(new ValueError(`Expected arguments that can be posted to a worker, got: ${(e as Error).message}`));
      }
    });
  }

  private receive(m: { id: number; ok?: boolean; value?: unknown; progress?: TrainProgress; error?: { name: string; message: string } }): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    if (m.progress) {
      p.onProgress?.(m.progress);
      return;
    }
    this.pending.delete(m.id);
    if (m.ok) p.resolve(m.value);
    else {
      const C = ERRORS[m.error!.name];
      p.reject(C ? new C(m.error!.message) : new WorkerError(`Expected the worker call to finish, got ${m.error!.name}: ${m.error!.message}`));
    }
  }

  private fail(message: string): void {
    this.dead ??= new WorkerError(message);
    for (const p of this.pending.values()) p.reject(this.dead);
    this.pending.clear();
  }
}
