// What every application's train-* command shares (classifier, labeler, seq2seq, generator, forecaster): the budget and run-setting flags, a progress
// display (a cli-progress bar on a terminal, else a plain line a second; validation results
// between), and the Ctrl-C contract: the first SIGINT stops between steps and the checkpoint is
// written to --out (a second one exits at once); --resume continues with the checkpoint's settings.
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import type { AppTrainProgress, AppTrainResult } from '../../index';
import { parse, stepsToRun, UsageError, type CliContext } from '../frame';

/** Budget, run-setting and file flags (defaults of settings apply to new runs only). */
export function trainFlags(cmd: Command, defaults: { batch: number; lr: number }): Command {
  return cmd
    .option('--out <file>', 'where to write the model (default: the --resume file)')
    .option('--resume <file>', 'continue training from this checkpoint (same settings)')
    .option('--steps <s>', 'stop when the model has taken this many steps in total', parse.int(0))
    .option('--epochs <e>', 'passes over the training examples in this run', parse.int(0))
    .option('--minutes <m>', 'stop after this many minutes of this run', parse.number(0))
    .option('--batch <b>', 'examples per batch', parse.int(1), defaults.batch)
    .option('--lr <x>', 'Adam learning rate', parse.number(0, Infinity, true), defaults.lr)
    .option('--clip <c>', 'global gradient-norm clip', parse.number(0, Infinity, true), 5)
    .option('--patience <n>', 'stop after n validations without improvement', parse.int(1))
    .option('--eval-every <n>', 'validate every n steps (default: every epoch)', parse.int(1))
    .option('--seed <n>', 'seed of initialisation and example order', parse.int(0), 1)
    .option('--quiet', 'no progress display');
}

/** The run settings typed for this call: all for a new run, only the typed ones for a resumed run. */
export function runSettings(o: Record<string, unknown>, given: (name: string) => boolean, defaultEpochs?: number) {
  if (o.steps === undefined && o.epochs === undefined && o.minutes === undefined) {
    if (defaultEpochs === undefined) throw new UsageError('Expected a budget: --steps S, --epochs E or --minutes M, got none');
    o.epochs = defaultEpochs;
  }
  const out = (o.out ?? o.resume) as string | undefined;
  if (!out) throw new UsageError('Expected --out FILE (or --resume FILE), got neither');
  const pick = (flag: string) => (!o.resume || given(flag) ? o[flag] : undefined) as number | undefined;
  return { out, settings: { batchSize: pick('batch'), lr: pick('lr'), clipNorm: pick('clip'), seed: pick('seed') } };
}

/** With --resume, every architecture flag typed on the command line must equal the checkpoint's (flag → config key). */
export function checkArch(given: (name: string) => boolean, o: Record<string, unknown>, config: Record<string, unknown>, arch: readonly (readonly [string, string])[]): void {
  for (const [flag, key] of arch) {
    if (given(flag) && o[flag] !== config[key]) throw new UsageError(`Expected --${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} ${String(config[key])} (the checkpoint's), got ${String(o[flag])}`);
  }
}

interface Trainable {
  step: number;
  save(path: string): Promise<void>;
}

/** Runs train() with progress and Ctrl-C handling, saves to `out`, prints the summary; returns the exit code. */
export async function trainAndSave(
  ctx: CliContext,
  o: Record<string, unknown>,
  model: Trainable,
  out: string,
  train: (hooks: { steps?: number; epochs?: number; minutes?: number; patience?: number; evalEvery?: number; signal: AbortSignal; onProgress?: (p: AppTrainProgress) => void }) => Promise<Pick<AppTrainResult, 'steps' | 'totalSteps' | 'stopped' | 'trainLoss' | 'elapsedMs'> & Partial<AppTrainResult>>,
  extra: () => Record<string, unknown>,
): Promise<number> {
  const ac = new AbortController();
  const onSigint = () => (ac.signal.aborted ? process.exit(130) : ac.abort());
  process.on('SIGINT', onSigint);
  const progress = o.quiet ? null : display(ctx);
  try {
    const steps = stepsToRun(o.steps as number | undefined, model.step);
    const r = await train({ steps, epochs: o.epochs as number | undefined, minutes: o.minutes as number | undefined, patience: o.patience as number | undefined, evalEvery: o.evalEvery as number | undefined, signal: ac.signal, onProgress: progress?.update });
    progress?.stop();
    await model.save(out);
    if (r.stopped === 'signal') ctx.err(`interrupted: checkpoint at step ${model.step} written to ${out} (continue with --resume ${out})`);
    if (r.stopped === 'nan') ctx.err(`stopped: the training loss became ${r.trainLoss} at step ${model.step}`);
    const summary = { ...r, out, ...extra() };
    if (ctx.json) ctx.out(JSON.stringify(summary));
    else {
      const v = r.validationLoss === undefined ? '' : `; validation ${r.initialValidationLoss!.toFixed(4)} → ${r.validationLoss.toFixed(4)}`;
      ctx.out(`${r.steps} steps in ${(r.elapsedMs / 1000).toFixed(1)} s (step ${model.step}, stopped: ${r.stopped}); train loss ${r.trainLoss.toFixed(4)}${v}; saved ${out}`);
    }
    return r.stopped === 'nan' ? 1 : 0;
  } finally {
    progress?.stop();
    process.off('SIGINT', onSigint);
  }
}

function line(p: AppTrainProgress): string {
  const eta = Number.isFinite(p.etaMs) ? `${Math.round(p.etaMs / 1000)} s` : '--';
  return `step ${p.step}${p.targetStep ? `/${p.targetStep}` : ''} epoch ${p.epoch + 1} | loss ${p.loss.toFixed(4)} | ${p.examplesPerSecond.toFixed(0)} examples/s | ETA ${eta}`;
}

function display(ctx: CliContext) {
  let lastLine = -Infinity;
  const bar = ctx.tty ? new cliProgress.SingleBar({ stream: process.stderr, hideCursor: true, format: '{bar} {text}' }, cliProgress.Presets.shades_classic) : null;
  bar?.start(1000, 0, { text: 'starting…' });
  let stopped = false;
  return {
    update(p: AppTrainProgress) {
      if (bar) {
        const frac = p.targetStep ? p.step / p.targetStep : p.elapsedMs / (p.elapsedMs + p.etaMs);
        bar.update(Math.round(1000 * (Number.isFinite(frac) ? frac : 0)), { text: line(p) });
      } else if (p.elapsedMs - lastLine >= 1000 || p.step === p.targetStep) {
        lastLine = p.elapsedMs;
        ctx.err(line(p));
      }
      if (p.validationLoss !== undefined && !bar) ctx.err(`step ${p.step}: validation ${p.validationLoss.toFixed(4)}`);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      bar?.stop();
    },
  };
}
