// A Node process with a team of helper threads (init({ threads: 2 })) ends on its own when its work
// is done, as docs/guides/performance.md promises: the helpers block in wasm between jobs and must
// not keep the event loop alive (a 'message' listener added after unref() used to ref the worker's
// port again, so such a process never exited).
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const DIST = pathToFileURL(resolve(__dirname, '../../dist/index.js')).href;

describe('helper threads and the end of a Node process', () => {
  it('a script that ran on 2 threads and never called closeThreads() exits by itself', () => {
    const code = `
      const l = await import(${JSON.stringify(DIST)});
      const { threads } = await l.init({ threads: 2 });
      const m = new l.LSTM({ inputSize: 4, hiddenSize: 64, seed: 1 });
      const y = m.forward(l.tensor(new Float32Array(40).fill(0.5), [10, 1, 4])).output.data;
      console.log(JSON.stringify({ threads, finite: y.every(Number.isFinite) }));`;
    const t0 = Date.now();
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 30_000 });
    expect(r.signal, `still running after ${Date.now() - t0} ms: ${r.stderr}`).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toEqual({ threads: 2, finite: true });
  }, 40_000);
});
