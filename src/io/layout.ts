// Weight layout conversions shared by the importers and the ONNX exporter. Our layout is PyTorch's:
// weight_ih (G·H, I), weight_hh (G·H, H), rows grouped by gate — LSTM i,f,g,o · GRU r,z,n.
//   ONNX   W (D, G·H, I), R (D, G·H, H), B (D, 2·G·H) = [Wb | Rb]; LSTM i,o,f,c · GRU z,r,h;
//          peepholes P (D, 3H) p_i,p_o,p_f (ours p_i,p_f,p_o)
//   Keras  kernel (I, G·H), recurrent_kernel (H, G·H) (transposed); LSTM i,f,c,o · GRU z,r,h;
//          one bias (G·H), or for GRU reset_after=True a (2, G·H) [input; recurrent] bias
// An order table lists, for each gate block k of the *target*, which source block it takes; each
// cell's tables are in its descriptor (src/layers/cells.ts, `interchange`).
import { FormatError } from './format';

/** The inverse of an order table: if target block k ← source order[k], then source block j ← target inverse[j]. */
export function inverseOrder(order: readonly number[]): number[] {
  const inv = new Array<number>(order.length);
  order.forEach((src, k) => (inv[src] = k));
  return inv;
}

/** Reorders the gate blocks of a (G·H, cols) row-major matrix (cols = 1 for a bias). */
export function reorderRows(a: Float32Array, G: number, H: number, order: readonly number[]): Float32Array {
  const cols = a.length / (G * H);
  const out = new Float32Array(a.length);
  for (let k = 0; k < G; k++) out.set(a.subarray(order[k] * H * cols, (order[k] + 1) * H * cols), k * H * cols);
  return out;
}

/** Keras kernel (rows, G·H) → our (G·H, rows), gate blocks reordered. */
export function kernelToRows(kernel: Float32Array, rows: number, G: number, H: number, order: readonly number[]): Float32Array {
  const GH = G * H;
  const out = new Float32Array(kernel.length);
  for (let k = 0; k < G; k++) {
    const src = order[k] * H;
    for (let j = 0; j < H; j++) for (let q = 0; q < rows; q++) out[(k * H + j) * rows + q] = kernel[q * GH + src + j];
  }
  return out;
}

/** Row-major (r, c) → (c, r). */
export function transpose2d(a: Float32Array, r: number, c: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = a[i * c + j];
  return out;
}

/** The parts one after another in a new array of the given kind (Float32Array, Uint8Array). */
export function concat<A extends Float32Array | Uint8Array>(parts: A[], make: new (n: number) => A): A {
  const out = new make(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Peepholes ours p_i,p_f,p_o ↔ ONNX p_i,p_o,p_f (the swap is its own inverse). */
export function swapPeepholes(p: Float32Array, H: number): Float32Array {
  return concat([p.subarray(0, H), p.subarray(2 * H, 3 * H), p.subarray(H, 2 * H)], Float32Array);
}

/** IEEE half → float. */
export function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Checks that a tensor has the expected shape; FormatError naming it otherwise. */
export function expectShape(what: string, shape: readonly number[], want: readonly number[]): void {
  if (shape.length !== want.length || shape.some((d, i) => d !== want[i])) {
    throw new FormatError(`Expected ${what} of shape [${want.join(', ')}], got [${shape.join(', ')}]`);
  }
}
