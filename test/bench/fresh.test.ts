// bench/fresh.mjs, the second benchmark harness: its pure parts on made-up figures (round order,
// per-round ratios, medians with spreads, failed rounds left out, argument checks), and one tiny
// end-to-end run (one workload, one round, five calls) whose run file must have the documented
// shape with the two sides' outputs agreeing. No timing is asserted: only that figures exist.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FRESH_IDS, factorConfigs, parseArgs, ratio, roundOrder, spread, summarize } from '../../bench/fresh.mjs';

const root = join(__dirname, '..', '..');

describe('bench/fresh.mjs: pure parts', () => {
  it('alternates which side goes first, rnn-wasm in even rounds', () => {
    expect([0, 1, 2, 3].map(roundOrder)).toEqual([['ours', 'ort'], ['ort', 'ours'], ['ours', 'ort'], ['ort', 'ours']]);
  });

  it('takes the ratio as ORT ÷ rnn-wasm (> 1: rnn-wasm faster)', () => {
    expect(ratio(20, 30)).toBe(1.5);
    expect(ratio(40, 20)).toBe(0.5);
  });

  it('gives the median with min–max and count', () => {
    expect(spread([5, 1, 3])).toEqual({ median: 3, min: 1, max: 5, n: 3 });
    expect(spread([4, 1, 3, 2])).toEqual({ median: 2.5, min: 1, max: 4, n: 4 });
  });

  it('summarizes the median of per-round ratios, not the ratio of medians, over the rounds that passed', () => {
    const rounds = [
      { ours: 10, ort: 20, ok: true }, // 2
      { ours: 20, ort: 22, ok: true }, // 1.1
      { ours: 12, ort: 15, ok: true }, // 1.25
      { ours: 1, ort: 100, ok: false }, // failed the check: left out
    ];
    const s = summarize(rounds);
    expect(s.ratio).toEqual({ median: 1.25, min: 1.1, max: 2, n: 3 });
    expect(s.ours).toEqual({ median: 12, min: 10, max: 20, n: 3 });
    expect(s.ort).toEqual({ median: 20, min: 15, max: 22, n: 3 });
    // ratio of medians would be 20 / 12 = 1.67: a different figure
    expect(s.ratio!.median).not.toBeCloseTo(20 / 12, 2);
    expect(summarize([{ ours: 1, ort: 2, ok: false }])).toEqual({ ours: null, ort: null, ratio: null });
  });

  it('parses defaults and rejects bad flags with the flag named', () => {
    const a = parseArgs([]);
    expect(a).toMatchObject({ rounds: 5, calls: 400, warmup: 50, only: FRESH_IDS, timer: 'plain', samePro: false, prebuilt: false, warm: false });
    expect(FRESH_IDS).toEqual(['W1a', 'W1b', 'W3a', 'W3a-cho', 'W3b', 'W5']);
    expect(parseArgs(['--quick'])).toMatchObject({ rounds: 2, calls: 20, warmup: 3, warmupMs: 0 });
    expect(a.warmupMs).toBe(1000);
    expect(parseArgs(['--warm-with', 'W3a,W5'])).toMatchObject({ warm: true, warmWith: ['W3a', 'W5'] });
    expect(() => parseArgs(['--only', 'W2'])).toThrow('Expected --only ids among W1a W1b W3a W3a-cho W3b W5, got W2');
    expect(() => parseArgs(['--rounds', '0'])).toThrow('Expected --rounds N with N a positive integer, got 0');
    expect(() => parseArgs(['--timer', 'hrtime'])).toThrow('Expected --timer plain or benchjs, got hrtime');
    expect(() => parseArgs(['--stat', 'min'])).toThrow('Expected --stat median or mean, got min');
    expect(() => parseArgs(['--pin', 'first'])).toThrow('Expected --pin CPU with CPU a core number, got first');
    expect(parseArgs(['--node-flag', '--liftoff-only']).nodeFlags).toEqual(['--liftoff-only']);
    expect(() => parseArgs(['--node-flag', 'liftoff'])).toThrow('Expected --node-flag --some-v8-or-node-flag, got liftoff');
    expect(() => parseArgs(['--fast'])).toThrow(/got --fast$/);
  });

  it('switches one factor per row of the factor table, the pairs conditions together in the last but one', () => {
    const rows = factorConfigs(parseArgs(['--calls', '10']));
    const base = rows[0];
    expect(base).toMatchObject({ samePro: false, prebuilt: false, timer: 'plain', warm: false });
    const keys = ['samePro', 'prebuilt', 'stat', 'timer', 'warm', 'calls', 'warmup', 'pin'] as const;
    // the long warm-up row also raises the time floor (warmupMs): one factor, two numbers
    for (let i = 1; i <= 8; i++) {
      const changed = keys.filter((k) => (rows[i] as Record<string, unknown>)[k] !== (base as Record<string, unknown>)[k]);
      expect(changed).toEqual([keys[i - 1]]);
    }
    expect(rows[6].calls).toBe(50);
    expect(rows[7]).toMatchObject({ warmup: 500, warmupMs: 5000 });
    expect(rows[8].pin).toBe('0');
    expect(rows[9]).toMatchObject({ samePro: true, prebuilt: true, timer: 'benchjs', warm: true, pin: null });
    expect(rows[10].harness).toBe('pairs');
    expect(rows).toHaveLength(11);
  });
});

describe('bench/fresh.mjs: end to end', () => {
  it('runs W1a for one round in fresh processes and writes the run file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rnnw-fresh-test-'));
    try {
      const file = join(dir, 'run.json');
      const stdout = execFileSync(process.execPath, ['bench/fresh.mjs', '--quick', '--only', 'W1a', '--rounds', '1', '--calls', '5', '--json', file], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      expect(stdout).toMatch(/\| W1a +\| [\d.]+ \(/);
      const run = JSON.parse(readFileSync(file, 'utf8'));
      expect(run).toMatchObject({ harness: 'fresh', quick: true, options: { rounds: 1, calls: 5, samePro: false, prebuilt: false, timer: 'plain', warm: false }, failures: [] });
      expect(run.machine).toMatch(/logical CPUs/);
      expect(run.versions.node).toBe(process.version);
      expect(run.versions['rnn-wasm']).toMatch(/^rnn-wasm /);
      expect(run.versions['ort-web-1t']).toMatch(/^onnxruntime-web /);
      expect(run.loadAverage.before).toHaveLength(3);
      expect(run.loadAverage.after).toHaveLength(3);
      expect(Object.keys(run.workloads)).toEqual(['W1a']);
      const W = run.workloads.W1a;
      expect(W.unit).toBe('us/step');
      expect(W.rounds).toHaveLength(1);
      const r = W.rounds[0];
      expect(r.order).toEqual(['ours', 'ort']);
      expect(r.ok).toBe(true);
      expect(r.maxAbsDiff).toBeLessThan(1e-4);
      expect(r.ours).toBeGreaterThan(0);
      expect(r.ort).toBeGreaterThan(0);
      for (const side of ['ours', 'ort']) {
        expect(r.detail[side].median).toBe(r[side]);
        expect(r.detail[side].mean).toBeGreaterThan(0);
        expect(r.detail[side].gcShare).toBeGreaterThanOrEqual(0);
        expect(r.detail[side].gcShare).toBeLessThan(1);
        expect(r.detail[side].cpuShare).toBeGreaterThan(0);
        expect(r.detail[side].otherThreads).toBeGreaterThanOrEqual(0);
        expect(r.detail[side].samples).toBe(5);
        expect(r.detail[side].warmupCalls).toBe(3);
        expect(r.detail[side].drift).toBeGreaterThan(0);
      }
      expect(W.ratio).toEqual({ median: r.ort / r.ours, min: r.ort / r.ours, max: r.ort / r.ours, n: 1 });
      expect(W.ours).toEqual({ median: r.ours, min: r.ours, max: r.ours, n: 1 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
