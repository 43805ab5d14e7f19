import { describe, expect, it } from 'vitest';
import { createRuntime, relaxedSimdSupported } from '../../src/wasm/load';
import { ABI_VERSION } from '../../src/wasm/abi';

describe('runtime loading', () => {
  it('detects relaxed SIMD in this engine (the node setup enables it)', () => {
    expect(relaxedSimdSupported()).toBe(true);
  });

  it.each(['simd', 'relaxed'] as const)('loads the %s binary and it reports itself as such', async (variant) => {
    const rt = await createRuntime({ variant });
    expect(rt.variant).toBe(variant);
    expect(rt.k.ABI_VERSION.value).toBe(ABI_VERSION);
  });

  it('auto picks relaxed when validate accepts it', async () => {
    const rt = await createRuntime();
    expect(rt.variant).toBe('relaxed');
  });

  it('rejects an unknown variant with a typed error', async () => {
    await expect(createRuntime({ variant: 'avx' as never })).rejects.toThrow(/Expected variant/);
  });
});
