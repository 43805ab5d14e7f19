// Layers, models, training and graphs talk through their types: no `as unknown as` casts between
// them (a cast there hides a missing field or accessor that a refactor would then break silently).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const DIRS = ['src/model', 'src/layers', 'src/train', 'src/graph'];

function tsFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

describe('no casts between layers, model, training and graphs', () => {
  it('src/model, src/layers, src/train and src/graph contain no `as unknown as`', () => {
    const files = DIRS.flatMap(tsFiles);
    expect(files.length).toBeGreaterThan(20);
    const hits = files.flatMap((f) =>
      readFileSync(f, 'utf8').split('\n').flatMap((line, i) => (/\bas unknown as\b/.test(line) ? [`${f.slice(root.length + 1)}:${i + 1}`] : [])),
    );
    expect(hits).toEqual([]);
  });
});
