// createServer: an application model over HTTP (Fastify), for `rnn-wasm serve` and for embedding.
//   POST /v1/classify | /v1/label | /v1/translate  { "texts": [..] } → { "results": [..] }, one per text
//   POST /v1/complete   { "prompt", ...CompleteOptions } → { "completion" }     (charlm)
//   POST /v1/generate   GenerateOptions { "condition", "count", … } → { "texts" } (generator)
//   GET  /healthz (the process answers), /readyz (workers hold the model; 503 while closing),
//        /metrics (Prometheus text: requests, batch sizes, latency)
// Only the endpoint of the loaded model's kind exists; another /v1/ path is a 404 naming the kind.
// Text verbs go through the dynamic batcher (./batcher.ts) to a worker pool (./pool.ts); every
// answer equals the library's call on that text. Limits answer 413 (body bytes, texts per request,
// characters per text) or 400 (malformed body) with { error, limit }; a request not answered
// within timeoutMs gets 504. close() stops accepting, finishes in-flight requests, stops workers.
// fastify, prom-client and piscina are imported when a server is created.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Histogram, Counter, Registry } from 'prom-client';
import { RnnWasmError, StateError, ValueError } from '../errors';
import { FormatError } from '../io/format';
import { checkOptions } from '../options';
import { Batcher } from './batcher';
import { startAppPool, type AppPool } from './pool';
import { ENDPOINTS, type AppKind, type TranslateVerbOptions } from './app';

/** Options of {@link createServer}: the model, workers, dynamic batching and request limits. */
export interface ServerOptions {
  /** A model file path or its bytes; several seq2seq files (or byte arrays) decode as an ensemble. */
  model: string | Uint8Array | readonly (string | Uint8Array)[];
  /** Worker threads holding the model (default 1). */
  workers?: number;
  /** Dynamic batching: wait this long for more requests after the first (default 2 ms; 0: off). */
  batchWindowMs?: number;
  /** Dynamic batching: at most this many texts per call (default 32; 1: off). */
  maxBatch?: number;
  /** Request body limit in bytes (default 1 MiB). */
  maxBodyBytes?: number;
  /** Texts per request (default 64). */
  maxTexts?: number;
  /** Characters per text or prompt (default 10,000). */
  maxChars?: number;
  /** Per-request timeout in ms (default 30,000). */
  timeoutMs?: number;
  /** Decoding options of /v1/translate. */
  translate?: TranslateVerbOptions;
  /** The worker script (default: batch-worker.js beside the library bundle). */
  workerFile?: string | URL;
}

/** A server made by {@link createServer}: the Fastify instance, `listen` and a graceful `close`. */
export interface RnnServer {
  /**
   * The Fastify instance, to add routes or hooks before listen(): cast it to fastify's
   * `FastifyInstance`. Typed `unknown` here so that the library's types need neither fastify's
   * nor Node's type declarations.
   */
  readonly app: unknown;
  /** The loaded model's kind. */
  readonly kind: AppKind;
  /** Listens (default host 127.0.0.1, port 0: a free port); resolves to the address, e.g. http://127.0.0.1:8080. */
  listen(o?: { port?: number; host?: string }): Promise<string>;
  /** Stops accepting, answers every accepted request, then stops the workers. */
  close(): Promise<void>;
}

const nodeImport = (name: string): Promise<Record<string, unknown>> => import(/* @vite-ignore */ name);
/** A package the server needs, with an error that says how to get it. */
const needed = (name: string): Promise<Record<string, unknown>> =>
  nodeImport(name).catch((e: Error) => {
    throw new StateError(`Expected the package ${name} for createServer (npm install fastify@5 prom-client@15), got ${e.message.split('\n')[0]}`);
  });

function positive(name: string, v: number | undefined, dflt: number, min = 1): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new ValueError(`Expected ${name} to be an integer ≥ ${min}, got ${String(v)}`);
  return v;
}

/** A limit or a malformed request: the status and the JSON error. */
class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly limit?: string,
  ) {
    super(message);
  }
}

async function modelBytes(model: ServerOptions['model']): Promise<Uint8Array[]> {
  const list = typeof model === 'string' || model instanceof Uint8Array ? [model] : model;
  if (!Array.isArray(list) || list.length === 0) throw new ValueError(`Expected model to be a file path, bytes or a non-empty array of them, got ${String(model)}`);
  const { readFile } = (await nodeImport('node:fs/promises')) as typeof import('node:fs/promises');
  return Promise.all(list.map(async (m: string | Uint8Array) => {
    if (m instanceof Uint8Array) return m;
    if (typeof m !== 'string') throw new ValueError(`Expected model to be a file path or bytes, got ${typeof m}`);
    return new Uint8Array(await readFile(m));
  }));
}

/** An HTTP server for one application model (see the file header); call listen() to serve. */
export async function createServer(o: ServerOptions): Promise<RnnServer> {
  if (!o || typeof o !== 'object') throw new ValueError(`Expected server options { model, … }, got ${String(o)}`);
  checkOptions(o, ['model', 'workers', 'batchWindowMs', 'maxBatch', 'maxBodyBytes', 'maxTexts', 'maxChars', 'timeoutMs', 'translate', 'workerFile'], 'server options');
  checkOptions(o.translate, ['beam', 'nbest', 'alpha', 'maxLength', 'batchSize', 'attention'], 'translate options');
  const workers = positive('workers', o.workers, 1);
  const windowMs = positive('batchWindowMs', o.batchWindowMs, 2, 0);
  const maxBatch = positive('maxBatch', o.maxBatch, 32);
  const maxBodyBytes = positive('maxBodyBytes', o.maxBodyBytes, 1 << 20);
  const maxTexts = positive('maxTexts', o.maxTexts, 64);
  const maxChars = positive('maxChars', o.maxChars, 10_000);
  const timeoutMs = positive('timeoutMs', o.timeoutMs, 30_000);
  const models = await modelBytes(o.model);
  const { default: Fastify } = (await needed('fastify')) as unknown as { default: (o: object) => FastifyInstance };
  const prom = (await needed('prom-client')) as unknown as typeof import('prom-client');

  const pool: AppPool = await startAppPool({ models, translate: o.translate }, workers, undefined, o.workerFile);
  let kind: AppKind;
  try {
    // every worker loads the model (a wrong file fails here) before the server reports ready
    const infos = (await Promise.all(Array.from({ length: workers }, () => pool.run({ info: true })))) as ({ kind: AppKind } | { error: { name: string; message: string } })[];
    const failed = infos.find((i): i is { error: { name: string; message: string } } => 'error' in i);
    if (failed) {
      const { name, message } = failed.error;
      throw name === 'FormatError' ? new FormatError(message) : name === 'ValueError' ? new ValueError(message) : Object.assign(new RnnWasmError(message), { name });
    }
    ({ kind } = infos[0] as { kind: AppKind });
  } catch (e) {
    await pool.destroy();
    throw e;
  }

  const registry: Registry = new prom.Registry();
  const requests: Counter<'route' | 'status'> = new prom.Counter({ name: 'rnnwasm_requests_total', help: 'HTTP requests answered, by route and status', labelNames: ['route', 'status'], registers: [registry] });
  const textsTotal: Counter = new prom.Counter({ name: 'rnnwasm_texts_total', help: 'texts answered by the model', registers: [registry] });
  const batchSizes: Histogram = new prom.Histogram({ name: 'rnnwasm_batch_size', help: 'texts per model call (dynamic batching)', buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256], registers: [registry] });
  const latency: Histogram<'route'> = new prom.Histogram({ name: 'rnnwasm_request_duration_seconds', help: 'request latency, by route', labelNames: ['route'], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry] });

  const batcher = new Batcher((texts) => pool.run({ texts }) as Promise<object[]>, { windowMs, maxBatch, capacity: workers, onBatch: (n) => batchSizes.observe(n) });
  const app = Fastify({ bodyLimit: maxBodyBytes, return503OnClosing: true, forceCloseConnections: 'idle' });
  let closing = false;
  const verb = ENDPOINTS[kind];

  const within = <T>(p: Promise<T>): Promise<T> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, fail) => (timer = setTimeout(() => fail(new RequestError(504, `Expected an answer within ${timeoutMs} ms, got none`, 'timeoutMs')), timeoutMs)));
    return Promise.race([p, late]).finally(() => clearTimeout(timer));
  };
  const body = (req: FastifyRequest): Record<string, unknown> => {
    const b = req.body;
    if (b === null || typeof b !== 'object' || Array.isArray(b)) throw new RequestError(400, `Expected a JSON object body, got ${b === undefined ? 'none' : Array.isArray(b) ? 'an array' : typeof b}`);
    return b as Record<string, unknown>;
  };
  const checkChars = (s: string, what: string) => {
    if (s.length > maxChars) throw new RequestError(413, `Expected at most ${maxChars} characters per ${what}, got ${s.length}`, 'maxChars');
  };
  // a library error from a worker (bad options) is the client's; anything else is ours
  const fromWorker = (e: unknown): never => {
    const m = String((e as Error)?.message ?? e);
    throw m.startsWith('Expected') ? new RequestError(400, m) : e;
  };

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _req, reply) => {
    if (err instanceof RequestError) return reply.code(err.status).send(err.limit ? { error: err.message, limit: err.limit } : { error: err.message });
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.code(413).send({ error: `Expected a body of at most ${maxBodyBytes} bytes, got more`, limit: 'maxBodyBytes' });
    if (err.statusCode && err.statusCode < 500) return reply.code(err.statusCode).send({ error: err.message });
    return reply.code(500).send({ error: err.message });
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unknown';
    requests.inc({ route, status: String(reply.statusCode) });
    latency.observe({ route }, reply.elapsedTime / 1000);
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => (closing ? reply.code(503).send({ status: 'closing' }) : { status: 'ready', kind }));
  app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));

  if (verb === 'classify' || verb === 'label' || verb === 'translate') {
    app.post(`/v1/${verb}`, async (req: FastifyRequest) => {
      const texts = body(req).texts;
      if (!Array.isArray(texts) || texts.length === 0 || !texts.every((t) => typeof t === 'string')) throw new RequestError(400, `Expected "texts" to be a non-empty array of strings, got ${Array.isArray(texts) ? (texts.length ? 'other values' : 'an empty array') : typeof texts}`);
      if (texts.length > maxTexts) throw new RequestError(413, `Expected at most ${maxTexts} texts per request, got ${texts.length}`, 'maxTexts');
      texts.forEach((t) => checkChars(t, 'text'));
      const results = await within(batcher.submit(texts).catch(fromWorker));
      textsTotal.inc(texts.length);
      return { results };
    });
  } else if (verb === 'complete') {
    app.post('/v1/complete', async (req: FastifyRequest) => {
      const { prompt, ...opts } = body(req);
      if (typeof prompt !== 'string') throw new RequestError(400, `Expected "prompt" to be a string, got ${typeof prompt}`);
      checkChars(prompt, 'prompt');
      const [r] = (await within((pool.run({ texts: [prompt], opts }) as Promise<object[]>).catch(fromWorker))) as { completion: string }[];
      textsTotal.inc(1);
      return r;
    });
  } else if (verb === 'generate') {
    app.post('/v1/generate', async (req: FastifyRequest) => {
      const b = body(req);
      const [r] = (await within((pool.run({ texts: [JSON.stringify(b)] }) as Promise<object[]>).catch(fromWorker))) as { texts: string[] }[];
      textsTotal.inc(1);
      return r;
    });
  }
  app.setNotFoundHandler((req: FastifyRequest, reply: FastifyReply) => {
    const have = verb ? `/v1/${verb}` : 'no /v1/ endpoint';
    reply.code(404).send({ error: `Expected ${verb ? `POST ${have}` : 'a model kind with a text endpoint'} for this ${kind} model, got ${req.method} ${req.url}`, kind });
  });

  let closed: Promise<void> | null = null;
  return {
    app,
    kind,
    async listen(l = {}) {
      return app.listen({ port: l.port ?? 0, host: l.host ?? '127.0.0.1' });
    },
    close() {
      closing = true;
      closed ??= app.close().then(() => pool.destroy());
      return closed;
    },
  };
}
