// A tiny op-list interpreter: the host compiles a model (for one batch/sequence shape) into a
// list of kernel calls once, and every forward pass — or every streaming step of the whole stack —
// is then ONE call across the JS↔wasm boundary: run_program(prog, words).
// Encoding: i32 words, each op is its opcode followed by a fixed number of arguments (element
// offsets, dimensions, flags; f32 arguments as their bit pattern).
import { gemm_nt, gemm_nn, gemm_tn } from './kernels/gemm';
import {
  softmax_rows, log_softmax_rows, embedding_gather, merge_dirs, copy_f32, fill_f32,
  colsum, merge_dirs_backward, embedding_scatter_add,
} from './kernels/elementwise';
import { softmax_ce, mse, bce_logits } from './kernels/loss';
import { dropout_forward, mul_f32 } from './kernels/dropout';
import { rnn_forward, rnn_backward, rnn_forward_q8 } from './cells/rnn';
import { lstm_forward, lstm_backward, lstm_forward_q8 } from './cells/lstm';
import { gru_forward, gru_backward, gru_forward_q8 } from './cells/gru';
import { gemm_q8_nt } from './kernels/int8';
import { attention_forward, attention_backward } from './kernels/attention';
import {
  copy_rows, add_to, pool_forward, pool_backward, softmax_rows_backward, repeat_rows, tanh_rows, tanh_rows_backward,
} from './kernels/rows';
import { crf_nll_forward_backward, crf_viterbi } from './kernels/crf';

// Opcodes (the TS mirror in src/model/program.ts is compared with these by a test).
export const OP_GEMM_NT: i32 = 1; // y x w b M N K acc
export const OP_RNN: i32 = 2; // pre h y w_hh b_hh lens T B H ldy reverse relu
export const OP_LSTM: i32 = 3; // gates h c y w_hh b_hh peep lens T B H ldy reverse clip:f32
export const OP_GRU: i32 = 4; // gates aux h y scratch w_hh b_hh lens T B H ldy reverse resetAfter
export const OP_COPY: i32 = 5; // y x n
export const OP_MERGE: i32 = 6; // y a rows H mode
export const OP_SOFTMAX: i32 = 7; // y x M N
export const OP_LOG_SOFTMAX: i32 = 8; // y x M N
export const OP_EMBED: i32 = 9; // y table ids n D
export const OP_TRANSPOSE01: i32 = 10; // y x A Bd F : x (A, Bd, F) → y (Bd, A, F)
export const OP_FILL: i32 = 11; // y value:f32 n
export const OP_GEMM_NN: i32 = 12; // y x w M N K acc
export const OP_GEMM_TN: i32 = 13; // y x w M N K acc
export const OP_COLSUM: i32 = 14; // y x M N acc
export const OP_RNN_BWD: i32 = 15; // dpre dh0 dy dhN h w_hh lens scratch T B H ldy reverse relu
export const OP_LSTM_BWD: i32 = 16; // dgates dh0 dc0 dpeep dy dhN dcN gates h c w_hh peep lens scratch T B H ldy reverse clip:f32
export const OP_GRU_BWD: i32 = 17; // dgates dg_rz dg_n dh0 dy dhN gates aux h w_hh lens scratch T B H ldy reverse resetAfter
export const OP_MERGE_BWD: i32 = 18; // dcat dy a rows H mode
export const OP_EMBED_BWD: i32 = 19; // dtable dy ids n D
export const OP_SOFTMAX_CE: i32 = 20; // dlogits logits targets M V slot
export const OP_MSE: i32 = 21; // dy y target mask n slot
export const OP_BCE: i32 = 22; // dx x target mask n slot
export const OP_DROPOUT: i32 = 23; // y mask x state n p:f32
export const OP_MUL: i32 = 24; // y a b n
// the model graph (opcodes 25–39)
export const OP_ATTN: i32 = 25; // a ctx q k val v lens Tq Tk B H E mode
export const OP_ATTN_BWD: i32 = 26; // dq dk dval dv dctx a q k val v lens scratch Tq Tk B H E mode
export const OP_COPY_ROWS: i32 = 27; // y ldy x ldx M N acc
export const OP_ADD: i32 = 28; // y x n  (y += x)
export const OP_POOL: i32 = 29; // y idx x lens T B F mode
export const OP_POOL_BWD: i32 = 30; // dx dy idx lens T B F mode
export const OP_SOFTMAX_BWD: i32 = 31; // dx dy y M N log
export const OP_REPEAT: i32 = 32; // y x T n
export const OP_TANH: i32 = 33; // y x n
export const OP_TANH_BWD: i32 = 34; // dx dy y n
// int8 weights (inference; opcodes from 40 on): as GEMM_NT / RNN / LSTM / GRU with (w8, sw) for w
export const OP_GEMM_Q8: i32 = 40; // y x w8 sw b M N K acc
export const OP_RNN_Q8: i32 = 41; // pre h y w_hh8 sw_hh b_hh lens T B H ldy reverse relu
export const OP_LSTM_Q8: i32 = 42; // gates h c y w_hh8 sw_hh b_hh peep lens T B H ldy reverse clip:f32
export const OP_GRU_Q8: i32 = 43; // gates aux h y scratch w_hh8 sw_hh b_hh lens T B H ldy reverse resetAfter
// Loss ops' slot (element offset, 16-byte aligned): [f64 loss sum | f32 scale | pad]. The op reads
// the gradient scale from slot+2 and stores the loss sum as f64 at slot.

// CRF output layer (opcodes 50–59; assembly/kernels/crf.ts)
export const OP_CRF_NLL: i32 = 50; // dem dtrans dstart dend em tags trans start end lens scratch T B K slot
export const OP_CRF_VITERBI: i32 = 51; // path score em trans start end lens scratch T B K

@inline function w(p: usize): i32 {
  return load<i32>(p << 2);
}
@inline function u(p: usize): usize {
  return <usize>load<u32>(p << 2);
}
@inline function f(p: usize): f32 {
  return load<f32>(p << 2);
}

// transpose01: swaps the two leading dimensions of a (A, Bd, F) array into y (Bd, A, F).
//   used for batchFirst ↔ time-major; rows of F floats are copied whole.
export function transpose01(y: usize, x: usize, A: i32, Bd: i32, F: i32): void {
  for (let a = 0; a < A; a++) {
    for (let b = 0; b < Bd; b++) {
      copy_f32(y + (<usize>b * <usize>A + <usize>a) * <usize>F, x + (<usize>a * <usize>Bd + <usize>b) * <usize>F, F);
    }
  }
}

// run_program: executes `words` i32 words of ops starting at element offset prog.
//   Returns the number of ops run, or -(index+1) of the first unknown opcode (nothing after it runs).
export function run_program(prog: usize, words: i32): i32 {
  let p = prog;
  const end = prog + <usize>words;
  let n = 0;
  while (p < end) {
    const op = w(p);
    const a = p + 1;
    if (op == OP_GEMM_NT) {
      gemm_nt(u(a), u(a + 1), u(a + 2), u(a + 3), w(a + 4), w(a + 5), w(a + 6), w(a + 7));
      p = a + 8;
    } else if (op == OP_RNN) {
      rnn_forward(u(a), u(a + 1), u(a + 2), u(a + 3), u(a + 4), u(a + 5), w(a + 6), w(a + 7), w(a + 8), w(a + 9), w(a + 10), w(a + 11));
      p = a + 12;
    } else if (op == OP_LSTM) {
      lstm_forward(u(a), u(a + 1), u(a + 2), u(a + 3), u(a + 4), u(a + 5), u(a + 6), u(a + 7), w(a + 8), w(a + 9), w(a + 10), w(a + 11), w(a + 12), f(a + 13));
      p = a + 14;
    } else if (op == OP_GRU) {
      gru_forward(u(a), u(a + 1), u(a + 2), u(a + 3), u(a + 4), u(a + 5), u(a + 6), u(a + 7), w(a + 8), w(a + 9), w(a + 10), w(a + 11), w(a + 12), w(a + 13));
      p = a + 14;
    } else if (op == OP_RNN_BWD) {
      rnn_backward(u(a), u(a + 1), u(a + 2), u(a + 3), u(a + 4), u(a + 5), u(a + 6), u(a + 7), w(a + 8), w(a + 9), w(a + 10), w(a + 11), w(a + 12), w(a + 13));
      p = a + 14;
    } else if (op == OP_LSTM_BWD) {
      lstm_backward(
        u(a), u(a + 1), u(a + 2), u(a + 3), u(a + 4), u(a + 5), u(a + 6), u(a + 7), u(a + 8), u(a + 9), u(a + 10), u(a + 11), u(a + 12), u(a + 13),
        w(a + 14), w(a + 15), w(a + 16), w(a + 17), w(a + 18), f(a + 19),
      );
      p = a + 20;
    } else if (op == OP_GRU_BWD) {
      gru_backward(
        u(a), u(a + 1), u(a + 2), u(a + 3), u(a + 4), u(a + 5), u(a + 6), u(a + 7), u(a + 8), u(a + 9), u(a + 10), u(a + 11),
        w(a + 12), w(a + 13), w(a + 14), w(a + 15), w(a + 16), w(a + 17),
      );
      p = a + 18;
    } else if (op == OP_GEMM_Q8) {
      gemm_q8_nt(u(a), u(a + 1), u(a + 2), u(a + 3), u(a + 4), w(a + 5), w(a + 6), w(a + 7), w(a + 8));
      p = a + 9;
    } else if (op == OP_RNN_Q8) {
      rnn_forward_q8(u(a), u(a + 1), u(a + 2), u(a + 3), u(a + 4), u(a + 5), u(a + 6), w(a + 7), w(a + 8), w(a + 9), w(a + 10), w(a + 11), w(a + 12));
      p = a + 13;
    } else if (op == OP_LSTM_Q8) {
      lstm_forward_q8(u(a), u(a + 1), u(a + 2), u(a + 3), u(a + 4), u(a + 5), u(a + 6), u(a + 7), u(a + 8), w(a + 9), w(a + 10), w(a + 11), w(a + 12), w(a + 13), f(a + 14));
      p = a + 15;
    } else if (op == OP_GRU_Q8) {
      gru_forward_q8(u(a), u(a + 1), u(a + 2), u(a + 3), u(a + 4), u(a + 5), u(a + 6), u(a + 7), u(a + 8), w(a + 9), w(a + 10), w(a + 11), w(a + 12), w(a + 13), w(a + 14));
      p = a + 15;
    } else if (op == OP_COPY) {
      copy_f32(u(a), u(a + 1), w(a + 2));
      p = a + 3;
    } else if (op == OP_MERGE) {
      merge_dirs(u(a), u(a + 1), w(a + 2), w(a + 3), w(a + 4));
      p = a + 5;
    } else if (op == OP_SOFTMAX) {
      softmax_rows(u(a), u(a + 1), w(a + 2), w(a + 3));
      p = a + 4;
    } else if (op == OP_LOG_SOFTMAX) {
      log_softmax_rows(u(a), u(a + 1), w(a + 2), w(a + 3));
      p = a + 4;
    } else if (op == OP_EMBED) {
      embedding_gather(u(a), u(a + 1), u(a + 2), w(a + 3), w(a + 4));
      p = a + 5;
    } else if (op == OP_TRANSPOSE01) {
      transpose01(u(a), u(a + 1), w(a + 2), w(a + 3), w(a + 4));
      p = a + 5;
    } else if (op == OP_FILL) {
      fill_f32(u(a), f(a + 1), w(a + 2));
      p = a + 3;
    } else if (op == OP_GEMM_NN) {
      gemm_nn(u(a), u(a + 1), u(a + 2), w(a + 3), w(a + 4), w(a + 5), w(a + 6));
      p = a + 7;
    } else if (op == OP_GEMM_TN) {
      gemm_tn(u(a), u(a + 1), u(a + 2), w(a + 3), w(a + 4), w(a + 5), w(a + 6));
      p = a + 7;
    } else if (op == OP_COLSUM) {
      colsum(u(a), u(a + 1), w(a + 2), w(a + 3), w(a + 4));
      p = a + 5;
    } else if (op == OP_MERGE_BWD) {
      merge_dirs_backward(u(a), u(a + 1), u(a + 2), w(a + 3), w(a + 4), w(a + 5));
      p = a + 6;
    } else if (op == OP_EMBED_BWD) {
      embedding_scatter_add(u(a), u(a + 1), u(a + 2), w(a + 3), w(a + 4));
      p = a + 5;
    } else if (op == OP_DROPOUT) {
      dropout_forward(u(a), u(a + 1), u(a + 2), u(a + 3), w(a + 4), f(a + 5));
      p = a + 6;
    } else if (op == OP_MUL) {
      mul_f32(u(a), u(a + 1), u(a + 2), w(a + 3));
      p = a + 4;
    } else if (op == OP_ATTN) {
      attention_forward(u(a), u(a + 1), u(a + 2), u(a + 3), u(a + 4), u(a + 5), u(a + 6), w(a + 7), w(a + 8), w(a + 9), w(a + 10), w(a + 11), w(a + 12));
      p = a + 13;
    } else if (op == OP_ATTN_BWD) {
      attention_backward(
        u(a), u(a + 1), u(a + 2), u(a + 3), u(a + 4), u(a + 5), u(a + 6), u(a + 7), u(a + 8), u(a + 9), u(a + 10), u(a + 11),
        w(a + 12), w(a + 13), w(a + 14), w(a + 15), w(a + 16), w(a + 17),
      );
      p = a + 18;
    } else if (op == OP_COPY_ROWS) {
      copy_rows(u(a), w(a + 1), u(a + 2), w(a + 3), w(a + 4), w(a + 5), w(a + 6));
      p = a + 7;
    } else if (op == OP_ADD) {
      add_to(u(a), u(a + 1), w(a + 2));
      p = a + 3;
    } else if (op == OP_POOL) {
      pool_forward(u(a), u(a + 1), u(a + 2), u(a + 3), w(a + 4), w(a + 5), w(a + 6), w(a + 7));
      p = a + 8;
    } else if (op == OP_POOL_BWD) {
      pool_backward(u(a), u(a + 1), u(a + 2), u(a + 3), w(a + 4), w(a + 5), w(a + 6), w(a + 7));
      p = a + 8;
    } else if (op == OP_SOFTMAX_BWD) {
      softmax_rows_backward(u(a), u(a + 1), u(a + 2), w(a + 3), w(a + 4), w(a + 5));
      p = a + 6;
    } else if (op == OP_REPEAT) {
      repeat_rows(u(a), u(a + 1), w(a + 2), w(a + 3));
      p = a + 4;
    } else if (op == OP_TANH) {
      tanh_rows(u(a), u(a + 1), w(a + 2));
      p = a + 3;
    } else if (op == OP_TANH_BWD) {
      tanh_rows_backward(u(a), u(a + 1), u(a + 2), w(a + 3));
      p = a + 4;
    } else if (op == OP_SOFTMAX_CE) {
      const slot = u(a + 5);
      store<f64>(slot << 2, softmax_ce(u(a), u(a + 1), u(a + 2), w(a + 3), w(a + 4), f(slot + 2)));
      p = a + 6;
    } else if (op == OP_MSE) {
      const slot = u(a + 5);
      store<f64>(slot << 2, mse(u(a), u(a + 1), u(a + 2), u(a + 3), w(a + 4), f(slot + 2)));
      p = a + 6;
    } else if (op == OP_BCE) {
      const slot = u(a + 5);
      store<f64>(slot << 2, bce_logits(u(a), u(a + 1), u(a + 2), u(a + 3), w(a + 4), f(slot + 2)));
      p = a + 6;
    } else if (op == OP_CRF_NLL) {
      const slot = u(a + 14);
      store<f64>(slot << 2, crf_nll_forward_backward(
        u(a), u(a + 1), u(a + 2), u(a + 3), u(a + 4), u(a + 5), u(a + 6), u(a + 7), u(a + 8), u(a + 9), u(a + 10),
        w(a + 11), w(a + 12), w(a + 13), f(slot + 2),
      ));
      p = a + 15;
    } else if (op == OP_CRF_VITERBI) {
      crf_viterbi(u(a), u(a + 1), u(a + 2), u(a + 3), u(a + 4), u(a + 5), u(a + 6), u(a + 7), w(a + 8), w(a + 9), w(a + 10));
      p = a + 11;
    } else {
      return -(<i32>(p - prog) + 1);
    }
    n++;
  }
  return n;
}
