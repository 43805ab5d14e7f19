// rnn-wasm train-classifier | train-labeler: train a SequenceClassifier on JSONL {"text", "label"}
// or a SequenceLabeler on JSONL {"text", "tags"} on the shared training frame (./app-train.ts):
// step/epoch/time budgets, progress, Ctrl-C writes a checkpoint between steps, --resume continues it.
// rnn-wasm classify | label: the batch tools (see ../batch.ts).
import type { Command } from 'commander';
import type { CellKind } from '../../index';
import { int8Flag, library, parse, recurrentFlags, sizeOptions, UsageError, type CliCommand, type CliContext } from '../frame';
import { readBytes, readText, FileError } from '../files';
import { checkArch, runSettings, trainAndSave, trainFlags } from './app-train';
import { runBatchTool, streamFlags } from '../batch';

async function readJsonl(path: string, what: string, check: (o: Record<string, unknown>) => boolean, shape: string): Promise<Record<string, unknown>[]> {
  const lines = (await readText(path, what)).split('\n');
  const out: Record<string, unknown>[] = [];
  lines.forEach((l, i) => {
    if (!l.trim()) return;
    let o: unknown;
    try {
      o = JSON.parse(l);
    } catch {
      throw new FileError(`Expected JSON on line ${i + 1} of ${path}, got ${JSON.stringify(l.slice(0, 40))}`);
    }
    if (!o || typeof o !== 'object' || !check(o as Record<string, unknown>)) throw new FileError(`Expected ${shape} on line ${i + 1} of ${path}, got ${l.slice(0, 60)}`);
    out.push(o as Record<string, unknown>);
  });
  if (!out.length) throw new FileError(`Expected at least one example in ${path}, got none`);
  return out;
}

function trainOptions(cmd: Command): Command {
  cmd
    .requiredOption('--data <file>', 'training examples, one JSON object per line')
    .option('--validation <file>', 'validation examples (with --patience: early stopping)')
    .option('--tokenizer <kind>', 'char or word', parse.oneOf(['char', 'word'] as const), 'char')
    .option('--max-tokens <n>', 'word vocabulary size', parse.int(1), 20000);
  recurrentFlags(cmd, { hidden: 64, embedding: 32 })
    .option('--dropout <p>', 'dropout on the encoder outputs', parse.probability(), 0)
    .option('--max-length <n>', 'tokens per text (longer texts are cut in training)', parse.int(1), 400)
    .option('--class-weights <w>', "'balanced' or comma-separated weights, one per class");
  return trainFlags(cmd, { batch: 32, lr: 0.003 });
}

function classWeights(v: unknown): number[] | 'balanced' | undefined {
  if (v === undefined || v === 'balanced') return v as undefined | 'balanced';
  const w = String(v).split(',').map(Number);
  if (w.some((x) => !Number.isFinite(x) || x < 0)) throw new UsageError(`Expected --class-weights balanced or numbers >= 0 separated by commas, got ${String(v)}`);
  return w;
}

function encoderFlags(o: Record<string, unknown>) {
  return { cell: o.cell as CellKind, ...sizeOptions(o), dropout: o.dropout as number, maxLength: o.maxLength as number, seed: o.seed as number };
}

/** The architecture flags a checkpoint fixes: typed with --resume they must match it. */
const ARCH: [string, string][] = [['cell', 'cell'], ['layers', 'numLayers'], ['hidden', 'hiddenSize'], ['embedding', 'embeddingDim'], ['dropout', 'dropout'], ['maxLength', 'maxLength']];

const isStr = (v: unknown) => typeof v === 'string';

export const trainClassifier: CliCommand = {
  name: 'train-classifier',
  summary: 'train a sequence classifier on JSONL {"text", "label"}',
  define(cmd) {
    trainOptions(cmd).option('--pooling <mode>', 'last, mean or max', parse.oneOf(['last', 'mean', 'max'] as const), 'last').option('--bidirectional', 'run a reverse direction too')
      .addHelpText('after', '\nExample:\n  rnn-wasm train-classifier --data names.jsonl --bidirectional --hidden 16 --epochs 20 --lr 0.02 --out names.rnnw');
  },
  async run(ctx, _a, o, cmd) {
    const given = (name: string) => cmd.getOptionValueSource(name) === 'cli';
    const { out, settings } = runSettings(o, given);
    const lib = await library();
    const data = await readJsonl(o.data as string, 'training file', (e) => isStr(e.text) && isStr(e.label), '{"text": string, "label": string}');
    const val = o.validation ? await readJsonl(o.validation as string, 'validation file', (e) => isStr(e.text) && isStr(e.label), '{"text", "label"}') : undefined;
    const texts = data.map((e) => e.text as string), labels = data.map((e) => e.label as string);
    const clf = o.resume
      ? await lib.SequenceClassifier.load(o.resume as string)
      : new lib.SequenceClassifier({ ...encoderFlags(o), tokenizer: lib.Tokenizer.fit(texts, { kind: o.tokenizer as 'char', maxTokens: o.maxTokens as number }), labels: [...new Set(labels)].sort(), pooling: o.pooling as 'last', bidirectional: o.bidirectional === true });
    try {
      if (o.resume) checkArch(given, o, clf.config as unknown as Record<string, unknown>, ARCH);
      ctx.err(`training a classifier (${clf.labels.join(', ')}; ${clf.model.numParameters} parameters, ${clf.tokenizer.size} tokens) on ${texts.length} texts; from step ${clf.step}`);
      return await trainAndSave(ctx, o, clf, out, (hooks) => clf.train(texts, labels, {
        ...settings, ...hooks, classWeights: classWeights(o.classWeights),
        validation: val && { texts: val.map((e) => e.text as string), labels: val.map((e) => e.label as string) },
      }), () => ({ parameters: clf.model.numParameters, labels: clf.labels }));
    } finally {
      clf.dispose();
    }
  },
};

export const trainLabeler: CliCommand = {
  name: 'train-labeler',
  summary: 'train a sequence labeler on JSONL {"text", "tags": [one per token]}',
  define(cmd) {
    trainOptions(cmd).option('--crf', 'a linear-chain CRF output layer').option('--unidirectional', 'forward direction only').option('--positive <tag>', 'validation metric: F1 of this tag (default: accuracy)')
      .addHelpText('after', '\nExample:\n  rnn-wasm train-labeler --data tags.jsonl --crf --hidden 16 --epochs 20 --lr 0.03 --out tags.rnnw');
  },
  async run(ctx, _a, o, cmd) {
    const given = (name: string) => cmd.getOptionValueSource(name) === 'cli';
    const { out, settings } = runSettings(o, given);
    const lib = await library();
    const ok = (e: Record<string, unknown>) => isStr(e.text) && Array.isArray(e.tags) && e.tags.every(isStr);
    const data = (await readJsonl(o.data as string, 'training file', ok, '{"text": string, "tags": [string]}')) as unknown as { text: string; tags: string[] }[];
    const val = o.validation ? ((await readJsonl(o.validation as string, 'validation file', ok, '{"text", "tags"}')) as unknown as { text: string; tags: string[] }[]) : undefined;
    const lab = o.resume
      ? await lib.SequenceLabeler.load(o.resume as string)
      : new lib.SequenceLabeler({ ...encoderFlags(o), tokenizer: lib.Tokenizer.fit(data.map((e) => e.text), { kind: o.tokenizer as 'char', maxTokens: o.maxTokens as number }), tags: [...new Set(data.flatMap((e) => e.tags))].sort(), crf: o.crf === true, bidirectional: o.unidirectional !== true });
    try {
      if (o.resume) checkArch(given, o, lab.config as unknown as Record<string, unknown>, ARCH);
      ctx.err(`training a labeler (${lab.tags.join(', ')}${lab.crf ? '; CRF output' : ''}; ${lab.model.numParameters} parameters) on ${data.length} texts; from step ${lab.step}`);
      return await trainAndSave(ctx, o, lab, out, (hooks) => lab.train(data, {
        ...settings, ...hooks, classWeights: classWeights(o.classWeights), validation: val, positiveTag: o.positive as string | undefined,
      }), () => ({ parameters: lab.model.numParameters, tags: lab.tags }));
    } finally {
      lab.dispose();
    }
  },
};

function batchCommand(name: 'classify' | 'label', app: 'classifier' | 'labeler', summary: string): CliCommand {
  return {
    name,
    summary,
    define(cmd) {
      int8Flag(cmd)
        .argument('<model>', `model file written by train-${app}`)
        .argument('[input]', 'JSONL file of {"id", "text"} or plain text lines (default: stdin)');
      streamFlags(cmd, { batch: 32, maxChars: 100000 })
        .addHelpText('after', `\nOne output line per input line, in input order: {"id", ...result} or {"line", "id", "error"}.\nExample:\n  rnn-wasm ${name} model.rnnw records.jsonl --workers 2 --output out.jsonl   # again with --resume after a kill`);
    },
    async run(ctx, [modelPath, inputPath], o) {
      let model = await readBytes(modelPath, 'model');
      const lib = await library();
      // refuse a wrong or corrupt model here, with its own message, before any worker starts;
      // --int8: the workers get the quantized model's file (they derive the same int8 copies from it)
      const loaded = (app === 'classifier' ? lib.SequenceClassifier : lib.SequenceLabeler).deserialize(model);
      try {
        if (o.int8) model = lib.quantize(loaded, { weights: 'int8' }).serialize({ optimizer: false });
      } finally {
        loaded.dispose();
      }
      const stats = await runBatchTool(inputPath, o, { kind: app, models: [model] }, o.batch as number);
      ctx.err(`${stats.lines} lines (${stats.errors} errors${stats.skipped ? `; ${stats.skipped} answered by the earlier run` : ''}) in ${stats.seconds.toFixed(2)} s: ${((stats.lines - stats.skipped) / Math.max(stats.seconds, 1e-9)).toFixed(0)} records/s`);
    },
  };
}

export const classify = batchCommand('classify', 'classifier', 'classify JSONL {"id", "text"} records or text lines (stdin or a file) to JSONL');
export const label = batchCommand('label', 'labeler', 'tag JSONL {"id", "text"} records or text lines (stdin or a file) to JSONL');
