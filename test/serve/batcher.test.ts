// The serve batcher's rule (src/serve/batcher.ts): a request that finds a worker idle goes at once;
// while every worker is busy, requests are collected into one call, sent when a worker frees, when
// maxBatch texts wait or when the window ends; results go back to their own requests.
import { describe, expect, it } from 'vitest';
import { Batcher } from '../../src/serve/batcher';

/** A fake pool: every call waits until release() and answers each text with its upper-case form. */
function fakePool() {
  const calls: string[][] = [];
  const pending: (() => void)[] = [];
  const run = (texts: string[]) =>
    new Promise<object[]>((ok) => {
      calls.push(texts);
      pending.push(() => ok(texts.map((t) => ({ out: t.toUpperCase() }))));
    });
  const release = async () => {
    pending.shift()!();
    await new Promise((r) => setTimeout(r, 0));
  };
  return { calls, run, release };
}

describe('serve batcher', () => {
  it('an idle worker takes a request at once; requests arriving while every worker is busy go together when one frees', async () => {
    const p = fakePool();
    const b = new Batcher(p.run, { windowMs: 10_000, maxBatch: 32, capacity: 1 });
    const first = b.submit(['a']);
    expect(p.calls).toEqual([['a']]); // not held for the 10 s window
    const rest = [b.submit(['b']), b.submit(['c', 'd']), b.submit(['e'])];
    expect(p.calls.length).toBe(1); // the only worker is busy: they wait
    await p.release(); // the worker frees: everything waiting goes as one call
    expect(p.calls).toEqual([['a'], ['b', 'c', 'd', 'e']]);
    await p.release();
    expect(await first).toEqual([{ out: 'A' }]);
    expect(await Promise.all(rest)).toEqual([[{ out: 'B' }], [{ out: 'C' }, { out: 'D' }], [{ out: 'E' }]]);
  });

  it('maxBatch sends at once, the window ends a wait, and windowMs 0 with maxBatch 1 makes every request its own call', async () => {
    const p = fakePool();
    const b = new Batcher(p.run, { windowMs: 20, maxBatch: 3, capacity: 1 });
    b.submit(['x']); // idle: at once
    b.submit(['a', 'b']);
    b.submit(['c']); // 3 texts wait: sent although the worker is busy
    expect(p.calls).toEqual([['x'], ['a', 'b', 'c']]);
    b.submit(['d']);
    expect(p.calls.length).toBe(2);
    await new Promise((r) => setTimeout(r, 40)); // the window ends
    expect(p.calls).toEqual([['x'], ['a', 'b', 'c'], ['d']]);
    const q = fakePool();
    const off = new Batcher(q.run, { windowMs: 0, maxBatch: 1, capacity: 1 });
    off.submit(['a']);
    off.submit(['b']);
    expect(q.calls).toEqual([['a'], ['b']]);
  });
});
