// rnn-wasm train-seq2seq | translate: an encoder–decoder trained on a TSV of pairs, and a batch
// translator over text or JSONL lines (the batch-tool conventions: JSONL out, input order kept,
// exactly one record per input line, a bad line answered by an error record naming its line and
// id while the rest continues), on the streaming frame of classify/label (../batch.ts): worker
// threads each hold the model(s) and decode batches of --batch records.
import type { Seq2Seq, Seq2SeqAttention, Seq2SeqCell, TokenMode } from '../../index';
import { runBatchTool, streamFlags } from '../batch';
import { library, parse, recurrentFlags, UsageError, type CliCommand } from '../frame';
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
    cmd
      .requiredOption('--pairs <file>', 'UTF-8 file, one "source<TAB>target" pair per line')
      .requiredOption('--out <file>', 'where to write the model');
    recurrentFlags(cmd, { hidden: 64, hiddenHelp: 'hidden size of each encoder direction (the decoder: × directions)', layers: false })
      .option('--embedding <e>', 'embedding width', parse.int(1), 32)
      .option('--dropout <p>', 'dropout probability in training (embeddings, encoder outputs, top state)', parse.probability(), 0)
      .option('--bidirectional', 'bidirectional encoder')
      .option('--attention <kind>', 'general, dot, additive or none', parse.oneOf(['general', 'dot', 'additive', 'none'] as const), 'general')
      .option('--source-tokens <mode>', 'chars or words (whitespace-separated)', parse.oneOf(['chars', 'words'] as const), 'chars')
      .option('--target-tokens <mode>', 'chars or words', parse.oneOf(['chars', 'words'] as const), 'chars')
      .option('--epochs <n>', 'passes over the training pairs', parse.int(1), 10)
      .option('--minutes <m>', 'stop after this many minutes', parse.number(0, Infinity, true))
      .option('--batch <b>', 'pairs per training step', parse.int(1), 64)
      .option('--lr <x>', 'Adam learning rate', parse.number(0, Infinity, true), 0.003)
      .option('--lr-decay <f>', 'learning-rate factor per epoch, applied step by step (1: constant)', parse.number(0, 1, true), 1)
      .option('--steps <n>', 'stop after this many training steps', parse.int(1))
      .option('--length-pool <n>', 'batches sorted by length within pools of this many batches', parse.int(1), 50)
      .option('--validation <fraction>', 'held-out fraction of the pairs (0: none)', parse.number(0, 0.99), 0.1)
      .option('--validation-size <n>', 'validation pairs scored per evaluation', parse.int(1), 2000)
      .option('--metric <m>', 'early-stopping metric: exactMatch or tokenErrorRate', parse.oneOf(['exactMatch', 'tokenErrorRate'] as const), 'exactMatch')
      .option('--patience <n>', 'evaluations without improvement before stopping', parse.int(1), 3)
      .option('--eval-every <n>', 'evaluate every n steps (default: every epoch)', parse.int(1))
      .option('--seed <n>', 'seed of initialisation and data order', parse.int(0), 1)
      .addHelpText('after', '\nExample:\n  rnn-wasm train-seq2seq --pairs g2p.tsv --target-tokens words --bidirectional --minutes 10 --out g2p.rnnw');
  },
  async run(ctx, _args, o) {
    const pairs = parsePairs(await readText(o.pairs as string, 'pairs file'), o.pairs as string);
    const { Seq2Seq } = await library();
    const m = Seq2Seq.fromPairs(pairs, {
      cell: o.cell as Seq2SeqCell, hidden: o.hidden as number, embedding: o.embedding as number, dropout: o.dropout as number, bidirectional: o.bidirectional === true,
      attention: o.attention as Seq2SeqAttention, sourceTokens: o.sourceTokens as TokenMode, targetTokens: o.targetTokens as TokenMode, seed: o.seed as number,
    });
    try {
      ctx.err(`training ${m.config.cell} seq2seq (${m.model.numParameters} parameters, vocabularies ${m.source.size}/${m.target.size}, attention ${m.config.attention}) on ${pairs.length} pairs`);
      const r = await m.fit(pairs, {
        epochs: o.epochs as number, batchSize: o.batch as number, lr: o.lr as number, lrDecay: o.lrDecay as number, lengthPool: o.lengthPool as number,
        maxSteps: o.steps as number | undefined, validation: o.validation as number,
        validationSize: o.validationSize as number, metric: o.metric as 'exactMatch', patience: o.patience as number,
        evalEvery: o.evalEvery as number | undefined, maxSeconds: o.minutes === undefined ? undefined : (o.minutes as number) * 60, seed: o.seed as number,
        onProgress: (p) => ctx.err(`step ${p.step} epoch ${p.epoch}: loss ${p.loss.toFixed(4)}${Number.isNaN(p.exactMatch) ? '' : `, validation exact match ${(100 * p.exactMatch).toFixed(2)} %, token error rate ${(100 * p.tokenErrorRate).toFixed(2)} %`} (${p.seconds.toFixed(1)} s)`),
      });
      await m.save(o.out as string);
      const summary = { steps: r.steps, epochs: r.epochs, seconds: r.seconds, stoppedEarly: r.stoppedEarly, best: r.best, out: o.out, parameters: m.model.numParameters };
      ctx.out(ctx.json ? JSON.stringify(summary) : `${r.steps} steps (${r.epochs} epochs) in ${r.seconds.toFixed(1)} s${r.best ? `; validation exact match ${(100 * r.best.exactMatch).toFixed(2)} % (step ${r.best.step})` : ''}; saved ${String(o.out)}`);
    } finally {
      m.dispose();
    }
  },
};

export const translate: CliCommand = {
  name: 'translate',
  summary: 'decode text or JSONL lines with a seq2seq model (JSONL out, one record per line)',
  define(cmd) {
    cmd
      .requiredOption('--model <file>', 'model written by train-seq2seq; repeat it to decode with an ensemble (mean log-probabilities)', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
      .argument('[input]', 'input file (default: stdin)');
    streamFlags(cmd, { batch: 64, maxChars: 1000 })
      .option('--beam <k>', 'beam width (1: greedy)', parse.int(1), 1)
      .option('--nbest <n>', 'hypotheses per record (≤ beam)', parse.int(1), 1)
      .option('--alpha <a>', 'length normalisation exponent', parse.number(0), 0)
      .option('--max-length <n>', 'maximum output tokens (default 2 × source + 10)', parse.int(1))
      .option('--attention', 'include the attention weights of each output')
      .addHelpText('after', '\nExample:\n  printf \'hello\\nworld\\n\' | rnn-wasm translate --model g2p.rnnw --beam 5 --workers 2');
  },
  async run(ctx, [input], o) {
    if ((o.nbest as number) > (o.beam as number)) throw new UsageError(`Expected --nbest ≤ --beam (${String(o.beam)}), got ${String(o.nbest)}`);
    const { Seq2Seq } = await library();
    const models: Uint8Array[] = [];
    const members: Seq2Seq[] = [];
    try {
      // refuse a wrong model, or members over other vocabularies, before any input is read
      for (const f of o.model as string[]) models.push(await readBytes(f, 'model')), members.push(Seq2Seq.deserialize(models[models.length - 1]));
      if (members.length > 1) Seq2Seq.translateEnsemble(members, []);
    } finally {
      for (const x of members) x.dispose();
    }
    const translate = { beam: o.beam as number, nbest: o.nbest as number, alpha: o.alpha as number, maxLength: o.maxLength as number | undefined, batchSize: o.batch as number, attention: o.attention === true };
    const stats = await runBatchTool(input, o, { kind: 'seq2seq', models, translate }, o.batch as number);
    ctx.err(`${stats.lines} records, ${stats.errors} errors${stats.skipped ? ` (${stats.skipped} answered by the earlier run)` : ''}`);
  },
};
