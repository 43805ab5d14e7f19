// The wasm ABI: this file is the export list and nothing else. Every pointer argument is an f32
// element offset into the host-owned memory (env.memory); 0 means "absent" (the host heap never
// hands out offset 0). Dimensions are element counts.
export { build_info, ABI_VERSION } from './kernels/info';
export { gemm_nt } from './kernels/gemm';
