// Loads the RWKV-7 fixtures of scripts/fixtures/rwkv7.py (test/fixtures/rwkv7/): the checkpoint
// (official names; tiny in F32, small in BF16) and its io file (ids, logits, states, gradients).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSafetensors, readSafetensors, toFloat32 } from '../../src/io/safetensors';
import type { Rwkv7Dims } from '../reference/rwkv7';

export const FIXTURES = join(__dirname, '..', 'fixtures', 'rwkv7');
export type FixtureName = 'tiny' | 'small';

export interface Fixture {
  bytes: Uint8Array;
  /** Official-layout float64 copies of the (possibly BF16) weights. */
  z: Record<string, Float64Array>;
  dims: Rwkv7Dims;
  ints: Record<string, Int32Array>;
  floats: Record<string, Float64Array>;
}

export function loadFixture(name: FixtureName): Fixture {
  const bytes = new Uint8Array(readFileSync(join(FIXTURES, `${name}.safetensors`)));
  const z: Record<string, Float64Array> = {};
  for (const [k, v] of Object.entries(readSafetensors(bytes).tensors)) z[k] = Float64Array.from(v.data);
  const io = parseSafetensors(new Uint8Array(readFileSync(join(FIXTURES, `${name}-io.safetensors`))));
  const ints: Record<string, Int32Array> = {};
  const floats: Record<string, Float64Array> = {};
  for (const [k, t] of io.tensors) {
    if (t.dtype === 'I32') ints[k] = new Int32Array(t.bytes.slice().buffer);
    else if (t.dtype === 'F64') floats[k] = new Float64Array(t.bytes.slice().buffer);
    else floats[k] = Float64Array.from(toFloat32(k, t));
  }
  const m = io.metadata!;
  const dims = { L: +m.L, C: +m.C, H: +m.H, N: +m.N, V: +m.V };
  return { bytes, z, dims, ints, floats };
}

/** max |a − b| / max |b|: the relative error the oracle tests bound. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let s = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  if (a.length !== b.length || Number.isNaN(d)) return Infinity;
  return d / s;
}
