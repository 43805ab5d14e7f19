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

  it.each(['simd', 'relaxed'] as const)(
    '%s: the heap hands out nothing below the module\'s static data and kernel scratch, and a gemm using the scratch leaves heap data intact',
    async (variant) => {
      const rt = await createRuntime({ variant });
      const end = rt.k.reserved_end();
      expect(end).toBeGreaterThan(65536); // static data below 64 KiB, the GEMM panels above it
      const M = 64, N = 300, K = 600; // packed driver, two K blocks
      const x = rt.heap.alloc(M * K), w = rt.heap.alloc(K * N), y = rt.heap.alloc(M * N), probe = rt.heap.alloc(16);
      for (const off of [x, w, y, probe]) expect(off * 4).toBeGreaterThanOrEqual(end);
      rt.heap.f32.fill(0.5, x, x + M * K);
      rt.heap.f32.fill(0.25, w, w + K * N);
      rt.heap.f32.fill(7, probe, probe + 16);
      rt.k.gemm_nn(y, x, w, M, N, K, 0);
      expect(rt.heap.f32[y]).toBe(0.125 * K);
      expect(rt.heap.f32[y + M * N - 1]).toBe(0.125 * K);
      expect(Array.from(rt.heap.f32.subarray(probe, probe + 16))).toEqual(new Array(16).fill(7));
    },
  );

  it('rejects an unknown variant with a typed error', async () => {
    await expect(createRuntime({ variant: 'avx' as never })).rejects.toThrow(/Expected variant/);
  });
});
