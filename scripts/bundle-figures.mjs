// What a web page downloads from the package, measured on the built dist/ with esbuild (bundle,
// splitting, ESM; gzip at zlib's default level 6; 1 KB = 1,000 bytes):
//   page        a page whose whole script is `import { init, LSTM, tensor } from 'rnn-wasm'`, an
//               init() and one LSTM forward, bundled and minified: the files it loads for the
//               relaxed-SIMD binary (its entry chunk, the chunks that imports, and the chunk of the
//               binary that init() imports), and the other binaries' chunks, which it does not load
//   playground  the playground (scripts/build-demo.mjs): what a visit loads (page, worker, the
//               library chunk they share, the relaxed binary's chunk) against the page and the
//               worker bundled each on its own, without splitting (each then holds the library and
//               every binary)
//   node scripts/bundle-figures.mjs          the figures, for people
//   node scripts/bundle-figures.mjs --json   the same as JSON
// dist/ must be built (npm run build). test/bundle-size.test.ts runs it, checks the page in
// Chromium and compares with the figures docs/guides/browser.md states.
import { build } from 'esbuild';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { DEMO_BUILD, buildDemo } from './build-demo.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The four binaries, as named in dist/binary-<name>.js. */
export const BINARIES = ['relaxed', 'simd', 'relaxed-mt', 'simd-mt'];

/** The page: init() and one LSTM forward (and one with a wrong input size); it leaves its results in globalThis.pageResult. */
export const PAGE_SOURCE = `import { init, LSTM, tensor } from 'rnn-wasm';
const { variant } = await init();
const lstm = new LSTM({ inputSize: 3, hiddenSize: 4, seed: 7 });
const x = tensor(Float32Array.from({ length: 2 * 2 * 3 }, (_, i) => Math.sin(i)), [2, 2, 3]);
const { output } = lstm.forward(x);
let error = '';
try {
  lstm.forward(tensor(new Float32Array(10), [1, 2, 5]));
} catch (e) {
  error = \`\${e.name}: \${e.message}\`;
}
globalThis.pageResult = { variant, shape: output.shape, data: Array.from(output.data), error };
`;

/** gzip bytes of a buffer (zlib's default level). */
export const gzipped = (bytes) => gzipSync(bytes).length;

/**
 * esbuild's metafile as a graph of output files by name: { [file]: { bytes, imports, dynamicImports,
 * inputs, entry } } (all outputs are in one folder; source maps left out).
 */
export function chunkGraph(metafile) {
  const graph = {};
  for (const [path, o] of Object.entries(metafile.outputs)) {
    if (path.endsWith('.map')) continue;
    graph[basename(path)] = {
      bytes: o.bytes,
      imports: o.imports.filter((i) => i.kind === 'import-statement' && !i.external).map((i) => basename(i.path)),
      dynamicImports: o.imports.filter((i) => i.kind === 'dynamic-import' && !i.external).map((i) => basename(i.path)),
      inputs: Object.keys(o.inputs),
      entry: o.entryPoint ?? null,
    };
  }
  return graph;
}

/** The files a browser loads to run `files` before any dynamic import: them and their static imports, transitively. */
export function staticClosure(graph, files) {
  const seen = new Set();
  const visit = (f) => {
    if (seen.has(f)) return;
    if (!graph[f]) throw new Error(`Expected ${f} among the built files, got ${Object.keys(graph).join(', ')}`);
    seen.add(f);
    for (const i of graph[f].imports) visit(i);
  };
  for (const f of files) visit(f);
  return [...seen];
}

/** The output file that holds dist/binary-<name>.js (exactly one must). */
export function binaryChunk(graph, name) {
  const holders = Object.keys(graph).filter((f) => graph[f].inputs.some((i) => i.endsWith(`dist/binary-${name}.js`)));
  if (holders.length !== 1) throw new Error(`Expected one output holding dist/binary-${name}.js, got ${holders.length}: ${holders.join(', ')}`);
  return holders[0];
}

/** The entry file of an entry point whose path ends with `suffix`. */
function entryFile(graph, suffix) {
  const f = Object.keys(graph).find((k) => graph[k].entry?.endsWith(suffix));
  if (!f) throw new Error(`Expected an entry built from …${suffix}, got none`);
  return f;
}

/** [{ file, bytes, gzip }] of the named files in dir, and their gzip total. */
function sizes(dir, files) {
  const list = files.map((file) => {
    const b = readFileSync(join(dir, file));
    return { file, bytes: b.length, gzip: gzipped(b) };
  });
  return { files: list, gzip: list.reduce((a, f) => a + f.gzip, 0) };
}

/** Builds the LSTM-only page into dir (index.html, page.js and its chunks); returns its figures. */
export async function pageFigures(dir = mkdtempSync(join(tmpdir(), 'rnnw-page-'))) {
  writeFileSync(join(dir, 'page.js'), PAGE_SOURCE);
  writeFileSync(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><script type="module" src="./out/page.js"></script>\n');
  const { metafile } = await build({
    entryPoints: [join(dir, 'page.js')],
    alias: { 'rnn-wasm': join(root, 'dist/index.js') },
    bundle: true,
    minify: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    external: ['node:*'],
    outdir: join(dir, 'out'),
    absWorkingDir: dir,
    metafile: true,
    logLevel: 'warning',
  });
  const graph = chunkGraph(metafile);
  const entry = entryFile(graph, 'page.js');
  const base = staticClosure(graph, [entry]);
  const binaries = Object.fromEntries(BINARIES.map((b) => [b, binaryChunk(graph, b)]));
  const loads = staticClosure(graph, [...base, binaries.relaxed]);
  const out = join(dir, 'out');
  return {
    dir,
    graph,
    entry,
    /** the entry and its static imports (what loads before init() runs) */
    base,
    binaries: Object.fromEntries(BINARIES.map((b) => [b, { file: binaries[b], ...sizes(out, [binaries[b]]).files[0] }])),
    /** everything the page loads for init() and the forward on the relaxed binary */
    relaxed: sizes(out, loads),
  };
}

/**
 * The playground as built (page and worker sharing chunks) against the page and the worker
 * bundled each on its own without splitting (then each holds the library and all four binaries).
 */
export async function playgroundFigures(dir = mkdtempSync(join(tmpdir(), 'rnnw-demo-sizes-'))) {
  const { dir: site, metafile } = await buildDemo(join(dir, 'site'));
  const graph = chunkGraph(metafile);
  const main = entryFile(graph, 'demo/main.ts');
  const worker = entryFile(graph, 'demo/worker.ts');
  const mainStatic = staticClosure(graph, [main]);
  const workerStatic = staticClosure(graph, [worker]);
  const shared = mainStatic.filter((f) => workerStatic.includes(f));
  const relaxed = binaryChunk(graph, 'relaxed');
  const loads = staticClosure(graph, [...mainStatic, ...workerStatic, relaxed]);
  const apart = {};
  for (const [name, path] of Object.entries(DEMO_BUILD.entryPoints)) {
    const r = await build({ ...DEMO_BUILD, entryPoints: { [name]: path }, splitting: false, sourcemap: false, write: false, outdir: join(dir, 'apart') });
    const js = r.outputFiles.filter((f) => f.path.endsWith('.js'));
    apart[name] = { bytes: js.reduce((a, f) => a + f.contents.length, 0), gzip: js.reduce((a, f) => a + gzipped(f.contents), 0) };
  }
  return {
    dir: site,
    graph,
    main,
    worker,
    /** chunks that both the page and the worker import statically */
    shared,
    binaries: Object.fromEntries(BINARIES.map((b) => [b, binaryChunk(graph, b)])),
    /** what a visit loads (each file once) on the relaxed binary */
    relaxed: sizes(site, loads),
    /** the page and the worker bundled apart (the build before the shared chunk) */
    apart: { ...apart, gzip: apart.main.gzip + apart.worker.gzip },
  };
}

const kb = (b) => `${(b / 1000).toFixed(1)} KB`;

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const page = await pageFigures();
  const demo = await playgroundFigures();
  const json = process.argv.includes('--json');
  const strip = ({ dir, graph, ...rest }) => rest;
  if (json) console.log(JSON.stringify({ page: strip(page), playground: strip(demo) }, null, 2));
  else {
    console.log(`LSTM-only page (esbuild, minified, splitting), loads on the relaxed binary: ${kb(page.relaxed.gzip)} gzipped`);
    for (const f of page.relaxed.files) console.log(`  ${f.file.padEnd(34)} ${kb(f.bytes).padStart(10)} ${kb(f.gzip).padStart(9)} gzipped`);
    console.log('  not loaded (init imports them only when it picks them):');
    for (const b of BINARIES.slice(1)) console.log(`  ${page.binaries[b].file.padEnd(34)} ${kb(page.binaries[b].bytes).padStart(10)} ${kb(page.binaries[b].gzip).padStart(9)} gzipped`);
    console.log(`playground, a visit on the relaxed binary: ${kb(demo.relaxed.gzip)} gzipped (shared chunk ${demo.shared.join(', ')})`);
    for (const f of demo.relaxed.files) console.log(`  ${f.file.padEnd(34)} ${kb(f.bytes).padStart(10)} ${kb(f.gzip).padStart(9)} gzipped`);
    console.log(`  page and worker bundled apart: main.js ${kb(demo.apart.main.gzip)} + worker.js ${kb(demo.apart.worker.gzip)} = ${kb(demo.apart.gzip)} gzipped`);
  }
  for (const d of [page.dir, dirname(demo.dir)]) rmSync(d, { recursive: true, force: true });
}
