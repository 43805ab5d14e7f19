// Results pinned before the engine change (issue 22): for every layer kind and option set the tests
// use, the files today's code writes (rnnw f32 and int8, safetensors, ONNX) and, for each wasm
// variant, what the model computes on fixed inputs — forward (lengths, h0/c0, a packed batch-1 run),
// the public backward (dx, dh0/dc0, every parameter gradient), evaluate and its state gradients,
// trainStep with and without truncated BPTT, fit, batch-1 and batch-2 streams, the int8 model's
// forward and stream, and the worker pool's forward and data-parallel step. Everything is compared
// bit for bit (Float32 words, file bytes), so any engine under the public API must compute exactly
// what the one that wrote these files did.
// Regenerate only on purpose (the point is that they do not change):
//   WRITE_ENGINE_FIXTURES=1 npx vitest run --project node test/model/engine-fixtures.test.ts
import { readFileSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  init, quantize, serialize, deserialize, modelToSafetensors, toOnnx, fromOnnx,
  Adam, SGD, type Model,
} from '../../src/index';
import { runtime } from '../../src/wasm/load';
import { RecurrentCore } from '../../src/layers/recurrent';
import { randArray } from './helpers';
import { CASES, I, T, B, inputs } from './engine-cases';

const DIR = join(__dirname, '..', 'fixtures', 'engine');
const WRITE = process.env.WRITE_ENGINE_FIXTURES === '1';

// ---- the recorder: writes values in WRITE mode, compares them bit for bit otherwise ----------------

type Stored = { dtype: 'f32' | 'i32' | 'f64'; shape?: number[]; b64: string };
const b64 = (a: ArrayBufferView): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
class Recorder {
  private readonly data: Map<string, Stored>;
  constructor(private readonly file: string) {
    this.data = new Map(WRITE || !existsSync(file) ? [] : Object.entries(JSON.parse(readFileSync(file, 'utf8')) as Record<string, Stored>));
    if (!WRITE && !existsSync(file)) throw new Error(`missing fixture ${file}`);
  }
  /** Float32/Int32 arrays (bits), or numbers (as f64 bits). */
  value(key: string, v: Float32Array | Int32Array | number | undefined, shape?: readonly number[]): void {
    if (v === undefined) {
      if (WRITE) return;
      expect(this.data.has(key), `${key} absent before`).toBe(false);
      return;
    }
    const arr = typeof v === 'number' ? Float64Array.of(v) : v;
    const dtype = arr instanceof Float64Array ? 'f64' : arr instanceof Int32Array ? 'i32' : 'f32';
    const s: Stored = { dtype, shape: shape ? [...shape] : undefined, b64: b64(arr) };
    if (WRITE) {
      this.data.set(key, s);
      return;
    }
    const want = this.data.get(key);
    expect(want, `${key} present before`).toBeDefined();
    expect(dtype, key).toBe(want!.dtype);
    if (want!.shape) expect(shape ? [...shape] : undefined, `${key} shape`).toEqual(want!.shape);
    if (s.b64 !== want!.b64) {
      const got = typeof v === 'number' ? [v] : Array.from(v);
      const buf = Buffer.from(want!.b64, 'base64');
      const before = dtype === 'f64' ? new Float64Array(buf.buffer, buf.byteOffset, buf.length / 8) : dtype === 'i32' ? new Int32Array(buf.buffer, buf.byteOffset, buf.length / 4) : new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
      expect(got, `${key} bit for bit`).toEqual(Array.from(before));
      expect(s.b64, `${key} bit for bit (−0/NaN payloads)`).toBe(want!.b64);
    }
  }
  tensor(key: string, t: { data: Float32Array | Int32Array | ArrayLike<number>; shape: readonly number[] } | undefined): void {
    this.value(key, t?.data as Float32Array | undefined, t?.shape);
  }
  /** A stored Float32/Int32 value (compare mode). */
  stored(key: string): Float32Array | Int32Array {
    const want = this.data.get(key);
    expect(want, `${key} present before`).toBeDefined();
    const buf = Buffer.from(want!.b64, 'base64');
    const copy = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length);
    return want!.dtype === 'i32' ? new Int32Array(copy) : new Float32Array(copy);
  }
  keys(): number {
    return this.data.size;
  }
  save(): void {
    if (WRITE) writeFileSync(this.file, JSON.stringify(Object.fromEntries(this.data), null, 0) + '\n');
  }
}

/** A file the code writes: stored in WRITE mode, compared byte for byte otherwise. */
function sameFile(name: string, bytes: Uint8Array): Uint8Array {
  const path = join(DIR, name);
  if (WRITE) {
    writeFileSync(path, bytes);
    return bytes;
  }
  const before = new Uint8Array(readFileSync(path));
  expect(bytes.length, `${name} size`).toBe(before.length);
  expect(Buffer.compare(Buffer.from(bytes), Buffer.from(before)), `${name} bytes`).toBe(0);
  return before;
}
function readFixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(DIR, name)));
}

function params(rec: Recorder, key: string, m: Model): void {
  for (const p of m.parameters()) rec.value(`${key}/${p.name}`, m.getParameter(p.name), p.shape);
}

// ---- the run -------------------------------------------------------------------------------------

const VARIANTS = ['simd', 'relaxed'] as const;

beforeAll(() => {
  if (WRITE) mkdirSync(DIR, { recursive: true });
});

for (const variant of VARIANTS) {
  describe(`engine fixtures (${variant})`, () => {
    beforeAll(async () => {
      await init({ variant });
    });
    afterAll(async () => {
      await init({ variant: 'auto' });
    });

    for (const c of CASES) {
      it(`${c.name}: files, forward, backward, training, streams and int8 as before`, async () => {
        expect(runtime().variant).toBe(variant);
        const rec = new Recorder(join(DIR, `${c.name}.${variant}.json`));
        // 1. the files today's code writes, from a freshly seeded model
        const fresh = c.build();
        const rnnw = sameFile(`${c.name}.rnnw`, serialize(fresh, { metadata: { fixture: c.name } }));
        sameFile(`${c.name}.safetensors`, modelToSafetensors(fresh));
        const onnxOk = !c.name.startsWith('min') && !c.vocab;
        if (onnxOk) sameFile(`${c.name}.onnx`, toOnnx(fresh, { lengths: true }));
        fresh.dispose();
        // 2. the model loaded from that file computes everything below
        const m = deserialize(rnnw).model;
        expect(m.spec()).toEqual(c.build().spec());
        params(rec, 'init', m);
        const { x, lengths, h0, c0, y } = inputs(c, m, T, B, 7);
        const f = m.forward(x, { lengths, h0, c0 });
        rec.tensor('forward/output', f.output);
        rec.tensor('forward/hN', f.hN);
        rec.tensor('forward/cN', f.cN);
        const plain = m.forward(x);
        rec.tensor('forward-nolens/output', plain.output);
        rec.tensor('forward-nolens/hN', plain.hN);
        // one row over ≥ PACK_MIN_T steps reads packed W_hh copies
        const long = inputs(c, m, 17, 1, 9);
        rec.tensor('forward-b1-long/output', m.forward(long.x).output);
        if (onnxOk) {
          const imp = fromOnnx(readFixture(`${c.name}.onnx`));
          rec.tensor('onnx-import/output', imp.model.forward(x, { lengths }).output);
          imp.model.dispose();
        }
        // 3. the public backward
        const kept = m.forward(x, { lengths, h0, c0, keep: true, training: false });
        rec.tensor('keep/output', kept.output);
        m.zeroGrad();
        const dOut = randArray(kept.output.data.length, 31);
        const dhN = kept.hN ? randArray(kept.hN.data.length, 32) : undefined;
        const dcN = kept.cN ? randArray(kept.cN.data.length, 33) : undefined;
        const bw = m.backward({ dOutput: dOut, dhN, dcN });
        rec.tensor('backward/dx', bw.dx);
        rec.tensor('backward/dh0', bw.dh0);
        rec.tensor('backward/dc0', bw.dc0);
        for (const p of m.parameters()) rec.value(`backward/grad/${p.name}`, m.gradient(p.name), p.shape);
        rec.value('step/gradNorm', m.step(new SGD({ lr: 0.05 }), { clipNorm: 0.5 }));
        params(rec, 'after-step', m);
        // 4. evaluate, trainStep, tbptt, fit
        const ev = m.evaluate({ x, y, lengths, h0, c0 }, { loss: c.loss });
        rec.value('evaluate/loss', ev);
        const sg = m.initialStateGradients();
        rec.tensor('evaluate/dh0', sg.dh0);
        rec.tensor('evaluate/dc0', sg.dc0);
        const opt = new Adam({ lr: 0.01 });
        const s1 = m.trainStep({ x, y, lengths, h0, c0 }, { loss: c.loss, optimizer: opt, clipNorm: 1 });
        rec.value('train1/loss', s1.loss);
        rec.value('train1/gradNorm', s1.gradNorm);
        params(rec, 'train1', m);
        const tb = () => m.trainStep({ x, y, h0, c0 }, { loss: c.loss, optimizer: opt, tbptt: 2, clipValue: 0.5 });
        if (m.runner.modules.some((mod) => mod instanceof RecurrentCore && mod.bidirectional)) {
          // the one change of the engine switch, by design: truncated BPTT through a bidirectional
          // layer is a ValueError (its reverse pass would see only each chunk), as on every graph;
          // the run continues from the parameters and generator state the old engine left
          expect(tb).toThrow(/Expected unidirectional recurrent nodes for tbptt, got bidirectional l0/);
          m.loadStateDict(Object.fromEntries(m.parameters().map((p) => [p.name, rec.stored(`tbptt/${p.name}`) as Float32Array])));
          m.runner.dropoutRngState = Array.from(rec.stored('rng')) as [number, number, number, number];
        } else {
          const s2 = tb();
          rec.value('tbptt/loss', s2.loss);
          rec.value('tbptt/gradNorm', s2.gradNorm);
        }
        params(rec, 'tbptt', m);
        rec.value('rng', Int32Array.from(m.runner.dropoutRngState));
        const examples = [0, 1, 2, 3].map((k) => {
          const e = inputs(c, m, 2 + k, 1, 40 + k);
          return { x: e.x.data, y: e.y.data };
        });
        const hist = await m.fit(examples, { loss: c.loss, optimizer: new SGD({ lr: 0.1, momentum: 0.5 }), epochs: 2, batchSize: 2, seed: 5 });
        expect(hist.loss.length).toBe(2);
        rec.value('fit/loss0', hist.loss[0]);
        rec.value('fit/loss1', hist.loss[1]);
        params(rec, 'fit', m);
        // 5. streams (the trained parameters; batch 1 reads packed copies, batch 2 in place)
        if (c.stream) {
          for (const bs of [1, 2]) {
            const s = m.stream({ batchSize: bs });
            for (let t = 0; t < 3; t++) {
              const step = c.vocab ? Int32Array.from({ length: bs }, (_, i) => (t * 3 + i) % c.vocab!) : randArray(bs * I, 60 + t);
              rec.value(`stream${bs}/step${t}`, s.step(step));
            }
            rec.tensor(`stream${bs}/h`, s.state().h);
            rec.tensor(`stream${bs}/c`, s.state().c);
            s.close();
          }
        }
        // 6. int8: the quantized file's bytes, its forward and stream, and the file loaded back
        const q = quantize(deserialize(rnnw).model, { weights: 'int8' });
        const qbytes = sameFile(`${c.name}.int8.rnnw`, serialize(q));
        rec.tensor('int8/output', q.forward(x, { lengths }).output);
        if (c.stream) {
          const s = q.stream();
          for (let t = 0; t < 3; t++) rec.value(`int8-stream/step${t}`, s.step(c.vocab ? Int32Array.of(t % c.vocab) : randArray(I, 70 + t)));
          s.close();
        }
        const q2 = deserialize(qbytes).model;
        expect(q2.quantized).toBe('int8');
        rec.tensor('int8-loaded/output', q2.forward(x, { lengths }).output);
        q.dispose();
        q2.dispose();
        // 7. the worker pool (on the built package: the workers run its worker entry): forward
        // (bit-identical to one thread) and one data-parallel step
        if (c.pool) {
          const dl = await import('../../dist/index.js');
          await dl.init({ variant });
          const pm = dl.deserialize(rnnw).model;
          const pool = await dl.WorkerPool.create(pm, { workers: 2 });
          // the built package has its own Tensor class
          const dx = dl.tensor(x.data, [...x.shape]) as Parameters<typeof pool.forward>[0];
          const dy = dl.tensor(y.data, [...y.shape]) as typeof dx;
          try {
            const pf = await pool.forward(dx, { lengths, h0, c0 });
            rec.tensor('pool/output', pf.output);
            rec.tensor('pool/hN', pf.hN);
            rec.value('pool/output-equals-forward', Number(Buffer.compare(Buffer.from(pf.output.data.buffer), Buffer.from(f.output.data.buffer)) === 0));
            const ps = await pool.trainStep({ x: dx, y: dy as never, lengths, h0, c0 }, { loss: c.loss, optimizer: new dl.Adam({ lr: 0.02 }), clipNorm: 1 });
            rec.value('pool-train/loss', ps.loss);
            rec.value('pool-train/gradNorm', ps.gradNorm);
            params(rec, 'pool-train', pm as unknown as Model);
          } finally {
            await pool.dispose();
            pm.dispose();
          }
        }
        m.dispose();
        rec.save();
        if (!WRITE) expect(rec.keys()).toBeGreaterThan(20);
      });
    }
  });
}
