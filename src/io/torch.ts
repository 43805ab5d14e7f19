// PyTorch state_dicts → models. Our parameter names, shapes and gate orders are PyTorch's, so the
// work is mapping key prefixes to layers and checking every tensor; nothing is reordered.
// The architecture comes as a small JSON in PyTorch's own vocabulary, in forward order:
//   { "modules": [ { "name": "emb", "type": "Embedding", "num_embeddings": 65, "embedding_dim": 32 },
//                  { "name": "rnn", "type": "LSTM", "input_size": 32, "hidden_size": 128,
//                    "num_layers": 2, "bidirectional": false, "batch_first": true },
//                  { "name": "fc", "type": "Linear", "in_features": 128, "out_features": 65 },
//                  { "type": "LogSoftmax" } ] }
// `name` is the module's attribute name, i.e. the state_dict key prefix (`rnn.weight_ih_l0`); without
// one the position is used, as nn.Sequential does (`1.weight_ih_l0`). A lone RNN/LSTM/GRU with an
// empty name imports as a standalone layer (keys `weight_ih_l0`, …).
import { Model, Sequential, layers, modelFromSpec, type ModelSpec } from '../model/model';
import { RecurrentCore } from '../layers/recurrent';
import { cellByInterchangeName, interchangeNames } from '../layers/cells';
import { withoutInitialisers } from '../params/initialisers';
import type { Layer } from '../layers/module';
import { ValueError, show } from '../errors';
import { checkOptions, keysOf } from '../options';
import { FormatError } from './format';
import { readSafetensors, type NamedTensor } from './safetensors';
import { checkLayerCount, plannedParameters, type PlannedParameter } from './architecture';

// PyTorch's own vocabulary, per module type of an importTorch architecture
type TorchSpec<T extends TorchModuleSpec['type']> = Extract<TorchModuleSpec, { type: T }>;
const TORCH_RECURRENT = keysOf<TorchSpec<'RNN' | 'LSTM' | 'GRU'>>()(
  'type', 'name', 'input_size', 'hidden_size', 'num_layers', 'bias', 'batch_first', 'bidirectional', 'dropout', 'nonlinearity', 'proj_size',
);
const TORCH_LINEAR = keysOf<TorchSpec<'Linear'>>()('type', 'name', 'in_features', 'out_features', 'bias');
const TORCH_EMBEDDING = keysOf<TorchSpec<'Embedding'>>()('type', 'name', 'num_embeddings', 'embedding_dim', 'padding_idx');
const TORCH_DROPOUT = keysOf<TorchSpec<'Dropout'>>()('type', 'name', 'p');
const TORCH_SOFTMAX = keysOf<TorchSpec<'Softmax' | 'LogSoftmax'>>()('type', 'name', 'dim');
const TORCH_IMPORT_KEYS = keysOf<TorchImportOptions>()('prefixes');

/**
 * One PyTorch module of an architecture, in PyTorch's own words: `nn.RNN` / `nn.LSTM` / `nn.GRU`, `nn.Linear`
 * or `nn.Embedding` with their constructor arguments, and the state-dict prefix `name`.
 */
export type TorchModuleSpec =
  | {
      /** The module class: `nn.RNN`, `nn.LSTM` or `nn.GRU`. */
      type: 'RNN' | 'LSTM' | 'GRU';
      /**
       * The module's attribute name: its state-dict keys start with `name.` (none: the keys have no prefix).
       */
      name?: string;
      /** As in PyTorch. */
      input_size: number;
      /** As in PyTorch. */
      hidden_size: number;
      /** As in PyTorch (default 1). */
      num_layers?: number;
      /** As in PyTorch (default true). */
      bias?: boolean;
      /** As in PyTorch (default false). */
      batch_first?: boolean;
      /** As in PyTorch (default false). */
      bidirectional?: boolean;
      /** As in PyTorch (default 0): dropout between stacked layers in training. */
      dropout?: number;
      /** RNN only: 'tanh' (default) or 'relu'. */
      nonlinearity?: 'tanh' | 'relu';
      /** LSTM only; must be 0 (projections are not supported). */
      proj_size?: number;
    }
  | { type: 'Linear'; name?: string; in_features: number; out_features: number; bias?: boolean }
  | { type: 'Embedding'; name?: string; num_embeddings: number; embedding_dim: number; padding_idx?: number | null }
  | { type: 'Dropout'; name?: string; p?: number }
  | { type: 'Softmax' | 'LogSoftmax'; name?: string; dim?: number };

/**
 * The modules a PyTorch state dict belongs to, in order (what {@link importTorch} needs beside the weights).
 */
export interface TorchArchitecture {
  /** The modules in the order the data flows through them. */
  modules: TorchModuleSpec[];
}

/** A state dict: name → float32 tensor (shape optional; sizes are always checked). */
export type StateDictInput = Record<string, NamedTensor | Float32Array>;

/** Options of {@link importTorch}. */
export interface TorchImportOptions {
  /** With a built model: the state_dict prefix of each layer (default: our own names, `0.`, `1.`, … or none). */
  prefixes?: string[];
}

/** The cell of a recurrent module type (any cell's `interchange.torch`: RNN, LSTM, GRU). */
const cellOf = (type: unknown) => cellByInterchangeName('torch', type);
const TORCH_KEYS: Record<string, readonly string[]> = {
  Linear: TORCH_LINEAR, Embedding: TORCH_EMBEDDING, Dropout: TORCH_DROPOUT, Softmax: TORCH_SOFTMAX, LogSoftmax: TORCH_SOFTMAX,
};

function moduleFromTorch(m: TorchModuleSpec, i: number): Layer {
  if (!m || typeof m !== 'object' || Array.isArray(m)) throw new ValueError(`Expected modules[${i}] to be a module object { type, … }, got ${m === null ? 'null' : typeof m}`);
  const where = `modules[${i}] (${show(m.type)})`;
  try {
    const cell = cellOf(m.type);
    const keys = cell ? TORCH_RECURRENT : Object.hasOwn(TORCH_KEYS, m.type) ? TORCH_KEYS[m.type] : undefined;
    if (keys) checkOptions(m, keys, `architecture ${where}`);
    if (cell) {
      const r = m as TorchSpec<'RNN' | 'LSTM' | 'GRU'>;
      if (r.proj_size) throw new ValueError(`Expected proj_size 0, got ${r.proj_size} (LSTM projections are not supported)`);
      const o = {
        inputSize: r.input_size,
        hiddenSize: r.hidden_size,
        numLayers: r.num_layers ?? 1,
        bias: r.bias ?? true,
        bidirectional: r.bidirectional ?? false,
        dropout: r.dropout ?? 0,
      };
      return new RecurrentCore(cell.kind, { ...o, ...cell.interchange!.fromTorch(r) } as never);
    }
    switch (m.type) {
      case 'Linear':
        return layers.linear({ inFeatures: m.in_features, outFeatures: m.out_features, bias: m.bias ?? true });
      case 'Embedding':
        return layers.embedding({ numEmbeddings: m.num_embeddings, embeddingDim: m.embedding_dim });
      case 'Dropout':
        return layers.dropout({ p: m.p ?? 0.5 });
      case 'Softmax':
      case 'LogSoftmax':
        if (m.dim !== undefined && m.dim !== -1 && m.dim !== 2) throw new ValueError(`Expected dim -1 (the feature axis), got ${m.dim}`);
        return m.type === 'Softmax' ? layers.softmax() : layers.logSoftmax();
      default:
        throw new ValueError(`Expected a module type among ${interchangeNames('torch').join(', ')}, Linear, Embedding, Dropout, Softmax, LogSoftmax, got ${show((m as { type: unknown }).type)}`);
    }
  } catch (e) {
    if (e instanceof ValueError) throw new ValueError(`${where}: ${e.message}`);
    throw e;
  }
}

/** The layers of an architecture as plain objects, each one's key prefix, and their parameters (sizes checked). */
interface TorchPlan {
  mods: TorchModuleSpec[];
  built: Layer[];
  prefixes: string[];
  batchFirst: boolean;
  standalone: boolean;
  params: PlannedParameter[];
}

function planArchitecture(arch: TorchArchitecture): TorchPlan {
  const mods = Array.isArray(arch) ? (arch as TorchModuleSpec[]) : arch?.modules;
  if (!Array.isArray(mods) || mods.length === 0) throw new ValueError(`Expected an architecture { modules: [...] } with at least one module, got ${JSON.stringify(arch)?.slice(0, 200)}`);
  checkLayerCount(mods.length, 'the modules of the architecture');
  const built = mods.map(moduleFromTorch);
  const prefixes = mods.map((m, i) => (m.name === undefined ? `${i}.` : m.name === '' ? '' : `${show(m.name)}.`));
  // batch_first belongs to the recurrent modules in PyTorch and to the whole model here
  const bfs = new Set(mods.filter((m) => cellOf(m.type)).map((m) => (m as { batch_first?: boolean }).batch_first ?? false));
  if (bfs.size > 1) throw new ValueError('Expected the same batch_first on every recurrent module, got both true and false');
  const standalone = mods.length === 1 && cellOf(mods[0].type) !== undefined;
  return { mods, built, prefixes, batchFirst: [...bfs][0] ?? false, standalone, params: plannedParameters(built, !standalone) };
}

/** Builds the (uninitialised) model a checked plan describes. */
function buildFromPlan(p: TorchPlan): Model {
  return withoutInitialisers(() => {
    if (p.standalone) {
      const { type, ...cfg } = p.built[0].config() as Record<string, unknown>; // config() names its layer type (the cell kind)
      return modelFromSpec({ type, config: { ...cfg, batchFirst: p.batchFirst } } as ModelSpec);
    }
    return new Sequential(p.built, { batchFirst: p.batchFirst });
  });
}

/** Our own name prefix of each layer of a model. */
function ownPrefixes(model: Model): string[] {
  return model instanceof Sequential ? model.layers.map((_, i) => `${i}.`) : [''];
}

/** A state dict as name → tensor with no inherited keys (a tensor may be called `__proto__`). */
export function stateDictOf(source: Uint8Array | ArrayBuffer | StateDictInput): Map<string, NamedTensor> {
  const sd = new Map<string, NamedTensor>();
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) {
    for (const [k, v] of Object.entries(readSafetensors(source).tensors)) sd.set(k, v);
  } else if (source && typeof source === 'object') {
    for (const [k, v] of Object.entries(source)) {
      const t = v instanceof Float32Array ? { data: v, shape: [v.length] } : v;
      if (!t || !(t.data instanceof Float32Array) || !Array.isArray(t.shape)) throw new ValueError(`Expected state dict entry ${k} to be a Float32Array or { data: Float32Array, shape }, got ${show(v)}`);
      sd.set(k, t);
    }
  } else throw new ValueError(`Expected safetensors bytes or a state dict object, got ${show(source)}`);
  return sd;
}

/**
 * Matches a state dict against parameters (our names; `own` our layer prefixes, `prefixes` the
 * state_dict's): every parameter present with its exact shape, every key used. Returns our name →
 * values; FormatError naming the key otherwise. Runs before anything is built or written.
 */
export function matchStateDict(sd: Map<string, NamedTensor>, params: readonly { name: string; shape: readonly number[] }[], own: string[], given: string[]): Record<string, Float32Array> {
  if (!Array.isArray(given) || given.some((p) => typeof p !== 'string')) throw new ValueError(`Expected prefixes to be an array of strings, got ${show(given)}`);
  if (given.length !== own.length) throw new ValueError(`Expected ${own.length} prefixes (one per layer), got ${given.length}`);
  const prefixes = given.map((p) => (p === '' || p.endsWith('.') ? p : `${p}.`));
  const values: Record<string, Float32Array> = Object.create(null);
  const used = new Set<string>();
  for (const p of params) {
    const layer = own.findIndex((o) => o !== '' && p.name.startsWith(o));
    const li = layer < 0 ? 0 : layer;
    const key = prefixes[li] + p.name.slice(own[li].length);
    const t = sd.get(key);
    if (!t) throw new FormatError(`Expected state_dict key ${key} for parameter ${p.name}, got none`);
    const n = p.shape.reduce((a, b) => a * b, 1);
    if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i]) || t.data.length !== n) {
      throw new FormatError(`Expected ${key} of shape [${p.shape.join(', ')}], got [${t.shape.join(', ')}]`);
    }
    const at = t.data.findIndex((v) => !Number.isFinite(v));
    if (at >= 0) throw new FormatError(`Expected finite values in ${key}, got ${t.data[at]} at element ${at}`);
    values[p.name] = t.data;
    used.add(key);
  }
  const extra = [...sd.keys()].filter((k) => !used.has(k));
  if (extra.length) throw new FormatError(`Expected only keys of this architecture in the state_dict, got unused ${extra.join(', ')}`);
  return values;
}

/**
 * Loads a PyTorch state_dict (safetensors bytes, or name → tensor) into a model. `arch` is either
 * a TorchArchitecture (a new model is built, initialisers skipped) or a built model (its
 * parameters are overwritten). Every parameter must be present with its exact shape and every
 * key must be used; otherwise nothing is built or written and a FormatError names the key. An
 * architecture is held to limits.maxLayers and limits.maxParameters before anything is built.
 */
export function importTorch(source: Uint8Array | ArrayBuffer | StateDictInput, arch: TorchArchitecture | Model, opts: TorchImportOptions = {}): Model {
  checkOptions(opts, TORCH_IMPORT_KEYS, 'importTorch options');
  const sd = stateDictOf(source);
  if (arch instanceof Model) {
    const own = ownPrefixes(arch);
    arch.loadStateDict(matchStateDict(sd, arch.parameters(), own, opts?.prefixes ?? own));
    return arch;
  }
  const plan = planArchitecture(arch);
  const own = plan.standalone ? [''] : plan.built.map((_, i) => `${i}.`);
  const values = matchStateDict(sd, plan.params, own, opts?.prefixes ?? plan.prefixes);
  return withStateDict(buildFromPlan(plan), values);
}

/** Loads values into a just-built model and returns it; disposes it if they do not fit. */
export function withStateDict(model: Model, values: Record<string, Float32Array>): Model {
  try {
    model.loadStateDict(values);
    return model;
  } catch (e) {
    model.dispose();
    throw e;
  }
}
