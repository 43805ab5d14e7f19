// The progress display of train-lm (CharLM and RWKV-7 alike): a cli-progress bar on a terminal, else a
// plain line a second, with validation results and a short sample every so often between.
import cliProgress from 'cli-progress';
import type { CharLMTrainProgress as TrainProgress } from '../../index';
import type { CliContext } from '../frame';

const fmtTime = (ms: number) => {
  if (!Number.isFinite(ms)) return '--:--';
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
};

function progressLine(p: TrainProgress, bar: string): string {
  const cps = p.charsPerSecond >= 1000 ? `${(p.charsPerSecond / 1000).toFixed(1)}k` : p.charsPerSecond.toFixed(0);
  return `step ${p.step}${p.targetStep ? `/${p.targetStep}` : ''} ${bar}loss ${p.loss.toFixed(3)} | ${p.bitsPerChar.toFixed(3)} bits/char | ${cps} chars/s | ETA ${fmtTime(p.etaMs)}`;
}

/**
 * Progress on stderr: on a terminal a cli-progress bar redrawn in place, otherwise a plain line
 * at the first step and then once a second; validation results and a short sample (`sample(seed)`,
 * seeded by the step) every `sampleEvery` steps are printed between. RWKV-7's training uses it too.
 */
export function progressBar(ctx: CliContext, sample: (seed: number) => string, sampleEvery: number, timeBudget: boolean) {
  let last: TrainProgress | null = null;
  let lastLine = -Infinity;
  const bars = ctx.tty
    ? new cliProgress.MultiBar(
        {
          stream: process.stderr,
          hideCursor: true,
          format: (opts, params) => {
            if (!last) return 'starting…';
            const n = Math.round(params.progress * 20);
            return progressLine(last, `${opts.barCompleteString!.slice(0, n)}${opts.barIncompleteString!.slice(0, 20 - n)} `);
          },
        },
        cliProgress.Presets.shades_classic,
      )
    : null;
  const bar = bars?.create(1000, 0);
  const log = (text: string) => (bars ? bars.log(text + '\n') : ctx.err(text));
  let stopped = false;
  return {
    update: (p: TrainProgress) => {
      last = p;
      if (bar) {
        const frac = timeBudget || !p.targetStep ? p.elapsedMs / (p.elapsedMs + p.etaMs) : p.step / p.targetStep;
        bar.update(Math.round(1000 * (Number.isFinite(frac) ? frac : 0)));
      } else if (p.elapsedMs - lastLine >= 1000 || p.step === p.targetStep) {
        lastLine = p.elapsedMs;
        ctx.err(progressLine(p, ''));
      }
      if (p.validationBitsPerChar !== undefined) log(`step ${p.step}: validation ${p.validationBitsPerChar.toFixed(3)} bits/char`);
      if (sampleEvery > 0 && p.step % sampleEvery === 0) {
        const text = sample(p.step);
        log(`--- sample at step ${p.step} ---\n${text}\n---`);
      }
    },
    stop: () => {
      if (stopped) return;
      stopped = true;
      bars?.stop();
    },
  };
}
