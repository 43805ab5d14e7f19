// Saving and loading model files: Node paths (atomic: temporary file, fsync, rename — a crash in
// the middle of a save leaves the previous file intact), and in-memory / browser forms
// (Uint8Array, ArrayBuffer, Blob, IndexedDB).
import { deserialize, deserializeGraph, serialize, FormatError, type Loaded, type LoadedGraph, type SaveOptions } from './format';
import type { Model } from '../model/model';
import type { GraphModel } from '../graph/model';
import { RnnWasmError, ValueError, show } from '../errors';
import { getLimits } from '../limits';

// Node built-ins are imported lazily by name so browser bundles never resolve them.
const FS = 'node:fs/promises';
const PATH = 'node:path';
type Fs = typeof import('node:fs/promises');
type Path = typeof import('node:path');
async function nodeFs(): Promise<Fs> {
  if (typeof process === 'undefined' || !process.versions?.node) throw new ValueError('Expected Node.js for file paths, got another runtime (pass bytes, a Blob, or use IndexedDB)');
  return (await import(/* @vite-ignore */ FS)) as Fs;
}
async function nodePath(): Promise<Path> {
  return (await import(/* @vite-ignore */ PATH)) as Path;
}

/** save() could not write the file (its Node error, e.g. ENOSPC, is `cause`; `code` copies its code). */
export class SaveError extends RnnWasmError {
  /** `'SaveError'`: the class name as a string, so that it survives a minifier and crosses worker boundaries. */
  override name = 'SaveError';
  /** The Node error's code (`ENOSPC`, `EACCES`, …), when there is one. */
  readonly code?: string;
  constructor(message: string, cause?: unknown) {
    super(message);
    this.cause = cause;
    this.code = (cause as { code?: string } | undefined)?.code;
  }
}

/**
 * Reads a whole regular file of at most limits.maxFileBytes (Node). Opened without blocking and
 * checked with fstat before a byte is read, so a directory, device (/dev/zero), FIFO or socket is
 * a FormatError at once, never a hang or an unbounded read. `what` names the file in errors.
 */
export async function readRegularFile(path: string, what: string): Promise<Uint8Array> {
  const fs = await nodeFs();
  let fh: Awaited<ReturnType<Fs['open']>>;
  try {
    fh = await fs.open(path, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw new FormatError(`Expected a readable ${what} at ${path}, got ${(e as Error).message}`);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) {
      const kind = st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : st.isSocket() ? 'a socket' : 'not a regular file';
      throw new FormatError(`Expected ${what} ${path} to be a regular file, got ${kind}`);
    }
    const max = getLimits().maxFileBytes;
    if (st.size > max) throw new FormatError(`Expected ${what} ${path} of at most limits.maxFileBytes = ${max} bytes, got ${st.size} (raise it with setLimits({ maxFileBytes }))`);
    // exactly the size fstat reported: a file that grows meanwhile is not read past it
    const out = new Uint8Array(st.size);
    let got = 0;
    while (got < out.length) {
      const { bytesRead } = await fh.read(out, got, out.length - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return got === out.length ? out : out.subarray(0, got);
  } catch (e) {
    if (e instanceof FormatError) throw e;
    throw new FormatError(`Expected a readable ${what} at ${path}, got ${(e as Error).message}`);
  } finally {
    await fh.close();
  }
}

// Temporary files are `${path}.${pid}.${ms}-${seq}.tmp`; a save killed before its rename leaves one.
let tmpSeq = 0;
const inFlight = new Set<string>();
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM';
  }
}

/** Removes temporary files of earlier saves to `path` whose process is gone (or ours, not in flight). */
async function removeOrphans(fs: Fs, path: string): Promise<void> {
  const p = await nodePath();
  const dir = p.dirname(path);
  const re = new RegExp(`^${escape(p.basename(path))}\\.(\\d+)\\.\\d+(?:-\\d+)?\\.tmp$`);
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return; // the save itself reports an unreadable directory
  }
  for (const n of names) {
    const m = re.exec(n);
    const full = p.join(dir, n);
    if (!m || inFlight.has(full)) continue;
    if (Number(m[1]) !== process.pid && processAlive(Number(m[1]))) continue;
    await fs.rm(full, { force: true }).catch(() => undefined);
  }
}

/**
 * Saves to a path (Node): writes a temporary file beside it, fsyncs, then renames over it, so an
 * existing file at the path is replaced whole or not at all. Any failure (missing or read-only
 * directory, a directory at the path, a full disk) is a SaveError with the Node error as `cause`,
 * and the temporary file is removed. Temporary files of earlier saves to the same path that were
 * killed before finishing are removed first.
 */
export async function save(model: Model | GraphModel, path: string, opts: SaveOptions = {}): Promise<void> {
  if (typeof path !== 'string' || path.length === 0) throw new ValueError(`Expected a file path, got ${show(path)}`);
  await writeFileAtomic(path, serialize(model, opts), 'the model file');
}

/** Writes `bytes` to `path` as save() does (temporary file, fsync, rename; SaveError on failure). */
export async function writeFileAtomic(path: string, bytes: Uint8Array, what: string): Promise<void> {
  if (typeof path !== 'string' || path.length === 0) throw new ValueError(`Expected a file path, got ${show(path)}`);
  const fs = await nodeFs();
  const target = await fs.stat(path).catch(() => null);
  if (target && !target.isFile()) throw new SaveError(`Expected a file path to save to, got ${path}, which is ${target.isDirectory() ? 'a directory' : 'not a regular file'}`);
  await removeOrphans(fs, path);
  const tmp = `${path}.${process.pid}.${Date.now()}-${tmpSeq++}.tmp`;
  inFlight.add(tmp);
  try {
    const fh = await fs.open(tmp, 'w');
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw new SaveError(`Expected to write ${what} ${path}, got ${(e as Error).message}`, e);
  } finally {
    inFlight.delete(tmp);
  }
}

/** Loads from a path (Node), bytes, an ArrayBuffer or a Blob. Validates everything first. */
export async function load(source: string | Uint8Array | ArrayBuffer | Blob): Promise<Loaded> {
  return deserialize(await bytesOf(source));
}

/** Loads a GraphModel file (written by save / serialize) from a path, bytes, an ArrayBuffer or a Blob. */
export async function loadGraph(source: string | Uint8Array | ArrayBuffer | Blob): Promise<LoadedGraph> {
  return deserializeGraph(await bytesOf(source));
}

async function bytesOf(source: string | Uint8Array | ArrayBuffer | Blob): Promise<Uint8Array | ArrayBuffer> {
  if (typeof source === 'string') return readRegularFile(source, 'model file');
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    const max = getLimits().maxFileBytes;
    if (source.size > max) throw new FormatError(`Expected a model file Blob of at most limits.maxFileBytes = ${max} bytes, got ${source.size}`);
    return new Uint8Array(await source.arrayBuffer());
  }
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) return source;
  throw new ValueError(`Expected a path, Uint8Array, ArrayBuffer or Blob, got ${show(source)}`);
}

/** The model file as a Blob (e.g. for a download link in the browser). */
export function toBlob(model: Model | GraphModel, opts: SaveOptions = {}): Blob {
  return new Blob([serialize(model, opts)], { type: 'application/octet-stream' });
}

function openDb(name: string): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    if (typeof indexedDB === 'undefined') return reject(new ValueError('Expected IndexedDB (a browser), got none'));
    const req = indexedDB.open(name, 1);
    req.onupgradeneeded = () => req.result.createObjectStore('models');
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/** Stores the model file under `key` in IndexedDB (database `rnn-wasm`, store `models`). */
export async function saveToIndexedDB(key: string, model: Model, opts: SaveOptions = {}, dbName = 'rnn-wasm'): Promise<void> {
  await saveBytesToIndexedDB(key, serialize(model, opts), dbName);
}

/** Stores a model file's bytes (e.g. CharLM.serialize() or CharLMWorker.serialize()) under `key` in IndexedDB. */
export async function saveBytesToIndexedDB(key: string, bytes: Uint8Array, dbName = 'rnn-wasm'): Promise<void> {
  if (typeof key !== 'string' || key.length === 0) throw new ValueError(`Expected key to be a non-empty string, got ${show(key)}`);
  if (!(bytes instanceof Uint8Array)) throw new ValueError(`Expected bytes to be a Uint8Array, got ${show(bytes)}`);
  const copy = bytes.slice().buffer;
  const db = await openDb(dbName);
  try {
    await new Promise<void>((resolve, reject) => {
      const tx = db.transaction('models', 'readwrite');
      tx.objectStore('models').put(copy, key);
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

/** Loads a model stored by saveToIndexedDB; FormatError if the key is absent. */
export async function loadFromIndexedDB(key: string, dbName = 'rnn-wasm'): Promise<Loaded> {
  return deserialize(await loadBytesFromIndexedDB(key, dbName));
}

/** The model file's bytes stored under `key` (by either save function); FormatError if the key is absent. */
export async function loadBytesFromIndexedDB(key: string, dbName = 'rnn-wasm'): Promise<Uint8Array<ArrayBuffer>> {
  const db = await openDb(dbName);
  try {
    const buf = await new Promise<ArrayBuffer | undefined>((resolve, reject) => {
      const req = db.transaction('models', 'readonly').objectStore('models').get(key);
      req.onsuccess = () => resolve(req.result as ArrayBuffer | undefined);
      req.onerror = () => reject(req.error);
    });
    if (!buf) throw new FormatError(`Expected a model stored under ${key}, got none`);
    return new Uint8Array(buf);
  } finally {
    db.close();
  }
}
