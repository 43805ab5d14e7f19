// The graph's parameter-free row nodes: tanh, concat, repeat (a vector at every step) and pool
// (one vector per example from its valid steps), forward and backward, one kernel call each.
import type { GNode } from './nodes';
import { addGrad, gradOf, wantsGrad, type At, type Backward, type Env } from './compile';

type Emitter = (env: Env, n: GNode, at: At) => Backward | null;

const tanh: Emitter = (env, _n, { x, xv, T, out }) => {
  const { b } = env;
  const size = T * env.shape.B * x.features;
  const y = b.alloc(size);
  b.tanh(y, xv, size);
  env.values.set(out, y);
  return () => {
    const d = gradOf(env, out);
    b.tanhBwd(d, d, y, size);
    if (wantsGrad(env, x)) addGrad(env, x, d);
  };
};

const concat: Emitter = (env, n, { T, out }) => {
  const { b } = env;
  const rows = T * env.shape.B;
  const W = out.features;
  const y = b.alloc(rows * W);
  const offs: number[] = [];
  let off = 0;
  for (const s of n.inputs) {
    offs.push(off);
    b.copyRows(y + off, W, env.values.get(s)!, s.features, rows, s.features, 0);
    off += s.features;
  }
  env.values.set(out, y);
  return () => {
    const d = gradOf(env, out);
    n.inputs.forEach((s, i) => {
      if (!wantsGrad(env, s)) return;
      const dx = b.alloc(rows * s.features);
      b.copyRows(dx, s.features, d + offs[i], W, rows, s.features, 0);
      addGrad(env, s, dx);
    });
  };
};

const repeat: Emitter = (env, _n, { x, xv, out }) => {
  const { b } = env;
  const BF = env.shape.B * x.features;
  const Tl = env.shape.T.get(out.axis!)!;
  const y = b.alloc(Tl * BF);
  b.repeat(y, xv, Tl, BF);
  env.values.set(out, y);
  return () => {
    if (!wantsGrad(env, x)) return;
    const dv = b.alloc(BF);
    b.colsum(dv, gradOf(env, out), Tl, BF, 0);
    addGrad(env, x, dv);
  };
};

const pool: Emitter = (env, n, { x, xv, T, lens, out }) => {
  const { b } = env;
  const B = env.shape.B;
  const F = x.features;
  const mode = { last: 0, mean: 1, max: 2 }[n.opts.mode as 'last'];
  const y = b.alloc(B * F);
  const idx = mode === 2 ? b.alloc(B * F) : 0;
  b.pool(y, idx, xv, lens, T, B, F, mode);
  env.values.set(out, y);
  return () => {
    if (!wantsGrad(env, x)) return;
    const dx = b.alloc(T * B * F);
    b.fill(dx, 0, T * B * F);
    b.poolBwd(dx, gradOf(env, out), idx, lens, T, B, F, mode);
    addGrad(env, x, dx);
  };
};

export const ROW_EMITTERS: Record<string, Emitter> = { tanh, concat, repeat, pool };
