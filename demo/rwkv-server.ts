// The playground worker's RWKV-7 side: the same request protocol as serveCharLM ({ id, op, args } in,
// { id, ok, value } / { id, progress } out), so the page drives an RWKV-7 through the same
// CharLMWorker client. The page's settings map onto RWKV-7 as rwkv7Config() says; progress, results
// and the summary come in CharLM's shapes (bits/char, characters/s: a character is a token here).
// Training is fitRwkv7 on the library's shared loop: it yields between steps, so sample, stop and
// scoring requests are served mid-run.
import { init, createRwkv7, importRwkv7, rwkv7ToBytes, fitRwkv7, sampleRwkv7, completeRwkv7, bitsPerCharRwkv7, CharTokenizer, StateError, ValueError, type RWKV7, type Rwkv7Config } from '../dist/index.js';

/** Channels per head of the page's RWKV-7 (the official small models use 64; 16 keeps tiny widths usable). */
export const RWKV7_HEAD = 16;

/** The page's cell, layers and hidden size as an RWKV-7: width = hidden rounded to a multiple of the head size. */
export function rwkv7Config(vocabSize: number, layers: number, hidden: number): Rwkv7Config {
  const dim = Math.max(RWKV7_HEAD, Math.round(hidden / RWKV7_HEAD) * RWKV7_HEAD);
  const r = Math.min(32, dim);
  return { vocabSize, dim, headSize: RWKV7_HEAD, layers, ffnDim: 4 * dim, lora: { w: r, a: r, v: r, g: r } };
}

/** Whether model-file bytes are a safetensors file (an RWKV-7's) rather than an .rnnw ("RNNWASM\0"). */
export function isRwkv7Bytes(b: Uint8Array): boolean {
  return b.length > 9 && b[8] === 0x7b && !(b[0] === 0x52 && b[1] === 0x4e && b[2] === 0x4e && b[3] === 0x57);
}

interface Request {
  id: number;
  op: string;
  args: unknown[];
}

type Post = (message: unknown, transfer?: Transferable[]) => void;

export class Rwkv7Server {
  private m: RWKV7 | null = null;
  private training: AbortController | null = null;
  private readonly ready = init();

  constructor(private readonly post: Post, private readonly progressMs: number) {}

  /** Whether a model is held (the worker routes the page's requests here while one is). */
  get active(): boolean {
    return this.m !== null;
  }

  async handle(req: Request): Promise<void> {
    try {
      const { variant } = await this.ready;
      const value = await this.run(req, variant);
      this.post({ id: req.id, ok: true, value }, value instanceof Uint8Array ? [value.buffer] : []);
    } catch (e) {
      const err = e instanceof Error ? { name: e.name, message: e.message } : { name: 'Error', message: String(e) };
      this.post({ id: req.id, ok: false, error: err });
    }
  }

  /** Drops the model (the page switched to another cell). */
  dispose(): void {
    this.training?.abort();
    this.m?.dispose();
    this.m = null;
  }

  private model(): RWKV7 {
    if (!this.m) throw new StateError('Expected an RWKV-7 model in the worker (send create or load first), got none');
    return this.m;
  }

  private info(variant: string) {
    const m = this.model();
    const c = m.config;
    return { variant, config: { cell: 'rwkv7', numLayers: c.layers, hiddenSize: c.dim, embeddingDim: c.dim }, vocabulary: [...(m.tokenizer as CharTokenizer).chars], step: m.step, numParameters: m.parameterCount };
  }

  private replace(m: RWKV7): void {
    if (this.training) {
      m.dispose();
      throw new StateError('Expected no training in progress, got one (stop it first)');
    }
    this.m?.dispose();
    this.m = m;
  }

  private async run(req: Request, variant: string): Promise<unknown> {
    const a = req.args;
    switch (req.op) {
      case 'create': {
        const text = a[0] as string;
        const o = (a[1] ?? {}) as { numLayers?: number; hiddenSize?: number; seed?: number };
        const tok = CharTokenizer.fromText(text);
        const m = createRwkv7(rwkv7Config(tok.size, o.numLayers ?? 1, o.hiddenSize ?? 64), o.seed ?? 1);
        m.tokenizer = tok;
        this.replace(m);
        return this.info(variant);
      }
      case 'load':
        this.replace(await importRwkv7(a[0] as Uint8Array));
        return this.info(variant);
      case 'train':
        return this.train(req.id, a[0] as string, (a[1] ?? {}) as { steps: number; seqLen?: number; batchSize?: number; lr?: number }, variant);
      case 'stop':
        this.training?.abort();
        return this.training !== null;
      case 'sample': {
        const o = (a[0] ?? {}) as { length?: number; temperature?: number; seed?: number };
        return sampleRwkv7(this.model(), { length: o.length ?? 200, temperature: o.temperature, seed: o.seed });
      }
      case 'complete': {
        const o = (a[1] ?? {}) as { maxLength?: number; temperature?: number; seed?: number };
        return completeRwkv7(this.model(), a[0] as string, { maxLength: o.maxLength, temperature: o.temperature, seed: o.seed });
      }
      case 'bitsPerChar':
        return bitsPerCharRwkv7(this.model(), a[0] as string);
      case 'hiddenStates':
        return this.hiddenStates(a[0] as string);
      case 'serialize':
        // { optimizer: false }: the weights only (the page's copy); otherwise the file resumes the run
        return rwkv7ToBytes(this.model(), { training: (a[0] as { optimizer?: boolean } | undefined)?.optimizer !== false });
      case 'info':
        return this.info(variant);
      default:
        throw new ValueError(`Expected an op the RWKV-7 worker serves, got ${JSON.stringify(req.op)}`);
    }
  }

  /**
   * The heatmap's rows for RWKV-7: after each character, the last block's channel-mix input (its
   * layer-normed residual stream, the token-shift vector the state keeps), one unit per channel.
   */
  private hiddenStates(text: string) {
    const m = this.model();
    const tok = m.tokenizer as CharTokenizer;
    const ids = tok.encode(text);
    const { dim: C, layers: L, headSize: N } = m.config;
    const ffn = (L - 1) * (2 * C + C * N) + C + C * N; // the last layer's ffn shift in the state
    const values = new Float32Array(ids.length * C);
    const s = m.stream();
    try {
      ids.forEach((id, t) => {
        s.step(id);
        values.set(s.getState().data.subarray(ffn, ffn + C), t * C);
      });
    } finally {
      s.dispose();
    }
    return { chars: ids.map((id) => tok.chars[id]), units: C, values };
  }

  private async train(id: number, text: string, o: { steps: number; seqLen?: number; batchSize?: number; lr?: number }, variant: string) {
    const m = this.model();
    if (this.training) throw new StateError('Expected no training in progress, got one');
    const ac = new AbortController();
    this.training = ac;
    let last = -Infinity;
    let pending: unknown = null;
    const send = (p: unknown) => this.post({ id, progress: p });
    try {
      const r = await fitRwkv7(m, text, {
        steps: o.steps, signal: ac.signal,
        ...(m.trainSettings ? {} : { seqLen: o.seqLen, batch: o.batchSize, lr: o.lr }),
        onProgress: (p) => {
          const q = { step: p.step, targetStep: p.targetStep, loss: p.loss, bitsPerChar: p.loss / Math.LN2, charsPerSecond: p.tokensPerSecond, elapsedMs: p.elapsedMs, etaMs: p.etaMs };
          const t = performance.now();
          if (t - last >= this.progressMs) {
            send(q);
            last = t;
            pending = null;
          } else pending = q;
        },
      });
      if (pending) send(pending);
      const result = { steps: r.steps, totalSteps: r.totalSteps, stopped: r.stopped, trainBitsPerChar: r.loss / Math.LN2, elapsedMs: r.elapsedMs };
      return { result, info: this.info(variant) };
    } finally {
      this.training = null;
    }
  }
}
