// The graph's rwkv7 node on a team of threads (init({ threads: 2 })): an embedding → rwkv7 → linear
// graph's forward, training gradients and stream steps equal the one-thread results bit for bit, and
// the team really ran its programs.
import { afterAll, describe, expect, it } from 'vitest';
import { closeThreads, init, runtime } from '../../src/wasm/load';
import { graph, GraphModel, Tensor, SGD } from '../../src/index';
import { importRwkv7 } from '../../src/rwkv/import';
import { loadFixture } from './fixtures';

const f = loadFixture('tiny');
afterAll(() => closeThreads());
const bits = (a: Float32Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');

async function run(): Promise<string[]> {
  const m = await importRwkv7(f.bytes);
  const c = m.config;
  const ids = graph.input('ids', { type: 'ids', vocabSize: c.vocabSize });
  const r = graph.rwkv7(graph.embedding(ids, { embeddingDim: c.dim, name: 'emb' }), { headSize: c.headSize, numLayers: c.layers, ffnDim: c.ffnDim, lora: c.lora, name: 'rwkv' });
  const logits = graph.linear(r, { outFeatures: c.vocabSize, bias: false, name: 'head' });
  const g = new GraphModel({ inputs: [ids], outputs: { logits } });
  g.loadStateDict(Object.fromEntries(m.parameters().map(({ name }) => [/^(emb|head)\./.test(name) ? name : `rwkv.${name}`, m.getParameter(name)])));
  const x = new Tensor(Int32Array.from(f.ints.ids.subarray(0, 12)), [6, 2]);
  const y = new Tensor(Int32Array.from(f.ints.ids.subarray(2, 14)), [6, 2]);
  const out = [bits(g.forward({ ids: x }).logits.data as Float32Array)];
  const step = g.trainStep({ inputs: { ids: x }, targets: { logits: y } }, { losses: { logits: 'crossEntropy' }, optimizer: new SGD({ lr: 0.1 }) });
  out.push(bits(Float32Array.of(step.loss)), bits(g.gradient('rwkv.blocks.0.att.w1')), bits(g.gradient('rwkv.blocks.1.att.key.weight')));
  const s = g.stream();
  for (const id of [3, 1, 4]) out.push(bits(s.step([id]).logits.data as Float32Array));
  s.close();
  g.dispose();
  m.dispose();
  return out;
}

describe('the graph rwkv7 node on the team', () => {
  it('forward, gradients and stream steps on 2 threads equal one thread bit for bit', async () => {
    await init({ threads: 1 });
    const one = await run();
    await init({ threads: 2 });
    const team = runtime().team!;
    const before = team.runs;
    const two = await run();
    expect(team.runs).toBeGreaterThan(before);
    expect(two).toEqual(one);
  }, 60_000);
});
