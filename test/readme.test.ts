// Every fenced code block of README.md runs as written. ts/js blocks are transpiled (types erased,
// nothing else) and run by node from a temporary directory whose node_modules has `rnn-wasm` linked
// to this repository (so `import … from 'rnn-wasm'` resolves to the built dist/, through the
// package's `exports`, as in a consumer) and this repository's packages beside it. sh blocks run
// line by line with the package's `bin` entries on PATH, except the lines listed in SKIP with the
// reason. Blocks are found automatically: a new README section is tested without touching this file.
// A block that cannot run here (a ten-minute training run, a browser-only API) is marked in
// README.md itself, on the line right above its fence, with an HTML comment that renders as nothing:
//   <!-- readme-test: skip: the reason -->
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; bin?: string | Record<string, string> };

/** sh lines that cannot run inside this test, each with the reason (matched after removing `# comments`). */
const SKIP: Record<string, string> = {
  'npm install rnn-wasm': 'installs from the npm registry; the same install from the packed tarball and from a git URL is scripts/consumer-check.mjs (its fast form is test/package.test.ts)',
  'npm ci && npm start': 'CI runs `npm ci` on a fresh clone; `npm start` is the main job (about a minute), run by CI and by hand',
  'npm test': 'this test is part of `npm test`',
};
/** Languages that are documentation, not programs. */
const NOT_CODE = new Set(['', 'text', 'txt']);

interface Block {
  lang: string;
  code: string;
  line: number;
  heading: string;
  /** The reason given by a `<!-- readme-test: skip: … -->` line right above the fence. */
  skip?: string;
}

function readmeBlocks(text: string): Block[] {
  const out: Block[] = [];
  const lines = text.split('\n');
  let heading = '(top)';
  for (let i = 0; i < lines.length; i++) {
    const h = /^#+\s+(.*)/.exec(lines[i]);
    if (h) heading = h[1];
    const open = /^(\s*)```\s*([\w-]*)/.exec(lines[i]);
    if (!open) continue;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !/^\s*```\s*$/.test(lines[j])) body.push(lines[j++]);
    if (j === lines.length) throw new Error(`README.md:${i + 1}: code fence never closed`);
    const mark = /^<!--\s*readme-test:\s*skip:\s*(.+?)\s*-->\s*$/.exec(lines[i - 1] ?? '');
    if (/readme-test/.test(lines[i - 1] ?? '') && !mark) throw new Error(`README.md:${i}: expected <!-- readme-test: skip: reason -->, got ${lines[i - 1]}`);
    out.push({ lang: open[2].toLowerCase(), code: body.join('\n'), line: i + 1, heading, skip: mark?.[1] });
    i = j;
  }
  return out;
}

/** A scratch consumer directory: node_modules/rnn-wasm → this repo, every other package of the repo linked beside it. */
function consumerDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rnnw-readme-'));
  const nm = join(dir, 'node_modules');
  mkdirSync(nm);
  symlinkSync(root, join(nm, pkg.name), 'dir');
  for (const e of readdirSync(join(root, 'node_modules'))) {
    if (e === '.bin' || e === pkg.name) continue;
    symlinkSync(join(root, 'node_modules', e), join(nm, e), 'dir');
  }
  // the package's own commands, as npm would link them
  const bin = join(nm, '.bin');
  mkdirSync(bin);
  const bins = typeof pkg.bin === 'string' ? { [pkg.name]: pkg.bin } : (pkg.bin ?? {});
  for (const [name, file] of Object.entries(bins)) symlinkSync(join(root, file), join(bin, name));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'readme-consumer', private: true, type: 'module' }));
  return dir;
}

const all = readmeBlocks(readFileSync(join(root, 'README.md'), 'utf8'));
const blocks = all.filter((b) => !b.skip);
const dir = consumerDir();
const env = { ...process.env, PATH: `${join(dir, 'node_modules', '.bin')}:${join(root, 'node_modules', '.bin')}:${process.env.PATH}` };
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const name = (b: Block) => `README.md:${b.line} (${b.heading}, ${b.lang || 'plain'})`;

function run(cmd: string, args: string[], cwd: string): string {
  try {
    return execFileSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${x.message}\n--- stdout\n${x.stdout ?? ''}\n--- stderr\n${x.stderr ?? ''}`);
  }
}

describe('README code blocks', () => {
  it('finds the blocks, each in a language this test knows; marked skips give a reason', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(6);
    for (const b of all.filter((x) => x.skip)) expect(b.skip!.length, `${name(b)}: the reason it is skipped`).toBeGreaterThan(10);
    for (const b of blocks) expect(['ts', 'typescript', 'js', 'javascript', 'sh', 'bash', 'json', ...NOT_CODE], name(b)).toContain(b.lang);
    expect(existsSync(join(root, 'dist', 'index.js')), 'run `npm run build` first').toBe(true);
  });

  it('the block parser: languages, headings, line numbers, skip markers, and an unclosed fence', () => {
    const text = ['# A', '```ts', 'let x = 1;', '```', '## B', '<!-- readme-test: skip: needs a browser window -->', '```sh', 'open page', '```', '```', 'plain', '```'].join('\n');
    expect(readmeBlocks(text)).toEqual([
      { lang: 'ts', code: 'let x = 1;', line: 2, heading: 'A', skip: undefined },
      { lang: 'sh', code: 'open page', line: 7, heading: 'B', skip: 'needs a browser window' },
      { lang: '', code: 'plain', line: 10, heading: 'B', skip: undefined },
    ]);
    expect(() => readmeBlocks('```ts\nlet x;')).toThrow('README.md:1: code fence never closed');
    expect(() => readmeBlocks('<!-- readme-test: skp -->\n```ts\nx\n```')).toThrow(/expected <!-- readme-test: skip: reason -->/);
  });

  it.each(blocks.filter((b) => ['ts', 'typescript', 'js', 'javascript'].includes(b.lang)).map((b) => [name(b), b] as const))('%s runs', (_n, b) => {
    const js = ts.transpileModule(b.code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
    const work = mkdtempSync(join(dir, 'block-'));
    writeFileSync(join(work, 'block.mjs'), js);
    // relaxed SIMD is behind a flag in Node 20: blocks run on whichever binary the engine takes
    run(process.execPath, ['block.mjs'], work);
    rmSync(work, { recursive: true, force: true });
  });

  it.each(blocks.filter((b) => b.lang === 'json').map((b) => [name(b), b] as const))('%s is valid JSON', (_n, b) => {
    expect(() => JSON.parse(b.code)).not.toThrow();
  });

  const shLines = blocks
    .filter((b) => b.lang === 'sh' || b.lang === 'bash')
    .flatMap((b) => b.code.replace(/\\\n\s*/g, ' ').split('\n').map((l) => [name(b), l.replace(/(^|\s)#.*$/, '').trim()] as const))
    .filter(([, l]) => l.length > 0);

  it('every sh line is either run below or skipped with a reason; no skip is stale', () => {
    const lines = shLines.map(([, l]) => l);
    for (const s of Object.keys(SKIP)) expect(lines, `SKIP entry "${s}" no longer appears in README.md`).toContain(s);
  });

  it.each(shLines.filter(([, l]) => !(l in SKIP)).map(([n, l]) => [`${n}: ${l}`, l] as const))('%s', (_n, line) => {
    run('bash', ['-euo', 'pipefail', '-c', line], dir);
  });
});
