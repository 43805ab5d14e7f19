// Fuzzes the file readers (model file, safetensors, Keras/TF.js, ONNX) and the application files
// (app-classifier, app-labeler, app-seq2seq, app-generator, app-forecaster, app-charlm) with seeded
// mutations, every batch in a child process with a heap cap and a time limit (test/hardening/fuzz/).
// Needs dist/ (npm run build).
//   node scripts/fuzz.mjs [--cases 10000] [--seed 1] [--readers rnnw,safetensors,keras,onnx,app-…] [--json out.json]
// Prints outcomes by error class per reader and every bad input (untyped error, silent wrong
// result, crash, hang, lasting memory growth); exits 1 if there is one. An application file that
// loads is 'same' (its predictions on a probe equal the unmutated file's) or 'changed' (a valid
// file that says something else: right shape, finite); wrong-shape or non-finite is 'silent-wrong'.
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fuzz } from '../test/hardening/fuzz/run.mjs';
import { APP_KINDS } from '../test/hardening/fuzz/apps.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const cases = Number(opt('cases', 10000));
const seed = Number(opt('seed', 1));
const readers = opt('readers', ['rnnw', 'safetensors', 'keras', 'onnx', ...APP_KINDS.map((k) => `app-${k}`)].join(',')).split(',');
if (!Number.isInteger(cases) || cases < 1) throw new Error(`Expected --cases a positive integer, got ${opt('cases')}`);

const s = await fuzz(readers, cases, { seed, log: (m) => process.stderr.write(`${m}\n`) });
console.log(`fuzz: ${cases} cases per reader, seed ${seed}, ${s.seconds} s, node ${process.version}, ${cpus()[0]?.model ?? 'cpu'}`);
console.log('| reader | cases | outcomes | slowest case | wasm growth | max RSS growth over a batch |');
console.log('|---|---|---|---|---|---|');
for (const [r, x] of Object.entries(s.perReader)) {
  const outcomes = Object.entries(x.outcomes).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
  console.log(`| ${r} | ${x.cases} | ${outcomes} | ${x.slowestMs} ms | ${x.wasmGrowth} B | ${x.maxRssGrowthMb} MiB |`);
}
console.log(`bad inputs: ${s.bad.length}`);
for (const b of s.bad.slice(0, 50)) console.log(`  ${b.reader} #${b.index} ${b.kind}: ${b.name ?? ''} ${b.message}`);
const json = opt('json');
if (json) writeFileSync(json, JSON.stringify(s, null, 2));
process.exit(s.bad.length ? 1 : 0);
