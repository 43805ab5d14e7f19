// The Markdown table of bench/RESULTS.md's "Character LM on the State of the Union" section, from
// the JSON files bench/charlm-sotu.mjs writes (one file may hold several runs):
//   node bench/charlm-sotu-report.mjs bench/runs/2026-11-30-charlm-sotu-*.json
// Per cell: each implementation's steps, characters/s and validation bits/char, then the
// difference in bits/char and the throughput ratio (rnn-wasm against TensorFlow.js).
import { readFileSync } from 'node:fs';

const files = process.argv.slice(2);
if (files.length === 0) throw new Error('Expected one or more JSON files written by bench/charlm-sotu.mjs, got none');
const runs = files.flatMap((f) => {
  const r = JSON.parse(readFileSync(f, 'utf8'));
  return r.results.map((x) => ({ ...x, file: f, machine: r.machine, date: r.date, config: r.config }));
});
const row = (cells) => `| ${cells.join(' | ')} |`;
console.log(row(['cell', 'implementation', 'shape (parameters)', 'budget', 'steps', 'characters/s', 'validation bits/char', 'run file']));
console.log(row(['---', '---', '---', '---:', '---:', '---:', '---:', '---']));
for (const r of runs) {
  const shape = r.params ? `${r.layers}×${r.hidden} (${r.params.toLocaleString('en-US')})` : `1×${r.config.H}`;
  const budget = `${(r.seconds / 60).toFixed(1)} ${r.config.budget === 'cpu' ? 'CPU ' : ''}min`;
  console.log(row([r.cell, r.version, shape, budget, r.steps.toLocaleString('en-US'), Math.round(r.charsPerSecond).toLocaleString('en-US'), r.validationBitsPerChar.toFixed(3), r.file.replace(/^.*\//, '')]));
}
console.log('');
for (const cell of [...new Set(runs.map((r) => r.cell))]) {
  const ours = runs.find((r) => r.cell === cell && r.impl === 'rnn-wasm');
  const tf = runs.find((r) => r.cell === cell && r.impl === 'tfjs');
  if (!ours || !tf) continue;
  const d = tf.validationBitsPerChar - ours.validationBitsPerChar;
  console.log(`- ${cell.toUpperCase()}: rnn-wasm ${d >= 0 ? `${d.toFixed(3)} bits/char lower` : `${(-d).toFixed(3)} bits/char higher`} than TensorFlow.js after the same budget; ${(ours.charsPerSecond / tf.charsPerSecond).toFixed(2)}× its training throughput (${ours.steps} against ${tf.steps} steps).`);
}
const machines = [...new Set(runs.map((r) => r.machine))];
console.log(`\nMachine: ${machines.join('; ')}; runs dated ${runs.map((r) => r.date.slice(0, 16)).join(', ')}.`);
