// The batch tools beyond one machine: scripts/queue-worker.mjs processes serve one BullMQ queue on
// a Redis server this test starts (Debian's redis-server on 127.0.0.1, a random port, AOF on with
// fsync at every write). A file is enqueued with scripts/queue-submit.mjs; during the run one
// worker is killed with SIGKILL and Redis itself is killed and restarted once; the answers that
// scripts/queue-collect.mjs writes in input order are byte-identical to `classify` on the same
// file — every line answered exactly once, error records included. Against a Redis without
// persistence the worker refuses to start (exit 2) unless --allow-volatile.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { init } from '../../src/wasm/load';
import { SequenceClassifier } from '../../src/apps/classifier/index';
import { Tokenizer } from '../../src/apps/common/index';

const dir = mkdtempSync(join(tmpdir(), 'rnn-wasm-queue-'));
const port = 20000 + Math.floor(Math.random() * 20000);
const script = (n: string) => resolve(__dirname, `../../scripts/${n}`);
const CLI = resolve(__dirname, '../../dist/cli.js');
const procs: ChildProcess[] = [];
let clf: SequenceClassifier;

function start(cmd: string, args: string[], ready: RegExp): Promise<ChildProcess> {
  return new Promise((ok, fail) => {
    const p = spawn(cmd, args, { cwd: dir });
    procs.push(p);
    let log = '';
    const on = (d: Buffer) => {
      log += d;
      if (ready.test(log)) ok(p);
    };
    p.stdout!.on('data', on);
    p.stderr!.on('data', on);
    p.on('exit', (code) => fail(new Error(`${cmd} exited with ${code}: ${log}`)));
    setTimeout(() => fail(new Error(`${cmd} not ready after 20 s: ${log}`)), 20_000);
  });
}
const redisArgs = (p: number, aof: boolean) => ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--dir', dir, '--appendonly', aof ? 'yes' : 'no', '--appendfsync', 'always', '--appendfilename', `q${p}.aof`, '--appenddirname', `aof${p}`];
const killed = (p: ChildProcess) => new Promise((r) => (p.exitCode !== null || p.signalCode !== null ? r(null) : (p.once('exit', r), p.kill('SIGKILL'))));

beforeAll(async () => {
  await init();
  clf = new SequenceClassifier({ tokenizer: Tokenizer.fit(['abcdefgh']), labels: ['x', 'y', 'z'], hiddenSize: 8, embeddingDim: 4, seed: 3 });
  writeFileSync(join(dir, 'm.rnnw'), clf.serialize());
}, 40_000);

afterAll(async () => {
  for (const p of procs.reverse()) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  clf?.dispose();
});

describe('batch tools as workers of a BullMQ queue', () => {
  it('refuses (exit 2) a Redis without persistence unless --allow-volatile', async () => {
    const vport = port + 1;
    const redis = await start('redis-server', redisArgs(vport, false), /Ready to accept connections/);
    const args = [script('queue-worker.mjs'), '--model', join(dir, 'm.rnnw'), '--queue', 'v', '--redis', `127.0.0.1:${vport}`];
    const r = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(`queue-worker: Expected a Redis with AOF persistence (appendonly yes) at 127.0.0.1:${vport}, got appendonly no: a restart would lose every job and answer. Turn it on (CONFIG SET appendonly yes) or pass --allow-volatile`);
    const w = await start(process.execPath, [...args, '--allow-volatile'], /ready on v/);
    await killed(w);
    await killed(redis);
  }, 40_000);

  it('a worker killed mid-run and Redis killed and restarted once: every line answered exactly once, in input order, as classify answers it', async () => {
    const N = 3000;
    const lines = Array.from({ length: N }, (_, i) => (i === 1234 ? '{"id": broken' : JSON.stringify({ id: `rec-${i}`, text: 'abcdefgh'.slice(i % 5, 3 + (i % 6)).repeat(1 + (i % 4)) }) + (i % 9 === 0 ? '\r' : '')));
    writeFileSync(join(dir, 'in.jsonl'), '\uFEFF' + lines.join('\n') + '\n');
    const want = spawnSync(process.execPath, [CLI, 'classify', 'm.rnnw', 'in.jsonl'], { cwd: dir, encoding: 'utf8' });
    expect(want.status, want.stderr).toBe(0);

    let redis = await start('redis-server', redisArgs(port, true), /Ready to accept connections/);
    const workerArgs = [script('queue-worker.mjs'), '--model', join(dir, 'm.rnnw'), '--queue', 'recs', '--redis', `127.0.0.1:${port}`, '--lock-ms', '1500'];
    const [a] = await Promise.all([start(process.execPath, workerArgs, /ready on recs/), start(process.execPath, workerArgs, /ready on recs/)]);
    const sub = spawnSync(process.execPath, [script('queue-submit.mjs'), '--queue', 'recs', '--redis', `127.0.0.1:${port}`, '--run', 'r1', 'in.jsonl'], { cwd: dir, encoding: 'utf8' });
    expect(sub.status, sub.stderr).toBe(0);
    expect(sub.stdout.trim()).toBe('r1');

    const client = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: null, lazyConnect: false });
    const answered = async () => (await client.keys('rnnwasm:recs:answer:r1-*')).length;
    const until = async (n: number) => {
      while ((await answered()) < n) await new Promise((r) => setTimeout(r, 10));
    };
    await until(300);
    await killed(a); // kill -9 one worker mid-run; a replacement joins
    await start(process.execPath, workerArgs, /ready on recs/);
    await until(1200);
    const before = await answered();
    expect(before).toBeLessThan(N);
    await killed(redis); // kill -9 Redis and restart it from its AOF
    redis = await start('redis-server', redisArgs(port, true), /Ready to accept connections/);
    expect(await answered()).toBeGreaterThanOrEqual(before); // nothing acknowledged was lost

    const col = spawnSync(process.execPath, [script('queue-collect.mjs'), '--queue', 'recs', '--redis', `127.0.0.1:${port}`, '--run', 'r1', '--timeout-ms', '60000'], { cwd: dir, encoding: 'utf8' });
    expect(col.status, col.stderr).toBe(0);
    expect(col.stdout).toBe(want.stdout);
    expect(await answered()).toBe(N);
    const out = col.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(out[1234]).toEqual({ line: 1235, id: null, error: 'Expected a JSON object on line 1235, got invalid JSON' });
    const p = clf.predict([JSON.parse(lines[7]).text])[0];
    expect(out[7].probs.x).toBe(+p[0].toFixed(6));
    // submitting the run again (its jobs are processed a second time) changes no answer
    const again = spawnSync(process.execPath, [script('queue-submit.mjs'), '--queue', 'recs', '--redis', `127.0.0.1:${port}`, '--run', 'r1', 'in.jsonl'], { cwd: dir, encoding: 'utf8' });
    expect(again.status, again.stderr).toBe(0);
    await new Promise((r) => setTimeout(r, 500));
    const col2 = spawnSync(process.execPath, [script('queue-collect.mjs'), '--queue', 'recs', '--redis', `127.0.0.1:${port}`, '--run', 'r1'], { cwd: dir, encoding: 'utf8' });
    expect(col2.stdout).toBe(want.stdout);
    client.disconnect();
  }, 120_000);
});
