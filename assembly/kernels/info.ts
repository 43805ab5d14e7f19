// Build facts the host reads at load: ABI version and which SIMD variant this binary is.
import { isRelaxed } from '../util/simd';
import { SCRATCH_BASE, SCRATCH_END } from '../util/scratch';

// Bumped whenever an exported signature changes; the TS mirror in src/wasm/abi.ts must match.
export const ABI_VERSION: i32 = 3;

// bit 0: relaxed SIMD build; bit 1: threaded build (shared memory, assembly/index-mt.ts).
export function build_info(): i32 {
  return isRelaxed() | (ASC_FEATURE_THREADS ? 2 : 0);
}

// Bytes at the bottom of linear memory the host must not allocate from (static data + kernel scratch,
// assembly/util/scratch.ts); 0 if the static data has grown into the scratch (a build error).
export function reserved_end(): usize {
  return __heap_base > SCRATCH_BASE ? 0 : SCRATCH_END;
}
