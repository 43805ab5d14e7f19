// Import cycles that cross a folder of src/ (issue 22: "no cycle that crosses a folder"). madge reads
// every import of src/ (type-only imports included: a type cycle ties folders as surely as a value
// one), Tarjan's algorithm finds the strongly connected groups of files, and a group whose files lie
// in two or more folders is reported with the imports that tie it. A cycle inside one folder (two
// files of io/ that know each other) is allowed.
//   node scripts/check-cycles.mjs            prints the groups; exit 1 when there is one
// test/structure.test.ts runs it in npm test.
import madge from 'madge';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const folderOf = (f) => (f.includes('/') ? f.slice(0, f.lastIndexOf('/')) : '.');

/** Strongly connected groups (of two or more files) of a dependency graph { file: [imports] }. */
export function stronglyConnected(graph) {
  let next = 0;
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const groups = [];
  const visit = (v) => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph[v] ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
    }
    if (low.get(v) !== index.get(v)) return;
    const group = [];
    let w;
    do {
      w = stack.pop();
      onStack.delete(w);
      group.push(w);
    } while (w !== v);
    if (group.length > 1) groups.push(group.sort());
  };
  for (const v of Object.keys(graph)) if (!index.has(v)) visit(v);
  return groups;
}

/** Groups of files of src/ tied by imports into a cycle that spans folders: { files, folders, edges }. */
export async function crossFolderCycles() {
  const res = await madge(join(root, 'src'), { fileExtensions: ['ts'], tsConfig: join(root, 'tsconfig.json'), baseDir: join(root, 'src') });
  const graph = res.obj();
  return stronglyConnected(graph)
    .map((files) => {
      const inGroup = new Set(files);
      const edges = files.flatMap((f) => graph[f].filter((d) => inGroup.has(d) && folderOf(d) !== folderOf(f)).map((d) => `${f} -> ${d}`));
      return { files, folders: [...new Set(files.map(folderOf))].sort(), edges };
    })
    .filter((g) => g.folders.length > 1);
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const groups = await crossFolderCycles();
  for (const g of groups) {
    console.log(`a cycle of ${g.files.length} files across ${g.folders.length} folders (${g.folders.join(', ')}), tied by:`);
    for (const e of g.edges) console.log(`  ${e}`);
  }
  console.log(groups.length ? `${groups.length} cross-folder cycle(s)` : 'no import cycle crosses a folder');
  process.exit(groups.length ? 1 : 0);
}
