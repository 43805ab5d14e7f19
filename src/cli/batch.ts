// The streaming frame of the batch tools (`classify`, `label`, `translate`): one JSON record per
// input line out, in input order, written as soon as every earlier line is answered.
//   main thread  reads bytes, splits lines on \n only (a \r\n ending loses its \r, a bare \r stays
//                in the record; a leading UTF-8 BOM is skipped), answers a line longer than the
//                byte limit without buffering it, gathers lines into windows sorted by byte length,
//                hands batches of raw bytes to the workers and writes their finished lines in order;
//   workers      (./batch-worker.ts) decode, parse, check, run the model and format each record.
// Memory is bounded by the window: reading stops while `maxPending` lines are read but unwritten.
// A window is also sent when input pauses (IDLE_MS), so a slow producer sees answers promptly.
// A task (several model batches; a worker holds two) whose worker fails (e.g. runs out of memory)
// is retried one record at a time, each alone in the pool, so only the record that fails alone gets
// an error record. `--output FILE --resume` continues a killed run: the complete lines already in
// FILE answer the first input lines (a torn last line is cut).
import type { Readable, Writable } from 'node:stream';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { open, stat, truncate } from 'node:fs/promises';
import type { Command } from 'commander';
import { parse, UsageError } from './frame';
import { FileError } from './files';
import type { LinesResult, LinesTask } from './batch-worker';
import { startAppPool, type AppWorkerData } from '../serve/pool';

/** What the frame needs from the worker pool. */
export interface LinePool {
  run(task: LinesTask): Promise<LinesResult>;
}

export interface FrameOptions {
  /** Records per model call; a worker task holds several such batches. */
  batchSize: number;
  /** Lines per window sorted by length (default 16 batches). */
  window?: number;
  workers: number;
  /** A line of more bytes is answered with an error record by the main thread. */
  maxLineBytes: number;
  /** 'text': the id of a record is its line number (used by records the main thread answers). */
  format: 'jsonl' | 'text';
  /** Lines already answered (resume): they are read and dropped. */
  skip?: number;
}

export interface BatchStats {
  lines: number;
  errors: number;
  /** Lines answered by an earlier run (resume). */
  skipped: number;
  seconds: number;
}

interface RawLine {
  line: number;
  bytes: Uint8Array;
  tooLong: boolean;
}

const IDLE_MS = 30;
const CR = 13;
const LF = 10;

/** Input bytes → lines (numbered from 1), one array per input chunk; a line past maxBytes keeps no bytes. */
export async function* readLines(input: AsyncIterable<Buffer | string>, maxBytes: number): AsyncGenerator<RawLine[]> {
  let parts: Buffer[] = [];
  let len = 0;
  let over = false;
  let n = 0;
  const add = (seg: Buffer) => {
    if (over || seg.length === 0) return;
    // +1: a \r that a \r\n ending will drop does not count
    if (len + seg.length > maxBytes + 1) (over = true), (parts = []);
    else parts.push(seg), (len += seg.length);
  };
  const finish = (): RawLine => {
    n++;
    let b: Uint8Array = over ? new Uint8Array(0) : parts.length === 1 ? parts[0] : Buffer.concat(parts, len);
    if (b.length && b[b.length - 1] === CR) b = b.subarray(0, b.length - 1);
    if (n === 1 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) b = b.subarray(3);
    const r = { line: n, bytes: b, tooLong: over || b.length > maxBytes };
    parts = [];
    len = 0;
    over = false;
    return r;
  };
  for await (const c of input) {
    const chunk = typeof c === 'string' ? Buffer.from(c) : c;
    const out: RawLine[] = [];
    let start = 0;
    for (let i = chunk.indexOf(LF); i >= 0; i = chunk.indexOf(LF, start)) {
      add(chunk.subarray(start, i));
      out.push(finish());
      start = i + 1;
    }
    add(chunk.subarray(start));
    if (out.length) yield out;
  }
  if (len > 0 || over) yield [finish()];
}

/** The id the main thread gives a line it answers itself (too long, or failing alone in a worker). */
function idOf(l: RawLine, format: 'jsonl' | 'text'): unknown {
  if (format === 'text') return l.line;
  if (l.tooLong) return null;
  try {
    const v = JSON.parse(Buffer.from(l.bytes).toString('utf8')) as { id?: unknown };
    return v && typeof v === 'object' && !Array.isArray(v) ? (v.id ?? null) : null;
  } catch {
    return null;
  }
}

const errorRecord = (line: number, id: unknown, error: string) => JSON.stringify({ line, id, error });

/** Streams input lines through the worker pool, writing one record per line in order. */
export async function streamBatches(input: AsyncIterable<Buffer | string>, output: Writable, pool: LinePool, o: FrameOptions): Promise<BatchStats> {
  const t0 = Date.now();
  const skip = o.skip ?? 0;
  const windowSize = o.window ?? o.batchSize * 16;
  const maxPending = windowSize * (2 * o.workers + 1);
  // a task holds several model batches (the worker runs them one after another): one message per
  // worker and window, not one per batch
  const taskLines = o.batchSize * Math.max(1, Math.floor(windowSize / o.batchSize / o.workers));
  const done = new Map<number, Uint8Array>(); // finished output lines (with their \n) not yet written
  const inflight = new Set<Promise<void>>();
  let next = skip + 1; // the next line to write
  let last = skip; // the last line read
  let errors = 0;
  let win: RawLine[] = [];

  // every line whose turn has come, in one write
  const flush = () => {
    const ready: Uint8Array[] = [];
    for (let b = done.get(next); b; b = done.get(next)) ready.push(b), done.delete(next++);
    if (ready.length) output.write(ready.length === 1 ? ready[0] : Buffer.concat(ready));
  };
  const answer = (l: RawLine, error: string) => (errors++, done.set(l.line, Buffer.from(errorRecord(l.line, idOf(l, o.format), error) + '\n')));
  // A worker holds up to two tasks (see runBatchTool), and a crash fails every task it holds: so a
  // failed task is run again record by record, each record alone in the pool (no other task in
  // flight, none started meanwhile), and only a record that fails alone is the culprit.
  let running = 0;
  let alone = 0; // alone tasks waiting or running: other tasks wait for them
  let wake: (() => void)[] = [];
  const changed = () => new Promise<void>((ok) => wake.push(ok));
  const settle = () => {
    const w = wake;
    wake = [];
    for (const ok of w) ok();
  };
  const runBatch = async (batch: RawLine[], isAlone = false): Promise<void> => {
    if (isAlone) {
      alone++;
      while (running > 0) await changed();
    } else while (alone > 0) await changed();
    running++;
    const ends: number[] = [];
    let total = 0;
    for (const l of batch) ends.push((total += l.bytes.length));
    const bytes = new Uint8Array(total);
    batch.forEach((l, k) => bytes.set(l.bytes, k ? ends[k - 1] : 0));
    let failure: Error | undefined;
    try {
      const r = await pool.run({ bytes, ends, lines: batch.map((l) => l.line), batch: o.batchSize });
      errors += r.errors;
      batch.forEach((l, k) => done.set(l.line, r.bytes.subarray(k ? r.ends[k - 1] : 0, r.ends[k])));
    } catch (e) {
      failure = e as Error;
    } finally {
      running--;
      if (isAlone) alone--;
      settle();
    }
    if (!failure) return;
    if (isAlone) return void answer(batch[0], `Expected line ${batch[0].line} to run within the worker's limits, got ${String(failure?.message ?? failure).split('\n')[0]}`);
    await Promise.all(batch.map((l) => runBatch([l], true)));
  };
  const dispatch = () => {
    const items = win.sort((a, b) => a.bytes.length - b.bytes.length);
    win = [];
    for (let i = 0; i < items.length; i += taskLines) {
      const p: Promise<void> = runBatch(items.slice(i, i + taskLines)).finally(() => (inflight.delete(p), flush()));
      inflight.add(p);
    }
  };
  const accept = (l: RawLine) => {
    if (l.line <= skip) return;
    last = l.line;
    if (l.tooLong) answer(l, `Expected a line of at most ${o.maxLineBytes} bytes on line ${l.line}, got more`);
    else win.push(l);
    if (win.length >= windowSize) dispatch();
  };

  const lines = readLines(input, o.maxLineBytes)[Symbol.asyncIterator]();
  const IDLE = Symbol('idle');
  for (;;) {
    flush();
    while (last - (next - 1) >= maxPending && inflight.size) await Promise.race(inflight);
    if (output.writableNeedDrain) await new Promise((r) => output.once('drain', r));
    const pending = lines.next();
    let timer: NodeJS.Timeout | undefined;
    let r = await Promise.race([pending, new Promise<typeof IDLE>((ok) => (timer = setTimeout(ok, IDLE_MS, IDLE)))]);
    clearTimeout(timer);
    if (r === IDLE) {
      // the input paused: send what is read so far
      if (win.length) dispatch();
      r = await pending;
    }
    if (r.done) break;
    for (const l of r.value) accept(l);
  }
  if (win.length) dispatch();
  while (inflight.size) await Promise.race(inflight);
  flush();
  return { lines: last, errors, skipped: skip, seconds: (Date.now() - t0) / 1000 };
}

/** The batch tools' shared flags; a tool adds its own after these. */
export function streamFlags(cmd: Command, o: { batch: number; maxChars: number }): Command {
  return cmd
    .option('--format <f>', 'jsonl ({"id", "text"} per line), text (the line is the text; id = line number) or auto (jsonl when the first line starts with {)', parse.oneOf(['auto', 'text', 'jsonl'] as const), 'auto')
    .option('--workers <n>', 'worker threads', parse.int(1), 1)
    .option('--batch <b>', 'records per model call (records of similar length are batched together)', parse.int(1), o.batch)
    .option('--max-chars <n>', 'longer texts get an error record', parse.int(1), o.maxChars)
    .option('--output <file>', 'write the records to this file instead of stdout')
    .option('--resume', 'continue the --output file of a killed run: its complete lines answer the first input lines')
    .option('--worker-memory <mb>', "each worker's JS heap limit in MiB (a record that exceeds it alone gets an error record)", parse.int(16), 512);
}

/** Opens --output (new, or continued with --resume): the stream and the lines it already answers. */
export async function openOutput(path: string | undefined, resume: boolean): Promise<{ out: Writable; skip: number; close(): Promise<void> }> {
  if (!path) {
    if (resume) throw new UsageError('Expected --output FILE with --resume, got no --output');
    return { out: process.stdout, skip: 0, close: async () => undefined };
  }
  const size = await stat(path).then((s) => s.size, () => 0);
  if (size > 0 && !resume) throw new UsageError(`Expected a new --output file or --resume, got ${path} with ${size} bytes`);
  let skip = 0;
  let keep = 0;
  if (size > 0) {
    // count the complete lines; a torn last line (the kill came mid-write) is cut
    const fh = await open(path, 'r');
    try {
      const buf = Buffer.alloc(1 << 16);
      for (let pos = 0; pos < size; ) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
        if (bytesRead === 0) break;
        for (let i = buf.indexOf(LF); i >= 0 && i < bytesRead; i = buf.indexOf(LF, i + 1)) skip++, (keep = pos + i + 1);
        pos += bytesRead;
      }
    } finally {
      await fh.close();
    }
    if (keep < size) await truncate(path, keep);
  }
  const out: WriteStream = createWriteStream(path, { flags: size > 0 ? 'a' : 'w' });
  await new Promise<void>((ok, fail) => out.once('open', () => ok()).once('error', (e) => fail(new FileError(`Expected a writable --output at ${path}, got ${e.message}`))));
  return { out, skip, close: () => new Promise<void>((ok, fail) => out.end((e?: Error | null) => (e ? fail(e) : ok()))) };
}

/** The whole batch tool: input (a file or stdin), the pool, the frame, --output/--resume; returns the stats. */
export async function runBatchTool(inputPath: string | undefined, o: Record<string, unknown>, data: Omit<AppWorkerData, 'format' | 'maxChars'>, batchSize: number): Promise<BatchStats> {
  const input: Readable = inputPath ? createReadStream(inputPath) : process.stdin;
  if (inputPath) await new Promise<void>((ok, fail) => input.once('open', () => ok()).once('error', (e: Error) => fail(new FileError(`Expected a readable input at ${inputPath}, got ${e.message}`))));
  const { out, skip, close } = await openOutput(o.output as string | undefined, o.resume === true);
  const maxChars = o.maxChars as number;
  const sniffed = o.format === 'auto' ? await sniffFormat(input) : { format: o.format as 'jsonl' | 'text', input };
  const format = sniffed.format;
  // two tasks per worker: the next one waits in the worker while it runs the current one
  const pool = await startAppPool({ ...data, format, maxChars, threads: o.threads as number | undefined }, o.workers as number, o.workerMemory as number | undefined, undefined, 2);
  try {
    const pl: LinePool = { run: (t) => pool.run(t, { transferList: [t.bytes.buffer as ArrayBuffer] }) as Promise<LinesResult> };
    // a JSON-escaped character takes at most 6 bytes (\uXXXX), plus the record around it
    return await streamBatches(sniffed.input, out, pl, { batchSize, workers: o.workers as number, maxLineBytes: maxChars * 6 + 4096, format, skip });
  } finally {
    await pool.destroy();
    await close();
  }
}

/** --format auto: JSONL when the first non-blank byte (after a BOM) is {; the input is replayed from its start. */
async function sniffFormat(input: AsyncIterable<Buffer | string>): Promise<{ format: 'jsonl' | 'text'; input: AsyncIterable<Buffer | string> }> {
  const it = input[Symbol.asyncIterator]();
  const head: (Buffer | string)[] = [];
  let text = '';
  let bytes = 0;
  for (let r = await it.next(); !r.done; r = await it.next()) {
    head.push(r.value);
    bytes += r.value.length;
    text = (text + r.value.toString()).replace(/^\uFEFF/, '').trimStart();
    if (text.length > 0 || bytes > 1 << 20) break;
  }
  async function* replay() {
    yield* head;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  }
  return { format: text.startsWith('{') ? 'jsonl' : 'text', input: replay() };
}
