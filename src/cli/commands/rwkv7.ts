// RWKV-7 on the command line: `train-lm --cell rwkv7` trains a character RWKV-7 and writes it as an
// official-named safetensors checkpoint (saveRwkv7) that also holds the training run, so Ctrl-C
// and --resume work as in every train-* command; `sample`, `complete` and `eval-lm` read such a
// file, or an official checkpoint converted to safetensors given its World vocabulary with --vocab.
// The commands in train-lm.ts and lm.ts hand over here when the file (or --cell) is RWKV-7.
import type { RWKV7 } from '../../index';
import { library, stepsToRun, UsageError, type CliContext } from '../frame';
import { sniffFile } from '../kinds';
import type { Corpus } from '../files';
import { progressBar } from './lm-progress';

/** Whether `path` holds an RWKV-7 checkpoint (saved by rnn-wasm, or with the official tensor names). */
export function isRwkv7File(path: string): boolean {
  const s = sniffFile(path);
  return !!s && 'kind' in s && s.kind.name === 'RWKV7';
}

/** Opens an RWKV-7 file, with a World vocabulary file when given; quantized with `int8`. */
export async function openRwkv7(path: string, o: { int8?: boolean; vocab?: string }): Promise<RWKV7> {
  const lib = await library();
  const m = await lib.importRwkv7(path, o.vocab ? { vocab: o.vocab } : {});
  try {
    if (!m.tokenizer) throw new UsageError(`Expected a vocabulary for ${path}: give --vocab rwkv_vocab_v20230424.txt (an official checkpoint has none inside)`);
    return o.int8 ? lib.quantize(m, { weights: 'int8' }) : m;
  } catch (e) {
    m.dispose();
    throw e;
  }
}

/** The official LoRA ranks for C channels (train_temp src/model.py), at most C. */
const rank = (C: number, k: number): number => Math.min(C, Math.max(32, Math.round((k * Math.sqrt(C)) / 32) * 32));

/** train-lm flags that configure the other cells' models or loops: refused with --cell rwkv7, not ignored. */
const NOT_RWKV7 = ['embedding', 'dropout', 'unknown', 'tbptt', 'order', 'workers'];
/** The run settings' flags and fitRwkv7's names for them. */
const SETTINGS: [string, string][] = [['seqLen', 'seqLen'], ['batch', 'batch'], ['lr', 'lr'], ['clip', 'clipNorm'], ['seed', 'seed']];

/**
 * train-lm --cell rwkv7 (or --resume an RWKV-7 file): returns the exit code. As every train-* command:
 * --steps counts the model's total steps, the first Ctrl-C stops between steps and writes the
 * checkpoint (weights, settings, window order and Adam's moments) to --out, a second exits at once,
 * and --resume continues the run with the checkpoint's settings, bit for bit.
 */
export async function trainRwkv7(ctx: CliContext, o: Record<string, unknown>, corpus: Corpus, out: string, given: (flag: string) => boolean): Promise<number> {
  const typed = NOT_RWKV7.filter(given);
  if (typed.length) throw new UsageError(`Expected none of ${NOT_RWKV7.map((f) => `--${kebab(f)}`).join(', ')} with --cell rwkv7 (they set up the other cells' models), got --${kebab(typed[0])}`);
  const lib = await library();
  let m: RWKV7;
  if (o.resume) {
    m = await openRwkv7(o.resume as string, {});
    for (const [flag, want] of [['hidden', m.config.dim], ['layers', m.config.layers], ['head-size', m.config.headSize]] as const) {
      const key = flag === 'head-size' ? 'headSize' : flag;
      if (given(key) && o[key] !== want) {
        m.dispose();
        throw new UsageError(`Expected --${flag} ${want} (the checkpoint's), got ${String(o[key])}`);
      }
    }
    if (!m.trainSettings) ctx.err('the file holds weights only (no training run): a new run starts on them, with fresh optimizer moments');
  } else {
    const C = o.hidden as number;
    const N = (o.headSize as number | undefined) ?? Math.min(64, C);
    if (C % N !== 0 || N % 4 !== 0) throw new UsageError(`Expected --hidden a multiple of --head-size (a multiple of 4), got --hidden ${C} --head-size ${N}`);
    const tok = new lib.CharTokenizer([...new Set(corpus.text + (corpus.validation ?? ''))].sort());
    m = lib.createRwkv7({ vocabSize: tok.size, dim: C, headSize: N, layers: o.layers as number, ffnDim: 4 * C, lora: { w: rank(C, 2.5), a: rank(C, 2.5), v: rank(C, 1.7), g: rank(C, 5) } }, o.seed as number);
    m.tokenizer = tok;
  }
  const ac = new AbortController();
  const onSigint = () => (ac.signal.aborted ? process.exit(130) : ac.abort());
  let progress: ReturnType<typeof progressBar> | null = null;
  try {
    const steps = stepsToRun(o.steps as number | undefined, m.step);
    let train = corpus.text;
    let validation = corpus.validation;
    if (validation === undefined && (o.validation as number) > 0) {
      const cut = Math.floor(train.length * (1 - (o.validation as number)));
      validation = train.slice(cut);
      train = train.slice(0, cut);
    }
    if (validation !== undefined && (o.validationChars as number) > 0) validation = validation.slice(0, o.validationChars as number);
    // settings that shape the run: all of them for a new run, only the ones typed for a continued one
    const settings: Record<string, unknown> = {};
    for (const [flag, key] of SETTINGS) if (!m.trainSettings || given(flag)) settings[key] = o[flag];
    ctx.err(`training rwkv7 ${m.config.layers}×${m.config.dim} (head size ${m.config.headSize}, ${m.parameterCount} parameters, vocabulary ${m.config.vocabSize}) on ${corpus.name}, ${corpus.text.length} characters; from step ${m.step}`);
    process.on('SIGINT', onSigint);
    const model = m;
    progress = o.quiet ? null : progressBar(ctx, (seed) => lib.sampleRwkv7(model, { length: 120, temperature: 0.8, seed }), o.sampleEvery as number, steps === undefined);
    const bar = progress;
    const r = await lib.fitRwkv7(m, train, {
      ...settings,
      steps,
      minutes: o.minutes as number | undefined,
      validation: validation && validation.length > 1 ? validation : undefined,
      evalEvery: o.evalEvery as number | undefined,
      patience: o.patience as number | undefined,
      signal: ac.signal,
      onProgress: bar
        ? (p) => bar.update({ step: p.step, targetStep: p.targetStep, loss: p.loss, bitsPerChar: p.loss / Math.LN2, charsPerSecond: p.tokensPerSecond, elapsedMs: p.elapsedMs, etaMs: p.etaMs, validationBitsPerChar: p.validationBitsPerChar })
        : undefined,
    });
    progress?.stop();
    await lib.saveRwkv7(m, out);
    if (r.stopped === 'signal') ctx.err(`interrupted: checkpoint at step ${m.step} written to ${out} (continue with --resume ${out})`);
    if (r.stopped === 'nan') ctx.err(`stopped: the training loss became ${r.loss} at step ${m.step}`);
    const summary = { ...r, out, cell: 'rwkv7', parameters: m.parameterCount, vocabulary: m.config.vocabSize };
    if (ctx.json) ctx.out(JSON.stringify(summary));
    else {
      const v = r.validationBitsPerChar === undefined ? '' : `; validation ${r.initialValidationBitsPerChar!.toFixed(3)} → ${r.validationBitsPerChar.toFixed(3)} bits/char`;
      ctx.out(`${r.steps} steps in ${(r.elapsedMs / 1000).toFixed(1)} s (step ${m.step}, stopped: ${r.stopped}); train ${(r.loss / Math.LN2).toFixed(3)} bits/char${v}; saved ${out}`);
    }
    return r.stopped === 'nan' ? 1 : 0;
  } finally {
    progress?.stop();
    process.off('SIGINT', onSigint);
    m.dispose();
  }
}

const kebab = (flag: string) => flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
