// Runs one compiled program (assembly/program.ts) on a team of threads sharing the memory
// (threaded build only). The host turns the program into a plan of segments, i32 triples
// [kind, start, words] at element offset plan:
//   SEG_SERIAL   ops [start, start + words) run by thread 0 alone (run_program); the others skip them
//   SEG_SPLIT    the one op at start, each thread running its share (splitOp)
//   SEG_BARRIER  the team meets (after every split op, before a split op that follows serial ops,
//                and as the plan's last segment, so no thread reads the plan after thread 0 returns)
// Thread 0 is the caller (run_plan_mt); helper threads sit in mt_helper and pick up each plan.
import { run_program } from '../program';
import { setQ8Scratch } from '../kernels/int8';
import { split_op } from './split.generated';
import {
  C_GEN, C_PLAN, C_NSEG, C_QUIT, CTRL_WORDS, TID, joinTeam, waitChange, bump, sync, teamDead,
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

// This thread's share of the op at p: 1 if the op splits (its decoding is generated from the op
// table, assembly/mt/split.generated.ts; the shares are in assembly/mt/shares.ts).
function splitOp(p: usize): i32 {
  return split_op(w(p), p + 1);
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
