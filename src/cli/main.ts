#!/usr/bin/env node
// The `rnn-wasm` command: enables relaxed SIMD on Node 20 (before the wasm is compiled), then runs
// the command registry through the frame and exits with its code (0 ok, 1 failure, 2 usage).
import v8 from 'node:v8';
import { readFileSync } from 'node:fs';
import { runCli } from './frame';
import { commands } from './commands/index';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
// output piped into a reader that has stopped (e.g. `| head`): stop quietly
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

runCli(commands, version(), process.argv.slice(2), {
  out: (s) => process.stdout.write(s + '\n'),
  err: (s) => process.stderr.write(s + '\n'),
  tty: process.stderr.isTTY === true,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`rnn-wasm: ${String(e)}\n`);
    process.exitCode = 1;
  },
);
