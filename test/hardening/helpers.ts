// What a rejected call must leave unchanged: parameters, optimizer state (step and moments),
// the dropout generator and the heap's live elements. `snapshot` captures them; `expectSame`
// compares two snapshots bit for bit.
import { expect } from 'vitest';
import type { Model, Optimizer } from '../../src/index';

export interface Snapshot {
  params: number[];
  opt: { step: number; buffers: number[] } | null;
  rng: number[];
  live: number;
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

export function snapshot(m: Model, opt?: Optimizer): Snapshot {
  const r = m.runner;
  const s = opt?.state();
  return {
    params: bits(r.arena.snapshot()),
    opt: s ? { step: s.step, buffers: bits(s.buffers) } : null,
    rng: r.dropoutRngState,
    live: r.rt.heap.liveElements,
  };
}

/** Compares two snapshots; `live: false` skips the heap (a call that failed mid-way may leave a cached plan). */
export function expectSame(a: Snapshot, b: Snapshot, what = '', o: { live?: boolean } = {}): void {
  expect(b.params, `parameters ${what}`).toEqual(a.params);
  expect(b.opt, `optimizer state ${what}`).toEqual(a.opt);
  expect(b.rng, `dropout generator ${what}`).toEqual(a.rng);
  if (o.live !== false) expect(b.live, `heap live elements ${what}`).toBe(a.live);
}

/** Runs fn, expects it to throw an instance of cls whose message matches `names`; returns the error. */
export function expectThrow(fn: () => unknown, cls: abstract new (...a: never[]) => Error, names: RegExp): Error {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, `expected ${cls.name} matching ${names}`).toBeInstanceOf(cls);
  expect((err as Error).message).toMatch(names);
  return err as Error;
}
