// RWKV7 training: the loss and every parameter's gradient against PyTorch autograd of the official
// trainable model (scripts/fixtures/rwkv7.py, B = 2 rows × T = 10 steps from the zero state) on both
// binaries, ≤ 1e-4 relative per tensor; and a char-LM whose loss falls with Adam.
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../src/wasm/load';
import { importRwkv7 } from '../../src/rwkv/import';
import { Rwkv7Trainer } from '../../src/rwkv/train';
import type { RWKV7 } from '../../src/rwkv/model';
import { loadFixture, relErr } from './fixtures';
import { VARIANTS } from '../cells/harness';

const f = loadFixture('tiny');

function fixtureBatch(): { inputs: number[][]; targets: number[][] } {
  const ids = f.ints.grad_ids;
  const T1 = ids.length / 2;
  const rows = [0, 1].map((r) => Array.from(ids.subarray(r * T1, (r + 1) * T1)));
  return { inputs: rows.map((r) => r.slice(0, -1)), targets: rows.map((r) => r.slice(1)) };
}

describe.each(VARIANTS)('RWKV7 gradients on the %s binary', (variant) => {
  let m: RWKV7;
  beforeAll(async () => {
    await init({ variant });
    m = await importRwkv7(f.bytes);
  });
  it('loss and every gradient equal PyTorch autograd (≤ 1e-4 relative per tensor)', () => {
    const batch = fixtureBatch();
    const tr = new Rwkv7Trainer(m, batch.inputs[0].length, 2);
    const loss = tr.lossAndGradients(batch);
    expect(Math.abs(loss - f.floats.grad_loss[0])).toBeLessThan(1e-5 * f.floats.grad_loss[0]);
    const worst: [string, number][] = [];
    for (const { name } of m.parameters()) {
      const want = f.floats['grad.' + name];
      const got = tr.gradient(name);
      const zero = want.every((v) => v === 0);
      const e = zero ? Math.max(...got.map(Math.abs)) : relErr(got, want);
      worst.push([name, e]);
    }
    worst.sort((a, b) => b[1] - a[1]);
    expect(worst[0][1], `worst: ${worst.slice(0, 3).map(([n, e]) => `${n} ${e.toExponential(2)}`).join(', ')}`).toBeLessThan(1e-4);
    // running it again gives the same gradients (the program zeroes them and the state first)
    const again = tr.lossAndGradients(batch);
    expect(again).toBe(loss);
    tr.dispose();
  });
});

describe('RWKV7 as a char-LM', () => {
  it('loss falls with Adam on a small text (official init, same seed ⇒ same model)', async () => {
    await init();
    const { createRwkv7 } = await import('../../src/rwkv/init');
    const { Adam } = await import('../../src/train/optim');
    const text = 'the quick brown fox jumps over the lazy dog. '.repeat(20);
    const chars = [...new Set(text)].sort();
    const ids = [...text].map((ch) => chars.indexOf(ch));
    const config = { vocabSize: chars.length, dim: 32, headSize: 8, layers: 2, ffnDim: 128, lora: { w: 8, a: 8, v: 8, g: 8 } };
    const m = createRwkv7(config, 3);
    const twin = createRwkv7(config, 3);
    expect(twin.getParameter('blocks.1.att.w2')).toEqual(m.getParameter('blocks.1.att.w2'));
    twin.dispose();
    const T = 24, B = 4;
    const tr = new Rwkv7Trainer(m, T, B);
    const opt = new Adam({ lr: 0.01 });
    const batch = (s: number) => {
      const starts = [0, 1, 2, 3].map((b) => (s * 37 + b * 101) % (ids.length - T - 1));
      return { inputs: starts.map((p) => ids.slice(p, p + T)), targets: starts.map((p) => ids.slice(p + 1, p + T + 1)) };
    };
    const first = tr.lossAndGradients(batch(0));
    expect(Math.abs(first - Math.log(chars.length))).toBeLessThan(0.3); // untrained: near uniform over the characters
    let last = first;
    for (let s = 0; s < 60; s++) last = tr.step(batch(s), opt, { clipNorm: 1 });
    expect(last).toBeLessThan(0.5 * first);
    // what it learned is used by inference: greedy continuation of "the quick " is the text
    const prompt = [...'the quick '].map((ch) => chars.indexOf(ch));
    const out = m.greedy(prompt, 6).map((i) => chars[i]).join('');
    expect(out).toBe('brown ');
    tr.dispose();
    opt.dispose();
    m.dispose();
  });
});
