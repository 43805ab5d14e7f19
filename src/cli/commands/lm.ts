// rnn-wasm sample | complete | eval-lm: use a character language model written by train-lm.
import type { Command } from 'commander';
import type { CharLM } from '../../index';
import { int8Flag, library, parse, type CliCommand } from '../frame';
import { readText } from '../files';
import { isRwkv7File, openRwkv7 } from './rwkv7';

function samplingOptions(cmd: Command): Command {
  return int8Flag(vocabFlag(cmd))
    .option('--temperature <t>', 'softmax temperature (0: greedy)', parse.number(0))
    .option('--top-k <k>', 'sample among the k most likely characters', parse.int(1))
    .option('--top-p <p>', 'sample among the most likely characters up to probability p', parse.number(0, 1, true))
    .option('--seed <n>', 'seed of the draws (the same seed gives the same text)', parse.int(0), 0);
}

/** --vocab: the World vocabulary of an official RWKV-7 checkpoint (files saved by rnn-wasm hold theirs). */
function vocabFlag(cmd: Command): Command {
  return cmd.option('--vocab <file>', 'RWKV-7: World tokenizer vocabulary (rwkv_vocab_v20230424.txt) of an official checkpoint');
}

function sampling(o: Record<string, unknown>) {
  return { temperature: o.temperature as number | undefined, topK: o.topK as number | undefined, topP: o.topP as number | undefined, seed: o.seed as number };
}

/** The model of a file; with `int8`, quantized (--int8). */
async function open(path: string, int8 = false): Promise<CharLM> {
  const lib = await library();
  const lm = await lib.CharLM.load(path);
  try {
    return int8 ? lib.quantize(lm, { weights: 'int8' }) : lm;
  } catch (e) {
    lm.dispose();
    throw e;
  }
}

export const sample: CliCommand = {
  name: 'sample',
  summary: 'generate text from a character language model',
  define(cmd) {
    cmd.argument('<model>', 'model file written by train-lm').option('--length <n>', 'characters to generate', parse.int(1), 200).option('--prompt <text>', 'text the model reads first (printed before the sample)', '');
    samplingOptions(cmd);
  },
  async run(ctx, [path], o) {
    if (isRwkv7File(path)) {
      const lib = await library();
      const m = await openRwkv7(path, { int8: o.int8 === true, vocab: o.vocab as string | undefined });
      try {
        const text = lib.sampleRwkv7(m, { length: o.length as number, prompt: o.prompt as string, ...sampling(o) });
        ctx.out(ctx.json ? JSON.stringify({ prompt: o.prompt, text }) : `${o.prompt as string}${text}`);
      } finally {
        m.dispose();
      }
      return;
    }
    const lm = await open(path, o.int8 === true);
    try {
      const text = lm.sample({ length: o.length as number, prompt: o.prompt as string, ...sampling(o) });
      ctx.out(ctx.json ? JSON.stringify({ prompt: o.prompt, text }) : `${o.prompt as string}${text}`);
    } finally {
      lm.dispose();
    }
  },
};

export const complete: CliCommand = {
  name: 'complete',
  summary: 'complete a prompt (greedy unless a temperature, top-k or top-p is given)',
  define(cmd) {
    cmd
      .argument('<model>', 'model file written by train-lm')
      .requiredOption('--prompt <text>', 'the text to complete')
      .option('--max-length <n>', 'at most this many characters', parse.int(1), 100)
      .option('--until <text>', 'stop before this text (repeatable)', (v: string, prev: string[] = []) => [...prev, v]);
    samplingOptions(cmd);
  },
  async run(ctx, [path], o) {
    if (isRwkv7File(path)) {
      const lib = await library();
      const m = await openRwkv7(path, { int8: o.int8 === true, vocab: o.vocab as string | undefined });
      try {
        const text = lib.completeRwkv7(m, o.prompt as string, { maxLength: o.maxLength as number, until: o.until as string[] | undefined, ...sampling(o) });
        ctx.out(ctx.json ? JSON.stringify({ prompt: o.prompt, completion: text }) : text);
      } finally {
        m.dispose();
      }
      return;
    }
    const lm = await open(path, o.int8 === true);
    try {
      const text = lm.complete(o.prompt as string, { maxLength: o.maxLength as number, until: o.until as string[] | undefined, ...sampling(o) });
      ctx.out(ctx.json ? JSON.stringify({ prompt: o.prompt, completion: text }) : text);
    } finally {
      lm.dispose();
    }
  },
};

export const evalLm: CliCommand = {
  name: 'eval-lm',
  summary: 'bits per character of a character language model on a text file',
  define(cmd) {
    vocabFlag(cmd.argument('<model>', 'model file written by train-lm').argument('<file>', 'UTF-8 text file'));
  },
  async run(ctx, [path, file], o) {
    const text = await readText(file, 'text file');
    if (isRwkv7File(path)) {
      const lib = await library();
      const m = await openRwkv7(path, { vocab: o.vocab as string | undefined });
      try {
        const t0 = performance.now();
        const bpc = lib.bitsPerCharRwkv7(m, text);
        const characters = [...text].length;
        const seconds = (performance.now() - t0) / 1000;
        ctx.out(ctx.json ? JSON.stringify({ bitsPerChar: bpc, characters, seconds }) : `${bpc.toFixed(4)} bits/char over ${characters} characters (${seconds.toFixed(1)} s)`);
      } finally {
        m.dispose();
      }
      return;
    }
    const lm = await open(path);
    try {
      const t0 = performance.now();
      const bpc = lm.bitsPerChar(text);
      const characters = [...text].length;
      const seconds = (performance.now() - t0) / 1000;
      ctx.out(ctx.json ? JSON.stringify({ bitsPerChar: bpc, characters, seconds }) : `${bpc.toFixed(4)} bits/char over ${characters} characters (${seconds.toFixed(1)} s)`);
    } finally {
      lm.dispose();
    }
  },
};
