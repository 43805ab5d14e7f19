// What a consumer downloads, from the package as it is built now: `npm pack --dry-run --json`
// gives the tarball's packed and unpacked size and its files; the runtime dependencies are
// package.json's `dependencies`, followed transitively (dependencies, optional dependencies and
// required peers) through this repository's node_modules the way Node resolves them; a consumer's
// node_modules is the unpacked package plus every one of those packages' folders (nested
// node_modules counted once, as the packages they hold).
//   node scripts/package-figures.mjs          the figures, for people
//   node scripts/package-figures.mjs --json   the same as JSON
// dist/ must be built (npm run build); the pack runs no scripts. test/package-figures.test.ts runs
// it and compares with the figures the README states.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Bytes of the files under `path`, leaving out nested node_modules folders. */
function du(path) {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.size;
  let n = 0;
  for (const e of readdirSync(path)) if (e !== 'node_modules') n += du(join(path, e));
  return n;
}

/** The folder of package `name` as Node finds it from the package folder `from` (null when not installed). */
function resolvePackage(name, from) {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === dirname(dir) || dir === dirname(root)) return null;
  }
}

/** Every package a consumer gets through `deps` (names), as { name, version, dir, bytes }, sorted by name. */
export function runtimeTree(deps, from = root) {
  const seen = new Map();
  const visit = (name, parent, optional) => {
    const dir = resolvePackage(name, parent);
    if (!dir) {
      if (optional) return; // a platform package for another system
      throw new Error(`Expected the runtime dependency ${name} installed under ${parent}, got none (run npm ci)`);
    }
    if (seen.has(dir)) return;
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    seen.set(dir, { name, version: pkg.version, dir, bytes: du(dir) });
    const peersOptional = pkg.peerDependenciesMeta ?? {};
    for (const d of Object.keys(pkg.dependencies ?? {})) visit(d, dir, false);
    for (const d of Object.keys(pkg.optionalDependencies ?? {})) visit(d, dir, true);
    for (const d of Object.keys(pkg.peerDependencies ?? {})) visit(d, dir, peersOptional[d]?.optional === true);
  };
  for (const d of deps) visit(d, from, false);
  return [...seen.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** The figures: tarball, files, runtime dependencies and the consumer's node_modules. */
export function packageFigures() {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts', '--loglevel=error'], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  const info = JSON.parse(out.slice(out.indexOf('[')))[0];
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const dependencies = Object.keys(pkg.dependencies ?? {}).sort();
  const tree = runtimeTree(dependencies);
  const treeBytes = tree.reduce((a, p) => a + p.bytes, 0);
  return {
    tarball: { packed: info.size, unpacked: info.unpackedSize, files: info.files.length, paths: info.files.map((f) => f.path) },
    dependencies,
    packages: tree.length,
    consumerNodeModules: info.unpackedSize + treeBytes,
    tree: tree.map(({ name, version, bytes }) => ({ name, version, bytes })),
  };
}

const kib = (b) => `${(b / 1024).toFixed(0)} KiB`;
const mb = (b) => `${(b / 1e6).toFixed(1)} MB`;

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const f = packageFigures();
  if (process.argv.includes('--json')) console.log(JSON.stringify(f, null, 2));
  else {
    console.log(`tarball: ${f.tarball.packed} B packed (${kib(f.tarball.packed)}), ${f.tarball.unpacked} B unpacked (${kib(f.tarball.unpacked)}), ${f.tarball.files} files`);
    for (const p of f.tarball.paths) console.log(`  ${p}`);
    console.log(`runtime dependencies: ${f.dependencies.join(', ')} (${f.packages} packages in all)`);
    for (const p of f.tree) console.log(`  ${`${p.name}@${p.version}`.padEnd(40)} ${String(p.bytes).padStart(9)} B`);
    console.log(`consumer node_modules: ${f.consumerNodeModules} B (${mb(f.consumerNodeModules)}): rnn-wasm and ${f.packages} packages`);
  }
}
