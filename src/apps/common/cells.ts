// The recurrent cell of an application: any kind in the cell registry (src/layers/cells.ts), checked
// once here, and built here, with the one per-cell initialiser some apps ask for (`forgetBias`: an
// LSTM's forget-gate bias starts at 1, as Jozefowicz et al. 2015 recommend; other cells have no such
// gate bias and keep their defaults). Every app goes through it; `--cell` lists CELL_KINDS too.
import { CELL_KINDS, isCellKind, type CellKind } from '../../layers/cells';
import { RecurrentCore, type AnyCellOptions, type RecurrentInit } from '../../layers/recurrent';
import { recurrent, type NodeOptions, type RecurrentSyms, type Sym } from '../../graph/nodes';
import type { Module } from '../../layers/module';
import { ValueError } from '../../errors';

export type AppCell = CellKind;
/** Every cell an application accepts, in registry order. */
export const APP_CELLS: readonly AppCell[] = CELL_KINDS;

/** The cell option (default 'lstm'); a ValueError names the accepted kinds. */
export function checkCell(v: unknown, name = 'cell'): AppCell {
  const c = v ?? 'lstm';
  if (!isCellKind(c)) throw new ValueError(`Expected ${name} to be one of ${APP_CELLS.map((k) => `'${k}'`).join(', ')}, got ${String(v)}`);
  return c;
}

/** { forgetBias: 1 } for an LSTM when asked, else undefined (the layer's defaults). */
function appInit(cell: AppCell, forgetBias: boolean): RecurrentInit | undefined {
  return forgetBias && cell === 'lstm' ? { forgetBias: 1 } : undefined;
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

