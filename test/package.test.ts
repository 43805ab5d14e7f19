// The package as users install it (the fast form of scripts/consumer-check.mjs; the full form adds
// the git-URL install, whose `prepare` runs the whole build): the packed tarball installs into a
// fresh project, where an ESM, a CJS and a strict TypeScript program agree; the tarball carries each
// wasm binary once and no source maps; a consumer pulls no protobufjs and no @types/node.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error: a plain .mjs script without type declarations
import { pack, consumer, runPrograms, footprint } from '../scripts/consumer-check.mjs';
import { packageFigures } from '../scripts/package-figures.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

describe('the packed package in a consumer project', () => {
  it('builds on prepare (so a git install works) and keeps protobuf out of the runtime dependencies', () => {
    expect(pkg.scripts.prepare).toBe('npm run build');
    const deps = Object.keys(pkg.dependencies ?? {});
    expect(deps).toContain('piscina');
    expect(deps.filter((d) => /protobuf|onnx|^@types\//.test(d))).toEqual([]);
  });

  it('installs from the tarball; ESM, CJS and strict TS programs agree (plain and relaxed SIMD); one copy of each binary, no maps, no protobufjs', () => {
    const work = mkdtempSync(join(tmpdir(), 'rnnw-pkgtest-'));
    try {
      const p = pack(work, { scripts: false });
      const paths: string[] = p.files.map((f: { path: string }) => f.path);
      expect(paths.filter((f) => f.endsWith('.map'))).toEqual([]);
      expect(paths.every((f) => f === 'README.md' || f === 'package.json' || f.startsWith('dist/'))).toBe(true);
      const dir = consumer(p.tarball);
      try {
        const out = runPrograms(dir);
        const r = JSON.parse(out.esm);
        expect(r.shape).toEqual([2, 2, 4]);
        expect(r.onnxRoundTrip).toBe(true);
        expect(out.cjs).toBe(out.esm);
        expect(out.ts).toBe(out.esm);
        expect(r.variant).toBe('simd'); // Node 20 without the flag
        // with relaxed SIMD on, both builds import the relaxed binary's own file and agree with each other
        const relaxed = ['esm.mjs', 'cjs.cjs'].map((f) => execFileSync(process.execPath, ['--experimental-wasm-relaxed-simd', f], { cwd: dir, encoding: 'utf8' }).trim());
        expect(relaxed[1]).toBe(relaxed[0]);
        const rr = JSON.parse(relaxed[0]);
        expect(rr.variant).toBe('relaxed');
        expect(rr.shape).toEqual(r.shape);
        expect(Math.abs(rr.sum - r.sum)).toBeLessThan(1e-5);
        // each binary's bytes (as base64, whole: a slice can also occur inside the other build, which
        // shares function bodies with it, whenever the byte offsets line up mod 3) appear in exactly
        // one shipped file
        const dist = join(dir, 'node_modules', 'rnn-wasm', 'dist');
        const texts = readdirSync(dist).map((f) => [f, readFileSync(join(dist, f), 'utf8')] as const);
        // the threaded builds (init({ threads })) too: each binary in its own lazily imported file
        for (const name of ['simd', 'relaxed', 'simd-mt', 'relaxed-mt']) {
          const b64 = readFileSync(join(root, 'build', `rnn-${name}.wasm`)).toString('base64');
          expect(texts.filter(([, t]) => t.includes(b64)).map(([f]) => f), name).toEqual([`binary-${name}.js`]);
        }
        const fp = footprint(dir);
        expect(fp.ls).toContain('rnn-wasm@');
        expect(fp.ls).not.toMatch(/protobufjs|onnx-proto|@types\/node/);
        // a real install weighs what scripts/package-figures.mjs (whose figure the README states) computes, within 5 %
        const computed = packageFigures().consumerNodeModules;
        expect(Math.abs(fp.bytes - computed) / computed, `installed ${fp.bytes} B, computed ${computed} B`).toBeLessThan(0.05);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
