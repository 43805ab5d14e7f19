// The per-cell descriptions (src/layers/cells.ts) are what layers, models and graphs look a cell up
// in: their gate counts must be the parameter shapes, their states the state slots a layer emits,
// and their option keys exactly what a layer's config() writes and layerFromConfig() keeps.
import { describe, expect, it } from 'vitest';
import { CELLS, isCellKind, type CellKind } from '../../src/layers/cells';
import { RecurrentCore } from '../../src/layers/recurrent';
import { layerFromConfig } from '../../src/model/model';

const KINDS: CellKind[] = ['rnn', 'lstm', 'gru'];
const ALL_KEYS = ['nonlinearity', 'peepholes', 'cellClip', 'resetAfter'];

describe('cell descriptors', () => {
  it.each(KINDS)('%s: gates give the weight shapes and gate order has one name per gate', (kind) => {
    const cell = CELLS[kind];
    const layer = new RecurrentCore(kind, { inputSize: 2, hiddenSize: 3 });
    expect(layer.cell).toBe(cell);
    const shapes = Object.fromEntries(layer.paramSpecs().map((s) => [s.name, s.shape]));
    expect(shapes.weight_ih_l0).toEqual([cell.gates * 3, 2]);
    expect(shapes.weight_hh_l0).toEqual([cell.gates * 3, 3]);
    expect(cell.gateOrder.length).toBe(cell.gates);
    expect(cell.hasCellState).toBe(cell.states.includes('c'));
  });

  it('the three cells, their gates and states are those of PyTorch', () => {
    expect(KINDS.map((k) => [CELLS[k].gateOrder.join(','), CELLS[k].states.join(',')])).toEqual([
      ['h', 'h'],
      ['i,f,g,o', 'h,c'],
      ['r,z,n', 'h'],
    ]);
    expect(KINDS.every(isCellKind)).toBe(true);
    expect([isCellKind('linear'), isCellKind('toString'), isCellKind(3)]).toEqual([false, false, false]);
  });

  it.each(KINDS)('%s: config() writes exactly the cell\'s own options, and layerFromConfig drops any other cell\'s', (kind) => {
    const layer = new RecurrentCore(kind, { inputSize: 2, hiddenSize: 3 });
    const c = layer.config();
    expect(ALL_KEYS.filter((k) => k in c)).toEqual([...CELLS[kind].optionKeys]);
    // a config carrying every cell's keys (as older files did) builds the same layer
    const all = { ...c, nonlinearity: 'tanh', peepholes: false, cellClip: 0, resetAfter: true };
    expect((layerFromConfig(all) as RecurrentCore).config()).toEqual(c);
  });
});
