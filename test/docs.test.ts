// The API reference (`npm run docs`: TypeDoc with typedoc.json) builds from the doc comments with no
// warning at all: typedoc.json treats every warning as an error, and its validation warns about an
// exported symbol (class, interface, type, function, variable, method, accessor) without a comment,
// a type the reference refers to but cannot show, and a {@link} that does not resolve. The test
// builds the whole reference once, then checks that pages of known symbols hold their comments,
// that every property of an exported class or interface has one too (TypeDoc's own check cannot
// require that without also requiring the fields of inline object types), and that the same
// configuration fails on a small project with an undocumented export and a broken link (so a pass
// above means something).
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'node_modules', 'typedoc', 'bin', 'typedoc');
const work = mkdtempSync(join(tmpdir(), 'rnnw-docs-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs TypeDoc with an options file (default: the repository's typedoc.json) and `args`; its exit code and output without colours. */
function typedoc(args: string[], options = join(root, 'typedoc.json')): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [bin, '--options', options, ...args], { cwd: root, encoding: 'utf8', timeout: 170_000, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
  return { status: r.status, out: `${r.stdout}${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, '') };
}

describe('API reference (TypeDoc)', () => {
  const out = join(work, 'api');
  let run: { status: number | null; out: string };

  it('builds with no warning and no error', () => {
    run = typedoc(['--out', out, '--json', join(out, 'api.json')]);
    const problems = run.out.split('\n').filter((l) => /\[(warning|error)\]/.test(l));
    expect(problems, run.out).toEqual([]);
    expect(run.status, run.out).toBe(0);
  }, 180_000);

  it('has a page for known symbols, with their doc comments', () => {
    const page = (p: string) => {
      expect(existsSync(join(out, p)), p).toBe(true);
      return readFileSync(join(out, p), 'utf8');
    };
    expect(page('index.html')).toContain('rnn-wasm');
    // a class, its methods and their comments
    const lstm = page('classes/LSTM.html');
    expect(lstm).toContain('LSTM, gate order i,f,g,o');
    for (const m of ['forward', 'stream', 'trainStep', 'backward', 'dispose']) expect(lstm, m).toContain(`id="${m.toLowerCase()}"`);
    // a function, an options interface with its properties, the graph namespace, an application
    expect(page('functions/init.html')).toContain('threads');
    expect(page('interfaces/InitOptions.html')).toContain('Threads per sequence');
    expect(page('modules/graph.html')).toContain('attention');
    expect(page('classes/Seq2Seq.html')).toContain('translate');
    // members marked @internal stay out of the reference
    expect(page('classes/Adam.html')).not.toMatch(/id="bind"/);
  });

  it('every property of an exported class or interface has a doc comment (inherited ones from the same package count)', () => {
    interface Refl {
      id: number;
      name: string;
      kind: number;
      comment?: unknown;
      flags?: { isExternal?: boolean };
      children?: Refl[];
    }
    const KIND = { class: 128, interface: 256, property: 1024 } as const;
    const project = JSON.parse(readFileSync(join(out, 'api.json'), 'utf8')) as Refl;
    const missing: string[] = [];
    let checked = 0;
    const walk = (r: Refl, path: string) => {
      for (const c of r.children ?? []) {
        const p = `${path}.${c.name}`;
        // a property declared outside the package (Error's message, stack, cause) has its comment there
        const external = c.flags?.isExternal === true;
        if (c.kind === KIND.property && (r.kind === KIND.class || r.kind === KIND.interface) && !external) {
          checked++;
          if (!c.comment) missing.push(p);
        }
        walk(c, p);
      }
    };
    walk(project, project.name);
    expect(checked).toBeGreaterThan(500);
    expect(missing).toEqual([]);
  });
});

describe('the configuration fails on an undocumented export and on a broken link', () => {
  it('a small project with both: non-zero exit, each named', () => {
    const dir = join(work, 'fixture');
    mkdirSync(dir);
    writeFileSync(join(dir, 'index.ts'), [
      '/** Documented, with a link to {@link nowhere}. */',
      'export function documented(): number {',
      '  return 1;',
      '}',
      'export function undocumentedExport(): number {',
      '  return 2;',
      '}',
      '',
    ].join('\n'));
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler', strict: true, types: [] }, files: ['index.ts'] }));
    // the repository's configuration, on this project (the tsconfig is read before command-line
    // arguments apply, so the entry point and tsconfig come from an options file that extends it)
    writeFileSync(join(dir, 'typedoc.json'), JSON.stringify({ extends: [join(root, 'typedoc.json')], entryPoints: ['index.ts'], tsconfig: 'tsconfig.json', out: 'api', intentionallyNotExported: [] }));
    const r = typedoc([], join(dir, 'typedoc.json'));
    expect(r.status, r.out).not.toBe(0);
    expect(r.out).toMatch(/undocumentedExport.*does not have any documentation/);
    expect(r.out).toMatch(/Failed to resolve link to "nowhere"/);
    expect(r.out).not.toMatch(/\bdocumented \(Function\).*does not have any documentation/);
  }, 120_000);
});
