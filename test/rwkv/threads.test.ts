// RWKV-7 on a team of threads (init({ threads: 2 })): the forward (its GEMMs split across the team)
// and a training step give the one-thread results bit for bit.
import { afterAll, describe, expect, it } from 'vitest';
import { closeThreads, init, runtime } from '../../src/wasm/load';
import { importRwkv7 } from '../../src/rwkv/import';
import { Rwkv7Trainer } from '../../src/rwkv/train';
import { loadFixture } from './fixtures';

const f = loadFixture('tiny');
afterAll(() => closeThreads());

async function run(): Promise<{ logits: Float32Array; loss: number; grad: Float32Array }> {
  const m = await importRwkv7(f.bytes);
  const logits = m.forward(f.ints.ids).logits;
  const tr = new Rwkv7Trainer(m, 6, 2);
  const rows = [Array.from(f.ints.ids.subarray(0, 7)), Array.from(f.ints.ids.subarray(7, 14))];
  const loss = tr.lossAndGradients({ inputs: rows.map((r) => r.slice(0, 6)), targets: rows.map((r) => r.slice(1)) });
  const grad = tr.gradient('blocks.0.att.key.weight');
  tr.dispose();
  m.dispose();
  return { logits, loss, grad };
}

describe('RWKV7 on the team', () => {
  it('forward and gradients on 2 threads equal one thread bit for bit', async () => {
    await init({ threads: 1 });
    const one = await run();
    await init({ threads: 2 });
    const team = runtime().team!;
    const before = team.runs;
    const two = await run();
    expect(team.runs).toBeGreaterThan(before);
    expect(two.logits).toEqual(one.logits);
    expect(two.loss).toBe(one.loss);
    expect(two.grad).toEqual(one.grad);
  }, 60_000);
});
