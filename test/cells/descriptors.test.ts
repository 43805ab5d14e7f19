// The per-cell descriptions (src/layers/cells.ts) are what layers, models and graphs look a cell up
// in: their gate counts must be the parameter shapes, their states the state slots a layer emits,
// and their option keys exactly what a layer's config() writes and layerFromConfig() keeps; their
// interchange records the names and gate orders the importers and the ONNX exporter use.
import { describe, expect, it } from 'vitest';
import { CELLS, isCellKind, type CellKind } from '../../src/layers/cells';
import { RecurrentCore } from '../../src/layers/recurrent';
import { layerFromConfig } from '../../src/model/model';
import { inverseOrder } from '../../src/io/layout';

const KINDS: CellKind[] = ['rnn', 'lstm', 'gru', 'mingru', 'minlstm'];
const ALL_KEYS = ['nonlinearity', 'peepholes', 'cellClip', 'resetAfter', 'logSpace'];

describe('cell descriptors', () => {
  it.each(KINDS)('%s: gates give the weight shapes and gate order has one name per gate', (kind) => {
    const cell = CELLS[kind];
    const layer = new RecurrentCore(kind, { inputSize: 2, hiddenSize: 3 });
    expect(layer.cell).toBe(cell);
    const shapes = Object.fromEntries(layer.paramSpecs().map((s) => [s.name, s.shape]));
    expect(shapes.weight_ih_l0).toEqual([cell.gates * 3, 2]);
    // a cell without a recurrent weight has neither weight_hh nor bias_hh
    if (cell.recurrentWeight) expect(shapes.weight_hh_l0).toEqual([cell.gates * 3, 3]);
    else expect(Object.keys(shapes)).toEqual(['weight_ih_l0', 'bias_ih_l0']);
    expect(layer.parameterCount).toBe(Object.values(shapes).reduce((n, s) => n + s.reduce((a, b) => a * b, 1), 0));
    expect(cell.gateOrder.length).toBe(cell.gates);
    expect(cell.hasCellState).toBe(cell.states.includes('c'));
  });

  it('the cells, their gates and states: PyTorch\'s for the three classic ones, the paper\'s for the min cells', () => {
    expect(KINDS.map((k) => [CELLS[k].gateOrder.join(','), CELLS[k].states.join(','), CELLS[k].recurrentWeight])).toEqual([
      ['h', 'h', true],
      ['i,f,g,o', 'h,c', true],
      ['r,z,n', 'h', true],
      ['z,h', 'h', false],
      ['f,i,h', 'h', false],
    ]);
    expect(KINDS.every(isCellKind)).toBe(true);
    expect([isCellKind('linear'), isCellKind('toString'), isCellKind(3)]).toEqual([false, false, false]);
  });

  it.each(KINDS)('%s: config() writes exactly the cell\'s own options, and layerFromConfig drops any other cell\'s', (kind) => {
    const layer = new RecurrentCore(kind, { inputSize: 2, hiddenSize: 3 });
    const c = layer.config();
    expect(ALL_KEYS.filter((k) => k in c)).toEqual([...CELLS[kind].optionKeys]);
    // a config carrying every cell's keys (as older files did) builds the same layer
    const all = { ...c, nonlinearity: 'tanh', peepholes: false, cellClip: 0, resetAfter: true, logSpace: false };
    expect((layerFromConfig(all) as RecurrentCore).config()).toEqual(c);
  });

  it('interchange: names and gate orders of the classic cells as PyTorch, ONNX and Keras define them; the min cells have none', () => {
    const io = (k: CellKind) => CELLS[k].interchange;
    expect((['rnn', 'lstm', 'gru'] as const).map((k) => [io(k)!.torch, io(k)!.onnx, io(k)!.keras])).toEqual([['RNN', 'RNN', 'SimpleRNN'], ['LSTM', 'LSTM', 'LSTM'], ['GRU', 'GRU', 'GRU']]);
    // ONNX LSTM i,o,f,c from ours i,f,g,o; GRU z,r,h from ours r,z,n; Keras LSTM i,f,c,o; GRU z,r,h
    const names = (k: CellKind, order: readonly number[]) => order.map((j) => CELLS[k].gateOrder[j]).join(',');
    expect(names('lstm', io('lstm')!.onnxFromOurs)).toBe('i,o,f,g');
    expect(names('gru', io('gru')!.onnxFromOurs)).toBe('z,r,n');
    expect(names('lstm', io('lstm')!.oursFromKeras)).toBe('i,f,g,o');
    expect(names('gru', io('gru')!.oursFromKeras)).toBe('z,r,n');
    expect(inverseOrder(io('lstm')!.onnxFromOurs)).toEqual([0, 2, 3, 1]);
    expect([io('mingru'), io('minlstm')]).toEqual([undefined, undefined]);
    // the forget gate an application's forgetBias sets: only the LSTM's f
    expect(KINDS.map((k) => CELLS[k].forgetGate)).toEqual([-1, 1, -1, -1, -1]);
    expect(CELLS.lstm.gateOrder[CELLS.lstm.forgetGate]).toBe('f');
  });
});
