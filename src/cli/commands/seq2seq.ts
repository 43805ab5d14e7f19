// rnn-wasm train-seq2seq | translate: an encoder–decoder trained on a TSV of pairs (on the shared
// training frame of ./app-train.ts: budgets, Ctrl-C checkpoints, --resume), and a batch
// translator over text or JSONL lines (the batch-tool conventions: JSONL out, input order kept,
// exactly one record per input line, a bad line answered by an error record naming its line and
// id while the rest continues), on the streaming frame of classify/label (../batch.ts): worker
// threads each hold the model(s) and decode batches of --batch records.
import type { Seq2Seq, Seq2SeqAttention, Seq2SeqCell, Seq2SeqFitResult, TokenMode } from '../../index';
import { checkArch, runSettings, trainAndSave, trainFlags } from './app-train';
import { runBatchTool, streamFlags } from '../batch';
import { int8Flag, library, parse, recurrentFlags, sizeOptions, UsageError, type CliCommand } from '../frame';
import { readBytes, readText, FileError } from '../files';

/** source TAB target per non-empty line. */
export function parsePairs(text: string, path: string): [string, string][] {
  const pairs: [string, string][] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const tab = line.indexOf('\t');
    if (tab < 0) throw new FileError(`Expected "source<TAB>target" on line ${i + 1} of ${path}, got ${JSON.stringify(line.slice(0, 60))}`);
    pairs.push([line.slice(0, tab), line.slice(tab + 1)]);
  });
  if (pairs.length === 0) throw new FileError(`Expected at least one pair in ${path}, got none`);
  return pairs;
}

export const trainSeq2seq: CliCommand = {
  name: 'train-seq2seq',
  summary: 'train an encoder-decoder (attention optional) on source<TAB>target pairs',
  define(cmd) {
    cmd.requiredOption('--pairs <file>', 'UTF-8 file, one "source<TAB>target" pair per line');
    recurrentFlags(cmd, { hidden: 64, hiddenHelp: 'hidden size of each encoder direction (the decoder: × directions)', layers: false, embedding: 32 })
      .option('--dropout <p>', 'dropout probability in training (embeddings, encoder outputs, top state)', parse.probability(), 0)
      .option('--bidirectional', 'bidirectional encoder')
      .option('--attention <kind>', 'general, dot, additive or none', parse.oneOf(['general', 'dot', 'additive', 'none'] as const), 'general')
      .option('--source-tokens <mode>', 'chars or words (whitespace-separated)', parse.oneOf(['chars', 'words'] as const), 'chars')
      .option('--target-tokens <mode>', 'chars or words', parse.oneOf(['chars', 'words'] as const), 'chars')
      .option('--lr-decay <f>', 'learning-rate factor per epoch, applied step by step (1: constant)', parse.number(0, 1, true), 1)
      .option('--length-pool <n>', 'batches sorted by length within pools of this many batches', parse.int(1), 50)
      .option('--validation <fraction>', 'held-out fraction of the pairs (0: none)', parse.number(0, 0.99), 0.1)
      .option('--validation-size <n>', 'validation pairs scored per evaluation', parse.int(1), 2000)
      .option('--metric <m>', 'early-stopping metric: exactMatch or tokenErrorRate', parse.oneOf(['exactMatch', 'tokenErrorRate'] as const), 'exactMatch');
    trainFlags(cmd, { batch: 64, lr: 0.003 })
      .addHelpText('after', '\nWithout --steps, --epochs or --minutes: 10 epochs. Early stopping: --patience (default 3 evaluations).\nExample:\n  rnn-wasm train-seq2seq --pairs g2p.tsv --target-tokens words --bidirectional --minutes 10 --out g2p.rnnw');
  },
  async run(ctx, _args, o, cmd) {
    const given = (name: string) => cmd.getOptionValueSource(name) === 'cli';
    const { out, settings } = runSettings(o, given, 10);
    const pairs = parsePairs(await readText(o.pairs as string, 'pairs file'), o.pairs as string);
    const { Seq2Seq } = await library();
    const m = o.resume
      ? await Seq2Seq.load(o.resume as string)
      : Seq2Seq.fromPairs(pairs, {
        cell: o.cell as Seq2SeqCell, ...sizeOptions(o), dropout: o.dropout as number, bidirectional: o.bidirectional === true,
        attention: o.attention as Seq2SeqAttention, sourceTokens: o.sourceTokens as TokenMode, targetTokens: o.targetTokens as TokenMode, seed: o.seed as number,
      });
    try {
      if (o.resume) checkArch(given, o, m.config as unknown as Record<string, unknown>, ARCH);
      ctx.err(`training ${m.config.cell} seq2seq (${m.model.numParameters} parameters, vocabularies ${m.source.size}/${m.target.size}, attention ${m.config.attention}) on ${pairs.length} pairs; from step ${m.step}`);
      const pick = (flag: string) => (!o.resume || given(flag) ? o[flag] : undefined);
      let fitted: Seq2SeqFitResult | null = null;
      return await trainAndSave(ctx, o, m, out, async (h) => {
        const r = await m.fit(pairs, {
          ...settings, epochs: h.epochs ?? 1 << 20, maxSteps: h.steps, maxSeconds: h.minutes === undefined ? undefined : h.minutes * 60, patience: h.patience, evalEvery: h.evalEvery, signal: h.signal,
          lrDecay: pick('lrDecay') as number | undefined, lengthPool: pick('lengthPool') as number | undefined, validation: pick('validation') as number | undefined,
          validationSize: o.validationSize as number, metric: o.metric as 'exactMatch',
          onProgress: o.quiet ? undefined : (p) => ctx.err(`step ${p.step} epoch ${p.epoch}: loss ${p.loss.toFixed(4)}${Number.isNaN(p.exactMatch) ? '' : `, validation exact match ${(100 * p.exactMatch).toFixed(2)} %, token error rate ${(100 * p.tokenErrorRate).toFixed(2)} %`} (${p.seconds.toFixed(1)} s)`),
        });
        fitted = r;
        return { steps: r.steps, totalSteps: r.totalSteps, stopped: r.stopped, trainLoss: r.trainLoss, elapsedMs: r.seconds * 1000 };
      }, () => ({ epochs: fitted?.epochs, seconds: fitted?.seconds, stoppedEarly: fitted?.stoppedEarly, best: fitted?.best, parameters: m.model.numParameters }));
    } finally {
      m.dispose();
    }
  },
};

/** The architecture flags a checkpoint fixes (flag → config key). */
const ARCH: [string, string][] = [['cell', 'cell'], ['hidden', 'hiddenSize'], ['embedding', 'embeddingDim'], ['dropout', 'dropout'], ['attention', 'attention'], ['sourceTokens', 'sourceTokens'], ['targetTokens', 'targetTokens']];

/**
 * The model files and the input of translate: `translate MODEL [INPUT] [--ensemble M2 …]` like every
 * command that reads a model, or the older `translate --model M [--model M2 …] [INPUT]`.
 */
export function modelFiles(args: (string | undefined)[], o: Record<string, unknown>): { files: string[]; input: string | undefined } {
  const ensemble = (o.ensemble as string[] | undefined) ?? [];
  if (o.model !== undefined) {
    if (args[1] !== undefined) throw new UsageError(`Expected one input file after --model (the model option; or give the model as the first argument), got ${args[0]} and ${args[1]}`);
    return { files: [...(o.model as string[]), ...ensemble], input: args[0] };
  }
  if (args[0] === undefined) throw new UsageError('Expected a model file as the first argument (translate MODEL [INPUT]), got none');
  return { files: [args[0], ...ensemble], input: args[1] };
}

export const translate: CliCommand = {
  name: 'translate',
  summary: 'decode text or JSONL lines with a seq2seq model (JSONL out, one record per line)',
  define(cmd) {
    cmd
      .argument('[model]', 'model file written by train-seq2seq')
      .argument('[input]', 'input file (default: stdin)')
      .option('--ensemble <file>', 'another model decoded with the first (an ensemble: mean log-probabilities); repeat for more', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
      .option('--model <file>', 'the model file as an option (the older spelling; then the only argument is the input); repeat it for an ensemble', (v: string, prev: string[] | undefined) => [...(prev ?? []), v]);
    streamFlags(cmd, { batch: 64, maxChars: 1000 })
      .option('--beam <k>', 'beam width (1: greedy)', parse.int(1), 1)
      .option('--nbest <n>', 'hypotheses per record (≤ beam)', parse.int(1), 1)
      .option('--alpha <a>', 'length normalisation exponent', parse.number(0), 0)
      .option('--max-length <n>', 'maximum output tokens (default 2 × source + 10)', parse.int(1))
      .option('--attention', 'include the attention weights of each output');
    int8Flag(cmd)
      .addHelpText('after', '\nExample:\n  printf \'hello\\nworld\\n\' | rnn-wasm translate g2p.rnnw --beam 5 --workers 2');
  },
  async run(ctx, args, o) {
    const { files, input } = modelFiles(args, o);
    if ((o.nbest as number) > (o.beam as number)) throw new UsageError(`Expected --nbest ≤ --beam (${String(o.beam)}), got ${String(o.nbest)}`);
    const { Seq2Seq, quantize } = await library();
    const models: Uint8Array[] = [];
    const members: Seq2Seq[] = [];
    try {
      // refuse a wrong model, or members over other vocabularies, before any input is read
      for (const f of files) models.push(await readBytes(f, 'model')), members.push(Seq2Seq.deserialize(models[models.length - 1]));
      if (members.length > 1) Seq2Seq.translateEnsemble(members, []);
      // --int8: the workers get the quantized members' files (they derive the same int8 copies from them)
      if (o.int8) members.forEach((x, i) => (models[i] = quantize(x, { weights: 'int8' }).serialize({ optimizer: false })));
    } finally {
      for (const x of members) x.dispose();
    }
    const translate = { beam: o.beam as number, nbest: o.nbest as number, alpha: o.alpha as number, maxLength: o.maxLength as number | undefined, batchSize: o.batch as number, attention: o.attention === true };
    const stats = await runBatchTool(input, o, { kind: 'seq2seq', models, translate }, o.batch as number);
    ctx.err(`${stats.lines} records, ${stats.errors} errors${stats.skipped ? ` (${stats.skipped} answered by the earlier run)` : ''}`);
  },
};
