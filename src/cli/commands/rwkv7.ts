// RWKV-7 on the command line: `train-lm --cell rwkv7` trains a character RWKV-7 and writes it as an
// official-named safetensors checkpoint (saveRwkv7); `sample`, `complete` and `eval-lm` read such a
// file, or an official checkpoint converted to safetensors given its World vocabulary with --vocab.
// The commands in train-lm.ts and lm.ts hand over here when the file (or --cell) is RWKV-7.
import type { RWKV7 } from '../../index';
import { library, UsageError, type CliContext } from '../frame';
import { sniffFile } from '../kinds';
import type { Corpus } from '../files';

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

/** train-lm --cell rwkv7 (or --resume an RWKV-7 file): returns the exit code. */
export async function trainRwkv7(ctx: CliContext, o: Record<string, unknown>, corpus: Corpus, out: string, given: (flag: string) => boolean): Promise<number> {
  const lib = await library();
  let m: RWKV7;
  if (o.resume) {
    m = await openRwkv7(o.resume as string, {});
    for (const [flag, want] of [['hidden', m.config.dim], ['layers', m.config.layers], ['head-size', m.config.headSize]] as const) {
      const key = flag === 'head-size' ? 'headSize' : flag;
      if (given(flag) && o[key] !== want) {
        m.dispose();
        throw new UsageError(`Expected --${flag} ${want} (the checkpoint's), got ${String(o[key])}`);
      }
    }
    ctx.err('resuming an RWKV-7 file: its weights continue; the optimizer moments start afresh (the file holds weights only)');
  } else {
    const C = o.hidden as number;
    const N = (o.headSize as number | undefined) ?? Math.min(64, C);
    if (C % N !== 0 || N % 4 !== 0) throw new UsageError(`Expected --hidden a multiple of --head-size (a multiple of 4), got --hidden ${C} --head-size ${N}`);
    const tok = new lib.CharTokenizer([...new Set(corpus.text + (corpus.validation ?? ''))].sort());
    m = lib.createRwkv7({ vocabSize: tok.size, dim: C, headSize: N, layers: o.layers as number, ffnDim: 4 * C, lora: { w: rank(C, 2.5), a: rank(C, 2.5), v: rank(C, 1.7), g: rank(C, 5) } }, o.seed as number);
    m.tokenizer = tok;
  }
  try {
    let train = corpus.text;
    let validation = corpus.validation;
    if (validation === undefined && (o.validation as number) > 0) {
      const cut = Math.floor(train.length * (1 - (o.validation as number)));
      validation = train.slice(cut);
      train = train.slice(0, cut);
    }
    if (validation !== undefined && (o.validationChars as number) > 0) validation = validation.slice(0, o.validationChars as number);
    ctx.err(`training rwkv7 ${m.config.layers}×${m.config.dim} (head size ${m.config.headSize}, ${m.parameterCount} parameters, vocabulary ${m.config.vocabSize}) on ${corpus.name}, ${corpus.text.length} characters`);
    let lastLine = -Infinity;
    const r = lib.fitRwkv7(m, train, {
      steps: o.steps as number | undefined,
      minutes: o.minutes as number | undefined,
      seqLen: o.seqLen as number,
      batch: o.batch as number,
      lr: o.lr as number,
      clipNorm: o.clip as number,
      seed: o.seed as number,
      validation: validation && validation.length > 1 ? validation : undefined,
      onProgress: o.quiet
        ? undefined
        : (p) => {
            if (p.elapsedMs - lastLine < 1000) return;
            lastLine = p.elapsedMs;
            ctx.err(`step ${p.step} loss ${p.loss.toFixed(3)}`);
          },
    });
    await lib.saveRwkv7(m, out);
    const summary = { ...r, out, cell: 'rwkv7', parameters: m.parameterCount, vocabulary: m.config.vocabSize };
    if (ctx.json) ctx.out(JSON.stringify(summary));
    else {
      const v = r.validationBitsPerChar === undefined ? '' : `; validation ${r.initialValidationBitsPerChar!.toFixed(3)} → ${r.validationBitsPerChar.toFixed(3)} bits/char`;
      ctx.out(`${r.steps} steps in ${(r.elapsedMs / 1000).toFixed(1)} s; loss ${r.loss.toFixed(3)}${v}; saved ${out}`);
    }
    return 0;
  } finally {
    m.dispose();
  }
}
