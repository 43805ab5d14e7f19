// rnn-wasm info | convert: any supported model file (.rnnw, .onnx, .safetensors, tfjs model.json).
import type { Command } from 'commander';
import type { Model, ModelFormat, KerasSource, TorchArchitecture } from '../../index';
import { library, parse, UsageError, type CliCommand } from '../frame';
import { readBytes, readText, writeBytes, FileError } from '../files';

/** A model file as convert/importModel take it: its bytes, or what its format opens from the path (a tfjs model.json with its shards). */
async function source(path: string): Promise<{ input: Uint8Array | KerasSource; format: ModelFormat }> {
  const bytes = await readBytes(path, 'model file');
  const { detectFormat, fileFormats } = await library();
  const format = detectFormat(bytes);
  const open = fileFormats().find((f) => f.name === format)?.open;
  return { input: open ? await open(path) : bytes, format };
}

function layerSummary(model: Model): string[] {
  const spec = model.spec();
  const layers = spec.type === 'sequential' ? spec.layers : [{ type: spec.type, ...spec.config }];
  return layers.map((l) => {
    const { type, ...rest } = l as { type: string } & Record<string, unknown>;
    const keys = ['numEmbeddings', 'embeddingDim', 'inputSize', 'hiddenSize', 'numLayers', 'bidirectional', 'inFeatures', 'outFeatures', 'p'];
    const shown = keys.filter((k) => rest[k] !== undefined && rest[k] !== false).map((k) => `${k}=${String(rest[k])}`);
    return `${type}(${shown.join(', ')})`;
  });
}

/** Metadata keys of the applications that save graph models under their own key (the classifier and labeler say `app`). */
const GRAPH_APPS = ['seq2seq', 'generator', 'forecaster'];

/** One graph node as `name = kind(sizes)(inputs)`. */
function graphNodeSummary(n: { kind: string; name: string; inputs: [number, number][]; config: Record<string, unknown> }): string {
  const shown = Object.entries(n.config).filter(([, v]) => v !== undefined && v !== null && v !== false && typeof v !== 'object').map(([k, v]) => `${k}=${String(v)}`);
  return `${n.name} = ${n.kind}(${shown.join(', ')})`;
}

export const info: CliCommand = {
  name: 'info',
  summary: 'architecture, parameter count, vocabulary size and metadata of a model file',
  define(cmd: Command) {
    cmd.argument('<file>', 'a .rnnw, .onnx, .safetensors file or a tfjs model.json');
  },
  async run(ctx, [path]) {
    const { input, format } = await source(path);
    const { deserialize, deserializeGraph, isGraphFile, importModel, parseSafetensors } = await library();
    const result: Record<string, unknown> = { file: path, format };
    let model: Model | null = null;
    try {
      if (format === 'rnnw' && isGraphFile(input as Uint8Array)) {
        // a graph model: what the applications (Seq2Seq, ConditionalGenerator, Forecaster, …) save
        const l = deserializeGraph(input as Uint8Array);
        try {
          l.optimizer?.dispose();
          const spec = l.model.spec();
          result.graph = { inputs: spec.inputs, outputs: Object.keys(spec.outputs), nodes: spec.nodes.map(graphNodeSummary) };
          const meta = l.metadata ?? {};
          result.application = typeof meta.app === 'string' ? meta.app : (Object.keys(meta).find((k) => GRAPH_APPS.includes(k)) ?? null);
          result.parameters = l.model.numParameters;
          result.vocabularySize = l.vocabulary?.length ?? null;
          result.metadata = l.metadata ?? {};
          result.optimizer = l.optimizer ? { kind: l.optimizer.kind, step: l.optimizer.step } : null;
        } finally {
          l.model.dispose();
        }
      } else if (format === 'rnnw') {
        const l = deserialize(input as Uint8Array);
        model = l.model;
        l.optimizer?.dispose();
        result.vocabularySize = l.vocabulary?.length ?? null;
        result.metadata = l.metadata ?? {};
        result.optimizer = l.optimizer ? { kind: l.optimizer.kind, step: l.optimizer.step } : null;
      } else if (format === 'safetensors' && !parseSafetensors(input as Uint8Array).metadata?.['rnn-wasm.model']) {
        // a PyTorch state_dict without an architecture: list its tensors
        const st = parseSafetensors(input as Uint8Array);
        result.tensors = [...st.tensors].map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape }));
        result.parameters = [...st.tensors.values()].reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0);
        result.metadata = st.metadata ?? {};
      } else {
        const imp = importModel(input, { from: format });
        model = imp.model;
        result.metadata = imp.metadata;
      }
      if (model) {
        result.architecture = layerSummary(model);
        result.parameters = model.numParameters;
        result.spec = model.spec();
      }
    } finally {
      model?.dispose();
    }
    if (ctx.json) return void ctx.out(JSON.stringify(result));
    const lines = [`file: ${path}`, `format: ${format}`];
    if (result.architecture) lines.push(`architecture: ${(result.architecture as string[]).join(' → ')}`);
    if (result.graph) {
      const gr = result.graph as { inputs: string[]; outputs: string[]; nodes: string[] };
      if (result.application) lines.push(`application: ${String(result.application)}`);
      lines.push(`graph inputs: ${gr.inputs.join(', ')}; outputs: ${gr.outputs.join(', ')}`, ...gr.nodes.map((n) => `node: ${n}`));
    }
    if (result.tensors) for (const t of result.tensors as { name: string; dtype: string; shape: number[] }[]) lines.push(`tensor: ${t.name} ${t.dtype} [${t.shape.join(', ')}]`);
    lines.push(`parameters: ${String(result.parameters)}`);
    if (result.vocabularySize !== undefined) lines.push(`vocabulary size: ${String(result.vocabularySize)}`);
    if (result.optimizer) lines.push(`optimizer: ${JSON.stringify(result.optimizer)}`);
    lines.push(`metadata: ${JSON.stringify(result.metadata)}`);
    ctx.out(lines.join('\n'));
  },
};

export const convertCmd: CliCommand = {
  name: 'convert',
  summary: 'convert a model file to onnx, safetensors or rnnw',
  define(cmd: Command) {
    cmd
      .argument('<in>', 'a .rnnw, .onnx, .safetensors file or a tfjs model.json')
      .argument('<out>', 'output file')
      .requiredOption('--to <format>', 'onnx, safetensors or rnnw')
      .option('--architecture <json>', 'PyTorch modules of a safetensors state_dict (a JSON file)')
      .option('--opset <n>', 'ONNX opset (14–21)', parse.int(1))
      .option('--lengths', 'ONNX: add lengths inputs (sequence_lens; <input>_lengths for graph models)');
  },
  async run(ctx, [inPath, outPath], o) {
    const to = o.to as string;
    const writable = (await library()).fileFormats().filter((f) => f.write).map((f) => f.name);
    if (!writable.includes(to)) throw new UsageError(`Expected --to ${writable.slice(0, -1).join(', ')} or ${writable[writable.length - 1]}, got ${to}`);
    let architecture: TorchArchitecture | undefined;
    if (o.architecture) {
      try {
        architecture = JSON.parse(await readText(o.architecture as string, 'architecture file'));
      } catch (e) {
        if (e instanceof FileError) throw e;
        throw new FileError(`Expected JSON in the architecture file ${String(o.architecture)}, got ${(e as Error).message}`);
      }
    }
    const { input, format } = await source(inPath);
    const { convert } = await library();
    const bytes = convert(input, { from: format, to: to as 'onnx', architecture, onnx: o.opset || o.lengths ? { opset: o.opset as number | undefined, lengths: o.lengths === true } : undefined });
    await writeBytes(outPath, bytes, 'output file');
    ctx.out(ctx.json ? JSON.stringify({ in: inPath, from: format, out: outPath, to, bytes: bytes.length }) : `${inPath} (${format}) → ${outPath} (${to}, ${bytes.length} bytes)`);
  },
};
