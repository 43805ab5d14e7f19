// Non-recurrent layers: linear (dense), embedding, softmax / log-softmax. Each applies to every
// time step at once: one kernel call over T·B rows.
import type { ParamSpec } from '../params/arena';
import type { BackwardContext, EmitContext, Emitted, Module } from './module';
import { ShapeError, ValueError, show } from '../errors';
import { checkOptions, keysOf } from '../options';
import { checkLimit } from '../limits';
import { positiveInt as posInt } from '../ir/checks';

const LINEAR_KEYS = keysOf<LinearOptions>()('inFeatures', 'outFeatures', 'bias');
const EMBEDDING_KEYS = keysOf<EmbeddingOptions>()('numEmbeddings', 'embeddingDim');
const DROPOUT_KEYS = keysOf<{ p: number }>()('p');


/** Options of a linear (dense) layer y = x·Wᵀ + b, weight `(outFeatures, inFeatures)` as in PyTorch. */
export interface LinearOptions {
  /** Input features. */
  inFeatures: number;
  /** Output features. */
  outFeatures: number;
  /** Learnable bias (default true). */
  bias?: boolean;
}

/** y = x·Wᵀ + b with W (outFeatures, inFeatures) as in PyTorch's nn.Linear. */
export class LinearModule implements Module {
  readonly kind = 'linear';
  readonly inputKind = 'float' as const;
  readonly inFeatures: number;
  readonly outFeatures_: number;
  readonly bias: boolean;
  constructor(o: LinearOptions) {
    checkOptions(o ?? null, LINEAR_KEYS, 'linear options');
    this.inFeatures = posInt('inFeatures', o?.inFeatures);
    this.outFeatures_ = posInt('outFeatures', o?.outFeatures);
    if (o.bias !== undefined && typeof o.bias !== 'boolean') throw new ValueError(`Expected bias to be a boolean, got ${show(o.bias)}`);
    this.bias = o.bias ?? true;
    checkLimit('maxParameters', this.inFeatures * this.outFeatures_, `the parameters of linear(inFeatures ${this.inFeatures}, outFeatures ${this.outFeatures_})`);
  }
  paramSpecs(): ParamSpec[] {
    const bound = 1 / Math.sqrt(this.inFeatures); // PyTorch's kaiming_uniform(a=√5) bound
    const s: ParamSpec[] = [{ name: 'weight', shape: [this.outFeatures_, this.inFeatures], init: { kind: 'uniform', bound } }];
    if (this.bias) s.push({ name: 'bias', shape: [this.outFeatures_], init: { kind: 'uniform', bound } });
    return s;
  }
  outFeatures(inFeatures: number): number {
    if (inFeatures !== this.inFeatures) throw new ShapeError(`Expected input features ${this.inFeatures} for linear, got ${inFeatures}`);
    return this.outFeatures_;
  }
  emit(ctx: EmitContext, input: number, inFeatures: number): Emitted {
    this.outFeatures(inFeatures);
    const out = ctx.b.alloc(ctx.T * ctx.B * this.outFeatures_);
    const TB = ctx.T * ctx.B;
    const O = this.outFeatures_;
    const I = this.inFeatures;
    const q = ctx.training ? undefined : ctx.quant?.('weight'); // int8 copy (src/model/quantize.ts)
    const wp = q || ctx.training || TB !== 1 ? undefined : ctx.packed?.('weight', O, I); // kept for a batch-1 stream
    if (q) ctx.b.gemmQ8(out, input, q.q, q.s, ctx.optParam('bias'), TB, O, I, 0);
    else if (wp) ctx.b.gemmPk(out, input, ctx.param('weight'), wp, ctx.optParam('bias'), TB, O, I, 0);
    else ctx.b.gemmNt(out, input, ctx.param('weight'), ctx.optParam('bias'), TB, O, I, 0);
    const backward = (bc: BackwardContext, dOut: number): number => {
      bc.b.gemmTn(bc.grad('weight'), dOut, input, O, I, TB, 1);
      const db = bc.optGrad('bias');
      if (db) bc.b.colsum(db, dOut, TB, O, 1);
      if (!bc.needInputGrad) return 0;
      const dx = bc.b.alloc(TB * I);
      bc.b.gemmNn(dx, dOut, bc.param('weight'), TB, I, O, 0);
      return dx;
    };
    return { out, features: O, backward: ctx.training ? backward : undefined };
  }
  config(): Record<string, unknown> {
    return { type: 'linear', inFeatures: this.inFeatures, outFeatures: this.outFeatures_, bias: this.bias };
  }
}

/**
 * Options of an embedding layer: a table of `numEmbeddings` rows of `embeddingDim` floats, indexed by token
 * ids.
 */
export interface EmbeddingOptions {
  /** Vocabulary size V: ids are in [0, V). */
  numEmbeddings: number;
  /** Features of each embedding vector. */
  embeddingDim: number;
}

/** Looks up rows of weight (numEmbeddings, embeddingDim) by integer token id, as nn.Embedding. */
export class EmbeddingModule implements Module {
  readonly kind = 'embedding';
  readonly inputKind = 'ids' as const;
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  constructor(o: EmbeddingOptions) {
    checkOptions(o ?? null, EMBEDDING_KEYS, 'embedding options');
    this.numEmbeddings = posInt('numEmbeddings', o?.numEmbeddings);
    this.embeddingDim = posInt('embeddingDim', o?.embeddingDim);
    checkLimit('maxParameters', this.numEmbeddings * this.embeddingDim, `the parameters of embedding(numEmbeddings ${this.numEmbeddings}, embeddingDim ${this.embeddingDim})`);
  }
  paramSpecs(): ParamSpec[] {
    return [{ name: 'weight', shape: [this.numEmbeddings, this.embeddingDim], init: { kind: 'normal', std: 1 } }];
  }
  outFeatures(inFeatures: number): number {
    if (inFeatures !== 1) throw new ShapeError(`Expected embedding to be the first layer (token ids), got input features ${inFeatures}`);
    return this.embeddingDim;
  }
  emit(ctx: EmitContext, input: number): Emitted {
    const out = ctx.b.alloc(ctx.T * ctx.B * this.embeddingDim);
    const n = ctx.T * ctx.B;
    const D = this.embeddingDim;
    ctx.b.embed(out, ctx.param('weight'), input, n, D);
    const backward = (bc: BackwardContext, dOut: number): number => {
      bc.b.embedBwd(bc.grad('weight'), dOut, input, n, D);
      return 0; // token ids have no gradient
    };
    return { out, features: D, backward: ctx.training ? backward : undefined };
  }
  config(): Record<string, unknown> {
    return { type: 'embedding', numEmbeddings: this.numEmbeddings, embeddingDim: this.embeddingDim };
  }
}

/** Softmax or log-softmax over the feature axis of every step. */
export class SoftmaxModule implements Module {
  readonly inputKind = 'float' as const;
  constructor(readonly kind: 'softmax' | 'logSoftmax') {}
  paramSpecs(): ParamSpec[] {
    return [];
  }
  outFeatures(inFeatures: number): number {
    return inFeatures;
  }
  emit(ctx: EmitContext, input: number, inFeatures: number): Emitted {
    const out = ctx.b.alloc(ctx.T * ctx.B * inFeatures);
    ctx.b[this.kind === 'softmax' ? 'softmax' : 'logSoftmax'](out, input, ctx.T * ctx.B, inFeatures);
    return { out, features: inFeatures };
  }
  config(): Record<string, unknown> {
    return { type: this.kind };
  }
}

/** Inverted dropout on every step's features in training; the identity in inference. */
export class DropoutModule implements Module {
  readonly kind = 'dropout';
  readonly inputKind = 'float' as const;
  readonly p: number;
  constructor(o: { p: number }) {
    checkOptions(o ?? null, DROPOUT_KEYS, 'dropout options');
    const p = o?.p;
    if (typeof p !== 'number' || !(p >= 0 && p < 1)) throw new ValueError(`Expected dropout p in [0, 1), got ${show(p)}`);
    this.p = p;
  }
  paramSpecs(): ParamSpec[] {
    return [];
  }
  outFeatures(inFeatures: number): number {
    return inFeatures;
  }
  emit(ctx: EmitContext, input: number, inFeatures: number): Emitted {
    if (!ctx.dropout || this.p === 0) {
      return { out: input, features: inFeatures, backward: ctx.training ? (_bc, dOut) => dOut : undefined };
    }
    const n = ctx.T * ctx.B * inFeatures;
    const mask = ctx.b.alloc(n);
    const out = ctx.b.alloc(n);
    ctx.b.dropout(out, mask, input, ctx.rngState, n, this.p);
    const backward = (bc: BackwardContext, dOut: number): number => {
      bc.b.mul(dOut, dOut, mask, n);
      return dOut;
    };
    return { out, features: inFeatures, backward };
  }
  config(): Record<string, unknown> {
    return { type: 'dropout', p: this.p };
  }
}
