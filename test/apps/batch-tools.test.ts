// The CLI's application commands as users run them (the built dist/cli.js in a child process):
// train-classifier/train-labeler write model files; classify/label stream JSONL with exactly one
// output record per input line, in input order, error records for bad lines, on 1 or 2 workers;
// then the streaming frame under load and faults (a pipe, kills and resumes, CR/BOM/huge lines, OOM).
import { beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { init } from '../../src/wasm/load';
import { SequenceClassifier } from '../../src/apps/classifier/index';
import { SequenceLabeler } from '../../src/apps/labeler/index';
import { Seq2Seq } from '../../src/apps/seq2seq/index';

const CLI = resolve(__dirname, '../../dist/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'rnn-wasm-apps-'));
const file = (n: string) => join(dir, n);
const cli = (args: string[], input?: string) => {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8', input });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
};
const words = ['ab', 'ba', 'abba', 'baab', 'aab', 'bba'];

beforeAll(async () => {
  await init();
  const rows = Array.from({ length: 120 }, (_, i) => JSON.stringify({ text: words[i % 6].repeat(1 + (i % 3)), label: words[i % 6][0] === 'a' ? 'A' : 'B' }));
  writeFileSync(file('cls.jsonl'), rows.join('\n') + '\n');
  const tagged = Array.from({ length: 120 }, (_, i) => { const t = words[i % 6].repeat(1 + (i % 2)); return JSON.stringify({ text: t, tags: [...t].map((c) => (c === 'a' ? 'V' : 'C')) }); });
  writeFileSync(file('lab.jsonl'), tagged.join('\n') + '\n');
  const a = cli(['train-classifier', '--data', 'cls.jsonl', '--hidden', '8', '--embedding', '4', '--epochs', '4', '--lr', '0.02', '--out', 'cls.rnnw', '--json']);
  expect(a.code, a.stderr).toBe(0);
  const b = cli(['train-labeler', '--data', 'lab.jsonl', '--crf', '--hidden', '8', '--embedding', '4', '--epochs', '4', '--lr', '0.02', '--out', 'lab.rnnw', '--json']);
  expect(b.code, b.stderr).toBe(0);
}, 60_000);

describe('classify / label batch tools', () => {
  // 300 records of mixed lengths with bad lines at known places
  const lines: string[] = [];
  const bad = new Map<number, RegExp>([[7, /JSON object on line 7/], [50, /"text" to be a string on line 50/], [123, /at most 40 characters on line 123/], [200, /JSON object \{"id", "text"\} on line 200/], [300, /JSON object on line 300/]]);
  for (let n = 1; n <= 300; n++) {
    if (n === 7) lines.push('{"id": 7, "text": ');
    else if (n === 50) lines.push(JSON.stringify({ id: 'x50', text: 42 }));
    else if (n === 123) lines.push(JSON.stringify({ id: 123, text: 'a'.repeat(41) }));
    else if (n === 200) lines.push('[1, 2]');
    else if (n === 300) lines.push('');
    else lines.push(JSON.stringify({ id: `r${n}`, text: words[n % 6].repeat(1 + (n % 5)) }));
  }
  const input = lines.join('\n') + '\n';

  for (const workers of ['1', '2']) {
    it(`classify on ${workers} worker(s): one record per line, input order, error records naming line and id, the library's probabilities`, () => {
      const r = cli(['classify', 'cls.rnnw', '--workers', workers, '--batch', '8', '--max-chars', '40'], input);
      expect(r.code, r.stderr).toBe(0);
      const out = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
      expect(out.length).toBe(300);
      const clf = SequenceClassifier.deserialize(readFileSync(file('cls.rnnw')));
      out.forEach((o, i) => {
        const n = i + 1;
        if (bad.has(n)) {
          expect(o.line).toBe(n);
          expect(o.error).toMatch(bad.get(n)!);
          expect(o.id).toBe(n === 50 ? 'x50' : n === 123 ? 123 : null);
        } else {
          expect(o.id).toBe(`r${n}`);
          const p = clf.predict([JSON.parse(lines[i]).text])[0];
          expect(o.probs.A).toBeCloseTo(p[0], 5);
          expect(o.label).toBe(p[0] > p[1] ? 'A' : 'B');
        }
      });
      clf.dispose();
    }, 30_000);
  }

  it('label with a CRF model: one tag per character, same as the library; reads a file argument', () => {
    writeFileSync(file('in.jsonl'), input);
    const r = cli(['label', 'lab.rnnw', 'in.jsonl', '--workers', '2', '--max-chars', '40']);
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(out.length).toBe(300);
    const lab = SequenceLabeler.deserialize(readFileSync(file('lab.rnnw')));
    expect(lab.crf).not.toBeNull();
    out.forEach((o, i) => {
      if (bad.has(i + 1)) return expect(o.line).toBe(i + 1);
      const text = JSON.parse(lines[i]).text as string;
      expect(o.tokens).toEqual([...text]);
      expect(o.tags).toEqual(lab.predict([text])[0]);
    });
    lab.dispose();
  }, 30_000);

  it('refuses a model of the other application and a missing input with exit code 1 and one line', () => {
    const a = cli(['label', 'cls.rnnw'], '');
    expect(a.code).toBe(1);
    expect(a.stderr.trim()).toBe('rnn-wasm: FormatError: Expected a SequenceLabeler model file, got a SequenceClassifier file (cls.rnnw): use `rnn-wasm classify`');
    const b = cli(['classify', 'cls.rnnw', 'missing.jsonl']);
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/Expected a readable input at missing.jsonl/);
    const c = cli(['classify', 'cls.rnnw', '--resume'], '');
    expect(c.code).toBe(2);
    expect(c.stderr.trim()).toBe('rnn-wasm: usage error: Expected --output FILE with --resume, got no --output');
  });
});

// The streaming frame under load and faults: a pipe written while output is read, kills and
// resumes, line-splitting edge cases and a worker that runs out of memory.
describe('streaming batch tools', () => {
  const spawnCli = (args: string[]) => spawn(process.execPath, [CLI, ...args], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = (p: ChildProcess) => new Promise<number | null>((ok) => p.on('exit', (code) => ok(code)));
  const rssMiB = (pid: number) => {
    try {
      return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
    } catch {
      return 0;
    }
  };

  // the 1M-line case (RNN_WASM_STREAM_LINES sets another count)
  const N = Number(process.env.RNN_WASM_STREAM_LINES ?? 1_000_000);
  it(`${N} lines through a pipe: first records come out while input is still being written, RSS stays below 300 MiB, every line answered in order`, async () => {
    const p = spawnCli(['classify', 'cls.rnnw', '--workers', '2']);
    let written = 0;
    let writtenAtFirstOutput = -1;
    let maxRss = 0;
    const out: Buffer[] = [];
    p.stdout!.on('data', (d: Buffer) => {
      if (writtenAtFirstOutput < 0) writtenAtFirstOutput = written;
      out.push(d);
    });
    let err = '';
    p.stderr!.on('data', (d) => (err += d));
    const sampler = setInterval(() => (maxRss = Math.max(maxRss, rssMiB(p.pid!))), 50);
    const code = exited(p);
    for (let i = 0; i < N; i += 1000) {
      let chunk = '';
      for (let k = i; k < Math.min(N, i + 1000); k++) chunk += JSON.stringify({ id: `r${k}`, text: words[k % 6].repeat(1 + (k % 5)) }) + '\n';
      if (!p.stdin!.write(chunk)) await new Promise((r) => p.stdin!.once('drain', r));
      written = Math.min(N, i + 1000);
    }
    p.stdin!.end();
    expect(await code, err).toBe(0);
    clearInterval(sampler);
    expect(writtenAtFirstOutput).toBeGreaterThan(0);
    expect(writtenAtFirstOutput).toBeLessThan(N / 4);
    expect(maxRss).toBeGreaterThan(20);
    expect(maxRss).toBeLessThan(300);
    const lines = Buffer.concat(out).toString('utf8').trimEnd().split('\n');
    expect(lines.length).toBe(N);
    const clf = SequenceClassifier.deserialize(readFileSync(file('cls.rnnw')));
    const want = clf.predict(words.flatMap((w) => [1, 2, 3, 4, 5].map((r) => w.repeat(r))));
    clf.dispose();
    for (let k = 0; k < N; k += 997) {
      const o = JSON.parse(lines[k]);
      expect(o.id).toBe(`r${k}`);
      expect(o.probs.A).toBeCloseTo(want[(k % 6) * 5 + (k % 5)][0], 5);
    }
  }, 180_000);

  it('SIGKILL at 10 random points of progress, each followed by --resume: the output is byte-identical to an uninterrupted run', async () => {
    const lines: string[] = [];
    for (let n = 1; n <= 40_000; n++) lines.push(n % 777 === 0 ? '{"id": broken' : JSON.stringify({ id: n, text: words[n % 6].repeat(1 + (n % 7)) }) + (n % 5 === 0 ? '\r' : ''));
    writeFileSync(file('resume.jsonl'), lines.join('\n') + '\n');
    const args = ['classify', 'cls.rnnw', 'resume.jsonl', '--workers', '2', '--batch', '16'];
    const ref = spawnSync(process.execPath, [CLI, ...args, '--output', 'ref.jsonl'], { cwd: dir, encoding: 'utf8' });
    expect(ref.status, ref.stderr).toBe(0);
    const reference = readFileSync(file('ref.jsonl'));
    expect(reference.toString().split('\n').length).toBe(40_001);
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    // kill when the output has reached 10 random, increasing fractions of the reference size
    const targets = Array.from({ length: 10 }, () => 0.05 + 0.9 * rand()).sort((a, b) => a - b).map((f) => Math.floor(f * reference.length));
    const partial: number[] = [];
    const size = () => (existsSync(file('resumed.jsonl')) ? statSync(file('resumed.jsonl')).size : 0);
    for (const target of targets) {
      const p = spawnCli([...args, '--output', 'resumed.jsonl', '--resume']);
      const code = exited(p);
      while (size() < target) await new Promise((r) => setTimeout(r, 5));
      p.kill('SIGKILL');
      await code;
      partial.push(readFileSync(file('resumed.jsonl')).toString().split('\n').length - 1);
    }
    const last = spawnSync(process.execPath, [CLI, ...args, '--output', 'resumed.jsonl', '--resume'], { cwd: dir, encoding: 'utf8' });
    expect(last.status, last.stderr).toBe(0);
    expect(last.stderr).toMatch(/answered by the earlier run/);
    // the kills came mid-run: the file grew between them and was never complete
    expect(partial.filter((n) => n > 0 && n < 40_000).length, String(partial)).toBeGreaterThanOrEqual(8);
    expect(new Set(partial).size, String(partial)).toBeGreaterThanOrEqual(8);
    expect(readFileSync(file('resumed.jsonl')).equals(reference)).toBe(true);
    // an existing output without --resume is refused (exit 2), not overwritten
    const refuse = spawnSync(process.execPath, [CLI, ...args, '--output', 'ref.jsonl'], { cwd: dir, encoding: 'utf8' });
    expect(refuse.status).toBe(2);
    expect(refuse.stderr).toMatch(/Expected a new --output file or --resume, got ref.jsonl with \d+ bytes/);
    expect(readFileSync(file('ref.jsonl')).equals(reference)).toBe(true);
  }, 120_000);

  it('translate resumes too: plain-text lines (the record copies the text), killed twice, byte-identical to an uninterrupted run', async () => {
    await init();
    const m = Seq2Seq.fromPairs([['abc', 'cba'], ['hgfe', 'efgh']], { hidden: 16, embedding: 8, seed: 2 });
    writeFileSync(file('s2s.rnnw'), m.serialize());
    m.dispose();
    const lines = Array.from({ length: 4000 }, (_, i) => 'abcdefgh'.slice(i % 5, 2 + ((i * 7) % 7)) || 'h');
    writeFileSync(file('s2s.txt'), lines.join('\n') + '\n');
    const args = ['translate', 's2s.rnnw', 's2s.txt', '--format', 'text', '--beam', '2', '--workers', '2', '--batch', '16'];
    const ref = spawnSync(process.execPath, [CLI, ...args, '--output', 't-ref.jsonl'], { cwd: dir, encoding: 'utf8' });
    expect(ref.status, ref.stderr).toBe(0);
    const reference = readFileSync(file('t-ref.jsonl'));
    expect(JSON.parse(reference.toString().split('\n')[9])).toMatchObject({ id: 10, line: 10, text: lines[9] });
    const size = () => (existsSync(file('t-out.jsonl')) ? statSync(file('t-out.jsonl')).size : 0);
    for (const f of [0.3, 0.7]) {
      const p = spawnCli([...args, '--output', 't-out.jsonl', '--resume']);
      const code = exited(p);
      while (size() < f * reference.length) await new Promise((r) => setTimeout(r, 5));
      p.kill('SIGKILL');
      await code;
      expect(size()).toBeLessThan(reference.length);
    }
    const last = spawnSync(process.execPath, [CLI, ...args, '--output', 't-out.jsonl', '--resume'], { cwd: dir, encoding: 'utf8' });
    expect(last.status, last.stderr).toBe(0);
    expect(readFileSync(file('t-out.jsonl')).equals(reference)).toBe(true);
  }, 120_000);

  it('splits only on \\n: \\r\\n loses its \\r, a bare \\r stays in the record, a BOM is skipped, a huge line is one error record', () => {
    const lab = SequenceLabeler.deserialize(readFileSync(file('lab.rnnw')));
    const huge = JSON.stringify({ id: 'huge', text: 'ab'.repeat(3_000_000) });
    const input = '\uFEFF{"id":"a","text":"ab"}\r\n{"id":"b","text":"ba"}\n' + huge + '\n{"id":"c","text":"a\\rb"}\n{"id":"d",\r"text":"abba"}\n';
    const r = cli(['label', 'lab.rnnw', '--max-chars', '100'], input);
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(out.map((o) => o.id)).toEqual(['a', 'b', null, 'c', 'd']);
    expect(out[2]).toEqual({ line: 3, id: null, error: 'Expected a line of at most 4696 bytes on line 3, got more' });
    expect(out[0].tags).toEqual(lab.predict(['ab'])[0]);
    expect(out[3].tokens).toEqual(['a', '\r', 'b']);
    expect(out[3].tags).toEqual(lab.predict(['a\rb'])[0]);
    expect(out[4].tags).toEqual(lab.predict(['abba'])[0]);
    // plain text: the record keeps its bare \r and copies the text; ids are line numbers
    const t = cli(['label', 'lab.rnnw', '--format', 'text'], '\uFEFFab\r\nb\ra\n\nba');
    expect(t.code, t.stderr).toBe(0);
    const txt = t.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(txt.map((o) => [o.id, o.text])).toEqual([[1, 'ab'], [2, 'b\ra'], [3, ''], [4, 'ba']]);
    expect(txt[1].tags).toEqual(lab.predict(['b\ra'])[0]);
    lab.dispose();
  }, 30_000);

  it('a worker that runs out of memory fails only the record that caused it; the rest of its batch is answered', () => {
    const lines = Array.from({ length: 40 }, (_, i) => JSON.stringify({ id: `r${i}`, text: i === 17 ? 'ab'.repeat(2_000_000) : 'abba'.slice(0, 1 + (i % 4)) }));
    writeFileSync(file('oom.jsonl'), lines.join('\n') + '\n');
    const r = cli(['label', 'lab.rnnw', 'oom.jsonl', '--max-chars', '10000000', '--worker-memory', '32', '--batch', '8']);
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(out.length).toBe(40);
    expect(out[17]).toEqual({ line: 18, id: 'r17', error: expect.stringMatching(/^Expected line 18 to run within the worker's limits, got .*memory limit/) });
    const lab = SequenceLabeler.deserialize(readFileSync(file('lab.rnnw')));
    out.forEach((o, i) => {
      if (i === 17) return;
      expect(o.id).toBe(`r${i}`);
      expect(o.tags).toEqual(lab.predict([JSON.parse(lines[i]).text])[0]);
    });
    lab.dispose();
    expect(r.stderr).toMatch(/40 lines \(1 errors\)/);
  }, 60_000);

  it('two culprits among tasks queued together on one worker: only they get error records, every innocent record of the failed tasks is answered', () => {
    // --batch 4: windows of 64 lines, one task per window, and a worker holds two tasks at once,
    // so a crash fails the task it runs and the one queued behind it
    const bad = new Set([17, 150]);
    const lines = Array.from({ length: 200 }, (_, i) => JSON.stringify({ id: `r${i}`, text: bad.has(i) ? 'ab'.repeat(2_000_000) : 'abba'.slice(0, 1 + (i % 4)) }));
    writeFileSync(file('oom2.jsonl'), lines.join('\n') + '\n');
    const r = cli(['label', 'lab.rnnw', 'oom2.jsonl', '--max-chars', '10000000', '--worker-memory', '32', '--batch', '4']);
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(out.length).toBe(200);
    const lab = SequenceLabeler.deserialize(readFileSync(file('lab.rnnw')));
    const tags = new Map(['a', 'ab', 'abb', 'abba'].map((t) => [t, lab.predict([t])[0]]));
    out.forEach((o, i) => {
      if (bad.has(i)) return expect(o).toEqual({ line: i + 1, id: `r${i}`, error: expect.stringMatching(new RegExp(`^Expected line ${i + 1} to run within the worker's limits, got .*memory limit`)) });
      expect(o.id).toBe(`r${i}`);
      expect(o.tags).toEqual(tags.get(JSON.parse(lines[i]).text));
    });
    lab.dispose();
    expect(r.stderr).toMatch(/200 lines \(2 errors\)/);
  }, 60_000);
});
