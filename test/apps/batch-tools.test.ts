// The CLI's application commands as users run them (the built dist/cli.js in a child process):
// train-classifier/train-labeler write model files; classify/label stream JSONL with exactly one
// output record per input line, in input order, error records for bad lines, on 1 or 2 workers.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { init } from '../../src/wasm/load';
import { SequenceClassifier } from '../../src/apps/classifier/index';
import { SequenceLabeler } from '../../src/apps/labeler/index';

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
  });
});
