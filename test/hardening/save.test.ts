// save() failures (issue 13): a missing or read-only directory, a directory at the path and a full
// disk are SaveErrors (an RnnWasmError) carrying the Node error as `cause`; the temporary file is
// removed, an existing file at the path is never harmed, and temporary files left by killed saves
// are removed by the next save to the same path.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { init, GRU, save, load, SaveError, RnnWasmError } from '../../src/index';

beforeAll(async () => {
  await init();
});

const fresh = () => mkdtempSync(join(tmpdir(), 'rnnw-save-'));

describe('save() failures are SaveErrors and leave nothing behind', () => {
  it('a missing directory: SaveError with code ENOENT and the Node error as cause', async () => {
    const m = new GRU({ inputSize: 2, hiddenSize: 2 });
    const dir = fresh();
    const err = await save(m, join(dir, 'no', 'such', 'm.rnnw')).catch((e) => e);
    expect(err).toBeInstanceOf(SaveError);
    expect(err).toBeInstanceOf(RnnWasmError);
    expect(err.code).toBe('ENOENT');
    expect((err.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
    expect(err.message).toMatch(/Expected to write the model file .*m\.rnnw, got ENOENT/);
    expect(readdirSync(dir)).toEqual([]);
    m.dispose();
  });

  it('a directory at the path: SaveError naming it, the directory untouched', async () => {
    const m = new GRU({ inputSize: 2, hiddenSize: 2 });
    const dir = fresh();
    mkdirSync(join(dir, 'm.rnnw'));
    writeFileSync(join(dir, 'm.rnnw', 'inside'), 'x');
    await expect(save(m, join(dir, 'm.rnnw'))).rejects.toThrow(/got .*m\.rnnw, which is a directory/);
    expect(readdirSync(dir)).toEqual(['m.rnnw']);
    expect(readdirSync(join(dir, 'm.rnnw'))).toEqual(['inside']);
    m.dispose();
  });

  it('a full disk (64 KiB tmpfs) and a read-only mount: SaveError, no temporary file, the existing file intact', () => {
    const dist = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
    const child = fileURLToPath(new URL('./fixtures/save-full-disk.mjs', import.meta.url));
    const base = fresh();
    const small = join(base, 'small');
    const ro = join(base, 'ro');
    mkdirSync(small);
    mkdirSync(ro);
    // real file systems in a user namespace where allowed; otherwise the same errors injected
    const script = `mount -t tmpfs -o size=64k tmpfs "${small}" && mount -t tmpfs -o ro tmpfs "${ro}" && exec "${process.execPath}" "${child}" "${dist}" "${small}" "${ro}"`;
    let run = spawnSync('unshare', ['-r', '-m', 'sh', '-c', script], { encoding: 'utf8' });
    const mounted = run.status === 0;
    if (!mounted) run = spawnSync(process.execPath, [child, dist, small, ro, 'inject'], { encoding: 'utf8' });
    console.log(mounted ? 'ENOSPC/EROFS from a real tmpfs (unshare)' : `unshare unavailable (${run.stderr.trim().slice(0, 80)}): errors injected`);
    expect(run.status, run.stderr).toBe(0);
    const r = JSON.parse(run.stdout.trim().split('\n').pop()!);
    expect(r.full).toMatchObject({ cls: 'SaveError', typed: true, code: 'ENOSPC', causeCode: 'ENOSPC' });
    expect(r.full.message).toMatch(/Expected to write the model file .*m\.rnnw, got ENOSPC/);
    expect(r.filesAfterFull).toEqual(['m.rnnw']); // the temporary file is gone
    expect(r.existingUnchanged).toBe(true);
    expect(r.existingLoads).toBe(true);
    expect(r.readOnly).toMatchObject({ cls: 'SaveError', typed: true, code: 'EROFS' });
    expect(r.filesInReadOnly).toEqual([]);
  });
});

describe('temporary files of killed saves', () => {
  it('are removed by the next save to the same path; a live process\'s temporary file is kept', async () => {
    const dir = fresh();
    const path = join(dir, 'ckpt.rnnw');
    const m = new GRU({ inputSize: 2, hiddenSize: 2 });
    await save(m, path);
    // a dead process's pid: a child that has exited
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
    const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    const orphans = [`ckpt.rnnw.${gone}.1700000000000.tmp`, `ckpt.rnnw.${gone}.1700000000001-3.tmp`, `ckpt.rnnw.${process.pid}.1700000000002-9.tmp`];
    const kept = [`ckpt.rnnw.${live.pid}.1700000000003-0.tmp`, 'ckpt.rnnw.notes.tmp', 'other.rnnw.1.2.tmp'];
    for (const n of [...orphans, ...kept]) writeFileSync(join(dir, n), 'partial');
    await save(m, path);
    live.kill();
    expect(readdirSync(dir).sort()).toEqual(['ckpt.rnnw', ...kept].sort());
    const { model } = await load(path);
    expect(model.getParameter('weight_hh_l0')).toEqual(m.getParameter('weight_hh_l0'));
    model.dispose();
    m.dispose();
  });
});
