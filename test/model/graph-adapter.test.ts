// The graph of a layer or Sequential (src/model/graph-adapter.ts) computes, bit for bit, what the
// engine fixtures pinned for the model (test/model/engine-fixtures.test.ts): its arena has the
// model's names and seeded values; forward (lengths, h0/c0, batch-first, one long row), the public
// backward (dx, dh0/dc0, every parameter gradient) and its clipped step, evaluate, trainStep with and
// without truncated BPTT and the dropout generator after them, batch-1 and batch-2 streams, and the
// int8 model's forward and stream, for every case on both wasm variants. One difference, by design:
// truncated BPTT through a bidirectional layer is a ValueError on a graph (the runner ran it, its
// reverse pass seeing only each chunk).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, Adam, SGD, quantize, Tensor, type Feed } from '../../src/index';
import { modulesFromSpec } from '../../src/model/model';
import { gatherStates, modelGraph, scatterStates, stateFeed, swap01, timeMajor } from '../../src/model/graph-adapter';
import { runtime } from '../../src/wasm/load';
import { RecurrentCore } from '../../src/layers/recurrent';
import { randArray } from './helpers';
import { CASES, I, T, B, inputs, type Case } from './engine-cases';

const DIR = join(__dirname, '..', 'fixtures', 'engine');
const hex = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');

/** The fixture's values of a case: `want(key, got)` compares bit for bit. */
function fixture(c: Case, variant: string) {
  const data = JSON.parse(readFileSync(join(DIR, `${c.name}.${variant}.json`), 'utf8')) as Record<string, { dtype: string; b64: string }>;
  const raw = (key: string) => {
    expect(data[key], `${key} in the fixture`).toBeDefined();
    return Buffer.from(data[key].b64, 'base64');
  };
  return {
    has: (key: string) => key in data,
    f32: (key: string) => {
      const b = raw(key);
      return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
    },
    want(key: string, got: Float32Array | number | undefined): void {
      if (got === undefined) {
        expect(key in data, `${key} absent`).toBe(false);
        return;
      }
      const arr = typeof got === 'number' ? Float64Array.of(got) : got;
      expect(hex(arr), key).toBe(raw(key).toString('hex'));
    },
  };
}

for (const variant of ['simd', 'relaxed'] as const) {
  describe(`the graph of a layer or Sequential equals the engine fixtures (${variant})`, () => {
    beforeAll(async () => {
      await init({ variant });
    });
    afterAll(async () => {
      await init({ variant: 'auto' });
    });

    for (const c of CASES) {
      it(c.name, () => {
        expect(runtime().variant).toBe(variant);
        const fx = fixture(c, variant);
        const ref = c.build(); // the runner-built model: its spec and its input checks
        const spec = ref.spec();
        const { modules, sequential } = modulesFromSpec(spec);
        const bf = spec.type === 'sequential' ? spec.batchFirst : false;
        const mg = modelGraph(modules, ref.runner.inFeatures, bf, sequential, c.seed);
        const g = mg.graph;
        expect(g.parameters()).toEqual(ref.parameters());
        for (const p of g.parameters()) fx.want(`init/${p.name}`, g.getParameter(p.name));
        const { x, lengths, h0, c0, y } = inputs(c, ref, T, B, 7);
        const F = mg.inFeatures;
        const O = ref.runner.modules.reduce((f, m) => m.outFeatures(f), ref.runner.inFeatures);
        const xt = new Tensor(timeMajor(mg, x.data, T, B, F), c.vocab ? [T, B] : [T, B, F]) as Tensor<Float32Array> | Tensor<Int32Array>;
        // the model's batch as a feed (explicit arguments: undefined means none, not the default)
        type Data = Tensor<Float32Array> | Tensor<Int32Array>;
        const feedOf = (t: Data, lens: ArrayLike<number> | undefined, nb: number, s0?: Float32Array, s1?: Float32Array): Feed => ({ x: lens ? { data: t, lengths: lens } : t, ...stateFeed(mg, nb, s0, s1) });
        const feed = (): Feed => feedOf(xt, lengths, B, h0, c0);
        const userOut = (d: Float32Array, nT: number, nb: number) => (bf && nT > 1 ? swap01(d, nT, nb, O) : d);
        // forward
        const f = g.forward(feed());
        fx.want('forward/output', userOut(f.output.data as Float32Array, T, B));
        fx.want('forward/hN', gatherStates(mg, 'h', B, (p) => f[p.output].data as Float32Array)?.data as Float32Array);
        fx.want('forward/cN', gatherStates(mg, 'c', B, (p) => f[p.output].data as Float32Array)?.data as Float32Array);
        const plain = g.forward(feedOf(xt, undefined, B));
        fx.want('forward-nolens/output', userOut(plain.output.data as Float32Array, T, B));
        const long = inputs(c, ref, 17, 1, 9);
        fx.want('forward-b1-long/output', g.forward(feedOf(new Tensor(long.x.data, c.vocab ? [17, 1] : [17, 1, F]) as Data, undefined, 1)).output.data as Float32Array);
        // the public backward and its step
        const kept = g.forward(feed(), { keep: true });
        fx.want('keep/output', userOut(kept.output.data as Float32Array, T, B));
        g.zeroGrad();
        const n = T * B * O;
        const dOut = randArray(n, 31);
        const hN = gatherStates(mg, 'h', B, (p) => kept[p.output].data as Float32Array);
        const cN = gatherStates(mg, 'c', B, (p) => kept[p.output].data as Float32Array);
        const dhN = hN ? randArray(hN.data.length, 32) : undefined;
        const dcN = cN ? randArray(cN.data.length, 33) : undefined;
        const d = g.backward({
          output: timeMajor(mg, dOut, T, B, O),
          ...scatterStates(mg, 'h', B, dhN, (p) => p.output),
          ...scatterStates(mg, 'c', B, dcN, (p) => p.output),
        });
        fx.want('backward/dx', c.vocab ? undefined : (bf ? swap01(d.x.data as Float32Array, T, B, F) : d.x.data as Float32Array));
        fx.want('backward/dh0', gatherStates(mg, 'h', B, (p) => d[p.input].data as Float32Array)?.data as Float32Array);
        fx.want('backward/dc0', gatherStates(mg, 'c', B, (p) => d[p.input].data as Float32Array)?.data as Float32Array);
        for (const p of g.parameters()) fx.want(`backward/grad/${p.name}`, g.gradient(p.name));
        fx.want('step/gradNorm', g.step(new SGD({ lr: 0.05 }), { clipNorm: 0.5 }));
        for (const p of g.parameters()) fx.want(`after-step/${p.name}`, g.getParameter(p.name));
        // evaluate, trainStep, tbptt
        const yt = new Tensor(timeMajor(mg, y.data, T, B, c.loss === 'crossEntropy' ? 1 : c.out), c.loss === 'crossEntropy' ? [T, B] : [T, B, c.out]) as Tensor<Float32Array> | Tensor<Int32Array>;
        const losses = { [mg.trained]: c.loss };
        fx.want('evaluate/loss', g.evaluate({ inputs: feed(), targets: { [mg.trained]: yt } }, { losses }).loss);
        const opt = new Adam({ lr: 0.01 });
        const s1 = g.trainStep({ inputs: feed(), targets: { [mg.trained]: yt } }, { losses, optimizer: opt, clipNorm: 1 });
        fx.want('train1/loss', s1.loss);
        fx.want('train1/gradNorm', s1.gradNorm);
        for (const p of g.parameters()) fx.want(`train1/${p.name}`, g.getParameter(p.name));
        const tb = () => g.trainStep({ inputs: feedOf(xt, undefined, B, h0, c0), targets: { [mg.trained]: yt } }, { losses, optimizer: opt, tbptt: 2, clipValue: 0.5 });
        if (modules.some((m) => m instanceof RecurrentCore && m.bidirectional)) {
          // the one difference: a graph refuses tbptt through a bidirectional layer (its reverse
          // pass would only see each chunk), where the runner ran it
          expect(tb).toThrow(/Expected unidirectional recurrent nodes for tbptt, got bidirectional l0/);
        } else {
          const s2 = tb();
          fx.want('tbptt/loss', s2.loss);
          fx.want('tbptt/gradNorm', s2.gradNorm);
          for (const p of g.parameters()) fx.want(`tbptt/${p.name}`, g.getParameter(p.name));
        }
        expect(hex(Int32Array.from(g.runner.dropoutRngState))).toBe(hex(fx.f32('rng')));
        // streams on the parameters fit left (the fixture's), batch 1 (packed copies) and 2
        if (c.stream) {
          g.loadStateDict(Object.fromEntries(g.parameters().map((p) => [p.name, fx.f32(`fit/${p.name}`)])));
          for (const bs of [1, 2]) {
            const s = g.stream({ context: stateFeed(mg, bs) });
            expect(s.packed).toBe(bs === 1);
            for (let t = 0; t < 3; t++) {
              const step = c.vocab ? Int32Array.from({ length: bs }, (_, i) => (t * 3 + i) % c.vocab!) : randArray(bs * I, 60 + t);
              fx.want(`stream${bs}/step${t}`, s.step(step).output.data as Float32Array);
            }
            s.close();
          }
        }
        // int8 from the initial parameters
        g.loadStateDict(Object.fromEntries(g.parameters().map((p) => [p.name, fx.f32(`init/${p.name}`)])));
        quantize(g, { weights: 'int8' });
        fx.want('int8/output', userOut(g.forward(feedOf(xt, lengths, B)).output.data as Float32Array, T, B));
        if (c.stream) {
          const s = g.stream({ context: stateFeed(mg, 1) });
          for (let t = 0; t < 3; t++) fx.want(`int8-stream/step${t}`, s.step(c.vocab ? Int32Array.of(t % c.vocab) : randArray(I, 70 + t)).output.data as Float32Array);
          s.close();
        }
        g.dispose();
        ref.dispose();
      });
    }
  });
}
