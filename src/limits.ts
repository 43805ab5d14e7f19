// Limits on what one model, call or file may ask for, checked before anything is allocated.
// Defaults fit in the 4 GiB a wasm32 memory can reach; setLimits() changes them for the process
// (or the page). Errors that a limit causes name the limit ("limits.maxParameters").
import { ValueError, show } from './errors';
import { checkOptions } from './options';

/**
 * Process-wide limits, checked before anything is allocated; read them with `getLimits()`, change them with
 * `setLimits()`.
 */
export interface Limits {
  /** Parameters of one model (float32 elements; the arena holds them, their gradients and moments). */
  maxParameters: number;
  /** Time steps of one forward/training call (T). */
  maxSequenceLength: number;
  /** Bytes of one model file or imported weight file. */
  maxFileBytes: number;
  /** Compiled plans (per input shape) one model keeps cached for inference, and for training. */
  maxCachedPlans: number;
  /** Bytes of workspace those cached plans may hold together (the newest plan is always kept). */
  maxPlanCacheBytes: number;
  /**
   * Layers of one architecture read from a file or an importer: each recurrent layer counts once
   * per direction, every other module once. Checked before any layer's parameters are listed.
   */
  maxLayers: number;
}

const DEFAULTS: Limits = {
  maxParameters: 64 * 1024 * 1024, // 256 MiB of weights; with gradients, Adam moments and the step guard's copies 1.75 GiB
  maxSequenceLength: 1 << 20,
  maxFileBytes: 1024 * 1024 * 1024,
  maxCachedPlans: 16,
  maxPlanCacheBytes: 512 * 1024 * 1024,
  maxLayers: 4096,
};

const current: Limits = { ...DEFAULTS };

/** The limits in force (a copy). */
export function getLimits(): Limits {
  return { ...current };
}

/** Changes some limits; each must be a positive safe integer. Returns the limits now in force. */
export function setLimits(changes: Partial<Limits>): Limits {
  if (changes === null || typeof changes !== 'object') throw new ValueError(`Expected an object of limits, got ${changes === null ? 'null' : typeof changes}`);
  checkOptions(changes, Object.keys(DEFAULTS), 'setLimits changes');
  for (const [key, value] of Object.entries(changes)) {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
      throw new ValueError(`Expected limits.${key} to be a positive integer, got ${show(value)}`);
    }
  }
  Object.assign(current, changes);
  return getLimits();
}

/** Restores the default limits. */
export function resetLimits(): Limits {
  Object.assign(current, DEFAULTS);
  return getLimits();
}

/** Throws a ValueError naming the limit when `value` exceeds it. `what` names the argument. */
export function checkLimit(name: keyof Limits, value: number, what: string): void {
  if (!(value <= current[name])) {
    throw new ValueError(`Expected ${what} of at most limits.${name} = ${current[name]}, got ${value} (raise it with setLimits({ ${name} }))`);
  }
}
