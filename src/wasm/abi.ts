// Typed signatures of the wasm exports (assembly/index.ts). Pointers are f32 element offsets
// (0 = absent); dimensions are element counts. Keep in step with the `// name:` contract
// headers in assembly/.

/** Mirror of ABI_VERSION in assembly/kernels/info.ts (a test compares them). */
export const ABI_VERSION = 3;

type P = number; // element offset into linear memory
type I = number; // i32

export interface Kernels {
  build_info(): I;
  /** Bytes at the bottom of memory owned by the module (static data + kernel scratch); 0 = broken build. */
  reserved_end(): I;
  ABI_VERSION: WebAssembly.Global;
  gemm_nt(y: P, x: P, w: P, b: P, M: I, N: I, K: I, accumulate: I): void;
  matvec_nt(y: P, w: P, x: P, b: P, N: I, K: I, accumulate: I): void;
  /** W (N, K) row-interleaved into dst (assembly/kernels/packed.ts: what a batch-1 cell kernel reads). */
  pack_rows(dst: P, w: P, N: I, K: I): void;
  /** matvec_nt on a packed W; bit-identical to it. */
  matvec_packed(y: P, wp: P, x: P, b: P, N: I, K: I, accumulate: I): void;
  /** Floats of pack_rows' copy of an (N, K) matrix. */
  packed_floats(N: I, K: I): I;
  /** A cell's W_hh (rows × H) packed as the *_pk cell ops read it (apart: the GRU Cho form's n rows packed apart). */
  pack_hh(dst: P, w_hh: P, rows: I, H: I, apart: I): void;
  packed_hh_floats(rows: I, H: I, apart: I): I;
  /** gemm_nt given also wp (pack_rows of w), which one row (M = 1) reads; bit-identical. */
  gemm_pk_nt(y: P, x: P, w: P, wp: P, b: P, M: I, N: I, K: I, accumulate: I): void;
  rnn_forward_pk(pre: P, h: P, y: P, w_hh: P, w_pk: P, b_hh: P, lens: P, T: I, B: I, H: I, ldy: I, reverse: I, relu: I): void;
  lstm_forward_pk(gates: P, h: P, c: P, y: P, w_hh: P, w_pk: P, b_hh: P, peep: P, lens: P,
    T: I, B: I, H: I, ldy: I, reverse: I, clip: number): void;
  gru_forward_pk(gates: P, aux: P, h: P, y: P, scratch: P, w_hh: P, w_pk: P, b_hh: P, lens: P,
    T: I, B: I, H: I, ldy: I, reverse: I, resetAfter: I): void;
  /** Steps from which a batch-1 cell kernel packs W_hh. */
  PACK_MIN_T: WebAssembly.Global;
  sigmoid_f32(y: P, x: P, n: I): void;
  tanh_f32(y: P, x: P, n: I): void;
  relu_f32(y: P, x: P, n: I): void;
  rnn_forward(pre: P, h: P, y: P, w_hh: P, b_hh: P, lens: P, T: I, B: I, H: I, ldy: I, reverse: I, relu: I): void;
  lstm_forward(gates: P, h: P, c: P, y: P, w_hh: P, b_hh: P, peep: P, lens: P,
    T: I, B: I, H: I, ldy: I, reverse: I, clip: number): void;
  gru_forward(gates: P, aux: P, h: P, y: P, scratch: P, w_hh: P, b_hh: P, lens: P,
    T: I, B: I, H: I, ldy: I, reverse: I, resetAfter: I): void;
  rnn_backward(dpre: P, dh0: P, dy: P, dhN: P, h: P, w_hh: P, lens: P, scratch: P,
    T: I, B: I, H: I, ldy: I, reverse: I, relu: I): void;
  lstm_backward(dgates: P, dh0: P, dc0: P, dpeep: P, dy: P, dhN: P, dcN: P, gates: P, h: P, c: P, w_hh: P, peep: P,
    lens: P, scratch: P, T: I, B: I, H: I, ldy: I, reverse: I, clip: number): void;
  gru_backward(dgates: P, dg_rz: P, dg_n: P, dh0: P, dy: P, dhN: P, gates: P, aux: P, h: P, w_hh: P, lens: P,
    scratch: P, T: I, B: I, H: I, ldy: I, reverse: I, resetAfter: I): void;
  // minGRU / minLSTM scans (assembly/cells/mingru.ts, minlstm.ts): gates are the GEMM's pre-activations
  mingru_forward(h: P, y: P, gates: P, lens: P, T: I, B: I, H: I, ldy: I, reverse: I, logspace: I): void;
  mingru_backward(dgates: P, dh0: P, dy: P, dhN: P, gates: P, h: P, lens: P, scratch: P,
    T: I, B: I, H: I, ldy: I, reverse: I, logspace: I): void;
  minlstm_forward(h: P, y: P, gates: P, lens: P, T: I, B: I, H: I, ldy: I, reverse: I, logspace: I): void;
  minlstm_backward(dgates: P, dh0: P, dy: P, dhN: P, gates: P, h: P, lens: P, scratch: P,
    T: I, B: I, H: I, ldy: I, reverse: I, logspace: I): void;
  // int8-weight inference (assembly/kernels/int8.ts): w8 is the element offset of int8 rows of Kp bytes
  // rows of Kp = q8RowBytes(K) bytes ending in their i32 weight sum; the activation mode is set once per memory
  gemm_q8_nt(y: P, x: P, w8: P, sw: P, b: P, M: I, N: I, K: I, accumulate: I): void;
  Q8_MAX_K: WebAssembly.Global;
  q8_set_mode(mode: I): void;
  q8_dot_probe(): I;
  Q8_EXACT: WebAssembly.Global;
  Q8_FAST: WebAssembly.Global;
  Q8_FAST_RELAXED: WebAssembly.Global;
  rnn_forward_q8(pre: P, h: P, y: P, w_hh8: P, sw_hh: P, b_hh: P, lens: P, T: I, B: I, H: I, ldy: I, reverse: I, relu: I): void;
  lstm_forward_q8(gates: P, h: P, c: P, y: P, w_hh8: P, sw_hh: P, b_hh: P, peep: P, lens: P,
    T: I, B: I, H: I, ldy: I, reverse: I, clip: number): void;
  gru_forward_q8(gates: P, aux: P, h: P, y: P, scratch: P, w_hh8: P, sw_hh: P, b_hh: P, lens: P,
    T: I, B: I, H: I, ldy: I, reverse: I, resetAfter: I): void;
  // backward GEMMs and row kernels (assembly/kernels/gemm.ts, elementwise.ts)
  gemm_nn(y: P, x: P, w: P, M: I, N: I, K: I, accumulate: I): void;
  gemm_tn(y: P, x: P, w: P, M: I, N: I, K: I, accumulate: I): void;
  copy_f32(y: P, x: P, n: I): void;
  fill_f32(y: P, v: number, n: I): void;
  add_f32(y: P, a: P, b: P, n: I): void;
  softmax_rows(y: P, x: P, M: I, N: I): void;
  log_softmax_rows(y: P, x: P, M: I, N: I): void;
  embedding_gather(y: P, table: P, ids: P, n: I, D: I): void;
  embedding_scatter_add(dtable: P, dy: P, ids: P, n: I, D: I): void;
  merge_dirs(y: P, a: P, rows: I, H: I, mode: I): void;
  merge_dirs_backward(dcat: P, dy: P, a: P, rows: I, H: I, mode: I): void;
  colsum(y: P, x: P, M: I, N: I, accumulate: I): void;
  // losses (assembly/kernels/loss.ts): return the loss sum
  softmax_ce(dlogits: P, logits: P, targets: P, M: I, V: I, scale: number): number;
  mse(dy: P, y: P, target: P, mask: P, n: I, scale: number): number;
  bce_logits(dx: P, x: P, target: P, mask: P, n: I, scale: number): number;
  // optimizers and clipping (assembly/optim/optim.ts)
  sgd_step(p: P, buf: P, g: P, n: I, lr: number, momentum: number, dampening: number, nesterov: I, wd: number, first: I): void;
  rmsprop_step(p: P, sq: P, buf: P, g: P, n: I, lr: number, alpha: number, eps: number, momentum: number, wd: number): void;
  adam_step(p: P, m: P, v: P, g: P, n: I, lr: number, b1: number, b2: number, eps: number, wd: number, decoupled: I, bc1: number, bc2: number): void;
  sum_squares(x: P, n: I): number;
  scale_f32(x: P, s: number, n: I): void;
  clamp_f32(x: P, lo: number, hi: number, n: I): void;
  // attention (assembly/kernels/attention.ts): mode 0 dot, 1 additive
  attention_forward(a: P, ctx: P, q: P, k: P, val: P, v: P, lens: P, Tq: I, Tk: I, B: I, H: I, E: I, mode: I): void;
  attention_backward(dq: P, dk: P, dval: P, dv: P, dctx: P, a: P, q: P, k: P, val: P, v: P, lens: P, scratch: P,
    Tq: I, Tk: I, B: I, H: I, E: I, mode: I): void;
  // graph row kernels (assembly/kernels/rows.ts): pool mode 0 last, 1 mean, 2 max
  copy_rows(y: P, ldy: I, x: P, ldx: I, M: I, N: I, accumulate: I): void;
  add_to(y: P, x: P, n: I): void;
  pool_forward(y: P, idx: P, x: P, lens: P, T: I, B: I, F: I, mode: I): void;
  pool_backward(dx: P, dy: P, idx: P, lens: P, T: I, B: I, F: I, mode: I): void;
  softmax_rows_backward(dx: P, dy: P, y: P, M: I, N: I, log: I): void;
  repeat_rows(y: P, x: P, T: I, n: I): void;
  tanh_rows(y: P, x: P, n: I): void;
  tanh_rows_backward(dx: P, dy: P, y: P, n: I): void;
  // the op-list interpreter (assembly/program.ts); OP_* globals mirror src/ir/program.ts
  run_program(prog: P, words: I): I;
  transpose01(y: P, x: P, A: I, Bd: I, F: I): void;
  [op: `OP_${string}`]: WebAssembly.Global;
  // linear-chain CRF (assembly/kernels/crf.ts): nll returns the loss sum
  crf_nll_forward_backward(dem: P, dtrans: P, dstart: P, dend: P, em: P, tags: P, trans: P, start: P, end: P,
    lens: P, scratch: P, T: I, B: I, K: I, scale: number): number;
  crf_viterbi(path: P, score: P, em: P, trans: P, start: P, end: P, lens: P, scratch: P, T: I, B: I, K: I): void;
  crf_nll_scratch_size(T: I, B: I, K: I): I;
  crf_viterbi_scratch_size(T: I, B: I, K: I): I;
  // RWKV-7 (assembly/rwkv7.ts): the block's non-GEMM kernels
  rwkv7_norm(y: P, stats: P, x: P, w: P, b: P, M: I, G: I, N: I, eps: number): void;
  rwkv7_shift(y: P, last: P, x: P, prev: P, mu: P, T: I, B: I, C: I, K: I): void;
  rwkv7_prep(w: P, wl: P, a: P, vg: P, kk: P, kh: P, vh: P, vfirst: P, k: P, v: P, w0: P, a0: P, v0: P, k_k: P, k_a: P,
    M: I, C: I, N: I, first: I): void;
  rwkv7_wkv(y: P, S: P, saved: P, r: P, w: P, kh: P, vh: P, kk: P, a: P, T: I, B: I, H: I, N: I): void;
  rwkv7_out(o: P, yn: P, r: P, kh: P, vh: P, g: P, r_k: P, M: I, C: I, N: I): void;
  rwkv7_relu_sq(y: P, x: P, n: I): void;
  rwkv7_sigmoid(y: P, x: P, n: I): void;
  rwkv7_norm_backward(dx: P, dw: P, db: P, dy: P, x: P, stats: P, w: P, M: I, G: I, N: I, acc: I): void;
  rwkv7_shift_backward(dx: P, dmu: P, dy: P, x: P, prev: P, mu: P, T: I, B: I, C: I, K: I, acc: I): void;
  rwkv7_prep_backward(dwl: P, dal: P, dvl: P, dk: P, dv: P, dvfirst: P, dw0: P, da0: P, dv0: P, dk_k: P, dk_a: P,
    dw: P, da: P, dkk: P, dkh: P, dvh: P, w: P, wl: P, a: P, vg: P, kk: P, k: P, v: P, vfirst: P,
    w0: P, k_k: P, k_a: P, M: I, C: I, N: I, first: I): void;
  rwkv7_wkv_backward(dr: P, dw: P, dkh: P, dvh: P, dkk: P, da: P, dS: P, dy: P, saved: P, S0: P,
    r: P, w: P, kh: P, vh: P, kk: P, a: P, T: I, B: I, H: I, N: I): void;
  rwkv7_out_backward(dg: P, dyn: P, dr: P, dkh: P, dvh: P, dr_k: P, d_o: P, yn: P, r: P, kh: P, vh: P, g: P, r_k: P,
    M: I, C: I, N: I): void;
  rwkv7_relu_sq_backward(dx: P, dy: P, y: P, n: I): void;
  rwkv7_sigmoid_backward(dx: P, dy: P, y: P, n: I): void;
}
