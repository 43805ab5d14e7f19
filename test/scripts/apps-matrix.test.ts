// bench/apps-matrix.mjs end to end on a few words and names, one round: its checks pass (int8
// models decode differently from f32, the two-thread models give the one-thread results exactly,
// its stream loop gives translate()'s greedy words with packed copies on and off) and it prints one
// table row per workload and configuration, the baselines first. No timing is asserted: only that
// every figure is a positive number and each ratio lies within its printed spread. Needs `npm run build`.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

describe('bench/apps-matrix.mjs', () => {
  it('passes its checks and prints the full matrix with baselines and spreads', () => {
    const out = execFileSync(process.execPath, [join(root, 'bench/apps-matrix.mjs'), '--words', '16', '--words1', '4', '--records', '64', '--rounds', '2'], { encoding: 'utf8' });
    expect(out).toContain('checks passed: int8 marked and different from f32; team results equal one-thread results; stream loop = translate() greedy, packed on and off');
    const rows = out.split('\n').filter((l) => /^\| .* \| .* \| \d+ (words|records)\/s \|/.test(l)).map((l) => l.split(' | ').map((c) => c.replace(/^\| ?| ?\|$/g, '')));
    const four = ['f32 · 1 thread', 'int8 · 1 thread', 'f32 · 2 threads', 'int8 · 2 threads'];
    expect(rows.map((r) => r[1])).toEqual([...four, ...four, ...four,
      'f32 · unpacked · 1 thread', 'f32 · packed · 1 thread', 'int8 · 1 thread', 'f32 · 2 threads', 'int8 · 2 threads', ...four]);
    expect(rows.map((r) => r[0]).filter(Boolean)).toEqual(['translate beam 1, batches of 64', 'translate beam 5, batches of 64',
      'translate beam 1, one word a call (f32 on 1 thread: packed)', 'stream loop greedy, one word a call', 'classify, batches of 32']);
    for (const r of rows) {
      expect(Number(r[2].split(' ')[0])).toBeGreaterThan(0);
      if (r[0]) {
        expect(r[3]).toBe('baseline');
        continue;
      }
      const m = r[3].match(/^×(\S+) \((\S+)–(\S+)\)$/);
      expect(m).not.toBeNull();
      const [med, lo, hi] = m!.slice(1).map(Number);
      expect(lo).toBeGreaterThan(0);
      expect(lo).toBeLessThanOrEqual(med);
      expect(med).toBeLessThanOrEqual(hi);
    }
  });
});
