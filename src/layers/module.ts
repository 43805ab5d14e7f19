// What every layer provides to the model graph: its parameters (PyTorch names), its output width
// for an input width (shape propagation), and the kernel calls of its forward pass.
import type { ParamSpec } from '../params/arena';
import type { ProgramBuilder } from '../ir/program';

/** A recurrent state buffer of one layer and direction: where h0 goes in and hN comes out. */
export interface StateSlot {
  /** 'h' or 'c' */
  kind: 'h' | 'c';
  /** Index of this layer among the model's recurrent layers' (layer, direction) pairs. */
  index: number;
  /** Element offset of the (B, H) block the kernel reads as the initial state. */
  init: number;
  /** Element offset of the (B, H) block holding the final state after a run. */
  final: number;
  H: number;
  /** Training programs: element offset of the (B, H) gradient w.r.t. the initial state. */
  dInit?: number;
}

export interface EmitContext {
  readonly b: ProgramBuilder;
  readonly T: number;
  readonly B: number;
  /** Element offset of the (B) i32 lengths, or 0 when every row has length T. */
  readonly lens: number;
  /** Streaming: T = 1 and each recurrent layer copies its final state back to its initial slot. */
  readonly streaming: boolean;
  /** Training: keep what backward needs and allocate gradient buffers. */
  readonly training: boolean;
  /** Draw dropout masks (trainStep); false in inference and in evaluate, where dropout is the identity. */
  readonly dropout: boolean;
  /** Element offset of the model's dropout generator state (4 u32 words). */
  readonly rngState: number;
  /** Absolute offset of this module's parameter `name` (prefix applied). */
  param(name: string): number;
  /** Like param, but 0 when the model has no such parameter (e.g. bias: false). */
  optParam(name: string): number;
  /** The int8 copy of weight `name` when the model is quantized (inference programs use it). */
  quant?(name: string): { q: number; s: number } | undefined;
  /**
   * The kept packed copy of weight `name` (N, K) (pack_hh with `apart`) when the program reads packed
   * weights (batch-1 streams, src/model/packs.ts), else undefined.
   */
  packed?(name: string, N: number, K: number, apart?: number): number | undefined;
  /**
   * Graphs: emits ops that fill a recurrent layer's initial state block `init` (B, H) of slot
   * (kind, layer·D + direction) from another node, before the cell runs. Absent: the host writes it.
   */
  loadState?(kind: 'h' | 'c', index: number, init: number, H: number): void;
}

/** What a module's backward emission needs besides the forward's saved buffers. */
export interface BackwardContext {
  readonly b: ProgramBuilder;
  /** Absolute offset of this module's parameter `name` (as in EmitContext). */
  param(name: string): number;
  optParam(name: string): number;
  /** Absolute offset of the gradient of this module's parameter `name` in the gradient arena. */
  grad(name: string): number;
  /** Like grad, but 0 when the model has no such parameter. */
  optGrad(name: string): number;
  /** False for the first module: nothing upstream needs dL/d(input), so skip computing it. */
  readonly needInputGrad: boolean;
  /**
   * Upstream gradient of a final state: the (B, H) buffer holding dL/d(hN or cN) of this module's
   * (layer·D + direction) slot, or 0 (none). Absent: no final-state gradients.
   */
  dFinal?(kind: 'h' | 'c', index: number): number;
}

export interface Emitted {
  /** Element offset of the (T, B, features) time-major output. */
  out: number;
  features: number;
  states?: StateSlot[];
  /**
   * Emits the backward pass given dOut, the (T, B, features) gradient of the output (which it may
   * overwrite). Returns the offset of dL/d(input) (T, B, inFeatures), or 0 when !needInputGrad.
   * Parameter gradients are ACCUMULATED (+=) into the gradient arena.
   */
  backward?: (ctx: BackwardContext, dOut: number) => number;
}

/**
 * A layer of a `Sequential` stack (what the `layers.*` factories return): its kind, widths, parameters and
 * config. Most layers are also a {@link Module} (they emit their own ops); a layer that a graph node emits
 * (`layers.rwkv7`) is only a Layer.
 */
export interface Layer {
  /** Layer type, e.g. 'lstm', 'linear'. */
  readonly kind: string;
  /** 'ids' for layers that take integer token ids (embedding); 'float' otherwise. */
  readonly inputKind: 'float' | 'ids';
  /** @internal the parameters this layer owns (PyTorch names, without a model prefix). */
  paramSpecs(): ParamSpec[];
  /** Output features for a given input width; throws ShapeError when the input width is wrong. */
  outFeatures(inFeatures: number): number;
  /** JSON-serialisable config (for summaries and files). */
  config(): Record<string, unknown>;
}

/** A layer that compiles itself into a program (every layer but those a graph node emits). */
export interface Module extends Layer {
  /** @internal emits the forward pass reading a (T, B, inFeatures) buffer at `input`. */
  emit(ctx: EmitContext, input: number, inFeatures: number): Emitted;
}
