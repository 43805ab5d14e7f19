// Static scratch: fixed regions of linear memory right after the module's static data, owned by the
// kernels (never by the host's allocator). The host keeps its heap above reserved_end()
// (assembly/kernels/info.ts), which also checks that the static data ends below SCRATCH_BASE.
// Single-threaded use only (every wasm instance — each worker's — has its own memory).

export const SCRATCH_BASE: usize = 65536;
// gemm_nn / gemm_tn packed driver (assembly/kernels/gemm.ts): one K block of W as 8-column panels,
export const PW_FLOATS: i32 = 65536; // 256 KiB
export const PW: usize = SCRATCH_BASE;
// and one tile's 4 columns of X as a [k][4] panel; K blocks are at most PANEL_K long.
export const PANEL_K: i32 = 512;
export const PX: usize = PW + (<usize>PW_FLOATS << 2); // 8 KiB
// int8-weight GEMM (assembly/kernels/int8.ts): one row of X quantized to i16, at most Q8_MAX_K long.
export const Q8_MAX_K: i32 = 16384;
export const SQX: usize = PX + <usize>PANEL_K * 16; // 32 KiB
// Batch-1 cell kernels (assembly/kernels/packed.ts): W_hh copied row-interleaved, up to PK_FLOATS
// (an LSTM's W_hh at hidden size 256 is 1 MiB; the rest is room for tile padding). A larger W_hh is
// read in place.
export const PK_FLOATS: i32 = 266240; // 1 MiB + 16 KiB
export const PK: usize = (SQX + <usize>Q8_MAX_K * 2) >> 2; // element offset
// The int8 activation mode (assembly/kernels/int8.ts): one i32 word, set by the host at init; in the
// threaded build the memory is shared, so every thread of a team reads the one word.
export const Q8_MODE: usize = (PK << 2) + (<usize>PK_FLOATS << 2);
export const SCRATCH_END: usize = Q8_MODE + 16;
