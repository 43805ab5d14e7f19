// Runs one compiled program (assembly/program.ts) on a team of threads sharing the memory
// (threaded build only). The host turns the program into a plan of segments, i32 triples
// [kind, start, words] at element offset plan:
//   SEG_SERIAL   ops [start, start + words) run by thread 0 alone (run_program); the others skip them
//   SEG_SPLIT    the one op at start, each thread running its share (splitOp)
//   SEG_BARRIER  the team meets (after every split op, before a split op that follows serial ops,
//                and as the plan's last segment, so no thread reads the plan after thread 0 returns)
// Thread 0 is the caller (run_plan_mt); helper threads sit in mt_helper and pick up each plan.
import { run_program } from '../program';
import { OP_GEMM_NT, OP_RNN, OP_LSTM, OP_GRU, OP_GEMM_Q8, OP_RNN_Q8, OP_LSTM_Q8, OP_GRU_Q8 } from '../opcodes.generated';
import { gemm_nt } from '../kernels/gemm';
import { gemm_q8_nt, setQ8Scratch, wRow } from '../kernels/int8';
import { rnn_forward_mt, lstm_forward_mt, gru_forward_mt } from './cells';
import {
  C_GEN, C_PLAN, C_NSEG, C_QUIT, CTRL_WORDS, TID, NT, joinTeam, waitChange, bump, shareLo, shareHi, sync, teamDead,
} from './sync';

export { CTRL_WORDS };
export const SEG_SERIAL: i32 = 0;
export const SEG_SPLIT: i32 = 1;
export const SEG_BARRIER: i32 = 2;

@inline function w(p: usize): i32 {
  return load<i32>(p << 2);
}
@inline function u(p: usize): usize {
  return <usize>load<u32>(p << 2);
}
@inline function f(p: usize): f32 {
  return load<f32>(p << 2);
}

// This thread's share of Y = X·Wᵀ (+ b) over f32 (sw = 0) or int8 W: one row of X is split by
// output columns (multiples of 4), several rows by rows. Each output is summed as in gemm_nt /
// gemm_q8_nt whatever the split (their rows and columns are computed independently).
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

// This thread's share of the op at p (argument layouts as in run_program). 1 if the op splits.
function splitOp(p: usize): i32 {
  const op = w(p);
  const a = p + 1;
  if (op == OP_GEMM_NT) gemmShare(u(a), u(a + 1), u(a + 2), 0, u(a + 3), w(a + 4), w(a + 5), w(a + 6), w(a + 7));
  else if (op == OP_GEMM_Q8) gemmShare(u(a), u(a + 1), u(a + 2), u(a + 3), u(a + 4), w(a + 5), w(a + 6), w(a + 7), w(a + 8));
  else if (op == OP_RNN) rnn_forward_mt(u(a), u(a + 1), u(a + 2), u(a + 3), 0, u(a + 4), u(a + 5), w(a + 6), w(a + 7), w(a + 8), w(a + 9), w(a + 10), w(a + 11));
  else if (op == OP_RNN_Q8) rnn_forward_mt(u(a), u(a + 1), u(a + 2), u(a + 3), u(a + 4), u(a + 5), u(a + 6), w(a + 7), w(a + 8), w(a + 9), w(a + 10), w(a + 11), w(a + 12));
  else if (op == OP_LSTM) {
    lstm_forward_mt(u(a), u(a + 1), u(a + 2), u(a + 3), u(a + 4), 0, u(a + 5), u(a + 6), u(a + 7), w(a + 8), w(a + 9), w(a + 10), w(a + 11), w(a + 12), f(a + 13));
  } else if (op == OP_LSTM_Q8) {
    lstm_forward_mt(u(a), u(a + 1), u(a + 2), u(a + 3), u(a + 4), u(a + 5), u(a + 6), u(a + 7), u(a + 8), w(a + 9), w(a + 10), w(a + 11), w(a + 12), w(a + 13), f(a + 14));
  } else if (op == OP_GRU) {
    gru_forward_mt(u(a), u(a + 1), u(a + 2), u(a + 3), u(a + 4), u(a + 5), 0, u(a + 6), u(a + 7), w(a + 8), w(a + 9), w(a + 10), w(a + 11), w(a + 12), w(a + 13));
  } else if (op == OP_GRU_Q8) {
    gru_forward_mt(u(a), u(a + 1), u(a + 2), u(a + 3), u(a + 4), u(a + 5), u(a + 6), u(a + 7), u(a + 8), w(a + 9), w(a + 10), w(a + 11), w(a + 12), w(a + 13), w(a + 14));
  } else return 0;
  return 1;
}

// Walks a plan as this thread. Returns 0, or -(word + 1) of the first op thread 0 could not run
// (an unknown opcode in a serial span, or a split segment on an op that does not split; the walk
// goes on so that every thread meets every barrier).
function runPlan(plan: usize, nseg: i32): i32 {
  let err = 0;
  for (let i = 0; i < nseg; i++) {
    const s = plan + <usize>(3 * i);
    const kind = w(s);
    const start = u(s + 1);
    if (kind == SEG_BARRIER) sync();
    else if (kind == SEG_SPLIT) {
      if (!splitOp(start) && err == 0) err = -(<i32>start + 1);
    } else if (TID == 0) {
      const r = run_program(start, w(s + 2));
      if (r < 0 && err == 0) err = -(<i32>start - r);
    }
  }
  return err;
}

// run_plan_mt: runs a plan (see above) as thread 0 of a team of n threads whose helpers sit in
// mt_helper on the same control block (assembly/mt/sync.ts). canWait: 1 where this thread may block
// in memory.atomic.wait32 (not a browser's main thread). Returns 0, -(word + 1) of a bad op, or 1
// when a helper has stopped (the host set DEAD): the outputs of this run are then incomplete.
export function run_plan_mt(ctrl: usize, plan: usize, nseg: i32, n: i32, canWait: i32): i32 {
  joinTeam(ctrl, 0, n, canWait);
  store<i32>((ctrl + C_PLAN) << 2, <i32>plan);
  store<i32>((ctrl + C_NSEG) << 2, nseg);
  bump(ctrl, C_GEN);
  const r = runPlan(plan, nseg);
  return teamDead(ctrl) ? 1 : r;
}

// mt_helper: the loop of helper thread tid (1 ≤ tid < n) until the host sets QUIT and bumps GEN
// (or a helper has stopped: DEAD).
//   gen0      the GEN value when the helper was started (jobs after it are run)
//   q8scratch byte address of this thread's own int8 row scratch (2·Q8_MAX_K bytes)
export function mt_helper(ctrl: usize, tid: i32, n: i32, gen0: i32, q8scratch: usize): void {
  joinTeam(ctrl, tid, n, 1);
  setQ8Scratch(q8scratch);
  let seen = gen0;
  while (true) {
    waitChange(ctrl, C_GEN, seen, 1);
    seen = atomic.load<i32>((ctrl + C_GEN) << 2);
    if (atomic.load<i32>((ctrl + C_QUIT) << 2) || teamDead(ctrl)) return;
    runPlan(u(ctrl + C_PLAN), w(ctrl + C_NSEG));
  }
}

// mt_quit: asks every helper of the team to leave mt_helper (they return to their host code).
export function mt_quit(ctrl: usize): void {
  atomic.store<i32>((ctrl + C_QUIT) << 2, 1);
  bump(ctrl, C_GEN);
}
