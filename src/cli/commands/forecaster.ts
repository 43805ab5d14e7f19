// rnn-wasm train-forecaster | forecast: a time-series Forecaster trained on a numeric CSV or
// builtin:births, and forecasting (or evaluating every forecast over a series) with it.
import type { Command } from 'commander';
import type { CellKind, Forecaster } from '../../index';
import { int8Flag, library, parse, recurrentFlags, sizeOptions, UsageError, type CliCommand } from '../frame';
import { births, readCsv } from '../datasets';
import { checkArch, runSettings, trainAndSave, trainFlags } from './app-train';

/** The architecture flags a checkpoint fixes (flag → config key). */
const ARCH: [string, string][] = [
  ['window', 'window'], ['horizon', 'horizon'], ['mode', 'mode'], ['cell', 'cell'], ['layers', 'numLayers'], ['hidden', 'hiddenSize'], ['scaling', 'scaling'], ['level', 'level'],
];

/** The series of a --data / --input value; builtin:births' training part ends before 1987. */
async function series(spec: string): Promise<{ rows: number[][]; name: string; testFrom?: number }> {
  if (spec === 'builtin:births') {
    const b = births();
    return { rows: b.rows, testFrom: b.testFrom, name: `US daily births 1969–1988 (${b.rows.length} days; training part: before 1987)` };
  }
  if (spec.startsWith('builtin:')) throw new UsageError(`Expected a built-in series among builtin:births, got ${spec}`);
  return { rows: await readCsv(spec), name: spec };
}

const columns = (v: string): number[] => {
  const cols = v.split(',').map((s) => Number(s.trim()));
  if (!cols.length || cols.some((c) => !Number.isInteger(c) || c < 0)) throw new UsageError(`Expected --targets as column indices like 0 or 0,2, got ${v}`);
  return cols;
};

export const trainForecaster: CliCommand = {
  name: 'train-forecaster',
  summary: 'train a time-series forecaster (the next --horizon steps from the previous --window)',
  define(cmd: Command) {
    cmd
      .requiredOption('--data <file>', 'CSV of numeric rows (one per time step; a header line is skipped), or builtin:births')
      .option('--targets <cols>', 'columns to forecast, e.g. 0 or 0,2', '0')
      .option('--window <n>', 'steps of history per forecast', parse.int(1), 56)
      .option('--horizon <n>', 'steps forecast', parse.int(1), 14)
      .option('--mode <mode>', 'many-to-one or many-to-many', parse.oneOf(['many-to-one', 'many-to-many'] as const), 'many-to-one')
      .option('--scaling <kind>', 'standard, minmax or none (fitted on the training part, stored in the model)', parse.oneOf(['standard', 'minmax', 'none'] as const), 'standard')
      .option('--level <kind>', 'window (forecast relative to each window\'s mean) or none', parse.oneOf(['window', 'none'] as const), 'none')
      .option('--validation <fraction>', 'held-out fraction at the end of the training part', parse.number(0, 0.99), 0.1);
    recurrentFlags(cmd, { hidden: 64 });
    trainFlags(cmd, { batch: 64, lr: 0.002 }).addHelpText('after', '\nExample:\n  rnn-wasm train-forecaster --data builtin:births --level window --epochs 20 --patience 5 --out births.rnnw\n  rnn-wasm forecast births.rnnw --input builtin:births --evaluate');
  },
  async run(ctx, _args, o, cmd) {
    const given = (name: string) => cmd.getOptionValueSource(name) === 'cli';
    const { out, settings } = runSettings(o, given);
    const data = await series(o.data as string);
    const rows = data.testFrom === undefined ? data.rows : data.rows.slice(0, data.testFrom);
    const { Forecaster } = await library();
    let f: Forecaster;
    if (o.resume) {
      f = await Forecaster.load(o.resume as string);
      checkArch(given, o, f.config as unknown as Record<string, unknown>, ARCH);
    } else {
      f = new Forecaster({
        features: rows[0].length, targets: columns(o.targets as string), window: o.window as number, horizon: o.horizon as number, mode: o.mode as 'many-to-one',
        cell: o.cell as CellKind, ...sizeOptions(o), scaling: o.scaling as 'standard', level: o.level as 'none', seed: o.seed as number,
      });
    }
    try {
      ctx.err(`training a ${f.config.mode} ${f.config.cell} ${f.config.numLayers}×${f.config.hiddenSize} forecaster (${f.model.numParameters} parameters; ${f.config.window} → ${f.config.horizon} steps) on ${data.name}; from step ${f.step}`);
      return await trainAndSave(ctx, o, f, out, (hooks) => f.train(rows, { ...settings, ...hooks, validation: !o.resume || given('validation') ? (o.validation as number) : undefined }), () => ({ parameters: f.model.numParameters, scaling: f.scaling }));
    } finally {
      f.dispose();
    }
  },
};

export const forecast: CliCommand = {
  name: 'forecast',
  summary: 'forecast the steps after a series (or, with --evaluate, score every forecast over it)',
  define(cmd) {
    cmd
      .argument('<model>', 'model file written by train-forecaster')
      .requiredOption('--input <file>', 'CSV of numeric rows (at least the window; the last rows are read), or builtin:births')
      .option('--evaluate', 'mean absolute and root-mean-square error of every forecast inside the series')
      .option('--from <n>', 'with --evaluate: first forecast step (default: the window; builtin:births: 1987-01-01)', parse.int(0));
    int8Flag(cmd);
  },
  async run(ctx, [path], o) {
    const { Forecaster, quantize } = await library();
    const f = await Forecaster.load(path);
    try {
      if (o.int8) quantize(f, { weights: 'int8' });
      const data = await series(o.input as string);
      if (o.evaluate) {
        const from = (o.from as number | undefined) ?? data.testFrom;
        const r = f.evaluate(data.rows, from === undefined ? {} : { from });
        ctx.out(ctx.json ? JSON.stringify(r) : `${r.windows} forecasts: MAE ${r.mae.toFixed(3)}, RMSE ${r.rmse.toFixed(3)}`);
      } else {
        const fc = f.forecast(data.rows);
        ctx.out(ctx.json ? JSON.stringify({ forecast: fc }) : fc.map((r) => r.map((v) => +v.toFixed(4)).join(',')).join('\n'));
      }
      return 0;
    } finally {
      f.dispose();
    }
  },
};
