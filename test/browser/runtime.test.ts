import { describe, expect, it } from 'vitest';
import { init } from '../../dist/index.js';

describe('runtime in Chromium', () => {
  it('loads the built package and picks the relaxed binary (Chromium has relaxed SIMD on)', async () => {
    const r = await init();
    expect(r.variant).toBe('relaxed');
  });
});
