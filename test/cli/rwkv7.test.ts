// `rnn-wasm` on RWKV-7 (the built dist/cli.js in a child process): train-lm --cell rwkv7 writes an
// official-named safetensors checkpoint with its characters; complete/sample/eval-lm read it (also
// with --int8); an official-style checkpoint needs --vocab; train-lm --resume continues it.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const CLI = resolve(__dirname, '../../dist/cli.js');
const FIX = resolve(__dirname, '../fixtures/rwkv7');
const dir = mkdtempSync(join(tmpdir(), 'rnn-wasm-rwkv7-'));
const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
};
const TEXT = 'the quick brown fox jumps over the lazy dog. '.repeat(40);
const TRAIN = ['train-lm', '--corpus', 'fox.txt', '--cell', 'rwkv7', '--hidden', '32', '--head-size', '8', '--layers', '2', '--seq-len', '24', '--batch', '4', '--lr', '0.01', '--validation', '0.2', '--quiet'];

let trained: ReturnType<typeof cli>;
beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`Expected the built CLI at ${CLI} (run npm run build), got none`);
  writeFileSync(join(dir, 'fox.txt'), TEXT);
  writeFileSync(join(dir, 'val.txt'), TEXT.slice(0, 300));
  trained = cli('--json', ...TRAIN, '--steps', '60', '--out', 'fox.safetensors');
});

describe('rnn-wasm and RWKV-7', () => {
  it('train-lm --cell rwkv7 trains and writes a checkpoint; validation bits/char fall', () => {
    expect(trained.code, trained.stderr).toBe(0);
    const r = JSON.parse(trained.stdout);
    expect(r.cell).toBe('rwkv7');
    expect(r.steps).toBe(60);
    expect(r.validationBitsPerChar).toBeLessThan(0.5 * r.initialValidationBitsPerChar);
  });
  it('complete (greedy, --until), sample (seeded), eval-lm, and --int8', () => {
    const c = cli('complete', 'fox.safetensors', '--prompt', 'the quick ', '--until', ' over');
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout.trim()).toBe('brown fox jumps');
    const s1 = cli('sample', 'fox.safetensors', '--length', '30', '--seed', '4', '--temperature', '0.8', '--prompt', 'the');
    expect(s1.code, s1.stderr).toBe(0);
    expect(s1.stdout).toMatch(/^the.{30}\n$/s);
    expect(cli('sample', 'fox.safetensors', '--length', '30', '--seed', '4', '--temperature', '0.8', '--prompt', 'the').stdout).toBe(s1.stdout);
    const e = cli('--json', 'eval-lm', 'fox.safetensors', 'val.txt');
    expect(e.code, e.stderr).toBe(0);
    expect(JSON.parse(e.stdout).bitsPerChar).toBeLessThan(2);
    const q = cli('complete', 'fox.safetensors', '--prompt', 'the lazy ', '--max-length', '4', '--int8');
    expect(q.code, q.stderr).toBe(0);
    expect(q.stdout.trim()).toBe('dog.');
  });
  it('train-lm --resume continues an RWKV-7 file to --steps in total; conflicting flags are refused', () => {
    const r = cli('--json', 'train-lm', '--corpus', 'fox.txt', '--resume', 'fox.safetensors', '--steps', '65', '--validation', '0', '--quiet', '--out', 'fox2.safetensors');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ steps: 5, totalSteps: 65 });
    const lr = cli('train-lm', '--corpus', 'fox.txt', '--resume', 'fox.safetensors', '--steps', '65', '--lr', '0.02', '--out', 'x.safetensors');
    expect(lr.code).not.toBe(0);
    expect(lr.stderr).toContain("Expected lr 0.01 (the model's run, to continue it), got 0.02");
    const flag = cli('train-lm', '--corpus', 'fox.txt', '--cell', 'rwkv7', '--tbptt', '8', '--steps', '1', '--out', 'x.safetensors');
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('with --cell rwkv7 (they set up the other cells\' models), got --tbptt');
    expect(existsSync(join(dir, 'x.safetensors'))).toBe(false);
    const bad = cli('train-lm', '--corpus', 'fox.txt', '--resume', 'fox.safetensors', '--steps', '5', '--hidden', '64', '--out', 'x.safetensors');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('Expected --hidden 32 (the checkpoint\'s), got 64');
  });
  it('an official checkpoint without a vocabulary asks for --vocab; --head-size needs --cell rwkv7', () => {
    copyFileSync(join(FIX, 'tiny.safetensors'), join(dir, 'official.safetensors'));
    const r = cli('complete', 'official.safetensors', '--prompt', 'hi');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('give --vocab rwkv_vocab_v20230424.txt');
    // a .pth is read too; its World vocabulary must cover the ids of the model (the micro model has 16)
    copyFileSync(join(FIX, 'micro.pth'), join(dir, 'micro.pth'));
    const p = cli('complete', 'micro.pth', '--prompt', 'hi', '--vocab', join(FIX, 'vocab-subset.txt'));
    expect(p.code).not.toBe(0);
    expect(p.stderr).toContain("Expected the vocabulary's ids below the model's vocabulary size 16");
    const info = cli('info', 'micro.pth');
    expect(info.code).not.toBe(0);
    expect(info.stderr).toContain('got an RWKV-7 checkpoint (micro.pth): use `rnn-wasm sample`');
    const h = cli('train-lm', '--corpus', 'fox.txt', '--cell', 'gru', '--head-size', '8', '--steps', '1', '--out', 'x.rnnw');
    expect(h.code).not.toBe(0);
    expect(h.stderr).toContain('Expected --head-size only with --cell rwkv7');
    // another command given an RWKV-7 file names the commands that read it
    const c = cli('classify', 'fox.safetensors', 'val.txt');
    expect(c.code).not.toBe(0);
    expect(c.stderr).toContain('got a RWKV7 file');
    expect(c.stderr).toContain('`rnn-wasm complete`');
  });
});
