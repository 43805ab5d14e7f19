// The per-cell descriptions (src/layers/cells.ts) are what layers, models and graphs look a cell up
// in: their gate counts must be the parameter shapes, their states the state slots a layer emits,
// and their option keys exactly what a layer's config() writes and layerFromConfig() keeps.
import { describe, expect, it } from 'vitest';
import { CELLS, isCellKind, type CellKind } from '../../src/layers/cells';
import { RecurrentCore } from '../../src/layers/recurrent';
import { layerFromConfig } from '../../src/model/model';

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
});
