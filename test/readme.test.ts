// Every fenced code block of the documentation — README.md, docs/README.md and docs/guides/*.md —
// runs as written, and every relative link in them resolves. One describe block per file.
// ts/js blocks are transpiled (types erased, nothing else) and run by node from a temporary
// directory whose node_modules has `rnn-wasm` linked to this repository (so `import … from
// 'rnn-wasm'` resolves to the built dist/, through the package's `exports`, as in a consumer) and
// this repository's packages beside it. sh blocks run line by line with the package's `bin`
// entries on PATH (each file in a working directory of its own, the lines of a file in order),
// except the lines listed in SKIP with the reason. Blocks and files are found automatically: a new
// guide or section is tested without touching this file. A block that cannot run here (a
// ten-minute training run, a browser-only API) is marked in the markdown itself, on the line right
// above its fence, with an HTML comment that renders as nothing:
//   <!-- readme-test: skip: the reason -->
// Links: a relative link must name an existing file or folder, and a #fragment must be the
// GitHub anchor of a heading of the file it points into (or of the file itself).
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
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
const JS = ['ts', 'typescript', 'js', 'javascript'];

/** The documentation files: README.md, then every .md under docs/ (sorted), as paths relative to the root. */
function docFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(join(root, dir), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const rel = join(dir, e.name);
      if (e.isDirectory()) walk(rel);
      else if (e.name.endsWith('.md')) out.push(rel);
    }
  };
  if (existsSync(join(root, 'docs'))) walk('docs');
  return ['README.md', ...out];
}

interface Block {
  lang: string;
  code: string;
  line: number;
  heading: string;
  /** The reason given by a `<!-- readme-test: skip: … -->` line right above the fence. */
  skip?: string;
}

function markdownBlocks(text: string, file = 'README.md'): Block[] {
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
    if (j === lines.length) throw new Error(`${file}:${i + 1}: code fence never closed`);
    const mark = /^<!--\s*readme-test:\s*skip:\s*(.+?)\s*-->\s*$/.exec(lines[i - 1] ?? '');
    if (/readme-test/.test(lines[i - 1] ?? '') && !mark) throw new Error(`${file}:${i}: expected <!-- readme-test: skip: reason -->, got ${lines[i - 1]}`);
    out.push({ lang: open[2].toLowerCase(), code: body.join('\n'), line: i + 1, heading, skip: mark?.[1] });
    i = j;
  }
  return out;
}

/** GitHub's anchor of a heading: lower case, inline markup and punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link keeps its text
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors of a markdown text's headings (outside code fences), repeats numbered as GitHub does (`x`, `x-1`, …). */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fence = false;
  for (const line of text.split('\n')) {
    if (/^\s*```/.test(line)) fence = !fence;
    const h = !fence && /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!h) continue;
    const base = slug(h[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

interface Link {
  target: string;
  line: number;
}

/** Inline links `[text](target)` and images outside code fences and inline code. */
function markdownLinks(text: string): Link[] {
  const out: Link[] = [];
  let fence = false;
  text.split('\n').forEach((raw, i) => {
    if (/^\s*```/.test(raw)) {
      fence = !fence;
      return;
    }
    if (fence) return;
    const line = raw.replace(/``.*?``|`[^`]*`/g, '');
    for (const m of line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push({ target: m[1], line: i + 1 });
  });
  return out;
}

/** Repository paths written as inline code outside fences: `src/io/format.ts`, `test/apps/` (templates with `<…>` or `*` are left out). */
function repoPaths(text: string): string[] {
  let fence = false;
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    if (/^\s*```/.test(line)) fence = !fence;
    if (fence) continue;
    for (const m of line.matchAll(/`((?:src|scripts|test|bench|demo|assembly|docs)\/[\w./-]*)`/g)) out.add(m[1].replace(/[.,;:]+$/, ''));
  }
  return [...out];
}

/** Why a relative link of `file` does not resolve, or null when it does (external links are not followed). */
function brokenLink(file: string, target: string, read: (path: string) => string | null): string | null {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return null; // https:, mailto:, …
  const hash = target.indexOf('#');
  const path = hash < 0 ? target : target.slice(0, hash);
  const fragment = hash < 0 ? null : decodeURIComponent(target.slice(hash + 1));
  const into = path === '' ? file : join(dirname(file), decodeURIComponent(path));
  const text = read(into);
  if (text === null) return `${target}: no file or folder ${into}`;
  if (fragment === null) return null;
  if (!into.endsWith('.md')) return `${target}: a #fragment into ${into}, which is not markdown`;
  return anchors(text).has(fragment) ? null : `${target}: no heading of ${into} has the anchor #${fragment}`;
}

/** The repository's files as `brokenLink` reads them: markdown text, '' for any other file or a folder, null when absent. */
function readRepo(path: string): string | null {
  const abs = join(root, path);
  if (relative(root, abs).startsWith('..')) return null;
  const st = statSync(abs, { throwIfNoEntry: false });
  if (!st) return null;
  return st.isFile() && abs.endsWith('.md') ? readFileSync(abs, 'utf8') : '';
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

const files = docFiles();
const docs = files.map((file) => {
  const text = readFileSync(join(root, file), 'utf8');
  const all = markdownBlocks(text, file);
  return { file, text, all, blocks: all.filter((b) => !b.skip) };
});
const dir = consumerDir();
const env = { ...process.env, PATH: `${join(dir, 'node_modules', '.bin')}:${join(root, 'node_modules', '.bin')}:${process.env.PATH}` };
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(cmd: string, args: string[], cwd: string): string {
  try {
    return execFileSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${x.message}\n--- stdout\n${x.stdout ?? ''}\n--- stderr\n${x.stderr ?? ''}`);
  }
}

/** The sh lines of some blocks, continuations joined and `# comments` removed, each with its block's name. */
function shLinesOf(blocks: Block[], name: (b: Block) => string): (readonly [string, string])[] {
  return blocks
    .filter((b) => b.lang === 'sh' || b.lang === 'bash')
    .flatMap((b) => b.code.replace(/\\\n\s*/g, ' ').split('\n').map((l) => [name(b), l.replace(/(^|\s)#.*$/, '').trim()] as const))
    .filter(([, l]) => l.length > 0);
}

describe('the documentation test itself', () => {
  it('finds README.md, docs/README.md and the guides; dist/ is built', () => {
    expect(files[0]).toBe('README.md');
    expect(files).toContain(join('docs', 'README.md'));
    expect(files.filter((f) => f.startsWith(join('docs', 'guides'))).length).toBeGreaterThanOrEqual(10);
    expect(docs.flatMap((d) => d.blocks).filter((b) => JS.includes(b.lang)).length, 'runnable ts/js blocks in all').toBeGreaterThanOrEqual(25);
    expect(existsSync(join(root, 'dist', 'index.js')), 'run `npm run build` first').toBe(true);
  });

  it('the block parser: languages, headings, line numbers, skip markers, and an unclosed fence', () => {
    const text = ['# A', '```ts', 'let x = 1;', '```', '## B', '<!-- readme-test: skip: needs a browser window -->', '```sh', 'open page', '```', '```', 'plain', '```'].join('\n');
    expect(markdownBlocks(text)).toEqual([
      { lang: 'ts', code: 'let x = 1;', line: 2, heading: 'A', skip: undefined },
      { lang: 'sh', code: 'open page', line: 7, heading: 'B', skip: 'needs a browser window' },
      { lang: '', code: 'plain', line: 10, heading: 'B', skip: undefined },
    ]);
    expect(() => markdownBlocks('```ts\nlet x;', 'docs/guides/x.md')).toThrow('docs/guides/x.md:1: code fence never closed');
    expect(() => markdownBlocks('<!-- readme-test: skp -->\n```ts\nx\n```')).toThrow(/expected <!-- readme-test: skip: reason -->/);
  });

  it("anchors are GitHub's: punctuation and code marks dropped, repeats numbered, fenced lines ignored", () => {
    const text = [
      '# Recurrent layers: `new RNN(o)`, `new LSTM(o)`',
      '## One sequence on several threads: `init({ threads: N })`',
      '## Seq2seq / G2P',
      '## Notes',
      '## Notes',
      '```sh',
      '# not a heading',
      '```',
    ].join('\n');
    expect([...anchors(text)]).toEqual(['recurrent-layers-new-rnno-new-lstmo', 'one-sequence-on-several-threads-init-threads-n-', 'seq2seq--g2p', 'notes', 'notes-1']);
  });

  it('the link check: files, folders, anchors in the file and in others; external and inline-code links ignored', () => {
    const repo: Record<string, string> = { 'docs/a.md': '# Alpha\n## Two words\n', 'docs/b.md': '# Beta\n', 'docs/img.png': '', docs: '' };
    const read = (p: string) => (p in repo ? repo[p] : null);
    const check = (target: string) => brokenLink('docs/a.md', target, read);
    expect(check('b.md')).toBeNull();
    expect(check('b.md#beta')).toBeNull();
    expect(check('#two-words')).toBeNull();
    expect(check('img.png')).toBeNull();
    expect(check('../docs')).toBeNull();
    expect(check('https://example.com/#whatever')).toBeNull();
    expect(check('c.md')).toBe('c.md: no file or folder docs/c.md');
    expect(check('b.md#gamma')).toBe('b.md#gamma: no heading of docs/b.md has the anchor #gamma');
    expect(check('#two_words')).toMatch(/no heading of docs\/a\.md/);
    expect(check('img.png#x')).toMatch(/not markdown/);
    expect(markdownLinks('see [a](a.md) and `[b](b.md)`\n```\n[c](c.md)\n```\n[d](d.md#x "title")').map((l) => l.target)).toEqual(['a.md', 'd.md#x']);
    expect(repoPaths('reads `src/io/format.ts`, `test/apps/` and `bench/runs/<date>.json`; `npm test`\n```\n`src/in-a-fence.ts`\n```')).toEqual(['src/io/format.ts', 'test/apps/']);
  });

  it('every SKIP entry still appears in some file', () => {
    const lines = docs.flatMap((d) => shLinesOf(d.blocks, () => d.file).map(([, l]) => l));
    for (const s of Object.keys(SKIP)) expect(lines, `SKIP entry "${s}" no longer appears in the documentation`).toContain(s);
  });
});

for (const { file, text, all, blocks } of docs) {
  describe(file, () => {
    const name = (b: Block) => `${file}:${b.line} (${b.heading}, ${b.lang || 'plain'})`;

    it('every block is in a language this test knows; marked skips give a reason', () => {
      for (const b of all.filter((x) => x.skip)) expect(b.skip!.length, `${name(b)}: the reason it is skipped`).toBeGreaterThan(10);
      for (const b of blocks) expect([...JS, 'sh', 'bash', 'json', ...NOT_CODE], name(b)).toContain(b.lang);
    });

    it('every relative link resolves (files, folders, #anchors)', () => {
      const broken = markdownLinks(text)
        .map((l) => [l, brokenLink(file, l.target, readRepo)] as const)
        .filter(([, why]) => why !== null)
        .map(([l, why]) => `${file}:${l.line}: ${why}`);
      expect(broken).toEqual([]);
    });

    it('every repository path named in inline code exists (`src/…`, `scripts/…`, `test/…`, …)', () => {
      const stale = repoPaths(text).filter((p) => !existsSync(join(root, p)));
      expect(stale, `${file} names paths that are not in the repository`).toEqual([]);
    });

    const js = blocks.filter((b) => JS.includes(b.lang));
    if (js.length > 0) {
      it.each(js.map((b) => [name(b), b] as const))('%s runs', (_n, b) => {
        const out = ts.transpileModule(b.code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
        const work = mkdtempSync(join(dir, 'block-'));
        writeFileSync(join(work, 'block.mjs'), out);
        // relaxed SIMD is behind a flag in Node 20: blocks run on whichever binary the engine takes
        run(process.execPath, ['block.mjs'], work);
        rmSync(work, { recursive: true, force: true });
      });
    }

    const json = blocks.filter((b) => b.lang === 'json');
    if (json.length > 0) {
      it.each(json.map((b) => [name(b), b] as const))('%s is valid JSON', (_n, b) => {
        expect(() => JSON.parse(b.code)).not.toThrow();
      });
    }

    const sh = shLinesOf(blocks, name).filter(([, l]) => !(l in SKIP));
    if (sh.length > 0) {
      // the lines of one file share a working directory, in order (a later line reads what an earlier one wrote)
      const cwd = join(dir, file.replace(/[/.]/g, '_'));
      it.each(sh.map(([n, l]) => [`${n}: ${l}`, l] as const))('%s', (_n, line) => {
        mkdirSync(cwd, { recursive: true });
        run('bash', ['-euo', 'pipefail', '-c', line], cwd);
      });
    }
  });
}
