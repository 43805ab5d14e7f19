// rnn-wasm train-classifier | train-labeler: train a SequenceClassifier on JSONL {"text", "label"}
// or a SequenceLabeler on JSONL {"text", "tags"}; one progress line per epoch on stderr; Ctrl-C
// stops after the current epoch and writes the model; --resume continues from a model file.
// rnn-wasm classify | label: the batch tools (see ../batch.ts).
import type { Command } from 'commander';
import type { SequenceClassifier, SequenceLabeler, EpochLog, LoopResult } from '../../index';
import { library, parse, recurrentFlags, UsageError, type CliCommand, type CliContext } from '../frame';
import { readBytes, readText, writeBytes, FileError } from '../files';
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
    .option('--validation <file>', 'validation examples (drive early stopping)')
    .option('--out <file>', 'where to write the model (default: the --resume file)')
    .option('--resume <file>', 'continue training this model file')
    .option('--tokenizer <kind>', 'char or word', parse.oneOf(['char', 'word'] as const), 'char')
    .option('--max-tokens <n>', 'word vocabulary size', parse.int(1), 20000);
  return recurrentFlags(cmd, { hidden: 64 })
    .option('--embedding <e>', 'embedding width', parse.int(1), 32)
    .option('--dropout <p>', 'dropout on the encoder outputs', parse.probability(), 0)
    .option('--max-length <n>', 'tokens per text (longer texts are cut in training)', parse.int(1), 400)
    .option('--epochs <n>', 'epochs', parse.int(1), 10)
    .option('--batch <b>', 'texts per batch', parse.int(1), 32)
    .option('--lr <x>', 'Adam learning rate', parse.number(0, Infinity, true), 0.003)
    .option('--clip <c>', 'global gradient-norm clip', parse.number(0, Infinity, true), 5)
    .option('--patience <n>', 'early stopping: epochs without a better validation metric', parse.int(0), 3)
    .option('--class-weights <w>', "'balanced' or comma-separated weights, one per class")
    .option('--seed <n>', 'seed of initialisation and batch order', parse.int(0), 1);
}

function classWeights(v: unknown): number[] | 'balanced' | undefined {
  if (v === undefined || v === 'balanced') return v as undefined | 'balanced';
  const w = String(v).split(',').map(Number);
  if (w.some((x) => !Number.isFinite(x) || x < 0)) throw new UsageError(`Expected --class-weights balanced or numbers >= 0 separated by commas, got ${String(v)}`);
  return w;
}

function encoderFlags(o: Record<string, unknown>) {
  return { cell: o.cell as 'lstm', numLayers: o.layers as number, hiddenSize: o.hidden as number, embeddingDim: o.embedding as number, dropout: o.dropout as number, maxLength: o.maxLength as number, seed: o.seed as number };
}

/** Runs fit with Ctrl-C stopping after the current epoch, then writes the model. */
async function trainAndSave(ctx: CliContext, o: Record<string, unknown>, model: SequenceClassifier | SequenceLabeler, fit: (onEpoch: (l: EpochLog) => boolean) => LoopResult): Promise<number> {
  const out = (o.out ?? o.resume) as string | undefined;
  if (!out) throw new UsageError('Expected --out FILE (or --resume FILE), got neither');
  let interrupted = false;
  const onSigint = () => (interrupted ? process.exit(130) : (interrupted = true));
  process.on('SIGINT', onSigint);
  const t0 = Date.now();
  try {
    const r = fit((l) => {
      ctx.err(`epoch ${l.epoch + 1}/${o.epochs as number} loss ${l.loss.toFixed(4)}${l.metric === undefined ? '' : ` validation ${l.metric.toFixed(4)}`} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      return !interrupted;
    });
    await writeBytes(out, model.serialize(), 'model');
    const last = r.history[r.history.length - 1];
    const summary = { out, epochs: r.history.length, stopReason: r.stopReason, bestEpoch: r.bestEpoch + 1, loss: last?.loss, metric: r.history[r.bestEpoch]?.metric, seconds: (Date.now() - t0) / 1000 };
    if (interrupted) ctx.err(`interrupted: model written to ${out} (continue with --resume ${out})`);
    ctx.out(ctx.json ? JSON.stringify(summary) : `${summary.epochs} epochs (${r.stopReason}); loss ${last?.loss?.toFixed(4)}${summary.metric === undefined ? '' : `; best validation ${summary.metric.toFixed(4)} at epoch ${summary.bestEpoch}`}; saved ${out}`);
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
    model.dispose();
  }
}

const isStr = (v: unknown) => typeof v === 'string';

export const trainClassifier: CliCommand = {
  name: 'train-classifier',
  summary: 'train a sequence classifier on JSONL {"text", "label"}',
  define(cmd) {
    trainOptions(cmd).option('--pooling <mode>', 'last, mean or max', 'last').option('--bidirectional', 'run a reverse direction too');
  },
  async run(ctx, _a, o) {
    const lib = await library();
    const data = await readJsonl(o.data as string, 'training file', (e) => isStr(e.text) && isStr(e.label), '{"text": string, "label": string}');
    const val = o.validation ? await readJsonl(o.validation as string, 'validation file', (e) => isStr(e.text) && isStr(e.label), '{"text", "label"}') : undefined;
    const texts = data.map((e) => e.text as string), labels = data.map((e) => e.label as string);
    const enc = encoderFlags(o);
    const clf = o.resume
      ? lib.SequenceClassifier.deserialize(await readBytes(o.resume as string, 'model'))
      : new lib.SequenceClassifier({ ...enc, tokenizer: lib.Tokenizer.fit(texts, { kind: o.tokenizer as 'char', maxTokens: o.maxTokens as number }), labels: [...new Set(labels)].sort(), pooling: o.pooling as 'last', bidirectional: o.bidirectional === true });
    ctx.err(`training a classifier (${clf.labels.join(', ')}; ${clf.model.numParameters} parameters, ${clf.tokenizer.size} tokens) on ${texts.length} texts`);
    return trainAndSave(ctx, o, clf, (onEpoch) => clf.fit(texts, labels, {
      epochs: o.epochs as number, batchSize: o.batch as number, lr: o.lr as number, clipNorm: o.clip as number, seed: o.seed as number, classWeights: classWeights(o.classWeights),
      validation: val && { texts: val.map((e) => e.text as string), labels: val.map((e) => e.label as string) }, earlyStopping: val && { patience: o.patience as number }, onEpoch,
    }));
  },
};

export const trainLabeler: CliCommand = {
  name: 'train-labeler',
  summary: 'train a sequence labeler on JSONL {"text", "tags": [one per token]}',
  define(cmd) {
    trainOptions(cmd).option('--crf', 'a linear-chain CRF output layer').option('--unidirectional', 'forward direction only').option('--positive <tag>', 'validation metric: F1 of this tag (default: accuracy)');
  },
  async run(ctx, _a, o) {
    const lib = await library();
    const ok = (e: Record<string, unknown>) => isStr(e.text) && Array.isArray(e.tags) && e.tags.every(isStr);
    const data = (await readJsonl(o.data as string, 'training file', ok, '{"text": string, "tags": [string]}')) as unknown as { text: string; tags: string[] }[];
    const val = o.validation ? ((await readJsonl(o.validation as string, 'validation file', ok, '{"text", "tags"}')) as unknown as { text: string; tags: string[] }[]) : undefined;
    const lab = o.resume
      ? lib.SequenceLabeler.deserialize(await readBytes(o.resume as string, 'model'))
      : new lib.SequenceLabeler({ ...encoderFlags(o), tokenizer: lib.Tokenizer.fit(data.map((e) => e.text), { kind: o.tokenizer as 'char', maxTokens: o.maxTokens as number }), tags: [...new Set(data.flatMap((e) => e.tags))].sort(), crf: o.crf === true, bidirectional: o.unidirectional !== true });
    ctx.err(`training a labeler (${lab.tags.join(', ')}${lab.crf ? '; CRF output' : ''}; ${lab.model.numParameters} parameters) on ${data.length} texts`);
    return trainAndSave(ctx, o, lab, (onEpoch) => lab.fit(data, {
      epochs: o.epochs as number, batchSize: o.batch as number, lr: o.lr as number, clipNorm: o.clip as number, seed: o.seed as number, classWeights: classWeights(o.classWeights),
      validation: val, positiveTag: o.positive as string | undefined, earlyStopping: val && { patience: o.patience as number }, onEpoch,
    }));
  },
};

function batchCommand(name: 'classify' | 'label', app: 'classifier' | 'labeler', summary: string): CliCommand {
  return {
    name,
    summary,
    define(cmd) {
      cmd
        .argument('<model>', `model file written by train-${app}`)
        .argument('[input]', 'JSONL file of {"id", "text"} or plain text lines (default: stdin)');
      streamFlags(cmd, { batch: 32, maxChars: 100000 })
        .addHelpText('after', `\nOne output line per input line, in input order: {"id", ...result} or {"line", "id", "error"}.\nExample:\n  rnn-wasm ${name} model.rnnw records.jsonl --workers 2 --output out.jsonl   # again with --resume after a kill`);
    },
    async run(ctx, [modelPath, inputPath], o) {
      const model = await readBytes(modelPath, 'model');
      const lib = await library();
      // refuse a wrong or corrupt model here, with its own message, before any worker starts
      (app === 'classifier' ? lib.SequenceClassifier : lib.SequenceLabeler).deserialize(model).dispose();
      const stats = await runBatchTool(inputPath, o, { kind: app, models: [model] }, o.batch as number);
      ctx.err(`${stats.lines} lines (${stats.errors} errors${stats.skipped ? `; ${stats.skipped} answered by the earlier run` : ''}) in ${stats.seconds.toFixed(2)} s: ${((stats.lines - stats.skipped) / Math.max(stats.seconds, 1e-9)).toFixed(0)} records/s`);
    },
  };
}

export const classify = batchCommand('classify', 'classifier', 'classify JSONL {"id", "text"} records or text lines (stdin or a file) to JSONL');
export const label = batchCommand('label', 'labeler', 'tag JSONL {"id", "text"} records or text lines (stdin or a file) to JSONL');
