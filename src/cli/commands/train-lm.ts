// rnn-wasm train-lm: trains a character language model on a text file or builtin:sotu, with a
// progress bar (step, loss, bits/char, characters/s, ETA) and a short sample every so often.
// Ctrl-C stops between steps, writes the checkpoint and exits 0; --resume continues bit-exactly.
import type { Command } from 'commander';
import type { CharLM, CharLMTrainSettings as TrainSettings, CharLMConfig } from '../../index';
import { library } from '../frame';
import { parse, recurrentFlags, sizeOptions, stepsToRun, UsageError, type CliCommand } from '../frame';
import { loadCorpus } from '../files';
import { isRwkv7File, trainRwkv7 } from './rwkv7';
import { progressBar } from './lm-progress';

const ARCH_FLAGS: [string, keyof CharLMConfig][] = [['cell', 'cell'], ['layers', 'numLayers'], ['hidden', 'hiddenSize'], ['embedding', 'embeddingDim'], ['dropout', 'dropout']];
const SETTING_FLAGS: [string, keyof TrainSettings][] = [['seqLen', 'seqLen'], ['batch', 'batchSize'], ['tbptt', 'tbptt'], ['order', 'order'], ['lr', 'lr'], ['clip', 'clipNorm'], ['seed', 'seed']];

export const trainLm: CliCommand = {
  name: 'train-lm',
  summary: 'train a character-level language model',
  define(cmd: Command) {
    cmd
      .requiredOption('--corpus <file>', 'UTF-8 text file, or builtin:sotu (State of the Union addresses; validates on those since 2000)')
      .option('--out <file>', 'where to write the model (default: the --resume file)')
      .option('--resume <file>', 'continue training from this checkpoint (same settings, bit-exact)');
    recurrentFlags(cmd, { hidden: 256, embedding: 64, extraCells: ['rwkv7'] })
      .option('--head-size <n>', 'rwkv7: channels per head (default min(64, --hidden))', parse.int(1))
      .option('--dropout <p>', 'dropout between stacked layers', parse.probability(), 0)
      .option('--unknown <policy>', 'characters outside the vocabulary: unk or error', parse.oneOf(['unk', 'error'] as const), 'unk')
      .option('--seq-len <k>', 'characters per training window', parse.int(1), 64)
      .option('--tbptt <k>', 'truncated BPTT chunk within a window (default: the window)', parse.int(1))
      .option('--batch <b>', 'windows per batch', parse.int(1), 32)
      .option('--order <order>', 'random or sequential windows', parse.oneOf(['random', 'sequential'] as const), 'random')
      .option('--steps <s>', 'stop when the model has taken this many steps in total', parse.int(0))
      .option('--minutes <m>', 'stop after this many minutes of this run', parse.number(0))
      .option('--lr <x>', 'Adam learning rate', parse.number(0, Infinity, true), 0.002)
      .option('--clip <c>', 'global gradient-norm clip', parse.number(0, Infinity, true), 5)
      .option('--validation <fraction>', 'held-out fraction of the end of a corpus file (0: none)', parse.number(0, 0.99), 0.1)
      .option('--validation-chars <n>', 'held-out characters scored per validation (0: all)', parse.int(0), 20000)
      .option('--eval-every <n>', 'validate every n steps', parse.int(1))
      .option('--patience <n>', 'with --eval-every: stop after n validations without improvement (the best parameters are kept)', parse.int(1))
      .option('--sample-every <n>', 'print a short sample every n steps (0: never)', parse.int(0), 500)
      .option('--workers <n>', 'worker threads per step (data parallel over the batch)', parse.int(1), 1)
      .option('--seed <n>', 'seed of initialisation and data order', parse.int(0), 1)
      .option('--quiet', 'no progress bar')
      .addHelpText('after', '\nExamples:\n  rnn-wasm train-lm --corpus builtin:sotu --cell lstm --hidden 256 --minutes 1 --out sotu.rnnw\n  rnn-wasm train-lm --corpus builtin:sotu --cell rwkv7 --hidden 128 --layers 2 --minutes 1 --out sotu-rwkv7.safetensors');
  },
  async run(ctx, _args, o, cmd) {
    const given = (name: string) => cmd.getOptionValueSource(name) === 'cli';
    if (o.steps === undefined && o.minutes === undefined) throw new UsageError('Expected a budget: --steps S or --minutes M, got neither');
    const out = (o.out ?? o.resume) as string | undefined;
    if (!out) throw new UsageError('Expected --out FILE (or --resume FILE), got neither');
    const corpus = await loadCorpus(o.corpus as string);
    if (o.cell === 'rwkv7' || (o.resume && isRwkv7File(o.resume as string))) {
      if (given('cell') && o.cell !== 'rwkv7') throw new UsageError(`Expected --cell rwkv7 (the checkpoint's), got ${String(o.cell)}`);
      return trainRwkv7(ctx, o, corpus, out, given);
    }
    if (o.headSize !== undefined) throw new UsageError(`Expected --head-size only with --cell rwkv7, got --cell ${String(o.cell)}`);
    const { CharLM } = await library();
    let lm: CharLM;
    if (o.resume) {
      lm = await CharLM.load(o.resume as string);
      for (const [flag, key] of ARCH_FLAGS) {
        if (given(flag) && o[flag] !== lm.config[key]) throw new UsageError(`Expected --${flag} ${String(lm.config[key])} (the checkpoint's), got ${String(o[flag])}`);
      }
      if (given('unknown') && o.unknown !== lm.unknown) throw new UsageError(`Expected --unknown ${lm.unknown} (the checkpoint's), got ${String(o.unknown)}`);
    } else {
      lm = CharLM.fromText(corpus.text, { cell: o.cell as CharLMConfig['cell'], ...sizeOptions(o), dropout: o.dropout as number, seed: o.seed as number, unknown: o.unknown as 'unk' });
    }
    // settings that shape the run: all of them for a new run, only the ones typed for a resumed one
    const settings: Record<string, unknown> = {};
    for (const [flag, key] of SETTING_FLAGS) if (!o.resume || given(flag)) settings[key] = o[flag];
    let steps: number | undefined;
    try {
      steps = stepsToRun(o.steps as number | undefined, lm.step);
    } catch (e) {
      lm.dispose();
      throw e;
    }
    const ac = new AbortController();
    const onSigint = () => (ac.signal.aborted ? process.exit(130) : ac.abort());
    process.on('SIGINT', onSigint);
    const progress = o.quiet ? null : progressBar(ctx, (seed) => lm.sample({ length: 120, temperature: 0.8, seed }), o.sampleEvery as number, steps === undefined);
    ctx.err(`training ${lm.config.cell} ${lm.config.numLayers}×${lm.config.hiddenSize} (${lm.model.numParameters} parameters, vocabulary ${lm.vocabulary.size}) on ${corpus.name}, ${corpus.text.length} characters; from step ${lm.step}`);
    try {
      const r = await lm.train(corpus.text, {
        ...settings,
        steps,
        minutes: o.minutes as number | undefined,
        validation: corpus.validation ?? (o.validation as number),
        validationChars: o.validationChars as number,
        evalEvery: o.evalEvery as number | undefined,
        patience: o.patience as number | undefined,
        workers: o.workers as number,
        signal: ac.signal,
        onProgress: progress?.update,
      }).catch((e: unknown) => {
        throw smallCorpusHint(e, corpus.text.length, o);
      });
      progress?.stop();
      await lm.save(out);
      const summary = { ...r, out, stepsTotal: lm.step, parameters: lm.model.numParameters, vocabulary: lm.vocabulary.size };
      if (r.stopped === 'signal') ctx.err(`interrupted: checkpoint at step ${lm.step} written to ${out} (continue with --resume ${out})`);
      if (r.stopped === 'nan') ctx.err(`stopped: the training loss became ${r.trainBitsPerChar} bits/char at step ${lm.step}`);
      if (ctx.json) ctx.out(JSON.stringify(summary));
      else {
        const v = r.validationBitsPerChar === undefined ? '' : `; validation ${r.initialValidationBitsPerChar!.toFixed(3)} → ${r.validationBitsPerChar.toFixed(3)} bits/char`;
        ctx.out(`${r.steps} steps in ${(r.elapsedMs / 1000).toFixed(1)} s (step ${lm.step}, stopped: ${r.stopped}); train ${r.trainBitsPerChar.toFixed(3)} bits/char${v}; saved ${out}`);
      }
      return r.stopped === 'nan' ? 1 : 0;
    } finally {
      progress?.stop();
      process.off('SIGINT', onSigint);
      lm.dispose();
    }
  },
};

/**
 * The library's "Expected a training text of at least N characters …, got M" names the settings;
 * on the command line it is a usage error that names the flags which fix it.
 */
function smallCorpusHint(e: unknown, chars: number, o: Record<string, unknown>): unknown {
  const m = e instanceof Error && e.name === 'ValueError' ? /^Expected a training text of at least \d+ characters .*, got (\d+)$/.exec(e.message) : null;
  if (!m) return e;
  const got = Number(m[1]);
  const sequential = o.order === 'sequential';
  const fit = sequential ? Math.floor((got - 1) / (o.batch as number)) : got - 1;
  const fixes = [fit >= 1 ? `--seq-len ${fit} or less` : 'a longer corpus'];
  if (sequential) fixes.push('a smaller --batch', '--order random');
  if (chars - got > 1) fixes.push(`--validation 0 (${chars - got} of the corpus's ${chars} characters are held out for validation)`);
  return new UsageError(`${(e as Error).message}: give ${fixes.join(', or ')}`);
}
