// onNonFinite on graph training, as on a layer's: a step whose gradients or updated parameters are
// NaN/±Inf throws a NonFiniteError (default) or, with 'skip', returns skipped: true — either way the
// parameters, the optimizer (step and moments) and the dropout generator are as before the call,
// also when the failure comes in a later chunk of a truncated-BPTT step; a chain graph reports the
// loss Sequential reports for the skipped step.
import { beforeAll, describe, expect, it } from 'vitest';
import { init, graph, GraphModel, Sequential, layers, Tensor, Adam, NonFiniteError, ValueError } from '../../src/index';
import { randArray } from '../model/helpers';

beforeAll(async () => {
  await init();
});

const I = 3, H = 4, O = 2, T = 6, B = 2;
const hex = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');

function pair(): { seq: Sequential; g: GraphModel } {
  const seq = new Sequential([layers.gru({ inputSize: I, hiddenSize: H }), layers.dropout({ p: 0.3 }), layers.linear({ inFeatures: H, outFeatures: O })], { seed: 6 });
  const x = graph.input('x', { type: 'float', features: I });
  const r = graph.gru(x, { hiddenSize: H, name: 'gru' });
  const y = graph.linear(graph.dropout(r.output, { p: 0.3, name: 'drop' }), { outFeatures: O, name: 'out' });
  return { seq, g: new GraphModel({ inputs: [x], outputs: { y }, seed: 6 }) };
}

describe('graph trainStep onNonFinite', () => {
  it("'throw' and 'skip' leave parameters, optimizer and dropout generator as before (whole batch and a later tbptt chunk), with Sequential's loss", () => {
    const { seq, g } = pair();
    const xs = new Tensor(randArray(T * B * I, 1), [T, B, I]);
    const good = new Tensor(randArray(T * B * O, 2), [T, B, O]);
    // targets so far off that the gradients overflow, only in the last steps (the second tbptt chunk)
    const bad = new Tensor(Float32Array.from(good.data, (v, i) => (i >= 3 * B * O ? 3e38 : v)), [T, B, O]);
    const og = new Adam({ lr: 0.01 });
    const os = new Adam({ lr: 0.01 });
    g.trainStep({ inputs: { x: xs }, targets: { y: good } }, { losses: { y: 'mse' }, optimizer: og });
    seq.trainStep({ x: xs, y: good }, { loss: 'mse', optimizer: os });
    const before = g.stateDict();
    const moments = og.state();
    const rng = g.runner.dropoutRngState;
    for (const tbptt of [undefined, 3]) {
      expect(() => g.trainStep({ inputs: { x: xs }, targets: { y: bad } }, { losses: { y: 'mse' }, optimizer: og, tbptt })).toThrow(NonFiniteError);
      const r = g.trainStep({ inputs: { x: xs }, targets: { y: bad } }, { losses: { y: 'mse' }, optimizer: og, tbptt, onNonFinite: 'skip' });
      const rs = seq.trainStep({ x: xs, y: bad }, { loss: 'mse', optimizer: os, tbptt, onNonFinite: 'skip' });
      expect(r.skipped).toBe(true);
      expect(rs.skipped).toBe(true);
      expect(Number.isNaN(r.gradNorm)).toBe(true);
      expect(r.loss).toBe(rs.loss);
      for (const [k, v] of Object.entries(before)) expect(hex(g.getParameter(k)), k).toBe(hex(v));
      expect(og.state()).toEqual(moments);
      expect(g.runner.dropoutRngState).toEqual(rng);
    }
    // the tbptt step's first chunk did update before the second failed: it was undone (the loss counts that chunk)
    expect(Number.isFinite(g.trainStep({ inputs: { x: xs }, targets: { y: bad } }, { losses: { y: 'mse' }, optimizer: og, tbptt: 3, onNonFinite: 'skip' }).loss)).toBe(true);
    const ok = g.trainStep({ inputs: { x: xs }, targets: { y: good } }, { losses: { y: 'mse' }, optimizer: og, onNonFinite: 'skip' });
    expect(ok.skipped).toBe(false);
    expect(() => g.trainStep({ inputs: { x: xs }, targets: { y: good } }, { losses: { y: 'mse' }, optimizer: og, onNonFinite: 'ignore' as never })).toThrow(ValueError);
    seq.dispose();
    g.dispose();
  });
});
