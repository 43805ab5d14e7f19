// init({ threads: N }) reaches graph programs: an encoder–decoder with attention (forward with
// lengths, int8 forward, training steps and step-wise decoding) computes on the team of 2 threads
// exactly what it computes on one thread, bit for bit, and the team really ran its programs.
import { afterAll, describe, expect, it } from 'vitest';
import * as lib from '../../src/index';
import { runtime } from '../../src/wasm/load';
import { buildModel, prng } from '../../scripts/reverse-task.mjs';

const { Tensor } = lib;
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
const V = 12, Ts = 9, Tt = 7, B = 3;

function ids(seed: number, n: number): Int32Array {
  const r = prng(seed);
  return Int32Array.from({ length: n }, () => Math.floor(r() * 10));
}

/** Every result as bit patterns: forward, three Adam steps' losses and parameters, decoder steps, int8 forward. */
function results(): number[][] {
  const m = buildModel(lib, { attention: true, hidden: 40, embed: 12, seed: 4 });
  const feed = { src: { data: new Tensor(ids(1, Ts * B), [Ts, B]), lengths: [9, 4, 6] }, tgt: { data: new Tensor(ids(2, Tt * B), [Tt, B]), lengths: [7, 5, 2] } };
  const out: number[][] = [];
  const f = m.forward(feed);
  out.push(bits(f.logits.data as Float32Array), bits(f.weights.data as Float32Array));
  const opt = new lib.Adam({ lr: 0.01 });
  const y = new Tensor(Int32Array.from(ids(3, Tt * B), (v, i) => (i % 5 === 4 ? -1 : v)), [Tt, B]);
  for (let s = 0; s < 3; s++) {
    const r = m.trainStep({ inputs: feed, targets: { logits: y } }, { losses: { logits: 'crossEntropy' }, optimizer: opt, clipNorm: 1 });
    out.push(bits(Float32Array.of(r.loss, r.gradNorm)));
  }
  for (const p of m.parameters()) out.push(bits(m.getParameter(p.name)));
  const dec = m.decoder({ step: 'tgt', context: { src: feed.src } });
  for (let t = 0; t < 4; t++) out.push(bits(dec.step(ids(10 + t, B)).logits.data as Float32Array));
  dec.close();
  lib.quantize(m, { weights: 'int8' });
  out.push(bits(m.forward(feed).logits.data as Float32Array));
  m.dispose();
  return out;
}

afterAll(async () => {
  await lib.closeThreads();
  await lib.init({ threads: 1 });
});

describe('graph programs on the team of threads', () => {
  it('forward, training, decoding and int8 on 2 threads equal one thread bit for bit', async () => {
    await lib.init({ threads: 1 });
    const one = results();
    const info = await lib.init({ threads: 2 });
    expect(info.threads).toBe(2);
    const team = runtime().team!;
    const before = team.runs;
    expect(results()).toEqual(one);
    expect(team.runs).toBeGreaterThan(before); // the graph's programs ran on the team
  }, 120_000);
});
