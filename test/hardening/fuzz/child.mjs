// One fuzz batch in its own process: node --max-old-space-size=N child.mjs <reader> <seed> <from> <to>
// Runs cases [from, to) of a reader and prints one JSON line: outcomes by error class, every
// input that ended in anything but a typed RnnWasmError or a valid model, the slowest case, and
// wasm memory / RSS after a warm-up and after the batch (garbage collected, so growth is lasting).
// Reader "selfcheck" misbehaves on purpose (untyped error, hang, heap exhaustion) so the harness
// is shown to catch each kind.
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import v8 from 'node:v8';
import { READERS, makeCase } from './readers.mjs';
import { APP_READERS, SilentWrong } from './apps.mjs';
import { rng } from './mutate.mjs';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
const [reader, seedArg, fromArg, toArg] = process.argv.slice(2);
const seed = Number(seedArg);
const from = Number(fromArg);
const to = Number(toArg);
const dist = process.env.RNN_WASM_DIST ?? resolve(import.meta.dirname, '../../../dist/index.js');
const R = await import(pathToFileURL(dist).href);
await R.init();

const SELFCHECK = {
  seeds: () => [0],
  run(_R, i) {
    if (i % 7 === 0) throw new TypeError(`untyped on purpose (case ${i})`);
    if (i === 3) for (;;);
    if (i === 5) {
      const hog = [];
      for (;;) hog.push(new Array(1e5).fill(i));
    }
    if (i % 2) throw new R.FormatError('typed on purpose');
    return () => {};
  },
};

Object.assign(READERS, APP_READERS);
const spec = reader === 'selfcheck' ? SELFCHECK : READERS[reader];
const seeds = await spec.seeds(R, rng(12345));
const probe = new R.RNN({ inputSize: 1, hiddenSize: 1 });
const heap = probe.runner.rt.heap;
const measure = () => {
  globalThis.gc?.();
  return { wasm: heap.byteLength, rss: process.memoryUsage().rss };
};
// warm-up: every seed once, and it must load (a fuzzer whose seeds fail tests nothing)
for (const s of reader === 'selfcheck' ? [] : seeds) spec.run(R, s)();
const before = measure();
const outcomes = {};
const bad = [];
const examples = {}; // the first message of each error class, for the report
let slowest = { index: -1, ms: 0 };
for (let i = from; i < to; i++) {
  const input = reader === 'selfcheck' ? i : makeCase(reader, seeds, seed, i);
  const t0 = performance.now();
  let outcome;
  try {
    const done = spec.run(R, input);
    // application files: 'same' predictions as the unmutated file's, or 'changed' (right shape, finite)
    outcome = done.same === undefined ? 'valid' : done.same ? 'same' : 'changed';
    done();
  } catch (e) {
    outcome = e instanceof R.RnnWasmError ? e.constructor.name : e instanceof SilentWrong ? 'silent-wrong' : 'untyped';
    examples[outcome] ??= `case ${i}: ${String(e?.message ?? e).slice(0, 200)}`;
    if (outcome === 'untyped' || outcome === 'silent-wrong') bad.push({ index: i, kind: outcome, name: e?.constructor?.name ?? typeof e, message: String(e?.message ?? e).slice(0, 300) });
  }
  const ms = performance.now() - t0;
  if (ms > slowest.ms) slowest = { index: i, ms };
  outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
}
const after = measure();
probe.dispose();
process.stdout.write(`${JSON.stringify({ reader, seed, from, to, outcomes, examples, bad, slowest, before, after })}\n`);
