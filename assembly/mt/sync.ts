// Synchronisation of one team of threads over a shared memory (the threaded build only: imported by
// assembly/index-mt.ts, never by the single-thread binaries). The control block is 64 i32 words the
// host allocates in the shared heap (element offset ctrl, 16-byte aligned); the words the threads
// spin on sit 64 bytes apart so they do not share a cache line.
//   ctrl + 0   GEN      job generation: thread 0 bumps it to start a job on the helpers
//   ctrl + 16  COUNT    barrier arrivals of the current phase
//   ctrl + 32  EPOCH    barrier phase: the last arrival bumps it and so releases the others
//   ctrl + 48  PLAN     element offset of the job's plan        ctrl + 49  NSEG  its segments
//   ctrl + 50  QUIT     1: helpers leave mt_helper               ctrl + 51  SLEEPERS  threads in wait32
//   ctrl + 52  DEAD     set by the host when a helper thread stopped (a trap): no wait waits any more
// A thread spins for SPIN polls, then (when it may block: helpers always, thread 0 where the engine
// allows Atomics.wait) sleeps in memory.atomic.wait32; a releasing thread notifies only when some
// thread has announced itself in SLEEPERS (announce, then wait32 re-checks the word: no lost wake-up).

export const C_GEN: usize = 0;
export const C_COUNT: usize = 16;
export const C_EPOCH: usize = 32;
export const C_PLAN: usize = 48;
export const C_NSEG: usize = 49;
export const C_QUIT: usize = 50;
export const C_SLEEPERS: usize = 51;
export const C_DEAD: usize = 52;
export const CTRL_WORDS: i32 = 64;

// Polls before sleeping: long enough that a helper stays awake between the steps of a stream.
const SPIN: i32 = 1 << 17;
// A sleep re-checks its word at least this often (ns). Measured in Node 20: a notify from a helper
// thread did not always wake the main thread out of memory.atomic.wait32 (both threads asleep, the
// word already changed); a bounded wait turns such a lost wake-up into a delay of at most this.
const WAIT_NS: i64 = 200_000;

@inline function addr(ctrl: usize, word: usize): usize {
  return (ctrl + word) << 2;
}

// Returns once the i32 at word `word` of ctrl differs from `seen` (spin, then sleep if canWait).
// Returns at once when the team is dead (a helper stopped).
export function waitChange(ctrl: usize, word: usize, seen: i32, canWait: i32): void {
  const p = addr(ctrl, word);
  const dead = addr(ctrl, C_DEAD);
  for (let i = 0; i < SPIN; i++) if (atomic.load<i32>(p) != seen || atomic.load<i32>(dead)) return;
  if (!canWait) {
    while (atomic.load<i32>(p) == seen && !atomic.load<i32>(dead)) {}
    return;
  }
  const s = addr(ctrl, C_SLEEPERS);
  atomic.add<i32>(s, 1);
  while (atomic.load<i32>(p) == seen && !atomic.load<i32>(dead)) memory.atomic.wait32(p, seen, WAIT_NS);
  atomic.sub<i32>(s, 1);
}

// 1 when a helper of the team has stopped.
export function teamDead(ctrl: usize): i32 {
  return atomic.load<i32>(addr(ctrl, C_DEAD));
}

// Bumps the i32 at `word` and wakes the threads sleeping on it.
export function bump(ctrl: usize, word: usize): void {
  const p = addr(ctrl, word);
  atomic.add<i32>(p, 1);
  if (atomic.load<i32>(addr(ctrl, C_SLEEPERS)) > 0) atomic.notify(p, 0x7fffffff);
}

// Barrier of all n threads: returns once every thread has called it for this phase. Every write a
// thread made before arriving is visible to every thread after it returns (seq-cst atomics).
export function barrier(ctrl: usize, n: i32, canWait: i32): void {
  if (n <= 1) return;
  const epoch = atomic.load<i32>(addr(ctrl, C_EPOCH));
  if (atomic.add<i32>(addr(ctrl, C_COUNT), 1) == n - 1) {
    atomic.store<i32>(addr(ctrl, C_COUNT), 0);
    bump(ctrl, C_EPOCH);
    return;
  }
  waitChange(ctrl, C_EPOCH, epoch, canWait);
}

// Thread tid's share [shareLo, shareHi) of `total` items out of n threads: blocks of a multiple of
// 4 items, so SIMD lane groups and the tail fall where the single-thread kernel puts them.
@inline export function shareLo(total: i32, tid: i32, n: i32): i32 {
  const chunk = ((total + n - 1) / n + 3) & ~3;
  return min(total, tid * chunk);
}
@inline export function shareHi(total: i32, tid: i32, n: i32): i32 {
  const chunk = ((total + n - 1) / n + 3) & ~3;
  return min(total, (tid + 1) * chunk);
}

// This instance's place in the team (globals are per instance, so per thread): set by run_plan_mt
// and mt_helper before any split kernel runs.
export let TID: i32 = 0;
export let NT: i32 = 1;
export let CTRL: usize = 0;
export let CAN_WAIT: i32 = 0;

export function joinTeam(ctrl: usize, tid: i32, n: i32, canWait: i32): void {
  CTRL = ctrl;
  TID = tid;
  NT = n;
  CAN_WAIT = canWait;
}

// The team's barrier (a no-op for a team of one).
@inline export function sync(): void {
  barrier(CTRL, NT, CAN_WAIT);
}
