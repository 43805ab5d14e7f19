// The heap's growth: geometric steps, the exact-size fallback near the maximum, and a MemoryError
// (with the heap unchanged and still usable) when even the exact need does not fit.
import { describe, expect, it } from 'vitest';
import { Heap } from '../../src/wasm/heap';
import { MemoryError, RnnWasmError } from '../../src/errors';

const PAGE = 65536;

describe('Heap growth', () => {
  it('grows by at least 50 % when the maximum allows it', () => {
    const h = new Heap(4, 64);
    h.alloc((4 * PAGE) / 4 - PAGE / 4); // fills the 3 pages above the 64 KiB reserved floor
    h.alloc(16); // needs 1 more page; the geometric step takes 2
    expect(h.byteLength).toBe(6 * PAGE);
  });

  it('falls back to the exact pages needed when the geometric step would pass the maximum', () => {
    const h = new Heap(4, 5);
    h.alloc((4 * PAGE) / 4 - PAGE / 4);
    const off = h.alloc(16); // geometric wants 2 pages (6 > 5); exactly 1 fits
    expect(h.byteLength).toBe(5 * PAGE);
    expect(off).toBe(4 * PAGE / 4);
  });

  it('throws a MemoryError naming the bytes requested and the current size, and leaves the heap consistent', () => {
    const h = new Heap(4, 5);
    const a = h.alloc(1000);
    h.f32.fill(3, a, a + 1000);
    const live = h.liveElements;
    let err: unknown;
    try {
      h.alloc(PAGE); // 4 pages of floats: 2 more pages needed, 1 allowed
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MemoryError);
    expect(err).toBeInstanceOf(RnnWasmError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/^Expected wasm memory to grow by \d+ bytes \(\d+ pages\) beyond its current 262144 bytes/);
    expect(msg).toContain(`maximum ${5 * PAGE} bytes`);
    // nothing changed: same size, same live blocks, data intact, and allocation still works
    expect(h.byteLength).toBe(4 * PAGE);
    expect(h.liveElements).toBe(live);
    expect(h.f32[a + 999]).toBe(3);
    const b = h.alloc(1000);
    expect(b).toBe(a + 1000);
    h.release(b);
    h.release(a);
    expect(h.liveElements).toBe(0);
    // after the refusal the whole free region is still one block usable up to the maximum
    const big = h.alloc((5 * PAGE) / 4 - PAGE / 4);
    expect(h.byteLength).toBe(5 * PAGE);
    expect(big).toBe(PAGE / 4);
  });

  it('reserve() beyond the maximum is a MemoryError too', () => {
    const h = new Heap(1, 2);
    expect(() => h.reserve(3 * PAGE)).toThrow(MemoryError);
    expect(h.byteLength).toBe(PAGE);
  });
});
