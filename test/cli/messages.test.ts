// The CLI's first-contact messages (the built dist/cli.js in a child process): "did you mean" for a
// misspelt command or flag, an unknown command is a usage error (2) even with --help, a model file
// of another kind names the command that reads it, a file that is no model says so, the small-corpus
// error names the flags that fix it, and --steps at or below a checkpoint's step is a usage error.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { commands } from '../../src/cli/commands/index';
import { MODEL_ARGUMENT, MODEL_KINDS, sniff } from '../../src/cli/kinds';

const CLI = resolve(__dirname, '../../dist/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'rnn-wasm-cli-messages-'));
function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
const TINY_LM = ['--hidden', '8', '--embedding', '4', '--seq-len', '8', '--batch', '2', '--validation', '0', '--quiet'];

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`Expected the built CLI at ${CLI} (run npm run build), got none`);
  writeFileSync(join(dir, 'notes.txt'), 'hello world, this is a text file\nsecond line\n');
  writeFileSync(join(dir, 'small.txt'), 'The cat sat on the mat. The dog ran.\n'); // 37 characters
  writeFileSync(join(dir, 'noise.bin'), Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 5) % 256));
  const rows = Array.from({ length: 8 }, () => ['{"text":"good movie","label":"pos"}', '{"text":"bad film","label":"neg"}']).flat();
  writeFileSync(join(dir, 'cls.jsonl'), rows.join('\n') + '\n');
  const lm = cli('train-lm', '--corpus', 'small.txt', '--steps', '3', ...TINY_LM, '--out', 'lm.rnnw');
  const cls = cli('train-classifier', '--data', 'cls.jsonl', '--epochs', '1', '--hidden', '8', '--embedding', '4', '--out', 'cls.rnnw');
  if (lm.code !== 0 || cls.code !== 0) throw new Error(`Expected the two model files, got: ${lm.stderr} ${cls.stderr}`);
});

describe('did you mean', () => {
  it.each([
    [['trian-lm'], "error: unknown command 'trian-lm' (Did you mean train-lm?)"],
    [['trian-lm', '--help'], "error: unknown command 'trian-lm' (Did you mean train-lm?)"],
    [['--json', 'clasify', '-h'], "error: unknown command 'clasify' (Did you mean classify?)"],
    [['help', 'smaple'], "error: unknown command 'smaple' (Did you mean sample?)"],
    [['info', '--jsn', 'x.rnnw'], "error: unknown option '--jsn' (Did you mean --json?)"],
    [['sample', 'lm.rnnw', '--lenght', '5'], "error: unknown option '--lenght' (Did you mean --length?)"],
    // serve takes its model file first, as every command; the older --model once, not both
    [['serve'], 'rnn-wasm: usage error: Expected a model file as the first argument (serve MODEL), got none'],
    [['serve', 'cls.rnnw', '--model', 'lm.rnnw'], 'rnn-wasm: usage error: Expected the model file once (as the argument or --model), got cls.rnnw and --model lm.rnnw'],
    // the misspelt flag is reported, not the required option it was meant to give
    [['train-lm', '--corpsu', 'small.txt', '--steps', '1', '--out', 'x.rnnw'], "error: unknown option '--corpsu' (Did you mean --corpus?)"],
  ])('rnn-wasm %j exits 2 with %j', (args, line) => {
    const r = cli(...args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toBe(line);
  });

  it('a known command with --help still prints its help and exits 0; no arguments is usage', () => {
    const h = cli('train-lm', '--help');
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/^Usage: rnn-wasm train-lm \[options\]/);
    expect(cli('help', 'sample').stdout).toMatch(/^Usage: rnn-wasm sample \[options\] <model>/);
    expect(cli().code).toBe(2);
  });
});

describe('model files of another kind, and files that are no model', () => {
  it.each([
    [['sample', 'cls.rnnw'], 'rnn-wasm: FormatError: Expected a CharLM model file, got a SequenceClassifier file (cls.rnnw): use `rnn-wasm classify`'],
    [['eval-lm', 'cls.rnnw', 'small.txt'], 'rnn-wasm: FormatError: Expected a CharLM model file, got a SequenceClassifier file (cls.rnnw): use `rnn-wasm classify`'],
    [['classify', 'lm.rnnw', 'cls.jsonl'], 'rnn-wasm: FormatError: Expected a SequenceClassifier model file, got a CharLM file (lm.rnnw): use `rnn-wasm sample` or `rnn-wasm complete` or `rnn-wasm eval-lm`'],
    [['translate', 'cls.rnnw', 'small.txt'], 'rnn-wasm: FormatError: Expected a Seq2Seq model file, got a SequenceClassifier file (cls.rnnw): use `rnn-wasm classify`'],
    [['translate', '--model', 'cls.rnnw', 'small.txt'], 'rnn-wasm: FormatError: Expected a Seq2Seq model file, got a SequenceClassifier file (cls.rnnw): use `rnn-wasm classify`'],
    [['serve', 'notes.txt'], 'rnn-wasm: FormatError: Expected a model file (.rnnw, .onnx, .safetensors or a tfjs model.json), got text starting "hello world, this is a text file": notes.txt is not an rnn-wasm model file'],
    [['serve', '--model', 'notes.txt'], 'rnn-wasm: FormatError: Expected a model file (.rnnw, .onnx, .safetensors or a tfjs model.json), got text starting "hello world, this is a text file": notes.txt is not an rnn-wasm model file'],
    [['train-lm', '--corpus', 'small.txt', '--resume', 'cls.rnnw', '--steps', '5'], 'rnn-wasm: FormatError: Expected a CharLM model file, got a SequenceClassifier file (cls.rnnw): use `rnn-wasm classify`'],
    [['info', 'notes.txt'], 'rnn-wasm: FormatError: Expected a model file (.rnnw, .onnx, .safetensors or a tfjs model.json), got text starting "hello world, this is a text file": notes.txt is not an rnn-wasm model file'],
    [['sample', 'notes.txt'], 'rnn-wasm: FormatError: Expected a CharLM model file, got text starting "hello world, this is a text file": notes.txt is not an rnn-wasm model file'],
    [['info', 'noise.bin'], 'rnn-wasm: FormatError: Expected a model file (.rnnw, .onnx, .safetensors or a tfjs model.json), got 64 bytes of binary data: noise.bin is not an rnn-wasm model file'],
  ])('rnn-wasm %j: %s', (args, line) => {
    const r = cli(...args);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`${line}\n`);
    expect(r.stderr).not.toMatch(/wire type|deserializeGraph|loadGraph/);
  });

  it('the right kind still loads, and a damaged file of the right kind keeps the loader\'s message', () => {
    expect(cli('sample', 'lm.rnnw', '--length', '5', '--seed', '1').code).toBe(0);
    expect(cli('info', 'cls.rnnw').stdout).toMatch(/^application: classifier$/m);
    const bytes = readFileSync(join(dir, 'lm.rnnw'));
    bytes[bytes.length - 10] ^= 0xff;
    writeFileSync(join(dir, 'damaged.rnnw'), bytes);
    const r = cli('sample', 'damaged.rnnw');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^rnn-wasm: FormatError: Expected checksum [0-9a-f]+, got [0-9a-f]+ \(the file is corrupt or truncated\)\n$/);
  });

  it('every command that reads a model file says where and what kind; every kind names commands that exist', () => {
    const names = new Set(commands.map((c) => c.name));
    expect(Object.keys(MODEL_ARGUMENT).filter((n) => !names.has(n))).toEqual([]);
    const kinds = new Set(MODEL_KINDS.map((k) => k.name));
    for (const [name, where] of Object.entries(MODEL_ARGUMENT)) if (where.reads !== 'any') expect(kinds.has(where.reads), name).toBe(true);
    for (const k of MODEL_KINDS) for (const r of k.readers) expect(names.has(r.split(' ')[0]), r).toBe(true);
    // a command whose help shows a <model> argument, --resume or --model is in the table
    for (const c of commands) {
      const help = cli(c.name, '--help').stdout;
      if (/[<[]model[>\]]|--resume <file>|--model <file>/.test(help)) expect(MODEL_ARGUMENT[c.name], c.name).toBeDefined();
    }
  });

  it('sniff: an ONNX-looking file is left to the ONNX reader; empty files and safetensors are told apart', () => {
    expect(sniff(Uint8Array.of(0x08, 0x07, 0x12, 0x00))).toBeNull();
    expect(sniff(new Uint8Array(0))).toEqual({ notModel: 'an empty file' });
    const header = new TextEncoder().encode('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}');
    const st = new Uint8Array(8 + header.length + 4);
    new DataView(st.buffer).setUint32(0, header.length, true);
    st.set(header, 8);
    expect(sniff(st)).toEqual({ plain: 'a safetensors file' });
  });
});

describe('training-budget and corpus messages', () => {
  it('the small-corpus error names --seq-len and --validation 0 (usage, exit 2), and following it works', () => {
    const r = cli('train-lm', '--corpus', 'small.txt', '--steps', '2', '--hidden', '8', '--embedding', '4', '--quiet', '--out', 'x.rnnw');
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n').at(-1)).toBe(
      "rnn-wasm: usage error: Expected a training text of at least 65 characters for random windows of seqLen 64, got 33: give --seq-len 32 or less, or --validation 0 (4 of the corpus's 37 characters are held out for validation)",
    );
    expect(cli('train-lm', '--corpus', 'small.txt', '--steps', '2', '--hidden', '8', '--embedding', '4', '--quiet', '--out', 'x.rnnw', '--seq-len', '32').code).toBe(0);
    const seq = cli('train-lm', '--corpus', 'small.txt', '--steps', '2', '--hidden', '8', '--embedding', '4', '--quiet', '--out', 'x.rnnw', '--order', 'sequential', '--seq-len', '8', '--batch', '8');
    expect(seq.code).toBe(2);
    expect(seq.stderr).toMatch(/got 33: give --seq-len 4 or less, or a smaller --batch, or --order random, or --validation 0 \(4 of/);
  });

  it('--steps at or below the checkpoint\'s step is a usage error (no NaN), above it trains the difference', () => {
    for (const steps of ['3', '2']) {
      const r = cli('train-lm', '--corpus', 'small.txt', '--resume', 'lm.rnnw', '--steps', steps, '--quiet');
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(`rnn-wasm: usage error: Expected --steps above 3, the checkpoint's step (--steps counts the model's total steps: --steps 1003 trains 1000 more), got ${steps}\n`);
    }
    const zero = cli('train-lm', '--corpus', 'small.txt', '--steps', '0', ...TINY_LM, '--out', 'zero.rnnw');
    expect(zero.code).toBe(2);
    expect(zero.stderr).toBe('rnn-wasm: usage error: Expected --steps ≥ 1, got 0\n');
    expect(existsSync(join(dir, 'zero.rnnw'))).toBe(false);
    const more = cli('--json', 'train-lm', '--corpus', 'small.txt', '--resume', 'lm.rnnw', '--steps', '5', '--quiet', '--out', 'more.rnnw');
    expect(more.code).toBe(0);
    expect(JSON.parse(more.stdout)).toMatchObject({ steps: 2, stepsTotal: 5 });
    expect(JSON.parse(more.stdout).trainBitsPerChar).toBeGreaterThan(0);
  });
});
