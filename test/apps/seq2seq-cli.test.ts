// `rnn-wasm train-seq2seq` and `rnn-wasm translate` as users run them (the built dist/cli.js in a
// child process): a digit-reversal model trained from a TSV, then text and JSONL decoded with
// beam search — input order kept, exactly one output record per input line, bad lines answered
// by error records that name their line and id while the rest continues; repeated --model decodes
// with the ensemble (Seq2Seq.translateEnsemble), on this thread or on workers alike.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as l from '../../dist/index.js';

const CLI = resolve(__dirname, '../../dist/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'rnn-wasm-s2s-'));
const cli = (args: string[], input?: string) => {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8', input });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
};
const records = (s: string) => s.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

let trained: ReturnType<typeof cli>;
beforeAll(() => {
  let a = 3;
  const r = () => (a = (Math.imul(a, 1103515245) + 12345) >>> 0) / 4294967296;
  const lines = Array.from({ length: 3000 }, () => {
    const s = Array.from({ length: 1 + Math.floor(r() * 5) }, () => Math.floor(r() * 10)).join('');
    return `${s}\t${[...s].reverse().join('')}`;
  });
  writeFileSync(join(dir, 'rev.tsv'), lines.join('\n') + '\n');
  writeFileSync(join(dir, 'bad.tsv'), '12\t21\nno tab here\n');
  trained = cli(['train-seq2seq', '--pairs', 'rev.tsv', '--out', 'rev.rnnw', '--hidden', '32', '--embedding', '16', '--epochs', '6', '--batch', '32', '--lr', '0.01', '--json']);
}, 120_000);

describe('train-seq2seq', () => {
  it('trains from a TSV of pairs and reports the validation score of the kept parameters', () => {
    expect(trained.code).toBe(0);
    const s = JSON.parse(trained.stdout);
    expect(s.epochs).toBeGreaterThanOrEqual(1);
    expect(s.best.exactMatch).toBeGreaterThan(0.9);
    expect(trained.stderr).toMatch(/validation exact match/);
  });

  it('--steps stops at that many steps; --lr-decay and --length-pool reach fit (a decay of 1 gives a different file than 0.5)', () => {
    const run = (decay: string, out: string) => cli(['train-seq2seq', '--pairs', 'rev.tsv', '--out', out, '--hidden', '8', '--embedding', '4', '--steps', '5', '--lr-decay', decay, '--length-pool', '4', '--validation', '0', '--json']);
    const a = run('1', 'a.rnnw');
    const b = run('0.5', 'b.rnnw');
    expect(a.code).toBe(0);
    expect(JSON.parse(a.stdout).steps).toBe(5);
    expect(JSON.parse(b.stdout).steps).toBe(5);
    expect(Buffer.compare(readFileSync(join(dir, 'a.rnnw')), readFileSync(join(dir, 'b.rnnw')))).not.toBe(0);
    const bad = cli(['train-seq2seq', '--pairs', 'rev.tsv', '--out', 'x.rnnw', '--lr-decay', '2']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Expected a number in (0, 1], got 2');
  });

  it('names the line of a malformed pair (exit 1) and rejects unknown choices (exit 2)', () => {
    const bad = cli(['train-seq2seq', '--pairs', 'bad.tsv', '--out', 'x.rnnw']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('Expected "source<TAB>target" on line 2 of bad.tsv');
    const usage = cli(['train-seq2seq', '--pairs', 'rev.tsv', '--out', 'x.rnnw', '--attention', 'luong']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("option '--attention <kind>' argument 'luong' is invalid. Expected general, dot, additive, none, got luong");
    // a dropout of 1 would drop everything: refused by the parser (usage, exit 2), not by the library
    const drop = cli(['train-seq2seq', '--pairs', 'rev.tsv', '--out', 'x.rnnw', '--dropout', '1']);
    expect(drop.code).toBe(2);
    expect(drop.stderr).toContain('Expected a probability in [0, 1), got 1');
    const cell = cli(['train-seq2seq', '--pairs', 'rev.tsv', '--out', 'x.rnnw', '--cell', 'transformer']);
    expect(cell.code).toBe(2);
    expect(cell.stderr).toContain('Expected lstm, gru, rnn, mingru, minlstm, got transformer');
  });
});

describe('translate', () => {
  it('decodes JSONL in order with one record per line; bad lines become error records naming line and id', () => {
    const input = ['{"id":"a","text":"123"}', 'not json', '{"id":7,"text":"9876"}', '{"id":8}', `{"id":"long","text":"${'1'.repeat(50)}"}`, '{"id":"b","text":"4501"}'].join('\n');
    const r = cli(['translate', 'rev.rnnw', '--beam', '3', '--nbest', '2', '--max-chars', '20'], input);
    expect(r.code).toBe(0);
    const out = records(r.stdout);
    expect(out.map((o) => o.line)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(out.map((o) => o.id)).toEqual(['a', null, 7, 8, 'long', 'b']);
    expect(out[0].output).toBe('321');
    expect(out[2].output).toBe('6789');
    expect(out[5].output).toBe('1054');
    expect(out[1].error).toBe('Expected a JSON object on line 2, got invalid JSON');
    expect(out[3].error).toBe('Expected "text" to be a string on line 4 (id 8), got undefined');
    expect(out[4].error).toBe('Expected at most 20 characters on line 5 (id "long"), got 50');
    const nb = out[0].nbest as { score: number }[];
    expect(nb.length).toBe(2);
    expect(nb[0].score).toBeGreaterThanOrEqual(nb[1].score);
    expect(r.stderr).toContain('6 records, 3 errors');
  });

  it('reads plain text lines (id = line number), small batches keep the order, and --attention adds the weights', () => {
    const r = cli(['translate', 'rev.rnnw', '--format', 'text', '--batch', '2', '--attention'], '12\n\n345\n9\n');
    const out = records(r.stdout);
    expect(out.map((o) => [o.id, o.output ?? o.error])).toEqual([[1, '21'], [2, 'Expected at least one source token on line 2 (id 2), got none'], [3, '543'], [4, '9']]);
    expect((out[2].attention as number[][]).length).toBe(4);
    expect(cli(['translate', 'rev.rnnw', '--beam', '2', '--nbest', '3'], '1\n').code).toBe(2);
  });

  it('--workers 2 writes exactly the --workers 1 output, line for line, error records included', () => {
    const lines = Array.from({ length: 150 }, (_, i) => (i === 40 ? 'not json' : i === 90 ? '{"id":90}' : JSON.stringify({ id: `r${i}`, text: String(1 + ((i * 7919) % 99999)) })));
    const args = ['translate', 'rev.rnnw', '--beam', '3', '--nbest', '2', '--batch', '8', '--attention'];
    const one = cli([...args, '--workers', '1'], lines.join('\n') + '\n');
    const two = cli([...args, '--workers', '2'], lines.join('\n') + '\n');
    expect(two.code, two.stderr).toBe(0);
    expect(two.stdout.split('\n')).toEqual(one.stdout.split('\n'));
    const out = records(two.stdout);
    expect(out.map((o) => o.line)).toEqual(lines.map((_, i) => i + 1));
    expect(out[40]).toEqual({ id: null, line: 41, error: 'Expected a JSON object on line 41, got invalid JSON' });
    expect(out[90]).toEqual({ id: 90, line: 91, error: 'Expected "text" to be a string on line 91 (id 90), got undefined' });
    // the trained model reverses most of them (the outputs are real decodes, not placeholders)
    const ok = out.filter((o, i) => o.output !== undefined && o.output === [...JSON.parse(lines[i]).text].reverse().join(''));
    expect(ok.length).toBeGreaterThan(120);
    expect(two.stderr).toContain('150 records, 2 errors');
  });
});

describe('translate with an ensemble (--ensemble, or --model repeated)', () => {
  it('equals Seq2Seq.translateEnsemble of the same files, on one thread and on 2 workers; other vocabularies are refused', async () => {
    const second = cli(['train-seq2seq', '--pairs', 'rev.tsv', '--out', 'rev2.rnnw', '--hidden', '16', '--embedding', '8', '--steps', '60', '--batch', '32', '--lr', '0.01', '--validation', '0', '--seed', '2', '--json']);
    expect(second.code, second.stderr).toBe(0);
    const texts = Array.from({ length: 40 }, (_, i) => String(1 + ((i * 7919) % 99999)));
    const args = ['translate', 'rev.rnnw', '--ensemble', 'rev2.rnnw', '--format', 'text', '--beam', '3', '--nbest', '2', '--batch', '8'];
    const one = cli([...args, '--workers', '1'], texts.join('\n') + '\n');
    const two = cli([...args, '--workers', '2'], texts.join('\n') + '\n');
    expect(one.code, one.stderr).toBe(0);
    expect(two.code, two.stderr).toBe(0);
    expect(two.stdout).toBe(one.stdout);
    // the older spelling: the model files as --model options, the input as the only argument
    writeFileSync(join(dir, 'ens-input.txt'), texts.join('\n') + '\n');
    const old = cli(['translate', '--model', 'rev.rnnw', '--model', 'rev2.rnnw', 'ens-input.txt', '--format', 'text', '--beam', '3', '--nbest', '2', '--batch', '8', '--workers', '1']);
    expect(old.code, old.stderr).toBe(0);
    expect(old.stdout).toBe(one.stdout);
    const both = cli(['translate', '--model', 'rev.rnnw', 'rev2.rnnw', 'ens-input.txt']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('Expected one input file after --model (the model option; or give the model as the first argument), got rev2.rnnw and ens-input.txt');
    expect(cli(['translate'], '12\n').stderr).toContain('Expected a model file as the first argument (translate MODEL [INPUT]), got none');
    await l.init();
    const members = await Promise.all(['rev.rnnw', 'rev2.rnnw'].map((f) => l.Seq2Seq.load(join(dir, f))));
    const want = l.Seq2Seq.translateEnsemble(members, texts, { beam: 3, nbest: 2, batchSize: 8 });
    const alone = members[0].translate(texts, { beam: 3, nbest: 2, batchSize: 8 });
    const got = records(one.stdout);
    expect(got.map((o) => o.output)).toEqual(want.map((t) => t.text));
    expect(got.map((o) => o.score)).toEqual(want.map((t) => t.score));
    // the second model changes the scores: the ensemble is not the first model alone
    expect(got.map((o) => o.score)).not.toEqual(alone.map((t) => t.score));
    for (const m of members) m.dispose();
    // a model over other tokens cannot join
    writeFileSync(join(dir, 'letters.tsv'), 'ab\tba\ncd\tdc\n');
    expect(cli(['train-seq2seq', '--pairs', 'letters.tsv', '--out', 'letters.rnnw', '--hidden', '4', '--embedding', '2', '--steps', '2', '--validation', '0']).code).toBe(0);
    const bad = cli(['translate', 'rev.rnnw', '--ensemble', 'letters.rnnw', '--format', 'text'], '12\n');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("Expected every member to have the first one's source vocabulary, got another in members[1]");
  }, 60_000);
});
