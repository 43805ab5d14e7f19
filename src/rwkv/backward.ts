// The RWKV-7 backward as one op list (assembly/rwkv7-backward.ts + gemm_nn/gemm_tn): mean
// cross-entropy, the head and ln_out, then each block from the last, channel mix then time mix, through
// the delta-rule state (rwkv7_wkv_backward walks t = T−1 … 0 over the states the forward saved), down
// to ln0 and the embedding. Parameter gradients accumulate into a gradient block laid out as the
// parameters (the program zeroes it first); every dX is a gemm_nn and every dW a gemm_tn over all
// T·B rows. The model trains from the zero state; the stack's backward (also the graph's rwkv7 node) takes the state it started from.
import type { ProgramBuilder } from '../ir/program';
import type { Rwkv7Config, Rwkv7StackConfig } from './layout';
import type { ForwardPlan, ParamOffsets, StackPlan, StateOffsets } from './forward';

/** Gradient buffers shared by every block (M rows). */
export interface GradBuffers {
  dx: number; // (M, C) gradient of the residual stream
  dtmp: number; // (M, C) a norm's or shift's input gradient
  dlogits: number; // (M, V); 0 for a stack without a head
  dhid: number; // (M, F)
  dfm: number;
  dmix: number; // (6, M, C)
  dr: number; dk: number; dv: number; dw: number; da: number; dvl: number; dg: number; dwl: number; dal: number;
  dkk: number; dkh: number; dvh: number; dy: number; dyn: number; do_: number;
  dlw: number; dla: number; dlv: number; dlg: number;
  dvfirst: number; // (M, C) what later layers send to layer 0's v
  dS: number; // (B, H, N, N)
}

/** Allocates the gradient buffers of T·B rows (dlogits only when `c` has a vocabulary: the whole model). */
export function gradBuffers(b: ProgramBuilder, c: Rwkv7StackConfig & { vocabSize?: number }, T: number, B: number): GradBuffers {
  const M = T * B;
  const mc = (): number => b.alloc(M * c.dim);
  return {
    dx: mc(), dtmp: mc(), dlogits: c.vocabSize ? b.alloc(M * c.vocabSize) : 0, dhid: b.alloc(M * c.ffnDim), dfm: mc(), dmix: b.alloc(6 * M * c.dim),
    dr: mc(), dk: mc(), dv: mc(), dw: mc(), da: mc(), dvl: mc(), dg: mc(), dwl: mc(), dal: mc(),
    dkk: mc(), dkh: mc(), dvh: mc(), dy: mc(), dyn: mc(), do_: mc(),
    dlw: b.alloc(M * c.lora.w), dla: b.alloc(M * c.lora.a), dlv: b.alloc(M * c.lora.v), dlg: b.alloc(M * c.lora.g),
    dvfirst: mc(), dS: b.alloc(B * c.dim * c.headSize),
  };
}

/**
 * Emits loss and backward after emitForward(train buffers): `targets` (M) i32, `slot` the loss slot
 * (its scale set by the host), gradients into the block at `g(name)`.
 */
export function emitBackward(
  b: ProgramBuilder, c: Rwkv7Config, p: ParamOffsets, g: ParamOffsets, f: ForwardPlan, d: GradBuffers,
  targets: number, slot: number, gradBase: number, gradSize: number,
): void {
  const M = f.T * f.B;
  const C = c.dim;
  const V = c.vocabSize;
  b.fill(gradBase, 0, gradSize);
  b.softmaxCe(d.dlogits, f.logits, targets, M, V, slot);
  // the head, then the stack down to the embedding's output
  b.gemmTn(g('head.weight'), d.dlogits, f.xo, V, C, M, 1);
  b.gemmNn(d.dtmp, d.dlogits, p('head.weight'), M, C, V, 0);
  emitStackBackward(b, c, p, g, f, d, d.dtmp, d.dtmp, null);
  b.embedBwd(g('emb.weight'), d.dtmp, f.ids, M, C);
}

/** The initial state a block stack ran from (its shift vectors and wkv states), for the backward; null = zeros. */
export type StackInit = StateOffsets | null;

/**
 * Emits the backward of emitStack: from `dxo` (M, C), the gradient of ln_out's output, down to
 * `dIn` (M, C, written), the gradient of ln0's input, accumulating every parameter gradient at
 * `g(name)`. `init` is the state the forward started from (null: zeros); no gradient reaches it.
 */
export function emitStackBackward(
  b: ProgramBuilder, c: Rwkv7StackConfig, p: ParamOffsets, g: ParamOffsets, f: StackPlan, d: GradBuffers,
  dxo: number, dIn: number, init: StackInit,
): void {
  const { T, B } = f;
  const M = T * B;
  const C = c.dim;
  const N = c.headSize;
  const H = C / N;
  const F = c.ffnDim;
  const MC = M * C;
  b.fill(d.dvfirst, 0, MC);
  b.rwkv7NormBwd(d.dx, g('ln_out.weight'), g('ln_out.bias'), dxo, f.x, f.statsOut, p('ln_out.weight'), M, 1, C, 0);
  for (let l = c.layers - 1; l >= 0; l--) {
    const q = f.blocks[l];
    const at = `blocks.${l}.att.`;
    const fn = `blocks.${l}.ffn.`;
    const mix = (i: number): number => q.mix + i * MC;
    const dmix = (i: number): number => d.dmix + i * MC;
    // channel mix: x_out = x_mid + relu(fm·Wkᵀ)²·Wvᵀ
    b.gemmNn(d.dhid, d.dx, p(fn + 'value.weight'), M, F, C, 0);
    b.gemmTn(g(fn + 'value.weight'), d.dx, q.hid, C, F, M, 1);
    b.rwkv7ReluSqBwd(d.dhid, d.dhid, q.hid, M * F);
    b.gemmNn(d.dfm, d.dhid, p(fn + 'key.weight'), M, C, F, 0);
    b.gemmTn(g(fn + 'key.weight'), d.dhid, q.fm, F, C, M, 1);
    b.rwkv7ShiftBwd(d.dtmp, g(fn + 'x_k'), d.dfm, q.xf, init ? init.ffn[l] : 0, p(fn + 'x_k'), T, B, C, 1, 0);
    b.rwkv7NormBwd(d.dx, g(`blocks.${l}.ln2.weight`), g(`blocks.${l}.ln2.bias`), d.dtmp, q.xMid, q.statsFfn, p(`blocks.${l}.ln2.weight`), M, 1, C, 1);
    // time mix: x_mid = x_in + o·Woᵀ
    b.gemmNn(d.do_, d.dx, p(at + 'output.weight'), M, C, C, 0);
    b.gemmTn(g(at + 'output.weight'), d.dx, q.o, C, C, M, 1);
    b.rwkv7OutBwd(d.dg, d.dyn, d.dr, d.dkh, d.dvh, g(at + 'r_k'), d.do_, q.yn, q.r, q.kh, q.vh, q.g, p(at + 'r_k'), M, C, N);
    b.rwkv7NormBwd(d.dy, g(at + 'ln_x.weight'), g(at + 'ln_x.bias'), d.dyn, q.y, q.statsX, p(at + 'ln_x.weight'), M, H, N, 0);
    b.fill(d.dS, 0, B * C * N);
    b.rwkv7WkvBwd(d.dr, d.dw, d.dkh, d.dvh, d.dkk, d.da, d.dS, d.dy, q.saved, init ? init.wkv[l] : 0, q.r, q.w, q.kh, q.vh, q.kk, q.a, T, B, H, N);
    b.rwkv7PrepBwd(
      d.dwl, d.dal, d.dvl, d.dk, d.dv, d.dvfirst, g(at + 'w0'), g(at + 'a0'), g(at + 'v0'), g(at + 'k_k'), g(at + 'k_a'),
      d.dw, d.da, d.dkk, d.dkh, d.dvh, q.w, q.wl, q.a, q.vg, q.kk, q.k, q.v, f.vfirst,
      p(at + 'w0'), p(at + 'k_k'), p(at + 'k_a'), M, C, N, l === 0 ? 1 : 0,
    );
    // the r, k, v projections
    const proj = (dOut: number, dIn: number, W: string, mixIn: number, N2: number, K2: number, acc: number): void => {
      b.gemmNn(dIn, dOut, p(W), M, K2, N2, acc);
      b.gemmTn(g(W), dOut, mixIn, N2, K2, M, 1);
    };
    proj(d.dr, dmix(0), at + 'receptance.weight', mix(0), C, C, 0);
    proj(d.dk, dmix(2), at + 'key.weight', mix(2), C, C, 0);
    proj(d.dv, dmix(3), at + 'value.weight', mix(3), C, C, 0);
    // low-rank maps (stored transposed: w1 as (D, C), w2 as (C, D))
    proj(d.dwl, d.dlw, at + 'w2', q.lw, C, c.lora.w, 0);
    b.tanhBwd(d.dlw, d.dlw, q.lw, M * c.lora.w);
    proj(d.dlw, dmix(1), at + 'w1', mix(1), c.lora.w, C, 0);
    proj(d.dal, d.dla, at + 'a2', q.la, C, c.lora.a, 0);
    proj(d.dla, dmix(4), at + 'a1', mix(4), c.lora.a, C, 0);
    if (l > 0) {
      proj(d.dvl, d.dlv, at + 'v2', q.lv, C, c.lora.v, 0);
      proj(d.dlv, dmix(3), at + 'v1', mix(3), c.lora.v, C, 1);
    }
    proj(d.dg, d.dlg, at + 'g2', q.lg, C, c.lora.g, 0);
    b.rwkv7SigmoidBwd(d.dlg, d.dlg, q.lg, M * c.lora.g);
    proj(d.dlg, dmix(5), at + 'g1', mix(5), c.lora.g, C, 0);
    b.rwkv7ShiftBwd(d.dtmp, g(at + 'x_r'), d.dmix, q.xn, init ? init.att[l] : 0, p(at + 'x_r'), T, B, C, 6, 0);
    b.rwkv7NormBwd(d.dx, g(`blocks.${l}.ln1.weight`), g(`blocks.${l}.ln1.bias`), d.dtmp, q.xIn, q.statsAtt, p(`blocks.${l}.ln1.weight`), M, 1, C, 1);
  }
  b.rwkv7NormBwd(dIn, g('blocks.0.ln0.weight'), g('blocks.0.ln0.bias'), d.dx, f.x0, f.stats0, p('blocks.0.ln0.weight'), M, 1, C, 0);
}
