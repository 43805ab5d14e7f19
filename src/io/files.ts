// Saving and loading model files: Node paths (atomic: temporary file, fsync, rename — a crash in
// the middle of a save leaves the previous file intact), and in-memory / browser forms
// (Uint8Array, ArrayBuffer, Blob, IndexedDB).
import { deserialize, deserializeGraph, serialize, FormatError, type Loaded, type LoadedGraph, type SaveOptions } from './format';
import type { Model } from '../model/model';
import type { GraphModel } from '../graph/model';
import { ValueError } from '../errors';

// Node built-ins are imported lazily by name so browser bundles never resolve them.
const FS = 'node:fs/promises';
type Fs = typeof import('node:fs/promises');
async function nodeFs(): Promise<Fs> {
  if (typeof process === 'undefined' || !process.versions?.node) throw new ValueError('Expected Node.js for file paths, got another runtime (pass bytes, a Blob, or use IndexedDB)');
  return (await import(/* @vite-ignore */ FS)) as Fs;
}

/** Saves to a path (Node): writes a temporary file beside it, fsyncs, then renames over it. */
export async function save(model: Model | GraphModel, path: string, opts: SaveOptions = {}): Promise<void> {
  if (typeof path !== 'string' || path.length === 0) throw new ValueError(`Expected a file path, got ${String(path)}`);
  const bytes = serialize(model, opts);
  const fs = await nodeFs();
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  const fh = await fs.open(tmp, 'w');
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

/** Loads from a path (Node), bytes, an ArrayBuffer or a Blob. Validates everything first. */
export async function load(source: string | Uint8Array | ArrayBuffer | Blob): Promise<Loaded> {
  return deserialize(await bytesOf(source));
}

/** Loads a GraphModel file (saved with save()) from a path, bytes, an ArrayBuffer or a Blob. */
export async function loadGraph(source: string | Uint8Array | ArrayBuffer | Blob): Promise<LoadedGraph> {
  return deserializeGraph(await bytesOf(source));
}

async function bytesOf(source: string | Uint8Array | ArrayBuffer | Blob): Promise<Uint8Array | ArrayBuffer> {
  if (typeof source === 'string') {
    const fs = await nodeFs();
    let bytes: Uint8Array;
    try {
      bytes = await fs.readFile(source);
    } catch (e) {
      throw new FormatError(`Expected a readable model file at ${source}, got ${(e as Error).message}`);
    }
    return bytes;
  }
  if (typeof Blob !== 'undefined' && source instanceof Blob) return new Uint8Array(await source.arrayBuffer());
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) return source;
  throw new ValueError(`Expected a path, Uint8Array, ArrayBuffer or Blob, got ${String(source)}`);
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
  if (typeof key !== 'string' || key.length === 0) throw new ValueError(`Expected key to be a non-empty string, got ${String(key)}`);
  if (!(bytes instanceof Uint8Array)) throw new ValueError(`Expected bytes to be a Uint8Array, got ${String(bytes)}`);
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
