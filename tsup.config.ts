import { defineConfig } from 'tsup';

// ESM + CJS + .d.ts from one entry; the wasm binaries are inlined (base64) by src/wasm/binary.ts,
// which scripts/build-wasm.mjs generates before tsup runs.
export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  platform: 'neutral',
  outDir: 'dist',
});
