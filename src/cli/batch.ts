// The batch frame of the server-side tools (`classify`, `label`, `translate`): one JSON record
// per input line out, in input order. Lines are parsed on the main thread (a malformed or
// oversized line becomes an error record naming its line number and id, and the rest continues),
// collected into windows, sorted by length into batches of similar length and handed to the
// tool's runner (classify/label: a piscina pool of threads each holding the model; translate: a
// GraphWorkerPool or this thread); results are written as soon as every earlier line's result is
// known. Memory is bounded: at most 2 windows per worker are in flight.
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { Piscina } from 'piscina';

export interface BatchToolOptions {
  /** The model file's bytes (sent once to each worker). */
  model: Uint8Array;
  app: 'classifier' | 'labeler';
  workers: number;
  batchSize: number;
  /** Lines per window sorted by length (default 16 batches). */
  window?: number;
  /** A text longer than this many characters is answered with an error record. */
  maxChars: number;
  /** The worker script (dist/batch-worker.js). */
  workerFile: string | URL;
}

export interface Item {
  line: number;
  id: unknown;
  text: string;
}

/** The record that answers a line that could not be run. */
export interface ErrorRecord {
  line: number;
  id: unknown;
  error: string;
}

/** What a batch tool plugs into the frame. */
export interface BatchFrame<I extends Item> {
  /** One input line (numbered from 1) → an item, or the error record that answers it. */
  parse(raw: string, line: number): I | ErrorRecord;
  /** One result per item, in order; a rejection answers each of the batch's items with an error record. */
  run(items: I[]): Promise<object[]>;
  /** The output record of an item and its result (default { id, ...result }). */
  record?(item: I, result: object): object;
  batchSize: number;
  /** Lines per window sorted by length (default 16 batches). */
  window?: number;
  /** Workers behind run(): at most 2 windows per worker are in flight. */
  workers: number;
}

export interface BatchStats {
  lines: number;
  errors: number;
  seconds: number;
}

/** Parses one input line into an item, or the error record that answers it. */
export function parseLine(raw: string, line: number, maxChars: number): Item | ErrorRecord {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return { line, id: null, error: `Expected a JSON object on line ${line}, got ${JSON.stringify(raw.length > 40 ? raw.slice(0, 40) + '…' : raw)}` };
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return { line, id: null, error: `Expected a JSON object {"id", "text"} on line ${line}, got ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}` };
  const o = v as { id?: unknown; text?: unknown };
  const id = o.id ?? null;
  if (typeof o.text !== 'string') return { line, id, error: `Expected "text" to be a string on line ${line}, got ${o.text === undefined ? 'none' : typeof o.text}` };
  if (o.text.length > maxChars) return { line, id, error: `Expected "text" of at most ${maxChars} characters on line ${line}, got ${o.text.length}` };
  return { line, id, text: o.text };
}

/** Streams input lines through a batch tool's parse and run, writing one record per line in order. */
export async function runBatches<I extends Item>(input: Readable, output: Writable, f: BatchFrame<I>): Promise<BatchStats> {
  const t0 = Date.now();
  const done = new Map<number, string>();
  const record = f.record ?? ((item: I, res: object) => ({ id: item.id, ...res }));
  let next = 1;
  let errors = 0;
  const flush = async () => {
    while (done.has(next)) {
      const s = done.get(next)!;
      done.delete(next++);
      if (!output.write(s + '\n')) await new Promise((r) => output.once('drain', r));
    }
  };
  const inflight = new Set<Promise<void>>();
  const windowSize = f.window ?? f.batchSize * 16;
  const dispatch = (items: I[]) => {
    items.sort((a, b) => a.text.length - b.text.length);
    for (let i = 0; i < items.length; i += f.batchSize) {
      const batch = items.slice(i, i + f.batchSize);
      const p: Promise<void> = f
        .run(batch)
        .then(
          (res) => batch.forEach((b, k) => done.set(b.line, JSON.stringify(record(b, res[k])))),
          (e: Error) => batch.forEach((b) => (errors++, done.set(b.line, JSON.stringify({ line: b.line, id: b.id, error: String(e?.message ?? e) })))),
        )
        .finally(() => inflight.delete(p));
      inflight.add(p);
    }
  };
  let win: I[] = [];
  let line = 0;
  for await (const raw of createInterface({ input, crlfDelay: Infinity })) {
    line++;
    const r = f.parse(raw, line);
    if ('error' in r) errors++, done.set(line, JSON.stringify(r));
    else win.push(r);
    if (win.length >= windowSize) {
      dispatch(win);
      win = [];
      while (inflight.size >= 2 * f.workers * Math.ceil(windowSize / f.batchSize)) await Promise.race(inflight);
    }
    await flush();
  }
  dispatch(win);
  while (inflight.size) await Promise.race(inflight), await flush();
  await flush();
  return { lines: line, errors, seconds: (Date.now() - t0) / 1000 };
}

/** classify / label: the frame over a piscina pool whose threads each hold the classifier or labeler. */
export async function runBatchTool(input: Readable, output: Writable, o: BatchToolOptions): Promise<BatchStats> {
  const pool = new Piscina({ filename: o.workerFile.toString(), minThreads: o.workers, maxThreads: o.workers, idleTimeout: 2 ** 31 - 1, workerData: { model: o.model, app: o.app } });
  try {
    return await runBatches(input, output, {
      parse: (raw, line) => parseLine(raw, line, o.maxChars),
      run: (items) => pool.run({ texts: items.map((b) => b.text) }) as Promise<object[]>,
      batchSize: o.batchSize, window: o.window, workers: o.workers,
    });
  } finally {
    await pool.destroy();
  }
}
