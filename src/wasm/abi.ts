// Typed signatures of the wasm exports (assembly/index.ts). Pointers are f32 element offsets
// (0 = absent); dimensions are element counts. Keep in step with the `// name:` contract
// headers in assembly/.

/** Mirror of ABI_VERSION in assembly/kernels/info.ts (a test compares them). */
export const ABI_VERSION = 1;

type P = number; // element offset into linear memory
type I = number; // i32

export interface Kernels {
  build_info(): I;
  ABI_VERSION: WebAssembly.Global;
  gemm_nt(y: P, x: P, w: P, b: P, M: I, N: I, K: I, accumulate: I): void;
}
