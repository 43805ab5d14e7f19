// The main job (`npm start`): the `rnn-wasm` CLI end to end, exactly as a user runs it —
//   train-lm on the built-in State of the Union corpus (addresses before 2000; validation on the
//   ones since), then sample, then complete a prompt from the model it wrote.
// Exits non-zero if any step fails or training did not lower the validation bits per character.
// Options: --minutes M (default 1), --hidden H (256), --cell lstm|gru|rnn (lstm), --out FILE.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const { values: a } = parseArgs({
  options: {
    minutes: { type: 'string', default: '1' },
    hidden: { type: 'string', default: '256' },
    cell: { type: 'string', default: 'lstm' },
    out: { type: 'string' },
  },
});
const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const out = a.out ?? join(mkdtempSync(join(tmpdir(), 'rnn-wasm-start-')), 'sotu.rnnw');

/** Runs one CLI command; progress goes to the terminal, stdout is returned. */
function run(...args) {
  console.error(`\n$ rnn-wasm ${args.map((s) => (/\s/.test(s) ? JSON.stringify(s) : s)).join(' ')}`);
  const r = spawnSync(process.execPath, [cli, ...args], { stdio: ['inherit', 'pipe', 'inherit'], encoding: 'utf8' });
  if (r.status !== 0) {
    console.error(`rnn-wasm ${args[0]} failed with exit code ${r.status}`);
    process.exit(r.status || 1);
  }
  return r.stdout;
}

const train = JSON.parse(
  run('--json', 'train-lm', '--corpus', 'builtin:sotu', '--cell', a.cell, '--hidden', a.hidden, '--embedding', '64', '--seq-len', '64', '--batch', '32', '--minutes', a.minutes, '--lr', '0.002', '--sample-every', '200', '--out', out),
);
console.log(
  `trained ${train.steps} steps in ${(train.elapsedMs / 1000).toFixed(1)} s: validation ${train.initialValidationBitsPerChar.toFixed(3)} → ${train.validationBitsPerChar.toFixed(3)} bits/char (${train.parameters} parameters, model in ${out})`,
);
console.log(`\nsample (temperature 0.8):\n${run('sample', out, '--length', '300', '--temperature', '0.8', '--seed', '1')}`);
const prompt = 'The state of our Union is';
console.log(`completion (temperature 0.6, to the end of the sentence):\n${prompt}${run('complete', out, '--prompt', prompt, '--max-length', '200', '--until', '.', '--temperature', '0.6', '--seed', '1')}`);
if (!(train.validationBitsPerChar < train.initialValidationBitsPerChar)) {
  console.error('training did not reduce the validation bits per character');
  process.exit(1);
}
