// The layer list of a Keras / TF.js topology, checked before any layer is read: a Sequential's
// `layers`, or a functional model's layers put in order along the one chain from its input to its
// output. Every layer must be { class_name, config } (wrappers: config.layer likewise); the count
// is held to limits.maxLayers; a functional graph that loops back (a layer fed by itself, a→b→a)
// or branches is a FormatError, never a walk without end.
import { FormatError } from './format';
import { checkLayerCount } from './architecture';
import { show } from '../errors';

export interface KLayer {
  class_name: string;
  config: Record<string, unknown> & { name?: string };
}

interface FunctionalConfig {
  input_layers?: unknown;
  output_layers?: unknown;
}

function bad(msg: string): never {
  throw new FormatError(msg);
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Checks one layer (and a wrapped layer) has a string class_name and an object config. */
function checkLayer(l: unknown, where: string): KLayer {
  if (!isObject(l) || typeof l.class_name !== 'string') bad(`Expected ${where} to be { class_name, config }, got ${l === null ? 'null' : typeof l}`);
  if (l.config === undefined) l.config = {};
  if (!isObject(l.config)) bad(`Expected ${where}.config (${l.class_name}) to be an object, got ${show(l.config)}`);
  if (l.config.layer !== undefined) checkLayer(l.config.layer, `${where}.config.layer`);
  return l as unknown as KLayer;
}

/** The model's layers in order (Sequential as listed; functional along its chain). */
export function topologyLayers(top: Record<string, unknown>, cls: string): KLayer[] {
  const cfg = top.config as { layers?: unknown } | unknown[];
  const list = Array.isArray(cfg) ? cfg : isObject(cfg) ? cfg.layers : undefined;
  if (!Array.isArray(list) || !list.length) bad(`Expected a ${cls} config with layers, got none`);
  checkLayerCount(list.length, 'the layers of model.json');
  const layers = list.map((l, i) => checkLayer(l, `layers[${i}]`));
  return cls === 'Sequential' ? layers : functionalChain(layers, (Array.isArray(cfg) ? {} : cfg) as FunctionalConfig);
}

/** Names of the layers feeding a functional layer (Keras 2 / tfjs lists, or Keras 3 keras_history). */
function inboundNames(l: KLayer & { inbound_nodes?: unknown }): string[] {
  const names: string[] = [];
  const walk = (v: unknown, depth: number): void => {
    if (depth > 32) bad(`Expected inbound_nodes nested at most 32 deep, got deeper nesting in layer ${show(l.config.name)}`);
    if (Array.isArray(v)) {
      if (typeof v[0] === 'string' && typeof v[1] === 'number') names.push(v[0]);
      else v.forEach((x) => walk(x, depth + 1));
    } else if (isObject(v)) {
      const h = (v as { config?: { keras_history?: unknown[] } }).config?.keras_history;
      if (Array.isArray(h) && typeof h[0] === 'string') names.push(h[0]);
      else Object.values(v).forEach((x) => walk(x, depth + 1));
    }
  };
  walk(l.inbound_nodes ?? [], 0);
  return names;
}

/** [name, node, tensor] entries of input_layers / output_layers (or one such entry alone). */
function endpoints(v: unknown, what: string): string[] {
  const list = Array.isArray(v) && typeof v[0] === 'string' ? [v] : v;
  if (!Array.isArray(list) || !list.every((e) => Array.isArray(e) && typeof e[0] === 'string')) {
    bad(`Expected ${what} to be a list of [layer name, node, tensor], got ${JSON.stringify(v)?.slice(0, 100)}`);
  }
  return list.map((e) => e[0] as string);
}

/** A functional model's layers in order, when they form one chain from its input to its output. */
function functionalChain(all: KLayer[], cfg: FunctionalConfig): KLayer[] {
  const nameOf = (l: KLayer) => String((l as { name?: string }).name ?? l.config.name);
  const ins = endpoints(cfg.input_layers ?? [], 'input_layers');
  const outs = endpoints(cfg.output_layers ?? [], 'output_layers');
  if (ins.length !== 1 || outs.length !== 1) bad(`Expected a functional model with one input and one output, got ${ins.length} and ${outs.length}`);
  const byName = new Map(all.map((l) => [nameOf(l), l]));
  const feeds = new Map(all.map((l) => [l, inboundNames(l)]));
  const chain: KLayer[] = [];
  const seen = new Set<KLayer>();
  let cur = byName.get(ins[0]);
  while (cur) {
    if (seen.has(cur)) bad(`Expected a functional model without cycles, got layer ${nameOf(cur)} reached twice`);
    seen.add(cur);
    chain.push(cur);
    const name = nameOf(cur);
    if (name === outs[0]) return chain;
    const next = all.filter((l) => feeds.get(l)!.includes(name));
    if (next.length !== 1) bad(`Expected a functional model whose layers form one chain, got ${next.length} layers fed by ${name}`);
    const from = feeds.get(next[0])!;
    if (new Set(from).size !== 1) bad(`Expected layer ${nameOf(next[0])} to have one input, got ${from.join(', ')}`);
    cur = next[0];
  }
  bad(`Expected the chain from ${ins[0]} to reach the output ${outs[0]}, got a dead end`);
}
