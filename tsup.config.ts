import { copyFileSync } from 'node:fs';
import { defineConfig } from 'tsup';
import type { Plugin } from 'esbuild';

// The CLI (dist/cli.js, the package's `bin`) uses the library through its public entry: its
// imports of src/index are rewritten to the built ./index.js (./index.cjs in the CJS build), so
// the library and its inlined wasm are shipped once, not bundled again into the CLI.
const cliUsesTheBundle: Plugin = {
  name: 'cli-uses-the-bundle',
  setup(build) {
    const ext = build.initialOptions.format === 'cjs' ? '.cjs' : '.js';
    build.onResolve({ filter: /^(\.\.\/)+index$/ }, (args) => (args.importer.includes('/src/cli/') ? { path: `./index${ext}`, external: true } : undefined));
  },
};

// The four wasm binaries, each its own module (base64, generated into src/wasm/binary-<name>.ts by
// scripts/build-wasm.mjs).
const BINARIES = ['relaxed', 'simd', 'relaxed-mt', 'simd-mt'];

// ESM + CJS + .d.ts. The wasm binaries are NOT bundled: src/wasm/load.ts imports the one init()
// picks ('./binary-relaxed.js', …) lazily, both builds keep those imports, and onSuccess writes each
// dist/binary-<name>.js once (the generated files are plain ESM). So the tarball holds each binary
// once, a page's bundler makes each one its own chunk, and the worker bundles (which receive a
// compiled Module) hold none. The two worker entries are what WorkerPool starts beside the bundle
// (piscina in Node, Web Workers in browsers); `shims` gives the CJS build an import.meta.url to
// find them.
export default defineConfig({
  entry: { index: 'src/index.ts', 'worker-node': 'src/workers/worker-node.ts', 'worker-web': 'src/workers/worker-web.ts', cli: 'src/cli/main.ts', 'batch-worker': 'src/cli/batch-worker.ts' },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'src/index.ts' } },
  sourcemap: false,
  clean: true,
  shims: true,
  target: 'es2022',
  platform: 'neutral',
  external: [/^node:/],
  outDir: 'dist',
  esbuildPlugins: [
    cliUsesTheBundle,
    {
      name: 'wasm-binary-external',
      setup(build) {
        build.onResolve({ filter: /^\.\/binary-(relaxed|simd)(-mt)?\.js$/ }, (args) => ({ path: args.path, external: true }));
      },
    },
  ],
  onSuccess: async () => {
    for (const b of BINARIES) copyFileSync(`src/wasm/binary-${b}.ts`, `dist/binary-${b}.js`);
  },
});
