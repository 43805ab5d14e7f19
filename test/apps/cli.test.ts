// The generator and forecaster commands as users run them (the built dist/cli.js in a child
// process): train-generator → generate keeps to the asked class; Ctrl-C in train-forecaster writes
// a checkpoint and --resume to the same total gives the uninterrupted run's file byte for byte;
// usage mistakes exit 2 and failures 1, each with one line.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const CLI = resolve(__dirname, '../../dist/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'rnn-wasm-apps-cli-'));
const file = (name: string) => join(dir, name);
function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`Expected the built CLI at ${CLI} (run npm run build), got none`);
  const lines = Array.from({ length: 32 }, (_, i) => JSON.stringify({ text: (i % 2 ? 'yx' : 'xy').repeat(1 + (i % 3)), condition: i % 2 ? 'yx' : 'xy' }));
  writeFileSync(file('pairs.jsonl'), lines.join('\n') + '\n');
  writeFileSync(file('bad.jsonl'), '{"text":"xy","condition":"xy"}\nnot json\n');
  const rows = Array.from({ length: 400 }, (_, t) => `${(10 + 3 * Math.sin((2 * Math.PI * t) / 7)).toFixed(4)},${t % 7}`);
  writeFileSync(file('series.csv'), 'value,weekday\n' + rows.join('\n') + '\n');
});

describe('train-generator and generate', () => {
  it('a generator trained on two classes generates each class\'s pattern', () => {
    const t = cli('train-generator', '--data', 'pairs.jsonl', '--hidden', '24', '--embedding', '8', '--steps', '150', '--batch', '16', '--lr', '0.02', '--validation', '0', '--quiet', '--out', 'gen.rnnw', '--json');
    expect(t.stderr).not.toMatch(/Error/);
    expect(t.code).toBe(0);
    expect(JSON.parse(t.stdout)).toMatchObject({ steps: 150, totalSteps: 150, stopped: 'steps', classes: ['xy', 'yx'] });
    const g = cli('generate', 'gen.rnnw', '--condition', 'yx', '--count', '20', '--temperature', '0.5', '--seed', '3', '--json');
    expect(g.code).toBe(0);
    const { texts } = JSON.parse(g.stdout) as { texts: string[] };
    expect(texts.filter((s) => /^(yx)+$/.test(s)).length).toBeGreaterThanOrEqual(18);
    const again = cli('generate', 'gen.rnnw', '--condition', 'yx', '--count', '20', '--temperature', '0.5', '--seed', '3');
    expect(again.stdout.trim().split('\n')).toEqual(texts);
    const guided = cli('generate', 'gen.rnnw', '--condition', 'yx', '--count', '20', '--seed', '3', '--guidance', '1', '--contrast', 'xy', '--json');
    expect(guided.code).toBe(0);
    expect((JSON.parse(guided.stdout) as { texts: string[] }).texts.filter((s) => /^(yx)+$/.test(s)).length).toBeGreaterThanOrEqual(18);
    const badGuidance = cli('generate', 'gen.rnnw', '--condition', 'yx', '--guidance', '-1');
    expect(badGuidance.code).toBe(2);
  });

  it('info reads a graph model file: the application, its inputs, outputs, nodes and parameter count', () => {
    const r = cli('info', 'gen.rnnw', '--json');
    expect(r.code).toBe(0);
    const i = JSON.parse(r.stdout) as { application: string; graph: { inputs: string[]; outputs: string[]; nodes: string[] }; parameters: number; vocabularySize: number };
    expect(i.application).toBe('generator');
    expect(i.graph.inputs.sort()).toEqual(['cond', 'x']);
    expect(i.graph.outputs).toEqual(['logits']);
    expect(i.graph.nodes).toContain('rnn = lstm(hiddenSize=24, numLayers=1, mergeMode=concat, bias=true, dropout=0, cellClip=0)');
    expect(i.parameters).toBeGreaterThan(0);
    expect(i.vocabularySize).toBe(3);
    expect(cli('info', 'gen.rnnw').stdout).toMatch(/^application: generator$/m);
  });

  it('exit codes: an unknown class and a malformed data line are failures (1), a missing budget is usage (2)', () => {
    const unknown = cli('generate', 'gen.rnnw', '--condition', 'zz');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim()).toBe('rnn-wasm: ValueError: Expected condition to be one of "xy", "yx", got "zz"');
    const bad = cli('train-generator', '--data', 'bad.jsonl', '--steps', '1', '--out', 'x.rnnw');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/Expected JSON on line 2 of bad.jsonl/);
    const usage = cli('train-forecaster', '--data', 'series.csv', '--out', 'x.rnnw');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/Expected a budget/);
    expect(existsSync(file('x.rnnw'))).toBe(false);
  });
});

describe('train-forecaster and forecast', () => {
  const ARGS = ['--data', 'series.csv', '--window', '14', '--horizon', '7', '--hidden', '8', '--batch', '8', '--validation', '0', '--seed', '2'];
  const STEPS = '6000';

  // 6,000 steps (about 1.5 s on a quiet machine, 400 took 0.1 s): the signal must land mid-run
  it('SIGINT writes a checkpoint and exits 0; --resume to the same total gives the uninterrupted run’s file byte for byte', async () => {
    const full = cli('train-forecaster', ...ARGS, '--steps', STEPS, '--quiet', '--out', 'full.rnnw');
    expect(full.code).toBe(0);
    const cut = await new Promise<{ code: number; stderr: string }>((done) => {
      const child = spawn(process.execPath, [CLI, 'train-forecaster', ...ARGS, '--steps', STEPS, '--out', 'cut.rnnw'], { cwd: dir });
      let stderr = '';
      child.stderr.on('data', (d) => {
        stderr += d;
        if (/step [1-9]\d*\/6000/.test(stderr) && !child.killed) child.kill('SIGINT');
      });
      child.on('close', (code) => done({ code: code ?? -1, stderr }));
    });
    expect(cut.code).toBe(0);
    const at = Number(/checkpoint at step (\d+)/.exec(cut.stderr)?.[1]);
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThan(6000);
    const res = cli('train-forecaster', '--data', 'series.csv', '--resume', 'cut.rnnw', '--steps', STEPS, '--quiet', '--json');
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ steps: 6000 - at, totalSteps: 6000 });
    expect(Buffer.compare(readFileSync(file('cut.rnnw')), readFileSync(file('full.rnnw')))).toBe(0);
    const changed = cli('train-forecaster', '--data', 'series.csv', '--resume', 'cut.rnnw', '--steps', '410', '--window', '10');
    expect(changed.code).toBe(2);
    expect(changed.stderr).toMatch(/Expected --window 14 \(the checkpoint's\), got 10/);
  });

  it('forecast prints the horizon in the series\' units and --evaluate scores every forecast', () => {
    const f = cli('forecast', 'full.rnnw', '--input', 'series.csv', '--json');
    expect(f.code).toBe(0);
    const { forecast } = JSON.parse(f.stdout) as { forecast: number[][] };
    expect(forecast.length).toBe(7);
    // the series' next week: 10 + 3 sin(2π t / 7) for t = 400 … 406
    forecast.forEach((row, h) => expect(Math.abs(row[0] - (10 + 3 * Math.sin((2 * Math.PI * (400 + h)) / 7)))).toBeLessThan(1));
    const e = cli('forecast', 'full.rnnw', '--input', 'series.csv', '--evaluate', '--json');
    const r = JSON.parse(e.stdout) as { mae: number; windows: number };
    expect(r.windows).toBe(400 - 14 - 7 + 1);
    expect(r.mae).toBeLessThan(1);
  });
});
