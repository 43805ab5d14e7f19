import { copyFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

// ESM + CJS + .d.ts. The wasm binaries (base64, generated into src/wasm/binary.ts by
// scripts/build-wasm.mjs) are NOT bundled: src/wasm/load.ts imports './binary.js' lazily, both builds
// keep that import, and onSuccess writes dist/binary.js once (the generated file is plain ESM). So
// the tarball holds each binary once, and the worker bundles (which receive a compiled Module)
// none. The two worker entries are what WorkerPool starts beside the bundle (piscina in Node, Web
// Workers in browsers); `shims` gives the CJS build an import.meta.url to find them.
export default defineConfig({
  entry: { index: 'src/index.ts', 'worker-node': 'src/parallel/worker-node.ts', 'worker-web': 'src/parallel/worker-web.ts' },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'src/index.ts' } },
  sourcemap: false,
  clean: true,
  shims: true,
  target: 'es2022',
  platform: 'neutral',
  outDir: 'dist',
  esbuildPlugins: [
    {
      name: 'wasm-binary-external',
      setup(build) {
        build.onResolve({ filter: /^\.\/binary\.js$/ }, () => ({ path: './binary.js', external: true }));
      },
    },
  ],
  onSuccess: async () => {
    copyFileSync('src/wasm/binary.ts', 'dist/binary.js');
  },
});
