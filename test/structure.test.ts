// The source tree's floors (issue 22): no import cycle — type-only imports included — ties files of
// two folders together (scripts/check-cycles.mjs, on madge's import graph), and the check itself
// finds such a cycle when one is there.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without type declarations
import { crossFolderCycles, stronglyConnected } from '../scripts/check-cycles.mjs';

describe('source structure', () => {
  it('no import cycle crosses a folder of src/', async () => {
    const groups = (await crossFolderCycles()) as { files: string[]; folders: string[]; edges: string[] }[];
    expect(groups.map((g) => `${g.folders.join(', ')}: ${g.edges.join('; ')}`)).toEqual([]);
  }, 60_000);

  it('parallel/ imports no application (apps, cli, serve): applications register themselves with it (src/parallel/apps.ts)', () => {
    const dir = join(__dirname, '..', 'src', 'parallel');
    const found: string[] = [];
    for (const f of readdirSync(dir)) {
      const text = readFileSync(join(dir, f), 'utf8');
      for (const m of text.matchAll(/(?:import|export)[^;]*?from\s+'([^']+)'/g)) if (/^\.\.\/(apps|cli|serve)(\/|$)/.test(m[1])) found.push(`${f} → ${m[1]}`);
    }
    expect(found).toEqual([]);
    // the pattern sees such an import (the check can fail)
    expect("import type { X } from '../apps/seq2seq/seq2seq';".match(/(?:import|export)[^;]*?from\s+'([^']+)'/)![1]).toBe('../apps/seq2seq/seq2seq');
  });

  it('the check finds a cycle across folders and only cycles (a chain and a self-contained pair are not cycles across folders)', () => {
    const groups = stronglyConnected({
      'a/x.ts': ['b/y.ts'], 'b/y.ts': ['c/z.ts'], 'c/z.ts': ['a/x.ts'], // a cycle over three folders
      'd/p.ts': ['d/q.ts'], 'd/q.ts': ['d/p.ts'], // a cycle inside one folder
      'e/r.ts': ['f/s.ts'], 'f/s.ts': [], // a chain
    }) as string[][];
    expect(groups.map((g) => g.join(' '))).toEqual(expect.arrayContaining(['a/x.ts b/y.ts c/z.ts', 'd/p.ts d/q.ts']));
    expect(groups.length).toBe(2);
  });
});
