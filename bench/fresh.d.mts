// Types of bench/fresh.mjs's pure parts for the TypeScript tests.
export type Side = 'ours' | 'ort';
export interface Spread { median: number; min: number; max: number; n: number }
export interface Round { round?: number; ours: number; ort: number; ok: boolean; maxAbsDiff?: number | null }
export const FRESH_IDS: string[];
export const SIDES: Side[];
export function roundOrder(r: number): Side[];
export function ratio(ours: number, ort: number): number;
export function spread(values: ArrayLike<number> & Iterable<number>): Spread;
export function summarize(rounds: Round[]): { ours: Spread | null; ort: Spread | null; ratio: Spread | null };
export interface Args {
  quick: boolean; only: string[]; rounds: number; calls: number; warmup: number; warmupMs: number; json: string | null; save: boolean;
  factors: boolean; samePro: boolean; prebuilt: boolean; timer: 'plain' | 'benchjs'; stat: 'median' | 'mean'; warm: boolean; warmWith: string[] | null;
  relaxed: boolean; pin: string | null; nodeFlags: string[];
}
export function parseArgs(argv: string[]): Args;
export function factorConfigs(args: Args): ({ factor: string; samePro?: boolean; prebuilt?: boolean; timer?: string; stat?: string; warm?: boolean; relaxed?: boolean; calls?: number; warmup?: number; warmupMs?: number; pin?: string | null; harness?: string })[];
