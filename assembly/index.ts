// The wasm ABI: this file is the export list and nothing else. Every pointer argument is an f32
// element offset into the host-owned memory (env.memory); 0 means "absent" (the host heap never
// hands out offset 0). Dimensions are element counts.
export { build_info, reserved_end, ABI_VERSION } from './kernels/info';
export { gemm_nt, matvec_nt } from './kernels/gemm';
export { pack_rows, matvec_packed, pack_hh, packed_floats, packed_hh_floats, gemm_pk_nt, PACK_MIN_T } from './kernels/packed';
export { sigmoid_f32, tanh_f32, relu_f32 } from './kernels/activations';
export { rnn_forward, rnn_backward, rnn_forward_q8, rnn_forward_pk } from './cells/rnn';
export { lstm_forward, lstm_backward, lstm_forward_q8, lstm_forward_pk } from './cells/lstm';
export { gru_forward, gru_backward, gru_forward_q8, gru_forward_pk } from './cells/gru';
export { mingru_forward, mingru_backward } from './cells/mingru';
export { minlstm_forward, minlstm_backward } from './cells/minlstm';
export { gemm_q8_nt, Q8_MAX_K, q8_set_mode, q8_dot_probe, Q8_EXACT, Q8_FAST, Q8_FAST_RELAXED } from './kernels/int8';
export { gemm_nn, gemm_tn } from './kernels/gemm';
export {
  copy_f32, fill_f32, add_f32, softmax_rows, log_softmax_rows, embedding_gather, embedding_scatter_add,
  merge_dirs, merge_dirs_backward, colsum,
} from './kernels/elementwise';
export { softmax_ce, mse, bce_logits } from './kernels/loss';
export { sgd_step, rmsprop_step, adam_step, sum_squares, scale_f32, clamp_f32 } from './optim/optim';
export { run_program, transpose01 } from './program';
export * from './opcodes.generated';
export { dropout_forward, mul_f32 } from './kernels/dropout';
export { attention_forward, attention_backward, ATTN_DOT, ATTN_ADDITIVE } from './kernels/attention';
export {
  copy_rows, add_to, pool_forward, pool_backward, softmax_rows_backward, repeat_rows, tanh_rows, tanh_rows_backward,
  POOL_LAST, POOL_MEAN, POOL_MAX,
} from './kernels/rows';
export { crf_nll_forward_backward, crf_viterbi, crf_nll_scratch_size, crf_viterbi_scratch_size } from './kernels/crf';
export { rwkv7_norm, rwkv7_shift, rwkv7_prep, rwkv7_wkv, rwkv7_out, rwkv7_relu_sq, rwkv7_sigmoid } from './rwkv7';
export {
  rwkv7_norm_backward, rwkv7_shift_backward, rwkv7_prep_backward, rwkv7_wkv_backward, rwkv7_out_backward,
  rwkv7_relu_sq_backward, rwkv7_sigmoid_backward,
} from './rwkv7-backward';
