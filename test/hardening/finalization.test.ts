// FinalizationRegistry as a safety net: models and streams that are never disposed give their
// wasm blocks back once garbage-collected (dispose() stays the documented way). Issue 13 measured
// 300 undisposed LSTM-512 models reaching 1.5 GB; here 300 undisposed LSTM 64→128 models (each
// with an open stream, one training step and an Adam optimizer bound to it: 2.8 MB each) run in a
// child process with --expose-gc against dist/.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('./fixtures/undisposed.mjs', import.meta.url));

describe('undisposed models and streams', () => {
  it('300 undisposed LSTM models with open streams and optimizers: the heap peaks at a few models and returns to where it started (but for the last)', () => {
    const out = execFileSync(process.execPath, ['--expose-gc', script, '300', '128'], { encoding: 'utf8', timeout: 60_000 });
    const r = JSON.parse(out.trim().split('\n').pop()!);
    // without the registry all 300 would stay: 300 × oneModel elements
    expect(r.oneModel).toBeGreaterThan(500_000); // elements (2.8 MB)
    expect(r.peakLive).toBeLessThan(20 * r.oneModel);
    // at most the last model, which V8 may still hold in the async function's frame
    expect(r.after - r.base).toBeLessThanOrEqual(r.oneModel);
    expect(r.byteLength).toBeLessThan(20 * r.oneModel * 4); // bytes: 20 models' worth, against 300
    // 50 streams dropped without close(): their plans come back too
    expect(r.withStreams).toBeGreaterThan(r.beforeStreams);
    expect(r.afterStreams).toBe(r.beforeStreams);
    // a stream keeps its model alive: after the model's last reference is gone it still steps
    expect(r.orphanWorks).toBe(true);
  });
});
