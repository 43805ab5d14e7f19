// The build, done once. Four steps, in order: the op tables (scripts/gen-ops.mjs), the wasm binaries
// (scripts/build-wasm.mjs, asc), the JS bundles (tsup without declarations) and the type
// declarations (tsup's .d.ts pass, the slow one). A step runs only when the hash of its inputs
// (file contents and the versions of the tools it uses) differs from the one its last run wrote to
// build/stamps/<step>.json, or when its outputs are missing or were changed since that run; else it
// prints "<step>: up to date". Content hashes, not times: touching a file rebuilds nothing,
// changing one byte of it rebuilds what depends on it.
//   node scripts/build.mjs            every step (npm run build; prepare, npm test, npm pack)
//   node scripts/build.mjs --no-dts   without the declarations (npm start, npm run bench, npm run demo)
//   node scripts/build.mjs --force    every step, whatever the stamps say
//   node scripts/build.mjs --only ops,wasm   only the named steps (in their order)
// test/scripts/build.test.ts checks the skip and the rebuild.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Every file under `path` (a file or a folder, relative to `base`), as sorted relative paths. */
export function listFiles(base, path) {
  const abs = join(base, path);
  const st = statSync(abs, { throwIfNoEntry: false });
  if (!st) return [];
  if (!st.isDirectory()) return [path];
  return readdirSync(abs)
    .sort()
    .flatMap((e) => listFiles(base, join(path, e)));
}

/** One hash over the named files' paths and contents (in order) and the extra strings. */
export function hashFiles(base, files, extra = []) {
  const h = createHash('sha256');
  for (const f of files) {
    h.update(`${f}\0`);
    h.update(readFileSync(join(base, f)));
    h.update('\0');
  }
  for (const s of extra) h.update(`${s}\0`);
  return h.digest('hex');
}

/** The installed version of a package in `base`'s node_modules ("absent" when it is not installed). */
export function toolVersion(base, name) {
  const p = join(base, 'node_modules', name, 'package.json');
  return existsSync(p) ? `${name}@${JSON.parse(readFileSync(p, 'utf8')).version}` : `${name}@absent`;
}

/**
 * Runs one step unless its stamp says it is up to date. A step is
 *   { name, inputs: paths (files or folders) under base, tools?: package names whose versions count,
 *     outputs: () => relative paths of the files the step leaves (listed after it ran), run: () => void|Promise }
 * Returns 'built' or 'skipped'. The stamp (stampDir/<name>.json) records the inputs' hash and the
 * outputs' hash; both must match for a skip, and a step with no outputs is never skipped.
 */
export async function runStep(step, { base = root, stampDir = join(base, 'build', 'stamps'), force = false, log = console.log } = {}) {
  const stampFile = join(stampDir, `${step.name}.json`);
  const before = inputHash(step, base);
  if (!force && existsSync(stampFile)) {
    const stamp = JSON.parse(readFileSync(stampFile, 'utf8'));
    const out = outputHash(step, base);
    if (stamp.inputs === before && out !== null && stamp.outputs === out) {
      log(`${step.name}: up to date`);
      return 'skipped';
    }
  }
  const t0 = Date.now();
  await step.run();
  const out = outputHash(step, base);
  if (out === null) throw new Error(`Expected step ${step.name} to leave output files, got none`);
  mkdirSync(stampDir, { recursive: true });
  // Inputs are hashed again after the run: if one changed meanwhile (edited during the build), the
  // stamp records no input hash and the next build runs the step again.
  writeFileSync(stampFile, `${JSON.stringify({ inputs: inputHash(step, base) === before ? before : null, outputs: out }, null, 2)}\n`);
  log(`${step.name}: built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return 'built';
}

/** The hash of a step's inputs: every file under its input paths, and its tools' versions. */
export function inputHash(step, base = root) {
  return hashFiles(
    base,
    step.inputs.flatMap((p) => listFiles(base, p)),
    (step.tools ?? []).map((t) => toolVersion(base, t)),
  );
}

/** The hash of the output files a step left (null when there are none). */
function outputHash(step, base) {
  const files = step.outputs();
  return files.length ? hashFiles(base, files) : null;
}

/** Runs a node script from the repository root; throws if it fails. */
function node(script) {
  const r = spawnSync(process.execPath, [join(root, script)], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${script} failed with exit code ${r.status}`);
}

const isDts = (f) => /\.d\.(ts|cts|mts)$/.test(f);
const inDist = (keep) => () => listFiles(root, 'dist').filter(keep);
// What the JS bundles and the declarations are made from (tsup treats package.json's dependencies
// as external, so package.json is an input; src/ includes the generated wasm and op modules).
const BUNDLE_INPUTS = ['src', 'tsup.config.ts', 'tsconfig.json', 'package.json'];

/** tsup with this repository's config; `dts: false` keeps the declarations of the last full build. */
async function tsup(overrides) {
  const { build } = await import('tsup');
  process.chdir(root);
  await build(overrides);
}

/** The four steps; `dts: false` leaves the declarations out (they are not needed to run anything). */
export function steps({ dts = true } = {}) {
  const list = [
    {
      name: 'ops',
      inputs: ['assembly/ops.table.json', 'scripts/gen-ops.mjs'],
      outputs: () => ['assembly/opcodes.generated.ts', 'assembly/ops.generated.ts', 'assembly/mt/split.generated.ts', 'src/wasm/ops.generated.ts'].filter((f) => existsSync(join(root, f))),
      run: () => node('scripts/gen-ops.mjs'),
    },
    {
      name: 'wasm',
      inputs: ['assembly', 'asconfig.json', 'asconfig-mt.json', 'scripts/build-wasm.mjs'],
      tools: ['assemblyscript', 'binaryen'],
      outputs: () => [...listFiles(root, 'build').filter((f) => f.endsWith('.wasm')), ...listFiles(root, 'src/wasm').filter((f) => /\/binary[^/]*\.ts$/.test(f))],
      run: () => node('scripts/build-wasm.mjs'),
    },
    {
      name: 'js',
      inputs: BUNDLE_INPUTS,
      tools: ['tsup', 'esbuild'],
      outputs: inDist((f) => !isDts(f)),
      // tsup's `clean` empties dist/ first; the pattern keeps the declarations of the last dts step
      run: () => tsup({ dts: false, clean: ['!**/*.d.{ts,cts,mts}'] }),
    },
  ];
  if (dts) {
    list.push({
      name: 'dts',
      inputs: BUNDLE_INPUTS,
      tools: ['tsup', 'typescript', 'rollup'],
      outputs: inDist(isDts),
      // the config's own dts pass (rollup-plugin-dts in a worker); the JS bundles are rewritten too
      // (tsup has no declarations-only mode that keeps the config's dts entry), byte for byte the same
      run: () => tsup({}),
    });
  }
  return list;
}

async function main(argv) {
  const { values: a } = parseArgs({
    args: argv,
    options: { force: { type: 'boolean', default: false }, 'no-dts': { type: 'boolean', default: false }, only: { type: 'string' } },
  });
  const all = steps({ dts: !a['no-dts'] });
  const only = a.only?.split(',');
  const unknown = (only ?? []).filter((n) => !all.some((s) => s.name === n));
  if (unknown.length) throw new Error(`Expected --only to name steps among ${all.map((s) => s.name).join(', ')}, got ${unknown.join(', ')}`);
  const t0 = Date.now();
  for (const step of all) if (!only || only.includes(step.name)) await runStep(step, { force: a.force });
  console.log(`build: done in ${((Date.now() - t0) / 1000).toFixed(1)} s${a['no-dts'] ? ' (no type declarations: npm run build makes them)' : ''}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
