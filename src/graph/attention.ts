// The attention node: the projections as GEMMs around ONE attention_forward over every query step
// (a teacher-forced decoder's whole target at once), and its backward: attention_backward, then
// the projections' gradients as gemm_tn / gemm_nn / colsum.
import type { GNode } from './nodes';
import { addGrad, gradOf, wantsGrad, type Backward, type Env } from './compile';

export /** Attention: the projections as GEMMs around one attention_forward over every query step. */
function emitAttention(env: Env, n: GNode): Backward | null {
  const { b } = env;
  const B = env.shape.B;
  const [q, m] = n.inputs;
  const Tq = env.shape.T.get(q.axis!)!;
  const Tk = env.shape.T.get(m.axis!)!;
  const lensK = env.lens.get(m.axis!) ?? 0;
  const H = q.features;
  const E = m.features;
  const score = n.opts.score as string;
  const par = (name: string): number => env.arena.offsetOf(n.paramPrefix + name);
  const gpar = (name: string): number => env.grad + env.arena.entry(n.paramPrefix + name).rel;
  const qv = env.values.get(q)!;
  const mv = env.values.get(m)!;
  const A = score === 'additive' ? (n.opts.attentionSize as number) : H;
  let qk = qv;
  let kk = mv;
  // step-wise decoding over a fixed memory: its projection runs once per start, not every step
  const kb = env.pre && env.stepNodes?.has(n) && !env.stepNodes.has(m.node) ? env.pre : b;
  if (score === 'general') {
    kk = kb.alloc(Tk * B * H);
    kb.gemmNt(kk, mv, par('weight'), 0, Tk * B, H, E, 0);
  } else if (score === 'additive') {
    qk = b.alloc(Tq * B * A);
    kk = kb.alloc(Tk * B * A);
    b.gemmNt(qk, qv, par('query_weight'), 0, Tq * B, A, H, 0);
    kb.gemmNt(kk, mv, par('key_weight'), par('key_bias'), Tk * B, A, E, 0);
  }
  const v = score === 'additive' ? par('v') : 0;
  const mode = score === 'additive' ? 1 : 0;
  const a = b.alloc(Tq * B * Tk);
  const ctx = b.alloc(Tq * B * E);
  b.attn(a, ctx, qk, kk, mv, v, lensK, Tq, Tk, B, A, E, mode);
  env.values.set(n.ports[0], ctx);
  env.values.set(n.ports[1], a);
  if (!env.training) return null;
  return () => {
    const fill = (off: number, len: number): number => {
      b.fill(off, 0, len);
      return off;
    };
    const dqk = fill(b.alloc(Tq * B * A), Tq * B * A);
    const dm = fill(b.alloc(Tk * B * E), Tk * B * E);
    const dkk = score === 'dot' ? dm : fill(b.alloc(Tk * B * A), Tk * B * A);
    const scratch = b.alloc(Tk);
    const dv = score === 'additive' ? gpar('v') : 0;
    b.attnBwd(dqk, dkk, dm, dv, gradOf(env, n.ports[0]), a, qk, kk, mv, v, lensK, scratch, Tq, Tk, B, A, E, mode);
    let dq = dqk;
    if (score === 'general') {
      b.gemmTn(gpar('weight'), dkk, mv, H, E, Tk * B, 1);
      b.gemmNn(dm, dkk, par('weight'), Tk * B, E, H, 1);
    } else if (score === 'additive') {
      b.gemmTn(gpar('query_weight'), dqk, qv, A, H, Tq * B, 1);
      dq = b.alloc(Tq * B * H);
      b.gemmNn(dq, dqk, par('query_weight'), Tq * B, H, A, 0);
      b.gemmTn(gpar('key_weight'), dkk, mv, A, E, Tk * B, 1);
      b.colsum(gpar('key_bias'), dkk, Tk * B, A, 1);
      b.gemmNn(dm, dkk, par('key_weight'), Tk * B, E, A, 1);
    }
    if (wantsGrad(env, q)) addGrad(env, q, dq);
    if (wantsGrad(env, m)) addGrad(env, m, dm);
  };
}
