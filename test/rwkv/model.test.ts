// RWKV7 inference against the PyTorch fixtures (scripts/fixtures/rwkv7.py) on both binaries: logits
// ≤ 1e-5 relative, carried states, a streamed sequence equal to the whole-sequence forward bit for
// bit, and the official code's greedy continuation.
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../src/wasm/load';
import { importRwkv7 } from '../../src/rwkv/import';
import type { RWKV7 } from '../../src/rwkv/model';
import { loadFixture, relErr, type FixtureName } from './fixtures';
import { VARIANTS } from '../cells/harness';

const TOL = 1e-5;

/** The state of one row split per layer as the fixture stores it. */
function split(m: RWKV7, data: Float32Array, l: number): { att: Float32Array; wkv: Float32Array; ffn: Float32Array } {
  const { dim: C, headSize: N } = m.config;
  const per = 2 * C + C * N;
  const o = l * per;
  return { att: data.subarray(o, o + C), wkv: data.subarray(o + C, o + C + C * N), ffn: data.subarray(o + C + C * N, o + per) };
}

describe.each(VARIANTS)('RWKV7 on the %s binary', (variant) => {
  const models: Partial<Record<FixtureName, RWKV7>> = {};
  beforeAll(async () => {
    await init({ variant });
    for (const n of ['tiny', 'small'] as FixtureName[]) models[n] = await importRwkv7(loadFixture(n).bytes);
  });

  describe.each(['tiny', 'small'] as FixtureName[])('%s checkpoint', (name) => {
    const f = loadFixture(name);
    it('reads the configuration from the shapes', () => {
      const m = models[name]!;
      expect(m.config.layers).toBe(f.dims.L);
      expect(m.config.dim).toBe(f.dims.C);
      expect(m.config.headSize).toBe(f.dims.N);
      expect(m.config.vocabSize).toBe(f.dims.V);
      expect(m.getParameter('blocks.1.att.w1')).toEqual(Float32Array.from(f.z['blocks.1.att.w1']));
    });
    it('logits and states of two chunks match PyTorch (≤ 1e-5 relative)', () => {
      const m = models[name]!;
      const a = m.forward(f.ints.ids);
      expect(relErr(a.logits, f.floats.logits)).toBeLessThan(TOL);
      for (let l = 0; l < f.dims.L; l++) {
        const s = split(m, a.state.data, l);
        expect(relErr(s.att, f.floats[`state.${l}.att_shift`])).toBeLessThan(TOL);
        expect(relErr(s.wkv, f.floats[`state.${l}.wkv`])).toBeLessThan(TOL);
        expect(relErr(s.ffn, f.floats[`state.${l}.ffn_shift`])).toBeLessThan(TOL);
      }
      const b = m.forward(f.ints.ids2, a.state);
      expect(relErr(b.logits, f.floats.logits2)).toBeLessThan(TOL);
      for (let l = 0; l < f.dims.L; l++) expect(relErr(split(m, b.state.data, l).wkv, f.floats[`state2.${l}.wkv`])).toBeLessThan(TOL);
    });
    it('a stream fed one token per call equals the whole-sequence forward bit for bit', () => {
      const m = models[name]!;
      const whole = m.forward(f.ints.ids);
      const s = m.stream();
      const V = f.dims.V;
      const steps = new Float32Array(whole.logits.length);
      f.ints.ids.forEach((id, t) => steps.set(s.step(id), t * V));
      expect(steps).toEqual(whole.logits);
      expect(s.getState().data).toEqual(whole.state.data);
      // a prefill then steps, from a state set on another stream
      const s2 = m.stream(m.forward(f.ints.ids.subarray(0, 5)).state);
      const rest = s2.run(f.ints.ids.subarray(5));
      expect(rest).toEqual(whole.logits.subarray(5 * V));
      s.dispose();
      s2.dispose();
    });
    it('greedy continuation equals the official code', () => {
      expect(models[name]!.greedy(f.ints.ids, f.ints.greedy.length)).toEqual(Array.from(f.ints.greedy));
    });
  });
});
