// A Sequential holding layers.rwkv7 on the worker pool (the built package, dist/: the workers run the
// built worker entry): the replicas rebuild it from its spec (layerFromConfig), so a pooled forward
// equals the one-thread forward bit for bit (rows are independent) and a pooled training step equals
// model.trainStep on the whole batch within float rounding.
import { describe, expect, it } from 'vitest';
import * as l from '../../dist/index.js';
import { keptPools } from '../parallel/kept-pools';

const V = 11;
const keep = keptPools();
const make = (): InstanceType<typeof l.Sequential> =>
  new l.Sequential([
    l.layers.embedding({ numEmbeddings: V, embeddingDim: 16 }),
    l.layers.rwkv7({ inputSize: 16, headSize: 8, numLayers: 2, ffnDim: 32, lora: { w: 4, a: 4, v: 4, g: 4 } }),
    l.layers.linear({ inFeatures: 16, outFeatures: V }),
  ], { seed: 4 });
const ids = (n: number, seed: number): Int32Array => Int32Array.from({ length: n }, (_, i) => (seed * 7 + i * 5 + ((i * i) % 3)) % V);
const bits = (a: Float32Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');
const maxRel = (a: Float32Array, b: Float32Array): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]) / Math.max(1, Math.abs(b[i]))), 0);

describe('layers.rwkv7 in a Sequential on the worker pool', () => {
  it('forward: 5 rows on 2 workers equal the one-thread forward bit for bit', async () => {
    const m = make();
    // the official init zeroes the output projections: fill them so that the stack reaches the logits
    for (const k of [0, 1]) m.setParameter(`1.blocks.${k}.att.output.weight`, Float32Array.from({ length: 256 }, (_, i) => 0.2 * Math.sin(i * 0.3 + k)));
    const p = keep(await l.WorkerPool.create(m, { workers: 2 }));
    const x = new l.Tensor(ids(6 * 5, 1), [6, 5]);
    const a = m.forward(x);
    const b = await p.forward(x);
    expect(b.output.shape).toEqual([6, 5, V]);
    expect(bits(b.output.data as Float32Array)).toBe(bits(a.output.data as Float32Array));
  });

  it('trainStep: two pooled Adam steps equal two one-thread steps within float rounding', async () => {
    const single = make();
    const pooled = make();
    const p = keep(await l.WorkerPool.create(pooled, { workers: 2 }));
    const o1 = { loss: 'crossEntropy' as const, optimizer: new l.Adam({ lr: 0.02 }) };
    const o2 = { loss: 'crossEntropy' as const, optimizer: new l.Adam({ lr: 0.02 }) };
    for (let s = 0; s < 2; s++) {
      const batch = { x: new l.Tensor(ids(5 * 4, 2 + s), [5, 4]), y: new l.Tensor(ids(5 * 4, 9 + s), [5, 4]) };
      const a = single.trainStep(batch, o1);
      const b = await p.trainStep(batch, o2);
      expect(Math.abs(a.loss - b.loss) / a.loss).toBeLessThan(1e-6);
      for (const { name } of single.parameters()) expect(maxRel(pooled.getParameter(name), single.getParameter(name)), name).toBeLessThan(2e-5);
    }
    // the parameters moved
    const fresh = make();
    expect(maxRel(single.getParameter('1.blocks.0.att.key.weight'), fresh.getParameter('1.blocks.0.att.key.weight'))).toBeGreaterThan(1e-3);
  });
});
