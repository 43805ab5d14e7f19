// G2P word and phone error rates of a trained Seq2Seq on f32 weights and on int8 weights
// (quantize(model, { weights: 'int8' }), as the CLI's --int8 does), on the held-out CMUdict words of
// scripts/g2p.mjs (g2pWords() in scripts/apps-data.mjs; a prediction is correct when it equals any
// variant). Default model: the playground's committed demo/models/g2p.rnnw, trained by
// scripts/demo-models.mjs on the same split. Prints per beam width WER and PER for both, and the
// int8 − f32 differences in points. Usage (after npm run build):
//   node scripts/g2p-int8.mjs [--model demo/models/g2p.rnnw] [--eval 0 (all held-out words)] [--beams 1,5] [--batch 128]
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as lib from '../dist/index.js';
import { g2pWords } from './apps-data.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** WER and PER (fractions) of a model's translations of `test` ([word, variants[]]) at one beam width. */
export function g2pScores(m, test, beam, batchSize = 128) {
  const out = m.translate(test.map((t) => t[0]), { beam, batchSize });
  const sc = lib.scoreSequences(out.map((o) => o.tokens), test.map((t) => t[1].map((p) => p.split(' '))));
  return { wer: 1 - sc.exactMatch, per: sc.tokenErrorRate, count: sc.count };
}

/** A RESULT line of the script: WER and PER in % (2 decimals) for f32 and int8, and their differences in points. */
export function resultLine(beam, f32, q8) {
  const pc = (v) => (100 * v).toFixed(2);
  const pt = (v) => `${v >= 0 ? '+' : ''}${(100 * v).toFixed(2)}`;
  return `RESULT beam=${beam}: f32 WER ${pc(f32.wer)} %, PER ${pc(f32.per)} %; int8 WER ${pc(q8.wer)} %, PER ${pc(q8.per)} %; ` +
    `int8 − f32: WER ${pt(q8.wer - f32.wer)} points, PER ${pt(q8.per - f32.per)} points; ${f32.count} held-out words`;
}

async function main() {
  const { values: a } = parseArgs({ options: {
    model: { type: 'string', default: join(root, 'demo/models/g2p.rnnw') }, eval: { type: 'string', default: '0' },
    beams: { type: 'string', default: '1,5' }, batch: { type: 'string', default: '128' },
  } });
  const count = (flag, v, min) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`Expected --${flag} to be an integer ≥ ${min}, got ${v}`);
    return n;
  };
  const evalN = count('eval', a.eval, 0), batch = count('batch', a.batch, 1);
  const beams = a.beams.split(',').map((b) => count('beams', b, 1));
  const { variant, int8 } = await lib.init();
  const { test } = g2pWords({ evalN });
  const f32 = await lib.Seq2Seq.load(a.model);
  const q8 = lib.quantize(await lib.Seq2Seq.load(a.model), { weights: 'int8' });
  console.log(`g2p-int8 ${new Date().toISOString()}: ${a.model} (${JSON.stringify(f32.config)}), ${test.length} held-out words, ${variant}, int8 mode ${int8}`);
  for (const beam of beams) console.log(resultLine(beam, g2pScores(f32, test, beam, batch), g2pScores(q8, test, beam, batch)));
  f32.dispose();
  q8.dispose();
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
