// int8 weights for inference: quantize(model, { weights: 'int8' }) gives every RNN/LSTM/GRU weight_ih*
// and weight_hh* and every linear weight of a layer, a Sequential, a graph (GraphModel: its
// recurrent and linear nodes; attention stays f32) or an application's model an int8 copy with one f32 scale per output row
// (symmetric: s = max|w_row| / 127, q = round(w / s) in [-127, 127]), and the model's inference
// programs (forward, streaming, the worker pool's replicas) then run the int8 kernels of
// assembly/kernels/int8.ts on them. Activations stay f32 in the gates and states; the kernels
// quantize each input row of a matrix product on the fly (see int8.ts).
// The model is changed in place: its f32 parameters become the dequantized values s·q (what
// getParameter and a saved file show), and the int8 copies are derived from those, so a model
// rebuilt from its file or a worker's replica derives the very same int8 rows and scales and
// computes bit for bit what the original does. A quantized model is inference only: training,
// setParameter and loadStateDict throw a StateError.
import type { Runtime } from '../wasm/load';
import type { Arena } from '../params/arena';
import { StateError, ValueError } from '../errors';

/** Options of {@link quantize}. */
export interface QuantizeOptions {
  /** The only form: 'int8' (per-output-row symmetric scales). */
  weights: 'int8';
}

/** An int8 copy of one weight: int8 rows of Kp bytes at q, row scales at s (heap offsets). */
export interface QuantWeight {
  q: number;
  s: number;
}

/**
 * What holds int8 copies: a graph's runner (GraphModel.runner; layers and Sequential hold a graph,
 * src/model/host.ts). It names the weights the int8 path replaces — recurrent weight_ih* /
 * weight_hh* and linear weights; attention and the other graph nodes stay f32 — and installs the
 * copies (releasing earlier ones and every compiled program that read them).
 */
export interface Int8Host {
  readonly rt: Runtime;
  readonly arena: Arena;
  readonly quantized: boolean;
  readonly isDisposed: boolean;
  int8WeightNames(): string[];
  setQuantized(q: Map<string, QuantWeight> | null): void;
}

/** A model (RNN, LSTM, GRU, Sequential, GraphModel) or an application holding one as `.model`. */
export type Quantizable = { readonly runner: unknown } | { readonly model: { readonly runner: unknown } };

/** Row length in bytes of an int8 weight of K columns: K weights, zeros, the i32 row sum (mirror of q8RowBytes in int8.ts). */
export const q8RowBytes = (K: number): number => (K + 4 + 15) & ~15;

/**
 * Per-row symmetric int8 quantization of W (N, K): q (N·Kp bytes: each row's K weights, zeros, and
 * in its last 4 bytes the i32 sum of its weights, little-endian) and scales (N).
 */
export function quantizeRows(w: Float32Array, N: number, K: number): { q: Int8Array; s: Float32Array } {
  const Kp = q8RowBytes(K);
  const q = new Int8Array(N * Kp);
  const s = new Float32Array(N);
  for (let n = 0; n < N; n++) {
    let mx = 0;
    for (let k = 0; k < K; k++) mx = Math.max(mx, Math.abs(w[n * K + k]));
    if (mx === 0) continue;
    const sc = Math.fround(mx / 127);
    s[n] = sc;
    let sum = 0;
    for (let k = 0; k < K; k++) sum += q[n * Kp + k] = Math.max(-127, Math.min(127, Math.round(w[n * K + k] / sc)));
    new DataView(q.buffer, q.byteOffset + n * Kp + Kp - 4, 4).setInt32(0, sum, true);
  }
  return { q, s };
}

/** Derives the int8 copies from the arena's current values and installs them (files, replicas). */
export function applyInt8(r: Int8Host): void {
  const heap = r.rt.heap;
  const map = new Map<string, QuantWeight>();
  try {
    for (const name of r.int8WeightNames()) {
      const e = r.arena.entries().find((x) => x.name === name)!;
      const [N, K] = e.shape;
      const { q, s } = quantizeRows(r.arena.get(name), N, K);
      const w: QuantWeight = { q: heap.alloc(Math.ceil(q.length / 4)), s: 0 };
      map.set(name, w);
      heap.writeI8(w.q, q);
      w.s = heap.alloc(N);
      heap.write(w.s, s);
    }
  } catch (err) {
    for (const w of map.values()) {
      heap.release(w.q);
      if (w.s) heap.release(w.s);
    }
    throw err;
  }
  r.setQuantized(map);
}

function hostOf(target: unknown): Int8Host | null {
  const isHost = (r: unknown): r is Int8Host => typeof (r as Int8Host | undefined)?.setQuantized === 'function';
  const t = target as { runner?: unknown; model?: { runner?: unknown } } | null | undefined;
  if (isHost(t?.runner)) return t.runner;
  if (isHost(t?.model?.runner)) return t.model.runner;
  return null;
}

/**
 * Quantizes a model's weights to int8 for inference, in place, and returns what it was given: a
 * model (RNN, LSTM, GRU, Sequential, GraphModel) or an application (CharLM, Seq2Seq,
 * SequenceClassifier, SequenceLabeler, ConditionalGenerator, Forecaster: its `.model`). Throws a
 * ValueError for other options or a model without such weights, a StateError for a disposed one.
 */
export function quantize<M extends Quantizable>(model: M, opts: QuantizeOptions): M {
  const r = hostOf(model);
  if (!r) throw new ValueError(`Expected a model (RNN, LSTM, GRU, Sequential, GraphModel) or an application holding one, got ${String(model)}`);
  if (r.isDisposed) throw new StateError('Expected a live model, got one whose memory was released by dispose()');
  if (!opts || typeof opts !== 'object') throw new ValueError(`Expected options { weights: 'int8' }, got ${String(opts)}`);
  for (const k of Object.keys(opts)) if (k !== 'weights') throw new ValueError(`Expected only the option weights, got ${k}`);
  if (opts.weights !== 'int8') throw new ValueError(`Expected options.weights to be 'int8', got ${String(opts.weights)}`);
  const names = r.int8WeightNames();
  if (!names.length) throw new ValueError('Expected a model with recurrent or linear weights to quantize, got none');
  const maxK = r.rt.k.Q8_MAX_K.value as number;
  for (const name of names) {
    const K = r.arena.entries().find((e) => e.name === name)!.shape[1];
    if (K > maxK) throw new ValueError(`Expected at most ${maxK} input columns in ${name} for int8 weights, got ${K}`);
  }
  if (r.quantized) return model;
  // the arena takes the dequantized values; the int8 copies are then derived from them
  for (const name of names) {
    const e = r.arena.entries().find((x) => x.name === name)!;
    const [N, K] = e.shape;
    const { q, s } = quantizeRows(r.arena.get(name), N, K);
    const Kp = q8RowBytes(K);
    const deq = new Float32Array(N * K);
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) deq[n * K + k] = s[n] * q[n * Kp + k];
    r.arena.set(name, deq);
  }
  applyInt8(r);
  return model;
}
