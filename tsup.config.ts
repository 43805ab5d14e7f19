import { defineConfig } from 'tsup';

// ESM + CJS + .d.ts from one entry; the wasm binaries are inlined (base64) by src/wasm/binary.ts,
// which scripts/build-wasm.mjs generates before tsup runs. The two worker entries are what
// WorkerPool starts beside the bundle (piscina in Node, Web Workers in browsers); `shims` gives
// the CJS build an import.meta.url to find them.
export default defineConfig({
  entry: { index: 'src/index.ts', 'worker-node': 'src/parallel/worker-node.ts', 'worker-web': 'src/parallel/worker-web.ts' },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'src/index.ts' } },
  sourcemap: true,
  clean: true,
  shims: true,
  target: 'es2022',
  platform: 'neutral',
  outDir: 'dist',
});
