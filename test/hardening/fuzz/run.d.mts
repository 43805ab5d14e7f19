export interface FuzzSummary {
  seed: number;
  perReader: Record<string, { cases: number; outcomes: Record<string, number>; examples: Record<string, string>; slowestMs: number; wasmGrowth: number; maxRssGrowthMb: number }>;
  bad: { reader: string; index: number | string; kind: string; name?: string; message: string }[];
  seconds: number;
}
export function fuzz(readers: string[], cases: number, opts?: Record<string, unknown>): Promise<FuzzSummary>;
