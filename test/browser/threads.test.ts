// init({ threads }) in Chromium: on a cross-origin isolated page the team runs (Web Workers over a
// shared memory) and the output is bit-identical to one thread; on a page that is not isolated
// (the test server's default) init falls back to one thread with a note and the same output.
import { describe, expect, it, vi } from 'vitest';
import { init, closeThreads, LSTM, tensor } from '../../dist/index.js';

const forward = () => {
  const m = new LSTM({ inputSize: 16, hiddenSize: 64, seed: 3 });
  const x = new Float32Array(10 * 16).map((_, i) => Math.sin(i));
  const out = Array.from(new Uint32Array(m.forward(tensor(x, [10, 1, 16])).output.data.slice().buffer));
  m.dispose();
  return out;
};

describe('threads in Chromium', () => {
  it('runs on 2 threads when the page is cross-origin isolated, else on one with a note; same bits', async () => {
    await init({ threads: 1 });
    const one = forward();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const info = await init({ threads: 2 });
    const warned = warn.mock.calls.length;
    warn.mockRestore();
    if ((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated) {
      expect(info).toMatchObject({ threads: 2, threadsNote: '' });
    } else {
      expect(info.threads).toBe(1);
      expect(info.threadsNote).toMatch(/^Expected 2 threads, got 1: SharedArrayBuffer is not available: the page is not cross-origin isolated/);
      expect(warned).toBe(1);
    }
    expect(forward()).toEqual(one);
    await closeThreads();
  });
});
