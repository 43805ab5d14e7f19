// CI-sized version of scripts/reverse-digits.mjs: an encoder–decoder graph with attention learns to
// reverse held-out digit strings (lengths 4–9) to ≥ 97 % exact match in a few hundred steps, and
// the same model without attention, trained as long, stays far below it on the long strings.
import { beforeAll, describe, expect, it } from 'vitest';
import * as lib from '../../src/index';
import { buildModel, exactMatch, makeStrings, prng, train } from '../../scripts/reverse-task.mjs';

beforeAll(async () => {
  await lib.init();
});

describe('digit reversal through the graph API', () => {
  it('attention reaches ≥ 97 % exact match on held-out strings; without attention the long strings stay below 50 %', () => {
    const rand = prng(5);
    const test = makeStrings(rand, 300, 4, 9);
    const trainSet = makeStrings(rand, 20000, 4, 9, new Set(test.map((s) => s.join(''))));
    const res: Record<string, { accuracy: number; long: number }> = {};
    for (const attention of [true, false]) {
      const m = buildModel(lib, { attention, hidden: 32, embed: 12, seed: 3 });
      train(lib, m, trainSet, { steps: 400, batchSize: 32, lr: 1e-2, seed: 4 });
      const r = exactMatch(lib, m, test);
      const long = [...r.byLength].filter(([l]) => l >= 8).map(([, v]) => v);
      res[attention ? 'attention' : 'plain'] = { accuracy: r.accuracy, long: long.reduce((a, v) => a + v, 0) / long.length };
      m.dispose();
    }
    console.log(`reverse 4–9: with attention ${JSON.stringify(res.attention)}, without ${JSON.stringify(res.plain)}`);
    expect(res.attention.accuracy).toBeGreaterThanOrEqual(0.97);
    expect(res.plain.long).toBeLessThan(0.5);
    expect(res.attention.long - res.plain.long).toBeGreaterThan(0.4);
  });
});
