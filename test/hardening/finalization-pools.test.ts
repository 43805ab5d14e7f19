// The worker pools' safety net (issue 23): a WorkerPool over a layer model (after a data-parallel
// training step, which allocates its reduced gradient and step guard in the model's heap) and one
// over a graph, dropped without dispose(), give their wasm blocks back (the finalizer also closes
// their workers). Without the safety net the blocks of every dropped pool stay, and the assertion
// on `after` fails.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('./fixtures/undisposed-pools.mjs', import.meta.url));

describe('undisposed worker pools', () => {
  it('4 of each kind, dropped: the heap returns to where it started', () => {
    // V8 may finalize a dropped model before its dropped pool: the pool's blocks are released all
    // the same (they once were skipped then — the flake of earlier runs, 1 child in 2–6 under load;
    // test/parallel/pool.test.ts pins that order), so one child process is enough
    const out = execFileSync(process.execPath, ['--expose-gc', script, '4'], { encoding: 'utf8', timeout: 90_000 });
    const r = JSON.parse(out.trim().split('\n').pop()!) as { base: number; one: number; peak: number; after: number };
    expect(r.one, 'one pair of pools holds wasm memory').toBeGreaterThan(0);
    expect(r.peak - r.base, 'every pool was live before the collection').toBeGreaterThanOrEqual(2 * r.one);
    expect(Math.abs(r.after - r.base), 'after GC').toBeLessThanOrEqual(0.01 * r.base);
  }, 120_000);
});
