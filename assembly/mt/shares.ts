// This thread's share of each op the threaded runner splits (`split` in assembly/ops.table.json):
// one function per op taking exactly the op's arguments, in the table's order, so that the
// runner's decoding (assembly/mt/split.generated.ts) is generated from the table. The recurrent
// forwards share hidden units (assembly/mt/cells.ts); GEMMs share output columns (one row of X) or
// rows. Each output is computed as the single-thread kernel computes it, whatever the share.
import { gemm_nt } from '../kernels/gemm';
import { gemm_q8_nt, wRow } from '../kernels/int8';
import { rnn_forward_mt, lstm_forward_mt, gru_forward_mt } from './cells';
import { TID, NT, shareLo, shareHi } from './sync';

// Y = X·Wᵀ (+ b) over f32 (sw = 0) or int8 W: one row of X is split by output columns (multiples
// of 4), several rows by rows. Each output is summed as in gemm_nt / gemm_q8_nt whatever the split
// (their rows and columns are computed independently).
function gemmShare(y: usize, x: usize, w: usize, sw: usize, b: usize, M: i32, N: i32, K: i32, acc: i32): void {
  if (M == 1) {
    const n0 = shareLo(N, TID, NT);
    const n1 = shareHi(N, TID, NT);
    if (n1 <= n0) return;
    const bb: usize = b ? b + <usize>n0 : 0;
    if (sw) gemm_q8_nt(y + <usize>n0, x, wRow(w, sw, n0, K), sw + <usize>n0, bb, 1, n1 - n0, K, acc);
    else gemm_nt(y + <usize>n0, x, w + <usize>n0 * <usize>K, bb, 1, n1 - n0, K, acc);
    return;
  }
  const m0 = shareLo(M, TID, NT);
  const m1 = shareHi(M, TID, NT);
  if (m1 <= m0) return;
  const yo = y + <usize>m0 * <usize>N;
  const xo = x + <usize>m0 * <usize>K;
  if (sw) gemm_q8_nt(yo, xo, w, sw, b, m1 - m0, N, K, acc);
  else gemm_nt(yo, xo, w, b, m1 - m0, N, K, acc);
}

export function gemm_nt_share(y: usize, x: usize, w: usize, b: usize, M: i32, N: i32, K: i32, acc: i32): void {
  gemmShare(y, x, w, 0, b, M, N, K, acc);
}

export function gemm_q8_share(y: usize, x: usize, w8: usize, sw: usize, b: usize, M: i32, N: i32, K: i32, acc: i32): void {
  gemmShare(y, x, w8, sw, b, M, N, K, acc);
}

// The f32 forms pass 0 for the int8 scales: the _mt kernels read W_hh as f32 then.
export function rnn_share(pre: usize, h: usize, y: usize, w_hh: usize, b_hh: usize, lens: usize, T: i32, B: i32, H: i32, ldy: i32, reverse: i32, relu: i32): void {
  rnn_forward_mt(pre, h, y, w_hh, 0, b_hh, lens, T, B, H, ldy, reverse, relu);
}

export function rnn_q8_share(pre: usize, h: usize, y: usize, w_hh8: usize, sw_hh: usize, b_hh: usize, lens: usize, T: i32, B: i32, H: i32, ldy: i32, reverse: i32, relu: i32): void {
  rnn_forward_mt(pre, h, y, w_hh8, sw_hh, b_hh, lens, T, B, H, ldy, reverse, relu);
}

export function lstm_share(gates: usize, h: usize, c: usize, y: usize, w_hh: usize, b_hh: usize, peep: usize, lens: usize, T: i32, B: i32, H: i32, ldy: i32, reverse: i32, clip: f32): void {
  lstm_forward_mt(gates, h, c, y, w_hh, 0, b_hh, peep, lens, T, B, H, ldy, reverse, clip);
}

export function lstm_q8_share(gates: usize, h: usize, c: usize, y: usize, w_hh8: usize, sw_hh: usize, b_hh: usize, peep: usize, lens: usize, T: i32, B: i32, H: i32, ldy: i32, reverse: i32, clip: f32): void {
  lstm_forward_mt(gates, h, c, y, w_hh8, sw_hh, b_hh, peep, lens, T, B, H, ldy, reverse, clip);
}

export function gru_share(gates: usize, aux: usize, h: usize, y: usize, scratch: usize, w_hh: usize, b_hh: usize, lens: usize, T: i32, B: i32, H: i32, ldy: i32, reverse: i32, resetAfter: i32): void {
  gru_forward_mt(gates, aux, h, y, scratch, w_hh, 0, b_hh, lens, T, B, H, ldy, reverse, resetAfter);
}

export function gru_q8_share(gates: usize, aux: usize, h: usize, y: usize, scratch: usize, w_hh8: usize, sw_hh: usize, b_hh: usize, lens: usize, T: i32, B: i32, H: i32, ldy: i32, reverse: i32, resetAfter: i32): void {
  gru_forward_mt(gates, aux, h, y, scratch, w_hh8, sw_hh, b_hh, lens, T, B, H, ldy, reverse, resetAfter);
}
