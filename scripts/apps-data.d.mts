// Types of scripts/apps-data.mjs for the TypeScript tests (only what they import).
/** CMUdict grapheme-to-phoneme pairs: `train` as [word, phones] per variant, `test` as [word, variants[]] (thinned to evalN when > 0). */
export function g2pWords(o?: { seed?: number; evalN?: number }): { words: number; train: [string, string][]; test: [string, string[]][] };
