// scripts/g2p-int8.mjs on the committed G2P model (demo/models/g2p.rnnw) and the 2,000 held-out
// words the playground's model is scored on (g2pWords({ evalN: 2000 })): the WER and PER it prints
// for f32 and int8, greedy and beam 5, equal what this test computes from the built library itself
// (the word errors counted here, not by scoreSequences), and int8's WER is within 0.3 points of
// f32's at both beam widths. Needs `npm run build` (the script runs on dist/).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, quantize, scoreSequences, Seq2Seq } from '../../dist/index.js';
import { g2pWords } from '../../scripts/apps-data.mjs';

const root = join(import.meta.dirname, '..', '..');
const modelPath = join(root, 'demo/models/g2p.rnnw');
const test: [string, string[]][] = g2pWords({ evalN: 2000 }).test;
const words = test.map((t) => t[0]);

let f32: Seq2Seq, q8: Seq2Seq;
beforeAll(async () => {
  await init();
  f32 = await Seq2Seq.load(modelPath);
  q8 = quantize(await Seq2Seq.load(modelPath), { weights: 'int8' });
});
afterAll(() => {
  f32?.dispose();
  q8?.dispose();
});

/** WER in % from this test's own count (a word is right when its phones equal one of its variants), PER in % from scoreSequences. */
function scores(m: Seq2Seq, beam: number): { wer: number; per: number; texts: string[] } {
  const out = m.translate(words, { beam, batchSize: 128 });
  const wrong = out.filter((o, i) => !test[i][1].includes(o.tokens.join(' '))).length;
  const per = scoreSequences(out.map((o) => o.tokens), test.map((t) => t[1].map((p) => p.split(' ')))).tokenErrorRate;
  return { wer: (100 * wrong) / test.length, per: 100 * per, texts: out.map((o) => o.text) };
}

describe('scripts/g2p-int8.mjs: WER and PER of the committed G2P model, f32 against int8', () => {
  it('prints the rates this test computes, and int8 stays within 0.3 WER points of f32 greedy and at beam 5', () => {
    expect(test.length).toBe(2000);
    const printed = execFileSync(process.execPath, [join(root, 'scripts/g2p-int8.mjs'), '--eval', '2000', '--beams', '1,5'], { encoding: 'utf8' });
    const lines = printed.split('\n').filter((l) => l.startsWith('RESULT'));
    expect(lines).toHaveLength(2);
    for (const [k, beam] of [1, 5].entries()) {
      const a = scores(f32, beam), b = scores(q8, beam);
      // the int8 model really decodes on other weights: some output differs from f32's somewhere
      // in the 2,000 words (else a no-op quantize would pass the bound below trivially)
      expect(q8.model.quantized).toBe('int8');
      expect(b.texts.some((t, i) => t !== a.texts[i]) || b.per !== a.per).toBe(true);
      // the printed figures (2 decimals) are the computed ones: WER is a multiple of 0.05 % on 2,000
      // words, so this pins it exactly; the PER and the differences to their rounding
      const m = lines[k].match(/^RESULT beam=(\d+): f32 WER (\S+) %, PER (\S+) %; int8 WER (\S+) %, PER (\S+) %; int8 − f32: WER (\S+) points, PER (\S+) points; (\d+) held-out words$/);
      expect(m).not.toBeNull();
      expect([Number(m![1]), Number(m![8])]).toEqual([beam, 2000]);
      const want = [a.wer, a.per, b.wer, b.per, b.wer - a.wer, b.per - a.per];
      m!.slice(2, 8).forEach((v, i) => expect(Math.abs(Number(v) - want[i])).toBeLessThanOrEqual(0.0051));
      expect(Math.abs(b.wer - a.wer)).toBeLessThanOrEqual(0.3);
    }
  });
});
