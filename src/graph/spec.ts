// A graph as plain JSON (what a model file stores) and back: nodes in topological order, each with
// its kind, name, inputs as [node index, port] pairs and the options its builder needs.
import { RecurrentCore } from '../layers/recurrent';
import { DropoutModule, EmbeddingModule, LinearModule } from '../layers/dense';
import { ValueError, show } from '../errors';
import type { Rwkv7StackConfig } from '../rwkv/layout';
import * as g from './nodes';
import { GNode, InputNode, Sym } from './nodes';

/** One node of a graph's spec: its kind, name, inputs (`[node index, port]`) and options. */
export interface NodeSpec {
  /** The node kind (`lstm`, `attention`, …). */
  kind: string;
  /** Its name (the prefix of its parameters). */
  name: string;
  /** Its inputs as `[node index, output port]`. */
  inputs: [number, number][];
  /** Its options. */
  config: Record<string, unknown>;
}

/**
 * A graph model as plain JSON (what its model file stores): the nodes in order, the input names and the
 * output ports; `GraphModel.fromSpec` rebuilds it.
 */
export interface GraphSpec {
  /** Marks a graph spec. */
  type: 'graph';
  /** The input names, in order. */
  inputs: string[];
  /** Each output's `[node index, output port]`. */
  outputs: Record<string, [number, number]>;
  /** The nodes, in order (inputs first). */
  nodes: NodeSpec[];
  /** 'int8': the weights were quantized (src/model/quantize.ts); whoever fills the parameters derives the int8 copies (io/format.ts, parallel/replica.ts). */
  quantized?: 'int8';
}

function config(n: GNode): Record<string, unknown> {
  const m = n.module;
  if (n instanceof InputNode) return { type: n.opts.type, features: n.opts.features, vocabSize: n.opts.vocabSize };
  if (m instanceof RecurrentCore) {
    const { type: _t, inputSize: _i, batchFirst: _b, ...rest } = m.config();
    return { ...rest, initialState: n.opts.init };
  }
  if (m instanceof EmbeddingModule) return { numEmbeddings: m.numEmbeddings, embeddingDim: m.embeddingDim };
  if (m instanceof LinearModule) return { outFeatures: m.outFeatures_, bias: m.bias };
  if (m instanceof DropoutModule) return { p: m.p };
  if (n.kind === 'pool') return { mode: n.opts.mode };
  if (n.kind === 'attention') return { score: n.opts.score, attentionSize: n.opts.attentionSize };
  if (n.kind === 'rwkv7') {
    const c = n.opts.stack as Rwkv7StackConfig;
    return { headSize: c.headSize, numLayers: c.layers, ffnDim: c.ffnDim, lora: { ...c.lora } };
  }
  return {};
}

export function graphSpec(nodes: GNode[], inputs: string[], outputs: Map<string, Sym>): GraphSpec {
  const index = new Map(nodes.map((n, i) => [n, i]));
  const ref = (s: Sym): [number, number] => [index.get(s.node)!, s.port];
  return {
    type: 'graph',
    inputs,
    outputs: Object.fromEntries([...outputs].map(([k, s]) => [k, ref(s)])),
    nodes: nodes.map((n) => ({ kind: n.kind, name: n.name, inputs: n.inputs.map(ref), config: config(n) })),
  };
}

/** The architecture of a spec as JSON text: what two specs must share to be the same graph (the int8 marker aside). */
export function architectureOf(spec: GraphSpec): string {
  const { quantized: _q, ...arch } = spec;
  return JSON.stringify(arch);
}

/** What a GraphModel is built from. */
export interface GraphParts {
  inputs: Sym[];
  outputs: Record<string, Sym>;
  seed?: number;
}

/** The nodes of a model in the order its spec lists them: inputs no output depends on, then every node the outputs reach. */
export function nodeOrder(inputs: InputNode[], outputs: Sym[]): GNode[] {
  const reached = g.collect(outputs);
  return [...inputs.filter((n) => !reached.includes(n)), ...reached];
}

/**
 * The spec a GraphModel built from `parts` would have, without building it: no wasm memory, so a
 * model file's application metadata can be compared with its graph before anything is allocated.
 */
export function specOf(parts: GraphParts): GraphSpec {
  const inputs = parts.inputs.map((s) => s.node as InputNode);
  const outputs = new Map(Object.entries(parts.outputs));
  return graphSpec(nodeOrder(inputs, [...outputs.values()]), inputs.map((n) => n.name), outputs);
}

/** Rebuilds the graph's values from a spec; throws ValueError on anything malformed. */
export function graphFromSpec(spec: GraphSpec): { inputs: Sym[]; outputs: Record<string, Sym> } {
  if (!spec || spec.type !== 'graph' || !Array.isArray(spec.nodes) || !Array.isArray(spec.inputs) || typeof spec.outputs !== 'object') {
    throw new ValueError('Expected a graph spec { type: "graph", inputs, outputs, nodes }, got something else');
  }
  if (spec.quantized !== undefined && spec.quantized !== 'int8') throw new ValueError(`Expected spec.quantized to be 'int8' or absent, got ${String(spec.quantized)}`);
  const ports: Sym[][] = [];
  const get = ([i, p]: [number, number]): Sym => {
    const s = ports[i]?.[p];
    if (!s) throw new ValueError(`Expected a reference to an earlier node's port, got [${i}, ${p}]`);
    return s;
  };
  for (const [i, ns] of spec.nodes.entries()) {
    if (!ns || typeof ns !== 'object' || !Array.isArray(ns.inputs)) throw new ValueError(`Expected node ${i} as { kind, name, inputs, config }, got ${show(ns)}`);
    const ins = ns.inputs.map(get);
    const c = { ...(ns.config ?? {}), name: ns.name } as Record<string, unknown>;
    let out: Sym[];
    switch (ns.kind) {
      case 'input': out = [g.input(ns.name, c as never)]; break;
      case 'embedding': out = [g.embedding(ins[0], c as never)]; break;
      case 'linear': out = [g.linear(ins[0], c as never)]; break;
      case 'dropout': out = [g.dropout(ins[0], c as never)]; break;
      case 'softmax': out = [g.softmax(ins[0], c)]; break;
      case 'logSoftmax': out = [g.logSoftmax(ins[0], c)]; break;
      case 'tanh': out = [g.tanh(ins[0], c)]; break;
      case 'concat': out = [g.concat(ins, c)]; break;
      case 'repeat': out = [g.repeat(ins[0], ins[1], c)]; break;
      case 'pool': out = [g.pool(ins[0], c as never)]; break;
      case 'rwkv7': out = [g.rwkv7(ins[0], c as never)]; break;
      case 'attention': {
        const a = g.attention(ins[0], ins[1], c as never);
        out = [a.context, a.weights];
        break;
      }
      case 'rnn':
      case 'lstm':
      case 'gru':
      case 'mingru':
      case 'minlstm': {
        const { initialState, ...o } = c as { initialState?: { h?: number; c?: number } };
        const st = { h: initialState?.h === undefined ? undefined : ins[initialState.h], c: initialState?.c === undefined ? undefined : ins[initialState.c] };
        const r = g[ns.kind](ins[0], { ...o, initialState: st } as never);
        out = r.cN ? [r.output, r.hN, r.cN] : [r.output, r.hN];
        break;
      }
      default:
        throw new ValueError(`Expected a known node kind, got ${show(ns.kind)}`);
    }
    ports.push(out);
  }
  const byName = new Map(spec.nodes.map((ns, i) => [ns.name, i]));
  const inputs = spec.inputs.map((name) => {
    const i = byName.get(name);
    if (i === undefined || spec.nodes[i].kind !== 'input') throw new ValueError(`Expected input ${name} among the nodes, got none`);
    return ports[i][0];
  });
  const outputs = Object.fromEntries(Object.entries(spec.outputs).map(([k, r]) => [k, get(r)]));
  return { inputs, outputs };
}
