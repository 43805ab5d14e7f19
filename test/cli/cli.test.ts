// The `rnn-wasm` command as users run it: the built dist/cli.js in a child process (npm test
// builds first). The lecture notes' sentence completion, Ctrl-C and --resume giving the same file
// as an uninterrupted run, exit codes and one-line errors, info/convert over the model formats.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const CLI = resolve(__dirname, '../../dist/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'rnn-wasm-cli-'));
const file = (name: string) => join(dir, name);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}
function cli(...args: string[]): Run {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
/** Runs several invocations at once (each is a process; most of their time is start-up). */
function cliAll(list: string[][]): Promise<Run[]> {
  return Promise.all(
    list.map(
      (args) =>
        new Promise<Run>((done) => {
          const child = spawn(process.execPath, [CLI, ...args], { cwd: dir });
          let stdout = '';
          let stderr = '';
          child.stdout.on('data', (d) => (stdout += d));
          child.stderr.on('data', (d) => (stderr += d));
          child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
        }),
    ),
  );
}

// the notes' three sentences, and another corpus of the same kind
const SEEDS = 'Hi How are you?\nI am fine. Thank you!\nHow do you feel today?\n';
const PETS = 'The cat sat on the mat.\nThe dog ran to the park.\nA bird sang in the tree.\n';
const SMALL = ['--cell', 'lstm', '--layers', '1', '--hidden', '64', '--steps', '1500', '--seq-len', '16', '--batch', '8', '--lr', '0.01', '--validation', '0', '--sample-every', '0', '--quiet'];

let trained: Run[];
beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`Expected the built CLI at ${CLI} (run npm run build), got none`);
  writeFileSync(file('seeds.txt'), SEEDS);
  writeFileSync(file('pets.txt'), PETS);
  trained = await cliAll(['seeds', 'pets'].map((c) => ['train-lm', '--corpus', `${c}.txt`, ...SMALL, '--out', `${c}.rnnw`, '--json']));
});

describe('sentence completion through the CLI (LSTM, 1 layer, hidden 64, 1,500 steps)', () => {
  it.each([
    [0, 'seeds.rnnw', 'I am ', 'fine.'],
    [1, 'pets.rnnw', 'The dog ', 'ran'],
  ])('%i: %s complete --prompt %j prints %j', (k, model, prompt, want) => {
    const t = trained[k];
    expect(t.stderr).not.toMatch(/Error/);
    expect(t.code).toBe(0);
    const summary = JSON.parse(t.stdout);
    expect(summary.totalSteps).toBe(1500);
    expect(summary.trainBitsPerChar).toBeLessThan(0.5);
    const c = cli('complete', model, '--prompt', prompt, '--until', ' ');
    expect(c.code).toBe(0);
    expect(c.stdout).toBe(`${want}\n`);
    const j = cli('--json', 'complete', model, '--prompt', prompt, '--max-length', String(want.length));
    expect(JSON.parse(j.stdout)).toEqual({ prompt, completion: want });
  });

  it('sample is reproducible for a seed; eval-lm and info report the model', () => {
    const a = cli('sample', 'seeds.rnnw', '--length', '80', '--seed', '3', '--temperature', '0.9');
    expect(a.code).toBe(0);
    expect(a.stdout).toHaveLength(81);
    expect(cli('sample', 'seeds.rnnw', '--length', '80', '--seed', '3', '--temperature', '0.9').stdout).toBe(a.stdout);
    const e = JSON.parse(cli('--json', 'eval-lm', 'seeds.rnnw', 'seeds.txt').stdout);
    expect(e.characters).toBe(SEEDS.length);
    expect(e.bitsPerChar).toBeLessThan(1.5);
    const i = JSON.parse(cli('info', 'seeds.rnnw', '--json').stdout);
    expect(i.format).toBe('rnnw');
    expect(i.vocabularySize).toBe(new Set(SEEDS).size + 1); // + <unk>
    expect(i.architecture).toEqual(['embedding(numEmbeddings=25, embeddingDim=64)', 'lstm(inputSize=64, hiddenSize=64, numLayers=1)', 'linear(inFeatures=64, outFeatures=25)']);
    expect(i.parameters).toBe(25 * 64 + 4 * 64 * (64 + 64) + 8 * 64 + 25 * 64 + 25);
    expect(i.metadata.charlm.training.step).toBe(1500);
  });

  it('convert writes ONNX and safetensors files that info reads back with the same parameters', async () => {
    const formats = ['onnx', 'safetensors', 'rnnw'];
    const converted = await cliAll(formats.map((to) => ['convert', 'seeds.rnnw', `copy.${to}`, '--to', to]));
    converted.forEach((c) => expect(c.code, c.stderr).toBe(0));
    const [orig, ...infos] = (await cliAll([['--json', 'info', 'seeds.rnnw'], ...formats.map((to) => ['--json', 'info', `copy.${to}`])])).map((r) => JSON.parse(r.stdout));
    infos.forEach((i, k) => {
      expect(i.format).toBe(formats[k]);
      expect(i.parameters).toBe(orig.parameters);
    });
  });
});

describe('Ctrl-C and --resume', () => {
  const ARGS = ['--corpus', 'long.txt', '--hidden', '64', '--seq-len', '32', '--batch', '16', '--validation', '0', '--sample-every', '0', '--seed', '5', '--lr', '0.005'];
  const STEPS = '300';

  it('SIGINT writes a checkpoint and exits 0; resuming to the same total gives the uninterrupted run’s file byte for byte', async () => {
    writeFileSync(file('long.txt'), SEEDS.repeat(10));
    const ref = cli('train-lm', ...ARGS, '--steps', STEPS, '--out', 'ref.rnnw', '--quiet');
    expect(ref.code).toBe(0);
    // interrupt once the progress line shows some steps (this run also prints samples, which must not
    // disturb training)
    const child = spawn(process.execPath, [CLI, 'train-lm', ...ARGS, '--steps', STEPS, '--out', 'cut.rnnw', '--json', '--sample-every', '40'], { cwd: dir });
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    const code = await new Promise<number>((done) => {
      child.stderr.on('data', (d) => {
        stderr += d;
        if (/step [1-9]\d*\/300/.test(stderr) && !child.killed) child.kill('SIGINT');
      });
      child.on('close', (c) => done(c ?? -1));
    });
    expect(code).toBe(0);
    const cut = JSON.parse(stdout);
    expect(cut.stopped).toBe('signal');
    expect(cut.totalSteps).toBeGreaterThan(0);
    expect(cut.totalSteps).toBeLessThan(300);
    expect(stderr).toMatch(/interrupted: checkpoint at step \d+ written to cut\.rnnw/);
    const res = cli('train-lm', '--corpus', 'long.txt', '--resume', 'cut.rnnw', '--steps', STEPS, '--validation', '0', '--sample-every', '0', '--quiet', '--json');
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout).steps).toBe(300 - cut.totalSteps);
    expect(Buffer.compare(readFileSync(file('cut.rnnw')), readFileSync(file('ref.rnnw')))).toBe(0);
    // a resumed run keeps the checkpoint's settings
    const bad = cli('train-lm', '--corpus', 'long.txt', '--resume', 'cut.rnnw', '--steps', '310', '--hidden', '32');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('rnn-wasm: usage error: Expected --hidden 64 (the checkpoint\'s), got 32\n');
  });
});

describe('--workers', () => {
  it('train-lm --workers 2 (WorkerPool, the batch split across threads) follows the one-thread run', async () => {
    writeFileSync(file('w.txt'), SEEDS.repeat(10));
    const args = (w: string) => ['--json', 'train-lm', '--corpus', 'w.txt', '--hidden', '32', '--seq-len', '16', '--batch', '8', '--steps', '40', '--validation', '0.2', '--quiet', '--workers', w, '--out', `w${w}.rnnw`];
    const [one, two] = (await cliAll([args('1'), args('2')])).map((r) => JSON.parse(r.stdout));
    expect(two.totalSteps).toBe(40);
    expect(two.validationBitsPerChar).toBeLessThan(two.initialValidationBitsPerChar - 1);
    expect(Math.abs(two.validationBitsPerChar - one.validationBitsPerChar)).toBeLessThan(1e-3);
  });
});

describe('exit codes and one-line errors', () => {
  const oneLine = (s: string) => s.trim().split('\n').length === 1;

  it('--help on every command, --version', async () => {
    const names = ['train-lm', 'sample', 'complete', 'eval-lm', 'info', 'convert'];
    const runs = await cliAll(names.map((c) => [c, '--help']));
    runs.forEach((r, i) => {
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: rnn-wasm ${names[i]}`);
    });
    const top = cli('--help');
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/train-lm[\s\S]*convert/);
    const pkg = JSON.parse(readFileSync(resolve(__dirname, '../../package.json'), 'utf8'));
    expect(cli('--version').stdout).toBe(`${pkg.version}\n`);
  });

  it('usage errors exit 2 with one line', async () => {
    const cases = [[], ['frobnicate'], ['train-lm', '--corpus', 'seeds.txt', '--out', 'x.rnnw', '--hidden', '0', '--steps', '1'], ['train-lm', '--corpus', 'seeds.txt', '--out', 'x.rnnw'], ['train-lm', '--out', 'x.rnnw', '--steps', '1'], ['complete', 'seeds.rnnw'], ['sample', 'seeds.rnnw', '--top-p', '2'], ['convert', 'seeds.rnnw', 'x', '--to', 'pt']];
    const runs = await cliAll(cases);
    runs.forEach((r, i) => {
      expect(r.code, cases[i].join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      if (cases[i].length) expect(oneLine(r.stderr.replace(/\(run with --help for usage\)\n?/, '')), r.stderr).toBe(true);
    });
    expect(runs[2].stderr).toMatch(/--hidden <h>.*Expected an integer ≥ 1, got 0/);
    expect(runs[3].stderr).toBe('rnn-wasm: usage error: Expected a budget: --steps S or --minutes M, got neither\n');
  });

  it('missing and corrupt files exit 1 with one line; --debug adds the stack', async () => {
    const missing = cli('train-lm', '--corpus', 'nope.txt', '--out', 'x.rnnw', '--steps', '1');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^rnn-wasm: FileError: Expected a readable corpus file at nope\.txt, got ENOENT[^\n]*\n$/);
    const bytes = readFileSync(file('seeds.rnnw'));
    bytes[bytes.length - 100] ^= 0xff;
    writeFileSync(file('corrupt.rnnw'), bytes);
    const cases = [['complete', 'corrupt.rnnw', '--prompt', 'I'], ['info', 'corrupt.rnnw'], ['eval-lm', 'seeds.txt', 'seeds.txt'], ['--debug', 'info', 'corrupt.rnnw']];
    const [complete, info, notModel, dbg] = await cliAll(cases);
    for (const r of [complete, info, notModel]) {
      expect(r.code, r.stderr).toBe(1);
      expect(oneLine(r.stderr), r.stderr).toBe(true);
      expect(r.stderr).toMatch(/^rnn-wasm: FormatError: Expected /);
    }
    expect(info.stderr).toMatch(/checksum/);
    expect(notModel.stderr).toBe('rnn-wasm: FormatError: Expected a CharLM model file, got text starting "Hi How are you?": seeds.txt is not an rnn-wasm model file\n');
    expect(dbg.code).toBe(1);
    expect(dbg.stderr).toMatch(/FormatError: Expected[\s\S]*\n\s+at /);
  });

  it("unknown characters under --unknown error exit 1 naming the character and its position", () => {
    const t = cli('train-lm', '--corpus', 'seeds.txt', '--unknown', 'error', '--hidden', '8', '--embedding', '4', '--seq-len', '8', '--batch', '2', '--steps', '2', '--validation', '0', '--quiet', '--out', 'strict.rnnw');
    expect(t.code).toBe(0);
    const r = cli('complete', 'strict.rnnw', '--prompt', 'I am ☃');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("rnn-wasm: ValueError: Expected characters of the vocabulary in prompt, got '☃' (U+2603) at position 5\n");
    // the default policy maps it to <unk> instead
    expect(cli('complete', 'seeds.rnnw', '--prompt', 'I am ☃', '--max-length', '3').code).toBe(0);
  });
});
