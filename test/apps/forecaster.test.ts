// Forecaster on a synthetic weekly-seasonal series with noise: both modes must beat the
// seasonal-naive forecast (which copies one noisy week), scaling and the training state must
// survive save/load (forecasts bit-identical; a resumed run equals an uninterrupted one), and bad
// input is refused by name without changing the model.
import { beforeAll, describe, expect, it } from 'vitest';
import { init, Forecaster, ValueError, FormatError } from '../../src/index';
import { Rng } from '../../src/params/rng';

/** level + weekly pattern + N(0, 1) noise, n days. */
function seasonal(n: number, level: number, seed: number): number[] {
  const rng = new Rng(seed);
  const week = [0, 2, 3, 2.5, 1, -4, -5];
  return Array.from({ length: n }, (_, t) => level + 2 * week[t % 7] + rng.normal());
}

/** MAE of forecasting each day by the same weekday of the last observed week. */
function seasonalNaive(y: number[], from: number, horizon: number): number {
  let abs = 0;
  let n = 0;
  for (let s = from; s + horizon <= y.length; s++) {
    for (let h = 0; h < horizon; h++) {
      abs += Math.abs(y[s - 7 + (h % 7)] - y[s + h]);
      n++;
    }
  }
  return abs / n;
}

beforeAll(async () => {
  await init();
});

describe('Forecaster', () => {
  const train = seasonal(700, 50, 1);
  const test = seasonal(200, 50, 2);

  it.each(['many-to-one', 'many-to-many'] as const)('%s beats the seasonal-naive forecast on held-out weeks by more than a fifth', async (mode) => {
    const f = new Forecaster({ window: 28, horizon: 7, mode, hidden: 24, seed: 3 });
    const r = await f.train(train, { steps: 200, batchSize: 32, lr: 1e-2, validation: 0.1 });
    expect(r.stopped).toBe('steps');
    expect(r.validationLoss!).toBeLessThan(r.initialValidationLoss!);
    const { mae, windows } = f.evaluate(test);
    const naive = seasonalNaive(test, 28, 7);
    expect(windows).toBe(200 - 28 - 7 + 1);
    expect(naive).toBeGreaterThan(1); // ≈ E|N(0,2)| = 1.13
    expect(mae).toBeLessThan(0.8 * naive);
    f.dispose();
  });

  it('encoder-decoder reads the known columns of the forecast days: holidays it is told about are forecast low', async () => {
    // columns: value, weekday sin/cos, holiday flag (known in advance); a holiday drops the value by 12
    const series = (n: number, seed: number): number[][] => {
      const rng = new Rng(seed);
      const base = seasonal(n, 50, seed + 10);
      return base.map((v, t) => {
        const holiday = rng.uniform() < 0.08 ? 1 : 0;
        return [v - 12 * holiday, Math.sin((2 * Math.PI * t) / 7), Math.cos((2 * Math.PI * t) / 7), holiday];
      });
    };
    const train = series(900, 7);
    const test = series(250, 8);
    const f = new Forecaster({ features: 4, targets: [0], known: [1, 2, 3], mode: 'encoder-decoder', window: 28, horizon: 7, hidden: 16, seed: 2 });
    const r = await f.train(train, { steps: 250, batchSize: 32, lr: 1e-2, validation: 0.1 });
    expect(r.validationLoss!).toBeLessThan(r.initialValidationLoss!);
    const y = test.map((row) => row[0]);
    const { mae, windows } = f.evaluate(test);
    expect(windows).toBe(250 - 28 - 7 + 1);
    expect(mae).toBeLessThan(0.5 * seasonalNaive(y, 28, 7)); // naive pays for every holiday twice
    // the same history, told the first forecast day is (or is not) a holiday
    const history = test.slice(100, 128);
    const ahead = test.slice(128, 135).map((row) => row.slice(1));
    const plain = f.forecast(history, ahead.map((row) => [row[0], row[1], 0]));
    const holiday = f.forecast(history, ahead.map((row, h) => [row[0], row[1], h === 0 ? 1 : 0]));
    expect(plain.length).toBe(7);
    expect(plain[0][0] - holiday[0][0]).toBeGreaterThan(6);
    expect(Math.abs(plain[4][0] - holiday[4][0])).toBeLessThan(3);
    // forecastAt reads the same future from the series; save/load keeps every forecast bit for bit
    const at = f.forecastAt(test, [128])[0];
    expect(at).toEqual(f.forecast(history, ahead));
    const g = Forecaster.deserialize(f.serialize());
    expect(g.config.known).toEqual([1, 2, 3]);
    expect(g.forecast(history, ahead)).toEqual(at);
    // refused by name, the model untouched
    expect(() => f.forecast(history)).toThrow(/Expected future: 7 rows of the known columns \[1, 2, 3\], got none/);
    expect(() => f.forecast(history, ahead.slice(1))).toThrow(/Expected future of at least 7 steps, got 6/);
    expect(() => f.forecast(history, [...ahead, ahead[0]])).toThrow(/Expected future of 7 rows \(the horizon\), got 8/);
    expect(() => f.forecast(history, ahead.map((row) => row.slice(1)))).toThrow(/Expected future\[0\] to have 3 values, got 2/);
    expect(() => f.forecastAt(test, [244])).toThrow(/Expected starts\[0\] in \[28, 243\], got 244/);
    expect(g.forecast(history, ahead)).toEqual(at);
    f.dispose();
    g.dispose();
  });

  it('known columns come exactly with mode encoder-decoder; files without them stay version 1', () => {
    expect(() => new Forecaster({ features: 3, known: [1] })).toThrow(/Expected known columns exactly with mode 'encoder-decoder', got mode 'many-to-one' and known \[1\]/);
    expect(() => new Forecaster({ features: 3, mode: 'encoder-decoder' })).toThrow(/Expected known columns exactly with mode 'encoder-decoder'/);
    expect(() => new Forecaster({ features: 3, mode: 'encoder-decoder', known: [0] })).toThrow(/Expected known to be distinct column indices in \[0, 3\) other than the targets, got \[0\]/);
    expect(() => new Forecaster({ features: 3, mode: 'encoder-decoder', known: [1, 3] })).toThrow(ValueError);
    const f = new Forecaster({ window: 7, horizon: 2, hidden: 4 });
    expect(() => f.forecast([1, 2, 3, 4, 5, 6, 7], [1, 2])).toThrow(/Expected no future rows/);
    f.dispose();
  });

  it('stores its scaling: forecasts are in the series units and identical after save/load', async () => {
    const y = seasonal(300, 1000, 4).map((v) => [v, v * 10]); // two features, forecasting the second
    const f = new Forecaster({ features: 2, targets: [1], window: 14, horizon: 3, hidden: 8, seed: 1 });
    await f.train(y, { steps: 20, batchSize: 16, validation: 0 });
    const s = f.scaling!;
    expect(s.kind).toBe('standard');
    expect(s.shift[0]).toBeCloseTo(y.reduce((a, r) => a + r[0], 0) / y.length, 6);
    expect(s.shift[1]).toBeCloseTo(10 * s.shift[0], 4);
    const fc = f.forecast(y.slice(-14));
    expect(fc.length).toBe(3);
    for (const row of fc) expect(Math.abs(row[0] - 10_000)).toBeLessThan(200); // unscaled to the target's units
    const bytes = f.serialize();
    expect(new TextDecoder().decode(bytes)).toContain('"forecaster":{"version":1,'); // readable by version-1 readers
    const g = Forecaster.deserialize(bytes);
    expect(g.scaling).toEqual(s);
    expect(g.config).toEqual(f.config);
    expect(g.forecast(y.slice(-14))).toEqual(fc);
    f.dispose();
    g.dispose();
  });

  it('a run interrupted by save/load continues bit for bit (level: window)', async () => {
    const o = { window: 14, horizon: 7, hidden: 8, level: 'window' as const, seed: 5 };
    const a = new Forecaster(o);
    await a.train(train, { steps: 30, batchSize: 16, lr: 5e-3 });
    const b0 = new Forecaster(o);
    await b0.train(train, { steps: 12, batchSize: 16, lr: 5e-3 });
    const b = Forecaster.deserialize(b0.serialize());
    b0.dispose();
    expect(b.step).toBe(12);
    await expect(b.train(train, { steps: 18, lr: 1e-3 })).rejects.toThrow(/Expected lr 0.005/);
    await b.train(train, { steps: 18 });
    expect(b.step).toBe(30);
    expect(b.model.stateDict()).toEqual(a.model.stateDict());
    a.dispose();
    b.dispose();
  });

  it('early stopping (common EarlyStopping) stops on a validation loss that no longer improves and restores the best parameters', async () => {
    const f = new Forecaster({ window: 14, horizon: 7, hidden: 8, seed: 1 });
    const r = await f.train(train, { steps: 300, batchSize: 16, lr: 0.3, evalEvery: 2, patience: 2, validation: 0.2 });
    expect(r.stopped).toBe('patience');
    expect(r.steps).toBeLessThan(300);
    expect(r.validationLoss).toBe(r.bestValidationLoss);
    f.dispose();
  });

  it('refuses bad options and series by name, before changing anything', async () => {
    expect(() => new Forecaster({ targets: [2], features: 2 })).toThrow(/Expected targets to be distinct column indices in \[0, 2\)/);
    expect(() => new Forecaster({ mode: 'many' as never })).toThrow(ValueError);
    expect(() => new Forecaster({ windw: 3 } as never)).toThrow(/unknown key windw/);
    const f = new Forecaster({ window: 7, horizon: 2, hidden: 4 });
    expect(() => f.forecast(train)).toThrow(/Expected a trained forecaster/);
    await expect(f.train([1, 2, 3], { steps: 1 })).rejects.toThrow(/Expected series of at least 9 steps, got 3/);
    await expect(f.train([...train.slice(0, 20), NaN], { steps: 1 })).rejects.toThrow(/Expected finite numbers in series, got NaN at \[20\]\[0\]/);
    await expect(f.train(train, {})).rejects.toThrow(/Expected a budget/);
    expect(f.scaling).toBeNull();
    expect(f.step).toBe(0);
    await f.train(train, { steps: 1 });
    expect(() => f.forecast(train.slice(0, 6))).toThrow(/Expected history of at least 7 steps, got 6/);
    expect(() => f.evaluate(train, { from: 3 })).toThrow(/Expected from in \[7, 698\]/);
    const bytes = f.serialize();
    bytes[bytes.length - 1] ^= 1;
    expect(() => Forecaster.deserialize(bytes)).toThrow(FormatError);
    f.dispose();
  });
});
