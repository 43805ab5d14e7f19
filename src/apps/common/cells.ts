// The recurrent cell of an application: any kind in the cell registry (src/layers/cells.ts), checked
// once here, and built here, with the one per-cell initialiser some apps ask for (`forgetBias`: the
// forget-gate bias of a cell whose descriptor names one (`forgetGate`, an LSTM's f) starts at 1, as
// Jozefowicz et al. 2015 recommend; other cells keep their defaults). Every app goes through it;
// `--cell` lists CELL_KINDS too. Nothing here names a cell.
import { CELL_KINDS, CELLS, isCellKind, type CellKind } from '../../layers/cells';
import { RecurrentCore, type AnyCellOptions, type RecurrentInit } from '../../layers/recurrent';
import { recurrent, type NodeOptions, type RecurrentSyms, type Sym } from '../../graph/nodes';
import type { Module } from '../../layers/module';
import { ValueError } from '../../errors';

/** The recurrent cell an application is built on: any kind of the cell registry (`lstm`, `gru`, `rnn`, `mingru`, `minlstm`, …). */
export type AppCell = CellKind;
/** Every cell an application accepts, in registry order. */
export const APP_CELLS: readonly AppCell[] = CELL_KINDS;

/** The cell an application uses when none is given: the first of the registry (LSTM). */
const DEFAULT_CELL = CELL_KINDS[0];

/** The cell option (default: the registry's first, LSTM); a ValueError names the accepted kinds. */
export function checkCell(v: unknown, name = 'cell'): AppCell {
  const c = v ?? DEFAULT_CELL;
  if (!isCellKind(c)) throw new ValueError(`Expected ${name} to be one of ${APP_CELLS.map((k) => `'${k}'`).join(', ')}, got ${String(v)}`);
  return c;
}

/** { forgetBias: 1 } for a cell with a forget gate when asked, else undefined (the layer's defaults). */
function appInit(cell: AppCell, forgetBias: boolean): RecurrentInit | undefined {
  return forgetBias && CELLS[cell].forgetGate >= 0 ? { forgetBias: 1 } : undefined;
}

/** A graph node of the app's cell. */
export function cellNode(cell: AppCell, x: Sym, o: NodeOptions<AnyCellOptions>, opts: { forgetBias?: boolean } = {}): RecurrentSyms {
  const init = appInit(cell, !!opts.forgetBias);
  return recurrent(cell, x, init ? { ...o, init } : o);
}

/** A Sequential layer of the app's cell. */
export function cellLayer(cell: AppCell, o: AnyCellOptions, opts: { forgetBias?: boolean } = {}): Module {
  const init = appInit(cell, !!opts.forgetBias);
  return new RecurrentCore(cell, init ? { ...o, init } : o);
}

