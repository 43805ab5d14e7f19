// The build runs once (scripts/build.mjs): a step whose inputs (contents, not times) and outputs are
// what its stamp recorded is skipped; a changed input, a missing or edited output or another tool
// version runs it again. Checked on the stamp logic with a step of our own, on the repository's real
// step list (what counts as an input of the wasm and of the bundles), and end to end: the script
// copied into a scratch folder runs its real `ops` step, then skips it, then rebuilds on an edit.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { inputHash, listFiles, root, runStep, steps, type Step } from '../../scripts/build.mjs';

const scratch: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'rnnw-build-'));
  scratch.push(d);
  return d;
}
afterEach(() => {
  for (const d of scratch.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A step that concatenates in/*.txt into out/all.txt and counts its runs. */
function catStep(base: string) {
  const counter = { runs: 0 };
  const step: Step = {
    name: 'cat',
    inputs: ['in'],
    tools: ['faketool'],
    outputs: () => listFiles(base, 'out'),
    run: () => {
      counter.runs++;
      mkdirSync(join(base, 'out'), { recursive: true });
      writeFileSync(join(base, 'out', 'all.txt'), listFiles(base, 'in').map((f) => readFileSync(join(base, f), 'utf8')).join(''));
    },
  };
  return { step, counter };
}

describe('scripts/build.mjs: a step runs only when its inputs or outputs changed', () => {
  it('skips an unchanged step (even after a touch) and reruns on a content edit, a new input file, a lost or edited output and a tool upgrade', async () => {
    const base = tmp();
    mkdirSync(join(base, 'in', 'sub'), { recursive: true });
    writeFileSync(join(base, 'in', 'a.txt'), 'a');
    writeFileSync(join(base, 'in', 'sub', 'b.txt'), 'b');
    const { step, counter } = catStep(base);
    const run = () => runStep(step, { base, log: () => {} });
    expect(await run()).toBe('built');
    expect(readFileSync(join(base, 'out', 'all.txt'), 'utf8')).toBe('ab');
    expect(await run()).toBe('skipped');
    // a new modification time with the same bytes is no change
    utimesSync(join(base, 'in', 'a.txt'), new Date(), new Date(Date.now() + 60_000));
    expect(await run()).toBe('skipped');
    expect(counter.runs).toBe(1);

    writeFileSync(join(base, 'in', 'sub', 'b.txt'), 'B');
    expect(await run()).toBe('built');
    expect(readFileSync(join(base, 'out', 'all.txt'), 'utf8')).toBe('aB');
    writeFileSync(join(base, 'in', 'c.txt'), 'c');
    expect(await run()).toBe('built');
    expect(readFileSync(join(base, 'out', 'all.txt'), 'utf8')).toBe('acB');
    expect(await run()).toBe('skipped');

    rmSync(join(base, 'out'), { recursive: true });
    expect(await run()).toBe('built');
    writeFileSync(join(base, 'out', 'all.txt'), 'edited by hand');
    expect(await run()).toBe('built');
    expect(readFileSync(join(base, 'out', 'all.txt'), 'utf8')).toBe('acB');

    mkdirSync(join(base, 'node_modules', 'faketool'), { recursive: true });
    writeFileSync(join(base, 'node_modules', 'faketool', 'package.json'), '{"version":"1.0.0"}');
    expect(await run()).toBe('built');
    expect(await run()).toBe('skipped');
    writeFileSync(join(base, 'node_modules', 'faketool', 'package.json'), '{"version":"1.0.1"}');
    expect(await run()).toBe('built');
    expect(counter.runs).toBe(7);
    expect(await runStep(step, { base, log: () => {}, force: true })).toBe('built');
  });

  it('a step that fails leaves no stamp, so the next build runs it again', async () => {
    const base = tmp();
    mkdirSync(join(base, 'in'));
    writeFileSync(join(base, 'in', 'a.txt'), 'a');
    const failing: Step = { name: 'bad', inputs: ['in'], outputs: () => [], run: () => { throw new Error('asc failed'); } };
    await expect(runStep(failing, { base, log: () => {} })).rejects.toThrow('asc failed');
    const silent: Step = { ...failing, run: () => {} };
    await expect(runStep(silent, { base, log: () => {} })).rejects.toThrow(/Expected step bad to leave output files, got none/);
    expect(listFiles(base, 'build')).toEqual([]);
  });

  it('the wasm step hashes every AssemblyScript file and both asconfigs; an assembly edit changes the hash, a touch does not', () => {
    const all = steps();
    expect(all.map((s) => s.name)).toEqual(['ops', 'wasm', 'js', 'dts']);
    expect(steps({ dts: false }).map((s) => s.name)).toEqual(['ops', 'wasm', 'js']);
    const wasm = all.find((s) => s.name === 'wasm')!;
    expect(wasm.inputs).toEqual(expect.arrayContaining(['assembly', 'asconfig.json', 'asconfig-mt.json', 'scripts/build-wasm.mjs']));
    expect(wasm.tools).toContain('assemblyscript');
    const base = tmp();
    for (const p of ['assembly', 'asconfig.json', 'asconfig-mt.json', 'scripts/build-wasm.mjs']) cpSync(join(root, p), join(base, p), { recursive: true });
    symlinkSync(join(root, 'node_modules'), join(base, 'node_modules'));
    const h0 = inputHash(wasm, base);
    expect(h0).toBe(inputHash(wasm, root)); // the same files hash the same wherever they are
    const lstm = join(base, 'assembly', 'cells', 'lstm.ts');
    utimesSync(lstm, new Date(), new Date(Date.now() + 60_000));
    expect(inputHash(wasm, base)).toBe(h0);
    writeFileSync(lstm, `${readFileSync(lstm, 'utf8')}\n`);
    expect(inputHash(wasm, base)).not.toBe(h0);
    // the bundles and the declarations are made from src/ (generated binaries included) and the configs
    for (const name of ['js', 'dts']) expect(all.find((s) => s.name === name)!.inputs).toEqual(expect.arrayContaining(['src', 'tsup.config.ts', 'tsconfig.json', 'package.json']));
  });

  it('end to end: the script builds its real ops step, skips it on the second run and rebuilds after an edit of the op table', () => {
    const base = tmp();
    for (const p of ['scripts/build.mjs', 'scripts/gen-ops.mjs', 'assembly/ops.table.json', 'assembly/opcodes.generated.ts', 'assembly/ops.generated.ts', 'assembly/mt/split.generated.ts', 'src/wasm/ops.generated.ts']) {
      cpSync(join(root, p), join(base, p), { recursive: true });
    }
    writeFileSync(join(base, 'package.json'), '{"type":"module"}');
    const build = () => execFileSync(process.execPath, [join(base, 'scripts', 'build.mjs'), '--only', 'ops'], { cwd: base, encoding: 'utf8' });
    expect(build()).toMatch(/^gen-ops: \d+ ops, 0 file\(s\) rewritten\nops: built in /);
    expect(build()).toMatch(/^ops: up to date\n/);
    const table = join(base, 'assembly', 'ops.table.json');
    const t = JSON.parse(readFileSync(table, 'utf8'));
    t.ops[0].doc = `${t.ops[0].doc ?? ''} (edited)`;
    writeFileSync(table, JSON.stringify(t, null, 2));
    expect(build()).toMatch(/^gen-ops: \d+ ops, [1-9] file\(s\) rewritten\nops: built in /);
    expect(readFileSync(join(base, 'assembly', 'opcodes.generated.ts'), 'utf8')).toContain('(edited)');
    expect(build()).toMatch(/^ops: up to date\n/);
  });
});
