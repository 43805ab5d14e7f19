// Every application's train-* command on the shared training frame, as users run them (the built
// dist/cli.js in a child process): a SIGINT mid-run writes a checkpoint between steps and exits 0,
// and --resume to the same total gives the uninterrupted run's file byte for byte (parameters,
// optimizer moments — the CRF's too — step and settings); an architecture flag that contradicts the
// checkpoint is a usage error. Every train-* command of the registry is in the table, and each takes
// the same size flags (--hidden, --layers, --embedding) into the same config names (hiddenSize, …).
// train-lm --cell rwkv7 is in it too: its safetensors file carries the run (settings, window order,
// Adam's moments) beside the official-named weights, and its sizes are RWKV-7's (dim, layers, head size).
import { beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { commands } from '../../src/cli/commands/index';
import { readSafetensors } from '../../src/io/safetensors';
import { configOf as rwkv7ConfigOf } from '../../src/rwkv/import';

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
  writeFileSync(file('lm.txt'), 'the cat sat on the mat. the dog sat on the log. '.repeat(20));
  const series = Array.from({ length: 300 }, (_, t) => (Math.sin(t / 5) + 0.1 * r()).toFixed(4));
  writeFileSync(file('series.csv'), 'value\n' + series.join('\n') + '\n');
});

/** The config in an .rnnw file's header (wherever the application keeps it). */
function configOf(path: string): Record<string, unknown> {
  const b = readFileSync(path);
  type Config = Record<string, unknown>;
  const m = (JSON.parse(b.subarray(16, 16 + b.readUInt32LE(12)).toString('utf8')) as { metadata: Record<string, unknown> }).metadata;
  const inner = Object.values(m).find((v): v is { config: Config } => typeof v === 'object' && v !== null && 'config' in v);
  return (m.config as Config | undefined) ?? inner!.config;
}

// Enough steps that the signal lands mid-run (a step of these tiny models takes well under a millisecond to a few).
// `id` names a second case of one command (its files and title); `config` reads a file that is not an .rnnw.
const CASES: { name: string; id?: string; file?: string; config?: (path: string) => Record<string, unknown>; args: string[]; steps: number; data: string[]; arch: [string, string, RegExp]; resume?: string[]; sizes: Record<string, number> }[] = [
  {
    name: 'train-lm', steps: 3000, data: ['--corpus', 'lm.txt'],
    args: ['--hidden', '8', '--layers', '2', '--embedding', '4', '--seq-len', '8', '--batch', '4', '--lr', '0.01', '--validation', '0.1', '--validation-chars', '50', '--eval-every', '500', '--sample-every', '0', '--seed', '3'],
    arch: ['--layers', '1', /Expected --layers 2 \(the checkpoint's\), got 1/],
    sizes: { hiddenSize: 8, numLayers: 2, embeddingDim: 4 },
  },
  {
    name: 'train-lm', id: 'train-lm-rwkv7', file: 'safetensors', steps: 5000, data: ['--corpus', 'lm.txt'],
    config: (path) => ({ ...rwkv7ConfigOf(readSafetensors(readFileSync(path)).tensors) }),
    args: ['--cell', 'rwkv7', '--hidden', '8', '--layers', '2', '--head-size', '4', '--seq-len', '8', '--batch', '4', '--lr', '0.01', '--validation', '0.1', '--validation-chars', '50', '--eval-every', '500', '--sample-every', '0', '--seed', '3'],
    arch: ['--head-size', '8', /Expected --head-size 4 \(the checkpoint's\), got 8/],
    sizes: { dim: 8, layers: 2, headSize: 4 },
  },
  {
    name: 'train-forecaster', steps: 3000, data: ['--data', 'series.csv'],
    args: ['--hidden', '8', '--layers', '2', '--window', '10', '--horizon', '2', '--batch', '16', '--lr', '0.01', '--validation', '0.1', '--seed', '3'],
    arch: ['--hidden', '9', /Expected --hidden 8 \(the checkpoint's\), got 9/],
    sizes: { hiddenSize: 8, numLayers: 2 },
  },
  {
    name: 'train-classifier', steps: 3000, data: ['--data', 'cls.jsonl'],
    args: ['--hidden', '8', '--embedding', '4', '--batch', '8', '--lr', '0.01', '--seed', '3', '--bidirectional'],
    arch: ['--hidden', '9', /Expected --hidden 8 \(the checkpoint's\), got 9/],
    sizes: { hiddenSize: 8, numLayers: 1, embeddingDim: 4 },
  },
  {
    name: 'train-labeler', steps: 2000, data: ['--data', 'lab.jsonl'],
    args: ['--crf', '--hidden', '8', '--embedding', '4', '--batch', '8', '--lr', '0.01', '--seed', '3'],
    arch: ['--embedding', '5', /Expected --embedding 4 \(the checkpoint's\), got 5/],
    sizes: { hiddenSize: 8, embeddingDim: 4 },
  },
  {
    name: 'train-seq2seq', steps: 1500, data: ['--pairs', 'rev.tsv'],
    args: ['--hidden', '8', '--embedding', '4', '--batch', '16', '--lr', '0.01', '--lr-decay', '0.9', '--length-pool', '4', '--validation', '0.1', '--validation-size', '8', '--eval-every', '1', '--patience', '100000', '--seed', '3'],
    arch: ['--attention', 'dot', /Expected --attention general \(the checkpoint's\), got dot/],
    // early stopping's count is not part of a checkpoint: keep it out of the comparison
    resume: ['--patience', '100000'],
    sizes: { hiddenSize: 8, embeddingDim: 4 },
  },
  {
    name: 'train-generator', steps: 3000, data: ['--data', 'gen.jsonl'],
    args: ['--hidden', '8', '--embedding', '4', '--batch', '8', '--lr', '0.01', '--validation', '0', '--seed', '3'],
    arch: ['--cell', 'gru', /Expected --cell lstm \(the checkpoint's\), got gru/],
    sizes: { hiddenSize: 8, embeddingDim: 4 },
  },
];

describe('every train-* command', () => {
  it('is in the table below', () => {
    expect([...new Set(CASES.map((c) => c.name))].sort()).toEqual(commands.map((c) => c.name).filter((n) => n.startsWith('train-')).sort());
  });
});

describe('Ctrl-C and --resume in every train-* command', () => {
  for (const c of CASES) {
    const id = c.id ?? c.name;
    const ext = c.file ?? 'rnnw';
    it(`${id}: SIGINT writes a checkpoint; --resume to the same total gives the uninterrupted run's file byte for byte`, async () => {
      const full = cli(c.name, ...c.data, ...c.args, '--steps', String(c.steps), '--quiet', '--out', `${id}-full.${ext}`);
      expect(full.stderr).not.toMatch(/Error/);
      expect(full.code).toBe(0);
      const cut = await interrupted([c.name, ...c.data, ...c.args, '--steps', String(c.steps), '--out', `${id}-cut.${ext}`]);
      expect(cut.stderr).not.toMatch(/Error/);
      expect(cut.code).toBe(0);
      const at = Number(/checkpoint at step (\d+)/.exec(cut.stderr)?.[1]);
      expect(at).toBeGreaterThan(0);
      expect(at).toBeLessThan(c.steps);
      // the interrupted file differs from the finished one: the test below can fail
      expect(Buffer.compare(readFileSync(file(`${id}-cut.${ext}`)), readFileSync(file(`${id}-full.${ext}`)))).not.toBe(0);
      const res = cli(c.name, ...c.data, ...(c.resume ?? []), '--resume', `${id}-cut.${ext}`, '--steps', String(c.steps), '--quiet', '--json');
      expect(res.stderr).not.toMatch(/Error/);
      expect(res.code).toBe(0);
      expect(JSON.parse(res.stdout)).toMatchObject({ steps: c.steps - at, totalSteps: c.steps });
      expect(Buffer.compare(readFileSync(file(`${id}-cut.${ext}`)), readFileSync(file(`${id}-full.${ext}`)))).toBe(0);
      // the size flags land in the config under the API's names
      const config = (c.config ?? configOf)(file(`${id}-full.${ext}`));
      expect(config).toMatchObject(c.sizes);
      if (!c.config) for (const former of ['hidden', 'layers', 'embedding']) expect(config).not.toHaveProperty(former);
      // the checkpoint fixes the architecture
      const changed = cli(c.name, ...c.data, '--resume', `${id}-cut.${ext}`, '--steps', String(c.steps + 5), c.arch[0], c.arch[1]);
      expect(changed.code).toBe(2);
      expect(changed.stderr).toMatch(c.arch[2]);
    }, 120_000);
  }
});
