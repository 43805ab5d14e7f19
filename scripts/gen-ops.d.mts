// Types of scripts/gen-ops.mjs for the TypeScript tests.
export interface OpArg { name: string; kind: 'u' | 'w' | 'f' }
export interface OpEntry { name: string; code: number; fn: string; module: string; args: string; loss?: boolean; split?: string; splitWork?: string; doc?: string }
export interface OpTable { about: string; ops: OpEntry[] }
export interface ParsedOp extends Omit<OpEntry, 'args'> { args: OpArg[]; work: string[] }
export const root: string;
export const TABLE: string;
export const OUTPUTS: { asCodes: string; asDispatch: string; ts: string; asSplit: string };
export function parseTable(table: OpTable): ParsedOp[];
export function camel(name: string): string;
export function generate(table: OpTable): { asCodes: string; asDispatch: string; ts: string; asSplit: string };
export function readTable(): OpTable;
