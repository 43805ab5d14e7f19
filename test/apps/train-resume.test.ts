// Every application's train-* command on the shared training frame, as users run them (the built
// dist/cli.js in a child process): a SIGINT mid-run writes a checkpoint between steps and exits 0,
// and --resume to the same total gives the uninterrupted run's file byte for byte (parameters,
// optimizer moments — the CRF's too — step and settings); an architecture flag that contradicts the
// checkpoint is a usage error. (train-forecaster and train-lm have the same test beside their own.)
import { beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const CLI = resolve(__dirname, '../../dist/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'rnn-wasm-train-resume-'));
const file = (name: string) => join(dir, name);
function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Runs a command and sends SIGINT once its first progress line (`step N`, N ≥ 1) is out. */
function interrupted(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: dir });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
      if (/step [1-9]\d*/.test(stderr) && !child.killed) child.kill('SIGINT');
    });
    child.on('close', (code) => done({ code: code ?? -1, stderr }));
  });
}

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`Expected the built CLI at ${CLI} (run npm run build), got none`);
  let seed = 7;
  const r = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const word = () => Array.from({ length: 2 + Math.floor(r() * 6) }, () => 'abcd'[Math.floor(r() * 4)]).join('');
  const cls = Array.from({ length: 64 }, () => {
    const t = word();
    return JSON.stringify({ text: t, label: t.includes('a') ? 'has-a' : 'no-a' });
  });
  writeFileSync(file('cls.jsonl'), cls.join('\n') + '\n');
  const lab = Array.from({ length: 64 }, () => {
    const t = word();
    return JSON.stringify({ text: t, tags: [...t].map((c, i) => (c === 'a' || (i > 0 && t[i - 1] === 'a') ? 'A' : 'O')) });
  });
  writeFileSync(file('lab.jsonl'), lab.join('\n') + '\n');
  const pairs = Array.from({ length: 200 }, () => {
    const s = word();
    return `${s}\t${[...s].reverse().join('')}`;
  });
  writeFileSync(file('rev.tsv'), pairs.join('\n') + '\n');
  const gen = Array.from({ length: 32 }, (_, i) => JSON.stringify({ text: (i % 2 ? 'yx' : 'xy').repeat(1 + (i % 3)), condition: i % 2 ? 'yx' : 'xy' }));
  writeFileSync(file('gen.jsonl'), gen.join('\n') + '\n');
});

// Enough steps that the signal lands mid-run (a step of these tiny models takes well under a millisecond to a few).
const CASES: { name: string; args: string[]; steps: number; data: string[]; arch: [string, string, RegExp]; resume?: string[] }[] = [
  {
    name: 'train-classifier', steps: 3000, data: ['--data', 'cls.jsonl'],
    args: ['--hidden', '8', '--embedding', '4', '--batch', '8', '--lr', '0.01', '--seed', '3', '--bidirectional'],
    arch: ['--hidden', '9', /Expected --hidden 8 \(the checkpoint's\), got 9/],
  },
  {
    name: 'train-labeler', steps: 2000, data: ['--data', 'lab.jsonl'],
    args: ['--crf', '--hidden', '8', '--embedding', '4', '--batch', '8', '--lr', '0.01', '--seed', '3'],
    arch: ['--embedding', '5', /Expected --embedding 4 \(the checkpoint's\), got 5/],
  },
  {
    name: 'train-seq2seq', steps: 1500, data: ['--pairs', 'rev.tsv'],
    args: ['--hidden', '8', '--embedding', '4', '--batch', '16', '--lr', '0.01', '--lr-decay', '0.9', '--length-pool', '4', '--validation', '0.1', '--validation-size', '8', '--eval-every', '1', '--patience', '100000', '--seed', '3'],
    arch: ['--attention', 'dot', /Expected --attention general \(the checkpoint's\), got dot/],
    // early stopping's count is not part of a checkpoint: keep it out of the comparison
    resume: ['--patience', '100000'],
  },
  {
    name: 'train-generator', steps: 3000, data: ['--data', 'gen.jsonl'],
    args: ['--hidden', '8', '--embedding', '4', '--batch', '8', '--lr', '0.01', '--validation', '0', '--seed', '3'],
    arch: ['--cell', 'gru', /Expected --cell lstm \(the checkpoint's\), got gru/],
  },
];

describe('Ctrl-C and --resume in every train-* command', () => {
  for (const c of CASES) {
    it(`${c.name}: SIGINT writes a checkpoint; --resume to the same total gives the uninterrupted run's file byte for byte`, async () => {
      const full = cli(c.name, ...c.data, ...c.args, '--steps', String(c.steps), '--quiet', '--out', `${c.name}-full.rnnw`);
      expect(full.stderr).not.toMatch(/Error/);
      expect(full.code).toBe(0);
      const cut = await interrupted([c.name, ...c.data, ...c.args, '--steps', String(c.steps), '--out', `${c.name}-cut.rnnw`]);
      expect(cut.stderr).not.toMatch(/Error/);
      expect(cut.code).toBe(0);
      const at = Number(/checkpoint at step (\d+)/.exec(cut.stderr)?.[1]);
      expect(at).toBeGreaterThan(0);
      expect(at).toBeLessThan(c.steps);
      // the interrupted file differs from the finished one: the test below can fail
      expect(Buffer.compare(readFileSync(file(`${c.name}-cut.rnnw`)), readFileSync(file(`${c.name}-full.rnnw`)))).not.toBe(0);
      const res = cli(c.name, ...c.data, ...(c.resume ?? []), '--resume', `${c.name}-cut.rnnw`, '--steps', String(c.steps), '--quiet', '--json');
      expect(res.stderr).not.toMatch(/Error/);
      expect(res.code).toBe(0);
      expect(JSON.parse(res.stdout)).toMatchObject({ steps: c.steps - at, totalSteps: c.steps });
      expect(Buffer.compare(readFileSync(file(`${c.name}-cut.rnnw`)), readFileSync(file(`${c.name}-full.rnnw`)))).toBe(0);
      // the checkpoint fixes the architecture
      const changed = cli(c.name, ...c.data, '--resume', `${c.name}-cut.rnnw`, '--steps', String(c.steps + 5), c.arch[0], c.arch[1]);
      expect(changed.code).toBe(2);
      expect(changed.stderr).toMatch(c.arch[2]);
    }, 120_000);
  }
});
