// `npm ci` prints no config warning and runs no download: the project's npm config has no key npm
// does not know (an .npmrc `onnxruntime-node-install=skip` printed "Unknown project config" at every
// npm call), and package.json's allowScripts covers every package of the lockfile that has an
// install script — onnxruntime-node's postinstall (its CUDA download) denied, the others approved,
// so npm 11 lists none as unreviewed.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from '../../scripts/build.mjs';

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { allowScripts: Record<string, boolean> };
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { hasInstallScript?: boolean }> };

describe('install: no config warnings, no CUDA download', () => {
  it('allowScripts denies onnxruntime-node and decides every other lockfile package with an install script', () => {
    expect(pkg.allowScripts['onnxruntime-node']).toBe(false);
    const withScripts = new Set(Object.entries(lock.packages).filter(([, p]) => p.hasInstallScript).map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length)));
    expect(withScripts.has('onnxruntime-node')).toBe(true);
    expect([...withScripts].filter((name) => !(name in pkg.allowScripts))).toEqual([]);
    expect(Object.keys(pkg.allowScripts).filter((name) => !withScripts.has(name))).toEqual([]);
  });

  it('npm reads the project config without an "Unknown … config" warning', () => {
    if (existsSync(join(root, '.npmrc'))) expect(readFileSync(join(root, '.npmrc'), 'utf8')).not.toMatch(/onnxruntime/);
    const env = { ...process.env };
    for (const k of Object.keys(env)) if (/^npm_config_/i.test(k)) delete env[k]; // what a user's shell has, not what npm test passes down
    const warn = execFileSync('sh', ['-c', 'npm config list 2>&1 >/dev/null'], { cwd: root, encoding: 'utf8', env });
    expect(warn).not.toMatch(/Unknown .*config/);
  });
});
