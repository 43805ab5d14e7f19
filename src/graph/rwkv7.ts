// The rwkv7 node: a stack of RWKV-7 blocks (ln0, time mix and channel mix per block, ln_out) over a
// sequence, emitted by the RWKV7 model's own emitters (src/rwkv/forward.ts emitStack, backward.ts
// emitStackBackward), so an embedding → rwkv7 → linear graph runs the model's ops in the model's
// order. The arena holds the official layout; the low-rank factors, which the kernels read
// transposed, are transposed into the program's workspace before the stack runs (and their
// gradients transposed back and added). The state (per layer: the time-mix shift, the wkv state, the
// channel-mix shift) starts at zero in every run; a step program zeroes it at start and carries it
// from step to step, a truncated-BPTT chunk starts from the host-written final state of the last.
// With lengths, the stack runs every step and the steps past a row's length are set to 0 (mask_rows)
// in the output and its gradient: the valid steps are exactly those of the row run alone.
import type { GNode } from './nodes';
import { addGrad, gradOf, wantsGrad, type At, type Backward, type Env } from './compile';
import type { StateSlot } from '../layers/module';
import type { Rwkv7StackConfig } from '../rwkv/layout';
import { blockBuffers, emitStack, gemmOf, stateFloats, stateOffsets, type StackPlan, type StateOffsets } from '../rwkv/forward';
import { emitStackBackward, gradBuffers } from '../rwkv/backward';
import { transposedParams } from '../rwkv/stack';

/** The rwkv7 node's forward (and, in training and tape programs, its backward emitter). */
export function emitRwkv7(env: Env, n: GNode, { x, xv, T, lens, out }: At): Backward | null {
  const { b } = env;
  const c = n.opts.stack as Rwkv7StackConfig;
  const B = env.shape.B;
  const M = T * B;
  const C = c.dim;
  const full = (name: string): string => n.paramPrefix + name;
  // the low-rank factors in the kernels' layout, copied by this program before every run
  const tr = transposedParams(c);
  const copies = new Map<string, number>();
  for (const t of tr) {
    const off = b.alloc(t.rows * t.cols);
    b.transpose01(off, env.arena.offsetOf(full(t.name)), t.rows, t.cols, 1);
    copies.set(t.name, off);
  }
  const p = (name: string): number => copies.get(name) ?? env.arena.offsetOf(full(name));

  // the state: zeroed per run, or per start of a step program (then carried), or written by the host (carry)
  const nState = B * stateFloats(c);
  const st = b.alloc(nState);
  const streaming = env.stepNodes?.has(n) ?? false;
  const stOff = stateOffsets(c, st, B);
  let init: StateOffsets | null = null;
  if (streaming) env.pre!.fill(st, 0, nState);
  else if (env.carry) {
    const first = b.alloc(nState);
    init = stateOffsets(c, first, B);
    b.copy(st, first, nState);
  } else b.fill(st, 0, nState);
  const slots: StateSlot[] = [];
  for (let l = 0; l < c.layers; l++) {
    const parts: [number, number, number][] = [[stOff.att[l], init?.att[l] ?? stOff.att[l], C], [stOff.wkv[l], init?.wkv[l] ?? stOff.wkv[l], C * c.headSize], [stOff.ffn[l], init?.ffn[l] ?? stOff.ffn[l], C]];
    for (const [final, first, H] of parts) {
      slots.push({ kind: 'h', index: slots.length, init: first, final, H });
      if (streaming) env.carried.push([final, H]);
    }
  }
  env.states.set(n, slots);

  const train = env.training;
  const f: StackPlan = {
    T, B, x: b.alloc(M * C), x0: xv, stats0: train ? b.alloc(M * 2) : 0, xo: b.alloc(M * C), statsOut: train ? b.alloc(M * 2) : 0,
    vfirst: b.alloc(M * C), blocks: [],
  };
  const shared = train ? null : blockBuffers(b, c, T, B, false);
  for (let l = 0; l < c.layers; l++) f.blocks.push(shared ?? blockBuffers(b, c, T, B, true));
  // inference on a quantized model: the projections with int8 copies (stackInt8Names) read them
  const quant = env.quant;
  emitStack(b, c, p, stOff, f, gemmOf(b, p, quant ? (name) => quant(full(name)) : null));
  // with lengths, the steps past each row's length are 0, as a cell's (the valid steps never see them: the stack is causal)
  if (lens) b.maskRows(f.xo, lens, T, B, C);
  env.values.set(out, f.xo);
  if (!train) return null;
  return () => {
    // gradients of the transposed factors gather in the workspace, then go back to the official layout
    const gT = new Map<string, number>();
    for (const t of tr) {
      const off = b.alloc(t.rows * t.cols);
      b.fill(off, 0, t.rows * t.cols);
      gT.set(t.name, off);
    }
    const g = (name: string): number => gT.get(name) ?? env.grad + env.arena.entry(full(name)).rel;
    const d = gradBuffers(b, c, T, B);
    const dOut = gradOf(env, out);
    if (lens) b.maskRows(dOut, lens, T, B, C);
    emitStackBackward(b, c, p, g, f, d, dOut, d.dtmp, init);
    for (const t of tr) {
      const back = b.alloc(t.rows * t.cols);
      b.transpose01(back, gT.get(t.name)!, t.cols, t.rows, 1);
      b.add(env.grad + env.arena.entry(full(t.name)).rel, back, t.rows * t.cols);
    }
    if (wantsGrad(env, x)) addGrad(env, x, d.dtmp);
  };
}
