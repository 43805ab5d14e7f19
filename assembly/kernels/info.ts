// Build facts the host reads at load: ABI version and which SIMD variant this binary is.
import { isRelaxed } from '../util/simd';

// Bumped whenever an exported signature changes; the TS mirror in src/wasm/abi.ts must match.
export const ABI_VERSION: i32 = 1;

// bit 0: relaxed SIMD build.
export function build_info(): i32 {
  return isRelaxed();
}
