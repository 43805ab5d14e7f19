// The package figures the README states (tarball size and file count, runtime dependencies, the
// weight of a consumer's node_modules) are what scripts/package-figures.mjs measures on the built
// package now, within 5 %; the dependency list exactly.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageFigures, runtimeTree } from '../scripts/package-figures.mjs';

const root = resolve(__dirname, '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8').replace(/\s+/g, ' ');
const num = (s: string) => Number(s.replace(/,/g, ''));

/** The README's figures, from its "What a consumer downloads" sentence. */
function stated() {
  const tar = /the tarball is ([\d,]+) KiB packed \(([\d,]+) KiB unpacked, (\d+) files/.exec(readme);
  const deps = /its runtime dependencies are (.+?), (\d+) packages in all/.exec(readme);
  const nm = /a consumer's whole `node_modules` is ([\d.]+) MB/.exec(readme);
  if (!tar || !deps || !nm) throw new Error('Expected the README\'s "What a consumer downloads" sentence with its figures, got none');
  return {
    packedKiB: num(tar[1]),
    unpackedKiB: num(tar[2]),
    files: num(tar[3]),
    dependencies: [...deps[1].matchAll(/`([^`]+)`/g)].map((m) => m[1]).sort(),
    packages: num(deps[2]),
    nodeModulesMB: Number(nm[1]),
  };
}

const within5 = (measured: number, readmeFigure: number, what: string) => {
  expect(Math.abs(measured - readmeFigure) / measured, `${what}: measured ${measured}, README ${readmeFigure}`).toBeLessThanOrEqual(0.05);
};

describe('package figures (scripts/package-figures.mjs) against the README', () => {
  it('tarball size and files, runtime dependencies and the consumer node_modules match the README within 5 %', () => {
    const f = packageFigures();
    const r = stated();
    within5(f.tarball.packed / 1024, r.packedKiB, 'packed KiB');
    within5(f.tarball.unpacked / 1024, r.unpackedKiB, 'unpacked KiB');
    within5(f.tarball.files, r.files, 'files');
    expect(f.tarball.paths.filter((p) => p.endsWith('.map'))).toEqual([]); // "no source maps"
    expect(r.dependencies).toEqual(f.dependencies);
    within5(f.packages, r.packages, 'packages');
    within5(f.consumerNodeModules / 1e6, r.nodeModulesMB, 'node_modules MB');
  });

  it('the dependency walk follows dependencies transitively, once per installed folder, and skips absent optional ones', () => {
    const tree = runtimeTree(['piscina']);
    const names = tree.map((p) => p.name);
    expect(names[0]).toBe('@napi-rs/nice'); // piscina's optional native helper, and its platform package when installed
    expect(names).toContain('piscina');
    expect(new Set(tree.map((p) => `${p.name}@${p.version}`)).size).toBe(tree.length);
    expect(tree.every((p) => p.bytes > 0)).toBe(true);
    expect(() => runtimeTree(['no-such-package-rnnw'])).toThrow(/Expected the runtime dependency no-such-package-rnnw installed/);
  });
});
