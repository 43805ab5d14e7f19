// The f64 reference (test/reference/rwkv7.ts) against the PyTorch fixtures: the spec the wasm kernels
// are tested against is itself the official model (scripts/fixtures/rwkv7.py).
import { describe, expect, it } from 'vitest';
import { rwkv7Model, zeroRefState } from '../reference/rwkv7';
import { loadFixture, relErr, type FixtureName } from './fixtures';

describe.each(['tiny', 'small'] as FixtureName[])('rwkv7 f64 reference vs PyTorch (%s)', (name) => {
  const f = loadFixture(name);
  it('logits and final states of two chunks from the zero state', () => {
    const st = zeroRefState(f.dims, 1);
    const ids = f.ints.ids;
    const logits = rwkv7Model(f.z, f.dims, ids, ids.length, 1, st);
    expect(relErr(logits, f.floats.logits)).toBeLessThan(1e-12);
    const logits2 = rwkv7Model(f.z, f.dims, f.ints.ids2, f.ints.ids2.length, 1, st);
    expect(relErr(logits2, f.floats.logits2)).toBeLessThan(1e-12);
    for (let l = 0; l < f.dims.L; l++) {
      expect(relErr(st.att[l], f.floats[`state2.${l}.att_shift`])).toBeLessThan(1e-12);
      expect(relErr(st.wkv[l], f.floats[`state2.${l}.wkv`])).toBeLessThan(1e-12);
      expect(relErr(st.ffn[l], f.floats[`state2.${l}.ffn_shift`])).toBeLessThan(1e-12);
    }
  });
  it('a broken reference is caught (the harness can fail)', () => {
    const z = { ...f.z, 'blocks.0.att.k_a': f.z['blocks.0.att.k_a'].map((v) => v * 1.001) };
    const logits = rwkv7Model(z, f.dims, f.ints.ids, f.ints.ids.length, 1, zeroRefState(f.dims, 1));
    expect(relErr(logits, f.floats.logits)).toBeGreaterThan(1e-6);
  });
});
