// FinalizationRegistry safety nets beyond the layer models (issue 23): graph models (arena,
// gradients, generator state, plans, decoders), decoders dropped while their model lives, CRF and
// every application built on them. Each kind: `count` undisposed instances (small models, each
// with a training step where the kind trains) in a child process with --expose-gc against dist/;
// after a GC the heap's live elements are back where they started.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('./fixtures/undisposed-apps.mjs', import.meta.url));
const KINDS = ['graph', 'classifier', 'labeler', 'crf', 'seq2seq', 'generator', 'forecaster', 'charlm', 'decoder'];

describe('undisposed graph models, decoders, CRFs and applications', () => {
  it('100 of each kind, dropped: the wasm live elements return to within 1 % of the start', () => {
    const out = execFileSync(process.execPath, ['--expose-gc', script, '100'], { encoding: 'utf8', timeout: 120_000 });
    const r = JSON.parse(out.trim().split('\n').pop()!) as Record<string, { base: number; peak: number; one: number; after: number; orphanWorks?: boolean }>;
    expect(Object.keys(r).sort()).toEqual([...KINDS].sort());
    for (const k of KINDS) {
      const { base, peak, one, after } = r[k];
      expect(one, `${k}: one instance holds wasm memory`).toBeGreaterThan(0);
      // without a safety net all 100 would stay (100 × one); the peak shows some were live at once
      expect(peak - base, `${k}: peak`).toBeGreaterThan(2 * one);
      expect(Math.abs(after - base), `${k}: after GC`).toBeLessThanOrEqual(0.01 * base + 0.01 * 100 * one);
    }
    // a decoder keeps its model alive: after the model's last reference is gone it still steps
    expect(r.decoder.orphanWorks).toBe(true);
  });
});
