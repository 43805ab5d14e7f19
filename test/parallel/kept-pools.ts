// The pool tests' shared setup: init() before a file's tests, and every pool the file keeps
// disposed after them.
import { afterAll, beforeAll } from 'vitest';
import * as l from '../../dist/index.js';

/** Registers the file's hooks; returns keep(pool), which hands the pool back after noting it. */
export function keptPools(): <P extends { dispose(): Promise<void> }>(p: P) => P {
  const pools: { dispose(): Promise<void> }[] = [];
  beforeAll(async () => {
    await l.init();
  });
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.dispose()));
  });
  return (p) => {
    pools.push(p);
    return p;
  };
}
