// A tiny op-list interpreter: the host compiles a model (for one batch/sequence shape) into a
// list of kernel calls once, and every forward pass — or every streaming step of the whole stack —
// is then ONE call across the JS↔wasm boundary: run_program(prog, words).
// Encoding: i32 words, each op is its opcode followed by a fixed number of arguments (element
// offsets, dimensions, flags; f32 arguments as their bit pattern). The ops, their codes and their
// arguments are listed once in assembly/ops.table.json; scripts/gen-ops.mjs generates the opcodes
// (opcodes.generated.ts), the per-op dispatch run_op (ops.generated.ts) and the TypeScript emitters.
import { run_op } from './ops.generated';

export { transpose01 } from './kernels/layout';

// run_program: executes `words` i32 words of ops starting at element offset prog.
//   Returns the number of ops run, or -(index+1) of the first unknown opcode (nothing after it runs).
export function run_program(prog: usize, words: i32): i32 {
  let p = prog;
  const end = prog + <usize>words;
  let n = 0;
  while (p < end) {
    const next = run_op(load<i32>(p << 2), p + 1);
    if (next == 0) return -(<i32>(p - prog) + 1);
    p = next;
    n++;
  }
  return n;
}
