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

// ESM + CJS + .d.ts from one entry; the wasm binaries are inlined (base64) by src/wasm/binary.ts,
// which scripts/build-wasm.mjs generates before tsup runs. The two worker entries are what
// WorkerPool starts beside the bundle (piscina in Node, Web Workers in browsers); `shims` gives
// the CJS build an import.meta.url to find them.
export default defineConfig({
  entry: { index: 'src/index.ts', 'worker-node': 'src/parallel/worker-node.ts', 'worker-web': 'src/parallel/worker-web.ts', cli: 'src/cli/main.ts', 'batch-worker': 'src/cli/batch-worker.ts' },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'src/index.ts' } },
  sourcemap: true,
  clean: true,
  shims: true,
  target: 'es2022',
  platform: 'neutral',
  external: [/^node:/],
  esbuildPlugins: [cliUsesTheBundle],
  outDir: 'dist',
});
