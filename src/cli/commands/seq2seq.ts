// rnn-wasm train-seq2seq | translate: an encoder–decoder trained on a TSV of pairs (on the shared
// training frame of ./app-train.ts: budgets, Ctrl-C checkpoints, --resume), and a batch
// translator over text or JSONL lines (the batch-tool conventions: JSONL out, input order kept,
// exactly one record per input line, a bad line answered by an error record naming its line and
// id while the rest continues), on the batch frame of classify/label (../batch.ts); --workers N
// decodes on a GraphWorkerPool, whose results equal this thread's exactly.
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { GraphWorkerPool, Seq2Seq, Seq2SeqAttention, Seq2SeqCell, Seq2SeqFitResult, TokenMode, Translation } from '../../index';
import { checkArch, runSettings, trainAndSave, trainFlags } from './app-train';
import { runBatches, type ErrorRecord, type Item } from '../batch';
import { int8Flag, library, parse, recurrentFlags, UsageError, type CliCommand } from '../frame';
import { readText, FileError } from '../files';

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
    recurrentFlags(cmd, { hidden: 64, hiddenHelp: 'hidden size of each encoder direction (the decoder: × directions)', layers: false })
      .option('--embedding <e>', 'embedding width', parse.int(1), 32)
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
        cell: o.cell as Seq2SeqCell, hidden: o.hidden as number, embedding: o.embedding as number, dropout: o.dropout as number, bidirectional: o.bidirectional === true,
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
const ARCH: [string, string][] = [['cell', 'cell'], ['hidden', 'hidden'], ['embedding', 'embedding'], ['dropout', 'dropout'], ['attention', 'attention'], ['sourceTokens', 'sourceTokens'], ['targetTokens', 'targetTokens']];

/** One input line as an item: JSONL {"id","text"} or plain text (id = line number); else its error record. */
function parseLine(line: string, n: number, jsonl: boolean, maxChars: number, m: Seq2Seq): Item | ErrorRecord {
  let id: unknown = n;
  let text: unknown = line;
  if (jsonl) {
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      return { id: null, line: n, error: `Expected a JSON object on line ${n}, got invalid JSON` };
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return { id: null, line: n, error: `Expected a JSON object {"id", "text"} on line ${n}, got ${Array.isArray(v) ? 'an array' : typeof v}` };
    id = (v as { id?: unknown }).id ?? null;
    text = (v as { text?: unknown }).text;
    if (typeof text !== 'string') return { id, line: n, error: `Expected "text" to be a string on line ${n} (id ${JSON.stringify(id)}), got ${typeof text}` };
  }
  const s = text as string;
  if (s.length > maxChars) return { id, line: n, error: `Expected at most ${maxChars} characters on line ${n} (id ${JSON.stringify(id)}), got ${s.length}` };
  if (m.source.split(s).length === 0) return { id, line: n, error: `Expected at least one source token on line ${n} (id ${JSON.stringify(id)}), got none` };
  return { line: n, id, text: s };
}

function outRecord(t: Translation, nbest: number, attention: boolean): Record<string, unknown> {
  const o: Record<string, unknown> = { output: t.text, score: t.score, logProb: t.logProb };
  if (nbest > 1) o.nbest = t.nbest.map((h) => ({ output: h.text, score: h.score, logProb: h.logProb }));
  if (attention) o.attention = t.attention;
  return o;
}

// Records per frame batch, in units of --batch: each call decodes this many chunks (spread over
// the workers). Fixed, not scaled by --workers, so the chunks — and the output — are the same at
// any worker count.
const CHUNKS_PER_CALL = 8;

export const translate: CliCommand = {
  name: 'translate',
  summary: 'decode text or JSONL lines with a seq2seq model (JSONL out, one record per line)',
  define(cmd) {
    cmd
      .requiredOption('--model <file>', 'model written by train-seq2seq; repeat it to decode with an ensemble (mean log-probabilities)', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
      .argument('[input]', 'input file (default: stdin)')
      .option('--format <f>', 'text, jsonl ({"id","text"} per line) or auto (JSONL when the first line starts with {)', parse.oneOf(['auto', 'text', 'jsonl'] as const), 'auto')
      .option('--beam <k>', 'beam width (1: greedy)', parse.int(1), 1)
      .option('--nbest <n>', 'hypotheses per record (≤ beam)', parse.int(1), 1)
      .option('--alpha <a>', 'length normalisation exponent', parse.number(0), 0)
      .option('--max-length <n>', 'maximum output tokens (default 2 × source + 10)', parse.int(1))
      .option('--max-chars <n>', 'longer lines get an error record', parse.int(1), 1000)
      .option('--batch <n>', 'records decoded together', parse.int(1), 64)
      .option('--workers <n>', 'worker threads (1: this thread)', parse.int(1), 1)
      .option('--attention', 'include the attention weights of each output');
    int8Flag(cmd)
      .addHelpText('after', '\nExample:\n  printf \'hello\\nworld\\n\' | rnn-wasm translate --model g2p.rnnw --beam 5 --workers 2');
  },
  async run(ctx, [input], o) {
    if ((o.nbest as number) > (o.beam as number)) throw new UsageError(`Expected --nbest ≤ --beam (${String(o.beam)}), got ${String(o.nbest)}`);
    const { Seq2Seq, GraphWorkerPool, quantize } = await library();
    const members: Seq2Seq[] = [];
    try {
      for (const f of o.model as string[]) members.push(await Seq2Seq.load(f));
      if (o.int8) for (const x of members) quantize(x, { weights: 'int8' }); // pool replicas follow the marker
      if (members.length > 1) Seq2Seq.translateEnsemble(members, []); // the vocabularies agree, before any input is read
    } catch (e) {
      for (const x of members) x.dispose();
      throw e;
    }
    const m = members[0];
    const workers = o.workers as number;
    const opts = { beam: o.beam as number, nbest: o.nbest as number, alpha: o.alpha as number, maxLength: o.maxLength as number | undefined, batchSize: o.batch as number };
    let pool: GraphWorkerPool | null = null;
    try {
      let stream: NodeJS.ReadableStream = process.stdin;
      if (input) {
        const s = createReadStream(input);
        await new Promise<void>((ok, fail) => s.once('open', () => ok()).once('error', (e) => fail(new FileError(`Expected a readable input file at ${input}, got ${e.message}`))));
        stream = s;
      }
      if (workers > 1) pool = members.length > 1 ? await GraphWorkerPool.createEnsemble(members, { workers }) : await GraphWorkerPool.create(m, { workers });
      let jsonl: boolean | null = o.format === 'auto' ? null : o.format === 'jsonl';
      const local = (texts: string[]) => (members.length > 1 ? Seq2Seq.translateEnsemble(members, texts, opts) : m.translate(texts, opts));
      const decode = (texts: string[]) => (pool ? pool.translate(texts, opts) : Promise.resolve(local(texts)));
      const stats = await runBatches(stream as Readable, process.stdout, {
        parse: (raw, n) => parseLine(raw, n, (jsonl ??= raw.trimStart().startsWith('{')), o.maxChars as number, m),
        run: async (items) => (await decode(items.map((r) => r.text))).map((t) => outRecord(t, opts.nbest, o.attention === true)),
        record: (r, res) => ({ id: r.id, line: r.line, ...res }),
        batchSize: opts.batchSize * CHUNKS_PER_CALL,
        workers,
      });
      ctx.err(`${stats.lines} records, ${stats.errors} errors`);
    } finally {
      await pool?.dispose();
      for (const x of members) x.dispose();
    }
  },
};
