// The one check every public entry point calls on its options object before any side effect: an
// unknown or misspelt key (`num_layers`, `learning_rate`, `batchfirst`) is a ValueError that names
// the key and suggests the allowed key it most likely meant. Values are checked by each entry point.
// Each entry point keeps its key list beside the code it configures, tied to its options type at
// compile time with `keysOf`: adding a field to an interface without listing it does not compile.
// This module imports nothing but the errors, so every folder may use it.
import { ValueError } from './errors';

type Missing<T, K extends readonly string[]> = Exclude<keyof T & string, K[number]>;
/** The keys of options type T, all of them (a missing one is a compile error naming it). */
export const keysOf =
  <T>() =>
  <const K extends readonly (keyof T & string)[]>(...keys: K & ([Missing<T, K>] extends [never] ? unknown : { missing: Missing<T, K> })): K =>
    keys;

/** The clipping options of a step on accumulated gradients (Model.step, GraphModel.step). */
export const APPLY_STEP_KEYS = keysOf<{ clipNorm?: number; clipValue?: number }>()('clipNorm', 'clipValue');

// Names users bring from PyTorch, Keras or TF.js whose spelling is not close to ours.
const ALIASES: Record<string, string> = {
  learningrate: 'lr',
  units: 'hiddenSize',
  hidden: 'hiddenSize',
  layers: 'numLayers',
  epsilon: 'eps',
  rho: 'alpha',
  numworkers: 'workers',
  threads: 'workers',
  decay: 'weightDecay',
  mode: 'mergeMode',
};

const norm = (s: string) => s.toLowerCase().replace(/[\s_-]/g, '');

/** Edit distance counting insertions, deletions, substitutions and swaps of neighbours (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The allowed key `key` most likely meant, or undefined when none is close. */
export function suggestKey(key: string, allowed: readonly string[]): string | undefined {
  const k = norm(key);
  const same = allowed.find((a) => norm(a) === k);
  if (same) return same;
  const alias = ALIASES[k];
  if (alias && allowed.includes(alias)) return alias;
  const longer = k.length >= 3 ? allowed.find((a) => norm(a).startsWith(k)) : undefined; // an abbreviation
  if (longer) return longer;
  let best: string | undefined;
  let bestD = Infinity;
  for (const a of allowed) {
    const d = editDistance(k, norm(a));
    if (d < bestD) [best, bestD] = [a, d];
  }
  // a typo, not another word: at most one edit per three letters (and at least one)
  return bestD <= Math.max(1, Math.floor(k.length / 3)) ? best : undefined;
}

/**
 * Throws a ValueError when `obj` is not an options object (undefined is allowed: every option
 * defaulted) or has a key outside `allowed`. `argName` names the argument in the message.
 */
export function checkOptions(obj: unknown, allowed: readonly string[], argName: string): void {
  if (obj === undefined) return;
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    const got = obj === null ? 'null' : Array.isArray(obj) ? 'an array' : typeof obj;
    throw new ValueError(`Expected ${argName} to be an options object, got ${got}`);
  }
  for (const key of Object.keys(obj)) {
    if (allowed.includes(key)) continue;
    const s = suggestKey(key, allowed);
    throw new ValueError(
      `Expected only known keys in ${argName} (${allowed.join(', ')}), got '${key}'` + (s ? `; did you mean '${s}'?` : ''),
    );
  }
}

/**
 * The applications' form of the check: a key of `o` outside `allowed` is a ValueError reading
 * "Expected <what> keys among …, got unknown key <k>", with the allowed key it most likely meant.
 */
export function checkKeys(o: object, allowed: readonly string[], what: string): void {
  for (const k of Object.keys(o)) {
    if (allowed.includes(k)) continue;
    const s = suggestKey(k, allowed);
    throw new ValueError(`Expected ${what} keys among ${allowed.join(', ')}, got unknown key ${k}` + (s ? `; did you mean '${s}'?` : ''));
  }
}

/**
 * One vocabulary for every application: the sizes carry PyTorch's names (`hiddenSize`, `numLayers`,
 * `embeddingDim`). The names the CharLM, Seq2Seq, ConditionalGenerator and Forecaster used before
 * (`hidden`, `layers`, `embedding`) are deprecated aliases, accepted by every application's options
 * and read from model files written with them; this table is the one place that maps them.
 */
export const FORMER_NAMES: Readonly<Record<string, string>> = { hidden: 'hiddenSize', layers: 'numLayers', embedding: 'embeddingDim' };

/** The deprecated size names every application still accepts (see FORMER_NAMES). */
export interface FormerSizeNames {
  /** @deprecated Use `hiddenSize`. */
  hidden?: number;
  /** @deprecated Use `numLayers`. */
  layers?: number;
  /** @deprecated Use `embeddingDim`. */
  embedding?: number;
}

/**
 * `o` with each former name (FORMER_NAMES) whose current name is in `allowed` renamed to it; a
 * ValueError when both are given. Other keys are left for checkKeys (a former name of a size the
 * application does not have stays unknown and gets its did-you-mean).
 */
export function renameFormer<T extends object>(o: T, allowed: readonly string[], what: string): T {
  let out: Record<string, unknown> | null = null;
  for (const [old, now] of Object.entries(FORMER_NAMES)) {
    if (!Object.prototype.hasOwnProperty.call(o, old) || !allowed.includes(now)) continue;
    if (Object.prototype.hasOwnProperty.call(o, now)) throw new ValueError(`Expected one of ${now} and ${old} (its former name) in ${what}s, got both`);
    out ??= { ...(o as Record<string, unknown>) };
    out[now] = out[old];
    delete out[old];
  }
  return (out ?? o) as T;
}
