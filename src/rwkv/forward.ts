// The RWKV-7 forward as one op list (assembly/rwkv7.ts + gemm_nt): embedding, ln0, per block the time
// mix (layer norm, six token shifts, the r/k/v projections and the four low-rank maps as gemm_nt over
// all T·B rows, the per-token maps, the delta-rule state, ln_x, bonus and gate, the output projection
// added into the residual) and the channel mix (layer norm, shift, key, relu², value added into the
// residual), then ln_out and the head. One run_program call runs the whole stack: a whole sequence,
// or one streaming step (T = 1) against the same state buffers.
import type { ProgramBuilder } from '../ir/program';
import type { Rwkv7Config, Rwkv7StackConfig } from './layout';
import type { QuantWeight } from '../model/quantize';

/** Element offsets of the parameters by official name (block layout, src/rwkv/layout.ts). */
export type ParamOffsets = (name: string) => number;

/** Offsets of the recurrent state of one batch of B rows: per layer att shift, wkv, ffn shift. */
export interface StateOffsets {
  att: number[]; // (B, C)
  wkv: number[]; // (B, H, N, N)
  ffn: number[]; // (B, C)
}

/** Floats of one row's state: per layer 2·C + H·N². */
export function stateFloats(c: Rwkv7StackConfig): number {
  return c.layers * (2 * c.dim + c.dim * c.headSize);
}

/** Splits a state block of B rows into its per-layer parts (layer-major: att, wkv, ffn). */
export function stateOffsets(c: Rwkv7StackConfig, base: number, B: number): StateOffsets {
  const s: StateOffsets = { att: [], wkv: [], ffn: [] };
  let off = base;
  for (let l = 0; l < c.layers; l++) {
    s.att.push(off);
    off += B * c.dim;
    s.wkv.push(off);
    off += B * c.dim * c.headSize;
    s.ffn.push(off);
    off += B * c.dim;
  }
  return s;
}

/** Buffers one block writes; training keeps one set per layer, inference reuses one. */
export interface BlockBuffers {
  xn: number; // (M, C) ln1(x)
  mix: number; // (6, M, C) shifted mixes r, w, k, v, a, g
  r: number;
  k: number;
  v: number;
  w: number; // the decay
  wl: number; // w_lora (training; inference passes w and overwrites it)
  a: number; // a_lora, then a
  vg: number; // v_lora, then its gate
  g: number;
  lw: number; // (M, Dw) tanh(xw·w1)
  la: number; // (M, Da)
  lv: number; // (M, Dv)
  lg: number; // (M, Dg) σ(xg·g1)
  kk: number;
  kh: number;
  vh: number;
  y: number; // wkv output
  yn: number; // ln_x(y)
  o: number; // gated output before the projection
  xf: number; // (M, C) ln2(x)
  fm: number; // (M, C) ffn shift mix
  hid: number; // (M, F) relu(key)²
  statsAtt: number; // (M, 2) ln1 stats, (M, H, 2) ln_x stats, (M, 2) ln2 stats (training only; 0 = none)
  statsX: number;
  statsFfn: number;
  saved: number; // (T, B, H, N, N) wkv states per step (training only; 0 = none)
  xIn: number; // (M, C) the residual entering the block (training only; 0 = none)
  xMid: number; // (M, C) the residual after the time mix (training only; 0 = none)
}

/** Allocates one block's buffers for M rows; `train` adds the saved statistics and states. */
export function blockBuffers(b: ProgramBuilder, c: Rwkv7StackConfig, T: number, B: number, train: boolean): BlockBuffers {
  const M = T * B;
  const C = c.dim;
  const H = C / c.headSize;
  const mc = (): number => b.alloc(M * C);
  return {
    xn: mc(), mix: b.alloc(6 * M * C), r: mc(), k: mc(), v: mc(), w: mc(), wl: train ? mc() : 0, a: mc(), vg: mc(), g: mc(),
    lw: b.alloc(M * c.lora.w), la: b.alloc(M * c.lora.a), lv: b.alloc(M * c.lora.v), lg: b.alloc(M * c.lora.g),
    kk: mc(), kh: mc(), vh: mc(), y: mc(), yn: mc(), o: mc(), xf: mc(), fm: mc(), hid: b.alloc(M * c.ffnDim),
    statsAtt: train ? b.alloc(M * 2) : 0,
    statsX: train ? b.alloc(M * H * 2) : 0,
    statsFfn: train ? b.alloc(M * 2) : 0,
    saved: train ? b.alloc(M * C * c.headSize) : 0,
    xIn: train ? mc() : 0,
    xMid: train ? mc() : 0,
  };
}

/** The buffers of the block stack (emitStack): the residual stream, its norms' statistics, the blocks'. */
export interface StackPlan {
  T: number;
  B: number;
  x: number; // (M, C) residual stream
  x0: number; // (M, C) the embedding before ln0 (training only; 0 = none)
  stats0: number; // (M, 2) ln0 stats (training only)
  xo: number; // (M, C) ln_out(x)
  statsOut: number; // (M, 2) ln_out stats (training only)
  vfirst: number; // (M, C) layer 0's v
  blocks: BlockBuffers[];
}

/** The whole model's buffers: the stack's, the token ids and the logits. */
export interface ForwardPlan extends StackPlan {
  ids: number; // (M) i32
  logits: number; // (M, V)
}

/** A projection y (+)= x·Wᵀ of parameter `name` (M, N, K as gemm_nt): f32 or int8 weights. */
export type Gemm = (y: number, x: number, name: string, M: number, N: number, K: number, acc: number) => void;

/** The int8 copy of a weight by official name, if it has one. */
export type QuantOf = (name: string) => QuantWeight | undefined;

/** The projection of emitForward: gemm_nt on the f32 weights, or gemm_q8_nt on a weight's int8 copy from `quant`. */
export function gemmOf(b: ProgramBuilder, p: ParamOffsets, quant: QuantOf | null): Gemm {
  return (y, x, name, M, N, K, acc) => {
    const q = quant?.(name);
    if (q) b.gemmQ8(y, x, q.q, q.s, 0, M, N, K, acc);
    else b.gemmNt(y, x, p(name), 0, M, N, K, acc);
  };
}

/**
 * Emits the forward of the whole model from the state at `st` (updated: the state after step T−1).
 * With `quant` (int8 copies by parameter name), those projections run gemm_q8_nt instead of gemm_nt.
 */
export function emitForward(b: ProgramBuilder, c: Rwkv7Config, p: ParamOffsets, st: StateOffsets, f: ForwardPlan, quant: Map<string, QuantWeight> | null = null): void {
  const gemm = gemmOf(b, p, quant ? (name) => quant.get(name) : null);
  const M = f.T * f.B;
  b.embed(f.x0 || f.x, p('emb.weight'), f.ids, M, c.dim);
  emitStack(b, c, p, st, f, gemm);
  gemm(f.logits, f.xo, 'head.weight', M, c.vocabSize, c.dim, 0);
}

/**
 * Emits the block stack between the embedding and the head: ln0 of `f.x0 || f.x` into f.x, every
 * block on the residual f.x from the state at `st` (updated in place), ln_out into f.xo. The graph's
 * rwkv7 node (src/graph/rwkv7.ts) emits exactly this.
 */
export function emitStack(b: ProgramBuilder, c: Rwkv7StackConfig, p: ParamOffsets, st: StateOffsets, f: StackPlan, gemm: Gemm): void {
  const { T, B } = f;
  const M = T * B;
  const C = c.dim;
  const N = c.headSize;
  const H = C / N;
  const F = c.ffnDim;
  const { w: Dw, a: Da, v: Dv, g: Dg } = c.lora;
  b.rwkv7Norm(f.x, f.stats0, f.x0 || f.x, p('blocks.0.ln0.weight'), p('blocks.0.ln0.bias'), M, 1, C, 1e-5);
  for (let l = 0; l < c.layers; l++) {
    const q = f.blocks[l];
    const at = `blocks.${l}.att.`;
    const MC = M * C;
    const mix = (i: number): number => q.mix + i * MC;
    if (q.xIn) b.copy(q.xIn, f.x, MC);
    // time mix
    b.rwkv7Norm(q.xn, q.statsAtt, f.x, p(`blocks.${l}.ln1.weight`), p(`blocks.${l}.ln1.bias`), M, 1, C, 1e-5);
    b.rwkv7Shift(q.mix, st.att[l], q.xn, st.att[l], p(at + 'x_r'), T, B, C, 6);
    gemm(q.r, mix(0), at + 'receptance.weight', M, C, C, 0);
    gemm(q.k, mix(2), at + 'key.weight', M, C, C, 0);
    gemm(q.v, mix(3), at + 'value.weight', M, C, C, 0);
    gemm(q.lw, mix(1), at + 'w1', M, Dw, C, 0);
    b.tanh(q.lw, q.lw, M * Dw);
    const wl = q.wl || q.w;
    gemm(wl, q.lw, at + 'w2', M, C, Dw, 0);
    gemm(q.la, mix(4), at + 'a1', M, Da, C, 0);
    gemm(q.a, q.la, at + 'a2', M, C, Da, 0);
    if (l > 0) {
      gemm(q.lv, mix(3), at + 'v1', M, Dv, C, 0);
      gemm(q.vg, q.lv, at + 'v2', M, C, Dv, 0);
    }
    gemm(q.lg, mix(5), at + 'g1', M, Dg, C, 0);
    b.rwkv7Sigmoid(q.lg, q.lg, M * Dg);
    gemm(q.g, q.lg, at + 'g2', M, C, Dg, 0);
    b.rwkv7Prep(q.w, wl, q.a, q.vg, q.kk, q.kh, q.vh, f.vfirst, q.k, q.v, p(at + 'w0'), p(at + 'a0'), p(at + 'v0'), p(at + 'k_k'), p(at + 'k_a'), M, C, N, l === 0 ? 1 : 0);
    b.rwkv7Wkv(q.y, st.wkv[l], q.saved, q.r, q.w, q.kh, q.vh, q.kk, q.a, T, B, H, N);
    b.rwkv7Norm(q.yn, q.statsX, q.y, p(at + 'ln_x.weight'), p(at + 'ln_x.bias'), M, H, N, 64e-5);
    b.rwkv7Out(q.o, q.yn, q.r, q.kh, q.vh, q.g, p(at + 'r_k'), M, C, N);
    gemm(f.x, q.o, at + 'output.weight', M, C, C, 1);
    if (q.xMid) b.copy(q.xMid, f.x, MC);
    // channel mix
    const fn = `blocks.${l}.ffn.`;
    b.rwkv7Norm(q.xf, q.statsFfn, f.x, p(`blocks.${l}.ln2.weight`), p(`blocks.${l}.ln2.bias`), M, 1, C, 1e-5);
    b.rwkv7Shift(q.fm, st.ffn[l], q.xf, st.ffn[l], p(fn + 'x_k'), T, B, C, 1);
    gemm(q.hid, q.fm, fn + 'key.weight', M, F, C, 0);
    b.rwkv7ReluSq(q.hid, q.hid, M * F);
    gemm(f.x, q.hid, fn + 'value.weight', M, C, F, 1);
  }
  b.rwkv7Norm(f.xo, f.statsOut, f.x, p('ln_out.weight'), p('ln_out.bias'), M, 1, C, 1e-5);
}
