// A worker thread of the batch tools and of `rnn-wasm serve`: holds one application runner
// (../serve/app.ts, from the model bytes in workerData) and answers two kinds of task:
//   { lines }  raw input lines (bytes, \n and a trailing \r already removed) with their line
//              numbers → the finished output lines (JSON, UTF-8, one per input line) in one
//              transferred buffer with their end offsets, and the error count.
//              Decoding, JSON parsing, checks and formatting happen here, so the main thread only
//              moves bytes and keeps order.
//   { texts }  texts → one result object per text (the server's dynamic batches);
//   { info }   the application kind (found from the model file when workerData names none).
import { workerData } from 'node:worker_threads';
import v8 from 'node:v8';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { library, useThreads } from './frame';
import { detectKind, ENDPOINTS, loadApp, type AppKind, type AppRunner } from '../serve/app';
import type { AppWorkerData } from '../serve/pool';
import { ValueError } from '../errors';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

export interface LinesTask {
  /** The lines' bytes, back to back; line k is bytes[ends[k-1] ?? 0, ends[k]). */
  bytes: Uint8Array;
  ends: number[];
  lines: number[];
  /** Records per model call: the lines run in consecutive groups of this many (default: all in one call). */
  batch?: number;
}

export interface LinesResult {
  /** The output lines as UTF-8, each ending in \n, back to back; line k ends at ends[k]. Transferred, not copied. */
  bytes: Uint8Array;
  ends: number[];
  errors: number;
}

const data = workerData as AppWorkerData;
useThreads(data.threads);
// the runner, or null for a kind without a text verb (the server answers 404 naming the kind)
const ready: Promise<{ kind: AppKind; app: AppRunner | null }> = library().then((lib) => {
  const kind = data.kind ?? detectKind(lib, data.models[0]);
  return { kind, app: ENDPOINTS[kind] ? loadApp(lib, kind, data.models, data.translate) : null };
});
const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Out = new TextEncoder();

/** The error record of line n (the one shape every batch tool writes). */
export const errorRecord = (line: number, id: unknown, error: string) => JSON.stringify({ line, id, error });

type Parsed = { line: number; id: unknown; text: string } | { line: number; error: string };

function parseRecord(bytes: Uint8Array, line: number, app: AppRunner): Parsed {
  let raw: string;
  try {
    raw = utf8.decode(bytes);
  } catch {
    return { line, error: errorRecord(line, data.format === 'text' ? line : null, `Expected UTF-8 text on line ${line}, got invalid bytes`) };
  }
  let id: unknown = line;
  let text: unknown = raw;
  if (data.format !== 'text') {
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch {
      return { line, error: errorRecord(line, null, `Expected a JSON object on line ${line}, got invalid JSON`) };
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return { line, error: errorRecord(line, null, `Expected a JSON object {"id", "text"} on line ${line}, got ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}`) };
    id = (v as { id?: unknown }).id ?? null;
    text = (v as { text?: unknown }).text;
    if (typeof text !== 'string') return { line, error: errorRecord(line, id, `Expected "text" to be a string on line ${line} (id ${JSON.stringify(id)}), got ${typeof text}`) };
  }
  const s = text as string;
  const max = data.maxChars ?? Infinity;
  if (s.length > max) return { line, error: errorRecord(line, id, `Expected at most ${max} characters on line ${line} (id ${JSON.stringify(id)}), got ${s.length}`) };
  const missing = app.check(s);
  if (missing) return { line, error: errorRecord(line, id, `Expected ${missing} on line ${line} (id ${JSON.stringify(id)}), got none`) };
  return { line, id, text: s };
}

/** The output record of a record and its result: id (and line for translate), the text of plain-text input, then the result's fields. */
function outputRecord(kind: AppKind, r: { line: number; id: unknown; text: string }, res: object): string {
  // written as text, not spread into a new object: the record's head, then the result's JSON without its opening brace
  let head = '{"id":' + JSON.stringify(r.id);
  if (kind === 'seq2seq') head += ',"line":' + r.line;
  if (data.format === 'text') head += ',"text":' + JSON.stringify(r.text);
  const body = JSON.stringify(res);
  return body.length > 2 ? head + ',' + body.slice(1) : head + '}';
}

export type Task = LinesTask | { texts: string[]; opts?: Record<string, unknown> } | { info: true };

export default async function run(task: Task): Promise<LinesResult | object[] | { kind: AppKind } | { error: { name: string; message: string } }> {
  // the model's kind, or why the model did not load as data (an error's class does not survive the thread boundary)
  if ('info' in task) return ready.then(({ kind }) => ({ kind }), (e: Error) => ({ error: { name: e?.name ?? 'Error', message: String(e?.message ?? e) } }));
  const { kind, app } = await ready;
  if (!app) throw new ValueError(`Expected a model kind with a text verb, got ${kind}`);
  if ('texts' in task) return app.run(task.texts, task.opts);
  // consecutive groups of task.batch lines (all of them without it), each parsed, run by the model in one call and formatted
  const out: string[] = [];
  let errors = 0;
  const group = Math.max(1, task.batch ?? task.lines.length);
  for (let g = 0; g < task.lines.length; g += group) {
    const parsed: Parsed[] = [];
    for (let k = g; k < Math.min(g + group, task.lines.length); k++) parsed.push(parseRecord(task.bytes.subarray(k ? task.ends[k - 1] : 0, task.ends[k]), task.lines[k], app));
    const ok = parsed.filter((p): p is { line: number; id: unknown; text: string } => 'text' in p);
    const res = ok.length ? app.run(ok.map((p) => p.text)) : [];
    errors += parsed.length - ok.length;
    let r = 0;
    for (const p of parsed) out.push(('error' in p ? p.error : outputRecord(app.kind, p, res[r++])) + '\n');
  }
  const bytes = utf8Out.encode(out.join(''));
  // offsets of the line ends: every \n (0x0a) byte, which UTF-8 never uses inside a character
  const ends: number[] = [];
  for (let i = bytes.indexOf(10); i >= 0; i = bytes.indexOf(10, i + 1)) ends.push(i + 1);
  return move({ [transferableSymbol]: bytes.buffer, [valueSymbol]: { bytes, ends, errors } } as never) as unknown as LinesResult;
}
